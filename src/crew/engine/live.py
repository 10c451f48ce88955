"""Drain a running turn in the background, so the page that shows it can rerun, reload or leave.

A web page reruns its script on every click (Stop included), which would abandon a turn that
the script itself iterated. `LiveTurn` iterates the turn in its own thread and keeps every event;
whichever script run is current reads them from a cursor. `LiveRegistry` finds the live turn of
a chat again after a rerun or a reload.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Hashable, Iterator, Sequence

from crew.engine.events import Event


class LiveTurn:
    """One turn being drained by a background thread; its events stay readable after it ends."""

    def __init__(
        self,
        turn,
        *,
        prior: Sequence[Event] = (),
        on_event: Callable[["LiveTurn", Event], None] | None = None,
        on_done: Callable[["LiveTurn"], None] | None = None,
    ) -> None:
        self.turn = turn
        self.turn_id: str = turn.turn_id
        self.events: list[Event] = list(prior)
        self.prior = len(self.events)  # events of an earlier part of the turn (resumed after a review)
        self.started = time.time()
        self.stop_requested = False
        self.ended = False  # this run's final event is in (it may still be saving: see `done`)
        self._on_event = on_event
        self._on_done = on_done
        self._cond = threading.Condition()
        self._done = False
        self.failure: str = ""
        self._thread = threading.Thread(target=self._drain, name=f"live-{self.turn_id}", daemon=True)

    @property
    def done(self) -> bool:
        return self._done

    def start(self) -> "LiveTurn":
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the turn to stop; it ends within the service's grace period with a 'stopped' event."""
        self.stop_requested = True
        self.turn.cancel()

    def _append(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self.ended = self.ended or event.kind == "final"
            self._cond.notify_all()
        if self._on_event is not None:
            try:
                self._on_event(self, event)
            except Exception as exc:  # saving progress must not end the turn
                self.failure = f"{type(exc).__name__}: {exc}"

    def _drain(self) -> None:
        try:
            for event in self.turn:
                self._append(event)
        except Exception as exc:  # the service ends turns cleanly; this is a bug, still show an end
            text = f"the turn failed: {type(exc).__name__}: {exc}"
            self._append(Event(kind="error", turn_id=self.turn_id, agent="crew", text=text))
            self._append(Event(kind="final", turn_id=self.turn_id, agent="crew", text=text,
                               data={"citations": [], "status": "error", "error": text}))
        finally:
            try:
                if self._on_done is not None:
                    self._on_done(self)
            except Exception as exc:
                self.failure = f"{type(exc).__name__}: {exc}"
            finally:
                with self._cond:
                    self._done = True
                    self._cond.notify_all()

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

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self._done


class LiveRegistry:
    """The live turns of one process, by chat; shared by every session of the app."""

    def __init__(self) -> None:
        self._turns: dict[Hashable, LiveTurn] = {}
        self._lock = threading.Lock()

    def start(self, key: Hashable, live: LiveTurn) -> LiveTurn:
        """Register and start a turn; refuse a second one while the chat's current turn runs."""
        with self._lock:
            current = self._turns.get(key)
            if current is not None and not current.done:
                raise RuntimeError("a turn is already running in this chat")
            self._turns[key] = live
        return live.start()

    def get(self, key: Hashable) -> LiveTurn | None:
        with self._lock:
            return self._turns.get(key)

    def discard(self, key: Hashable, live: LiveTurn) -> None:
        """Forget a finished turn (its chat store record now holds everything)."""
        with self._lock:
            if self._turns.get(key) is live and live.done:
                del self._turns[key]

    def running(self) -> list[LiveTurn]:
        with self._lock:
            return [t for t in self._turns.values() if not t.done]
