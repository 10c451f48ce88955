"""Keep a workspace's chats and what happened in each turn, so a reopened chat looks as it did.

A chat is a titled list of turns; a turn stores the goal, the events the person watched live
(without the per-token stream: the draft events carry the full text) and the final answer.
Every query names its workspace, so one workspace can never read or change another's chats.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from crew.storage.sql import SqlStore
from crew.engine.events import Event
from crew.storage.owners import STALE_AFTER_S, owner_alive, process_owner

SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
  chat_id TEXT PRIMARY KEY, workspace TEXT NOT NULL, title TEXT NOT NULL,
  created REAL NOT NULL, updated REAL NOT NULL, review_plan INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chats_ws ON chats(workspace, updated);
CREATE TABLE IF NOT EXISTS chat_turns (
  turn_id TEXT PRIMARY KEY, chat_id TEXT NOT NULL, workspace TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'turn', goal TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'running',
  answer TEXT NOT NULL DEFAULT '', citations TEXT NOT NULL DEFAULT '[]', events TEXT NOT NULL DEFAULT '[]',
  started REAL NOT NULL, ended REAL, extra TEXT NOT NULL DEFAULT '{}',
  owner TEXT NOT NULL DEFAULT '', heartbeat REAL
);
CREATE INDEX IF NOT EXISTS chat_turns_chat ON chat_turns(workspace, chat_id, started);
"""

MAX_TITLE = 80
# Event kinds not worth keeping: the draft event holds the text the tokens spelled out.
TRANSIENT_KINDS = frozenset({"token"})


class ChatNotFound(LookupError):
    """The chat does not exist in this workspace (deleted, or another workspace's)."""


@dataclass(frozen=True)
class Chat:
    chat_id: str
    workspace: str
    title: str
    created: float
    updated: float
    review_plan: bool = False


@dataclass
class TurnRecord:
    """One stored turn (kind "turn") or file upload (kind "upload") of a chat."""

    turn_id: str
    chat_id: str
    kind: str
    goal: str
    status: str
    answer: str
    citations: list[dict[str, Any]]
    events: list[dict[str, Any]]
    started: float
    ended: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def event_objects(self) -> list[Event]:
        return [Event(**e) for e in self.events]


def title_from(goal: str) -> str:
    """Name a chat after its first goal: one line, at most MAX_TITLE characters."""
    line = " ".join((goal or "").split())
    if len(line) <= MAX_TITLE:
        return line or "New chat"
    return line[: MAX_TITLE - 1].rstrip() + "…"


