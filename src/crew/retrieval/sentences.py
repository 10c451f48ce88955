"""Passages that begin and end where their sentences do, completed from the chunks beside them.

A chunk is 800 characters cut where the splitter found a line break, so a third of the PDF chunks of the labelled
sets begin in the middle of a sentence ("una memoria USB ubicada en «/dev/sda».") and more end in one. A quote taken
from such an edge says less than its sentence did, or the opposite ("recommended" out of "not recommended"), and a
writer reads it the same way. The chunks of one page or section are consecutive pieces of its text (overlapping by
the splitter's overlap when their lines are short enough), so the rest of a cut sentence is in the chunk before or
after: it is joined on, never further than `REACH` characters, never across a paragraph break, and only where the
text goes on as a sentence does (a lower-case word), not into a heading, a table cell or a command. The caller
gives only neighbours of the same page or section.
"""

from __future__ import annotations

import re

REACH = 300  # characters a sentence may be completed by, at each end
WRAP_CHARS = 60  # a line this long that stops mid-sentence was wrapped by the page (crew.grounding.extractive)
PROBE = 20  # characters of a chunk's start looked for in the chunk before, to find their overlap
# Where a sentence ends: a stop (closing quotes and brackets may follow) before a space or a line break, or a
# paragraph break. A colon ends a lead-in to a list or a command, which reads whole on its own.
_END = re.compile(r"[.!?…:](?:[\"'»”’)\]]*)(?=\s)|\n[ \t]*\n")
_ENDED = re.compile(r"[.!?…:][\"'»”’)\]]*\s*$")
_GOES_ON = re.compile(r"[^\S\n]*[^\s]|\s*[a-záéíóúñü]")  # on the same line, or a lower-case word on the next
# Abbreviations a sentence goes on after, in the languages our people write ("p. ej. una memoria USB", "e.g. the").
ABBREVIATION = re.compile(r"(?:^|[\s(])(?:p|ej|e\.g|i\.e|vs|cf|etc|aprox|approx|p[áa]gs?|n[úu]m|fig|cap|sec|vol|ed)\.$",
                          re.I)


def _ends(text: str) -> list[re.Match]:
    """Where sentences end in a text (not at an abbreviation's stop)."""
    return [m for m in _END.finditer(text) if not ABBREVIATION.search(text[:m.end()].rstrip())]


def _ended(text: str) -> bool:
    """Whether a text stops at the end of a sentence."""
    return bool(_ENDED.search(text)) and not ABBREVIATION.search(text.rstrip())


def _overlap(first: str, second: str) -> int:
    """How many characters the end of `first` and the start of `second` share (the splitter's overlap); 0 if none."""
    probe = second.split("\n", 1)[0][:PROBE]  # the splitter cuts at line breaks, or at spaces in a long line
    at = first.rfind(probe) if probe.strip() else -1
    while at >= 0:
        if second.startswith(first[at:]):
            return len(first) - at
        at = first.rfind(probe, 0, at)
    return 0


def lead_in(before: str, text: str) -> str:
    """The start of the sentence `text` begins inside of, from the chunk before it ("" when `text` begins a sentence,
    or its sentence starts more than REACH characters back)."""
    if not text[:1].islower():  # a sentence, heading, table cell or command begins here
        return ""
    shared = _overlap(before, text)
    head = before[:len(before) - shared] if shared else before + "\n"
    if _ended(head) or not head.strip() or head.rstrip(" \t").endswith("\n\n"):
        return ""
    window = head[-REACH:]
    ends = _ends(window)
    if not ends and len(head) > REACH:
        return ""  # the sentence starts too far back
    start = len(head) - len(window) + ends[-1].end() if ends else 0
    # Back from the cut, line by line: the lines a sentence was wrapped on are full, and a short one before them is a
    # heading, a caption or a table cell ("8.4. La orden mc"), where the sentence cannot have begun.
    lead, at = len(head), start
    lines = []
    for line in head[start:].split("\n"):
        lines.append((at, at + len(line)))
        at += len(line) + 1
    for line_start, line_end in reversed([(a, b) for a, b in lines if b > a]):
        if line_end - (head.rfind("\n", 0, line_start) + 1) < WRAP_CHARS:
            break
        lead = line_start
    return head[lead:].lstrip()


def run_on(text: str, after: str) -> str:
    """The rest of the sentence `text` stops inside of, from the chunk after it ("" when `text` ends a sentence, or
    its sentence ends more than REACH characters on)."""
    if _ended(text) or not text.strip():
        return ""
    shared = _overlap(text, after)
    rest = after[shared:] if shared else "\n" + after
    if not _GOES_ON.match(rest):  # what follows is a new sentence, heading, row or line of code
        return ""
    end = next(iter(_ends(rest[:REACH])), None)
    if end is None:
        return ""
    # The sentence's lines up to its end were wrapped, so full: a short one is a cell or heading it cannot run past.
    lines = rest[:end.end()].lstrip(" \t").removeprefix("\n").split("\n")
    if any(len(line) < WRAP_CHARS for line in lines[:-1]):
        return ""
    return rest[:end.end()].rstrip()


def whole(before: str | None, text: str, after: str | None) -> str:
    """`text` with the sentences it cuts at either end completed from its neighbours (None: no neighbour)."""
    return (lead_in(before, text) if before else "") + text + (run_on(text, after) if after else "")
