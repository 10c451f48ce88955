"""Fold a turn's events into what the turn is: its steps, its spans, how it ended, its answer.

This is the one reducer: the CLI's result, the trace writer and the page's view all read a
`TurnFold`, so what a person saw live, what the CLI printed and what the Traces page shows
afterwards cannot disagree. `apply` says what one event changed (steps to redraw, spans to write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable

from crew.engine.events import Event

FINISHED = ("done", "limit", "error", "stopped", "awaiting_review")


@dataclass
class ToolCall:
    span_id: str
    name: str
    args: dict[str, Any]
    result: str = ""
    ok: bool | None = None
    hits: int = 0
    ms: float = 0.0
    status: str = "running"  # running | ok | error | stopped | limit (abandoned at Stop or the turn's clock)


@dataclass
class Step:
    """One agent action: a plan, a sub-question's research, a draft, a verdict."""

    span_id: str
    agent: str
    kind: str
    label: str
    number: int = 0  # writer steps: draft 1, 2, ...
    status: str = "running"  # running | ok | error | limit | stopped
    error: str = ""
    ms: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    plan: list[str] = field(default_factory=list)
    plan_fallback: bool = False
    tools: list[ToolCall] = field(default_factory=list)
    passages: int | None = None
    sources: list[str] = field(default_factory=list)
    draft: str | None = None
    unsupported: list[str] = field(default_factory=list)  # draft sentences no source supports
    verdict: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Span:
    """One node of the trace tree (turn -> step -> model or tool call), as the trace store keeps it."""

    span_id: str
    turn_id: str
    parent_id: str | None
    kind: str  # turn | step | llm | tool
    agent: str
    name: str
    start: float
    end: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    status: str = "running"
    error: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Changes:
    """What one event changed: the steps to redraw and the spans to write."""

    steps: list[Step] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)


