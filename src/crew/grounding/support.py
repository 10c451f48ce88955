"""Check, sentence by sentence and without a model, that an answer says only what its sources say.

Small models copy from the evidence, paraphrase it loosely, cite the wrong passage or none, and
sometimes invent. Every sentence of a draft is scored against the passage it cites and against
all the evidence: the share of its content words (folded, stopwords out, compared by stem) and
all of its numbers found in the passage. A sentence that its own citation does not support but
another passage does is re-cited; one that no passage supports is unsupported, and either goes
back to the writer or is left out of the final answer.

Prompt echo (the "Question:" / "Sources:" scaffolding, fence markers) and page furniture (running
headers like "Guía de referencia de Debian 108 / 244") are never answer text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from crew.documents.parsers.furniture import is_contents_entry
from crew.retrieval.keywords import STOPWORDS
from crew.retrieval.stemming import fold
from crew.grounding.units import REF as _REF, asks, sentences, units

# A sentence counts as supported when this share of its content words is in one passage (the
# `support_threshold` setting; this is the default of the pure functions).
SUPPORT_THRESHOLD = 0.6
STEM = 5  # words are compared by their first letters: "configurar" ~ "configuración", "files" ~ "file"
SPAN = 3  # consecutive units of a passage one sentence may draw on (a paraphrase joins two or three)
NUMBER_CONTEXT = 0.5  # of a sentence's other words, in the passage unit that states its numbers
MIN_WORDS = 2  # below this a sentence carries no checkable claim ("Yes.", "In short:")
# A draft whose kept sentences are this share of the passages' own word pairs was copied from them. The embedded
# model's drafts that passed the support check, on 36 questions (2026-12-03): two mosaics of lines from several pages,
# 0.94 each ("¿Qué es un NMU?" answered with "para incorporar paquetes al repositorio [1]. ..."); an answer built
# around one copied sentence, 0.73; a garbled sentence, 0.12. A close paraphrase of one sentence ("Green tea holds
# about 30 mg of caffeine per cup" for "A cup of green tea holds about 30 mg of caffeine") is 0.78.
COPIED_SHARE = 0.8

_WORD = re.compile(r"[^\W_]+(?:[.'’][^\W_]+)*")
_NUMBER = re.compile(r"\d")
# Lead-ins that announce rather than claim.
_LEAD_IN = re.compile(
    r"^\s*(?:according to (?:the )?(?:sources?|documents?|evidence)|based on (?:the )?(?:sources?|documents?|evidence)"
    r"|seg[uú]n (?:las |los )?(?:fuentes|documentos?)|de acuerdo con (?:las |los )?(?:fuentes|documentos?))\s*[:,]?\s*",
    re.I,
)
# The prompt's own scaffolding, echoed back by small models.
_ECHO = re.compile(
    r"^\s*(?:question|sources?|pregunta|fuentes?|your previous answer|the critic asked|draft answer|answer|respuesta)\s*:\s*$"
    r"|write (?:a short|the improved) answer|citing sources like|<<<|>>>|‹‹‹|›››",
    re.I,
)
# Page furniture: a line that is mostly a folio ("108 / 244", "Page 3 of 10", "- 12 -").
_FOLIO = re.compile(r"(?:\b(?:p[aá]g(?:ina)?|page)\.?\s*)?\d{1,4}\s*(?:/|of|de)\s*\d{1,4}\b|^\W*\d{1,4}\W*$", re.I)


def content_words(text: str) -> list[str]:
    """The words that carry a claim: folded, without stopwords, compared by stem."""
    words = _WORD.findall(fold(_REF.sub(" ", text)))
    return [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def _stems(words: Iterable[str]) -> set[str]:
    return {w[:STEM] for w in words}


def numbers(words: Sequence[str]) -> set[str]:
    return {w for w in words if _NUMBER.search(w)}


# Names and codes a sentence must not invent: acronyms ("UPG"), and words with digits or inner
# punctuation ("chmod", no; "dpkg-buildpackage", "3.11", "/etc/fstab", yes). A small model garbles
# them ("UMG" for "UPG") while the words around them still match.
_EXACT = re.compile(r"(?<![\w])(?:[A-Z][A-Z0-9]{1,}(?![a-z])|[^\W_]*\d[^\s,;:()\[\]]*|[^\W_]+(?:[-_/.][^\W_]+)+)")


def exact_tokens(text: str) -> set[str]:
    return {fold(t).rstrip(".") for t in _EXACT.findall(_REF.sub(" ", text)) if len(t) > 1}


def support(sentence: str, passage: str) -> float:
    """How well a passage backs a sentence, 0..1: the share of the sentence's content words it holds,
    and 0 when it lacks a number, name or code the sentence states."""
    words = content_words(_LEAD_IN.sub("", sentence))
    if not words:
        return 0.0
    passage_words = content_words(passage)
    stated = numbers(words)
    if not stated <= numbers(passage_words) or (stated and not _numbers_in_context(words, stated, passage)):
        return 0.0
    folded = fold(passage)
    if any(token not in folded for token in exact_tokens(_LEAD_IN.sub("", sentence))):
        return 0.0
    return max(sum(1 for w in words if w[:STEM] in have) / len(words) for have in _places(passage))


@lru_cache(maxsize=256)  # asked of the same passages for every sentence of every draft
def _places(passage: str) -> tuple[frozenset[str], ...]:
    """The word stems of each run of SPAN consecutive units of a passage (crew.grounding.units): a sentence is backed
    by one place in its passage, not by words gathered from all over it ("Sintaxis de apt Sintaxo de apt-get",
    each word somewhere in a table of commands)."""
    parts = units(passage) or (passage,)
    return tuple(frozenset(_stems(content_words(" ".join(parts[i:i + SPAN]))))
                 for i in range(max(1, len(parts) - SPAN + 1)))


def _numbers_in_context(words: list[str], stated: set[str], passage: str) -> bool:
    """Whether one unit of the passage states all of the sentence's numbers beside at least NUMBER_CONTEXT of its
    other words. A number found anywhere in a passage is not support: "utiliza 1 o 2 dígitos en base octal" is not
    backed by "utiliza 3 o 4 dígitos en base octal" because "(=1)" and "(=2)" stand in a table row further down."""
    others = _stems(w for w in words if w not in stated)
    for unit in units(passage):
        unit_words = content_words(unit)
        if stated <= numbers(unit_words):
            have = _stems(unit_words)
            if not others or sum(1 for w in others if w in have) >= NUMBER_CONTEXT * len(others):
                return True
    return False


def is_furniture(sentence: str) -> bool:
    """Prompt echo or page furniture (a folio, a contents entry of a document read before they were dropped):
    never answer text."""
    text = _REF.sub("", sentence).strip()
    if not text or _ECHO.search(text) or is_contents_entry(text):
        return True
    return bool(_FOLIO.search(text)) and len(content_words(_FOLIO.sub(" ", text))) <= 6


@dataclass
class SentenceSupport:
    """One sentence of an answer and how the evidence backs it."""

    text: str  # without its [n] markers
    citations: list[int]  # 1-based evidence numbers it cites after the check
    support: float  # best score among the passages it cites
    supported: bool
    recited: bool = False  # its citation was added or corrected by the check

    def to_json(self) -> dict:
        return {"text": self.text, "citations": self.citations, "support": round(self.support, 3),
                "supported": self.supported}


@dataclass
class SupportReport:
    """A checked answer: each sentence with its support, and the answer rebuilt from them."""

    sentences: list[SentenceSupport] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # furniture and echo, removed before checking

    @property
    def unsupported(self) -> list[SentenceSupport]:
        return [s for s in self.sentences if not s.supported]

    @property
    def supported_share(self) -> float:
        return sum(s.supported for s in self.sentences) / len(self.sentences) if self.sentences else 0.0

    def kept(self) -> list[SentenceSupport]:
        """The supported sentences, each once (a small model repeats itself)."""
        out, seen = [], set()
        for s in self.sentences:
            if s.supported and fold(s.text) not in seen:
                seen.add(fold(s.text))
                out.append(s)
        return out

    def text(self, only_supported: bool = False) -> str:
        """The answer as sentences with their [n] markers; with `only_supported`, the kept ones alone."""
        return " ".join(with_refs(s.text, s.citations) for s in (self.kept() if only_supported else self.sentences)).strip()


def _word_pairs(text: str) -> list[tuple[str, ...]]:
    """Consecutive pairs of a text's words (folded, punctuation and [n] aside); a lone word for a one-word text."""
    words = re.findall(r"\w+", fold(_REF.sub(" ", text)))
    return list(zip(words, words[1:])) if len(words) > 1 else [tuple(words)] if words else []


