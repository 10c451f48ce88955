"""Markdown: split on headers so every chunk knows its heading path."""

from __future__ import annotations

from langchain_text_splitters import MarkdownHeaderTextSplitter

from crew.documents.parsers.base import ParseOptions, Parsed, Section, Tick, no_tick
from crew.documents.parsers.text import decode_text

_LEVELS = ("h1", "h2", "h3", "h4")


def parse_markdown(data: bytes, options: ParseOptions = ParseOptions(), tick: Tick = no_tick) -> Parsed:
    text = decode_text(data)
    tick(0.3)
    splitter = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")], strip_headers=False
    )
    sections = [
        Section(d.page_content, heading=" > ".join(d.metadata[h] for h in _LEVELS if h in d.metadata))
        for d in splitter.split_text(text)
        if d.page_content.strip()
    ]
    tick(1.0)
    return Parsed(sections)
