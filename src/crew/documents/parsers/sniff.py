"""Recognise what a file really is from its first bytes, so a renamed file gets an honest message."""

from __future__ import annotations

# Only signatures that cannot open a real text file (they hold control bytes), plus PDF's header.
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a zip archive (or an Office file)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc/.xls) or an encrypted Office file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"\x00\x00\x01\x00", "an icon image"),
    (b"OggS", "an Ogg audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"ID3", "an MP3 audio file"),
    (b"SQLite format 3\x00", "an SQLite database"),
]


def sniff(data: bytes) -> str | None:
    """Describe the file type its signature shows ("a PNG image"), or None when it shows none."""
    head = data[:64]
    for magic, label in _SIGNATURES:
        if head.startswith(magic):
            return label
    if head[4:8] == b"ftyp":
        return "a video or image file (MP4/HEIC)"
    if head.startswith(b"RIFF") and head[8:12] in (b"WAVE", b"AVI ", b"WEBP"):
        return "a media file (WAV/AVI/WebP)"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "a PDF"
    return None
