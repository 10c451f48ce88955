"""Critic: check the draft against the evidence and approve it or send it back with notes."""

from __future__ import annotations

from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from crew.engine.agents.prompts import DATA_RULE, evidence_block, fenced, system
from crew.engine.runtime import TurnContext
from crew.engine.state import Evidence, Verdict
from crew.grounding.support import SupportReport, revision_notes


# The most notes a verdict carries: the schema's cap, the prompt's "up to", and what is kept.
MAX_NOTES = 3


class Review(BaseModel):
    """The critic's verdict on a draft."""

    decision: Literal["approve", "revise"]
    notes: list[str] = Field(
        default_factory=list,
        json_schema_extra={"maxItems": MAX_NOTES, "items": {"type": "string", "maxLength": 160}},
    )


SYSTEM = (
    "You are the critic of a research crew. Check the draft against the sources: each claim must "
    "be supported by the source it cites as [n], and the draft must answer the question. Reply "
    f"approve if it holds up, else revise with up to {MAX_NOTES} concrete notes. " + DATA_RULE
)


def messages(goal: str, evidence: list[Evidence], draft: str, language: str | None = None) -> list:
    return [
        system(SYSTEM, language, Review),
        HumanMessage(content=f"Question: {goal}\n\nSources:\n{evidence_block(evidence)}\n\nDraft answer:\n{fenced(draft)}\n\nYour verdict?"),
    ]


def review(ctx: TurnContext, model: BaseChatModel, goal: str, evidence: list[Evidence], draft: str,
           language: str | None = None) -> dict:
    with ctx.step("critic", "critique", "Checking the draft") as step:
        result = step.structured(model, Review, messages(goal, evidence, draft, language))
        notes = []
        if result is None:
            verdict = Verdict(decision="approve", notes=["The critic's reply was malformed twice; the draft was accepted unchecked."])
            notes.append(verdict["notes"][0])
        else:
            verdict = Verdict(decision=result.decision, notes=[" ".join(n.split()) for n in result.notes if n.strip()][:MAX_NOTES])
            if verdict["decision"] == "revise" and not verdict["notes"]:
                # A revision with nothing to change would only repeat the draft.
                verdict = Verdict(decision="approve", notes=["The critic asked for a revision but gave no notes; the draft was kept."])
        step.emit("verdict", verdict["decision"], decision=verdict["decision"], notes=verdict["notes"])
    return {"verdicts": [verdict], "notes": notes}


def review_by_support(ctx: TurnContext, report: SupportReport) -> dict:
    """Send the draft back naming the sentences no source supports; when none of it holds up, a
    revision would not rescue it (small models rewrite the same way), so the answer is quoted."""
    with ctx.step("critic", "critique", "Checking the draft against the sources") as step:
        if any(s.supported for s in report.sentences):
            verdict = Verdict(decision="revise", notes=revision_notes(report, MAX_NOTES))
        else:
            verdict = Verdict(decision="quote", notes=[
                "No sentence of the draft is supported by the sources it cites; the answer quotes the sources instead."])
        step.emit("verdict", verdict["decision"], decision=verdict["decision"], notes=verdict["notes"], by="support check")
    return {"verdicts": [verdict]}
