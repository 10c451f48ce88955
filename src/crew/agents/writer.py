"""Writer: draft the answer from the numbered evidence, citing each claim as [n]."""

from __future__ import annotations

import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from crew.agents.prompts import DATA_RULE, LANGUAGE_RULE, evidence_block
from crew.runtime import TurnContext
from crew.state import Citation, Evidence, Verdict

SYSTEM = (
    "You are the writer of a research crew. Answer the goal using only the numbered evidence. "
    "Put the evidence number in square brackets after each claim, like [1]. If the evidence does "
    f"not answer the goal, say so plainly. {LANGUAGE_RULE} {DATA_RULE}"
)
_REF = re.compile(r"\[(\d{1,3})\]")


def messages(goal: str, evidence: list[Evidence], previous: str | None, verdict: Verdict | None) -> list:
    text = f"Goal: {goal}\n\nEvidence:\n{evidence_block(evidence)}\n"
    if previous is not None and verdict is not None:
        notes = "\n".join(f"- {n}" for n in verdict["notes"]) or "- (no notes)"
        text += f"\nYour previous draft:\n<<<\n{previous}\n>>>\nThe critic asked for these changes:\n{notes}\n\nWrite the improved answer."
    else:
        text += "\nWrite the answer."
    return [SystemMessage(content=SYSTEM), HumanMessage(content=text)]


def cite(draft: str, evidence: list[Evidence]) -> tuple[str, list[Citation]]:
    """Drop [n] markers that name no evidence and list the cited passages, in number order."""
    valid = set(range(1, len(evidence) + 1))
    answer = _REF.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", draft).strip()
    cited = sorted({int(n) for n in _REF.findall(answer)})
    citations = [
        Citation(n=n, source=evidence[n - 1]["source"], page=evidence[n - 1]["page"], url=evidence[n - 1]["url"],
                 chunk_id=evidence[n - 1]["chunk_id"], text=evidence[n - 1]["text"])
        for n in cited
    ]
    return answer, citations


def write(ctx: TurnContext, model: BaseChatModel, goal: str, evidence: list[Evidence],
          previous: str | None, verdict: Verdict | None) -> dict:
    revision = previous is not None
    with ctx.step("writer", "revise" if revision else "draft", "Revising the draft" if revision else "Writing the draft") as step:
        draft = step.stream_text(model, messages(goal, evidence, previous, verdict), "draft").strip()
        if not draft:
            draft = "The writer produced no text."
        answer, citations = cite(draft, evidence)
        step.emit("draft", answer, revision=revision, citations=citations)
    return {"drafts": [answer]}
