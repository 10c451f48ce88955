"""Turn a finished turn's fold into OpenTelemetry spans, named by the GenAI semantic conventions.

The tree is the trace store's (crew.engine.reducer.Span: turn -> agent step -> model or tool call),
with its span ids and real start and end times, so a span found in Jaeger or Langfuse is the row the
Traces page shows; a turn id that is 16 hex digits is the trace id, zero-padded.

By default only what describes the work leaves: operation, agent, model, provider, token counts,
timings, statuses and (redacted) errors. The goal, step labels, tool arguments, tool results and
the answer are the person's content: exported, redacted, only with `content=True`.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Mapping

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from crew.models.providers import gen_ai_provider, split_spec
from crew.redact import redact

if TYPE_CHECKING:
    from crew.engine.reducer import Span, TurnFold

SCOPE = InstrumentationScope("crew")
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)  # a batch processor exports sampled spans only
# gen_ai.operation.name of each kind of span in the trace store.
OPERATIONS = {"turn": "invoke_workflow", "step": "invoke_agent", "llm": "chat", "tool": "execute_tool"}
CONTENT_CHARS = 4000  # the most of one content attribute that is sent


def otel_id(crew_id: str, bits: int) -> int:
    """Our id as an OpenTelemetry id of `bits`: the same number when it is hex that fits, else a hash of it."""
    try:
        value = int(crew_id, 16) if len(crew_id) <= bits // 4 else 0
    except ValueError:
        value = 0
    if not value:
        value = int.from_bytes(hashlib.sha256(crew_id.encode()).digest()[: bits // 8], "big") or 1
    return value


def turn_spans(fold: "TurnFold", *, workspace: str, models: Mapping[str, str], resource: Resource,
               content: bool = False) -> list[ReadableSpan]:
    """Every span of a finished turn, parents before children; open spans end with the turn."""
    trace_id = otel_id(fold.turn_id, 128)
    steps = {s.span_id: s for s in fold.steps}
    ended = fold.ended or max((s.end or s.start for s in fold.spans.values()), default=fold.started)
    out = []
    for span in fold.spans.values():
        if span.kind == "turn":
            attrs = _turn_attrs(fold, workspace, content)
        elif span.kind == "step":
            step = steps.get(span.span_id)
            attrs = {"crew.step.kind": step.kind if step else "", "gen_ai.usage.input_tokens": span.tokens_in,
                     "gen_ai.usage.output_tokens": span.tokens_out}
            if content:
                attrs["crew.step.label"] = _text(span.name)
        elif span.kind == "llm":
            attrs = _model_attrs(span, models.get(span.agent) or fold.model)
        else:
            attrs = _tool_attrs(span, content)
        attrs = {"gen_ai.operation.name": OPERATIONS.get(span.kind, span.kind), "gen_ai.agent.name": span.agent,
                 "crew.span.kind": span.kind, "crew.status": span.status, **attrs}
        parent = (SpanContext(trace_id, otel_id(span.parent_id, 64), is_remote=False, trace_flags=_SAMPLED)
                  if span.parent_id else None)
        out.append(ReadableSpan(
            name=_name(span, attrs), kind=SpanKind.CLIENT if span.kind == "llm" else SpanKind.INTERNAL,
            context=SpanContext(trace_id, otel_id(span.span_id, 64), is_remote=False, trace_flags=_SAMPLED),
            parent=parent, resource=resource, instrumentation_scope=SCOPE,
            attributes={k: v for k, v in attrs.items() if v is not None and v != ""},
            status=Status(StatusCode.ERROR, redact(span.error)[:500] or None) if span.status == "error"
            else Status(StatusCode.UNSET),
            start_time=_ns(span.start), end_time=_ns(max(span.end or ended, span.start)),
        ))
    return out


def _name(span: "Span", attrs: dict[str, Any]) -> str:
    # "{operation} {what}", as the conventions name GenAI spans: "chat gpt-4o-mini", "execute_tool web_search"
    what = {"turn": "crew", "step": span.agent, "llm": attrs.get("gen_ai.request.model", ""),
            "tool": span.name}.get(span.kind, "")
    return f"{attrs['gen_ai.operation.name']} {what}".strip()


def _turn_attrs(fold: "TurnFold", workspace: str, content: bool) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.workflow.name": "crew", "gen_ai.conversation.id": fold.chat_id, "crew.turn.id": fold.turn_id,
        "crew.workspace": workspace, "crew.answer_kind": fold.answer_kind, "crew.limit_hit": fold.limit_hit,
        "gen_ai.usage.input_tokens": fold.tokens_in, "gen_ai.usage.output_tokens": fold.tokens_out,
    }
    if content:
        attrs["crew.goal"] = _text(fold.goal)
        attrs["crew.answer"] = _text(fold.answer)
    return attrs


def _model_attrs(span: "Span", spec: str) -> dict[str, Any]:
    provider, name, _ = split_spec(spec or "")
    return {
        "gen_ai.request.model": name or provider,  # "fake", "local": the spec names the model by its provider
        "gen_ai.response.model": span.attrs.get("model") or None,
        "gen_ai.provider.name": gen_ai_provider(spec or ""),
        "gen_ai.usage.input_tokens": span.tokens_in, "gen_ai.usage.output_tokens": span.tokens_out,
        "crew.call": span.name,  # which reply was asked for: a schema's name, "draft"
    }


def _tool_attrs(span: "Span", content: bool) -> dict[str, Any]:
    attrs: dict[str, Any] = {"gen_ai.tool.name": span.name, "gen_ai.tool.call.id": span.span_id,
                             "crew.tool.hits": int(span.attrs.get("hits") or 0)}
    if content:
        attrs["gen_ai.tool.call.arguments"] = _text(json.dumps(span.attrs.get("args", {}), ensure_ascii=False))
        attrs["gen_ai.tool.call.result"] = _text(str(span.attrs.get("result", "")))
    return attrs


def _text(text: str) -> str:
    return redact(text[:CONTENT_CHARS])


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)
