"""Define the events a turn yields: what the UI renders, the CLI prints and the trace records."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any, Literal

EventKind = Literal[
    "turn_started",
    "step_started",
    "step_finished",
    "llm_call",
    "tool_call",
    "tool_result",
    "token",
    "plan",
    "findings",  # a researcher's passages for its sub-question
    "draft",
    "verdict",
    "final",
    "error",
    "limit_hit",
    "stopped",
    "review",  # the turn paused for the person to approve its plan
]


@dataclass(frozen=True)
class Event:
    """One thing that happened in a turn.

    `span_id` names the step, model call or tool call the event belongs to and `parent_id` the
    span that contains it, so the trace can be rebuilt as a tree from the events alone.
    """

    kind: EventKind
    turn_id: str
    agent: str = ""
    span_id: str = ""
    parent_id: str = ""
    ts: float = field(default_factory=time.time)
    ms: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: the chat history stores every event at every step, and asdict's deep
        # copy was a tenth of a turn's own time; callers serialise the result, they do not mutate it.
        return {f.name: getattr(self, f.name) for f in fields(self)}
