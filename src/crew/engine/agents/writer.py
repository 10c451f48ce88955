"""Writer: draft the answer from the numbered evidence, citing each claim as [n]."""

from __future__ import annotations

import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from crew.engine.agents.prompts import DATA_RULE, evidence_block, fenced, system
from crew.engine.runtime import TurnContext
from crew.engine.state import Citation, Evidence, Verdict
from crew.grounding.support import check
from crew.retrieval.stemming import fold

SYSTEM = (
    "You are the writer of a research crew. Answer the question using only the numbered sources. "
    "After each sentence, put the number of its source in square brackets, like [1]. If the "
    "sources do not answer the question, say so plainly. " + DATA_RULE
)
_REF = re.compile(r"\[(\d{1,3})\]")
_SOURCE_REF = re.compile(r"\[(?:source|fuente|ref)\s*(\d{1,3})\]", re.I)
# A sentence runs to its end mark and keeps the [n] markers that follow it.
_SENTENCE = re.compile(r"\s*.+?(?:[.!?]+(?:\s*\[\d{1,3}\])*(?=\s|$)|$)")
# A source line copied verbatim, "[1] text (file.md)", becomes "text [1]".
_ECHO = re.compile(r"^\[(\d{1,3})\]\s*(.+?)\s*\([^()]*\)\s*$", re.M)
_WORD = re.compile(r"\w{3,}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(fold(text)))


def attribute(draft: str, evidence: list[Evidence], threshold: float = 0.5) -> str:
    """Cite uncited sentences by the passage they were visibly written from.

    Small models copy from the evidence but rarely add [n]; a sentence whose words come mostly
    from one passage gets that passage's number, so the claim stays traceable. A sentence that
    matches no passage well enough stays uncited rather than getting a guessed citation.
    """
    if not evidence:
        return draft
    passages = [_words(ev["text"]) for ev in evidence]
    out = []
    for line in draft.split("\n"):
        sentences = []
        for sentence in _SENTENCE.findall(line):
            words = _words(sentence)
            if sentence.strip() and len(words) >= 3 and not _REF.search(sentence):
                overlap = [len(words & p) / len(words) for p in passages]
                best = max(range(len(passages)), key=overlap.__getitem__)
                if overlap[best] >= threshold:
                    stripped = sentence.rstrip()
                    sentence = f"{stripped} [{best + 1}]" + sentence[len(stripped):]
            sentences.append(sentence)
        out.append("".join(sentences))
    return "\n".join(out)


def messages(goal: str, evidence: list[Evidence], previous: str | None, verdict: Verdict | None,
             language: str | None = None) -> list:
    # Question first and the instruction last: small models follow the last line they read.
    text = f"Question: {goal}\n\nSources:\n{evidence_block(evidence)}\n\n"
    if previous is not None and verdict is not None:
        notes = "\n".join(f"- {n}" for n in verdict["notes"]) or "- (no notes)"
        text += (f"Your previous answer:\n{fenced(previous)}\n\nThe critic asked for these changes:\n{notes}\n\n"
                 "Write the improved answer, citing sources like [1].")
    else:
        text += "Write a short answer to the question, citing sources like [1]."
    return [system(SYSTEM, language), HumanMessage(content=text)]


def cited_numbers(answer: str, n_evidence: int) -> list[int]:
    """The evidence numbers an answer cites with [n], in order, each once."""
    return sorted({int(n) for n in _REF.findall(answer) if 1 <= int(n) <= n_evidence})


def cite(draft: str, evidence: list[Evidence]) -> tuple[str, list[Citation]]:
    """Drop [n] markers that name no evidence and list the cited passages, in number order."""
    valid = set(range(1, len(evidence) + 1))
    # Small models echo the evidence fences; they are prompt syntax, not answer text.
    draft = "\n".join(line for line in draft.splitlines() if line.strip() not in ("<<<", ">>>"))
    draft = _ECHO.sub(r"\2 [\1]", _SOURCE_REF.sub(r"[\1]", draft))
    draft = attribute(draft, evidence)
    answer = _REF.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", draft).strip()
    cited = cited_numbers(answer, len(evidence))
    citations = [
        Citation(n=n, source=evidence[n - 1]["source"], page=evidence[n - 1]["page"],
                 place=evidence[n - 1].get("place", ""), url=evidence[n - 1]["url"],
                 chunk_id=evidence[n - 1]["chunk_id"], text=evidence[n - 1]["text"])
        for n in cited
    ]
    return answer, citations


def write(ctx: TurnContext, model: BaseChatModel, goal: str, evidence: list[Evidence],
          previous: str | None, verdict: Verdict | None, language: str | None = None,
          support_threshold: float | None = None) -> dict:
    """Draft (or revise) the answer; with a support threshold, say how far each sentence holds up."""
    revision = previous is not None
    with ctx.step("writer", "revise" if revision else "draft", "Revising the draft" if revision else "Writing the draft") as step:
        draft = step.stream_text(model, messages(goal, evidence, previous, verdict, language), "draft").strip()
        if not draft:
            draft = "The writer produced no text."
        answer, citations = cite(draft, evidence)
        extra = {}
        if support_threshold is not None:
            report = check(answer, [e["text"] for e in evidence], support_threshold)
            extra["sentences"] = [s.to_json() for s in report.sentences]
        step.emit("draft", answer, revision=revision, citations=citations, **extra)
    return {"drafts": [answer]}
