"""Many sessions of one app share crew.sqlite (the chat store and the trace store): none of their
turns may fail with "database is locked".

This is how the chat page drives it: each session's turn is traced by the crew while the page
stores the turn in the chat history on every finished step. Before every SQL store read its
rows under its lock and wrote read-then-write sequences in one IMMEDIATE transaction, a
connection left holding a half-read snapshot failed its next write at once (SQLITE_BUSY_SNAPSHOT),
and about one turn in six ended as "TraceStoreError ... database is locked".
"""

from __future__ import annotations

import threading

from crew.storage.chats import ChatStore
from crew.storage.files import DataFiles
from crew.models.fake import FakeCrewModel
from crew.settings import ROLES

THREADS = 5
TURNS_EACH = 20


def test_concurrent_turns_and_chat_saves_never_lock(make_crew, tmp_path):
    fake = FakeCrewModel()
    crew = make_crew({r: fake for r in ROLES})
    crew.ingest("w", "tea.md", b"Green tea contains catechins such as EGCG.")
    store = ChatStore(DataFiles(tmp_path / "data").chats)  # the very file the trace store writes
    failures: list[str] = []
    finished: list[str] = []
    lock = threading.Lock()

    def session(n: int) -> None:
        chat = store.create("w", f"session {n}")
        for i in range(TURNS_EACH):
            turn = crew.run_turn("w", chat.chat_id, f"What is in green tea? ({n}.{i})")
            store.start_turn("w", chat.chat_id, turn.turn_id, turn.goal)
            events = []
            try:
                for event in turn:
                    events.append(event)
                    if event.kind == "step_finished":
                        store.save_turn("w", chat.chat_id, turn.turn_id, events=events, status="running")
                store.save_turn("w", chat.chat_id, turn.turn_id, events=events, status=turn.result.status,
                                answer=turn.result.answer, citations=turn.result.citations)
            except Exception as exc:  # a chat store failure is a failure of this test too
                with lock:
                    failures.append(f"{turn.turn_id}: {exc!r}")
                continue
            with lock:
                if turn.result.status != "done" or turn.result.error:
                    failures.append(f"{turn.turn_id}: {turn.result.status} {turn.result.error}")
                finished.append(turn.turn_id)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert len(finished) == THREADS * TURNS_EACH
    # Every trace was closed (none left 'running' forever) and every chat turn stored as done.
    statuses = {t["status"] for t in crew.traces.turns("w", limit=1000)}
    assert statuses == {"done"}
    stored = [r for c in store.list("w") for r in store.turns("w", c.chat_id)]
    assert len(stored) == THREADS * TURNS_EACH and {r.status for r in stored} == {"done"}
