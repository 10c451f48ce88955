"""One turn pipeline: one worker, one reducer, chat history kept by the engine, settings per turn."""

from __future__ import annotations

import json
import threading
import time

import pytest

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.engine.reducer import TurnFold
from crew.engine.service import TurnInProgress
from crew.presentation.turn_view import TurnView

APPROVE = Review(decision="approve")


def test_a_turn_keeps_every_event_and_every_reader_sees_the_same(make_crew):
    crew = make_crew(dict(coordinator=[Plan(subquestions=["q"])], writer=["An answer."], critic=[APPROVE]))
    turn = crew.run_turn("w", None, "goal")
    followed = [e.kind for e in turn.follow(tick=0.05) if e is not None]
    assert turn.done and followed == [e.kind for e in turn.events]
    assert followed[0] == "turn_started" and followed[-1] == "final"
    assert turn.events[-1].data["status"] == "done" and turn.events[-1].text == "An answer."
    # A second reader (a rerun of the page) reads the same events from the start; iterating gives them too.
    assert [e.kind for e in turn.follow() if e is not None] == followed == [e.kind for e in turn]


def test_the_cli_result_the_trace_and_the_page_view_agree(make_crew):
    crew = make_crew(dict(coordinator=[Plan(subquestions=["q"])], writer=["First.", "Second."],
                          critic=[Review(decision="revise", notes=["say more"]), APPROVE]))
    turn = crew.run_turn("w", None, "goal")
    result = turn.run()
    view = TurnView.fold(turn.events)
    trace = crew.traces.export("w", turn.turn_id)
    assert result.answer == view.answer == "Second." and result.status == view.status == trace["turn"]["status"]
    steps = [s for s in trace["spans"] if s["kind"] == "step"]
    assert [(s["agent"], s["status"]) for s in steps] == [(s.agent, s.status) for s in view.steps]
    assert [(d["agent"], d["kind"]) for d in result.steps] == [(s.agent, s.kind) for s in view.steps]
    llm = [s for s in trace["spans"] if s["kind"] == "llm"]
    assert trace["turn"]["tokens_in"] == sum(s["tokens_in"] for s in llm) == view.tokens_in


def test_a_turn_is_a_chat_in_the_history_wherever_it_started(make_crew):
    crew = make_crew(dict(coordinator=[Plan(subquestions=["q"])] * 2, writer=["One.", "Two."], critic=[APPROVE] * 2))
    first = crew.run_turn("w", None, "What is green tea?").run()
    (chat,) = crew.chats.list("w")
    assert chat.chat_id == first.chat_id and chat.title == "What is green tea?"
    second = crew.run_turn("w", chat.chat_id, "And black tea?").run()
    turns = crew.chats.turns("w", chat.chat_id)
    assert [t.goal for t in turns] == ["What is green tea?", "And black tea?"]
    assert [t.status for t in turns] == ["done", "done"] and turns[1].answer == second.answer == "Two."
    assert TurnFold.fold(turns[1].event_objects()).answer == "Two."  # the stored events replay the turn


def test_an_evaluation_turn_stays_out_of_the_history(make_crew):
    crew = make_crew(dict(coordinator=[Plan(subquestions=["q"])], writer=["One."], critic=[APPROVE]))
    result = crew.run_turn("w", "eval", "goal", save_chat=False).run()
    assert result.status == "done" and crew.chats.list("w") == []
    assert crew.traces.export("w", result.turn_id)["turn"]["status"] == "done"


def test_a_turn_brings_its_own_settings_to_the_one_compiled_graph(make_crew):
    crew = make_crew(dict(coordinator=[Plan(subquestions=["q"])] * 2, writer=["a", "b", "c"],
                          critic=[Review(decision="revise", notes=["more"]), Review(decision="revise", notes=["x"]), APPROVE]))
    graph = crew.graph
    strict = crew.run_turn("w", None, "goal", settings=crew.settings.model_copy(update={"max_revisions": 0})).run()
    assert strict.limit_hit == "max_revisions" and strict.answer == "a"  # no revision allowed
    relaxed = crew.run_turn("w", None, "goal").run()  # the crew's own settings: two revisions allowed
    assert relaxed.status == "done" and relaxed.answer == "c"
    assert crew.graph is graph  # compiled once


