"""Type the graph's state: what flows between coordinator, researchers, writer and critic."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, Mapping, TypedDict


class Evidence(TypedDict):
    """One passage a researcher found, with where it came from."""

    text: str
    source: str
    page: int
    place: str  # "p. 3" or "p. 18 · 2.7. Configurar dh_make", "rows 12-40", a heading path, or "" (see source_label)
    url: str
    chunk_id: str
    kind: str
    score: float
    similarity: float  # cosine similarity to the sub-question that found it
    question: int  # index of the sub-question it answers
    rank: int  # its rank among that question's results


class Verdict(TypedDict):
    # "quote": nothing of the draft holds up against the sources, and another round would not
    # change that; the answer is quoted from the sources instead (decided by the support check).
    decision: Literal["approve", "revise", "quote"]
    notes: list[str]


class SentenceCheck(TypedDict):
    """One sentence of the final answer and how the evidence backs it (see crew.support)."""

    text: str
    citations: list[int]
    support: float
    supported: bool


class Citation(TypedDict):
    n: int
    source: str
    page: int
    place: str
    url: str
    chunk_id: str
    text: str


def source_label(item: Mapping[str, Any]) -> str:
    """Name a passage's origin as a person looks it up: the URL, or "file.pdf, p. 3",
    "sales.csv, rows 12-40", "report.docx, Results > Costs". Citations stored before `place`
    existed carry only a page."""
    if item.get("url"):
        return str(item["url"])
    place = item.get("place") or (f"p. {item['page']}" if item.get("page") else "")
    return f"{item.get('source', '')}, {place}" if place else str(item.get("source", ""))


def keep_first(current: str | None, new: str | None) -> str | None:
    """Keep the first limit or error reported: it is the one that ended the turn."""
    return current or new


class CrewState(TypedDict, total=False):
    goal: str
    language: str | None  # the goal's language, when it could be told
    review_plan: bool  # pause after the plan for the person to approve or edit it
    plan: list[str]
    findings: Annotated[list[Evidence], operator.add]
    drafts: Annotated[list[str], operator.add]
    verdicts: Annotated[list[Verdict], operator.add]
    notes: Annotated[list[str], operator.add]  # fallbacks the crew took, shown to the person
    limit_hit: Annotated[str | None, keep_first]
    error: Annotated[str | None, keep_first]
    answer: str
    citations: list[Citation]
    sentences: list[SentenceCheck]  # the final answer, sentence by sentence, with its support
    answer_kind: Literal["written", "extractive", "not_found", ""]  # how the final answer was made


class ResearchTask(TypedDict):
    """What one researcher receives: a sub-question of the goal."""

    goal: str
    question: str
    index: int


def numbered_evidence(findings: list[Evidence]) -> list[Evidence]:
    """Order and de-duplicate findings so [n] means the same passage in every draft of a turn."""
    seen: set[str] = set()
    out: list[Evidence] = []
    for ev in sorted(findings, key=lambda e: (e["question"], e["rank"])):
        if ev["chunk_id"] in seen:
            continue
        seen.add(ev["chunk_id"])
        out.append(ev)
    return out
