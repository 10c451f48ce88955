"""Keyword index beside Chroma: SQLite FTS5 with BM25, accent- and case-insensitive, stemmed.

One FTS5 table per Chroma collection (so per workspace and kind), in one SQLite file under the
data dir. SQLite's own locking makes the index safe to share between processes, which is how
several app instances on one Chroma server see the same keywords. Text and questions are folded
and stemmed in Python first (`crew.retrieval.stemming`: Snowball in the chunk's language, so "instalación"
finds "instalar" and "exceptions" finds "exception"; accents and case fold); FTS5 indexes the
stems as they come (`unicode61 remove_diacritics 2`, no stemmer of its own). The tables of the
English-only `porter` index this replaced are named `kw_*`; these are `kws_*`, so a stemmed query
never runs against an index stemmed the other way (a workspace indexed before re-indexes).

A document being added or removed is *held*: searches skip its chunks until the change is
complete, so nobody cites half a document.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from crew.storage.sql import SqlStore
from crew.retrieval.stemming import analyze, fold, language_of, query_tokens

TOKENIZER = "unicode61 remove_diacritics 2"  # the text arrives stemmed and folded (crew.stemming)
# A word with inner punctuation ("INV-2093", "3.14", "os.path") is searched as a phrase of its parts, or by its parts
# alone where no chunk holds the phrase (`by_parts`).
_WORD = re.compile(r"[^\W_]+(?:[-./:_'’][^\W_]+)*")
MAX_TERMS = 16
# Ranking cost grows with the postings read (~1.3 µs each here); beyond this many the commonest
# terms are left out (their BM25 weight is small anyway): a query stays under ~20 ms at 100k chunks,
# and recall on the FAQ bench is the same as with twice the budget. A query whose rarest word is past
# the budget on its own ("What is Python?" in the Python docs) gets no keyword search at all: BM25 over
# thousands of chunks that all say "python" ranks by how often they say it (40-50 ms at 100k chunks,
# the slowest searches), and the vectors judge such a question better.
POSTINGS_BUDGET = 5_000
# Question words and glue in the languages our people write (English, Spanish): in a question
# they carry no topic, yet "why" is rare enough in documentation to outweigh the real words.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both but by
can could did do does doing don down during each few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our
ours ourselves out over own same she should so some such than that the their theirs them themselves then there these they
this those through to too under until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves isn doesn aren wasn weren hasn haven hadn won wouldn shouldn couldn can't cannot t s ll ve re d
al algo ante antes como con contra cual cuales cuando de del desde donde durante e el ella ellas ellos en entre era eran es
esa esas ese eso esos esta estaba estado estan estas este esto estos fue fueron ha han hasta hay la las le les lo los mas me
mi mis mucho muy nada ni no nos o os otra otras otro otros para pero poco por porque que quien quienes se sea ser si sin
sobre son su sus tambien te tiene tienen todo todos tu tus un una unas uno unos y ya yo
""".split())


def query_words(query: str) -> list[str]:
    """The words of a query worth searching for: no duplicates, no stopwords (unless nothing else is left)."""
    words = list(dict.fromkeys(_WORD.findall(fold(query))))
    useful = [w for w in words if w not in STOPWORDS and re.split(r"['’]", w)[0] not in STOPWORDS]
    return useful or words


def query_terms(query: str) -> list[tuple[str, tuple[str, ...]]]:
    """Pair each query word with its tokens as the index stores them (stemmed, folded).

    The words are stemmed in the question's language, as the index stemmed each chunk in its own.
    """
    language = language_of(query)
    seen: set[tuple[str, ...]] = set()
    out = []
    for word in query_words(query)[: MAX_TERMS * 2]:
        tokens = query_tokens(word, language)
        if tokens and tokens not in seen:
            seen.add(tokens)
            out.append((word, tokens))
    return out


def by_parts(phrases: Iterable[tuple[str, ...]], holds: Callable[[tuple[str, ...]], bool]) -> list[tuple[str, ...]]:
    """The query's phrases, each one of several words the index does not hold whole (`holds`) replaced by its
    words: people write a name as a path or a dotted name ("debian/watch") that a document spells otherwise
    ("the watch file", under a `debian/` heading), and a phrase nobody wrote matches nothing."""
    out: list[tuple[str, ...]] = []
    for toks in phrases:
        out.extend([toks] if len(toks) == 1 or holds(toks) else [(tok,) for tok in toks])
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class KeywordQuery:
    """A query ready to run against one collection's FTS5 table."""

    table: str
    match: str


