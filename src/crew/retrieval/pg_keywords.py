"""Keyword index on Postgres: the same search as `crew.retrieval.keywords` (SQLite FTS5), for a team.

Where several app instances share no disk, the keyword index lives in the database of
`CREW_DATABASE_URL`: one table of chunks for every collection, a generated `tsvector` column and a
GIN index on (collection, tsvector) (`btree_gin`, so a search reads one workspace's postings only).

Text is analysed exactly as for FTS5 (`crew.retrieval.stemming`: folded, then Snowball-stemmed in the
chunk's own language, Spanish or English; a question in its own), and Postgres indexes those stems with
the `simple` configuration, no stemmer of its own. That keeps the two backends' tokens identical: the
`spanish`/`english` configurations would need the language per chunk in SQL, and Postgres's parser cuts
"os.path" and "INV-2093" into tokens of its own kinds, unlike the phrases a query makes of them. On top,
`unaccent` (through an IMMUTABLE wrapper, which a generated column requires) folds on both sides what
Unicode decomposition leaves alone ("ø", "ł", "ß").

Ranking is BM25 as FTS5 computes it. Postgres's own `ts_rank_cd` has no inverse document frequency:
a common word counts as much as a rare code. So `prepare` counts, through the GIN index, how many chunks
hold each query phrase, and `rank` sums idf × saturated term frequency (`ts_rank_cd` of one phrase with
unit weights is its number of occurrences) with FTS5's length normalisation (k1 = 1.2, b = 0.75).

Holds (documents half-written or half-deleted) are rows of their own table, as in the SQLite index.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterable, Literal

from crew.retrieval.keywords import MAX_TERMS, POSTINGS_BUDGET, query_terms
from crew.retrieval.stemming import analyze
from crew.storage.postgres import Migration, migrate, open_pool

COMPONENT = "keywords"
K1, B = 1.2, 0.75  # FTS5's bm25() defaults
Ranking = Literal["bm25", "ts_rank_cd"]

_STATS_FUNCTION = (
    "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO crew_keyword_stats (collection, chunks, length)"
    " SELECT collection, sum(n), sum(length) FROM ({rows}) AS r GROUP BY collection ORDER BY collection"
    " ON CONFLICT (collection) DO UPDATE SET chunks = crew_keyword_stats.chunks + excluded.chunks,"
    " length = crew_keyword_stats.length + excluded.length;"
    " RETURN NULL; END $$"
)

MIGRATIONS = (
    Migration(1, (
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        "CREATE EXTENSION IF NOT EXISTS btree_gin",
        # unaccent() is STABLE (it reads a dictionary named at run time); naming the dictionary makes
        # the result depend on the text alone, which a generated column and its index need.
        "CREATE OR REPLACE FUNCTION crew_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
        " AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$",
        "CREATE TABLE IF NOT EXISTS crew_keyword_chunks (collection text NOT NULL, chunk_id text NOT NULL,"
        " doc_id text NOT NULL, stems text NOT NULL, length integer NOT NULL,"
        " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, crew_unaccent(stems))) STORED,"
        " PRIMARY KEY (collection, chunk_id))",
        "CREATE INDEX IF NOT EXISTS crew_keyword_chunks_tsv ON crew_keyword_chunks USING gin (collection, tsv)",
        "CREATE INDEX IF NOT EXISTS crew_keyword_chunks_doc ON crew_keyword_chunks (collection, doc_id)",
        "CREATE TABLE IF NOT EXISTS crew_keyword_holds (collection text NOT NULL, doc_id text NOT NULL,"
        " since double precision NOT NULL, PRIMARY KEY (collection, doc_id))",
        # BM25 needs each collection's chunk count and mean length on every search; counting them took
        # 67 ms at 100k chunks, so statement triggers keep them (one update per writing statement).
        "CREATE TABLE IF NOT EXISTS crew_keyword_stats (collection text PRIMARY KEY, chunks bigint NOT NULL,"
        " length bigint NOT NULL)",
        _STATS_FUNCTION.format(name="crew_keyword_stats_added", rows="SELECT collection, 1 AS n, length FROM new_rows"),
        _STATS_FUNCTION.format(name="crew_keyword_stats_changed", rows="SELECT collection, 0 AS n, length FROM new_rows"
                               " UNION ALL SELECT collection, 0, -length FROM old_rows"),
        _STATS_FUNCTION.format(name="crew_keyword_stats_removed",
                               rows="SELECT collection, -1 AS n, -length AS length FROM old_rows"),
        "CREATE OR REPLACE TRIGGER crew_keyword_stats_ins AFTER INSERT ON crew_keyword_chunks"
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crew_keyword_stats_added()",
        "CREATE OR REPLACE TRIGGER crew_keyword_stats_upd AFTER UPDATE ON crew_keyword_chunks"
        " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION crew_keyword_stats_changed()",
        "CREATE OR REPLACE TRIGGER crew_keyword_stats_del AFTER DELETE ON crew_keyword_chunks"
        " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION crew_keyword_stats_removed()",
    )),
)

_PHRASE = "phraseto_tsquery('simple', crew_unaccent(%s))"


@dataclass(frozen=True)
class PgKeywordQuery:
    """A query ready to run against one collection: its phrases (stems joined by spaces) and their idf."""

    collection: str
    phrases: tuple[str, ...]
    idf: tuple[float, ...]
    avg_length: float


class PgKeywordIndex:
    """BM25 keyword search over chunks in Postgres, keyed by Chroma collection name.

    The same methods, arguments and answers as `KeywordIndex`, so `Memory(..., keywords=PgKeywordIndex(url))`
    searches the same way. The schema is created (or migrated) when the index opens.
    """

    def __init__(self, url: str, *, pool_size: int = 8, ranking: Ranking = "bm25", timeout: float = 10.0) -> None:
        self.ranking = ranking
        self._pool = open_pool(url, max_size=pool_size, timeout=timeout, name="crew-keywords")
        try:
            self.migrations_applied = migrate(self._pool, COMPONENT, MIGRATIONS)
        except BaseException:
            self._pool.close()
            raise

    def add(self, collection: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """Index (chunk_id, doc_id, text) rows; a chunk id already indexed is replaced."""
        latest: dict[str, tuple[str, str, str, str, int]] = {}
        for cid, doc, text in rows:
            stems = analyze(text)
            latest[cid] = (collection, cid, doc, stems, len(stems.split()))
        if not latest:
            return
        # One statement (so the stats triggers run once), rows in chunk id order: two writers touching the
        # same chunks lock them in the same order, then the stats row, and neither waits on the other in a circle.
        ordered = [latest[cid] for cid in sorted(latest)]
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO crew_keyword_chunks (collection, chunk_id, doc_id, stems, length)"
                " SELECT %s, chunk_id, doc_id, stems, length FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[])"
                " WITH ORDINALITY AS r"
                " (chunk_id, doc_id, stems, length, i) ORDER BY i"
                " ON CONFLICT (collection, chunk_id) DO UPDATE SET doc_id = excluded.doc_id, stems = excluded.stems,"
                " length = excluded.length",
                (collection, *([row[k] for row in ordered] for k in range(1, 5))))

    def delete_document(self, collection: str, doc_id: str) -> int:
        with self._pool.connection() as conn:
            return conn.execute("DELETE FROM crew_keyword_chunks WHERE collection = %s AND doc_id = %s",
                                (collection, doc_id)).rowcount

    def count(self, collection: str, doc_id: str | None = None) -> int:
        with self._pool.connection() as conn:
            if doc_id is None:
                row = conn.execute("SELECT count(*) FROM crew_keyword_chunks WHERE collection = %s",
                                   (collection,)).fetchone()
            else:
                row = conn.execute("SELECT count(*) FROM crew_keyword_chunks WHERE collection = %s AND doc_id = %s",
                                   (collection, doc_id)).fetchone()
        return row[0]

    def terms(self, query: str) -> list[tuple[str, tuple[str, ...]]]:
        """Pair each query word with its tokens as the index stores them (stemmed, folded)."""
        return query_terms(query)

    def prepare(self, collection: str, query: str) -> PgKeywordQuery | None:
        """Turn a query into the phrases to run and their idf (None when no word of it is in the index).

        Words nobody uses are dropped; past the postings budget the commonest words are too (as FTS5's).
        """
        terms = query_terms(query)
        if not terms:
            return None
        phrases = list(dict.fromkeys(" ".join(toks) for _, toks in terms))
        counts = ", ".join(f"(SELECT count(*) FROM crew_keyword_chunks WHERE collection = %s AND tsv @@ {_PHRASE})"
                           for _ in phrases)
        args = [a for phrase in phrases for a in (collection, phrase)]
        with self._pool.connection() as conn:
            row = conn.execute(f"SELECT s.chunks, s.length::float8 / greatest(s.chunks, 1), {counts}"
                               " FROM crew_keyword_stats s WHERE s.collection = %s", [*args, collection]).fetchone()
        if row is None:
            return None
        total, avg_length, df = row[0], float(row[1]), row[2:]
        if not total:
            return None
        scored = sorted((d, p) for d, p in zip(df, phrases) if d > 0)
        kept: list[tuple[str, float]] = []
        postings = 0
        for freq, phrase in scored[:MAX_TERMS]:
            if kept and (postings + freq > POSTINGS_BUDGET or freq > total / 2):
                break
            # FTS5's idf, floored the same way so a word in most chunks still counts a little.
            kept.append((phrase, max(math.log((total - freq + 0.5) / (freq + 0.5)), 1e-6)))
            postings += freq
        if not kept:
            return None
        return PgKeywordQuery(collection, tuple(p for p, _ in kept), tuple(i for _, i in kept), max(avg_length, 1.0))

    def rank(self, q: PgKeywordQuery | None, n: int, exclude_docs: Iterable[str] = (),
             also: Iterable[str] = ()) -> tuple[list[tuple[str, float]], dict[str, float]]:
        """Return the n best (chunk_id, score) and the scores of the chunks in `also` that match at
        all, from one pass over the index."""
        if q is None:
            return [], {}
        skip, extra = set(exclude_docs), list(dict.fromkeys(also))
        match = " || ".join([_PHRASE] * len(q.phrases))
        if self.ranking == "bm25":
            norm = f"{K1} * ({1 - B} + {B} * length / %s)"
            score = " + ".join(f"%s * tf{i} * {K1 + 1} / (tf{i} + {norm})" for i in range(len(q.phrases)))
            score_args: list = [a for idf in q.idf for a in (idf, q.avg_length)]
            tfs = ", ".join(f"ts_rank_cd('{{1,1,1,1}}', tsv, {_PHRASE}, 0) AS tf{i}" for i in range(len(q.phrases)))
            matches = (f"SELECT chunk_id, doc_id, {score} AS s FROM (SELECT chunk_id, doc_id, length, {tfs}"
                       f" FROM crew_keyword_chunks WHERE collection = %s AND tsv @@ ({match})) t")
            args: list = [*score_args, *q.phrases, q.collection, *q.phrases]
        else:  # Postgres's own cover-density ranking, no idf (kept to measure against)
            matches = (f"SELECT chunk_id, doc_id, ts_rank_cd(tsv, ({match})) AS s FROM crew_keyword_chunks"
                       f" WHERE collection = %s AND tsv @@ ({match})")
            args = [*q.phrases, q.collection, *q.phrases]
        limit = n + (n if skip else 0)
        sql = (f"WITH m AS MATERIALIZED ({matches}) SELECT *, true FROM (SELECT * FROM m ORDER BY s DESC,"
               " chunk_id DESC LIMIT %s) best UNION ALL SELECT *, false FROM m WHERE chunk_id = ANY(%s)")
        with self._pool.connection() as conn:
            rows = conn.execute(sql, [*args, limit, extra]).fetchall()
        best = sorted(((float(s), cid) for cid, doc, s, first in rows if first and doc not in skip), reverse=True)
        scores = {cid: float(s) for cid, doc, s, first in rows if not first}
        return [(cid, score) for score, cid in best[:n]], scores

    # Holds: documents half-written or half-deleted, hidden from search until done.

    def hold(self, collection: str, doc_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("INSERT INTO crew_keyword_holds (collection, doc_id, since) VALUES (%s, %s, %s)"
                         " ON CONFLICT (collection, doc_id) DO UPDATE SET since = excluded.since",
                         (collection, doc_id, time.time()))

    def release(self, collection: str, doc_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM crew_keyword_holds WHERE collection = %s AND doc_id = %s", (collection, doc_id))

    def held(self, collection: str) -> set[str]:
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT doc_id FROM crew_keyword_holds WHERE collection = %s", (collection,)).fetchall()
        return {r[0] for r in rows}

    def close(self) -> None:
        self._pool.close()
