"""A wrong or unreachable CREW_DATABASE_URL: the CLI and the pages say so in one message naming the
setting, the password masked, instead of a traceback."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from crew.presentation.safe_text import escape_md
from tests.servers import APP, free_port, run_cli

pytestmark = pytest.mark.timeout(600)

PASSWORD = "hunter2-not-shown"


def _unreachable() -> str:
    return f"postgresql://crew:{PASSWORD}@127.0.0.1:{free_port()}/crew"  # nothing listens there


def _one_line_naming_the_setting(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("crew: ")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert "CREW_DATABASE_URL" in lines[0] and PASSWORD not in stderr, stderr
    assert re.search(r"postgresql://\w+:(\*\*\*|\[redacted\])@127\.0\.0\.1:\d+/crew", lines[0]), lines[0]
    return lines[0]


def test_crew_run_with_an_unreachable_database_exits_with_one_line():
    out = run_cli("run", "What is green tea?", "--model", "fake", env={"CREW_DATABASE_URL": _unreachable()})
    assert out.returncode == 1 and out.stdout == ""
    assert "cannot connect" in _one_line_naming_the_setting(out.stderr)


def test_crew_search_with_a_wrong_password_exits_with_one_line(postgres_server):
    wrong = postgres_server.url.replace(f":{postgres_server.password}@", f":{PASSWORD}@")
    out = run_cli("search", "tea", "--json", env={"CREW_DATABASE_URL": wrong})
    assert out.returncode == 1
    assert "password authentication failed" in _one_line_naming_the_setting(out.stderr)
    assert '"part": "database"' in out.stdout and PASSWORD not in out.stdout


def test_the_pages_show_one_message_for_an_unreachable_database(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake")
    monkeypatch.setenv("CREW_DATABASE_URL", _unreachable())
    at = AppTest.from_file(str(APP), default_timeout=120)
    try:
        for script in ("app.py", "pages/2_Documents.py"):
            at.switch_page(script).run()
            assert not at.exception, [e.message for e in at.exception]
            (message,) = [e.value for e in at.error]
            assert escape_md("CREW_DATABASE_URL") in message and PASSWORD not in message, message
            assert "Cannot connect to the database" in message
            assert not at.chat_input and not at.file_uploader
    finally:
        import streamlit as st

        st.cache_resource.clear()
