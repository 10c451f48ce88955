"""One running turn: one worker runs the graph; every event it emits goes down one path.

    worker ─ctx.emit─► Turn._take ─► TurnFold.apply (the one reducer)
                                  ├► trace store (the spans the event changed)
                                  ├► chat history (at each finished step, and at the end)
                                  ├► the crew's exporter, if any (OpenTelemetry: the finished turn, queued)
                                  └► the event list, which the CLI, the page and tests read by cursor

Stop and the wall clock end a turn even when the worker is stuck inside a call it cannot leave:
the crew's watchdog settles the turn with what it has, and whatever the worker emits afterwards is
dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from crew.engine.events import Event
from crew.engine.limits import Budget, Limits
from crew.engine.reducer import TurnFold
from crew.engine.runtime import Policy, TurnContext, describe, new_id
from crew.engine.watchdog import Alarm
from crew.faults import explain_for
from crew.grounding.support import with_refs
from crew.settings import ROLES
from crew.storage.traces import TraceStoreError

if TYPE_CHECKING:
    from crew.engine.service import Crew
    from crew.settings import Settings

log = logging.getLogger(__name__)

# After Stop or the wall clock, how long to wait for the worker to reach a checkpoint of its own.
GRACE_S = 0.5
# Beyond the turn's own timeout, how long before the turn is settled without its worker.
DEADLINE_SLACK_S = 5.0
# How often a running turn tells the chat history it is alive, also during one long step, so
# another instance can tell a dead owner from a slow model: four beats per `turn_stale_after_s`.
BEATS_PER_STALE = 4


@dataclass
class TurnResult:
    """The CLI's view of a finished turn (read from the turn's fold)."""

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
    chat_id: str = ""

    @classmethod
    def of(cls, fold: TurnFold, turn_id: str) -> "TurnResult":
        return cls(turn_id, fold.answer, list(fold.citations), fold.step_summaries(), fold.limit_hit, fold.error,
                   list(fold.notes), fold.status, list(fold.sentences), fold.answer_kind, fold.chat_id)

    def to_json(self) -> dict[str, Any]:
        """The CLI's --json contract."""
        return {
            "answer": self.answer,
            "citations": [{k: c.get(k) for k in ("n", "source", "page", "url", "chunk_id")} for c in self.citations],
            "steps": self.steps,
            "limit_hit": self.limit_hit,
            "trace_id": self.turn_id,
            "chat_id": self.chat_id,
            "error": self.error,
            "notes": self.notes,
            "sentences": self.sentences,
            "answer_kind": self.answer_kind,
            "not_found": self.answer_kind == "not_found",
        }