@dataclass
class TurnFold:
    """A turn folded from its events, in the order they happened."""

    step_type: ClassVar[type[Step]] = Step  # the page's view folds into its own Step subclass

    turn_id: str = ""
    goal: str = ""
    workspace: str = ""
    chat_id: str = ""
    model: str = ""
    steps: list[Step] = field(default_factory=list)
    alerts: list[tuple[str, str]] = field(default_factory=list)  # ("limit" | "error", text)
    answer: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    status: str = "running"  # running | done | limit | error | stopped | awaiting_review
    limit_hit: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    sentences: list[dict[str, Any]] = field(default_factory=list)  # the answer checked sentence by sentence
    answer_kind: str = ""  # written | extractive | not_found
    review: list[str] | None = None
    started: float = 0.0
    ended: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    streaming: str = ""  # the draft being written, token by token (live only)
    spans: dict[str, Span] = field(default_factory=dict, repr=False)
    _tools: dict[str, ToolCall] = field(default_factory=dict, repr=False)

    @classmethod
    def fold(cls, events: Iterable[Event]) -> "TurnFold":
        turn = cls()
        for e in events:
            turn.apply(e)
        return turn

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def drafts(self) -> list[str]:
        return [s.draft for s in self.steps if s.draft is not None]

    @property
    def last_draft(self) -> dict[str, Any] | None:
        """The newest draft event's content (a turn cut short settles on it)."""
        return self._last_draft

    @property
    def seconds(self) -> float:
        return max(0.0, (self.ended or self.started) - self.started)

    @property
    def unsupported(self) -> list[str]:
        """Sentences of the answer that no source supports (only when the support check is off)."""
        return [s["text"] for s in self.sentences if not s.get("supported")]

    def __post_init__(self) -> None:
        self._by_span: dict[str, Step] = {}
        self._finished: list[Step] = []
        self._last_draft: dict[str, Any] | None = None

    # Folding -----------------------------------------------------------------------------------

    def apply(self, e: Event) -> Changes:
        """Fold one event in; return what it changed."""
        handler = getattr(self, f"_on_{e.kind}", None)
        if handler is not None:
            return handler(e) or Changes()
        step = self._by_span.get(e.span_id) or self._by_span.get(e.parent_id)
        if step is None:
            return Changes()
        changed = self._fold_into_step(step, e)
        return changed or Changes()

    def _on_turn_started(self, e: Event) -> Changes:
        self.turn_id, self.goal = e.turn_id, e.text
        self.workspace = e.data.get("workspace", self.workspace)
        # "thread_id" in events stored before the chat was called the chat everywhere
        self.chat_id = e.data.get("chat_id") or e.data.get("thread_id") or self.chat_id
        self.model = e.data.get("model", self.model)
        self.started = self.started or e.ts
        self.status, self.review, self.ended = "running", None, None
        span = self.spans.get(e.turn_id)
        if span is None:
            span = self.spans[e.turn_id] = Span(e.turn_id, e.turn_id, None, "turn", "crew", e.text[:200], e.ts)
        span.end, span.status, span.error = None, "running", ""
        return Changes(spans=[span])

    def _on_step_started(self, e: Event) -> Changes:
        number = 1 + sum(1 for s in self.steps if s.agent == "writer") if e.agent == "writer" else 0
        step = self.step_type(e.span_id, e.agent, e.data.get("step", ""), e.text, number=number)
        self.steps.append(step)
        self._by_span[e.span_id] = step
        span = self.spans[e.span_id] = Span(e.span_id, e.turn_id, e.parent_id, "step", e.agent,
                                            (e.text or e.data.get("step", ""))[:300], e.ts)
        return Changes(steps=[step], spans=[span])

    def _on_llm_call(self, e: Event) -> Changes:
        self.tokens_in += e.tokens_in
        self.tokens_out += e.tokens_out
        span = self.spans[e.span_id] = Span(
            e.span_id, e.turn_id, e.parent_id, "llm", e.agent, e.text, e.ts - e.ms / 1000, e.ts,
            e.tokens_in, e.tokens_out, "ok", attrs={"model": e.data.get("model", "")})
        return Changes(spans=[span])

    def _on_token(self, e: Event) -> None:
        self.streaming += e.text

    def _on_limit_hit(self, e: Event) -> None:
        self.alerts.append(("limit", f"{e.data.get('limit', 'limit')}: {e.text}" if e.text else str(e.data.get("limit"))))
        self.limit_hit = self.limit_hit or e.data.get("limit")

    def _on_error(self, e: Event) -> None:
        self.alerts.append(("error", e.text))
        self.error = self.error or e.text

    def _on_stopped(self, e: Event) -> None:
        self.status = "stopped"

    def _on_review(self, e: Event) -> None:
        self.review = list(e.data.get("subquestions", []))

    def _on_final(self, e: Event) -> Changes:
        d = e.data
        self.status = d.get("status", "done")
        self.answer = e.text
        self.citations = list(d.get("citations", []))
        self.limit_hit, self.error = d.get("limit_hit"), d.get("error")
        self.notes = list(d.get("notes", []))
        self.sentences = list(d.get("sentences") or [])
        self.answer_kind = d.get("answer_kind", "")
        self.ended = e.ts
        self.streaming = ""
        changes = Changes()
        cut_short = "stopped" if self.status in ("stopped", "limit") else "error"
        for step in self.steps:
            if step.status == "running":  # cut short: Stop, the wall clock, or a crash
                step.status = cut_short
                changes.steps.append(step)
        for tool in self._tools.values():
            if tool.status == "running":  # its worker never came back to say (the watchdog ended the turn)
                tool.status = cut_short
        for span in self.spans.values():
            if span.kind == "turn" and span.span_id == e.turn_id:
                span.end, span.status, span.error = e.ts, self.status, self.error or ""
                changes.spans.append(span)
            elif span.end is None:  # spans a stopped turn left open end with it
                span.end, span.status = e.ts, "stopped"
                changes.spans.append(span)
        return changes

    def _fold_into_step(self, step: Step, e: Event) -> Changes | None:
        k = e.kind
        span = self.spans.get(e.span_id)
        if k == "step_finished":
            status = e.data.get("status", "ok")
            if status == "limit" and "stopped" in e.data.get("error", ""):
                status = "stopped"
            step.status, step.error, step.ms = status, e.data.get("error", ""), e.ms
            step.tokens_in, step.tokens_out = e.tokens_in, e.tokens_out
            self._finished.append(step)
            if span is not None:
                span.end, span.status, span.error = e.ts, e.data.get("status", "ok"), e.data.get("error", "")[:1000]
                span.tokens_in, span.tokens_out = e.tokens_in, e.tokens_out
                return Changes(steps=[step], spans=[span])
        elif k == "tool_call":
            tool = ToolCall(e.span_id, e.text, dict(e.data.get("args", {})))
            step.tools.append(tool)
            self._tools[e.span_id] = tool
            span = self.spans[e.span_id] = Span(e.span_id, e.turn_id, e.parent_id, "tool", e.agent, e.text, e.ts,
                                                attrs={"args": tool.args})
            return Changes(steps=[step], spans=[span])
        elif k == "tool_result":
            ok = bool(e.data.get("ok"))
            status = e.data.get("status") or ("ok" if ok else "error")  # "stopped"/"limit": abandoned
            tool = self._tools.get(e.span_id)
            if tool is not None:
                tool.result, tool.ok, tool.hits, tool.ms = e.text, ok, int(e.data.get("hits", 0)), e.ms
                tool.status = status
            if span is not None:
                span.end, span.status, span.error = e.ts, status, "" if ok else e.text[:500]
                span.attrs = {**span.attrs, "result": e.text[:2000], "hits": e.data.get("hits", 0)}
                return Changes(steps=[step], spans=[span])
        elif k == "plan":
            step.plan = list(e.data.get("subquestions", []))
            step.plan_fallback = bool(e.data.get("fallback"))
        elif k == "findings":
            step.passages = int(e.data.get("count", 0))
            step.sources = list(e.data.get("sources", []))
        elif k == "draft":
            step.draft = e.text
            step.unsupported = [x["text"] for x in e.data.get("sentences") or [] if not x.get("supported")]
            self._last_draft = {"answer": e.text, "citations": e.data.get("citations", []),
                                "sentences": e.data.get("sentences")}
            self.streaming = ""
        elif k == "verdict":
            step.verdict = e.data.get("decision", e.text)
            step.notes = list(e.data.get("notes", []))
        else:
            return None
        return Changes(steps=[step])

    # What the CLI returns --------------------------------------------------------------------

    def step_summaries(self) -> list[dict[str, Any]]:
        """The steps that finished, in the order they finished."""
        return [{"agent": s.agent, "kind": s.kind, "ms": round(s.ms, 1), "tokens_in": s.tokens_in,
                 "tokens_out": s.tokens_out} for s in self._finished]
