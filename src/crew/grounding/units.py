"""How text divides: an answer into its sentences and their [n] citations, a passage into the units a quote or a
check is made of.

A passage's unit is a sentence with the lines a PDF page wrapped joined again (a page's line is often half a
sentence), or, in a table whose rows end in no full stop, a run of a few lines. Used by the support check
(crew.grounding.support: a number must stand where the sentence's words do) and the quoted answer
(crew.grounding.extractive).
"""

from __future__ import annotations

import re
from functools import lru_cache

from crew.retrieval.sentences import ABBREVIATION

REF = re.compile(r"\s*\[(\d{1,3})\]")  # an [n] citation marker
# A sentence runs to its end mark (and keeps the [n] markers that follow it) or to a line end.
_SENTENCE = re.compile(r"[^\n]+?(?:[.!?…]+(?:\s*\[\d{1,3}\])*(?=\s|$)|(?:\s*\[\d{1,3}\])+(?=\s|$)|$)")
MAX_CHARS = 450  # a unit longer than this is a table's rows run together: cut into runs of lines
# A line ends a sentence when it ends with one of these (closing quotes and brackets may follow).
ENDS = re.compile(r"[.!?…:;][\"'»”’)\]]*$")
# A numbered heading: "1.2.3. Permisos", "2.1 Medir", "A.4. Construcción", "3. Setup", or a bare number and a word
# ("3 Experiencias"); not a wrapped line's measurement ("100 Ω à 100 kΩ.", "16 V", "5 mA", "50 Hz").
_HEADING = re.compile(r"^(?:\d+(?:\.\d+)+\.?|\d+\.|[A-Z]\.\d+(?:\.\d+)*\.?)\s+\S|^\d+\s+[A-ZÁÉÍÓÚÑÜ][^\W\d_]{2,}")
WRAP_CHARS = 60  # a line this long that stops mid-sentence was wrapped by the page, not ended
RUN_LINES = 3


def _joined(lines: list[str]) -> list[list[str]]:
    """Lines grouped into the sentences a page wrapped: a line continues on the next unless it ends a sentence,
    is a numbered heading, or is short and the next starts with a capital (a heading, a table cell)."""
    groups: list[list[str]] = []
    for line in lines:
        if groups:
            last = groups[-1][-1]
            wraps = not ENDS.search(last) and not _HEADING.match(groups[-1][0]) and not _HEADING.match(line)
            if wraps and (len(last) >= WRAP_CHARS or not line[:1].isupper()):
                groups[-1].append(line)
                continue
        groups.append([line])
    return groups


@lru_cache(maxsize=256)  # the support check asks it of the same passages for every sentence
def units(passage: str) -> tuple[str, ...]:
    """The quotable units of a passage: its sentences, with the lines a page wrapped joined again; where lines
    join into no sentence (a table's rows have no end marks), runs of up to RUN_LINES lines instead."""
    lines = [" ".join(line.split()) for line in passage.splitlines()]
    out: list[str] = []
    for group in _joined([line for line in lines if line]):
        text = " ".join(group)
        if _HEADING.match(text):  # "1.2.3. Permisos" is one heading, not a sentence "1.2.3." and another
            out.append(text)
            continue
        found = [t for t, _ in sentences(text)]
        if all(len(t) <= MAX_CHARS for t in found):
            out.extend(found)
            continue
        for i in range(len(group)):  # overlapping runs; extract() keeps no two that say the same
            run = group[i:i + 1]
            for line in group[i + 1:i + RUN_LINES]:
                if len(" ".join(run + [line])) > MAX_CHARS:
                    break
                run.append(line)
            out.append(" ".join(run))
    return tuple(out)


def asks(text: str) -> bool:
    """A sentence that asks ("How do you actually become a Debian developer...?", a lab manual's exercise
    "¿Se pueden utilizar capacitores de larga capacidad...?", a question a draft echoes): it answers nothing."""
    return text.rstrip("\"'»”’) ").endswith("?")


def sentences(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into (sentence without markers, the [n] it cites), line by line."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+", "", line)  # list bullets are layout, not words
        pieces: list[str] = []
        for match in _SENTENCE.finditer(line):
            raw = match.group(0).strip()
            if not raw:
                continue
            # A stop followed by a lower-case word ends an abbreviation ("p. ej. una memoria USB", "e.g. the"),
            # not a sentence: the piece after it belongs to the one before.
            if pieces and raw[:1].islower() and ABBREVIATION.search(pieces[-1]):
                pieces[-1] += " " + raw
            else:
                pieces.append(raw)
        for raw in pieces:
            cited = [int(n) for n in REF.findall(raw)]
            plain = " ".join(REF.sub(" ", raw).split())
            plain = re.sub(r"\s+([.,;:!?…])", r"\1", plain)
            if plain:
                out.append((plain, cited))
    return out