class Turn:
    """One running turn: read its events by cursor (or iterate them); `cancel()` stops it at once."""

    def __init__(self, crew: "Crew", workspace: str, chat_id: str, goal: str, *, settings: "Settings",
                 ctx_models: dict, tools: Any, review_plan: bool = False, resume: list[str] | None = None,
                 carry_on: bool = False, turn_id: str | None = None, prior: Sequence[Event] = (),
                 save_chat: bool = True) -> None:
        self.crew = crew
        self.workspace = workspace
        self.chat_id = chat_id
        self.goal = goal
        self.settings = settings
        self.turn_id = turn_id or new_id()
        self.review_plan = review_plan
        self.started = time.time()
        self.stop_requested = False
        self.failure = ""  # the chat history could not be saved (the turn itself went on)
        self._resume = resume  # the approved sub-questions of a turn paused for review
        self._carry_on = carry_on  # continue an interrupted turn from its last checkpoint
        self._save_chat = save_chat and crew.chats is not None
        self._models, self._tools = ctx_models, tools
        self._cancel = threading.Event()
        self.budget = Budget(Limits.from_settings(settings), self._cancel)
        self._cond = threading.Condition(threading.RLock())
        self.events: list[Event] = list(prior)
        self.prior = len(self.events)  # events of an earlier part of the turn (resumed after a review)
        self.fold = TurnFold.fold(prior)
        self._closed = False  # the final event is in; later events (a stuck worker's) are dropped
        self._done = False  # closed, and the chat history saved
        self._final_state: dict | None = None
        self._paused: dict | None = None
        self._trace_failed = False
        self._history_saved = True  # False while the turn's final state is not in the chat history
        self._alarms: list[Alarm] = []
        self._worker = threading.Thread(target=self._work, name=f"turn-{self.turn_id}", daemon=True)

    # Control ---------------------------------------------------------------------------------

    def start(self) -> "Turn":
        if self._save_chat:  # in the history before run_turn returns: a reload at once still shows the goal
            try:
                self.crew.chats.start_turn(self.workspace, self.chat_id, self.turn_id, self.goal)
            except Exception as exc:
                self.failure = describe(exc)
        self._worker.start()
        return self

    def cancel(self) -> None:
        """Ask the turn to stop; it ends within GRACE_S with a 'stopped' event, whatever the worker does."""
        self.stop_requested = True
        self._cancel.set()
        self._after(GRACE_S, "stopped")

    def _beat_later(self) -> None:
        if self._save_chat:
            every = self.crew.settings.turn_stale_after_s / BEATS_PER_STALE
            self._alarms.append(self.crew.watchdog.after(every, self._beat))

    def _beat(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._save("running")  # saving the turn so far refreshes its heartbeat
        self._beat_later()

    def _after(self, seconds: float, reason: str) -> None:
        self._alarms.append(self.crew.watchdog.after(seconds, lambda: self._settle(reason)))

    @property
    def done(self) -> bool:
        return self._done

    @property
    def ended(self) -> bool:
        """The final event is in (the chat history may still be saving: see `done`)."""
        return self._closed

    @property
    def result(self) -> TurnResult:
        with self._cond:
            return TurnResult.of(self.fold, self.turn_id)

    # Reading ---------------------------------------------------------------------------------

    def wait(self, cursor: int, timeout: float) -> list[Event]:
        """Return the events after `cursor`, waiting up to `timeout` seconds for one to arrive."""
        with self._cond:
            if len(self.events) <= cursor and not self._done:
                self._cond.wait(timeout)
            return self.events[cursor:]

    def follow(self, cursor: int = 0, tick: float = 0.1) -> Iterator[Event | None]:
        """Yield every event from `cursor` on as it comes, and None after each idle `tick`; end with the turn."""
        while True:
            batch = self.wait(cursor, tick)
            cursor += len(batch)
            yield from batch
            if not batch:
                if self._done and cursor >= len(self.events):
                    return
                yield None

    def __iter__(self) -> Iterator[Event]:
        """This part's events, from its start (not a resumed turn's earlier part) to its final event."""
        return (e for e in self.follow(self.prior) if e is not None)

    def join(self, timeout: float | None = None) -> bool:
        with self._cond:
            if not self._done:
                self._cond.wait_for(lambda: self._done, timeout)
            return self._done

    def run(self) -> TurnResult:
        """Wait for the end and return the result (the CLI's way)."""
        self.join()
        return self.result

    # The one path every event takes -------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        with self._cond:
            if not self._closed:
                self._take(event)

    def _take(self, event: Event) -> None:
        changes = self.fold.apply(event)
        self.events.append(event)
        if changes.spans and event.kind != "token":
            self._trace(self.crew.traces.write, self.workspace, self.fold, changes.spans)
        if event.kind in ("step_finished", "review"):
            self._save("running")
        if event.kind == "final" and self.fold.status != "awaiting_review":
            self._export()
        self._cond.notify_all()

    def _export(self) -> None:
        """Hand the finished turn to the crew's exporter (OpenTelemetry), which queues it and returns.

        A turn paused for review is exported when its last part ends, as one tree (its fold holds
        the earlier part's spans).
        """
        exporter = self.crew.exporter
        if exporter is None:
            return
        try:
            exporter.export(self.workspace, self.fold, {role: self.settings.model_for(role) for role in ROLES})
        except Exception as exc:  # the answer is in; an exporter's fault must not cost it
            log.warning("traces: turn %s was not exported: %s", self.turn_id, describe(exc))

    def _trace(self, write, *args) -> None:
        """Write to the trace store; the first failure becomes an error event, later writes are skipped.

        The turn itself goes on: the person still gets the answer, and the error says the trace
        is incomplete. Traces already stored are untouched.
        """
        if self._trace_failed:
            return
        try:
            write(*args)
        except TraceStoreError as exc:
            self._trace_failed = True
            fault = explain_for(exc, self.settings)
            reason = f"the trace store failed: {fault.message}" if fault else describe(exc)
            self._take(Event(kind="error", turn_id=self.turn_id, agent="crew", data={"part": "trace store"},
                             text=f"{reason}; this turn's trace is incomplete"))

    def _save(self, status: str) -> bool:
        """Keep the chat history in step with the turn (a reload, another instance or the CLI reads it)."""
        if not self._save_chat:
            return True
        try:
            f = self.fold
            self.crew.chats.save_turn(self.workspace, self.chat_id, self.turn_id, events=self.events, status=status,
                                      answer=f.answer if f.finished else "", citations=f.citations if f.finished else [],
                                      ended=f.ended if f.finished else None)
        except Exception as exc:  # saving progress must not end the turn
            self.failure = describe(exc)
            return False
        return True

    def save_history(self) -> bool:
        """Store an ended turn's final state if that failed when it ended (the database was down); True once stored.

        Until then the history shows the turn as still running, never as done: the crew calls this
        before the chat's next turn starts, so a turn cut short by an outage reads as what it was.
        """
        with self._cond:
            if self._done and not self._history_saved:
                self._history_saved = self._save(self.fold.status)
            return self._history_saved

    # The worker ------------------------------------------------------------------------------

    def _work(self) -> None:
        self._emit(Event(kind="turn_started", turn_id=self.turn_id, agent="crew", text=self.goal,
                         data={"workspace": self.workspace, "chat_id": self.chat_id, "model": self.settings.model,
                               "resumed": self._resume is not None}))
        self._after(self.settings.timeout_s + DEADLINE_SLACK_S, "timeout")
        self._beat_later()
        ctx = TurnContext(self.turn_id, self.crew.memory.workspace(self.workspace), self.budget, self._emit,
                          models=self._models, tools=self._tools, policy=Policy.from_settings(self.settings))
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
            state = self.crew.graph.invoke(graph_input, config={"configurable": {"thread_id": self.turn_id}},
                                           context=ctx, durability="sync")
            interrupts = (state or {}).get("__interrupt__")
            with self._cond:
                self._final_state = state
                if interrupts:
                    self._paused = dict(interrupts[0].value)
        except Exception as exc:  # the graph guards its nodes; this is the checkpointer or the graph itself
            fault = explain_for(exc, self.settings)  # a full or read-only data dir: say which and what to do
            self._emit(Event(kind="error", turn_id=self.turn_id, agent="crew",
                             text=f"the crew failed: {fault.message if fault else describe(exc)}",
                             data={"part": fault.part if fault else getattr(exc, "part", "crew")}))
        finally:
            self._settle("stopped" if self._cancel.is_set() and self._final_state is None else None)

    def _settle(self, cut_short: str | None) -> None:
        """End the turn once: the final event from the graph's last state, or (cut short) the last draft."""
        with self._cond:
            if self._closed:
                return
            for alarm in self._alarms:
                alarm.cancel()
            if self._paused is not None and cut_short is None:
                self._pause()
            else:
                self._finish(cut_short)
            self._closed = True
            self._history_saved = self._save(self.fold.status)
            self._done = True
            self._cond.notify_all()

    def _finish(self, cut_short: str | None) -> None:
        f = self.fold
        state = self._final_state if cut_short is None else None
        answer, citations, sentences, notes, kind = "", [], [], [], ""
        limit_hit, error = f.limit_hit, f.error
        if state is not None:
            answer, citations = state.get("answer", ""), list(state.get("citations", []))
            limit_hit = state.get("limit_hit") or limit_hit
            error = state.get("error") or error
            notes, sentences = list(state.get("notes", [])), list(state.get("sentences", []))
            kind = state.get("answer_kind", "")
        elif f.last_draft:
            answer, citations, sentences = _checked_draft(f.last_draft)
        if cut_short == "stopped" or limit_hit == "stopped":
            status, limit_hit = "stopped", "stopped"
            self._take(Event(kind="stopped", turn_id=self.turn_id, agent="crew", text="Stopped by the user."))
        else:
            if cut_short == "timeout":
                limit_hit = limit_hit or "timeout"
            status = "error" if error else ("limit" if limit_hit else "done")
        if not answer:
            answer = _no_answer(status, error, limit_hit)
        self._take(Event(kind="final", turn_id=self.turn_id, agent="crew", text=answer,
                         data={"citations": citations, "limit_hit": limit_hit, "error": error, "status": status,
                               "notes": notes, "sentences": sentences, "answer_kind": kind}))

    def _pause(self) -> None:
        """End this part of the turn waiting for the person to approve the plan."""
        plan = list(self._paused.get("subquestions", []))
        self._take(Event(kind="review", turn_id=self.turn_id, agent="coordinator", text="\n".join(plan),
                         data={"subquestions": plan}))
        self._take(Event(kind="final", turn_id=self.turn_id, agent="crew", text="",
                         data={"citations": [], "limit_hit": None, "error": self.fold.error, "status": "awaiting_review",
                               "notes": self.fold.notes, "subquestions": plan}))


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


def _no_answer(status: str, error: str | None, limit_hit: str | None) -> str:
    if status == "stopped":
        return "Stopped before a draft was written."
    if error:
        return f"No answer: {error}"
    if limit_hit:
        return f"No answer: the turn reached its {limit_hit} limit before a draft was written."
    return "No answer was produced."
