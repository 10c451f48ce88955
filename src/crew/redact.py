"""Scrub secrets (API keys, bearer tokens) from text before it is shown, logged or stored.

Errors from provider clients can quote what they sent or what a server echoed back, so every
error text, trace write and log record passes through `redact` on its way out. Two nets: the
exact values of keys this process knows (registered by the code that hands them to a client,
plus any environment variable named like a key), and patterns that catch key-shaped strings
nobody registered.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading

MASK = "[redacted]"
_MIN_SECRET = 8  # shorter values are too likely to occur in ordinary text
_SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD)$", re.I)
# The password in a URL's user part: postgresql://user:PASSWORD@host/db.
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?!\[redacted\]@)[^\s@/]+(?=@)")
_PATTERNS = (
    # OpenAI / Anthropic style keys: sk-..., sk-proj-..., sk-ant-api03-...
    re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{12,}"),
    # Authorization headers and key=value / "key": "value" pairs as clients print them.
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=\-]{8,}"),
    re.compile(r"(?i)(\b(?:x-api-key|api[_-]?key|authorization|access[_-]?token|secret[_-]?key)[\"']?\s*[:=]\s*[\"']?)"
               r"(?!\[redacted\])[^\s\"',}]{6,}"),
    _URL_PASSWORD,
)

_known: set[str] = set()
_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Register a secret this process holds, so its exact value is masked wherever it turns up."""
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _known.add(value)
        install_log_redaction()


@functools.lru_cache(maxsize=4096)
def _is_secret_name(name: str | bytes) -> bool:
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return bool(_SECRET_NAME.search(name))


def _env_secrets() -> list[str]:
    # redact runs on every trace write: decoding every variable each time was a tenth of a turn's
    # own time. Names are walked undecoded (environb) and tested once each; only the values of
    # key-like names are read, every time, so a key set (or swapped) later is still seen.
    names = list(getattr(os, "environb", os.environ))
    return [v for v in (os.environ.get(k.decode("utf-8", "replace") if isinstance(k, bytes) else k)
                        for k in names if _is_secret_name(k)) if v and len(v) >= _MIN_SECRET]


def _secrets() -> list[str]:
    env = _env_secrets()
    with _lock:
        known = list(_known)
    # Longest first, so a key is masked whole even if a shorter secret is a part of it.
    return sorted(set(known + env), key=len, reverse=True)


def redact(text: str) -> str:
    """Return the text with every known secret and key-shaped string masked."""
    if not text:
        return text
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


def url_for_display(url: str) -> str:
    """A connection URL as it may be shown or logged: postgresql://u:secret@host/db -> postgresql://u:***@host/db."""
    return _URL_PASSWORD.sub(lambda m: m.group(1) + "***", url)


class RedactingFilter(logging.Filter):
    """Mask secrets in a log record's final message (attach it to handlers, which see every record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_factory_installed = False


def install_log_redaction() -> None:
    """Mask secrets in every log record this process creates, whichever handler writes it.

    A filter on one handler misses handlers added later (a test's log capture, a UI's console),
    so the record factory itself is wrapped; it is idempotent.
    """
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        _factory_installed = True
    previous = logging.getLogRecordFactory()
    scrub = RedactingFilter()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        scrub.filter(record)
        return record

    logging.setLogRecordFactory(factory)
