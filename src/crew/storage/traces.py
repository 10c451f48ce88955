"""Record every turn as a tree of spans (turn -> agent step -> model or tool call) in SQLite.

The trace is built from the same events the UI renders, so what a person saw live and what the
Traces page shows afterwards cannot disagree. Every read is scoped to one workspace.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable

from crew.storage.sql import SqlStore
from crew.engine.events import Event
from crew.redact import redact

PriceFn = Callable[[str, int, int], float]  # (model, tokens_in, tokens_out) -> USD

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

    def start_turn(self, workspace: str, thread_id: str, turn_id: str, goal: str, model: str) -> None:
        """Open a turn's trace; a turn resumed after a plan review reopens its own (same id)."""
        now = time.time()
        self._write(
            ("INSERT INTO traces(turn_id, workspace, thread_id, goal, started, model) VALUES (?,?,?,?,?,?)"
             " ON CONFLICT(turn_id) DO UPDATE SET status = 'running', ended = NULL",
             (turn_id, workspace, thread_id, goal, now, model)),
            ("INSERT INTO spans(span_id, turn_id, parent_id, workspace, kind, agent, name, start) VALUES (?,?,?,?,?,?,?,?)"
             " ON CONFLICT(span_id) DO UPDATE SET status = 'running', end = NULL",
             (turn_id, turn_id, None, workspace, "turn", "crew", goal[:200], now)),
        )

    def record(self, workspace: str, event: Event) -> None:
        """Fold one event into the span tree (token events are too fine-grained to store)."""
        k = event.kind
        if k == "step_started":
            self._open(workspace, event, "step", event.text or event.data.get("step", ""))
        elif k == "step_finished":
            self._close(event, event.data.get("status", "ok"), event.data.get("error", ""), event.tokens_in, event.tokens_out)
        elif k == "tool_call":
            self._open(workspace, event, "tool", event.text, {"args": event.data.get("args", {})})
        elif k == "tool_result":
            self._close(event, "ok" if event.data.get("ok") else "error", "" if event.data.get("ok") else event.text[:500],
                        attrs={"result": event.text[:2000], "hits": event.data.get("hits", 0)})
        elif k == "llm_call":
            model = event.data.get("model", "")
            cost = self._price(model, event.tokens_in, event.tokens_out)
            self._write(
                ("INSERT OR REPLACE INTO spans(span_id, turn_id, parent_id, workspace, kind, agent, name, start, end,"
                 " tokens_in, tokens_out, cost, status, attrs) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 (event.span_id, event.turn_id, event.parent_id, workspace, "llm", event.agent, event.text,
                  event.ts - event.ms / 1000, event.ts, event.tokens_in, event.tokens_out, cost, "ok",
                  json.dumps({"model": model}))),
                ("UPDATE traces SET tokens_in = tokens_in + ?, tokens_out = tokens_out + ?, cost = cost + ?"
                 " WHERE turn_id = ?", (event.tokens_in, event.tokens_out, cost, event.turn_id)),
            )

    def _open(self, workspace: str, event: Event, kind: str, name: str, attrs: dict | None = None) -> None:
        self._write((
            "INSERT OR REPLACE INTO spans(span_id, turn_id, parent_id, workspace, kind, agent, name, start, attrs) VALUES (?,?,?,?,?,?,?,?,?)",
            (event.span_id, event.turn_id, event.parent_id, workspace, kind, event.agent, name[:300], event.ts, json.dumps(attrs or {})),
        ))

    def _close(self, event: Event, status: str, error: str = "", tokens_in: int = 0, tokens_out: int = 0, attrs: dict | None = None) -> None:
        with self.transaction() as tx:  # read the span's attributes and write them back as one
            row = tx.row("SELECT attrs FROM spans WHERE span_id = ?", (event.span_id,))
            merged = {**json.loads(row["attrs"]), **(attrs or {})} if row else (attrs or {})
            tx.run(
                "UPDATE spans SET end = ?, status = ?, error = ?, tokens_in = tokens_in + ?, tokens_out = tokens_out + ?,"
                " attrs = ? WHERE span_id = ?",
                _redacted((event.ts, status, error[:1000], tokens_in, tokens_out, json.dumps(merged), event.span_id)),
            )

    def end_turn(self, turn_id: str, status: str, limit_hit: str | None, error: str | None) -> None:
        now = time.time()
        self._write(
            ("UPDATE traces SET ended = ?, status = ?, limit_hit = ?, error = ? WHERE turn_id = ?",
             (now, status, limit_hit, error, turn_id)),
            ("UPDATE spans SET end = ?, status = ?, error = ? WHERE span_id = ?", (now, status, error or "", turn_id)),
            # Spans a stopped turn left open end with it.
            ("UPDATE spans SET end = ?, status = 'stopped' WHERE turn_id = ? AND end IS NULL", (now, turn_id)),
        )

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
