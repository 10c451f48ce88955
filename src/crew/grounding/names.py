"""The names a question asks about, and which of them no passage of the evidence mentions.

A question about "WireGuard", "Amazon EC2" or "pyproject.toml" cannot be answered by passages that never
name it, however close they are in meaning: a VPN chapter is near a WireGuard question, and quoting it
answers another question. The relevance signals (crew.grounding.extractive.relevance) could not tell these
apart: on the tuning sets' 27 questions the documents do not answer (most of them about the documents' own
subject), the best passage's words and cosine overlapped the answerable questions', and thresholds that
refuse at most 5 % of answerable questions caught 6 of 27 (bench/RESULTS.md). A name of the question that
no passage mentions caught 25 of 27, and none of the 101 answerable questions.

A name is a word written as one: with an inner capital (WireGuard, PyTorch), letters and digits (EC2,
tag2upload), a dot, underscore or plus inside (crates.io, pyproject.toml), two hyphens or more
(do-release-upgrade), three capitals or more (EPEL, GPU), or a capital that does not open a sentence
(Fedora, Docker). A name is mentioned when the passages hold it, ignoring case and accents, or hold it
with spaces for its hyphens, or in the singular, or (a dotted name) its last part. Paths ("/dev/sda3") are
left out: a question often names one as an example.
"""

from __future__ import annotations

import re
from typing import Iterable

from crew.grounding.support import fold

_WORD = re.compile(r"[^\W_][\w.+\-/]*[^\W_]|[^\W_]")
_SENTENCE_END = re.compile(r"[.!?¿¡:;]\s*$")


def _is_name(word: str, opens_sentence: bool) -> bool:
    if len(word) < 2 or "/" in word:
        return False
    letters = sum(c.isalpha() for c in word)
    if any(a.islower() and b.isupper() for a, b in zip(word, word[1:])):
        return True  # WireGuard
    if letters and any(c.isdigit() for c in word) and "-" not in word:
        return True  # EC2, tag2upload (not "64-bit")
    if any(c in word for c in "._+") or word.count("-") >= 2:
        return True  # crates.io, do-release-upgrade
    if word.isupper():
        return letters >= 3  # EPEL, not "OK"
    return word[0].isupper() and not opens_sentence and word.count("-") <= 1


def names_in(question: str) -> list[str]:
    """The names a question uses, in order, each once."""
    out: dict[str, None] = {}
    end = None  # where the word before ended
    for match in _WORD.finditer(question):
        opens = end is None or bool(_SENTENCE_END.search(question[end : match.start()]))
        if _is_name(match.group(), opens):
            out.setdefault(match.group(), None)
        end = match.end()
    return list(out)


def _spellings(name: str) -> set[str]:
    """How passages may write a name: as asked, hyphens as spaces, in the singular ("NMUs": "NMU"), and a dotted
    name by its last part."""
    folded = fold(name)
    out = {folded, folded.replace("-", " ")}
    if len(folded) > 3 and folded.endswith("s"):
        out.add(folded[:-1])
    last = folded.rsplit(".", 1)[-1]
    if "." in folded and len(last) >= 3:
        out.add(last)  # "dict.get": the docs may write get() under dict
    return out


def unmentioned(question: str, passages: Iterable[str]) -> list[str]:
    """The question's names that none of the passages mentions."""
    text = fold(" ".join(passages))
    return [name for name in names_in(question) if not any(s in text for s in _spellings(name))]
