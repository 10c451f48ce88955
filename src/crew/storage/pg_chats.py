"""Chats and their turns on Postgres: `crew.storage.chats.ChatStore`'s twin for a team (`CREW_DATABASE_URL`).

The same tables, queries and answers (`Chat`, `TurnRecord`), every query naming its workspace. A turn
records its owner (host:pid) and heartbeat as on SQLite, so any instance can tell a turn whose process
died (`crew.storage.owners.owner_alive`: on this host by its pid, elsewhere by a stale heartbeat) and
shows it as interrupted.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Iterable

from crew.engine.events import Event
from crew.storage.chats import Chat, ChatNotFound, TurnRecord, _chat, _dumps, _storable, _turn, title_from
from crew.storage.owners import owner_alive, process_owner
from crew.storage.pg_sql import PgStore
from crew.storage.postgres import Migration

COMPONENT = "chats"
MIGRATIONS = (
    Migration(1, (
        "CREATE TABLE IF NOT EXISTS chats (chat_id text PRIMARY KEY, workspace text NOT NULL, title text NOT NULL,"
        " created double precision NOT NULL, updated double precision NOT NULL,"
        " review_plan boolean NOT NULL DEFAULT false)",
        "CREATE INDEX IF NOT EXISTS chats_ws ON chats (workspace, updated)",
        "CREATE TABLE IF NOT EXISTS chat_turns (turn_id text PRIMARY KEY, chat_id text NOT NULL,"
        " workspace text NOT NULL, kind text NOT NULL DEFAULT 'turn', goal text NOT NULL,"
        " status text NOT NULL DEFAULT 'running', answer text NOT NULL DEFAULT '',"
        # JSON kept as text, as on SQLite: written and read whole, never queried inside.
        " citations text NOT NULL DEFAULT '[]', events text NOT NULL DEFAULT '[]',"
        " started double precision NOT NULL, ended double precision, extra text NOT NULL DEFAULT '{}',"
        " owner text NOT NULL DEFAULT '', heartbeat double precision)",
        "CREATE INDEX IF NOT EXISTS chat_turns_chat ON chat_turns (workspace, chat_id, started)",
    )),
)


class PgChats(PgStore):
    """Chats and their turns in Postgres; safe to share between threads, processes and machines."""

    def __init__(self, url: str) -> None:
        super().__init__(url, COMPONENT, MIGRATIONS)

    def workspaces(self) -> list[str]:
        return [r["workspace"] for r in self.rows("SELECT DISTINCT workspace FROM chats ORDER BY workspace")]

    def create(self, workspace: str, title: str = "New chat", review_plan: bool = False,
               chat_id: str | None = None) -> Chat:
        now = time.time()
        for candidate in (chat_id, uuid.uuid4().hex[:16]):
            if candidate and self.run(
                "INSERT INTO chats (chat_id, workspace, title, created, updated, review_plan)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (chat_id) DO NOTHING",
                (candidate, workspace, title_from(title), now, now, bool(review_plan)),
            ):
                return Chat(candidate, workspace, title_from(title), now, now, review_plan)
        raise RuntimeError("could not draw a free chat id")

    def list(self, workspace: str, limit: int = 200) -> list[Chat]:
        rows = self.rows("SELECT * FROM chats WHERE workspace = %s ORDER BY updated DESC LIMIT %s", (workspace, limit))
        return [_chat(r) for r in rows]

    def get(self, workspace: str, chat_id: str) -> Chat | None:
        row = self.row("SELECT * FROM chats WHERE workspace = %s AND chat_id = %s", (workspace, chat_id))
        return _chat(row) if row else None

    def rename(self, workspace: str, chat_id: str, title: str) -> Chat:
        if not self.run("UPDATE chats SET title = %s WHERE workspace = %s AND chat_id = %s",
                        (title_from(title), workspace, chat_id)):
            raise ChatNotFound(chat_id)
        return self.get(workspace, chat_id)  # type: ignore[return-value]

    def set_review_plan(self, workspace: str, chat_id: str, on: bool) -> None:
        if not self.run("UPDATE chats SET review_plan = %s WHERE workspace = %s AND chat_id = %s",
                        (bool(on), workspace, chat_id)):
            raise ChatNotFound(chat_id)

    def delete(self, workspace: str, chat_id: str) -> list[str]:
        with self.transaction() as tx:
            ids = [r["turn_id"] for r in tx.rows(
                "DELETE FROM chat_turns WHERE workspace = %s AND chat_id = %s RETURNING turn_id", (workspace, chat_id))]
            deleted = tx.run("DELETE FROM chats WHERE workspace = %s AND chat_id = %s", (workspace, chat_id))
        if not deleted:
            raise ChatNotFound(chat_id)
        return ids

    def start_turn(self, workspace: str, chat_id: str, turn_id: str, goal: str, kind: str = "turn") -> None:
        now = time.time()
        with self.transaction() as tx:
            if not tx.run("UPDATE chats SET updated = %s WHERE workspace = %s AND chat_id = %s",
                          (now, workspace, chat_id)):
                raise ChatNotFound(chat_id)
            # A resumed turn (same id) runs again, now owned by this process.
            tx.run("INSERT INTO chat_turns (turn_id, chat_id, workspace, kind, goal, started, owner, heartbeat)"
                   " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (turn_id) DO UPDATE SET status = 'running',"
                   " owner = excluded.owner, heartbeat = excluded.heartbeat"
                   " WHERE chat_turns.workspace = excluded.workspace",
                   (turn_id, chat_id, workspace, kind, goal, now, process_owner(), now))

    def save_turn(self, workspace: str, chat_id: str, turn_id: str, *, events: Iterable[Event | dict[str, Any]],
                  status: str, answer: str = "", citations: list[dict[str, Any]] | None = None,
                  ended: float | None = None) -> None:
        now = time.time()
        with self.transaction() as tx:
            if not tx.run(
                "UPDATE chat_turns SET status = %s, answer = %s, citations = %s, events = %s, ended = %s, heartbeat = %s"
                " WHERE workspace = %s AND chat_id = %s AND turn_id = %s",
                (status, answer, _dumps(citations or []), _dumps(_storable(events)), ended, now,
                 workspace, chat_id, turn_id),
            ):
                raise ChatNotFound(f"turn {turn_id} of chat {chat_id}")
            tx.run("UPDATE chats SET updated = %s WHERE workspace = %s AND chat_id = %s", (now, workspace, chat_id))

    def add_upload(self, workspace: str, chat_id: str, names: list[str], results: list[dict[str, Any]]) -> str:
        turn_id = uuid.uuid4().hex[:16]
        self.start_turn(workspace, chat_id, turn_id, ", ".join(names), kind="upload")
        ok = all(r.get("status") == "ok" for r in results)
        self.run("UPDATE chat_turns SET status = %s, extra = %s, ended = %s WHERE workspace = %s AND turn_id = %s",
                 ("done" if ok else "error", _dumps({"files": results}), time.time(), workspace, turn_id))
        return turn_id

    def _reconciled(self, workspace: str, rows: list[dict[str, Any]]) -> list[TurnRecord]:
        """The turns read, those whose owner died mid-run marked interrupted (in the table too)."""
        now, records = time.time(), []
        for row in rows:
            record = _turn(row)
            if record.status == "running" and not owner_alive(row["owner"], row["heartbeat"], now):
                self.run("UPDATE chat_turns SET status = 'interrupted' WHERE workspace = %s AND turn_id = %s"
                         " AND status = 'running'", (workspace, record.turn_id))
                record.status = "interrupted"
            records.append(record)
        return records

    def turns(self, workspace: str, chat_id: str) -> list[TurnRecord]:
        rows = self.rows("SELECT * FROM chat_turns WHERE workspace = %s AND chat_id = %s ORDER BY started",
                         (workspace, chat_id))
        return self._reconciled(workspace, rows)

    def turn(self, workspace: str, turn_id: str) -> TurnRecord | None:
        row = self.row("SELECT * FROM chat_turns WHERE workspace = %s AND turn_id = %s", (workspace, turn_id))
        return self._reconciled(workspace, [row])[0] if row else None