def _phrase(tokens: tuple[str, ...]) -> str:
    """An FTS5 phrase of stemmed tokens (letters and digits only, so nothing inside needs quoting)."""
    return '"' + " ".join(tokens) + '"'


def _table(collection: str) -> str:
    return "kws_" + re.sub(r"[^A-Za-z0-9]", "_", collection)


_HOLDS = ("CREATE TABLE IF NOT EXISTS holds (collection TEXT NOT NULL, doc_id TEXT NOT NULL, since REAL NOT NULL,"
          " PRIMARY KEY (collection, doc_id))")


class KeywordIndex(SqlStore):
    """BM25 keyword search over chunks, keyed by Chroma collection name.

    Writes go through the store's one connection; searches read on a connection of their own
    thread (`SqlStore`'s parallel reads), so they run side by side (WAL).
    """

    def __init__(self, path: Path | str) -> None:
        super().__init__(path, _HOLDS, parallel_reads=True)
        self._ready: set[str] = set()
        self._drop_porter_tables()

    def _drop_porter_tables(self) -> None:
        """Drop the `kw_*` tables of the porter-stemmed index this one replaced (nothing reads them).

        Idempotent and cheap once done (one look at the schema); the listing is read inside the
        transaction, so two processes opening the file at once do not both drop. The pages freed
        are reused as the `kws_*` tables grow (no VACUUM: it would hold the file for a long time).
        """
        with self.transaction() as db:
            # Virtual tables first: an FTS5 table takes its shadow tables with it, then the content
            # tables go with their indexes and triggers.
            for virtual in (True, False):
                for row in db.rows("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'kw\\_%' ESCAPE '\\'"):
                    if (row["sql"] or "").upper().startswith("CREATE VIRTUAL TABLE") == virtual:
                        db.run(f'DROP TABLE IF EXISTS "{row["name"]}"')

    def _ensure(self, collection: str) -> str:
        t = _table(collection)
        if collection in self._ready:
            return t
        with self.transaction() as db:
            db.run(f'CREATE TABLE IF NOT EXISTS "{t}_rows" (rowid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE,'
                   " doc_id TEXT NOT NULL, text TEXT NOT NULL)")
            db.run(f'CREATE INDEX IF NOT EXISTS "{t}_doc" ON "{t}_rows" (doc_id)')
            db.run(f'CREATE VIRTUAL TABLE IF NOT EXISTS "{t}" USING fts5(text, content="{t}_rows",'
                   f" content_rowid='rowid', tokenize='{TOKENIZER}')")
            db.run(f'CREATE VIRTUAL TABLE IF NOT EXISTS "{t}_vocab" USING fts5vocab("{t}", \'row\')')
            # Triggers keep the FTS index in step with its content table, whoever writes.
            db.run(f'CREATE TRIGGER IF NOT EXISTS "{t}_ai" AFTER INSERT ON "{t}_rows" BEGIN'
                   f' INSERT INTO "{t}"(rowid, text) VALUES (new.rowid, new.text); END')
            db.run(f'CREATE TRIGGER IF NOT EXISTS "{t}_ad" AFTER DELETE ON "{t}_rows" BEGIN'
                   f' INSERT INTO "{t}"("{t}", rowid, text) VALUES (\'delete\', old.rowid, old.text); END')
        self._ready.add(collection)  # once committed: other threads read on connections of their own
        return t

    def add(self, collection: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """Index (chunk_id, doc_id, text) rows; a chunk id already indexed is replaced.

        The index keeps each text stemmed in its own language (Chroma keeps the text itself).
        """
        t = self._ensure(collection)
        rows = [(cid, doc, analyze(text)) for cid, doc, text in rows]
        with self.transaction() as db:
            db.run_many(f'DELETE FROM "{t}_rows" WHERE chunk_id = ?', [(r[0],) for r in rows])
            db.run_many(f'INSERT INTO "{t}_rows" (chunk_id, doc_id, text) VALUES (?, ?, ?)', rows)

    def delete_document(self, collection: str, doc_id: str) -> int:
        t = self._ensure(collection)
        return self.run(f'DELETE FROM "{t}_rows" WHERE doc_id = ?', (doc_id,))

    def count(self, collection: str, doc_id: str | None = None) -> int:
        t = self._ensure(collection)
        if doc_id is None:
            return self.rows(f'SELECT count(*) FROM "{t}_rows"')[0][0]
        return self.rows(f'SELECT count(*) FROM "{t}_rows" WHERE doc_id = ?', (doc_id,))[0][0]

    def prepare(self, collection: str, query: str) -> KeywordQuery | None:
        """Turn a query into the FTS5 expression to run (None when no word of it is in the index).

        Words nobody uses are dropped, and a name of several words nobody wrote whole is searched by its words
        (`by_parts`); past the postings budget the commonest words are dropped too (all of them when the rarest is
        past it alone).
        """
        terms = query_terms(query)
        if not terms:
            return None
        t = self._ensure(collection)
        total = self.rows(f'SELECT count(*) FROM "{t}_rows"')[0][0]
        if not total:
            return None
        tokens = sorted({tok for _, toks in terms for tok in toks})
        df = {r[0]: r[1] for r in self.rows(
            f'SELECT term, doc FROM "{t}_vocab" WHERE term IN ({",".join("?" * len(tokens))})', tokens)}
        phrases = by_parts((toks for _, toks in terms), lambda toks: min(df.get(tok, 0) for tok in toks) > 0 and bool(
            self.rows(f'SELECT 1 FROM "{t}" WHERE "{t}" MATCH ? LIMIT 1', (_phrase(toks),))))
        # A phrase is as rare as its rarest word; a term nobody uses cannot match.
        scored = sorted((s for s in ((min(df.get(tok, 0) for tok in toks), toks) for toks in phrases) if s[0] > 0),
                        key=lambda s: s[0])
        kept, postings = [], 0
        for freq, toks in scored[:MAX_TERMS]:
            if postings + freq > POSTINGS_BUDGET or (kept and freq > total / 2):
                break
            kept.append(toks)
            postings += freq
        if not kept:
            return None
        # The stemmed forms go into MATCH, each a phrase of its tokens.
        return KeywordQuery(t, " OR ".join(_phrase(toks) for toks in kept))

    def rank(self, q: KeywordQuery | None, n: int, exclude_docs: Iterable[str] = (),
             also: Iterable[str] = ()) -> tuple[list[tuple[str, float]], dict[str, float]]:
        """Return the n best (chunk_id, score) and the scores of the chunks in `also` that match at
        all, from one pass over the index (a second MATCH would cost as much again)."""
        if q is None:
            return [], {}
        skip, extra = set(exclude_docs), list(dict.fromkeys(also))
        t = q.table
        matches = (f'SELECT r.chunk_id AS chunk_id, r.doc_id AS doc_id, bm25("{t}") AS s FROM "{t}"'
                   f' JOIN "{t}_rows" r ON r.rowid = "{t}".rowid WHERE "{t}" MATCH ?')
        limit = n + (n if skip else 0)
        if extra:
            sql = (f"WITH m AS MATERIALIZED ({matches}) SELECT *, 1 FROM (SELECT * FROM m ORDER BY s LIMIT ?)"
                   f" UNION ALL SELECT *, 0 FROM m WHERE chunk_id IN ({','.join('?' * len(extra))})")
            args: tuple = (q.match, limit, *extra)
        else:
            sql, args = f"SELECT *, 1 FROM ({matches} ORDER BY s LIMIT ?)", (q.match, limit)
        rows = self.rows(sql, args)
        best = sorted(((-float(s), cid) for cid, doc, s, first in rows if first and doc not in skip), reverse=True)
        scores = {cid: -float(s) for cid, doc, s, first in rows if not first}
        return [(cid, score) for score, cid in best[:n]], scores

    # Holds: documents half-written or half-deleted, hidden from search until done.

    def hold(self, collection: str, doc_id: str) -> None:
        self.run("INSERT OR REPLACE INTO holds (collection, doc_id, since) VALUES (?, ?, ?)",
                 (collection, doc_id, time.time()))

    def release(self, collection: str, doc_id: str) -> None:
        self.run("DELETE FROM holds WHERE collection = ? AND doc_id = ?", (collection, doc_id))

    def held(self, collection: str) -> set[str]:
        return {r[0] for r in self.rows("SELECT doc_id FROM holds WHERE collection = ?", (collection,))}
