"""Keep one turn's budget: steps, tool calls, tokens, wall clock, loops and the Stop button."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, fields
from typing import Callable, Literal

from crew.settings import Settings, default_of

LimitName = Literal[
    "max_revisions", "max_steps", "max_tool_calls", "token_budget", "timeout", "loop", "stopped"
]


class LimitReached(Exception):
    """Raised inside a node when the turn must end; the node turns it into `limit_hit`."""

    def __init__(self, limit: LimitName, detail: str = "") -> None:
        super().__init__(f"{limit}: {detail}" if detail else limit)
        self.limit = limit
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """The limits of one turn: each field is the Settings field of the same name (its help says what it does).

    The defaults are Settings' own, read from its fields, so a test's `Limits(max_steps=2)` and a
    turn's `Limits.from_settings(settings)` cannot disagree about the rest.
    """

    max_revisions: int = default_of("max_revisions")
    max_steps: int = default_of("max_steps")
    max_tool_calls: int = default_of("max_tool_calls")
    token_budget: int = default_of("token_budget")
    timeout_s: float = default_of("timeout_s")
    loop_repeats: int = default_of("loop_repeats")
    retry_attempts: int = default_of("retry_attempts")
    retry_wait_s: float = default_of("retry_wait_s")

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        """Take every limit from the settings of the same name."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


class Budget:
    """Count what a turn spends; shared by parallel researchers, so every update takes a lock."""

    def __init__(
        self,
        limits: Limits,
        cancel: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.cancel = cancel or threading.Event()
        self._clock = clock
        self._deadline = clock() + limits.timeout_s
        self._lock = threading.Lock()
        self.steps = 0
        self.tool_calls = 0
        self.tokens = 0
        self._signatures: Counter[str] = Counter()
        # Model calls admitted but not yet accounted, and the tokens they are expected to spend.
        self._in_flight = 0
        self._reserved = 0
        self._settled = threading.Condition(self._lock)

    def check(self) -> None:
        """Raise if the turn was stopped or ran out of time."""
        if self.cancel.is_set():
            raise LimitReached("stopped", "stopped by the user")
        if self._clock() > self._deadline:
            raise LimitReached("timeout", f"turn ran past {self.limits.timeout_s:g} s")

    def seconds_left(self) -> float:
        return self._deadline - self._clock()

    def step(self, agent: str) -> None:
        self.check()
        with self._lock:
            if self.steps >= self.limits.max_steps:
                raise LimitReached("max_steps", f"{self.limits.max_steps} agent steps")
            self.steps += 1

    def tool_call(self, agent: str, tool: str, args: dict) -> None:
        """Admit one tool call, or raise on the call budget or a repeated identical call."""
        self.check()
        signature = json.dumps([agent, tool, args], sort_keys=True, default=str)
        with self._lock:
            if self._signatures[signature] + 1 >= self.limits.loop_repeats:
                raise LimitReached("loop", f"{agent} called {tool} with the same arguments {self.limits.loop_repeats} times")
            if self.tool_calls >= self.limits.max_tool_calls:
                raise LimitReached("max_tool_calls", f"{self.limits.max_tool_calls} tool calls")
            self._signatures[signature] += 1
            self.tool_calls += 1

    def before_model_call(self) -> None:
        """Refuse a model call once the budget is spent, so at most one call overshoots it."""
        self.check()
        with self._lock:
            self._refuse_if_spent()

    def _refuse_if_spent(self) -> None:
        if self.tokens >= self.limits.token_budget:
            raise LimitReached("token_budget", f"{self.tokens} of {self.limits.token_budget} tokens spent")

    def admit_model_call(self, estimate: int) -> int:
        """Admit one model call expected to spend `estimate` tokens; return the reservation.

        Alone, a call is admitted while any budget is left, so a turn overshoots by at most the
        one call that crosses the line. Parallel researchers must not each cross it: while other
        calls are in flight, a call waits until what is spent, what they reserved and its own
        estimate fit in the budget (or they settle and the budget is found spent).
        """
        self.check()
        with self._settled:
            while True:
                self._refuse_if_spent()
                if not self._in_flight or self.tokens + self._reserved + estimate <= self.limits.token_budget:
                    break
                self._settled.wait(0.05)
                self.check()
            self._in_flight += 1
            self._reserved += estimate
        return estimate

    def settle_model_call(self, reserved: int, tokens: int) -> None:
        """Account a finished (or failed) admitted call and release its reservation."""
        with self._settled:
            self._in_flight -= 1
            self._reserved -= reserved
            self.tokens += tokens
            self._settled.notify_all()

    def spend(self, tokens: int) -> None:
        with self._lock:
            self.tokens += tokens
