"""Carry one turn's context through the graph and account for every step, model and tool call."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel

from crew.events import Event
from crew.limits import Budget
from crew.memory import WorkspaceMemory
from crew.tools import ToolResult

Emit = Callable[[Event], None]


def new_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class TurnContext:
    """What every node of one turn shares; given to the graph as LangGraph's runtime context."""

    turn_id: str
    memory: WorkspaceMemory
    budget: Budget
    emit: Emit

    def step(self, agent: str, kind: str, label: str = "") -> "Step":
        return Step(self, agent, kind, label)


def _usage(message: Any) -> tuple[int, int]:
    usage = getattr(message, "usage_metadata", None) or {}
    return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))


class Step:
    """One agent action: a span in the trace, and the gate every model and tool call goes through."""

    def __init__(self, ctx: TurnContext, agent: str, kind: str, label: str) -> None:
        self.ctx = ctx
        self.agent = agent
        self.kind = kind
        self.label = label
        self.span_id = new_id()
        self.tokens_in = 0
        self.tokens_out = 0

    def _event(self, kind: str, span_id: str = "", parent_id: str = "", **fields: Any) -> None:
        # Step-level events hang off the turn; model and tool calls pass their own span.
        self.ctx.emit(Event(kind=kind, turn_id=self.ctx.turn_id, agent=self.agent,
                            span_id=span_id or self.span_id, parent_id=parent_id or self.ctx.turn_id, **fields))

    def __enter__(self) -> "Step":
        self.ctx.budget.step(self.agent)
        self._started = time.perf_counter()
        self._event("step_started", text=self.label, data={"step": self.kind})
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        status = "ok" if exc is None else ("limit" if exc_type.__name__ == "LimitReached" else "error")
        self._event(
            "step_finished", text=self.label, ms=(time.perf_counter() - self._started) * 1000,
            tokens_in=self.tokens_in, tokens_out=self.tokens_out,
            data={"step": self.kind, "status": status, "error": str(exc) if exc else ""},
        )

    def emit(self, kind: str, text: str = "", **data: Any) -> None:
        """Report something this step produced (a plan, a draft, a verdict)."""
        self._event(kind, text=text, data=data)

    def _account(self, started: float, message: Any, span: str, name: str) -> None:
        tin, tout = _usage(message)
        self.tokens_in += tin
        self.tokens_out += tout
        self.ctx.budget.spend(tin + tout)
        self._event("llm_call", span_id=span, parent_id=self.span_id, ms=(time.perf_counter() - started) * 1000,
                    tokens_in=tin, tokens_out=tout, text=name,
                    data={"model": (getattr(message, "response_metadata", None) or {}).get("model_name", "")})

    def call_model(self, runnable: Any, messages: list[BaseMessage], name: str) -> Any:
        """Invoke a model or structured-output runnable inside the budget."""
        self.ctx.budget.before_model_call()
        span, started = new_id(), time.perf_counter()
        result = runnable.invoke(messages)
        raw = result.get("raw") if isinstance(result, dict) else result
        self._account(started, raw, span, name)
        return result

    def structured(self, model: BaseChatModel, schema: type[BaseModel], messages: list[BaseMessage]) -> BaseModel | None:
        """Ask for a schema; on a malformed reply ask once more with the error, then give up (None)."""
        runnable = model.with_structured_output(schema, include_raw=True)
        for attempt in (1, 2):
            result = self.call_model(runnable, messages, f"{schema.__name__}" + (" (repair)" if attempt == 2 else ""))
            if result.get("parsed") is not None:
                return result["parsed"]
            raw = result.get("raw")
            error = str(result.get("parsing_error") or "no structured reply")[:300]
            messages = messages + [
                AIMessage(content=str(getattr(raw, "content", "")) or "(empty)"),
                HumanMessage(content=f"That reply was not valid: {error}\nReply again with only a JSON object matching the schema."),
            ]
        return None

    def stream_text(self, model: BaseChatModel, messages: list[BaseMessage], name: str) -> str:
        """Stream a reply, reporting each token, and return the whole text."""
        self.ctx.budget.before_model_call()
        span, started = new_id(), time.perf_counter()
        parts: list[str] = []
        last = None
        for chunk in model.stream(messages):
            self.ctx.budget.check()  # Stop and the wall clock cut a long generation short
            if chunk.content:
                parts.append(str(chunk.content))
                self._event("token", span_id=span, parent_id=self.span_id, text=str(chunk.content))
            last = chunk if last is None else last + chunk
        self._account(started, last, span, name)
        return "".join(parts)

    def tool(self, name: str, args: dict[str, Any], run: Callable[[], ToolResult]) -> ToolResult:
        """Run a tool call inside the call budget and loop detection, reporting call and result."""
        self.ctx.budget.tool_call(self.agent, name, args)
        span, started = new_id(), time.perf_counter()
        self._event("tool_call", span_id=span, parent_id=self.span_id, text=name, data={"args": args})
        result = run()
        self._event("tool_result", span_id=span, parent_id=self.span_id, text=result.text,
                    ms=(time.perf_counter() - started) * 1000,
                    data={"tool": name, "ok": result.ok, "hits": len(result.hits)})
        return result
