"""Stop and the turn's clock while the researcher waits on a real MCP server's call (stdio and loopback
HTTP): the worker stops waiting, the server is told to cancel the call, the call shows as stopped,
nothing of it is kept, and the same connection serves the next call."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

import crew.engine.turn as turn_module
from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.engine.tools.mcp import McpHub
from crew.settings import McpServer
from tests.doubles import ScriptedChatModel
from tests.tools.conftest import stdio_server
from tests.tools.test_mcp_turns import LABEL, QUESTION, act, tool_results

SLEEP = 60  # how long the slow tool would take: far longer than any of these turns may
TIMEOUT = 8  # the turn's clock in the deadline test: time enough to reach the call on a loaded machine


def _read(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def until(condition, what: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {within:g} s for {what}")
        time.sleep(0.05)


@pytest.fixture(params=["stdio", "http"])
def logged_directory(request, tmp_path):
    """The directory server, and the file where it notes each `slow` call's start and end."""
    if request.param == "stdio":
        calls = tmp_path / "calls.log"
        return stdio_server("directory_server.py", "stdio", env={"DIRECTORY_LOG": str(calls)}), calls
    return request.getfixturevalue("directory_http_process")


def slow_turn_models(seconds: float) -> dict:
    return {"coordinator": [Plan(subquestions=[QUESTION])],
            "researcher": ScriptedChatModel(responses=[act("directory.slow", f"{SLEEP}")])}


def test_stop_abandons_an_mcp_call_in_flight_and_the_connection_serves_the_next(mcp_crew, logged_directory,
                                                                                  monkeypatch):
    server, calls = logged_directory
    # Only the worker itself can end the turn before the tool answers: the watchdog would settle
    # a stuck turn only after the tool's whole sleep.
    monkeypatch.setattr(turn_module, "GRACE_S", 2 * SLEEP)
    crew = mcp_crew(slow_turn_models(SLEEP), {"directory": server}, mcp_timeout_s=3 * SLEEP)
    turn = crew.run_turn("w", None, QUESTION)
    until(lambda: f"started {SLEEP}" in _read(calls), "the server to start the slow call")
    assert not turn.ended
    turn.cancel()
    assert turn.join(SLEEP / 2), "the turn waited for the tool's reply"
    events = list(turn)
    result = turn.result

    assert result.status == "stopped" and result.limit_hit == "stopped"
    [slow] = tool_results(events, "directory.slow")
    assert slow.data == {"tool": "directory.slow", "ok": False, "hits": 0, "status": "stopped"}
    assert slow.text == "stopped by the user: the call was abandoned and its reply is not used"
    # The worker came back on its own: the call's result, then the step's end, then the turn's.
    kinds = [(e.kind, e.agent) for e in events]
    finished = kinds.index(("step_finished", "researcher"))
    assert events.index(slow) < finished < kinds.index(("stopped", "crew")) < kinds.index(("final", "crew"))
    assert events[finished].data["error"] == "stopped: stopped by the user"
    [step] = [s for s in turn.fold.steps if s.agent == "researcher"]
    assert step.status == "stopped" and [t.status for t in step.tools] == ["ok", "stopped"]
    spans = crew.traces.spans("w", result.turn_id)
    assert [s["status"] for s in spans if s["name"] == "directory.slow"] == ["stopped"], spans
    # Nothing of the call is cited or remembered.
    assert result.citations == [] and result.answer == "Stopped before a draft was written."
    hits = crew.memory.workspace("w").search_documents("finally", k=5, with_findings=True)
    assert not [h for h in hits if h.source.startswith("directory.slow")]
    # The server was told, and stopped the tool rather than finishing it.
    until(lambda: f"cancelled {SLEEP}" in _read(calls), "the server to cancel the slow call")
    assert f"finished {SLEEP}" not in _read(calls)

    # The same hub's connection serves the next turn's call.
    crew.models["coordinator"].enqueue(Plan(subquestions=[QUESTION]))
    crew.models["researcher"].enqueue(act("directory.lookup_employee", "Ada Lovelace"), act("done"))
    crew.models["writer"].enqueue("Ada Lovelace works in room 42 [1].")
    crew.models["critic"].enqueue(Review(decision="approve"))
    turn = crew.run_turn("w", None, QUESTION)
    events = list(turn)
    assert [r.data["ok"] for r in tool_results(events, "directory.lookup_employee")] == [True]
    assert turn.result.status == "done" and turn.result.citations[0]["source"] == LABEL


def test_the_turns_clock_abandons_an_mcp_call_in_flight(mcp_crew, tmp_path, monkeypatch):
    calls = tmp_path / "calls.log"
    server = stdio_server("directory_server.py", "stdio", env={"DIRECTORY_LOG": str(calls)})
    monkeypatch.setattr(turn_module, "DEADLINE_SLACK_S", 2 * SLEEP)  # as above: no watchdog to end it early
    crew = mcp_crew(slow_turn_models(SLEEP), {"directory": server}, mcp_timeout_s=3 * SLEEP, timeout_s=TIMEOUT)
    # Connected beforehand, so starting the server does not eat the turn's few seconds.
    crew.mcp.tools("directory", server, timeout=60, max_bytes=crew.settings.mcp_max_bytes)
    turn = crew.run_turn("w", None, QUESTION)
    assert turn.join(SLEEP / 2), "the turn waited for the tool's reply"
    events = list(turn)

    assert turn.result.status == "limit" and turn.result.limit_hit == "timeout"
    [slow] = tool_results(events, "directory.slow")
    assert slow.data["status"] == "limit"
    assert slow.text == f"turn ran past {TIMEOUT} s: the call was abandoned and its reply is not used"
    until(lambda: f"cancelled {SLEEP}" in _read(calls), "the server to cancel the slow call")
    assert turn.result.citations == []


class Pressed(Exception):
    """What the test's check raises once its Stop is pressed."""


def test_stop_ends_the_wait_for_a_server_that_never_finishes_connecting():
    # A command that starts and never speaks MCP: listing its tools would wait the whole timeout.
    mute = McpServer(transport="stdio", command=sys.executable, args=("-c", "import time; time.sleep(60)"))
    pressed = threading.Event()

    def check() -> None:
        if pressed.is_set():
            raise Pressed

    hub = McpHub()
    timer = threading.Timer(0.5, pressed.set)
    timer.start()
    try:
        with pytest.raises(Pressed):
            hub.status({"mute": mute}, timeout=SLEEP, max_bytes=1_000_000, check=check)
    finally:
        timer.cancel()
        hub.close()
