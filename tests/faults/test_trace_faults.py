"""The trace store's disk fills up: one error event names the trace store, the person still gets
the answer, traces already stored stay intact, and the next turn (with room again) is traced.

The first test fills the disk for real as far as SQLite can tell (`PRAGMA max_page_count` makes
it answer SQLITE_FULL, "database or disk is full"); the second fails the n-th write midway
through a turn.
"""

from __future__ import annotations

import sqlite3

import pytest

from crew.models.fake import FakeCrewModel
from crew.settings import ROLES

DOC = b"Green tea contains catechins such as EGCG."


@pytest.fixture
def crew(make_crew):
    fake = FakeCrewModel()
    crew = make_crew({r: fake for r in ROLES})
    crew.ingest("w", "tea.md", DOC)
    return crew


def trace_errors(events):
    return [e for e in events if e.kind == "error" and e.data.get("part") == "trace store"]


def fill_the_disk(conn: sqlite3.Connection) -> None:
    """Cap the file at its current size, then use up its free pages, so the next write fails."""
    conn.execute("CREATE TABLE IF NOT EXISTS ballast (x BLOB)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(sqlite3.OperationalError, match="full"):
        for _ in range(100_000):
            conn.execute("INSERT INTO ballast VALUES (zeroblob(512))")


def make_room(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA max_page_count = 1073741823")
    conn.execute("DROP TABLE ballast")


def test_a_full_disk_when_writing_the_trace(crew):
    first = crew.run_turn("w", "t", "What is in green tea?").run()
    assert first.status == "done"
    before = crew.traces.export("w", first.turn_id)
    conn = crew.traces._conn

    fill_the_disk(conn)
    # A long goal needs fresh pages for its trace row, which the full file cannot give.
    turn = crew.run_turn("w", "t", "What is in green tea? " + "Please be thorough and cite everything. " * 150)
    events = list(turn)
    (error,) = trace_errors(events)  # reported once, not once per event
    # Named as an operator fault: the part, where it is, and what to do (crew.faults).
    data_dir = crew.settings.data_dir.resolve()
    assert error.text.startswith(f"the trace store failed: the disk holding the data dir {data_dir} is full")
    assert "free some space" in error.text and "trace is incomplete" in error.text
    assert events[-1].kind == "final"
    assert turn.result.answer.startswith("According to the sources") and turn.result.citations
    assert turn.result.status == "error" and "is full" in turn.result.error

    make_room(conn)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert crew.traces.export("w", first.turn_id) == before
    again = crew.run_turn("w", "t", "What is in green tea?")
    again_events = list(again)
    assert trace_errors(again_events) == [] and again.result.status == "done"
    exported = crew.traces.export("w", again.turn_id)
    assert exported["turn"]["status"] == "done"
    assert {s["agent"] for s in exported["spans"]} >= {"coordinator", "researcher", "writer", "critic"}


class FailingAfter:
    """A connection that answers SQLITE_FULL from its n-th write on."""

    def __init__(self, conn: sqlite3.Connection, writes_left: int) -> None:
        self._conn, self.writes_left = conn, writes_left

    def execute(self, sql, args=()):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            if self.writes_left <= 0:
                raise sqlite3.OperationalError("database or disk is full")
            self.writes_left -= 1
        return self._conn.execute(sql, args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


@pytest.mark.parametrize("writes_left", [0, 3, 9])
def test_the_disk_fills_midway_through_a_turn(crew, writes_left):
    real = crew.traces._conn
    crew.traces._conn = FailingAfter(real, writes_left)
    try:
        turn = crew.run_turn("w", "t", "What is in green tea?")
        events = list(turn)
    finally:
        crew.traces._conn = real
    (error,) = trace_errors(events)
    assert events[-1].kind == "final" and turn.result.citations
    # What was written before the failure is still there and readable.
    spans = crew.traces.spans("w", turn.turn_id)
    assert len(spans) <= writes_left
    assert crew.run_turn("w", "t", "What is in green tea?").run().status == "done"
