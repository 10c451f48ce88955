"""The chat store: chats and turns per workspace, and nothing across workspaces."""

from __future__ import annotations

import pytest

from crew.storage.chats import ChatNotFound, title_from
from crew.engine.events import Event


@pytest.fixture
def store(backend):
    """A chat store on each backend (tests/conftest.py `backend`: SQLite, then Postgres)."""
    return backend.chats()


def test_titles_are_one_short_line():
    assert title_from("  What is\n green   tea? ") == "What is green tea?"
    assert len(title_from("x" * 300)) == 80 and title_from("x" * 300).endswith("…")
    assert title_from("") == "New chat"


def test_chats_list_newest_first_and_survive_a_new_store(store, backend):
    a = store.create("w1", "First")
    b = store.create("w1", "Second")
    store.start_turn("w1", a.chat_id, "t1", "goal")  # activity moves a chat up
    assert [c.title for c in store.list("w1")] == ["First", "Second"]
    again = backend.chats()
    assert [c.chat_id for c in again.list("w1")] == [a.chat_id, b.chat_id]


def test_one_workspace_cannot_see_or_change_anothers_chats(store):
    mine = store.create("alice", "Mine")
    store.start_turn("alice", mine.chat_id, "t1", "secret goal")
    assert store.list("bob") == [] and store.get("bob", mine.chat_id) is None
    assert store.turns("bob", mine.chat_id) == [] and store.turn("bob", "t1") is None
    with pytest.raises(ChatNotFound):
        store.rename("bob", mine.chat_id, "hijacked")
    with pytest.raises(ChatNotFound):
        store.delete("bob", mine.chat_id)
    with pytest.raises(ChatNotFound):
        store.start_turn("bob", mine.chat_id, "t2", "x")
    with pytest.raises(ChatNotFound):
        store.save_turn("bob", mine.chat_id, "t1", events=[], status="done")
    assert store.get("alice", mine.chat_id).title == "Mine"
    assert store.turns("alice", mine.chat_id)[0].goal == "secret goal"


def test_a_turn_keeps_its_events_without_the_token_stream(store):
    chat = store.create("w", "c")
    store.start_turn("w", chat.chat_id, "t1", "goal")
    assert store.turns("w", chat.chat_id)[0].status == "running"
    events = [Event(kind="turn_started", turn_id="t1", text="goal"),
              Event(kind="token", turn_id="t1", text="Ans"),
              Event(kind="draft", turn_id="t1", text="Answer [1]", data={"citations": [{"n": 1, "source": "a.md"}]}),
              Event(kind="final", turn_id="t1", text="Answer [1]", data={"status": "done"})]
    store.save_turn("w", chat.chat_id, "t1", events=events, status="done", answer="Answer [1]",
                    citations=[{"n": 1, "source": "a.md"}], ended=5.0)
    turn = store.turns("w", chat.chat_id)[0]
    assert [e.kind for e in turn.event_objects()] == ["turn_started", "draft", "final"]
    assert turn.event_objects()[1] == events[2]
    assert (turn.status, turn.answer, turn.citations, turn.ended) == ("done", "Answer [1]", [{"n": 1, "source": "a.md"}], 5.0)


def test_uploads_rename_review_and_delete(store):
    chat = store.create("w", "c")
    store.add_upload("w", chat.chat_id, ["a.md", "b.bin"], [{"file": "a.md", "status": "ok", "chunks": 2},
                                                           {"file": "b.bin", "status": "error", "error": "not text"}])
    up = store.turns("w", chat.chat_id)[0]
    assert (up.kind, up.goal, up.status) == ("upload", "a.md, b.bin", "error")
    assert up.extra["files"][1]["error"] == "not text"
    store.rename("w", chat.chat_id, "  New   name ")
    store.set_review_plan("w", chat.chat_id, True)
    assert store.get("w", chat.chat_id).title == "New name" and store.get("w", chat.chat_id).review_plan
    store.start_turn("w", chat.chat_id, "t9", "g")
    assert sorted(store.delete("w", chat.chat_id)) == sorted([up.turn_id, "t9"])
    assert store.list("w") == [] and store.turns("w", chat.chat_id) == []
    assert store.workspaces() == []
