"""Plain text: find the encoding (UTF-8, UTF-16, Latin-1/Windows-1252) and refuse binary data."""

from __future__ import annotations

import codecs

from crew.documents.parsers.base import IngestError, ParseOptions, Parsed, Section, Tick, no_tick
from crew.documents.parsers.sniff import sniff

_SAMPLE = 65536


def _utf16_without_bom(data: bytes) -> str | None:
    """Spot UTF-16 without a byte-order mark: ASCII-range text puts a NUL in every other byte."""
    sample = data[:_SAMPLE]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd > 0.3 and nul_even < 0.05:
        return "utf-16-le"
    if nul_even > 0.3 and nul_odd < 0.05:
        return "utf-16-be"
    return None


def _decode(data: bytes) -> str:
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                raise IngestError(f"the file says it is {codec.upper()} text but holds invalid bytes") from None
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:_SAMPLE]:
        raise IngestError("this is not a text file (it holds binary data)")
    try:
        return data.decode("cp1252")  # Windows' Latin-1 superset: what old Spanish and French files use
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_text(data: bytes) -> str:
    """Decode text whatever its encoding; refuse bytes that are not text at all."""
    kind = sniff(data)
    if kind == "a PDF":
        raise IngestError("this is a PDF, not a text file: upload it with a .pdf name")
    if kind:
        raise IngestError(f"this is not a text file: it is {kind}")
    text = _decode(data)
    sample = text[:_SAMPLE]
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\n\r\t\f") or 0x7F <= ord(ch) < 0xA0 or ch == "\ufffd")
    if controls > 0.01 * len(sample) + 2:
        raise IngestError("this is not a text file (it holds binary data)")
    if not text.strip():
        raise IngestError("the file holds no text (only blank space)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_text(data: bytes, options: ParseOptions = ParseOptions(), tick: Tick = no_tick) -> Parsed:
    """One section per page when the text has form feeds (as `pdftotext` writes), else one."""
    text = decode_text(data)
    tick(0.5)
    if "\f" in text:
        pages = text.split("\f")
        if not pages[-1].strip():
            pages.pop()  # pdftotext ends the last page with a form feed too
        tick(1.0)
        return Parsed([Section(p, page=i) for i, p in enumerate(pages, 1) if p.strip()], pages=len(pages))
    tick(1.0)
    return Parsed([Section(text)])
