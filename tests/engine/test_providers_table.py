"""One providers table: names, hints, key rows and the key fingerprint all come from it."""

from __future__ import annotations

import uuid

import pytest

from crew.models.providers import (
    HINTS, PROVIDER_TABLE, PROVIDERS, SECRET_FIELDS, ModelSpecError, access_fields, build_model, key_fingerprint,
)
from crew.redact import redact
from crew.settings import Settings


def test_the_names_hints_and_key_rows_come_from_the_table():
    assert PROVIDERS == ("local", "openai", "anthropic", "ollama", "fake")
    assert set(HINTS) == set(PROVIDERS) and all(HINTS.values())
    rows = [(a.label, a.env, a.field, a.secret) for a in access_fields()]
    assert rows == [
        ("OpenAI key", "OPENAI_API_KEY", "openai_api_key", True),
        ("OpenAI-compatible base URL", "OPENAI_BASE_URL", "openai_base_url", False),
        ("Anthropic key", "ANTHROPIC_API_KEY", "anthropic_api_key", True),
        ("Ollama URL", "OLLAMA_HOST", "ollama_base_url", False),
    ]
    assert SECRET_FIELDS == tuple(a.field for a in access_fields() if a.secret)


def test_an_unknown_provider_is_refused_naming_the_table():
    with pytest.raises(ModelSpecError) as exc:
        build_model("nope:x", Settings(model="fake"))
    assert str(exc.value) == f"unknown model provider 'nope' in 'nope:x': use one of {', '.join(PROVIDERS)}"
    assert all(p.name in str(exc.value) for p in PROVIDER_TABLE)


def test_the_key_fingerprint_changes_with_every_key_and_hides_them():
    base = Settings(openai_api_key="sk-one-aaaaaaaaaaaa", anthropic_api_key="sk-ant-two-bbbbbbbb")
    prints = {key_fingerprint(base)}
    for field in SECRET_FIELDS:
        prints.add(key_fingerprint(base.model_copy(update={field: None})))
    assert len(prints) == 1 + len(SECRET_FIELDS)  # each key alone moves it
    assert "aaaa" not in key_fingerprint(base) and len(key_fingerprint(base)) == 16
    assert key_fingerprint(base) == key_fingerprint(Settings(openai_api_key="sk-one-aaaaaaaaaaaa",
                                                              anthropic_api_key="sk-ant-two-bbbbbbbb"))


def test_building_any_model_remembers_every_key_for_masking():
    tag = uuid.uuid4().hex  # unique, and not key-shaped: only remembering it can mask it
    keys = {field: f"{field}-{tag}" for field in SECRET_FIELDS}
    text = " ".join(keys.values())
    assert redact(text) == text
    build_model("fake", Settings(**keys))  # a provider that reads no key still masks them all from now on
    assert not any(k in redact(text) for k in keys.values())
