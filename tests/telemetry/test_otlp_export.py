"""Turns leave as OTLP traces to a real loopback collector: the Traces page's tree, GenAI attributes,
no secret, and a collector that is down, failing or hanging costs a warning, never the turn."""

from __future__ import annotations

import logging

import pytest

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.retrieval.memory import Chunk
from crew.telemetry.otlp import OtlpExporter
from tests.servers import free_port
from tests.telemetry.receiver import Receiver, attributes

KEY = "sk-test-PROVIDERKEY0123456789"
HEADER_TOKEN = "hdr-token-5f1e2d3c4b5a"
HEADER_KEY = "apikey-9a8b7c6d5e4f"
HEADERS = f"Authorization=Bearer {HEADER_TOKEN},api-key={HEADER_KEY}"
GOAL = f"How much caffeine is in green tea? (my key is {KEY})"


@pytest.fixture(autouse=True)
def quick_batches(monkeypatch):
    # The batch processor's own setting: send every 50 ms instead of every 5 s.
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


@pytest.fixture
def exporting_crew(make_crew):
    """`make(endpoint, **settings)`: a scripted crew (plan of two sub-questions, one quoting the provider key;
    one draft, approved)
    exporting to `endpoint`; its exporter is closed after the test."""
    made = []

    def make(endpoint: str, **settings):
        crew = make_crew(dict(coordinator=[Plan(subquestions=["caffeine", f"cups (key {KEY})"])] * 3,
                              writer=["A cup has about 30 mg [1]."] * 3, critic=[Review(decision="approve")] * 3),
                         model="openai:gpt-4o-mini", otlp_endpoint=endpoint, otlp_headers=HEADERS,
                         **{"otlp_timeout_s": 1.0, **settings})
        crew.memory.workspace("w").add("documents", [
            Chunk(text="A cup of green tea has about 30 mg of caffeine.", source="tea.md", doc_id="tea", position=0,
                  page=1)])
        made.append(crew)
        return crew

    yield make
    for crew in made:
        if crew.exporter is not None:
            crew.exporter.close(0.5)


def test_a_turn_arrives_as_one_trace_with_the_trace_pages_tree_and_genai_attributes(exporting_crew):
    with Receiver() as collector:
        crew = exporting_crew(collector.url)
        result = crew.run_turn("w", None, GOAL).run()
        assert result.status == "done"
        stored = crew.traces.export("w", result.turn_id)["spans"]
        spans = collector.wait_for_spans(len(stored))

    # The same tree as the trace store (and so the Traces page): same span ids, same parents, one trace.
    assert len(spans) == len(stored)
    assert {s.trace_id.hex() for s in spans} == {result.turn_id.zfill(32)}
    assert {s.span_id.hex(): s.parent_span_id.hex() for s in spans} == {
        row["span_id"]: row["parent_id"] or "" for row in stored}
    kinds = {row["span_id"]: row for row in stored}
    assert sorted(row["kind"] for row in stored).count("tool") >= 2  # a memory search per sub-question

    for span in spans:
        row, attrs = kinds[span.span_id.hex()], attributes(span)
        assert attrs["gen_ai.agent.name"] == row["agent"] and attrs["crew.span.kind"] == row["kind"]
        # real times: the store's, to the microsecond
        assert abs(span.start_time_unix_nano / 1e9 - row["start"]) < 1e-5
        assert abs(span.end_time_unix_nano / 1e9 - row["end"]) < 1e-5 and span.end_time_unix_nano >= span.start_time_unix_nano
        if row["kind"] == "turn":
            assert span.name == "invoke_workflow crew" and attrs["gen_ai.operation.name"] == "invoke_workflow"
            assert attrs["gen_ai.conversation.id"] == result.chat_id and attrs["crew.status"] == "done"
        elif row["kind"] == "step":
            assert span.name == f"invoke_agent {row['agent']}" and attrs["gen_ai.operation.name"] == "invoke_agent"
        elif row["kind"] == "llm":
            assert span.name == "chat gpt-4o-mini" and attrs["gen_ai.operation.name"] == "chat"
            assert attrs["gen_ai.request.model"] == "gpt-4o-mini" and attrs["gen_ai.provider.name"] == "openai"
            assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (
                row["tokens_in"], row["tokens_out"]) and row["tokens_in"] > 0
            assert span.kind == span.SPAN_KIND_CLIENT
        else:
            assert span.name == f"execute_tool {row['name']}" and attrs["gen_ai.operation.name"] == "execute_tool"
            assert attrs["gen_ai.tool.name"] == row["name"] == "search_memory"
    assert {s.name for s in spans} >= {"invoke_agent coordinator", "invoke_agent researcher", "invoke_agent writer",
                                       "invoke_agent critic"}
    assert {r["service.name"] for _, r in collector.spans} == {"crew"}

    # The headers reached the collector, at <endpoint>/v1/traces; no secret and no content left in the spans.
    (request, *_) = collector.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert request["path"] == "/v1/traces" and headers["content-type"] == "application/x-protobuf"
    assert headers["authorization"] == f"Bearer {HEADER_TOKEN}" and headers["api-key"] == HEADER_KEY
    body = b"".join(r["body"] for r in collector.requests)
    for secret in (KEY, HEADER_TOKEN, HEADER_KEY):
        assert secret.encode() not in body
    assert b"green tea" not in body and b"30 mg" not in body  # the goal and the answer stay home by default


