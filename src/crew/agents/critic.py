"""Critic: check the draft against the evidence and approve it or send it back with notes."""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from crew.agents.prompts import DATA_RULE, evidence_block
from crew.runtime import TurnContext
from crew.state import Evidence, Verdict


class Review(BaseModel):
    """The critic's verdict on a draft."""

    decision: Literal["approve", "revise"]
    notes: list[str] = Field(
        default_factory=list,
        json_schema_extra={"maxItems": 3, "items": {"type": "string", "maxLength": 160}},
    )


SYSTEM = (
    "You are the critic of a research crew. Check the draft against the evidence: each claim must "
    "be supported by the evidence it cites as [n], and the draft must answer the goal. Reply "
    "approve if it holds up, else revise with up to three concrete notes. " + DATA_RULE + " Reply with JSON."
)


def messages(goal: str, evidence: list[Evidence], draft: str) -> list:
    return [
        SystemMessage(content=SYSTEM),
        HumanMessage(content=f"Goal: {goal}\n\nEvidence:\n{evidence_block(evidence)}\n\nDraft:\n<<<\n{draft}\n>>>\n\nYour verdict?"),
    ]


def review(ctx: TurnContext, model: BaseChatModel, goal: str, evidence: list[Evidence], draft: str) -> dict:
    with ctx.step("critic", "critique", "Checking the draft") as step:
        result = step.structured(model, Review, messages(goal, evidence, draft))
        notes = []
        if result is None:
            verdict = Verdict(decision="approve", notes=["The critic's reply was malformed twice; the draft was accepted unchecked."])
            notes.append(verdict["notes"][0])
        else:
            verdict = Verdict(decision=result.decision, notes=[" ".join(n.split()) for n in result.notes if n.strip()][:5])
        step.emit("verdict", verdict["decision"], decision=verdict["decision"], notes=verdict["notes"])
    return {"verdicts": [verdict], "notes": notes}
