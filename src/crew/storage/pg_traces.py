"""Traces on Postgres: `crew.storage.traces.TraceStore`'s twin for a team (`CREW_DATABASE_URL`).

The same rows (`turns`, `spans` and `export` answer the same dicts), the same redaction of what a
model, tool or provider wrote, and the same totals: a model call's span adds its tokens and priced
cost to its turn's row, in the transaction that stores the span. Errors reach the turn as
`TraceStoreError`, as on SQLite.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from crew.redact import redact
from crew.storage.pg_sql import PgStore
from crew.storage.traces import PriceFn, TraceStoreError, _redacted, no_cost

if TYPE_CHECKING:
    from crew.engine.reducer import Span, TurnFold

def _store_error(exc: Exception) -> TraceStoreError:
    # the server gone or restarted, a disk full on its side, a statement cancelled
    return TraceStoreError(f"the trace store failed: {redact(str(exc).strip() or type(exc).__name__)}")


class PgTraces(PgStore):
    """Spans and per-turn totals in Postgres; safe to share between threads and instances."""

    def __init__(self, url: str, price: PriceFn = no_cost) -> None:
        super().__init__(url, translate=_store_error)
        self._price = price

    def write(self, workspace: str, turn: "TurnFold", spans: list["Span"]) -> None:
        """Store the spans one event changed, as one transaction (see `TraceStore.write`)."""
        with self.transaction() as tx:
            for span in spans:
                cost = 0.0
                if span.kind == "turn":
                    tx.run("INSERT INTO traces (turn_id, workspace, thread_id, goal, started, model)"
                           " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (turn_id) DO NOTHING",
                           _redacted((turn.turn_id, workspace, turn.chat_id, turn.goal, span.start, turn.model)))
                    tx.run("UPDATE traces SET ended = %s, status = %s, limit_hit = %s, error = %s WHERE turn_id = %s",
                           _redacted((span.end, span.status, turn.limit_hit if span.end else None,
                                      turn.error if span.end else None, turn.turn_id)))
                elif span.kind == "llm":
                    cost = self._price(span.attrs.get("model", ""), span.tokens_in, span.tokens_out)
                    tx.run("UPDATE traces SET tokens_in = tokens_in + %s, tokens_out = tokens_out + %s,"
                           " cost = cost + %s WHERE turn_id = %s", (span.tokens_in, span.tokens_out, cost, span.turn_id))
                tx.run(
                    'INSERT INTO spans (span_id, turn_id, parent_id, workspace, kind, agent, name, start, "end",'
                    " tokens_in, tokens_out, cost, status, error, attrs)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (span_id) DO UPDATE SET turn_id = excluded.turn_id, parent_id = excluded.parent_id,"
                    " workspace = excluded.workspace, kind = excluded.kind, agent = excluded.agent, name = excluded.name,"
                    ' start = excluded.start, "end" = excluded."end", tokens_in = excluded.tokens_in,'
                    " tokens_out = excluded.tokens_out, cost = excluded.cost, status = excluded.status,"
                    " error = excluded.error, attrs = excluded.attrs",
                    (span.span_id, span.turn_id, span.parent_id, workspace, span.kind, span.agent,
                     redact(span.name[:300]), span.start, span.end, span.tokens_in, span.tokens_out, cost,
                     span.status, redact(span.error[:1000]), redact(json.dumps(span.attrs))))

    def turns(self, workspace: str, limit: int = 50) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM traces WHERE workspace = %s ORDER BY started DESC LIMIT %s", (workspace, limit))

    def spans(self, workspace: str, turn_id: str) -> list[dict[str, Any]]:
        rows = self.rows("SELECT * FROM spans WHERE workspace = %s AND turn_id = %s ORDER BY start",
                         (workspace, turn_id))
        for d in rows:
            d["attrs"] = json.loads(d["attrs"])
            d["ms"] = round(((d["end"] or d["start"]) - d["start"]) * 1000, 1)
        return rows

    def delete_thread(self, workspace: str, thread_id: str) -> int:
        """Forget the traces of one chat (when the person deletes it); return how many turns went."""
        with self.transaction() as tx:
            ids = [r["turn_id"] for r in tx.rows(
                "DELETE FROM traces WHERE workspace = %s AND thread_id = %s RETURNING turn_id", (workspace, thread_id))]
            if ids:
                tx.run("DELETE FROM spans WHERE workspace = %s AND turn_id = ANY(%s)", (workspace, ids))
        return len(ids)

    def export(self, workspace: str, turn_id: str) -> dict[str, Any]:
        turn = self.row("SELECT * FROM traces WHERE workspace = %s AND turn_id = %s", (workspace, turn_id))
        return {"turn": turn, "spans": self.spans(workspace, turn_id) if turn else []}
