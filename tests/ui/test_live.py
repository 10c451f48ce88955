"""A live turn drains in the background: pages can rerun and reattach, and Stop ends it."""

from __future__ import annotations

import threading

import pytest

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.engine.live import LiveRegistry, LiveTurn


def test_a_live_turn_keeps_every_event_and_reports_its_end(make_crew):
    crew = make_crew(dict(coordinator=[Plan(subquestions=["q"])], writer=["An answer."],
                          critic=[Review(decision="approve")]))
    seen, done_with = [], []
    live = LiveTurn(crew.run_turn("w", "chat", "goal"), on_event=lambda lv, e: seen.append(e.kind),
                    on_done=lambda lv: done_with.append((lv.done, lv.events[-1].kind)))
    followed = []
    for event in live.start().follow(tick=0.05):
        if event is not None:
            followed.append(event.kind)
    assert live.done and done_with == [(False, "final")]  # saved before anyone sees it as done
    assert followed == seen == [e.kind for e in live.events]
    assert followed[0] == "turn_started" and followed[-1] == "final"
    assert live.events[-1].data["status"] == "done" and live.events[-1].text == "An answer."
    # A second reader (a rerun of the page) reads the same events from the start.
    assert [e.kind for e in live.follow() if e is not None] == followed


def test_stop_ends_a_turn_stuck_in_a_model_call(make_crew):
    release = threading.Event()

    def slow_plan(messages):
        release.wait(30)  # a model call that cannot be interrupted
        return Plan(subquestions=["q"])

    crew = make_crew(dict(coordinator=[slow_plan]))
    live = LiveTurn(crew.run_turn("w", "chat", "goal")).start()
    for event in live.follow(tick=0.05):
        if event is not None and event.kind == "step_started":
            live.cancel()
    release.set()
    kinds = [e.kind for e in live.events]
    assert kinds[-2:] == ["stopped", "final"]
    assert live.events[-1].data["status"] == "stopped" and live.stop_requested


def test_a_failing_turn_still_ends_with_a_final_event():
    class Broken:
        turn_id = "t"

        def __iter__(self):
            raise RuntimeError("disk on fire")

        def cancel(self):
            pass

    live = LiveTurn(Broken()).start()
    assert live.join(10)
    assert [e.kind for e in live.events] == ["error", "final"]
    assert live.events[-1].data["status"] == "error" and "disk on fire" in live.events[-1].text


def test_the_registry_finds_a_chats_turn_and_refuses_a_second_while_it_runs(make_crew):
    release = threading.Event()
    crew = make_crew(dict(coordinator=[lambda m: release.wait(30) and Plan(subquestions=["q"])],
                          writer=["a"], critic=[Review(decision="approve")]))
    registry = LiveRegistry()
    live = registry.start(("w", "chat"), LiveTurn(crew.run_turn("w", "chat", "goal")))
    assert registry.get(("w", "chat")) is live and registry.running() == [live]
    with pytest.raises(RuntimeError):
        registry.start(("w", "chat"), LiveTurn(crew.run_turn("w", "chat", "again")))
    registry.discard(("w", "chat"), live)
    assert registry.get(("w", "chat")) is live  # still running: kept
    release.set()
    assert live.join(30)
    registry.discard(("w", "chat"), live)
    assert registry.get(("w", "chat")) is None and registry.running() == []
