"""Settle a turn's final answer so that it says only what the evidence says.

The best draft keeps only its supported sentences (crew.support). When too little of it holds up,
the answer is quoted from the evidence instead (crew.extractive); when no passage is relevant to
the question at all, the crew says the documents do not answer it and shows the closest passages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import numpy as np

from crew.grounding.extractive import Similarity, extract, headings_of, not_found_line, relevance, render
from crew.grounding.names import unmentioned
from crew.models.language import detect
from crew.settings import Settings
from crew.engine.state import Evidence, SentenceCheck, source_label
from crew.grounding.support import check, copied

AnswerKind = Literal["written", "extractive", "not_found"]
# A draft is kept when at least this share of its sentences holds up (the rest are left out).
KEEP_SHARE = 0.5
CLOSEST = 3  # passages shown with a "not found"


def _default(name: str) -> float:
    return Settings.model_fields[name].default  # each threshold is defined once, on its setting


@dataclass(frozen=True)
class Thresholds:
    support: float = _default("support_threshold")
    relevance_words: float = _default("relevance_words")
    relevance_meaning: float = _default("relevance_meaning")

    @classmethod
    def from_settings(cls, settings: Settings) -> "Thresholds":
        return cls(settings.support_threshold, settings.relevance_words, settings.relevance_meaning)


@dataclass
class Settled:
    """The final answer and how it was made."""

    answer: str
    kind: AnswerKind
    cited: list[int]  # evidence numbers the answer cites, in order
    sentences: list[SentenceCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def similarity_of(embedder: Any) -> Similarity:
    """Cosine similarity of texts to a question, with the memory's own embedder."""
    def similarity(question: str, texts: list[str]) -> list[float]:
        query = embedder.embed_query(question) if hasattr(embedder, "embed_query") else embedder([question])[0]
        vectors = embedder.embed_documents(texts) if hasattr(embedder, "embed_documents") else embedder(texts)
        return [float(v) for v in np.asarray(vectors, dtype=np.float32) @ np.asarray(query, dtype=np.float32)]

    return similarity


def relevant(goal: str, evidence: Sequence[Evidence], thresholds: Thresholds) -> bool:
    """Whether any passage is close enough to the question to answer it, and the passages name what it asks
    about (crew.grounding.names)."""
    if not evidence:
        return False
    texts = [e["text"] for e in evidence]
    if unmentioned(goal, texts):
        return False
    words, meaning = relevance(goal, texts, [e.get("similarity", 0.0) for e in evidence])
    return words >= thresholds.relevance_words or meaning >= thresholds.relevance_meaning


# Said under an answer whose passages are in another language than the question, when the researcher did not search
# in theirs (crew.engine.agents.researcher, the `translate_questions` setting): asked in the documents' language, the
# labelled cross-language questions found their page 0.95 of the time against 0.81 (held out: 0.86 against 0.75).
ELSEWHERE = {
    "English": "The passages found are in {language}: asked in {language}, a question finds the page that answers it "
               "more often.",
    "Spanish": "Los pasajes encontrados están en {language}: preguntando en {language} se encuentra más a menudo la "
               "página que responde.",
}
LANGUAGE_IN = {"Spanish": {"English": "inglés", "Spanish": "español"}}


def language_note(language: str | None, evidence: Sequence[Evidence]) -> str | None:
    """The note for a person who asked in `language` (the goal's) about passages in another one; None otherwise."""
    documents = [e["text"] for e in evidence if e.get("kind", "documents") == "documents"][:3]
    found = detect(" ".join(documents)) if documents else None
    if language not in ELSEWHERE or found not in ELSEWHERE or found == language:
        return None  # told only between the languages it is said in: code-heavy passages pass for others
    return ELSEWHERE[language].format(language=LANGUAGE_IN.get(language, {}).get(found, found))


def _cited(text_sentences: Sequence[SentenceCheck]) -> list[int]:
    return sorted({n for s in text_sentences for n in s["citations"]})


def not_found(evidence: Sequence[Evidence], language: str | None, goal: str = "") -> Settled:
    lines = [not_found_line(language, unmentioned(goal, [e["text"] for e in evidence]) if goal else ())]
    closest = list(evidence[:CLOSEST])
    for n, ev in enumerate(closest, 1):
        snippet = " ".join(ev["text"].split())
        snippet = snippet if len(snippet) <= 200 else snippet[:199].rstrip() + "…"
        lines.append(f"- {source_label(ev)}: “{snippet}” [{n}]")
    return Settled("\n".join(lines) if closest else lines[0].split(".")[0] + ".", "not_found",
                   list(range(1, len(closest) + 1)))


def settle(goal: str, evidence: Sequence[Evidence], drafts: Sequence[str], language: str | None,
           thresholds: Thresholds = Thresholds(), similarity: Similarity | None = None) -> Settled:
    """The answer a person sees: the supported part of the best draft, or quotes, or "not found"."""
    if not relevant(goal, evidence, thresholds):
        return not_found(evidence, language, goal)
    passages = [e["text"] for e in evidence]
    reports = [check(draft, passages, thresholds.support) for draft in drafts]
    # The draft with the most supported sentences; the latest of equally good ones.
    best = max(reversed(reports), key=lambda r: (bool(r.sentences), sum(s.supported for s in r.sentences)),
               default=None)
    holds = best is not None and bool(best.sentences) and best.supported_share >= KEEP_SHARE
    # A draft that holds up only because it is lines copied from the passages is a choice of quotes, and the quotes
    # are better chosen by the question: the embedded model copies whatever lines it read ("Debian Wiki, HelpDebian
    # [3]" for "¿Para qué sirve el archivo debian/watch?"), and every one of them passes the support check.
    copy = holds and copied(best, passages)
    if holds and not copy:
        checks = [SentenceCheck(**s.to_json()) for s in best.kept()]
        notes = []
        left_out = sum(not s.supported for s in best.sentences)
        if left_out:
            notes.append(f"{left_out} sentence(s) of the draft were left out: no source supports them.")
        return Settled(best.text(only_supported=True), "written", _cited(checks), checks, notes)
    chosen = extract(goal, passages, similarity, headings=headings_of(e.get("place", "") for e in evidence))
    if not chosen:
        return not_found(evidence, language)
    checks = [SentenceCheck(text=c.text, citations=[c.n], support=1.0, supported=True) for c in chosen]
    share = f"{best.supported_share:.0%}" if best is not None and best.sentences else "none"
    why = ("the writer's draft only copied lines of them, so the lines that answer the question best are quoted"
           if copy else f"the writer's draft did not hold up against them (supported sentences: {share})")
    return Settled(render(chosen, language), "extractive", _cited(checks), checks,
                   [f"The answer is quoted from the sources: {why}."])
