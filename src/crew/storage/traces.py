"""Record every turn as a tree of spans (turn -> agent step -> model or tool call) in SQLite.

The spans come from the one reducer the UI and the CLI read too (crew.engine.reducer), so what a
person saw live and what the Traces page shows afterwards cannot disagree. Every read is scoped to one workspace.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from crew.redact import redact
from crew.storage.sql import SqlStore

if TYPE_CHECKING:
    from crew.engine.reducer import Span, TurnFold

PriceFn = Callable[[str, int, int], float]  # (model, tokens_in, tokens_out) -> USD

# `thread_id` is the chat a turn belongs to (the column keeps its first name; LangGraph's own
# thread_id, in the checkpoints, is the turn).
SCHEMA = """
CREATE TABLE IF NOT EXISTS traces (
  turn_id TEXT PRIMARY KEY, workspace TEXT NOT NULL, thread_id TEXT NOT NULL, goal TEXT NOT NULL,
  started REAL NOT NULL, ended REAL, status TEXT NOT NULL DEFAULT 'running', limit_hit TEXT,
  error TEXT, tokens_in INTEGER NOT NULL DEFAULT 0, tokens_out INTEGER NOT NULL DEFAULT 0,
  cost REAL NOT NULL DEFAULT 0, model TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS traces_ws ON traces(workspace, started);
CREATE TABLE IF NOT EXISTS spans (
  span_id TEXT PRIMARY KEY, turn_id TEXT NOT NULL, parent_id TEXT, workspace TEXT NOT NULL,
  kind TEXT NOT NULL, agent TEXT NOT NULL, name TEXT NOT NULL, start REAL NOT NULL, end REAL,
  tokens_in INTEGER NOT NULL DEFAULT 0, tokens_out INTEGER NOT NULL DEFAULT 0,
  cost REAL NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'running', error TEXT NOT NULL DEFAULT '',
  attrs TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS spans_turn ON spans(workspace, turn_id);
"""


class TraceStoreError(RuntimeError):
    """The trace store could not be written or read (disk full, database locked or damaged)."""

    part = "trace store"


def no_cost(model: str, tokens_in: int, tokens_out: int) -> float:
    return 0.0


def price_table(prices: dict[str, tuple[float, float]]) -> PriceFn:
    """Price a call from USD per million tokens (in, out), by the longest matching model-name prefix."""
    ordered = sorted(prices.items(), key=lambda kv: -len(kv[0]))

    def price(model: str, tokens_in: int, tokens_out: int) -> float:
        name = (model or "").lower().rsplit("/", 1)[-1]
        for prefix, (per_in, per_out) in ordered:
            if name.startswith(prefix.lower()):
                return (tokens_in * per_in + tokens_out * per_out) / 1_000_000
        return 0.0

    return price


def _store_error(exc: sqlite3.Error) -> TraceStoreError:
    # disk full, locked past the busy timeout, a damaged file
    return TraceStoreError(f"the trace store failed: {exc}")


def _redacted(args: tuple) -> tuple:
    """Whatever a turn reports is stored redacted: an error text can quote a provider's key."""
    return tuple(redact(a) if isinstance(a, str) else a for a in args)


class TraceStore(SqlStore):
    """Spans and per-turn totals; safe to share between threads."""

    def __init__(self, path: Path, price: PriceFn = no_cost) -> None:
        super().__init__(path, SCHEMA, translate=_store_error)
        self._price = price

    def _write(self, *statements: tuple[str, tuple]) -> None:
        """Run writing statements as one transaction, their text arguments redacted."""
        with self.transaction() as tx:
            for sql, args in statements:
                tx.run(sql, _redacted(args))

    def write(self, workspace: str, turn: "TurnFold", spans: list["Span"]) -> None:
        """Store the spans one event changed (crew.engine.reducer folded them), as one transaction.

        The turn's own span carries the turn's row (goal, status, how it ended); a model call's
        span adds its tokens and estimated cost to the turn's totals.
        """
        with self.transaction() as tx:
            for span in spans:
                cost = 0.0
                if span.kind == "turn":
                    tx.run("INSERT INTO traces(turn_id, workspace, thread_id, goal, started, model) VALUES (?,?,?,?,?,?)"
                           " ON CONFLICT(turn_id) DO NOTHING",
                           _redacted((turn.turn_id, workspace, turn.chat_id, turn.goal, span.start, turn.model)))
                    tx.run("UPDATE traces SET ended = ?, status = ?, limit_hit = ?, error = ? WHERE turn_id = ?",
                           _redacted((span.end, span.status, turn.limit_hit if span.end else None,
                                      turn.error if span.end else None, turn.turn_id)))
                elif span.kind == "llm":
                    cost = self._price(span.attrs.get("model", ""), span.tokens_in, span.tokens_out)
                    tx.run("UPDATE traces SET tokens_in = tokens_in + ?, tokens_out = tokens_out + ?, cost = cost + ?"
                           " WHERE turn_id = ?", (span.tokens_in, span.tokens_out, cost, span.turn_id))
                # Only the texts a model, a tool or a provider wrote can carry a key: redact those.
                tx.run(
                    "INSERT OR REPLACE INTO spans(span_id, turn_id, parent_id, workspace, kind, agent, name, start, end,"
                    " tokens_in, tokens_out, cost, status, error, attrs) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (span.span_id, span.turn_id, span.parent_id, workspace, span.kind, span.agent,
                     redact(span.name[:300]), span.start, span.end, span.tokens_in, span.tokens_out, cost,
                     span.status, redact(span.error[:1000]), redact(json.dumps(span.attrs))))

    def turns(self, workspace: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.rows("SELECT * FROM traces WHERE workspace = ? ORDER BY started DESC LIMIT ?", (workspace, limit))
        return [dict(r) for r in rows]

    def spans(self, workspace: str, turn_id: str) -> list[dict[str, Any]]:
        rows = self.rows("SELECT * FROM spans WHERE workspace = ? AND turn_id = ? ORDER BY start", (workspace, turn_id))
        out = []
        for r in rows:
            d = dict(r)
            d["attrs"] = json.loads(d["attrs"])
            d["ms"] = round(((d["end"] or d["start"]) - d["start"]) * 1000, 1)
            out.append(d)
        return out

    def delete_thread(self, workspace: str, thread_id: str) -> int:
        """Forget the traces of one chat (when the person deletes it); return how many turns went."""
        with self.transaction() as tx:
            ids = [r["turn_id"] for r in tx.rows("SELECT turn_id FROM traces WHERE workspace = ? AND thread_id = ?",
                                                 (workspace, thread_id))]
            for turn_id in ids:
                tx.run("DELETE FROM spans WHERE workspace = ? AND turn_id = ?", (workspace, turn_id))
                tx.run("DELETE FROM traces WHERE workspace = ? AND turn_id = ?", (workspace, turn_id))
        return len(ids)

    def export(self, workspace: str, turn_id: str) -> dict[str, Any]:
        """Return one turn and its spans as a JSON-ready document."""
        turn = self.row("SELECT * FROM traces WHERE workspace = ? AND turn_id = ?", (workspace, turn_id))
        return {"turn": dict(turn) if turn else None, "spans": self.spans(workspace, turn_id) if turn else []}
