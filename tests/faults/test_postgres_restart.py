"""Postgres restarted while a turn runs (issue 13), on a real server of its own (initdb/pg_ctl in a temp dir).

Two cases, each decided on what a person should see:

- The server restarts during a slow model call and is back before the turn writes again: the pools
  replace their dead connections as they hand them out, so the turn legitimately completes, its
  answer, chat row, trace and checkpoint all stored.
- The server is down when the turn must write its checkpoint: the turn ends with one error naming
  the database, the chat never shows that turn as done with a partial answer, and once the server is
  back the next turn in the same chat works on the same Crew (nothing recreated).
"""

from __future__ import annotations

import pytest

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.engine.service import Crew
from crew.settings import ROLES, Settings
from tests.doubles import ScriptedChatModel
from tests.postgres import PostgresServer

pytestmark = pytest.mark.timeout(600)

DRAFT = "Green tea contains catechins such as EGCG [1]."


@pytest.fixture
def own_postgres():
    """A server this module alone restarts and stops (the session's shared one stays untouched)."""
    with PostgresServer() as server:
        yield server


def _crew(tmp_path, url, embedder, writer) -> Crew:
    settings = Settings(data_dir=tmp_path / "data", model="fake", web_search=False, database_url=url,
                        retry_wait_s=0.01, grounded=False)
    models = {r: ScriptedChatModel(responses=[]) for r in ROLES}
    models["writer"] = writer
    crew = Crew.from_settings(settings, models=models, embedder=embedder)
    assert crew.ingest("w", "tea.md", b"# Tea\n\nGreen tea contains catechins such as EGCG.\n").status == "ok"
    return crew, models


def _script(models, *drafts) -> None:
    """One turn's replies for every role but the writer (whose replies the test scripts itself)."""
    for _ in drafts:
        models["coordinator"].enqueue(Plan(subquestions=["catechins"]))
        models["critic"].enqueue(Review(decision="approve"))


def test_a_restart_during_a_slow_model_call_is_covered_and_the_turn_completes(tmp_path, own_postgres, embedder):
    def slow_reply_across_a_restart(messages):
        own_postgres.restart()  # every connection the crew holds is cut while the writer "thinks"
        return DRAFT

    writer = ScriptedChatModel(responses=[slow_reply_across_a_restart, DRAFT])
    crew, models = _crew(tmp_path, own_postgres.url, embedder, writer)
    _script(models, 1, 2)
    first = crew.run_turn("w", None, "What is in green tea?")
    result = first.run()
    assert [e.text for e in first.events if e.kind == "error"] == []
    assert result.status == "done" and "catechins" in result.answer and result.citations
    (stored,) = crew.chats.turns("w", result.chat_id)
    assert (stored.status, stored.answer) == ("done", result.answer)
    assert crew.traces.export("w", result.turn_id)["turn"]["status"] == "done"
    config = {"configurable": {"thread_id": result.turn_id, "checkpoint_ns": ""}}
    assert crew.checkpointer.get_tuple(config).checkpoint["channel_values"].get("answer") == result.answer
    second = crew.run_turn("w", result.chat_id, "And in black tea?").run()
    assert second.status == "done" and [t.status for t in crew.chats.turns("w", result.chat_id)] == ["done", "done"]


def test_the_server_down_when_the_turn_writes_ends_it_with_an_error_and_the_next_turn_works(tmp_path, own_postgres,
                                                                                          embedder):
    def reply_then_database_gone(messages):
        own_postgres.stop_server()  # down from the writer's call until the test starts it again
        return DRAFT

    writer = ScriptedChatModel(responses=[reply_then_database_gone, DRAFT])
    crew, models = _crew(tmp_path, own_postgres.url, embedder, writer)
    _script(models, 1, 2)
    turn = crew.run_turn("w", None, "What is in green tea?")
    assert turn.join(300)
    errors = [e for e in turn.events if e.kind == "error"]
    result = turn.result
    assert result.status == "error" and errors, [e.text for e in turn.events]
    assert any("database" in e.text.lower() for e in errors), [e.text for e in errors]
    assert "CREW_DATABASE_URL" in result.error and own_postgres.password not in result.error
    own_postgres.start_server()
    # Its end could not be stored while the server was down: the history shows it running, never done.
    (stored,) = crew.chats.turns("w", result.chat_id)
    assert (stored.status, stored.answer) == ("running", "")
    assert crew.traces.export("w", result.turn_id)["turn"]["status"] != "done"
    second = crew.run_turn("w", result.chat_id, "What is in green tea?").run()
    assert second.status == "done" and "catechins" in second.answer
    # Before the next turn started, the crew stored how the first one ended: an error, as the person saw it.
    first, last = crew.chats.turns("w", result.chat_id)
    assert (first.turn_id, first.status) == (result.turn_id, "error") and first.answer != ""
    assert (last.status, last.answer) == ("done", second.answer)