def test_content_is_exported_only_when_asked_and_then_redacted(exporting_crew):
    with Receiver() as collector:
        crew = exporting_crew(collector.url, otlp_content=True)
        result = crew.run_turn("w", None, GOAL).run()
        stored = crew.traces.export("w", result.turn_id)["spans"]
        spans = collector.wait_for_spans(len(stored))
    turn = next(attributes(s) for s in spans if not s.parent_span_id)
    assert turn["crew.goal"] == "How much caffeine is in green tea? (my key is [redacted])"
    assert turn["crew.answer"] == "A cup has about 30 mg [1]."
    tools = [attributes(s) for s in spans if attributes(s)["gen_ai.operation.name"] == "execute_tool"]
    assert sorted(t["gen_ai.tool.call.arguments"] for t in tools) == [
        '{"query": "caffeine"}', '{"query": "cups (key [redacted])"}']
    assert all("tea.md, p. 1" in t["gen_ai.tool.call.result"] for t in tools)
    body = b"".join(r["body"] for r in collector.requests)
    assert KEY.encode() not in body and b"[redacted]" in body


def _warnings(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and text in r.getMessage()]


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.parametrize("down", ["nothing listening", "answers 500"])
def test_a_collector_that_is_down_costs_a_warning_not_the_turn(exporting_crew, caplog, down):
    caplog.set_level(logging.WARNING)
    with Receiver("fail") as failing:
        endpoint = f"http://127.0.0.1:{free_port()}" if down == "nothing listening" else failing.url
        crew = exporting_crew(endpoint)
        result = crew.run_turn("w", None, GOAL).run()
        assert result.status == "done" and result.answer == "A cup has about 30 mg [1]."
        assert crew.traces.export("w", result.turn_id)["turn"]["status"] == "done"  # the local store has it
        assert _wait_for(lambda: _warnings(caplog, "did not take")), "no warning about the dropped spans"
        if down == "answers 500":
            assert failing.requests and failing.spans == []
    (warning, *_) = _warnings(caplog, "did not take")
    assert endpoint in warning and "trace store has them" in warning
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert HEADER_TOKEN not in logged and HEADER_KEY not in logged and KEY not in logged


def test_a_hanging_collector_holds_neither_this_turn_nor_the_next(exporting_crew):
    with Receiver("hang") as hanging:
        # The exporter would wait minutes for this collector, which holds a request for 60 s.
        crew = exporting_crew(hanging.url, otlp_timeout_s=300)
        first = crew.run_turn("w", None, GOAL)
        assert first.join(30) and first.result.status == "done"
        assert hanging.wait_for_requests(1)  # the export is now stuck in the collector...
        second = crew.run_turn("w", None, GOAL)
        assert second.join(30) and second.result.status == "done"  # ...and the next turn does not wait for it
        assert len(hanging.requests) == 1 and hanging.spans == []
        hanging.release()


def test_the_queue_is_bounded_and_drops_with_a_warning(exporting_crew, caplog):
    caplog.set_level(logging.WARNING)
    with Receiver("hang") as hanging:
        crew = exporting_crew(hanging.url)
        crew.exporter.close(0.1)
        crew.exporter = OtlpExporter(hanging.url, {}, timeout_s=30, max_queue=5)
        first = crew.run_turn("w", None, GOAL).run()
        assert hanging.wait_for_requests(1)  # a first batch is out of the queue, stuck in the collector
        second = crew.run_turn("w", None, GOAL).run()
        assert second.status == "done"
        made = sum(len(crew.traces.export("w", t.turn_id)["spans"]) for t in (first, second))
        # the SDK says so (once per 20 s, not once per span)
        assert [r for r in caplog.records if "Queue full, dropping Span" in r.getMessage()]
        hanging.release()
        # Five spans in the stuck request, at most five more in the queue: the rest were dropped.
        received = hanging.wait_for_spans(made, timeout=5)
        assert 5 <= len(received) <= 10 < made
        crew.exporter.close(1.0)


def test_without_an_endpoint_no_exporter_is_built(make_crew):
    crew = make_crew()
    assert crew.exporter is None and crew.settings.otlp_endpoint is None
    assert OtlpExporter.from_settings(crew.settings) is None


def test_a_cli_turn_is_sent_before_the_process_exits():
    import json

    from tests.servers import run_cli

    with Receiver() as collector:
        # The batch processor would wait a minute: only the flush at exit can send the turn in time.
        out = run_cli("run", "How much caffeine is in green tea?", "--workspace", "w", "--model", "fake", "--json",
                      env={"CREW_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "60000"})
        assert out.returncode == 0, out.stderr
        trace_id = json.loads(out.stdout)["trace_id"]
        spans = [s for s, _ in collector.spans]  # read at once: the process has exited
    assert spans and {s.trace_id.hex() for s in spans} == {trace_id.zfill(32)}
    assert sum(1 for s in spans if not s.parent_span_id) == 1


def test_a_turn_paused_for_review_leaves_as_one_trace_when_it_ends(exporting_crew):
    with Receiver() as collector:
        crew = exporting_crew(collector.url)
        paused = crew.run_turn("w", "chat", GOAL, review_plan=True)
        assert paused.join(30) and paused.result.status == "awaiting_review"
        crew.exporter.flush(5)
        assert collector.spans == []  # not yet: the turn is not over
        resumed = crew.resume_turn("w", "chat", paused.turn_id, paused.goal, ["caffeine"]).run()
        assert resumed.status == "done"
        stored = crew.traces.export("w", paused.turn_id)["spans"]
        spans = collector.wait_for_spans(len(stored))
    assert sorted(s.span_id.hex() for s in spans) == sorted(row["span_id"] for row in stored)
    assert {s.name for s in spans} >= {"invoke_agent coordinator", "invoke_agent person", "invoke_agent writer"}
