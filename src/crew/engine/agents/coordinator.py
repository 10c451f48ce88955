"""Coordinator: split the person's goal into 1-4 research questions."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from crew.engine.agents.prompts import system
from crew.models.language import detect
from crew.engine.runtime import TurnContext

MAX_QUESTIONS = 4


class Plan(BaseModel):
    """The research plan: short, self-contained questions that together answer the goal."""

    # The caps live in the schema only: they stop grammar-constrained decoding (uncapped, a
    # tiny model repeats itself), while a longer question from a real model is still accepted.
    subquestions: list[str] = Field(
        min_length=1,
        max_length=MAX_QUESTIONS,
        json_schema_extra={"items": {"type": "string", "minLength": 3, "maxLength": 160}},
    )


SYSTEM = (
    "You are the coordinator of a research crew. Split the person's goal into 1 to "
    f"{MAX_QUESTIONS} short research questions that together answer it; one is enough for a "
    "simple goal."
)


def messages(goal: str, language: str | None = None) -> list:
    return [system(SYSTEM, language, Plan), HumanMessage(content=f"Goal: {goal}")]


def clean_plan(questions: list[str], goal: str) -> list[str]:
    """Drop blanks and repeats; a plan never comes back empty."""
    seen, out = set(), []
    for q in questions:
        q = " ".join(q.split())[:300]
        if q and q.lower() not in seen:
            seen.add(q.lower())
            out.append(q)
    return out[:MAX_QUESTIONS] or [goal]


def coordinate(ctx: TurnContext, model: BaseChatModel, goal: str) -> dict:
    language = detect(goal)
    with ctx.step("coordinator", "plan", "Planning the research") as step:
        plan = step.structured(model, Plan, messages(goal, language))
        notes = []
        if plan is None:
            notes.append("The coordinator's plan was malformed twice; researching the goal as one question.")
        questions = clean_plan(plan.subquestions if plan else [], goal)
        step.emit("plan", "\n".join(questions), subquestions=questions, fallback=plan is None)
    return {"plan": questions, "notes": notes, "language": language}
