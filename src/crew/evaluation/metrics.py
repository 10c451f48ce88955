"""Score evaluation results: pure functions over what search and a turn returned.

Retrieval: a question's rank is the position of the first passage from its labelled file (and,
when pages are labelled, from one of those pages); recall@k counts ranks within k, MRR averages
1/rank. Answers: the share of key terms found (accent- and case-folded), whether a labelled page
is cited, how many sentences the crew marked as supported, and whether it said "not found". An
answer saying "not found" scores no key terms and no cited page, whatever closest passages it
quotes: it declined to answer.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from crew.evaluation.questions import Question
from crew.retrieval.stemming import fold as accents_folded

# Said in the summary while "not found" is guessed (see `answer_facts`).
_FALLBACK_NOTE = "not_found: no citations (the engine did not report not_found)"


def fold(text: str) -> str:
    """Lower-case text without accents and with single spaces, so "Índice" matches "indice"."""
    return " ".join(accents_folded(str(text)).casefold().split())


def term_found(term: str, folded_text: str) -> bool:
    """Whether a key term starts a word of the (folded) text: "paquete" also counts "paquetes".
    A term ending in a digit must end there too, so "30" does not count "300"."""
    t = fold(term)
    if not t:
        return False
    end = r"(?!\d)" if t[-1].isdigit() else ""
    return re.search(r"(?<!\w)" + re.escape(t) + end, folded_text) is not None


def key_terms_found(answer: str, terms: Iterable[str]) -> list[str]:
    """The key terms an answer holds."""
    text = fold(answer)
    return [t for t in terms if term_found(t, text)]


def right_place(source: str, page: int, question: Question) -> bool:
    """Whether a passage or citation is from the question's labelled file (and page, when labelled)."""
    return question.answerable and source == question.source and (not question.pages or page in question.pages)


def first_right_rank(places: Iterable[tuple[str, int]], question: Question) -> int | None:
    """1-based rank of the first (source, page) from a labelled place, or None."""
    for rank, (source, page) in enumerate(places, start=1):
        if right_place(source, page, question):
            return rank
    return None


def cites_right_place(citations: Iterable[Mapping[str, Any]], question: Question) -> bool:
    return any(right_place(str(c.get("source", "")), int(c.get("page") or 0), question) for c in citations)


@dataclass(frozen=True)
class AnswerFacts:
    """What the scoring reads from a turn's JSON."""

    sentences: int | None  # None: the engine gave no per-sentence support
    supported: int | None
    not_found: bool
    note: str = ""  # how a figure was obtained when the engine did not report it
    kind: str = ""  # the engine's answer_kind: written | extractive | not_found ("" when not reported)


def answer_facts(turn_json: Mapping[str, Any]) -> AnswerFacts:
    """Read support and "not found" from `TurnResult.to_json()`.

    FALLBACK, until the engine reports them: without "sentences" the support figures are None
    (shown as n/a); without "not_found" an answer with no citation counts as "not found".
    """
    sentences = turn_json.get("sentences")
    total = supported = None
    if isinstance(sentences, list):
        total = len(sentences)
        supported = sum(1 for s in sentences if isinstance(s, Mapping) and s.get("supported"))
    kind = str(turn_json.get("answer_kind") or "")
    if "not_found" in turn_json:
        return AnswerFacts(total, supported, bool(turn_json["not_found"]), kind=kind)
    return AnswerFacts(total, supported, not turn_json.get("citations"), _FALLBACK_NOTE, kind)


