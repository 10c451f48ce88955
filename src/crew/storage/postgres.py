"""Connections to Postgres (`CREW_DATABASE_URL`) and the schema of each store, created once.

A store opens a `psycopg_pool.ConnectionPool` with `open_pool`, which fails at once with a message
naming the setting (the URL's password masked) when the server cannot be reached, instead of a
traceback at the first query. The schema of every store is one chain of alembic revisions
(`crew/storage/schema/versions/`); `ensure_schema` runs `alembic upgrade head` inside one transaction
that holds a Postgres advisory lock, so two instances starting together on an empty database create
the schema exactly once (the second waits, then finds it at head and does nothing). LangGraph's
checkpoint tables are not among them: its `PostgresSaver.setup()` keeps its own migrations
(`crew.storage.stores`).
"""

from __future__ import annotations

import logging
import threading

from crew.redact import remember_secret, url_for_display

SETTING = "CREW_DATABASE_URL"
# One key for the schema's migrations: CREATE EXTENSION / CREATE TABLE IF NOT EXISTS are not safe to
# run side by side (both sessions pass the IF NOT EXISTS check, one fails on the catalog's unique index).
SCHEMA_LOCK = 0x637265772D736368  # "crew-sch"


class DatabaseError(RuntimeError):
    """The database cannot be used: unreachable, refused, or its schema is from a newer Crew."""


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
    # `reconnect_timeout`: the pool retries a lost connection with doubling waits (1, 2, 4 ... s) for this long,
    # then gives the slot up and opens a fresh one, at once, for the next caller. Left at its 5 minutes, an
    # outage of a minute left the pool asleep for another minute after the server came back.
    pool = ConnectionPool(url, min_size=1, max_size=max_size, timeout=timeout, name=name, open=False,
                          check=ConnectionPool.check_connection, reconnect_timeout=max(5.0, timeout),
                          kwargs={"connect_timeout": max(1, int(timeout)), **(kwargs or {})})
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


def ensure_schema(url: str) -> int:
    """Bring the database's schema to this Crew's newest alembic revision; return how many revisions ran here.

    One transaction holds the schema's advisory lock throughout: instances starting together on an
    empty database take turns, the first creates the schema and the others find it at head. A database
    an earlier Crew made (its `crew_schema` rows, no `alembic_version`) is stamped at the first revision
    rather than created again; one at a revision this Crew does not know is refused with `DatabaseError`.
    """
    import psycopg
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    if url in _at_head:
        return 0
    config, script = _alembic()
    head = script.get_current_head()
    known = {r.revision for r in script.walk_revisions()}
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url, connect_timeout=10),
                           poolclass=NullPool)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            current = MigrationContext.configure(conn).get_current_revision()
            if current is None:
                current = _adopt_pre_alembic(conn)
                if current is not None:
                    config.attributes["connection"] = conn
                    command.stamp(config, current)
            if current is not None and current not in known:
                raise DatabaseError(f"the database's schema is at revision {current}, newer than this Crew's"
                                    f" {head}: upgrade Crew")
            pending = list(script.iterate_revisions(head, current))
            if pending:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
    finally:
        engine.dispose()
    with _at_head_lock:
        _at_head.add(url)
    return len(pending)


# Databases this process has seen at head: the stores of one crew open one after another, and only the
# first of them needs the lock and alembic's look (a schema never moves back under a running Crew).
_at_head: set[str] = set()
_at_head_lock = threading.Lock()


def _alembic():
    """Alembic's config and script directory for Crew's revisions (`crew/storage/schema`), no ini file needed."""
    from pathlib import Path

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("schema")))
    return config, ScriptDirectory.from_config(config)


# What the hand-rolled migrations before alembic recorded in `crew_schema` once revision 0001's tables existed.
PRE_ALEMBIC_COMPONENTS = {"chats": 1, "traces": 1, "documents": 1, "keywords": 1}


def _adopt_pre_alembic(conn) -> str | None:
    """The revision a database made before alembic is at: "0001" when every store's tables were made, else None
    (revision 0001 then completes it: its statements skip what exists)."""
    from sqlalchemy import text

    if conn.execute(text("SELECT to_regclass('crew_schema')")).scalar() is None:
        return None
    versions = dict(conn.execute(text("SELECT component, version FROM crew_schema")).fetchall())
    newer = {c: v for c, v in versions.items() if v > PRE_ALEMBIC_COMPONENTS.get(c, 1)}
    if newer:  # e.g. an alembic-era database whose alembic_version was dropped by hand
        raise DatabaseError(f"the database's {', '.join(sorted(newer))} tables are version"
                            f" {max(newer.values())}, newer than this Crew knows and not under alembic: upgrade Crew")
    done = all(versions.get(c) == v for c, v in PRE_ALEMBIC_COMPONENTS.items())
    return "0001" if done else None
