"""Copy a single-user data dir (SQLite files, embedded Chroma, originals) into Postgres and a Chroma server.

`crew migrate` is how one person's Crew becomes a team's: every chat and turn, trace and span, library
row, upload original, keyword row and LangGraph checkpoint goes into the database of `CREW_DATABASE_URL`
(its schema brought to head first), and every Chroma collection, with its metadata and vectors as they
are (nothing is embedded again), into the Chroma server. The source is only read.

It copies into an empty target only: a database or server that already holds any of it is refused
before anything is written, so a second run cannot duplicate or merge (empty the target, or point at a
fresh one, and run again). At the end it counts each kind of row on both sides and reports them; any
difference is a failed migration.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from crew.storage.files import DataFiles

# SQLite file (a DataFiles property) -> the tables copied as they are, column by column.
TABLES = (("chats", "chats"), ("chats", "chat_turns"), ("traces", "traces"), ("traces", "spans"),
          ("library", "documents"))
BATCH = 500

Progress = Callable[[str], None]


class MigrationRefused(RuntimeError):
    """The migration cannot start: the target is not empty, or the source is not a data dir."""


@dataclass
class Count:
    what: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


@dataclass
class Report:
    counts: list[Count] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.counts)

    def table(self) -> str:
        width = max([len(c.what) for c in self.counts] + [4])
        lines = [f"{'what':<{width}}  {'source':>8}  {'target':>8}", f"{'-' * width}  {'-' * 8}  {'-' * 8}"]
        lines += [f"{c.what:<{width}}  {c.source:>8}  {c.target:>8}{'' if c.ok else '  MISMATCH'}"
                  for c in self.counts]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"ok": self.ok, "counts": [{"what": c.what, "source": c.source, "target": c.target, "ok": c.ok}
                                          for c in self.counts]}


def _read_only(path: Path) -> sqlite3.Connection | None:
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def _has_table(conn: sqlite3.Connection | None, table: str) -> bool:
    return conn is not None and conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None


def _count_sqlite(conn: sqlite3.Connection | None, table: str) -> int:
    return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] if _has_table(conn, table) else 0


def _count_pg(pg, table: str, where: str = "", args: tuple = ()) -> int:
    return pg.execute(f'SELECT count(*) FROM "{table}" {where}', args).fetchone()[0]


class Migration:
    """One copy of `data_dir` into the database at `url` and the Chroma server `chroma` (a chromadb client)."""

    def __init__(self, data_dir: Path, url: str, chroma, progress: Progress = lambda line: None) -> None:
        self.files = DataFiles(Path(data_dir))
        self.url = url
        self.target_chroma = chroma
        self.say = progress

    # The source -----------------------------------------------------------------------------------

    def _sources(self) -> dict[str, sqlite3.Connection | None]:
        return {name: _read_only(getattr(self.files, name)) for name in ("chats", "traces", "library", "keywords",
                                                                          "checkpoints")}

    def _source_chroma(self):
        from crew.retrieval.memory import chroma_client

        if not self.files.chroma.is_dir():
            return None
        return chroma_client(self.files.data_dir)  # embedded, with the settings the app opens it with

    def _originals(self) -> Iterator[tuple[str, str, Path]]:
        root = self.files.originals
        if root.is_dir():
            for path in sorted(root.glob("*/*")):
                if path.is_file() and not path.name.startswith("."):  # .part-* files are unfinished writes
                    yield path.parent.name, path.name, path

    # The whole run ---------------------------------------------------------------------------------

    def run(self) -> Report:
        import psycopg

        from crew.storage.postgres import ensure_schema

        if not self.files.data_dir.is_dir():
            raise MigrationRefused(f"{self.files.data_dir} is not a directory: name the data dir to copy with --from")
        sources = self._sources()
        chroma = self._source_chroma()
        try:
            collections = chroma.list_collections() if chroma is not None else []
            self.say(f"schema: bringing {_shown(self.url)} to the newest revision")
            ensure_schema(self.url)
            with psycopg.connect(self.url) as pg:
                self._refuse_non_empty(pg, [c.name for c in collections])
                for file, table in TABLES:
                    self._copy_table(sources[file], pg, table)
                self._copy_originals(pg)
                self._copy_keywords(sources["keywords"], pg, [c.name for c in collections])
                pg.commit()
            self._copy_checkpoints(sources["checkpoints"])
            for col in collections:
                self._copy_collection(col)
            return self._verify(sources, collections)
        finally:
            for conn in sources.values():
                if conn is not None:
                    conn.close()

    def _refuse_non_empty(self, pg, collection_names: list[str]) -> None:
        held = [f"{n} {t}" for t in ("chats", "chat_turns", "traces", "spans", "documents", "originals",
                                       "crew_keyword_chunks") if (n := _count_pg(pg, t))]
        if pg.execute("SELECT to_regclass('checkpoints')").fetchone()[0] and (n := _count_pg(pg, "checkpoints")):
            held.append(f"{n} checkpoints")
        existing = {c.name for c in self.target_chroma.list_collections()}
        for name in collection_names:
            if name in existing and (n := self.target_chroma.get_collection(name).count()):
                held.append(f"collection {name} with {n} vectors on the Chroma server")
        if held:
            raise MigrationRefused(
                "the target is not empty (" + ", ".join(held) + "): crew migrate copies into an empty database and"
                " Chroma server only, so nothing is merged or copied twice; point it at new ones, or empty these")

    # Rows ------------------------------------------------------------------------------------------

    def _copy_table(self, conn: sqlite3.Connection | None, pg, table: str) -> None:
        if not _has_table(conn, table):
            self.say(f"{table}: none in the data dir")
            return
        columns = {r[0]: r[1] for r in pg.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s"
            " AND table_schema = current_schema()", (table,))}
        source_columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        names = [c for c in source_columns if c in columns]
        booleans = {c for c in names if columns[c] == "boolean"}  # SQLite keeps them as 0/1
        quoted = ", ".join(f'"{c}"' for c in names)
        insert = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join(["%s"] * len(names))})'
        total = _count_sqlite(conn, table)
        done = 0
        rows = conn.execute(f'SELECT {quoted} FROM "{table}"')
        with pg.cursor() as cur:
            while batch := rows.fetchmany(BATCH):
                cur.executemany(insert, [tuple(bool(v) if c in booleans and v is not None else v
                                               for c, v in zip(names, row)) for row in batch])
                done += len(batch)
                self.say(f"{table}: {done}/{total} rows")
        if not total:
            self.say(f"{table}: 0 rows")

    def _copy_originals(self, pg) -> None:
        done = 0
        for workspace, doc_id, path in self._originals():
            pg.execute("INSERT INTO originals (workspace, doc_id, data) VALUES (%s, %s, %s)",
                       (workspace, doc_id, path.read_bytes()))
            done += 1
            self.say(f"originals: {done} files ({workspace}/{doc_id}, {path.stat().st_size} bytes)")
        if not done:
            self.say("originals: none in the data dir")

    def _copy_keywords(self, conn: sqlite3.Connection | None, pg, collection_names: list[str]) -> None:
        """The FTS5 rows hold each chunk's stems already (`crew.retrieval.stemming.analyze`), as Postgres's do."""
        from crew.retrieval.keywords import _table

        for name in collection_names:
            rows_table = f"{_table(name)}_rows"
            if not _has_table(conn, rows_table):
                continue
            total, done = _count_sqlite(conn, rows_table), 0
            rows = conn.execute(f'SELECT chunk_id, doc_id, text FROM "{rows_table}"')
            with pg.cursor() as cur:
                while batch := rows.fetchmany(BATCH):
                    # One statement per batch: the BM25 statistics' triggers run per statement.
                    cur.execute("INSERT INTO crew_keyword_chunks (collection, chunk_id, doc_id, stems, length)"
                                " SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[])",
                                (name, [r[0] for r in batch], [r[1] for r in batch], [r[2] for r in batch],
                                 [len(r[2].split()) for r in batch]))
                    done += len(batch)
                    self.say(f"keywords of {name}: {done}/{total} chunks")

    def _copy_checkpoints(self, conn: sqlite3.Connection | None) -> None:
        """LangGraph's checkpoints through its own savers (their tables are its business), oldest first."""
        if not _has_table(conn, "checkpoints"):
            self.say("checkpoints: none in the data dir")
            return
        from langgraph.checkpoint.sqlite import SqliteSaver

        from crew.storage.stores import postgres_saver

        source = SqliteSaver(conn)
        target, pool = postgres_saver(self.url)
        try:
            tuples = sorted(source.list(None), key=lambda t: t.checkpoint["id"])  # ids are time-ordered
            for done, tup in enumerate(tuples, 1):
                conf = tup.config["configurable"]
                parent = tup.parent_config or {"configurable": {"thread_id": conf["thread_id"],
                                                                 "checkpoint_ns": conf.get("checkpoint_ns", "")}}
                stored = target.put(parent, tup.checkpoint, tup.metadata, tup.checkpoint.get("channel_versions", {}))
                by_task: dict[str, list] = {}
                for task_id, channel, value in tup.pending_writes or ():
                    by_task.setdefault(task_id, []).append((channel, value))
                for task_id, writes in by_task.items():
                    target.put_writes(stored, writes, task_id)
                if done % 50 == 0 or done == len(tuples):
                    self.say(f"checkpoints: {done}/{len(tuples)}")
        finally:
            pool.close()

    # Vectors ---------------------------------------------------------------------------------------

    def _copy_collection(self, col) -> None:
        space = (col.metadata or {}).get("hnsw:space") or _space(col) or "cosine"
        target = self.target_chroma.get_or_create_collection(col.name, embedding_function=None, metadata=col.metadata,
                                                             configuration={"hnsw": {"space": space}})
        total = col.count()
        for offset in range(0, total, BATCH):
            got = col.get(include=["embeddings", "documents", "metadatas"], limit=BATCH, offset=offset)
            target.add(ids=got["ids"], embeddings=got["embeddings"], documents=got["documents"],
                       metadatas=got["metadatas"])
            self.say(f"vectors of {col.name}: {min(offset + BATCH, total)}/{total}")
        if not total:
            self.say(f"vectors of {col.name}: empty collection created")

    # Verification ----------------------------------------------------------------------------------

    def _verify(self, sources: dict, collections: list) -> Report:
        import psycopg

        from crew.retrieval.keywords import _table

        report = Report()
        with psycopg.connect(self.url) as pg:
            for file, table in TABLES:
                report.counts.append(Count(table, _count_sqlite(sources[file], table), _count_pg(pg, table)))
            report.counts.append(Count("originals", sum(1 for _ in self._originals()), _count_pg(pg, "originals")))
            for col in collections:
                rows = f"{_table(col.name)}_rows"
                report.counts.append(Count(f"keywords {col.name}", _count_sqlite(sources["keywords"], rows),
                                           _count_pg(pg, "crew_keyword_chunks", "WHERE collection = %s", (col.name,))))
            if _has_table(sources["checkpoints"], "checkpoints"):
                report.counts.append(Count("checkpoints", _count_sqlite(sources["checkpoints"], "checkpoints"),
                                           _count_pg(pg, "checkpoints")))
        for col in collections:
            report.counts.append(Count(f"vectors {col.name}", col.count(),
                                       self.target_chroma.get_collection(col.name).count()))
        return report


def _space(col) -> str | None:
    try:
        return (col.configuration or {}).get("hnsw", {}).get("space")
    except Exception:  # an older collection without a configuration
        return None


def _shown(url: str) -> str:
    from crew.redact import url_for_display

    return url_for_display(url)
