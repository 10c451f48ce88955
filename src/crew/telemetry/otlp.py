"""Send each finished turn to an OpenTelemetry collector over OTLP/HTTP, in the background.

opentelemetry-sdk's BatchSpanProcessor holds the spans in a bounded queue (what does not fit is
dropped, with the SDK's warning) and a worker thread hands them to opentelemetry-exporter-otlp-proto-http,
which posts them to `<endpoint>/v1/traces`. The turn itself only appends to that queue, so a collector
that is down, failing or hanging costs a warning in the log, never the turn's time; the app's own
trace store is written either way.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import TYPE_CHECKING, Mapping, Sequence

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.util.re import parse_env_headers

from crew.redact import remember_secret, url_for_display
from crew.telemetry.spans import turn_spans

if TYPE_CHECKING:
    from crew.engine.reducer import TurnFold
    from crew.settings import Settings

log = logging.getLogger(__name__)

TRACES_PATH = "v1/traces"  # where an OTLP/HTTP collector takes spans, under its base URL
QUEUE_SPANS = 2048  # spans waiting for the collector; a turn makes a few dozen
BATCH_SPANS = 512  # spans per request (the SDK's default), at most the queue


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP base URL -> its traces endpoint, as OpenTelemetry's OTEL_EXPORTER_OTLP_ENDPOINT reads it."""
    return endpoint.rstrip("/") + "/" + TRACES_PATH


def parse_headers(text: str) -> dict[str, str]:
    """'Authorization=Bearer x,api-key=y' -> {'authorization': 'Bearer x', 'api-key': 'y'} (URL-encoding allowed).

    Every value is registered with crew.redact first, so no log record (the SDK's own warnings
    about a malformed header quote it) can show it.
    """
    for part in text.split(","):
        remember_secret(part.strip())
        remember_secret(part.partition("=")[2].strip())
    headers = dict(parse_env_headers(text, liberal=True))
    for value in headers.values():
        remember_secret(value)
    return headers


class _WarnOnFailure(SpanExporter):
    """Say in the log when a batch did not reach the collector (the SDK would only say so at error level,
    without naming what was lost)."""

    def __init__(self, inner: SpanExporter, where: str) -> None:
        self._inner, self._where = inner, where

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
        except Exception as exc:  # the worker thread must go on with the next batch
            log.warning("traces: exporting to %s raised %s", self._where, type(exc).__name__)
            result = SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            log.warning("traces: the OTLP collector at %s did not take %d spans; they are dropped "
                        "(the app's own trace store has them)", self._where, len(spans))
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


class OtlpExporter:
    """A crew's exporter to one collector: `export` queues a finished turn's spans and returns at once."""

    def __init__(self, endpoint: str, headers: Mapping[str, str] | None = None, *, content: bool = False,
                 timeout_s: float = 10.0, max_queue: int = QUEUE_SPANS) -> None:
        self.url = traces_url(endpoint)
        self.where = url_for_display(self.url)  # a password in the URL stays out of the log
        self.content = content
        self._resource = Resource.create({"service.name": "crew"})
        inner = OTLPSpanExporter(endpoint=self.url, headers=dict(headers or {}), timeout=timeout_s)
        # Its worker wakes every OTEL_BSP_SCHEDULE_DELAY ms (5 s by default) or when a batch is full.
        self._processor = BatchSpanProcessor(_WarnOnFailure(inner, self.where), max_queue_size=max_queue,
                                             max_export_batch_size=min(BATCH_SPANS, max_queue))
        self._closed = False
        atexit.register(self._at_exit)  # a CLI run exits right after its turn: send it first

    @classmethod
    def from_settings(cls, settings: "Settings") -> "OtlpExporter | None":
        """The exporter the settings ask for (CREW_OTLP_ENDPOINT, CREW_OTLP_HEADERS), or None without an endpoint."""
        if not settings.otlp_endpoint:
            return None
        headers = parse_headers(settings.otlp_headers.get_secret_value()) if settings.otlp_headers else {}
        return cls(settings.otlp_endpoint, headers, content=settings.otlp_content, timeout_s=settings.otlp_timeout_s)

    def export(self, workspace: str, fold: "TurnFold", models: Mapping[str, str]) -> None:
        if self._closed:
            return
        try:
            spans = turn_spans(fold, workspace=workspace, models=models, resource=self._resource,
                               content=self.content)
        except Exception as exc:  # a bug here must not end a turn that already has its answer
            log.warning("traces: turn %s could not be exported: %s", fold.turn_id, type(exc).__name__)
            return
        for span in spans:
            self._processor.on_end(span)

    def flush(self, timeout_s: float = 2.0) -> bool:
        """Send what is queued; give up waiting after `timeout_s` (the send goes on in the background)."""
        done = threading.Event()

        def run() -> None:
            self._processor.force_flush()
            done.set()

        threading.Thread(target=run, name="otlp-flush", daemon=True).start()
        return done.wait(timeout_s)

    def close(self, timeout_s: float = 2.0) -> None:
        if self._closed:
            return
        self.flush(timeout_s)
        self._closed = True
        atexit.unregister(self._at_exit)
        # Stops the worker; a batch still being sent to a hanging collector ends at its own timeout.
        threading.Thread(target=self._processor.shutdown, name="otlp-shutdown", daemon=True).start()

    def _at_exit(self) -> None:
        self.flush(2.0)
