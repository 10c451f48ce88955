"""Answer from the evidence itself when the model cannot write a supported answer, and tell when the
documents do not answer at all.

The extractive answer quotes the few evidence sentences that best answer the question, each with
its [n], under one plain line saying it is quoted. Sentences are ranked by how much of the
question they cover (words weighted by rarity, compared by stem) and, when an embedder is at
hand, by meaning: that is what finds a Spanish sentence for an English question.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from crew.grounding.support import STEM, content_words, is_furniture, sentences, support

# (question, texts) -> cosine similarity of each text to the question
Similarity = Callable[[str, list[str]], list[float]]

MAX_SENTENCES = 3
MIN_CHARS, MAX_CHARS = 25, 450
LEADS = {
    "Spanish": "No pude redactar una respuesta que las fuentes respalden; estas frases están citadas literalmente de ellas:",
    "English": "I could not write an answer the sources fully support; these sentences are quoted from them:",
}
NOT_FOUND = {
    "Spanish": "Los documentos no responden a esta pregunta. Estos son los pasajes más cercanos que encontré:",
    "English": "The documents do not answer this question. These are the closest passages I found:",
}


def lead(language: str | None) -> str:
    return LEADS.get(language or "", LEADS["English"])


UNMENTIONED = {
    "Spanish": ("Ninguno de los pasajes encontrados menciona {names}.", "«{}»", " ni "),
    "English": ("None of the passages found mentions {names}.", "“{}”", " or "),
}


def not_found_line(language: str | None, names: Sequence[str] = ()) -> str:
    """The line that opens a "not found" answer; with `names`, it says which of the question's names no passage
    mentions (crew.grounding.names)."""
    line = NOT_FOUND.get(language or "", NOT_FOUND["English"])
    if not names:
        return line
    sentence, quote, last = UNMENTIONED.get(language or "", UNMENTIONED["English"])
    quoted = [quote.format(name) for name in names]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + last + quoted[-1]
    first, rest = line.split(". ", 1)
    return f"{first}. {sentence.format(names=listed)} {rest}"


@dataclass(frozen=True)
class Candidate:
    text: str
    n: int  # 1-based evidence number
    score: float


def candidates(passages: Sequence[str]) -> list[tuple[str, int]]:
    """Every quotable sentence of the evidence with its number: no furniture, not too short or long."""
    out, seen = [], set()
    for n, passage in enumerate(passages, 1):
        for text, _ in sentences(passage):
            key = text.lower()
            if key in seen or is_furniture(text) or not MIN_CHARS <= len(text) <= MAX_CHARS:
                continue
            if len(content_words(text)) < 3:
                continue
            seen.add(key)
            out.append((text, n))
    return out


def _coverage(question: str, texts: list[str]) -> list[float]:
    """The share of the question's words each text holds, each word weighted by its rarity among the texts."""
    asked = list(dict.fromkeys(w[:STEM] for w in content_words(question)))
    if not asked or not texts:
        return [0.0] * len(texts)
    stems = [{w[:STEM] for w in content_words(t)} for t in texts]
    weight = {a: math.log(1 + len(texts) / (1 + sum(a in s for s in stems))) for a in asked}
    total = sum(weight.values()) or 1.0
    return [sum(weight[a] for a in asked if a in s) / total for s in stems]


def rank(question: str, passages: Sequence[str], similarity: Similarity | None = None) -> list[Candidate]:
    """Quotable evidence sentences, best answer first."""
    pool = candidates(passages)
    if not pool:
        return []
    texts = [t for t, _ in pool]
    lexical = _coverage(question, texts)
    semantic = similarity(question, texts) if similarity else None
    scored = []
    for i, (text, n) in enumerate(pool):
        prior = 1.0 / (1 + 0.3 * (n - 1))  # the researcher's own ranking of the passage
        if semantic is not None:
            score = 0.5 * max(0.0, semantic[i]) + 0.35 * lexical[i] + 0.15 * prior
        else:
            score = 0.8 * lexical[i] + 0.2 * prior
        scored.append(Candidate(text, n, score))
    return sorted(scored, key=lambda c: c.score, reverse=True)


def extract(question: str, passages: Sequence[str], similarity: Similarity | None = None,
            max_sentences: int = MAX_SENTENCES) -> list[Candidate]:
    """The few sentences that best answer the question, no two saying the same thing."""
    chosen: list[Candidate] = []
    for c in rank(question, passages, similarity):
        if any(support(c.text, other.text) > 0.8 for other in chosen):
            continue
        chosen.append(c)
        if len(chosen) == max_sentences:
            break
    return chosen


def render(chosen: Sequence[Candidate], language: str | None) -> str:
    """The extractive answer: the plain lead line, then each quoted sentence with its [n]."""
    lines = [lead(language)] + [f"- “{c.text}” [{c.n}]" for c in chosen]
    return "\n".join(lines)


def relevance(question: str, passages: Sequence[str], similarities: Sequence[float] = ()) -> tuple[float, float]:
    """How well the best passage matches the question: (its coverage of the question's words,
    the best similarity in meaning). Either may carry it: a question in another language than the
    document shares no words with it."""
    lexical = max(_coverage(question, list(passages)), default=0.0) if passages else 0.0
    return lexical, max(similarities, default=0.0)
