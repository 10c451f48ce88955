"""A keywords.sqlite from before the stemmed index loses its old `kw_*` tables when opened, once."""

from __future__ import annotations

import sqlite3

from crew.retrieval.keywords import KeywordIndex
from crew.storage.files import DataFiles


def _porter_index(path, collection: str) -> None:
    """Write the tables the porter-stemmed index (before `kws_*`) made for one collection."""
    t = "kw_" + collection
    db = sqlite3.connect(path)
    db.executescript(f"""
        CREATE TABLE "{t}_rows" (rowid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
                                 text TEXT NOT NULL);
        CREATE INDEX "{t}_doc" ON "{t}_rows" (doc_id);
        CREATE VIRTUAL TABLE "{t}" USING fts5(text, content="{t}_rows", content_rowid='rowid',
                                              tokenize='porter unicode61 remove_diacritics 2');
        CREATE VIRTUAL TABLE "{t}_vocab" USING fts5vocab("{t}", 'row');
        CREATE TRIGGER "{t}_ai" AFTER INSERT ON "{t}_rows" BEGIN
            INSERT INTO "{t}"(rowid, text) VALUES (new.rowid, new.text); END;
        CREATE TRIGGER "{t}_ad" AFTER DELETE ON "{t}_rows" BEGIN
            INSERT INTO "{t}"("{t}", rowid, text) VALUES ('delete', old.rowid, old.text); END;
        INSERT INTO "{t}_rows" (chunk_id, doc_id, text) VALUES ('c1', 'd1', 'green tea contains catechins');
    """)
    db.close()


def _names(path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master"))
    finally:
        db.close()


def test_opening_drops_the_porter_tables_and_keeps_the_stemmed_ones(tmp_path):
    path = DataFiles(tmp_path).keywords
    index = KeywordIndex(path)
    index.add("crew_documents_w", [("c1", "d1", "Green tea contains catechins such as EGCG.")])
    index.close()
    _porter_index(path, "crew_documents_w")
    _porter_index(path, "crew_findings_w")
    assert any(n.startswith("kw_") for n in _names(path))

    index = KeywordIndex(path)
    try:
        assert not [n for n in _names(path) if n.startswith("kw_")]  # tables, shadow tables, index, triggers
        assert any(n.startswith("kws_") for n in _names(path))
        best, _ = index.rank(index.prepare("crew_documents_w", "catechins"), 5)
        assert [cid for cid, _ in best] == ["c1"]
    finally:
        index.close()

    again = KeywordIndex(path)  # a second open finds nothing to drop and changes nothing
    try:
        assert again.count("crew_documents_w") == 1
    finally:
        again.close()
