"""Untrusted text on a Markdown page: shown literally, or as Markdown that cannot act on its own.

Streamlit renders almost every string it is given as Markdown: banners, captions, progress
labels, toasts, button, expander, popover and status labels. Text from outside our code (file
names, model output, provider errors, tool results, chat titles, goals, workspace names,
citations) must never become a link, an image the browser fetches, a formula or a directive
there. The pages hand Streamlit only string literals or an `Md`, made here in one of three ways:

- `plain(text)`: the text shown literally (every Markdown character escaped);
- `md(template, *args)`: a template written in our code (a literal; a static test checks it)
  with each argument shown literally, unless it is an `Md` already;
- `rich(text)`: untrusted Markdown (model output, a goal) keeping its emphasis, lists and code
  but with no link, image, autolink, raw HTML or math.

`tests/ui/test_safe_rendering.py` scans app.py and pages/ and fails on any other value passed to
a Streamlit call that renders Markdown.
"""

from __future__ import annotations

import re
from numbers import Number
from typing import Iterable
from urllib.parse import urlparse

# A word joiner (U+2060) is invisible and keeps a word whole, but it stands between "https"
# and "://", "www" and ".", a name and "@": GitHub-flavoured Markdown then sees no bare URL or
# e-mail address to turn into a link. Escaping cannot do this (an escaped ':' is still ':'
# when the autolink pass reads the text).
_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(?=://)|(?<=www)(?=\.)|(?=@)")
# Shown literally: everything that starts a link, an image, HTML, math, emphasis, code, a
# heading or a table, the backslash itself (so the text cannot undo an escape), and a ':' that
# would start one of Streamlit's directives (" :red" would vanish from the text).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$!#]|(?<![A-Za-z0-9]):(?=[A-Za-z]))")
# In Markdown kept as Markdown: a ']' that would close a link, image, reference or footnote
# definition ("](", "][", "]:"), '![', '<' (HTML and <autolinks>), '$' (math), and the
# backslash. A lone "[1]" stays as it is.
_ACTIVE = re.compile(r"(\\|<|\$|!(?=\[)|\](?=[(\[:]))")


class Md(str):
    """Markdown that is safe to hand to Streamlit: built by `plain`, `md` or `rich` only.

    Anything that is not an `Md` is shown literally by `md`; joining with an `Md` separator
    shows each part literally unless it is an `Md` itself.
    """

    __slots__ = ()

    def join(self, parts: Iterable[object]) -> "Md":  # type: ignore[override]
        return Md(str.join(self, (_piece(p) for p in parts)))


def _defuse_autolinks(text: str) -> str:
    return _AUTOLINK.sub(_JOINER, text)


def escape_md(text: object) -> str:
    """Show text literally inside Markdown, on one line (file names, errors, labels)."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", _defuse_autolinks(flat))


def safe_markdown(text: str) -> str:
    """Keep untrusted Markdown's emphasis, lists and code; make what acts on its own inert.

    No link, image, autolink or bare URL becomes live, no HTML tag, no formula. The visible
    text stays the same ("[1]", "$5" and "https://..." read as written). Never spans whitespace,
    so `SafeStream` can apply it word by word.
    """
    return _ACTIVE.sub(r"\\\1", _defuse_autolinks(text))


class SafeStream:
    """`safe_markdown` for text that arrives in pieces: the last, unfinished word is held until
    the next piece shows how it goes on. Joining the pieces gives `safe_markdown(whole)`."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        cut = max(text.rfind(c) for c in " \n\t") + 1
        text, self._held = text[:cut], text[cut:]
        return safe_markdown(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return safe_markdown(text)


def _piece(value: object) -> str:
    if isinstance(value, Md):
        return value
    if isinstance(value, Number) and not isinstance(value, bool):
        return value  # type: ignore[return-value]  # digits, so format specs like {:,} still apply
    return escape_md(value)


def plain(text: object) -> Md:
    """The text shown literally, on one line (an `Md` stays as it is: it is safe already)."""
    return text if isinstance(text, Md) else Md(escape_md(text))


def rich(text: str) -> Md:
    """Untrusted Markdown with its formatting kept and nothing live (see `safe_markdown`)."""
    return Md(safe_markdown(text))


def md(template: str, *args: object, **kwargs: object) -> Md:
    """Fill a trusted Markdown template (a literal in our code) with arguments shown literally."""
    return Md(template.format(*(_piece(a) for a in args), **{k: _piece(v) for k, v in kwargs.items()}))


def safe_url(url: str) -> str:
    """Return the URL if it is plain http(s), else "" (never a javascript: or data: link)."""
    try:
        parts = urlparse(url or "")
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.netloc else ""
