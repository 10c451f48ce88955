"""Run a turn: the one entry for the UI and the CLI. A turn yields events live and can be stopped."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Iterator

from langchain_core.language_models import BaseChatModel

from crew.engine.agents.researcher import WebTools
from crew.retrieval.embeddings import Embedder
from crew.engine.events import Event
from crew.faults import explain_for, explainer
from crew.engine.graph import build_graph
from crew.engine.limits import Budget, Limits
from crew.models.providers import build_models
from crew.retrieval.memory import Memory, chroma_client, check_workspace
from crew.engine.runtime import TurnContext, describe, new_id
from crew.settings import Role, Settings
from crew.grounding.support import with_refs
from crew.engine.tools.fetch_page import fetch_page
from crew.engine.tools.web_search import ddgs_search, web_search
from crew.storage.traces import TraceStore, TraceStoreError, price_table

if TYPE_CHECKING:
    from crew.documents.library import Library

# After Stop or the wall clock, how long to wait for the worker to reach a checkpoint of its own.
GRACE_S = 0.5


class EmptyGoal(ValueError):
    """The person sent nothing to work on."""


class NotPaused(LookupError):
    """A resume was asked for a turn that is not waiting for a plan review."""


@dataclass
class TurnResult:
    turn_id: str
    answer: str = ""
    citations: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    limit_hit: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    status: str = "running"  # running | done | limit | error | stopped | awaiting_review
    sentences: list[dict] = field(default_factory=list)  # the answer sentence by sentence, with its support
    answer_kind: str = ""  # written | extractive | not_found ("" when no answer was settled)

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
            "sentences": self.sentences,
            "answer_kind": self.answer_kind,
            "not_found": self.answer_kind == "not_found",
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
        retry_attempts=settings.retry_attempts, retry_wait_s=settings.retry_wait_s,
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
        library: "Library | None" = None,
    ) -> None:
        self.settings = settings
        self.models = models
        self.memory = memory
        self.traces = traces
        self.tools = tools
        self.checkpointer = checkpointer
        self._library = library
        self._library_lock = threading.Lock()
        self.graph = build_graph(settings, models, tools, checkpointer)

    @classmethod
    def from_settings(cls, settings: Settings, models: dict[Role, BaseChatModel] | None = None,
                      tools: WebTools | None = None, embedder: Embedder | None = None) -> "Crew":
        from langgraph.checkpoint.sqlite import SqliteSaver

        from crew.storage.files import DataFiles
        from crew.storage.sql import connect

        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        memory = Memory(chroma_client(data, settings.chroma_host, settings.chroma_port), embedder or Embedder())
        checkpointer = SqliteSaver(connect(DataFiles(data).checkpoints))
        return cls(
            settings,
            models if models is not None else build_models(settings),
            memory,
            tools if tools is not None else web_tools(settings),
            TraceStore(DataFiles(data).traces, price_table(settings.prices)),
            checkpointer,
        )

    def with_settings(self, settings: Settings, models: dict[Role, BaseChatModel] | None = None,
                      tools: WebTools | None = None) -> "Crew":
        """Return a crew with other settings (a person's next turn) on this one's stores: memory, library,
        traces and checkpoints."""
        return Crew(settings, models if models is not None else build_models(settings), self.memory,
                    tools if tools is not None else web_tools(settings), self.traces, self.checkpointer,
                    self.library())

    def library(self) -> "Library":
        """The document library over this crew's memory (opened on first use, then shared)."""
        from crew.documents.library import Library

        with self._library_lock:
            if self._library is None:
                self._library = Library.beside(self.settings.data_dir, self.memory)
            return self._library

    def ingest(self, workspace: str, name: str, data: bytes, progress=None):
        """Add one uploaded file to a workspace's library and memory; never raises for a bad file.

        `progress(stage, fraction)` is called as parsing, chunking and embedding move on.
        """
        from crew.documents.ingest import IngestLimits, ingest_bytes

        return ingest_bytes(self.memory.workspace(workspace), name, data, library=self.library(),
                            chunk_size=self.settings.chunk_size, chunk_overlap=self.settings.chunk_overlap,
                            limits=IngestLimits.from_settings(self.settings), progress=progress,
                            explain=explainer(self.settings))

    def documents(self, workspace: str):
        """List a workspace's documents (only complete ones), newest first."""
        return self.library().documents(workspace)

    def search_documents(self, workspace: str, query: str, k: int = 5):
        """The passages of a workspace's documents the researcher's memory search would bring back."""
        return self.memory.workspace(workspace).search_documents(query, k=k)

    def delete_document(self, workspace: str, doc_id: str) -> bool:
        """Delete a document from a workspace: its chunks leave memory, then it leaves the list."""
        return self.library().delete(workspace, doc_id)

    def stale(self, workspace: str):
        """Why the workspace's stored vectors cannot be used with the running embedder ([] when they can)."""
        return self.memory.workspace(workspace).stale()

    def reindex(self, workspace: str):
        """A re-index of the workspace: every document read again from its original and embedded again
        with the running embedder (crew.reindex); `run()` it, or `step` it as an upload job."""
        from crew.documents.ingest import IngestLimits
        from crew.documents.reindex import Reindex

        return Reindex(self.memory.workspace(workspace), self.library(), chunk_size=self.settings.chunk_size,
                       chunk_overlap=self.settings.chunk_overlap, limits=IngestLimits.from_settings(self.settings))

    def run_turn(self, workspace: str, thread_id: str, goal: str, review_plan: bool = False) -> "Turn":
        """Start a turn in the background; iterate the returned Turn for its events.

        With `review_plan`, the turn ends early with a 'review' event and status
        "awaiting_review" after the coordinator's plan; `resume_turn` continues it.
        """
        check_workspace(workspace)
        goal = (goal or "").strip()
        if not goal:
            raise EmptyGoal("the goal is empty: say what the crew should find out")
        self._check_vectors(workspace)
        return Turn(self, workspace, thread_id, goal, review_plan=review_plan)

    def _check_vectors(self, workspace: str) -> None:
        """Refuse a turn over vectors of another embedding model (StaleVectors says how to re-embed)."""
        try:
            found = self.memory.workspace(workspace).stale()
        except Exception:
            return  # the store is unreachable: the turn reports that itself
        if found:
            raise found[0]

    def resume_turn(self, workspace: str, thread_id: str, turn_id: str, goal: str, subquestions: list[str]) -> "Turn":
        """Continue a turn paused for plan review, from its checkpoint, with the approved sub-questions."""
        check_workspace(workspace)
        questions = [q for q in (" ".join(str(s).split()) for s in subquestions) if q]
        if not questions:
            raise EmptyGoal("the plan is empty: keep at least one sub-question")
        if self.checkpointer is None or not self.graph.get_state({"configurable": {"thread_id": turn_id}}).interrupts:
            raise NotPaused(f"turn {turn_id} is not waiting for a plan review")
        return Turn(self, workspace, thread_id, goal, resume=questions, turn_id=turn_id)

    def continue_turn(self, workspace: str, thread_id: str, turn_id: str, goal: str) -> "Turn":
        """Carry on a turn that was interrupted (the process died) from its last checkpoint."""
        check_workspace(workspace)
        state = self.graph.get_state({"configurable": {"thread_id": turn_id}}) if self.checkpointer is not None else None
        if state is None or not state.next or state.interrupts:
            raise NotPaused(f"turn {turn_id} has no unfinished checkpoint to continue from; run it again instead")
        return Turn(self, workspace, thread_id, goal, carry_on=True, turn_id=turn_id)

    def forget_thread(self, workspace: str, thread_id: str, turn_ids: list[str]) -> None:
        """Delete what a deleted chat left behind: its traces and its turns' checkpoints."""
        check_workspace(workspace)
        self.traces.delete_thread(workspace, thread_id)
        if self.checkpointer is not None:
            for turn_id in turn_ids:
                self.checkpointer.delete_thread(turn_id)


class Turn:
    """One running turn: iterate it for events as they happen; `cancel()` stops it at once."""

    def __init__(self, crew: Crew, workspace: str, thread_id: str, goal: str, *, review_plan: bool = False,
                 resume: list[str] | None = None, carry_on: bool = False, turn_id: str | None = None) -> None:
        self.crew = crew
        self.workspace = workspace
        self.thread_id = thread_id
        self.goal = goal
        self.turn_id = turn_id or new_id()
        self.review_plan = review_plan
        self._resume = resume  # the approved sub-questions of a turn paused for review
        self._carry_on = carry_on  # continue an interrupted turn from its last checkpoint
        self._paused: dict | None = None
        self.result = TurnResult(self.turn_id)
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._cancel = threading.Event()
        self.budget = Budget(limits_of(crew.settings), self._cancel)
        self._final_state: dict | None = None
        self._draft: dict | None = None
        self._worker = threading.Thread(target=self._work, name=f"turn-{self.turn_id}", daemon=True)
        self._started = False
        self._trace_failed = False

    def cancel(self) -> None:
        self._cancel.set()

    def _emit(self, event: Event) -> None:
        self._queue.put(event)

    def _work(self) -> None:
        ctx = TurnContext(self.turn_id, self.crew.memory.workspace(self.workspace), self.budget, self._emit)
        if self._carry_on:
            graph_input: Any = None  # LangGraph runs the steps the last checkpoint left pending
        elif self._resume is not None:
            from langgraph.types import Command

            graph_input = Command(resume={"subquestions": self._resume})
        else:
            graph_input = {"goal": self.goal, "review_plan": self.review_plan}
        try:
            # "sync": each step's checkpoint is on disk before the next step starts, so a turn
            # whose process is killed can carry on from the last step it finished.
            self._final_state = self.crew.graph.invoke(
                graph_input, config={"configurable": {"thread_id": self.turn_id}}, context=ctx, durability="sync"
            )
            interrupts = (self._final_state or {}).get("__interrupt__")
            if interrupts:
                self._paused = dict(interrupts[0].value)
        except Exception as exc:  # the graph guards its nodes; this is the checkpointer or the graph itself
            fault = explain_for(exc, self.crew.settings)  # a full or read-only data dir: say which and what to do
            self._emit(Event(kind="error", turn_id=self.turn_id, agent="crew",
                             text=f"the crew failed: {fault.message if fault else describe(exc)}",
                             data={"part": fault.part if fault else getattr(exc, "part", "crew")}))
        finally:
            self._queue.put(None)

    def __iter__(self) -> Iterator[Event]:
        if self._started:
            raise RuntimeError("a turn can be iterated once")
        self._started = True
        traces = self.crew.traces
        trace_failure = self._trace(traces.start_turn, self.workspace, self.thread_id, self.turn_id, self.goal,
                                    self.crew.settings.model)
        first = Event(kind="turn_started", turn_id=self.turn_id, agent="crew", text=self.goal,
                      data={"workspace": self.workspace, "thread_id": self.thread_id, "resumed": self._resume is not None})
        yield first
        if trace_failure:
            yield trace_failure
        self._worker.start()
        hard_deadline = time.monotonic() + self.crew.settings.timeout_s + 5
        cut_short: str | None = None
        grace_until = 0.0
        while True:
            if cut_short is None and self._cancel.is_set():
                cut_short = "stopped"
            elif cut_short is None and time.monotonic() > hard_deadline:
                cut_short = "timeout"
            if cut_short and not grace_until:
                grace_until = time.monotonic() + GRACE_S  # one grace period from Stop, not one per event
            try:
                event = self._queue.get(timeout=max(0.0, grace_until - time.monotonic()) if cut_short else 0.05)
            except queue.Empty:
                if cut_short:
                    break  # the worker is inside a call it cannot leave; finish without it
                continue
            if event is None:
                break
            self._observe(event)
            trace_failure = self._trace(traces.record, self.workspace, event)
            yield event
            if trace_failure:
                yield trace_failure
        yield from self._finish(cut_short)

    def _observe(self, event: Event) -> None:
        r = self.result
        if event.kind == "step_finished":
            r.steps.append({"agent": event.agent, "kind": event.data.get("step", ""), "ms": round(event.ms, 1),
                            "tokens_in": event.tokens_in, "tokens_out": event.tokens_out})
        elif event.kind == "draft":
            self._draft = {"answer": event.text, "citations": event.data.get("citations", []),
                           "sentences": event.data.get("sentences")}
        elif event.kind == "limit_hit":
            r.limit_hit = r.limit_hit or event.data.get("limit")
        elif event.kind == "error":
            r.error = r.error or event.text

    def _finish(self, cut_short: str | None) -> Iterator[Event]:
        r = self.result
        if self._paused is not None and cut_short is None:
            yield from self._pause()
            return
        state = self._final_state if cut_short is None else None
        if state is not None:
            r.answer, r.citations = state.get("answer", ""), list(state.get("citations", []))
            r.limit_hit = state.get("limit_hit") or r.limit_hit
            r.error = state.get("error") or r.error
            r.notes = list(state.get("notes", []))
            r.sentences = list(state.get("sentences", []))
            r.answer_kind = state.get("answer_kind", "")
        elif self._draft:
            r.answer, r.citations, r.sentences = _checked_draft(self._draft)
        if cut_short == "stopped" or r.limit_hit == "stopped":
            r.status, r.limit_hit = "stopped", "stopped"
            yield self._record(Event(kind="stopped", turn_id=self.turn_id, agent="crew", text="Stopped by the user."))
        elif cut_short == "timeout":
            r.limit_hit = r.limit_hit or "timeout"
        if r.status != "stopped":
            r.status = "error" if r.error else ("limit" if r.limit_hit else "done")
        if not r.answer:
            r.answer = _no_answer(r)
        trace_failure = self._trace(self.crew.traces.end_turn, self.turn_id, r.status, r.limit_hit, r.error)
        if trace_failure:
            r.status = "error"
            yield trace_failure
        yield Event(kind="final", turn_id=self.turn_id, agent="crew", text=r.answer,
                    data={"citations": r.citations, "limit_hit": r.limit_hit, "error": r.error,
                          "status": r.status, "notes": r.notes, "sentences": r.sentences,
                          "answer_kind": r.answer_kind})

    def _pause(self) -> Iterator[Event]:
        """End this part of the turn waiting for the person to approve the plan."""
        r = self.result
        r.status = "awaiting_review"
        plan = list(self._paused.get("subquestions", []))
        yield self._record(Event(kind="review", turn_id=self.turn_id, agent="coordinator", text="\n".join(plan),
                                 data={"subquestions": plan}))
        trace_failure = self._trace(self.crew.traces.end_turn, self.turn_id, r.status, None, r.error)
        if trace_failure:
            yield trace_failure
        yield Event(kind="final", turn_id=self.turn_id, agent="crew", text="",
                    data={"citations": [], "limit_hit": None, "error": r.error, "status": r.status, "notes": r.notes,
                          "subquestions": plan})

    def _record(self, event: Event) -> Event:
        self._trace(self.crew.traces.record, self.workspace, event)
        return event

    def _trace(self, write, *args) -> Event | None:
        """Write to the trace store; the first failure becomes an error event, later writes are skipped.

        The turn itself goes on: the person still gets the answer, and the error says the trace
        is incomplete. Traces already stored are untouched.
        """
        if self._trace_failed:
            return None
        try:
            write(*args)
            return None
        except TraceStoreError as exc:
            self._trace_failed = True
            fault = explain_for(exc, self.crew.settings)
            reason = f"the trace store failed: {fault.message}" if fault else describe(exc)
            event = Event(kind="error", turn_id=self.turn_id, agent="crew", data={"part": "trace store"},
                          text=f"{reason}; this turn's trace is incomplete")
            self._observe(event)
            return event

    def run(self) -> TurnResult:
        """Consume every event and return the result (the CLI's way)."""
        for _ in self:
            pass
        return self.result


def _checked_draft(draft: dict) -> tuple[str, list[dict], list[dict]]:
    """A turn cut short keeps its last draft; a checked draft keeps only its supported sentences."""
    checks = draft.get("sentences")
    if checks is None:
        return draft["answer"], draft["citations"], []
    available = {c.get("n") for c in draft["citations"]}  # a re-cited passage may not be among them
    kept = [s for s in checks if s["supported"] and set(s["citations"]) <= available]
    numbers = {n for s in kept for n in s["citations"]}
    answer = " ".join(with_refs(s["text"], s["citations"]) for s in kept)
    return answer, [c for c in draft["citations"] if c.get("n") in numbers], kept


def _no_answer(r: TurnResult) -> str:
    if r.status == "stopped":
        return "Stopped before a draft was written."
    if r.error:
        return f"No answer: {r.error}"
    if r.limit_hit:
        return f"No answer: the turn reached its {r.limit_hit} limit before a draft was written."
    return "No answer was produced."
