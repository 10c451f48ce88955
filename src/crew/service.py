"""Run a turn: the one entry for the UI and the CLI. A turn yields events live and can be stopped."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Iterator

from langchain_core.language_models import BaseChatModel

from crew.agents.researcher import WebTools
from crew.embeddings import Embedder
from crew.events import Event
from crew.graph import build_graph
from crew.limits import Budget, Limits
from crew.llm import build_models
from crew.memory import Memory, chroma_client, check_workspace
from crew.runtime import TurnContext, new_id
from crew.settings import Role, Settings
from crew.tools.fetch_page import fetch_page
from crew.tools.web_search import ddgs_search, web_search
from crew.tracing import TraceStore

# After Stop or the wall clock, how long to wait for the worker to reach a checkpoint of its own.
GRACE_S = 0.5


class EmptyGoal(ValueError):
    """The person sent nothing to work on."""


@dataclass
class TurnResult:
    turn_id: str
    answer: str = ""
    citations: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    limit_hit: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    status: str = "running"  # running | done | limit | error | stopped

    def to_json(self) -> dict[str, Any]:
        """The CLI's --json contract."""
        return {
            "answer": self.answer,
            "citations": [{k: c.get(k) for k in ("n", "source", "page", "url", "chunk_id")} for c in self.citations],
            "steps": self.steps,
            "limit_hit": self.limit_hit,
            "trace_id": self.turn_id,
            "error": self.error,
            "notes": self.notes,
        }


def web_tools(settings: Settings) -> WebTools:
    if not settings.web_search:
        return WebTools(None, None)
    return WebTools(
        web_search=partial(web_search, ddgs_search(settings.web_timeout_s)),
        fetch_page=partial(fetch_page, max_bytes=settings.fetch_max_bytes, timeout=settings.fetch_timeout_s),
    )


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_revisions=settings.max_revisions, max_steps=settings.max_steps, max_tool_calls=settings.max_tool_calls,
        token_budget=settings.token_budget, timeout_s=settings.timeout_s, loop_repeats=settings.loop_repeats,
    )


class Crew:
    """Everything a process needs to run turns, built once and shared by every session."""

    def __init__(
        self,
        settings: Settings,
        models: dict[Role, BaseChatModel],
        memory: Memory,
        tools: WebTools,
        traces: TraceStore,
        checkpointer: Any = None,
    ) -> None:
        self.settings = settings
        self.models = models
        self.memory = memory
        self.traces = traces
        self.graph = build_graph(settings, models, tools, checkpointer)

    @classmethod
    def from_settings(cls, settings: Settings, models: dict[Role, BaseChatModel] | None = None,
                      tools: WebTools | None = None) -> "Crew":
        from langgraph.checkpoint.sqlite import SqliteSaver

        from crew.db import connect

        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        memory = Memory(chroma_client(data, settings.chroma_host, settings.chroma_port), Embedder())
        checkpointer = SqliteSaver(connect(data / "checkpoints.sqlite"))
        return cls(
            settings,
            models if models is not None else build_models(settings),
            memory,
            tools if tools is not None else web_tools(settings),
            TraceStore(data / "crew.sqlite"),
            checkpointer,
        )

    def ingest(self, workspace: str, name: str, data: bytes, progress=None):
        """Add one uploaded file to a workspace's memory; never raises for a bad file."""
        from crew.ingest import ingest_bytes

        return ingest_bytes(self.memory.workspace(workspace), name, data, chunk_size=self.settings.chunk_size,
                            chunk_overlap=self.settings.chunk_overlap, progress=progress)

    def run_turn(self, workspace: str, thread_id: str, goal: str) -> "Turn":
        """Start a turn in the background; iterate the returned Turn for its events."""
        check_workspace(workspace)
        goal = (goal or "").strip()
        if not goal:
            raise EmptyGoal("the goal is empty: say what the crew should find out")
        return Turn(self, workspace, thread_id, goal)


