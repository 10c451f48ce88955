"""Call things at a given time, on one thread for the whole process.

A turn must end at its wall-clock limit, and within a grace period of Stop, even when its worker
is stuck inside a call it cannot leave. A timer thread per turn would double the turn's threads;
one watchdog serves every turn of a crew, and sleeps when nothing is due.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class Alarm:
    """A call the watchdog will make unless `cancel()` comes first."""

    def __init__(self, due: float, call: Callable[[], None]) -> None:
        self.due = due
        self.call = call
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Watchdog:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def after(self, seconds: float, call: Callable[[], None]) -> Alarm:
        alarm = Alarm(self._clock() + seconds, call)
        with self._wake:
            heapq.heappush(self._heap, (alarm.due, next(self._order), alarm))
            if self._thread is None:  # started on first use, not at import or construction
                self._thread = threading.Thread(target=self._run, name="crew-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()
        return alarm

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                wait = self._heap[0][0] - self._clock()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                alarm = heapq.heappop(self._heap)[2]
            try:
                alarm.call()
            except Exception:  # one turn's failure to settle must not stop the others' alarms
                log.exception("a watchdog call failed")
