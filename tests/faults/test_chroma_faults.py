"""A Chroma server that is down when a turn starts, and one restarted while the turn is retrying.

The server is a real `chroma run` on a loopback port; tests stop and restart it on the same data
directory. The fake model plays every role, so each turn searches memory and cites what it found.
"""

from __future__ import annotations

import pytest

from crew.models.fake import FakeCrewModel
from crew.settings import ROLES

pytestmark = pytest.mark.timeout(300)

DOC = b"# Green tea\n\nGreen tea contains catechins such as EGCG, and about 30 mg of caffeine per cup."


@pytest.fixture
def served_crew(make_crew, chroma_server):
    fake = FakeCrewModel()
    crew = make_crew({r: fake for r in ROLES}, chroma_host="127.0.0.1", chroma_port=chroma_server.port,
                     retry_attempts=3, retry_wait_s=0.01)
    stored = crew.ingest("w", "tea.md", DOC)
    assert stored.status == "ok"
    return crew, stored


def answered_from_memory(result) -> bool:
    return result.status == "done" and [c["source"] for c in result.citations] == ["tea.md"]


def test_chroma_down_at_the_start_of_a_turn(served_crew, chroma_server):
    crew, stored = served_crew
    first = crew.run_turn("w", "t", "What is in green tea?").run()
    assert answered_from_memory(first)
    before = crew.traces.export("w", first.turn_id)

    chroma_server.stop()
    turn = crew.run_turn("w", "t", "How much caffeine is in green tea?")
    events = list(turn)
    (error,) = [e for e in events if e.kind == "error"]
    assert error.data["part"] == "memory" and error.agent == "researcher"
    assert "memory failed after 3 attempts" in error.text and "ConnectError" in error.text
    assert events[-1].kind == "final" and turn.result.status == "error"
    # The failed search closed its span with the error, in the trace as in the events.
    failed = [s for s in crew.traces.spans("w", turn.turn_id) if s["kind"] == "tool"]
    assert [(s["name"], s["status"]) for s in failed] == [("search_memory", "error")]

    chroma_server.start()
    assert crew.memory.workspace("w").count() == stored.chunks  # nothing stored was lost
    assert crew.traces.export("w", first.turn_id) == before
    after = crew.run_turn("w", "t", "How much caffeine is in green tea?").run()
    assert answered_from_memory(after)


def test_chroma_restarted_while_the_turn_retries(served_crew, chroma_server, on_retry):
    crew, stored = served_crew
    chroma_server.stop()
    # The first search fails; as the crew announces its retry, the server comes back.
    restarted = on_retry(lambda record: chroma_server.start())
    turn = crew.run_turn("w", "t", "What is in green tea?")
    events = list(turn)
    assert restarted.fired == 1 and chroma_server.proc.poll() is None
    assert [e for e in events if e.kind == "error"] == []
    assert answered_from_memory(turn.result)
    assert crew.memory.workspace("w").count() == stored.chunks
