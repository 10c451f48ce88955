"""Show that a secret is set without showing it."""

from __future__ import annotations


def mask_secret(value: str | None) -> str:
    """Show that a key is set and which one it is, never the key: 'sk-…a1b2'."""
    if not value:
        return "not set"
    if len(value) < 12:
        return "••••"
    return f"{value[:3]}…{value[-4:]}"
