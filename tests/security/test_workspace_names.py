"""A workspace name is matched whole: "a\\n" (which `$` let through, making a second workspace that
shows as "a") is refused wherever a name comes in: the command line, the pages, the service."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from crew.retrieval.memory import WorkspaceError, check_workspace
from tests.servers import APP, run_cli

TRAILING = ["a\n", "a\r\n", "default\n", "a\nb", "\na"]


@pytest.mark.parametrize("name", TRAILING)
def test_check_workspace_refuses_a_name_with_a_line_break(name):
    with pytest.raises(WorkspaceError, match="bad workspace name"):
        check_workspace(name)
    assert check_workspace(name.strip().split("\n")[0] or "a") in ("a", "default")


@pytest.mark.parametrize("args", [
    ("search", "tea"), ("traces",), ("run", "What is in tea?", "--model", "fake"),
])
def test_the_command_line_refuses_it_as_bad_input(args):
    out = run_cli(*args, "--workspace", "a\n", "--json")
    assert out.returncode == 2 and "Traceback" not in out.stderr and out.stdout == ""
    assert out.stderr.startswith("crew: bad workspace name 'a\\n'")


def test_the_command_line_refuses_it_for_ingest(tmp_path):
    doc = tmp_path / "tea.md"
    doc.write_text("# Tea\n\nGreen tea.\n")
    out = run_cli("ingest", str(doc), "--workspace", "a\n")
    assert out.returncode == 2 and out.stderr.startswith("crew: bad workspace name 'a\\n'")


def test_the_service_refuses_it(make_crew):
    crew = make_crew()
    calls = [
        lambda: crew.run_turn("a\n", "t", "What is in tea?"),
        lambda: crew.ingest("a\n", "tea.md", b"# Tea\n\nGreen tea.\n"),
        lambda: crew.documents("a\n"),
        lambda: crew.search_documents("a\n", "tea"),
        lambda: crew.forget_thread("a\n", "t", []),
    ]
    for call in calls:
        with pytest.raises(WorkspaceError):
            call()
    assert crew.documents("a") == []  # "a" itself is fine, and untouched


def test_the_pages_refuse_it_from_the_address_and_the_new_workspace_box(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake")
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["ws"] = "a\n"
    at.run()
    assert not at.exception
    picker = at.sidebar.selectbox(key="_ws_picker")
    assert picker.value == "default" and "a\n" not in picker.options
    at.sidebar.text_input(key="_ws_new").set_value("b\nc").run()
    assert any("bad workspace name" in e.value for e in at.sidebar.error)
    assert "b\nc" not in at.sidebar.selectbox(key="_ws_picker").options
    for script in ("pages/2_Documents.py", "pages/3_Traces.py"):
        at.query_params["ws"] = "a\n"
        at.switch_page(script).run()
        assert not at.exception and at.session_state["workspace"] == "default"
