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
a common word counts as much as a rare code (keyword recall@5 0.623 against 0.662, bench/RESULTS.md). So
statement triggers keep, per collection, the chunk count, total length and chunks per word (what FTS5's
fts5vocab gives); `prepare` reads them (a phrase of several words is counted through the GIN index), and
`rank` sums idf × saturated term frequency (`ts_rank_cd` of one phrase with unit weights is its number of
occurrences) with FTS5's length normalisation (k1 = 1.2, b = 0.75). A search's time goes on the rows it matches,
so nothing is computed per row that could be computed once: `prepare` folds the phrases, and each row's
ts_rank_cd per phrase and length term are computed once, in float8 (p95 78 -> 22 ms at 100k chunks).

Holds (documents half-written or half-deleted) are rows of their own table, as in the SQLite index.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterable, Literal

from crew.retrieval.keywords import MAX_TERMS, POSTINGS_BUDGET, by_parts, query_terms
from crew.retrieval.stemming import analyze
from crew.storage.postgres import ensure_schema, open_pool

K1, B = 1.2, 0.75  # FTS5's bm25() defaults
Ranking = Literal["bm25", "ts_rank_cd"]

# A phrase as `prepare` hands it on, already through crew_unaccent: unaccent() is STABLE, so the planner never
# folds it into a constant and a query that called it in `rank` ran it (and phraseto_tsquery) on every matching row.
_PHRASE = "phraseto_tsquery('simple', %s)"


@dataclass(frozen=True)
class PgKeywordQuery:
    """A query ready to run against one collection: its phrases (stems joined by spaces, folded by
    crew_unaccent as the index's tsvector is) and their idf."""

    collection: str
    phrases: tuple[str, ...]
    idf: tuple[float, ...]
    avg_length: float