def test_stop_ends_a_turn_stuck_in_a_model_call(make_crew):
    release = threading.Event()

    def slow_plan(messages):
        release.wait(30)  # a model call that cannot be interrupted
        return Plan(subquestions=["q"])

    crew = make_crew(dict(coordinator=[slow_plan]))
    turn = crew.run_turn("w", None, "goal")
    for event in turn.follow(tick=0.05):
        if event is not None and event.kind == "step_started":
            turn.cancel()
    release.set()
    kinds = [e.kind for e in turn.events]
    assert kinds[-2:] == ["stopped", "final"]
    assert turn.events[-1].data["status"] == "stopped" and turn.stop_requested
    (stored,) = crew.chats.turns("w", turn.chat_id)
    assert stored.status == "stopped"  # saved as it ended, not left running


def test_one_turn_at_a_time_per_chat(make_crew):
    release = threading.Event()
    crew = make_crew(dict(coordinator=[lambda m: release.wait(30) and Plan(subquestions=["q"])],
                          writer=["a"], critic=[APPROVE]))
    turn = crew.run_turn("w", "chat", "goal")
    assert crew.live_turn("w", "chat") is turn and crew.running_turns() == [turn]
    with pytest.raises(TurnInProgress):
        crew.run_turn("w", "chat", "again")
    release.set()
    assert turn.join(30)
    assert crew.live_turn("w", "chat") is None and crew.running_turns() == []


def test_the_cli_run_lands_in_the_chat_history(tmp_path, capsys, monkeypatch):
    from crew.__main__ import main

    assert main(["run", "What is green tea?", "--model", "fake", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["chat_id"]
    assert main(["run", "And black tea?", "--model", "fake", "--json", "--chat", first["chat_id"]]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["chat_id"] == first["chat_id"]
    assert main(["run", "x", "--model", "fake", "--chat", "nope"]) == 2

    from crew.settings import Settings
    from crew.storage.chats import ChatStore

    store = ChatStore(Settings().data_dir / "crew.sqlite")
    (chat,) = store.list("default")
    assert [t.goal for t in store.turns("default", chat.chat_id)] == ["What is green tea?", "And black tea?"]


def test_the_watchdog_calls_in_time_order_and_skips_what_was_cancelled():
    from crew.engine.watchdog import Watchdog

    calls, done = [], threading.Event()
    dog = Watchdog()
    dog.after(0.15, lambda: (calls.append("late"), done.set()))
    dog.after(0.05, lambda: calls.append("early"))
    dog.after(0.10, lambda: calls.append("cancelled")).cancel()
    dog.after(0.01, lambda: 1 / 0)  # a failing call does not stop the others
    assert done.wait(5)
    assert calls == ["early", "late"]


def test_a_turn_uses_no_thread_of_its_own_besides_its_worker(make_crew):
    crew = make_crew(dict(coordinator=[Plan(subquestions=["q"])], writer=["An answer."], critic=[APPROVE]))
    crew.run_turn("w", None, "warm up").run()
    before = {t.name for t in threading.enumerate()}
    release = threading.Event()
    crew = make_crew(dict(coordinator=[lambda m: release.wait(30) and Plan(subquestions=["q"])],
                          writer=["a"], critic=[APPROVE]))
    turn = crew.run_turn("w", None, "goal")
    time.sleep(0.2)
    new = {t.name for t in threading.enumerate()} - before
    release.set()
    turn.run()
    assert f"turn-{turn.turn_id}" in new
    assert not [n for n in new if n.startswith(("Thread-", "live-"))], new  # no Timer, no drain thread


def test_a_long_step_keeps_the_turns_heartbeat_fresh(make_crew):
    release = threading.Event()
    crew = make_crew(dict(coordinator=[lambda m: release.wait(30) and Plan(subquestions=["q"])],
                          writer=["a"], critic=[APPROVE]), turn_stale_after_s=0.4)  # a beat every 0.1 s
    turn = crew.run_turn("w", None, "goal")

    def heartbeat() -> float:
        return crew.chats.row("SELECT heartbeat FROM chat_turns WHERE turn_id = ?", (turn.turn_id,))["heartbeat"]

    first = heartbeat()
    time.sleep(0.5)  # the coordinator's one model call is still running: no step has finished
    during = heartbeat()
    release.set()
    turn.run()
    assert during > first
