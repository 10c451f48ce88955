"""API keys never show up in events, traces, exports, checkpoints, logs or the CLI's output.

The provider endpoints are loopback servers that *echo the key back* in their error bodies (as a
hostile or sloppy server might), so an unredacted error text would carry the key everywhere the
error goes. Each test first checks that the key really was sent, so a pass means "redacted",
not "never in play".
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import pytest

from crew.redact import MASK, redact, remember_secret
from crew.engine.service import Crew
from crew.settings import Settings
from tests.servers import run_cli

OPENAI_KEY = "sk-test-" + secrets.token_hex(20)
ANTHROPIC_KEY = "sk-ant-test-" + secrets.token_hex(20)
KEYS = (OPENAI_KEY, ANTHROPIC_KEY)


def echo(status: int, content_type: str = "application/json"):
    """Answer every call with `status`, quoting the credentials the client sent."""

    def route(handler, body):
        sent = handler.headers.get("Authorization", "") + " " + handler.headers.get("x-api-key", "")
        if content_type == "application/json":
            payload = json.dumps({"error": {"message": f"Incorrect API key provided: {sent.strip()}",
                                            "type": "invalid_request_error", "code": "invalid_api_key"}}).encode()
        else:
            payload = f"<html>upstream garbage for {sent.strip()} \x00\x01".encode()
        return status, {"Content-Type": content_type}, payload

    return route


@pytest.fixture
def provider(server_factory, monkeypatch):
    server = server_factory()
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base)
    return server


def leaks(text: str) -> list[str]:
    return [k[:12] + "..." for k in KEYS if k in text or k[3:] in text]


def stored_bytes(data_dir: Path) -> str:
    """Every SQLite file of the data dir (main files and WAL), as text."""
    out = []
    for path in sorted(data_dir.glob("*.sqlite*")):
        out.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(out)


def every_log_line(caplog) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records)


@pytest.mark.parametrize("model,path,behaviour,echoed", [
    ("openai:gpt-test", "/v1/chat/completions", echo(401), True),
    ("openai:gpt-test", "/v1/chat/completions", echo(500), True),  # transient: retried, then given up
    ("openai:gpt-test", "/v1/chat/completions", echo(200, "text/html"), False),  # garbage that is not JSON
    ("anthropic:claude-test", "/v1/messages", echo(401), True),
    ("anthropic:claude-test", "/v1/messages", echo(529), True),  # overloaded
])
def test_failed_provider_turns_leak_no_key(provider, tmp_path, embedder, caplog, model, path, behaviour, echoed):
    caplog.set_level(logging.DEBUG)
    provider.routes[path] = behaviour
    settings = Settings(data_dir=tmp_path / "data", model=model, openai_base_url=f"{provider.base}/v1",
                        web_search=False, retry_wait_s=0.01)
    crew = Crew.from_settings(settings, embedder=embedder)
    crew.ingest("w", "notes.md", b"Green tea contains catechins.")

    turns = []
    for goal in ("What is in green tea?", "And in black tea?"):
        turn = crew.run_turn("w", "t", goal)
        events = list(turn)
        turns.append((turn, events))
        assert turn.result.status == "error"
        error = next(e for e in events if e.kind == "error")
        assert error.data["part"] == "model" and "coordinator failed" in error.text

    # The key was really sent, and really echoed back into at least one error.
    assert provider.hits and any(k in json.dumps(h.headers) for h in provider.hits for k in KEYS)
    surfaces = {
        "events": json.dumps([e.to_dict() for _, events in turns for e in events], default=str),
        "results": json.dumps([t.result.to_json() for t, _ in turns], default=str),
        "exports": json.dumps([crew.traces.export("w", t.turn_id) for t, _ in turns], default=str),
        "trace and checkpoint files": stored_bytes(settings.data_dir),
        "logs": every_log_line(caplog),
    }
    for name, text in surfaces.items():
        assert leaks(text) == [], f"a key leaked into the {name}"
    if echoed:  # the provider's error quoted the key: the error text must carry the mask instead
        assert all(MASK in next(e for e in events if e.kind == "error").text for _, events in turns)


def test_the_cli_prints_no_key(provider):
    provider.routes["/v1/chat/completions"] = echo(401)
    env = {"OPENAI_BASE_URL": f"{provider.base}/v1", "CREW_RETRY_WAIT_S": "0.01"}
    for args in (["run", "What is in green tea?", "--model", "openai:gpt-test", "--json"],
                 ["run", "What is in green tea?", "--model", "openai:gpt-test"]):
        done = run_cli(*args, env=env)
        assert "401" in done.stdout + done.stderr or "failed" in done.stdout + done.stderr, done.stderr[-2000:]
        assert leaks(done.stdout) == [] and leaks(done.stderr) == []
    assert any(OPENAI_KEY in json.dumps(h.headers) for h in provider.hits)


def test_redact_masks_registered_environment_and_key_shaped_secrets(monkeypatch):
    remember_secret("registered-secret-value-123")
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "env-token-value-4567")
    text = ("error: registered-secret-value-123 / env-token-value-4567 / sk-proj-abcdefghijklmnop1234 / "
            "Authorization: Bearer abc.def.ghi-jkl / {'x-api-key': 'anthropic-like-key-999'} / api_key=zzzzzzzzzz")
    cleaned = redact(text)
    for secret in ("registered-secret-value-123", "env-token-value-4567", "sk-proj-abcdefghijklmnop1234",
                   "abc.def.ghi-jkl", "anthropic-like-key-999", "zzzzzzzzzz"):
        assert secret not in cleaned
    assert cleaned.startswith("error: ")


@pytest.mark.parametrize("text", [
    "The task-force met; a risk-free, desk-based plan.",
    "Green tea has 30 mg of caffeine per cup [1].",
    "tokens_in=120 tokens_out=40",
    "https://example.com/search?q=green+tea",
])
def test_redact_leaves_ordinary_text_alone(text):
    assert redact(text) == text


def test_log_records_are_masked_whichever_handler_writes_them(caplog):
    remember_secret(OPENAI_KEY)
    caplog.set_level(logging.INFO)
    logging.getLogger("some.library").info("sending headers %s", {"Authorization": f"Bearer {OPENAI_KEY}"})
    assert leaks(every_log_line(caplog)) == []
    assert MASK in caplog.records[-1].getMessage()


def test_a_key_variable_swapped_for_another_is_still_masked(monkeypatch):
    """Same number of variables before and after: the new key must be found all the same."""
    from crew.redact import redact

    monkeypatch.setenv("FIRST_SERVICE_API_KEY", "first-key-value-1234")
    assert redact("x first-key-value-1234 y") == "x [redacted] y"
    monkeypatch.delenv("FIRST_SERVICE_API_KEY")
    monkeypatch.setenv("SECOND_SERVICE_API_KEY", "second-key-value-5678")
    assert redact("x second-key-value-5678 y") == "x [redacted] y"