class PgKeywordIndex:
    """BM25 keyword search over chunks in Postgres, keyed by Chroma collection name.

    The same methods, arguments and answers as `KeywordIndex`, so `Memory(..., keywords=PgKeywordIndex(url))`
    searches the same way. The schema is created (or migrated) when the index opens; its tables, GIN index
    and BM25 triggers are in alembic revision 0001 (crew/storage/schema/versions).
    """

    def __init__(self, url: str, *, pool_size: int = 8, ranking: Ranking = "bm25", timeout: float = 10.0) -> None:
        self.ranking = ranking
        self._pool = open_pool(url, max_size=pool_size, timeout=timeout, name="crew-keywords")
        try:
            self.migrations_applied = ensure_schema(url)
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

        Words nobody uses are dropped, a name of several words nobody wrote whole is searched by its words
        (`by_parts`); past the postings budget the commonest words are dropped too, all of them when the rarest is
        past it alone (as FTS5's).
        """
        terms = query_terms(query)
        if not terms:
            return None
        # Like FTS5's, a phrase is as rare as its rarest word (from the kept counts); its true count, for the
        # idf, is read through the GIN index only for the few phrases of two or more words that are kept.
        with self._pool.connection() as conn:
            stats = conn.execute("SELECT chunks, length::float8 / greatest(chunks, 1) FROM crew_keyword_stats"
                                 " WHERE collection = %s", (collection,)).fetchone()
            if stats is None or not stats[0]:
                return None
            total, avg_length = stats[0], float(stats[1])
            several = list(dict.fromkeys(toks for _, toks in terms if len(toks) > 1))
            written: set[tuple[str, ...]] = set()  # the phrases some chunk holds whole
            if several:
                exists = ", ".join("EXISTS (SELECT 1 FROM crew_keyword_chunks WHERE collection = %s AND tsv @@"
                                   " phraseto_tsquery('simple', crew_unaccent(%s)))" for _ in several)
                got = conn.execute(f"SELECT {exists}", [a for toks in several for a in (collection, " ".join(toks))],
                                   prepare=False).fetchone()
                written = {toks for toks, there in zip(several, got) if there}
            phrases = list(dict.fromkeys(" ".join(toks) for toks in by_parts((toks for _, toks in terms),
                                                                              written.__contains__)))
            found = conn.execute(
                "SELECT crew_unaccent(p.phrase), (SELECT coalesce(min(coalesce(t.chunks, 0)), 0)"
                " FROM unnest(tsvector_to_array(to_tsvector('simple', crew_unaccent(p.phrase)))) AS l (lexeme)"
                " LEFT JOIN crew_keyword_terms t ON t.collection = %s AND t.term = l.lexeme)"
                " FROM unnest(%s::text[]) WITH ORDINALITY AS p (phrase, i) ORDER BY p.i", (collection, phrases)).fetchall()
            phrases, df = [r[0] for r in found], [r[1] for r in found]
            scored = sorted((d, p) for d, p in zip(df, phrases) if d > 0)
            kept: list[tuple[str, int]] = []
            postings = 0
            for freq, phrase in scored[:MAX_TERMS]:
                if postings + freq > POSTINGS_BUDGET or (kept and freq > total / 2):
                    break
                kept.append((phrase, freq))
                postings += freq
            exact = [p for p, _ in kept if " " in p]
            if exact:
                counts = ", ".join(f"(SELECT count(*) FROM crew_keyword_chunks WHERE collection = %s"
                                   f" AND tsv @@ {_PHRASE})" for _ in exact)
                got = conn.execute(f"SELECT {counts}", [a for p in exact for a in (collection, p)],
                                   prepare=False).fetchone()
                found = dict(zip(exact, got))
                kept = [(p, found.get(p, freq)) for p, freq in kept]
        # FTS5's idf, floored the same way so a word in most chunks still counts a little.
        weighted = [(p, max(math.log((total - f + 0.5) / (f + 0.5)), 1e-6)) for p, f in kept if f > 0]
        if not weighted:
            return None
        return PgKeywordQuery(collection, tuple(p for p, _ in weighted), tuple(i for _, i in weighted),
                              max(avg_length, 1.0))

    def rank(self, q: PgKeywordQuery | None, n: int, exclude_docs: Iterable[str] = (),
             also: Iterable[str] = ()) -> tuple[list[tuple[str, float]], dict[str, float]]:
        """Return the n best (chunk_id, score) and the scores of the chunks in `also` that match at
        all, from one pass over the index."""
        if q is None:
            return [], {}
        skip, extra = set(exclude_docs), list(dict.fromkeys(also))
        match = " || ".join([_PHRASE] * len(q.phrases))
        if self.ranking == "bm25":
            # Per row: k1 × (1 - b + b × length / mean length), once, in float8 (Python's floats; a literal
            # such as 0.75 would be numeric, whose arithmetic is slow); per phrase, idf × tf × (k1 + 1) / (tf + that).
            norm = "%s::float8 + %s::float8 * length"
            norm_args = [K1 * (1 - B), K1 * B / q.avg_length]
            score = " + ".join(f"%s::float8 * tf{i} / (tf{i} + norm)" for i in range(len(q.phrases)))
            score_args: list = [idf * (K1 + 1) for idf in q.idf]
            # OFFSET 0 keeps the inner query whole: merged into the outer one, each tf{i} (named twice in the
            # score) was computed twice, and ts_rank_cd is most of a search's time.
            tfs = ", ".join(f"ts_rank_cd('{{1,1,1,1}}', tsv, {_PHRASE}, 0)::float8 AS tf{i}"
                            for i in range(len(q.phrases)))
            matches = (f"SELECT chunk_id, doc_id, {score} AS s FROM (SELECT chunk_id, doc_id, {norm} AS norm, {tfs}"
                       f" FROM crew_keyword_chunks WHERE collection = %s AND tsv @@ ({match}) OFFSET 0) t")
            args: list = [*score_args, *norm_args, *q.phrases, q.collection, *q.phrases]
        else:  # Postgres's own cover-density ranking, no idf (kept to measure against)
            matches = (f"SELECT chunk_id, doc_id, ts_rank_cd(tsv, ({match})) AS s FROM crew_keyword_chunks"
                       f" WHERE collection = %s AND tsv @@ ({match})")
            args = [*q.phrases, q.collection, *q.phrases]
        limit = n + (n if skip else 0)
        sql = (f"WITH m AS MATERIALIZED ({matches}) SELECT *, true FROM (SELECT * FROM m ORDER BY s DESC,"
               " chunk_id DESC LIMIT %s) best UNION ALL SELECT *, false FROM m WHERE chunk_id = ANY(%s)")
        with self._pool.connection() as conn:
            # Never as a prepared statement: its generic plan would build every tsquery again on each row.
            rows = conn.execute(sql, [*args, limit, extra], prepare=False).fetchall()
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