@dataclass
class QuestionResult:
    """One question's outcome: what search found and, unless retrieval only, what the crew answered."""

    question: Question
    k: int
    places: list[tuple[str, int]] = field(default_factory=list)  # the top k passages' (source, page)
    language: str = ""  # "en", "es", "cross" (question and document differ), or "" when unknown
    search_ms: float = 0.0
    answer: str | None = None  # None: no turn was run
    citations: list[dict] = field(default_factory=list)
    facts: AnswerFacts | None = None
    seconds: float | None = None
    status: str = ""
    error: str | None = None

    @property
    def rank(self) -> int | None:
        return first_right_rank(self.places[: self.k], self.question)

    @property
    def terms_found(self) -> list[str]:
        return key_terms_found(self.answer or "", self.question.terms)

    @property
    def declined(self) -> bool:
        """The crew said the documents do not answer: the closest passages it shows are no answer."""
        return self.facts is not None and self.facts.not_found

    @property
    def term_rate(self) -> float | None:
        if self.answer is None or not self.question.terms:
            return None
        return 0.0 if self.declined else len(self.terms_found) / len(self.question.terms)

    @property
    def cited_right_page(self) -> bool | None:
        if self.answer is None or not self.question.answerable:
            return None
        return not self.declined and cites_right_place(self.citations, self.question)

    def row(self) -> dict[str, Any]:
        """A flat row for tables and JSON."""
        q = self.question
        rank = self.rank
        facts = self.facts
        found = [] if self.answer is None or self.declined else self.terms_found
        return {
            "line": q.line, "question": q.text, "source": q.source or "-",
            "pages": ",".join(map(str, q.pages)) or "-", "language": self.language, "answerable": q.answerable,
            "rank": rank, "hit": rank is not None, "rr": round(1 / rank, 4) if rank else 0.0,
            "top": [f"{s}, p. {p}" if p else s for s, p in self.places[: self.k]],
            "search_ms": round(self.search_ms, 1),
            "answer": self.answer, "term_rate": None if self.term_rate is None else round(self.term_rate, 3),
            "terms_found": found,
            "terms_missing": [t for t in q.terms if t not in found] if self.answer is not None else [],
            "cited_right_page": self.cited_right_page,
            "citations": [{k: c.get(k) for k in ("n", "source", "page")} for c in self.citations],
            "sentences": facts.sentences if facts else None, "supported": facts.supported if facts else None,
            "not_found": facts.not_found if facts else None, "answer_kind": facts.kind if facts else None,
            "seconds": self.seconds,
            "status": self.status, "error": self.error,
        }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize(results: list[QuestionResult]) -> dict[str, Any]:
    """The headline figures over a list of results; a figure with nothing to average over is None."""
    answerable = [r for r in results if r.question.answerable]
    unanswerable = [r for r in results if not r.question.answerable]
    answered = [r for r in results if r.answer is not None and r.facts is not None]
    with_support = [r.facts for r in answered if r.facts.sentences is not None]
    ranks = [r.rank for r in answerable]
    seconds = [r.seconds for r in answered if r.seconds is not None]
    k = results[0].k if results else 0
    notes = sorted({r.facts.note for r in answered if r.facts.note})
    return {
        "questions": len(results), "answerable": len(answerable), "unanswerable": len(unanswerable), "k": k,
        "recall_at_k": _mean([1.0 if rank else 0.0 for rank in ranks]),
        "mrr": _mean([1 / rank if rank else 0.0 for rank in ranks]),
        "answered": len(answered),
        "key_term_rate": _mean([r.term_rate for r in answered if r.question.answerable and r.term_rate is not None]),
        "right_page_cited": _mean([1.0 if r.cited_right_page else 0.0 for r in answered if r.question.answerable]),
        "supported_sentence_rate": (round(sum(f.supported for f in with_support) / total, 4)
                                    if (total := sum(f.sentences for f in with_support)) else None),
        "not_found_answerable": _mean([1.0 if r.facts.not_found else 0.0 for r in answered if r.question.answerable]),
        "not_found_unanswerable": _mean([1.0 if r.facts.not_found else 0.0 for r in answered
                                         if not r.question.answerable]),
        "median_turn_s": round(statistics.median(seconds), 3) if seconds else None,
        "answer_kinds": dict(sorted(Counter(r.facts.kind for r in answered if r.facts.kind).items())),
        "errors": sum(1 for r in answered if r.error),
        "notes": notes,
    }


def language_group(question_language: str | None, document_language: str | None) -> str:
    """"en"/"es"/... when the question and its document share a language, "cross" when they differ."""
    if question_language and document_language and question_language != document_language:
        return "cross"
    return question_language or document_language or ""
