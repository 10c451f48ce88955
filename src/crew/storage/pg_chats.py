"""Chats and their turns on Postgres: `crew.storage.chats.ChatStore`'s twin for a team (`CREW_DATABASE_URL`).

The same tables and, through `ChatRecords`, the same queries and answers (`Chat`, `TurnRecord`), every query naming its workspace. A turn
records its owner (host:pid) and heartbeat as on SQLite, so any instance can tell a turn whose process
died (`crew.storage.owners.owner_alive`: on this host by its pid, elsewhere by a stale heartbeat) and
shows it as interrupted.
"""

from __future__ import annotations

from crew.storage.chats import ChatRecords
from crew.storage.pg_sql import PgStore

class PgChats(ChatRecords, PgStore):
    """Chats and their turns in Postgres; safe to share between threads, processes and machines."""

    def __init__(self, url: str) -> None:
        PgStore.__init__(self, url)
