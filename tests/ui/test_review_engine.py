"""The engine parts the UI adds: plan review (interrupt + checkpoint + resume), prices, forgetting a chat."""

from __future__ import annotations

import pytest

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.retrieval.memory import Chunk
from crew.engine.service import Crew, EmptyGoal, NotPaused
from crew.storage.traces import price_table


@pytest.fixture
def crew_with(make_crew):
    """make_crew, with one passage about green tea stored in workspace "w"."""

    def make(models=None, **overrides) -> Crew:
        crew = make_crew(models, **overrides)
        crew.memory.workspace("w").add("documents", [Chunk(text="Green tea is steamed.", source="tea.md", doc_id="d", position=0)])
        return crew

    return make


def steps(events):
    return [(e.agent, e.data["step"]) for e in events if e.kind == "step_started"]


def test_a_reviewed_plan_pauses_then_resumes_from_the_checkpoint_with_the_edits(crew_with):
    crew = crew_with(dict(coordinator=[Plan(subquestions=["original"])], writer=["Steamed [1]."],
                          critic=[Review(decision="approve")]))
    turn = crew.run_turn("w", "chat", "How is green tea made?", review_plan=True)
    first = list(turn)
    assert steps(first) == [("coordinator", "plan")]
    assert [e.kind for e in first[-2:]] == ["review", "final"]
    assert first[-2].data["subquestions"] == ["original"]
    assert turn.result.status == "awaiting_review" and first[-1].data["status"] == "awaiting_review"
    assert crew.traces.turns("w")[0]["status"] == "awaiting_review"

    resumed = crew.resume_turn("w", "chat", turn.turn_id, turn.goal, ["  how is it steamed ", "", "who grows it"])
    assert resumed.turn_id == turn.turn_id
    rest = list(resumed)
    assert steps(rest) == [("person", "review"), ("researcher", "research"), ("researcher", "research"),
                           ("writer", "draft"), ("critic", "critique")]
    assert next(e for e in rest if e.kind == "plan").data == {"subquestions": ["how is it steamed", "who grows it"],
                                                               "edited": True}
    assert sorted(e.text for e in rest if e.kind == "step_started" and e.agent == "researcher") == [
        "Q1: how is it steamed", "Q2: who grows it"]
    assert resumed.result.status == "done" and resumed.result.answer == "Steamed [1]."
    assert len(crew.models["coordinator"].calls) == 1  # the plan was not made again
    trace = crew.traces.turns("w")
    assert len(trace) == 1 and trace[0]["status"] == "done"  # one trace for the whole turn


def test_without_review_the_turn_runs_straight_through(crew_with):
    crew = crew_with(dict(coordinator=[Plan(subquestions=["q"])], writer=["a"], critic=[Review(decision="approve")]))
    turn = crew.run_turn("w", "chat", "goal")
    events = list(turn)
    assert steps(events) == [("coordinator", "plan"), ("researcher", "research"), ("writer", "draft"), ("critic", "critique")]
    assert "review" not in [e.kind for e in events]
    with pytest.raises(NotPaused):
        crew.resume_turn("w", "chat", turn.turn_id, "goal", ["q"])


def test_resuming_with_an_empty_plan_is_refused(crew_with):
    crew = crew_with(dict(coordinator=[Plan(subquestions=["q"])]))
    turn = crew.run_turn("w", "chat", "goal", review_plan=True)
    turn.run()
    with pytest.raises(EmptyGoal):
        crew.resume_turn("w", "chat", turn.turn_id, "goal", ["  ", ""])


def test_prices_match_the_longest_model_prefix():
    price = price_table({"gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6)})
    assert price("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)
    assert price("gpt-4o-2024-08-06", 0, 1_000_000) == pytest.approx(10.0)
    assert price("", 10**6, 10**6) == 0.0 and price("smollm2", 10**6, 10**6) == 0.0


def test_priced_model_calls_add_up_in_the_trace(crew_with):
    from langchain_core.messages import AIMessage

    reply = AIMessage(content="Steamed [1].", response_metadata={"model_name": "scripted-pro-1"},
                      usage_metadata={"input_tokens": 1000, "output_tokens": 500, "total_tokens": 1500})
    crew = crew_with(dict(coordinator=[Plan(subquestions=["q"])], writer=[reply], critic=[Review(decision="approve")]),
                     prices={"scripted-pro": (1.0, 2.0)})
    crew.run_turn("w", "chat", "goal").run()
    turn = crew.traces.turns("w")[0]
    assert turn["cost"] == pytest.approx(0.002)  # 1000 * 1 + 500 * 2 per million; other calls unpriced
    writer_llm = [s for s in crew.traces.spans("w", turn["turn_id"]) if s["kind"] == "llm" and s["agent"] == "writer"]
    assert writer_llm[0]["cost"] == pytest.approx(0.002)


def test_forgetting_a_chat_deletes_its_traces_and_checkpoints_only(crew_with):
    crew = crew_with(dict(coordinator=[Plan(subquestions=["q"])] * 2, writer=["a", "b"],
                          critic=[Review(decision="approve")] * 2))
    gone = crew.run_turn("w", "chat-1", "goal 1")
    gone.run()
    kept = crew.run_turn("w", "chat-2", "goal 2")
    kept.run()
    config = {"configurable": {"thread_id": gone.turn_id}}
    assert crew.checkpointer.get_tuple(config) is not None
    crew.forget_thread("w", "chat-1", [gone.turn_id])
    assert [t["thread_id"] for t in crew.traces.turns("w")] == ["chat-2"]
    assert crew.traces.spans("w", gone.turn_id) == []
    assert crew.checkpointer.get_tuple(config) is None
    assert crew.checkpointer.get_tuple({"configurable": {"thread_id": kept.turn_id}}) is not None