def copied(report: SupportReport, passages: Sequence[str]) -> bool:
    """Whether the sentences a draft keeps are mostly the passages' own words in their own order (COPIED_SHARE of
    their word pairs): lines copied, or stitched together from several places, which is a choice of quotes and not
    an answer written from them."""
    pairs = [pair for s in report.kept() for pair in _word_pairs(s.text)]
    if not pairs:
        return False
    held = {pair for p in passages for pair in _word_pairs(p)}
    return sum(pair in held for pair in pairs) >= COPIED_SHARE * len(pairs)


def with_refs(text: str, citations: Sequence[int]) -> str:
    """Put a sentence's [n] markers before its end mark: "Tea has caffeine [1]."."""
    refs = "".join(f" [{n}]" for n in citations)
    end = re.search(r"[.!?…:]+$", text)
    return text[: end.start()] + refs + end.group(0) if end else text + refs


def check(answer: str, passages: Sequence[str], threshold: float = SUPPORT_THRESHOLD) -> SupportReport:
    """Score every sentence of `answer` against the passages (evidence [1] is passages[0]).

    A sentence keeps a citation that supports it; else it gets the passage that supports it best,
    if any does; else it is unsupported (and keeps the citation it had, for the writer's notes).
    """
    report = SupportReport()
    for text, cited in sentences(answer):
        if is_furniture(text):
            report.dropped.append(text)
            continue
        valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(passages)]
        if len(content_words(_LEAD_IN.sub("", text))) < MIN_WORDS or asks(text):  # a question claims nothing
            report.sentences.append(SentenceSupport(text, valid, 0.0, False))
            continue
        own = max((support(text, passages[n - 1]) for n in valid), default=0.0)
        if own >= threshold:
            keep = [n for n in valid if support(text, passages[n - 1]) >= threshold]
            report.sentences.append(SentenceSupport(text, keep, own, True))
            continue
        scores = [support(text, p) for p in passages]
        best = max(range(len(scores)), key=scores.__getitem__, default=None)
        if best is not None and scores[best] >= threshold:
            report.sentences.append(SentenceSupport(text, [best + 1], scores[best], True, recited=True))
        else:
            report.sentences.append(SentenceSupport(text, valid, own, False))
    return report


def revision_notes(report: SupportReport, limit: int = 3) -> list[str]:
    """What the writer must fix, as the critic's notes: the sentences no source supports."""
    notes = []
    for s in report.unsupported[:limit]:
        quoted = s.text if len(s.text) <= 110 else s.text[:107] + "..."
        where = f" (it cites [{s.citations[0]}])" if s.citations else ""
        notes.append(f'No source supports "{quoted}"{where}: say only what a source says, and cite it.')
    return notes
