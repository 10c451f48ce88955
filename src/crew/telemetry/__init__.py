"""Traces leaving the app: what a turn exporter is, and (otlp.py, spans.py) the OpenTelemetry one.

    spans.py   a finished turn's fold -> OpenTelemetry spans, named by the GenAI semantic conventions
    otlp.py    those spans to a collector over OTLP/HTTP, in the background, bounded, dropped with a warning

The local trace store (crew.storage.traces) is always written; an exporter is an extra reader of the
same fold. Nothing here imports OpenTelemetry until an exporter is built from settings that name an
endpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Protocol

if TYPE_CHECKING:
    from crew.engine.reducer import TurnFold


class TurnExporter(Protocol):
    """Send a finished turn somewhere; must return at once and never raise into the turn."""

    def export(self, workspace: str, fold: "TurnFold", models: Mapping[str, str]) -> None:
        """`models` maps each role to the model spec it ran with ("openai:gpt-4o-mini")."""

    def close(self, timeout_s: float = 2.0) -> None:
        """Send what is queued (waiting at most `timeout_s`) and stop."""
