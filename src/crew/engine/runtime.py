"""Carry one turn's context through the graph and account for every step, model and tool call."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from crew.engine.events import Event
from crew.engine.limits import Budget, LimitReached
from crew.retrieval.memory import WorkspaceMemory
from crew.redact import redact
from crew.engine.tools import ToolResult
from crew.grounding.settle import Thresholds
from crew.settings import Settings

if TYPE_CHECKING:
    from crew.engine.agents.researcher import WebTools
    from crew.settings import Role

Emit = Callable[[Event], None]
T = TypeVar("T")
log = logging.getLogger(__name__)

# What a tool's failure is called in an error event: the part of the system that failed (an MCP
# tool's part is its server, given by the caller).
TOOL_PARTS = {"search_memory": "memory", "web_search": "web search", "fetch_page": "page fetch"}
# HTTP statuses worth another try: timeouts, conflicts, rate limits, overloaded or failing servers.
_TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
_TRANSIENT_NAMES = {"APIConnectionError", "APITimeoutError", "RateLimitError", "InternalServerError",
                    "OverloadedError", "ServiceUnavailableError", "TimeoutException", "ConnectError",
                    "ReadTimeout", "ConnectTimeout", "RemoteProtocolError"}


class CallFailed(RuntimeError):
    """A model or tool call failed for good (after its retries); `part` names what failed."""

    def __init__(self, part: str, cause: BaseException, attempts: int) -> None:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"the {part} failed{tries}: {describe(cause)}")
        self.part = part
        self.attempts = attempts


def describe(exc: BaseException) -> str:
    """Say what went wrong in one redacted line: the exception's type and the start of its text."""
    if isinstance(exc, CallFailed):
        return redact(str(exc))
    text = " ".join(str(exc).split())[:300]
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def is_transient(exc: BaseException) -> bool:
    """True for failures that another try may not meet: timeouts, dropped connections, 429/5xx."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, LimitReached):
            return False
        if isinstance(exc, (TimeoutError, ConnectionError)):
            return True
        if type(exc).__name__ in _TRANSIENT_NAMES:
            return True
        if getattr(exc, "status_code", None) in _TRANSIENT_STATUS:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def estimate_tokens(messages: list[BaseMessage]) -> int:
    """A rough prompt size (4 characters a token) to reserve budget before a call is made."""
    return sum(len(str(m.content)) for m in messages) // 4 + 1


def new_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class Policy:
    """The knobs of one turn that the graph's nodes and routes read (from that turn's settings)."""

    top_k: int = Settings.model_fields["top_k"].default
    research_steps: int = Settings.model_fields["research_steps"].default
    max_revisions: int = Settings.model_fields["max_revisions"].default
    grounded: Thresholds | None = None  # None: the writer's draft as written (free generation)
    support_threshold: float = Thresholds().support
    translate: bool = False  # the researcher's model translates a question into the documents' language

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Policy":
        support = support_threshold(settings)
        grounded = replace(Thresholds.from_settings(settings), support=support) if settings.grounded else None
        return cls(top_k=settings.top_k, research_steps=settings.research_steps, max_revisions=settings.max_revisions,
                   grounded=grounded, support_threshold=support, translate=translates(settings))


# The providers whose models cannot translate a question: the embedded one (SmolLM2-135M) and the fake demo model.
NO_TRANSLATION = ("local", "fake")


# The writers that cannot paraphrase: the embedded SmolLM2-135M. Its drafted sentences that most but not all of their
# words back are garbles, not paraphrases: of the 102 such sentences (support 0.6 to under 1) in its drafts on the
# labelled questions (every grounded turn in the checkpoints of the benches' data dirs, 2026-12-03), 5 said what their
# passage says; the others changed it ("...se eliminán mediamente el tiempo", "...cloning the bug and reassigning it
# to a different version", "re.search checks for a match at the beginning"). So its sentences stand only when every
# content word is the passage's, and a draft that is not such a copy is answered with quotes.
COPY_ONLY = ("local",)
COPY_SUPPORT = 1.0


def support_threshold(settings: "Settings") -> float:
    """The share of a drafted sentence's words its passage must hold: the `support_threshold` setting, and at least
    COPY_SUPPORT when the writer's model is one of COPY_ONLY's."""
    if settings.model_for("writer").split(":", 1)[0] in COPY_ONLY:
        return max(settings.support_threshold, COPY_SUPPORT)
    return settings.support_threshold


def translates(settings: "Settings") -> bool:
    """Whether the researcher translates questions into the documents' language (the `translate_questions` setting;
    auto: unless its model is one of NO_TRANSLATION's)."""
    if settings.translate_questions != "auto":
        return settings.translate_questions == "on"
    return settings.model_for("researcher").split(":", 1)[0] not in NO_TRANSLATION


