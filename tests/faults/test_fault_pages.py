"""The pages under operator faults, in Streamlit's AppTest: a Chroma server that is down when the app
starts, and a read-only data dir. Each page shows one message naming the part and what to do (no
traceback), and works on the next run once the fault is cleared, without restarting the app.
"""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from crew.presentation.safe_text import escape_md
from tests.servers import APP, ChromaServer, free_port, run_cli

pytestmark = pytest.mark.timeout(600)

CHAT, DOCUMENTS, TRACES = "app.py", "pages/2_Documents.py", "pages/3_Traces.py"


def page(at: AppTest, script: str) -> AppTest:
    at.switch_page(script).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def fault_message(at: AppTest) -> str:
    (error,) = [e.value for e in at.error]
    return error


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake")
    at = AppTest.from_file(str(APP), default_timeout=120)
    yield at
    import streamlit as st

    st.cache_resource.clear()  # the stores this test opened stay with it


def test_chroma_server_down_at_start_then_up_without_a_restart(app, monkeypatch, tmp_path):
    port = free_port()  # nothing listens here yet
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(port))
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    for script in (CHAT, DOCUMENTS):
        message = fault_message(page(app, script))
        assert f"Chroma server at 127.0.0.1:{port} does not answer" in message, message
        assert escape_md("point CHROMA_HOST/CHROMA_PORT at a running one") in message and "chroma run" in message
        assert not app.chat_input and not app.file_uploader  # nothing to use against a dead server

    server = ChromaServer(tmp_path / "chroma", port=port)
    server.start()
    try:
        docs = page(app, DOCUMENTS)  # the very next run works: the failed crew was not kept
        assert not docs.error and "No documents in this workspace yet" in docs.info[0].value
        docs.file_uploader[0].set_value([("tea.md", b"# Tea\n\nGreen tea holds 30 mg of caffeine.\n", "text/markdown")])
        docs.button[0].click().run()
        deadline = time.monotonic() + 60
        while docs.session_state["documents_uploads_running"] and time.monotonic() < deadline:
            time.sleep(0.2)
            docs.run()
        assert not docs.error and docs.success[0].value.startswith("tea.md: added")
        chat = page(app, CHAT)
        assert not chat.error and not chat.chat_input[0].disabled
    finally:
        server.stop()


def test_read_only_data_dir_then_writable_without_a_restart(app, monkeypatch, small_disk, tmp_path):
    data_dir = small_disk.path / "data"
    monkeypatch.setenv("CREW_DATA_DIR", str(data_dir))
    tea = tmp_path / "tea.md"
    tea.write_text("# Tea\n\nGreen tea holds 30 mg of caffeine.\n")
    assert run_cli("ingest", str(tea)).returncode == 0  # another process made the data dir
    assert run_cli("run", "What is in green tea?", "--model", "fake").returncode == 0
    small_disk.read_only()

    app.run()
    assert not app.exception, [e.message for e in app.exception]
    for script in (CHAT, DOCUMENTS, TRACES):
        message = fault_message(page(app, script))
        assert message.startswith(escape_md(f"The data dir {data_dir} is read-only")), message
        assert escape_md("point CREW_DATA_DIR at a writable folder") in message

    small_disk.writable()
    docs = page(app, DOCUMENTS)
    assert not docs.error and "tea.md" in [r["Name"] for r in docs.dataframe[0].value.to_dict("records")]
    traces = page(app, TRACES)
    assert not traces.error and "What is in green tea?" in traces.selectbox[1].format_func(traces.selectbox[1].value)
    chat = page(app, CHAT)
    assert not chat.error and not chat.chat_input[0].disabled
