"""Model calls that raise, time out, hang or answer garbage: transient failures are retried with
backoff, the rest end the turn with an error event naming the model, and the next turn works.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.settings import ROLES
from tests.doubles import ScriptedChatModel


class RateLimited(Exception):
    """What provider SDKs raise on HTTP 429: only the status code says it is worth a retry."""

    status_code = 429


def crew_with(make_crew, remember_text=True, **models_and_settings):
    roles = {k: models_and_settings.pop(k) for k in ROLES if k in models_and_settings}
    crew = make_crew(roles, **models_and_settings)
    if remember_text:
        crew.ingest("w", "tea.md", b"Green tea contains catechins such as EGCG.")
    return crew


def errors(events):
    return [e for e in events if e.kind == "error"]


def healthy(plan="q", draft="Green tea contains catechins [1]."):
    return {"coordinator": ScriptedChatModel(responses=[Plan(subquestions=[plan])]),
            "writer": ScriptedChatModel(responses=[draft]),
            "critic": ScriptedChatModel(responses=[Review(decision="approve")])}


def test_transient_failures_are_retried_and_the_turn_succeeds(make_crew):
    coordinator = ScriptedChatModel(responses=[TimeoutError("read timed out"), RateLimited("slow down"),
                                               Plan(subquestions=["catechins"])])
    writer = ScriptedChatModel(responses=[ConnectionResetError("peer reset"), "Green tea contains catechins [1]."])
    crew = crew_with(make_crew, **{**healthy(), "coordinator": coordinator, "writer": writer})
    turn = crew.run_turn("w", "t", "What is in green tea?")
    events = list(turn)
    assert errors(events) == []
    assert turn.result.status == "done" and turn.result.citations
    assert len(coordinator.calls) == 3 and len(writer.calls) == 2


def test_a_model_that_keeps_timing_out_ends_the_turn_naming_the_model(make_crew):
    writer = ScriptedChatModel(responses=[TimeoutError("read timed out")] * 3)
    crew = crew_with(make_crew, **{**healthy(), "writer": writer}, retry_attempts=3)
    turn = crew.run_turn("w", "t", "What is in green tea?")
    events = list(turn)
    (error,) = errors(events)
    assert error.agent == "writer" and error.data["part"] == "model"
    assert "model failed after 3 attempts" in error.text and "TimeoutError" in error.text
    assert len(writer.calls) == 3
    assert events[-1].kind == "final" and turn.result.status == "error"
    # Data stored before the failure is intact and the next turn works.
    assert crew.memory.workspace("w").count() == 1
    crew.models["coordinator"].enqueue(Plan(subquestions=["q"]))
    writer.enqueue("Green tea contains catechins [1].")
    crew.models["critic"].enqueue(Review(decision="approve"))
    again = crew.run_turn("w", "t", "What is in green tea?").run()
    assert again.status == "done" and again.citations


def test_a_permanent_error_is_not_retried(make_crew):
    coordinator = ScriptedChatModel(responses=[ValueError("400 bad request: unknown parameter"), Plan(subquestions=["q"])])
    crew = crew_with(make_crew, **{**healthy(), "coordinator": coordinator})
    turn = crew.run_turn("w", "t", "goal")
    events = list(turn)
    (error,) = errors(events)
    assert error.data["part"] == "model" and "ValueError" in error.text and "attempts" not in error.text
    assert len(coordinator.calls) == 1
    assert turn.result.status == "error"


def test_garbage_replies_fall_back_instead_of_failing(make_crew):
    coordinator = ScriptedChatModel(responses=["\x00\x01 garbage", '{"subquestions": "not a list"}'])
    critic = ScriptedChatModel(responses=["12345", "<html>oops</html>"])
    writer = ScriptedChatModel(responses=[""])  # an empty reply
    crew = crew_with(make_crew, coordinator=coordinator, writer=writer, critic=critic)
    turn = crew.run_turn("w", "t", "What is in green tea?")
    events = list(turn)
    assert errors(events) == []
    plan = next(e for e in events if e.kind == "plan")
    assert plan.data["subquestions"] == ["What is in green tea?"]
    verdict = next(e for e in events if e.kind == "verdict")
    assert verdict.data["decision"] == "approve" and "malformed" in verdict.data["notes"][0]
    assert turn.result.status == "done" and turn.result.answer and len(turn.result.notes) == 2


class BreaksMidStream(BaseChatModel):
    """Streams two tokens, then the connection drops."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "breaks-mid-stream"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        raise AssertionError("the writer streams")

    def _stream(self, messages, stop=None, run_manager=None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        self.calls += 1
        yield ChatGenerationChunk(message=AIMessageChunk(content="Green "))
        yield ChatGenerationChunk(message=AIMessageChunk(content="tea "))
        raise ConnectionResetError("connection dropped mid-stream")


def test_a_stream_that_breaks_after_tokens_were_shown_is_not_started_over(make_crew):
    writer = BreaksMidStream()
    crew = crew_with(make_crew, **{**healthy(), "writer": writer})
    turn = crew.run_turn("w", "t", "goal")
    events = list(turn)
    assert "".join(e.text for e in events if e.kind == "token") == "Green tea "  # shown once, not twice
    assert writer.calls == 1
    (error,) = errors(events)
    assert error.agent == "writer" and error.data["part"] == "model" and "ConnectionResetError" in error.text


def test_a_hung_model_is_cut_off_by_the_turn_timeout(make_crew):
    release = threading.Event()

    def hang(messages):
        release.wait(60)
        return Plan(subquestions=["too late"])

    crew = crew_with(make_crew, **{**healthy(), "coordinator": ScriptedChatModel(responses=[hang])}, timeout_s=1)
    try:
        turn = crew.run_turn("w", "t", "goal")
        events = list(turn)
    finally:
        release.set()
    assert events[-1].kind == "final"
    assert turn.result.limit_hit == "timeout" and turn.result.status == "limit"


def test_stop_cuts_a_retry_backoff_short(make_crew, on_retry):
    writer = ScriptedChatModel(responses=[TimeoutError("slow")] * 5)
    crew = crew_with(make_crew, **{**healthy(), "writer": writer}, retry_attempts=5, retry_wait_s=30)
    turn = crew.run_turn("w", "t", "goal")
    on_retry(lambda record: turn.cancel())
    events = list(turn)
    assert turn.result.status == "stopped"
    assert len(writer.calls) == 1  # no second try after Stop (it would come 30 s later)
    assert events[-1].kind == "final"


def test_the_usage_of_a_failed_call_is_not_charged_and_the_reservation_is_released(make_crew):
    coordinator = ScriptedChatModel(responses=[TimeoutError("x"), Plan(subquestions=["q"])])
    crew = crew_with(make_crew, **{**healthy(), "coordinator": coordinator})
    turn = crew.run_turn("w", "t", "goal")
    events = list(turn)
    budget = turn.budget
    assert budget._in_flight == 0 and budget._reserved == 0
    # Only the calls that answered are charged: the budget holds exactly the tokens of the llm_call
    # events, and the timed-out coordinator call has no such event.
    llm_calls = [e for e in events if e.kind == "llm_call"]
    assert len(coordinator.calls) == 2 and [e.agent for e in llm_calls].count("coordinator") == 1
    assert budget.tokens > 0
    assert budget.tokens == sum(e.tokens_in + e.tokens_out for e in llm_calls)