@dataclass
class TurnContext:
    """Everything one turn's nodes receive: LangGraph's runtime context for the compiled graph.

    The graph is compiled once; what a person's settings choose per turn (models per role, tools,
    limits, knobs) and the turn's own workspace memory, budget and event sink travel here.
    """

    turn_id: str
    memory: WorkspaceMemory
    budget: Budget
    emit: Emit
    models: "dict[Role, BaseChatModel]" = field(default_factory=dict)
    tools: "WebTools | None" = None
    policy: Policy = field(default_factory=Policy)

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
        status = "ok" if exc is None else ("limit" if isinstance(exc, LimitReached) else "error")
        error = "" if exc is None else (redact(str(exc)) if isinstance(exc, LimitReached) else describe(exc))
        self._event(
            "step_finished", text=self.label, ms=(time.perf_counter() - self._started) * 1000,
            tokens_in=self.tokens_in, tokens_out=self.tokens_out,
            data={"step": self.kind, "status": status, "error": error},
        )

    def emit(self, kind: str, text: str = "", **data: Any) -> None:
        """Report something this step produced (a plan, a draft, a verdict)."""
        self._event(kind, text=text, data=data)

    def _account(self, started: float, message: Any, span: str, name: str) -> int:
        tin, tout = _usage(message)
        self.tokens_in += tin
        self.tokens_out += tout
        self._event("llm_call", span_id=span, parent_id=self.span_id, ms=(time.perf_counter() - started) * 1000,
                    tokens_in=tin, tokens_out=tout, text=name,
                    data={"model": (getattr(message, "response_metadata", None) or {}).get("model_name", "")})
        return tin + tout

    def _sleep(self, seconds: float) -> None:
        # A backoff wait that Stop cuts short: the turn must not sit out a retry after Stop.
        self.ctx.budget.cancel.wait(min(seconds, max(0.0, self.ctx.budget.seconds_left())))
        self.ctx.budget.check()

    def _retrying(self, part: str, attempt: Callable[[], T], retry_if: Callable[[BaseException], bool] = is_transient) -> T:
        """Run one call, retrying transient failures with exponential backoff inside the turn's limits.

        A limit is never retried and never wrapped; any other failure that outlasts the retries
        becomes CallFailed naming the part, so the error event says what broke.
        """
        limits = self.ctx.budget.limits
        attempts = max(1, limits.retry_attempts)
        tries = 0

        def once() -> T:
            nonlocal tries
            tries += 1
            return attempt()

        def before_sleep(state) -> None:
            exc = state.outcome.exception()
            log.warning("%s: the %s failed (%s); trying again in %.2f s", self.agent, part, describe(exc),
                        state.next_action.sleep)

        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=limits.retry_wait_s, min=limits.retry_wait_s, max=max(limits.retry_wait_s, 8 * limits.retry_wait_s)),
            retry=retry_if_exception(lambda e: not isinstance(e, LimitReached) and retry_if(e)),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(once)
        except LimitReached:
            raise
        except Exception as exc:
            raise CallFailed(part, exc, tries) from exc

    def call_model(self, runnable: Any, messages: list[BaseMessage], name: str) -> Any:
        """Invoke a model or structured-output runnable inside the budget, retrying transient failures."""

        def attempt() -> Any:
            budget = self.ctx.budget
            reserved = budget.admit_model_call(estimate_tokens(messages))
            span, started, spent = new_id(), time.perf_counter(), 0
            try:
                result = runnable.invoke(messages)
                raw = result.get("raw") if isinstance(result, dict) else result
                spent = self._account(started, raw, span, name)
                return result
            finally:
                budget.settle_model_call(reserved, spent)

        return self._retrying("model", attempt)

    def structured(self, model: BaseChatModel, schema: type[BaseModel], messages: list[BaseMessage]) -> BaseModel | None:
        """Ask for a schema; on a malformed reply ask once more with the error, then give up (None)."""
        runnable = model.with_structured_output(schema, include_raw=True)
        for attempt in (1, 2):
            result = self.call_model(runnable, messages, f"{schema.__name__}" + (" (repair)" if attempt == 2 else ""))
            if isinstance(result, dict) and result.get("parsed") is not None:
                return result["parsed"]
            raw = result.get("raw") if isinstance(result, dict) else result
            error = str((result.get("parsing_error") if isinstance(result, dict) else None) or "no structured reply")[:300]
            messages = messages + [
                AIMessage(content=str(getattr(raw, "content", "")) or "(empty)"),
                HumanMessage(content=f"That reply was not valid: {error}\nReply again with only a JSON object matching the schema."),
            ]
        return None

    def stream_text(self, model: BaseChatModel, messages: list[BaseMessage], name: str) -> str:
        """Stream a reply, reporting each token, and return the whole text.

        A failure before the first token is retried like any model call; after it, the person has
        already seen part of the reply, so the failure ends the step instead of starting over.
        """
        shown = False

        def attempt() -> str:
            nonlocal shown
            budget = self.ctx.budget
            reserved = budget.admit_model_call(estimate_tokens(messages))
            span, started, spent = new_id(), time.perf_counter(), 0
            parts: list[str] = []
            last = None
            try:
                for chunk in model.stream(messages):
                    budget.check()  # Stop and the wall clock cut a long generation short
                    if chunk.content:
                        parts.append(str(chunk.content))
                        shown = True
                        self._event("token", span_id=span, parent_id=self.span_id, text=str(chunk.content))
                    last = chunk if last is None else last + chunk
                spent = self._account(started, last, span, name)
            finally:
                budget.settle_model_call(reserved, spent)
            return "".join(parts)

        return self._retrying("model", attempt, lambda e: not shown and is_transient(e))

    def tool(self, name: str, args: dict[str, Any], run: Callable[[], ToolResult], part: str = "") -> ToolResult:
        """Run a tool call inside the call budget and loop detection, reporting call and result.

        A tool that raises (memory unreachable, an MCP server down) is retried while the failure
        looks transient; if it still fails, its span closes with the error and CallFailed names
        the part (`part`, else the tool's row in TOOL_PARTS). Stop or the turn's clock (a tool
        that takes the budget's check gives up its call at once; a reply that comes after them
        is dropped) closes the span as abandoned and raises the limit, which ends the step.
        """
        budget = self.ctx.budget
        budget.tool_call(self.agent, name, args)
        span, started = new_id(), time.perf_counter()
        self._event("tool_call", span_id=span, parent_id=self.span_id, text=name, data={"args": args})
        try:
            result = self._retrying(part or TOOL_PARTS.get(name, f"tool {name}"), run)
            budget.check()  # the turn is over: nothing of this reply is kept, remembered or cited
        except CallFailed as exc:
            self._event("tool_result", span_id=span, parent_id=self.span_id, text=str(exc),
                        ms=(time.perf_counter() - started) * 1000, data={"tool": name, "ok": False, "hits": 0})
            raise
        except LimitReached as exc:
            self._event("tool_result", span_id=span, parent_id=self.span_id,
                        text=f"{exc.detail}: the call was abandoned and its reply is not used",
                        ms=(time.perf_counter() - started) * 1000,
                        data={"tool": name, "ok": False, "hits": 0, "status": "stopped" if exc.limit == "stopped" else "limit"})
            raise
        self._event("tool_result", span_id=span, parent_id=self.span_id, text=redact(result.text),
                    ms=(time.perf_counter() - started) * 1000,
                    data={"tool": name, "ok": result.ok, "hits": len(result.hits)})
        return result

    def unavailable(self, name: str, error: str) -> None:
        """Report a tool that could not even be offered (its MCP server is down) as a failed call.

        It spends no budget, but shows in the chat and the trace like any failed call.
        """
        span = new_id()
        self._event("tool_call", span_id=span, parent_id=self.span_id, text=name, data={"args": {}})
        self._event("tool_result", span_id=span, parent_id=self.span_id, text=redact(error),
                    data={"tool": name, "ok": False, "hits": 0})