def _storable(events: Iterable[Event | dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in events:
        d = e.to_dict() if isinstance(e, Event) else dict(e)
        if d.get("kind") not in TRANSIENT_KINDS:
            out.append(d)
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class ChatRecords:
    """What a chat store does, in SQL both backends speak (`?` placeholders; Postgres's store turns
    them into its own): SQLite's `ChatStore` and Postgres's `PgChats` differ only in their schema."""

    # A turn owned by another host is taken as dead after this long without a heartbeat; a crew sets
    # its settings' `turn_stale_after_s` here (crew.engine.service.Crew).
    stale_after_s: float = STALE_AFTER_S

    def workspaces(self) -> list[str]:
        """List workspaces that have chats: the single-user picker's only cross-workspace query.

        With sign-in (issue 5) the picker lists the signed-in person's workspaces instead.
        """
        rows = self.rows("SELECT DISTINCT workspace FROM chats ORDER BY workspace")
        return [r["workspace"] for r in rows]

    def create(self, workspace: str, title: str = "New chat", review_plan: bool = False,
               chat_id: str | None = None) -> Chat:
        """Start a chat; `chat_id` names it (a caller's own id) unless another chat has it, else an id is drawn."""
        now = time.time()
        for candidate in (chat_id, uuid.uuid4().hex[:16]):
            if candidate and self.run(
                "INSERT INTO chats(chat_id, workspace, title, created, updated, review_plan) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(chat_id) DO NOTHING", (candidate, workspace, title_from(title), now, now, bool(review_plan)),
            ):
                return Chat(candidate, workspace, title_from(title), now, now, review_plan)
        raise RuntimeError("could not draw a free chat id")

    def list(self, workspace: str, limit: int = 200) -> list[Chat]:
        rows = self.rows("SELECT * FROM chats WHERE workspace = ? ORDER BY updated DESC LIMIT ?", (workspace, limit))
        return [_chat(r) for r in rows]

    def get(self, workspace: str, chat_id: str) -> Chat | None:
        row = self.row("SELECT * FROM chats WHERE workspace = ? AND chat_id = ?", (workspace, chat_id))
        return _chat(row) if row else None

    def rename(self, workspace: str, chat_id: str, title: str) -> Chat:
        title = title_from(title)
        if not self.run("UPDATE chats SET title = ? WHERE workspace = ? AND chat_id = ?", (title, workspace, chat_id)):
            raise ChatNotFound(chat_id)
        return self.get(workspace, chat_id)  # type: ignore[return-value]

    def set_review_plan(self, workspace: str, chat_id: str, on: bool) -> None:
        if not self.run("UPDATE chats SET review_plan = ? WHERE workspace = ? AND chat_id = ?",
                        (bool(on), workspace, chat_id)):
            raise ChatNotFound(chat_id)

    def delete(self, workspace: str, chat_id: str) -> list[str]:
        """Delete a chat and its turns; return the deleted turn ids (their traces go too)."""
        with self.transaction() as tx:
            ids = [r["turn_id"] for r in tx.rows(
                "SELECT turn_id FROM chat_turns WHERE workspace = ? AND chat_id = ?", (workspace, chat_id))]
            tx.run("DELETE FROM chat_turns WHERE workspace = ? AND chat_id = ?", (workspace, chat_id))
            deleted = tx.run("DELETE FROM chats WHERE workspace = ? AND chat_id = ?", (workspace, chat_id))
        if not deleted:
            raise ChatNotFound(chat_id)
        return ids

    # Turns -------------------------------------------------------------------------------------

    def start_turn(self, workspace: str, chat_id: str, turn_id: str, goal: str, kind: str = "turn") -> None:
        """Record a turn as running, so a reload during the run still shows its goal."""
        now = time.time()
        with self.transaction() as tx:
            if not tx.run("UPDATE chats SET updated = ? WHERE workspace = ? AND chat_id = ?", (now, workspace, chat_id)):
                raise ChatNotFound(chat_id)
            # A resumed turn (same id) runs again, now owned by this process.
            tx.run("INSERT INTO chat_turns(turn_id, chat_id, workspace, kind, goal, started, owner, heartbeat)"
                   " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(turn_id) DO UPDATE SET status = 'running',"
                   " owner = excluded.owner, heartbeat = excluded.heartbeat WHERE chat_turns.workspace = excluded.workspace",
                   (turn_id, chat_id, workspace, kind, goal, now, process_owner(), now))

    def save_turn(self, workspace: str, chat_id: str, turn_id: str, *, events: Iterable[Event | dict[str, Any]],
                  status: str, answer: str = "", citations: list[dict[str, Any]] | None = None, ended: float | None = None) -> None:
        """Store what a turn has shown so far (all of it once it ends); tokens are left out."""
        now = time.time()
        with self.transaction() as tx:
            if not tx.run(
                "UPDATE chat_turns SET status = ?, answer = ?, citations = ?, events = ?, ended = ?, heartbeat = ?"
                " WHERE workspace = ? AND chat_id = ? AND turn_id = ?",
                (status, answer, _dumps(citations or []), _dumps(_storable(events)), ended, now,
                 workspace, chat_id, turn_id),
            ):
                raise ChatNotFound(f"turn {turn_id} of chat {chat_id}")
            tx.run("UPDATE chats SET updated = ? WHERE workspace = ? AND chat_id = ?", (now, workspace, chat_id))

    def add_upload(self, workspace: str, chat_id: str, names: list[str], results: list[dict[str, Any]]) -> str:
        """Record files added through the chat box, with how each one went."""
        turn_id = uuid.uuid4().hex[:16]
        self.start_turn(workspace, chat_id, turn_id, ", ".join(names), kind="upload")
        ok = all(r.get("status") == "ok" for r in results)
        self.run("UPDATE chat_turns SET status = ?, extra = ?, ended = ? WHERE workspace = ? AND turn_id = ?",
                 ("done" if ok else "error", _dumps({"files": results}), time.time(), workspace, turn_id))
        return turn_id

    def _reconciled(self, workspace: str, rows: list[sqlite3.Row]) -> list[TurnRecord]:
        """The turns read, with those whose process died mid-run (killed, crashed, restarted) marked
        as interrupted, in the store too."""
        now, records = time.time(), []
        for row in rows:
            record = _turn(row)
            if record.status == "running" and not owner_alive(row["owner"], row["heartbeat"], now, self.stale_after_s):
                self.run("UPDATE chat_turns SET status = 'interrupted' WHERE workspace = ? AND turn_id = ?"
                         " AND status = 'running'", (workspace, record.turn_id))
                record.status = "interrupted"
            records.append(record)
        return records

    def turns(self, workspace: str, chat_id: str) -> list[TurnRecord]:
        rows = self.rows("SELECT * FROM chat_turns WHERE workspace = ? AND chat_id = ? ORDER BY started",
                         (workspace, chat_id))
        return self._reconciled(workspace, rows)

    def turn(self, workspace: str, turn_id: str) -> TurnRecord | None:
        row = self.row("SELECT * FROM chat_turns WHERE workspace = ? AND turn_id = ?", (workspace, turn_id))
        return self._reconciled(workspace, [row])[0] if row else None



class ChatStore(ChatRecords, SqlStore):
    """Chats and their turns in SQLite; safe to share between threads and sessions."""

    def __init__(self, path: Path) -> None:
        SqlStore.__init__(self, path, SCHEMA)

def _chat(row: sqlite3.Row) -> Chat:
    return Chat(row["chat_id"], row["workspace"], row["title"], row["created"], row["updated"], bool(row["review_plan"]))


def _turn(row: sqlite3.Row) -> TurnRecord:
    return TurnRecord(
        turn_id=row["turn_id"], chat_id=row["chat_id"], kind=row["kind"], goal=row["goal"], status=row["status"],
        answer=row["answer"], citations=json.loads(row["citations"]), events=json.loads(row["events"]),
        started=row["started"], ended=row["ended"], extra=json.loads(row["extra"]),
    )
