"""Chats and their turns on Postgres: `crew.storage.chats.ChatStore`'s twin for a team (`CREW_DATABASE_URL`).

The same tables and, through `ChatRecords`, the same queries and answers (`Chat`, `TurnRecord`), every query naming its workspace. A turn
records its owner (host:pid) and heartbeat as on SQLite, so any instance can tell a turn whose process
died (`crew.storage.owners.owner_alive`: on this host by its pid, elsewhere by a stale heartbeat) and
shows it as interrupted.
"""

from __future__ import annotations

from crew.storage.chats import ChatRecords
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


class PgChats(ChatRecords, PgStore):
    """Chats and their turns in Postgres; safe to share between threads, processes and machines."""

    def __init__(self, url: str) -> None:
        PgStore.__init__(self, url, COMPONENT, MIGRATIONS)
