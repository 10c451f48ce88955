"""Answer from the evidence itself when the model cannot write a supported answer, and tell when the
documents do not answer at all.

The extractive answer quotes the few evidence units that best answer the question, each with its [n],
under one plain line saying it is quoted, about 400 characters in all. A unit is a sentence with the
lines a PDF page wrapped joined again (quoting a page's line quoted half a sentence), or, in a table
whose rows end in no full stop, a run of a few lines. Units are ranked by how much of the question
they cover (words weighted by rarity, compared by stem), by meaning when an embedder is at hand (that
is what finds a Spanish sentence for an English question), and up when they name a command, file or
option the question does not."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Collection, Iterable, Sequence

from crew.grounding.support import STEM, content_words, exact_tokens, fold, is_furniture
from crew.grounding.units import ENDS as _ENDS, MAX_CHARS, asks, units

# (question, texts) -> cosine similarity of each text to the question
Similarity = Callable[[str, list[str]], list[float]]

MAX_SENTENCES = 3
MIN_CHARS = 25  # a quotable unit, up to units.MAX_CHARS
# The quotes of one answer, in all. Three sentences cut at the page's lines averaged ~280 characters on the
# labelled sets; whole sentences and table rows need more, and an answer should still read at a glance.
MAX_QUOTED = 400
# A unit that names a command, file, option or variable the question does not: how-to questions about
# technical documents are answered by one (bench/quoted.py, tuning part, 300 characters in all: key terms
# 0.30 -> 0.34).
CODE_BONUS = 0.1
SAME_SHARE = 0.8  # two units sharing more of their words say the same thing
# A unit scoring under this share of the best one's is not quoted: short units far down the ranking (a mailing
# list's address under the answer about DEBEMAIL) filled what the budget left. bench/quoted.py, tuning part (126):
# key terms unchanged (0.39), quotes 11 characters shorter on average, right page cited 0.70 -> 0.69.
FLOOR = 0.7
# A unit that announces what follows ("... the first line must mention that this upload is an NMU, e.g.:", "is
# equivalent to:") is quoted with what it announces, the next units of its passage up to this many characters: 24
# of the 383 quotes on the tuning sets ended so, and what they announced (the command, the example, the list) was
# the answer. bench/quoted.py, key terms: tuning part 0.40 -> 0.41 (120-300 characters alike), held out 0.26 -> 0.28.
FOLLOW_CHARS = 200
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


# A numbered section heading: two levels at least, or an appendix's letter ("2.7.", "A.4"); "3. Run make" may be a step.
_SECTION = re.compile(r"^(?:\d+\.\d+(?:\.\d+)*\.?|[A-Z]\.\d+(?:\.\d+)*\.?)\s+\S")
HEADING_CHARS = 100


def is_heading(text: str, headings: Collection[str] = ()) -> bool:
    """A section heading: numbered ("8.1.1. Razón de ser de la configuración regional", "A.4. Construcción de un
    paquete") or one of `headings`, those the passages stand under ("pickle — Python object serialization"). It
    names what the passage is about and answers nothing, and the citation names the section already."""
    if _SECTION.match(text) and len(text) <= HEADING_CHARS and (not _ENDS.search(text) or text.endswith("?")):
        return True  # "2.7.11. ¿Quién sube los paquetes?" is a heading too
    return bool(headings) and " ".join(fold(text).split()) in {" ".join(fold(h).split()) for h in headings}


def headings_of(places: Iterable[str]) -> set[str]:
    """The headings in evidence places: "p. 18 · 2.7. Configurar dh_make", "json — JSON encoder > Basic Usage"."""
    return {part.strip() for place in places for part in re.split(r" > | · ", place or "") if part.strip()}


def candidates(passages: Sequence[str], headings: Collection[str] = ()) -> list[tuple[str, int]]:
    """Every quotable unit of the evidence with its number: no furniture or heading, not too short or long."""
    out, seen = [], set()
    for n, passage in enumerate(passages, 1):
        for text in units(passage):
            key = text.lower()
            if key in seen or is_furniture(text) or is_heading(text, headings) or asks(text) or \
                    not MIN_CHARS <= len(text) <= MAX_CHARS:
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


_MANREF = re.compile(r"[\w.+-]+\(\d\w*\)")
_PROMPT = re.compile(r"^\s*[$#>]\s+\S")  # a command as manuals print it: "$ sudo ...", "# dpkg ..."


def codes(text: str) -> set[str]:
    """The names and codes a text states: commands, files, options, variables, man pages ("chmod(1)")."""
    found = exact_tokens(text) | {m.lower() for m in _MANREF.findall(text)}
    if _PROMPT.match(text):
        found.add(text.strip().lower())
    return found


def rank(question: str, passages: Sequence[str], similarity: Similarity | None = None,
         headings: Collection[str] = ()) -> list[Candidate]:
    """Quotable evidence units, best answer first (`headings`: those the passages stand under, never quoted)."""
    pool = candidates(passages, headings)
    if not pool:
        return []
    texts = [t for t, _ in pool]
    lexical = _coverage(question, texts)
    semantic = similarity(question, texts) if similarity else None
    asked = codes(question)
    scored = []
    for i, (text, n) in enumerate(pool):
        prior = 1.0 / (1 + 0.3 * (n - 1))  # the researcher's own ranking of the passage
        if semantic is not None:
            score = 0.5 * max(0.0, semantic[i]) + 0.35 * lexical[i] + 0.15 * prior
        else:
            score = 0.8 * lexical[i] + 0.2 * prior
        if codes(text) - asked:
            score += CODE_BONUS
        scored.append(Candidate(text, n, score))
    return sorted(scored, key=lambda c: c.score, reverse=True)


def _same(a: str, b: str) -> bool:
    """Whether two units say the same thing: most of the shorter one's words are in the other (overlapping runs of
    a table's lines, a sentence quoted twice). Not crew.grounding.support's score, which is 0 when a unit names a
    code the other does not: two runs of one row, each with a neighbour's command, would both be quoted."""
    x, y = {w[:STEM] for w in content_words(a)}, {w[:STEM] for w in content_words(b)}
    return bool(x and y) and len(x & y) / min(len(x), len(y)) > SAME_SHARE


def extract(question: str, passages: Sequence[str], similarity: Similarity | None = None,
            max_sentences: int = MAX_SENTENCES, max_chars: int = MAX_QUOTED,
            headings: Collection[str] = ()) -> list[Candidate]:
    """The few units that best answer the question, no two saying the same thing, `max_chars` in all; the best
    is quoted even when longer (cut at a word, marked "…"). `headings`: those the passages stand under."""
    chosen: list[Candidate] = []
    for c in rank(question, passages, similarity, headings):
        if chosen and c.score < FLOOR * chosen[0].score:
            break
        if any(_same(c.text, other.text) for other in chosen):
            continue
        if sum(len(o.text) for o in chosen) + len(c.text) > max_chars:
            if chosen:
                continue
            c = Candidate(c.text[:max_chars].rsplit(" ", 1)[0] + " …", c.n, c.score)  # the best is always quoted
        chosen.append(c)
        if len(chosen) == max_sentences:
            break
    return [Candidate(follow(c.text, passages[c.n - 1], headings=headings), c.n, c.score) if _announces(c.text)
            else c for c in chosen]


def _announces(text: str) -> bool:
    return text.rstrip().endswith(":")


def follow(unit: str, passage: str, max_chars: int = FOLLOW_CHARS, headings: Collection[str] = ()) -> str:
    """The unit with what it announces: the units after it in its passage, up to `max_chars` more (cut at a word
    and marked "…") and never past a heading; the unit alone when nothing follows it."""
    parts = units(passage)
    if unit not in parts:
        return unit
    added: list[str] = []
    for part in parts[parts.index(unit) + 1:]:
        if is_heading(part, headings) or is_furniture(part):
            break
        if part.isalpha():
            continue  # a box's label ("nota", "aviso") says nothing
        room = max_chars - sum(len(a) + 1 for a in added)
        if room <= 0:
            break
        if len(part) > room:
            added.append(part[:room].rsplit(" ", 1)[0] + " …")
            break
        added.append(part)
        if not _announces(part) and _ENDS.search(part):
            break  # the announced sentence, row or command is whole
    return " ".join([unit, *added])


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