class Turn:
    """One running turn: iterate it for events as they happen; `cancel()` stops it at once."""

    def __init__(self, crew: Crew, workspace: str, thread_id: str, goal: str) -> None:
        self.crew = crew
        self.workspace = workspace
        self.thread_id = thread_id
        self.goal = goal
        self.turn_id = new_id()
        self.result = TurnResult(self.turn_id)
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._cancel = threading.Event()
        self.budget = Budget(limits_of(crew.settings), self._cancel)
        self._final_state: dict | None = None
        self._draft: dict | None = None
        self._worker = threading.Thread(target=self._work, name=f"turn-{self.turn_id}", daemon=True)
        self._started = False

    def cancel(self) -> None:
        self._cancel.set()

    def _emit(self, event: Event) -> None:
        self._queue.put(event)

    def _work(self) -> None:
        ctx = TurnContext(self.turn_id, self.crew.memory.workspace(self.workspace), self.budget, self._emit)
        try:
            self._final_state = self.crew.graph.invoke(
                {"goal": self.goal}, config={"configurable": {"thread_id": self.turn_id}}, context=ctx
            )
        except Exception as exc:  # the graph guards its nodes; this is the checkpointer or the graph itself
            self._emit(Event(kind="error", turn_id=self.turn_id, agent="crew", text=f"the crew failed: {type(exc).__name__}: {exc}"))
        finally:
            self._queue.put(None)

    def __iter__(self) -> Iterator[Event]:
        if self._started:
            raise RuntimeError("a turn can be iterated once")
        self._started = True
        traces = self.crew.traces
        traces.start_turn(self.workspace, self.thread_id, self.turn_id, self.goal, self.crew.settings.model)
        first = Event(kind="turn_started", turn_id=self.turn_id, agent="crew", text=self.goal,
                      data={"workspace": self.workspace, "thread_id": self.thread_id})
        yield first
        self._worker.start()
        hard_deadline = time.monotonic() + self.crew.settings.timeout_s + 5
        cut_short: str | None = None
        while True:
            if cut_short is None and self._cancel.is_set():
                cut_short = "stopped"
            elif cut_short is None and time.monotonic() > hard_deadline:
                cut_short = "timeout"
            try:
                event = self._queue.get(timeout=GRACE_S if cut_short else 0.05)
            except queue.Empty:
                if cut_short:
                    break  # the worker is inside a call it cannot leave; finish without it
                continue
            if event is None:
                break
            self._observe(event)
            traces.record(self.workspace, event)
            yield event
        yield from self._finish(cut_short)

    def _observe(self, event: Event) -> None:
        r = self.result
        if event.kind == "step_finished":
            r.steps.append({"agent": event.agent, "kind": event.data.get("step", ""), "ms": round(event.ms, 1),
                            "tokens_in": event.tokens_in, "tokens_out": event.tokens_out})
        elif event.kind == "draft":
            self._draft = {"answer": event.text, "citations": event.data.get("citations", [])}
        elif event.kind == "limit_hit":
            r.limit_hit = r.limit_hit or event.data.get("limit")
        elif event.kind == "error":
            r.error = r.error or event.text

    def _finish(self, cut_short: str | None) -> Iterator[Event]:
        r = self.result
        state = self._final_state if cut_short is None else None
        if state is not None:
            r.answer, r.citations = state.get("answer", ""), list(state.get("citations", []))
            r.limit_hit = state.get("limit_hit") or r.limit_hit
            r.error = state.get("error") or r.error
            r.notes = list(state.get("notes", []))
        elif self._draft:
            r.answer, r.citations = self._draft["answer"], self._draft["citations"]
        if cut_short == "stopped" or r.limit_hit == "stopped":
            r.status, r.limit_hit = "stopped", "stopped"
            yield self._record(Event(kind="stopped", turn_id=self.turn_id, agent="crew", text="Stopped by the user."))
        elif cut_short == "timeout":
            r.limit_hit = r.limit_hit or "timeout"
        if r.status != "stopped":
            r.status = "error" if r.error else ("limit" if r.limit_hit else "done")
        if not r.answer:
            r.answer = _no_answer(r)
        self.crew.traces.end_turn(self.turn_id, r.status, r.limit_hit, r.error)
        yield Event(kind="final", turn_id=self.turn_id, agent="crew", text=r.answer,
                    data={"citations": r.citations, "limit_hit": r.limit_hit, "error": r.error,
                          "status": r.status, "notes": r.notes})

    def _record(self, event: Event) -> Event:
        self.crew.traces.record(self.workspace, event)
        return event

    def run(self) -> TurnResult:
        """Consume every event and return the result (the CLI's way)."""
        for _ in self:
            pass
        return self.result


def _no_answer(r: TurnResult) -> str:
    if r.status == "stopped":
        return "Stopped before a draft was written."
    if r.error:
        return f"No answer: {r.error}"
    if r.limit_hit:
        return f"No answer: the turn reached its {r.limit_hit} limit before a draft was written."
    return "No answer was produced."
