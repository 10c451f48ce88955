"""Connections to Postgres (`CREW_DATABASE_URL`) and the schema of each store, created once.

A store opens a `psycopg_pool.ConnectionPool` with `open_pool`, which fails at once with a message
naming the setting (the URL's password masked) when the server cannot be reached, instead of a
traceback at the first query. Each store keeps its tables under a *component* name and a list of
migrations; `migrate` applies the ones the database has not seen, inside one transaction that holds
a Postgres advisory lock, so two instances starting together on an empty database create the schema
exactly once (the second waits, then finds the version row and does nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

from crew.redact import remember_secret, url_for_display

SETTING = "CREW_DATABASE_URL"
# One key for every component's migrations: CREATE EXTENSION / CREATE TABLE IF NOT EXISTS are not safe to
# run side by side (both sessions pass the IF NOT EXISTS check, one fails on the catalog's unique index).
SCHEMA_LOCK = 0x637265772D736368  # "crew-sch"


class DatabaseError(RuntimeError):
    """The database cannot be used: unreachable, refused, or its schema is from a newer Crew."""


@dataclass(frozen=True)
class Migration:
    """One schema version of a component: the statements that bring the previous version to it."""

    version: int
    statements: tuple[str, ...]


def open_pool(url: str, *, max_size: int = 8, timeout: float = 10.0, name: str = "crew",
              kwargs: dict | None = None):
    """A connection pool on `url`, checked: one connection is made before this returns.

    `kwargs` go to each connection (LangGraph's saver wants autocommit and dict rows).
    """
    from psycopg.conninfo import conninfo_to_dict
    from psycopg_pool import ConnectionPool, PoolTimeout

    shown = url_for_display(url)
    try:
        remember_secret(conninfo_to_dict(url).get("password"))  # masked in any log line or error text too
    except Exception as exc:  # a malformed URL: say which setting, without echoing it raw
        raise DatabaseError(f"{SETTING} is not a valid Postgres URL ({shown}): {type(exc).__name__}") from None
    # `check` tries each connection as it leaves the pool (one round trip): after the server restarts, the
    # dead ones are replaced there instead of failing the next query.
    pool = ConnectionPool(url, min_size=1, max_size=max_size, timeout=timeout, name=name, open=False,
                          check=ConnectionPool.check_connection, kwargs={"connect_timeout": max(1, int(timeout)), **(kwargs or {})})
    # While the pool first tries, its logger would print a warning per failed attempt (a page of them on
    # stderr before our one line); the failure is reported below, once, as a DatabaseError.
    pool_log = logging.getLogger("psycopg.pool")
    level = pool_log.level
    pool_log.setLevel(logging.ERROR)
    try:
        pool.open(wait=True, timeout=timeout)
    except PoolTimeout:
        pool.close()
        raise DatabaseError(f"cannot connect to the database in {SETTING} ({shown}) within {timeout:g} s:"
                            f" {_last_error(url)}") from None
    finally:
        pool_log.setLevel(level)
    return pool


def _last_error(url: str) -> str:
    """Why a connection fails, from one direct attempt (the pool only says it timed out)."""
    import psycopg

    from crew.redact import redact

    try:
        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:
        return redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return "the server answered only after the wait"


def migrate(pool, component: str, migrations: Sequence[Migration]) -> int:
    """Bring `component`'s tables to the newest version; return how many migrations this call applied."""
    newest = max(m.version for m in migrations)
    with pool.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS crew_schema (component text PRIMARY KEY, version integer NOT NULL,"
                     " updated timestamptz NOT NULL DEFAULT now())")
        row = conn.execute("SELECT version FROM crew_schema WHERE component = %s", (component,)).fetchone()
        current = row[0] if row else 0
        if current > newest:
            raise DatabaseError(f"the database's {component} tables are version {current}, newer than this Crew's"
                                f" {newest}: upgrade Crew")
        todo = sorted((m for m in migrations if m.version > current), key=lambda m: m.version)
        for m in todo:
            for statement in m.statements:
                conn.execute(statement)
        if todo:
            conn.execute("INSERT INTO crew_schema (component, version) VALUES (%s, %s) ON CONFLICT (component)"
                         " DO UPDATE SET version = excluded.version, updated = now()", (component, newest))
        return len(todo)
