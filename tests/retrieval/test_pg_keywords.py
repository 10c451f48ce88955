"""The keyword index on Postgres behaves as the SQLite FTS5 one: the shared tests run on both backends
(a real Postgres server, tests/postgres.py); the rest are Postgres's own (schema, pool, errors)."""

from __future__ import annotations

import threading
import uuid

import pytest

from crew.retrieval.keywords import KeywordIndex
from crew.retrieval.pg_keywords import PgKeywordIndex
from crew.storage.postgres import DatabaseError


@pytest.fixture(scope="module")
def pg_url(postgres_server):
    return postgres_server.create_database(f"kw_{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["sqlite", "postgres"])
def index(request, tmp_path):
    if request.param == "sqlite":
        idx = KeywordIndex(tmp_path / "keywords.sqlite")
    else:
        idx = PgKeywordIndex(request.getfixturevalue("pg_url"))
    yield idx
    idx.close()


@pytest.fixture
def col():
    """A collection name of this test's own (the Postgres database is shared by the module's tests)."""
    return f"crew_documents_t_{uuid.uuid4().hex[:8]}"


def search(index, collection, query, n=5, **kwargs):
    return [cid for cid, _ in index.rank(index.prepare(collection, query), n, **kwargs)[0]]


SPANISH = [
    "La información del censo agrícola se publica cada diez años.",
    "El niño aprendió a nadar en la piscina municipal durante el verano.",
    "Los resultados de la votación se conocerán el próximo martes.",
    "La cigüeña anida en el campanario de la iglesia desde marzo.",
    "Esta canción popular se canta en las fiestas del pueblo.",
]


@pytest.mark.parametrize("query, wanted", [
    ("informacion del censo", 0), ("INFORMACIÓN", 0), ("nino piscina", 1), ("votacion proximo", 2), ("ciguena", 3),
    ("canción", 4), ("cancion", 4),
])
def test_accents_and_case_fold(index, col, query, wanted):
    index.add(col, [(f"es-{i}", "es", t) for i, t in enumerate(SPANISH)])
    assert search(index, col, query, 1) == [f"es-{wanted}"]


def test_text_without_accents_is_found_by_a_query_with_them(index, col):
    index.add(col, [("plain", "p", "Una cancion sin tildes sobre el proyecto Aguila."),
                    ("other", "o", "Otro texto cualquiera sobre el tiempo.")])
    assert search(index, col, "canción águila", 1) == ["plain"]


def test_spanish_and_english_words_are_stemmed(index, col):
    index.add(col, [
        ("es", "es", "Para instalar el programa, ejecute apt con permisos de administrador."),
        ("cat", "cat", "El gato duerme en el sofá toda la tarde."),
        ("en", "en", "Install the program with apt as the administrator."),
        ("exc", "exc", "Raising an exception is cheap when nothing catches it."),
    ])
    for query in ("instalación", "instalacion", "installing"):
        assert set(search(index, col, query, 3)) == {"es", "en"}, query
    assert search(index, col, "gatos dormidos", 3) == ["cat"]
    assert search(index, col, "how fast are exceptions?", 1) == ["exc"]


def test_codes_are_searched_as_phrases(index, col):
    index.add(col, [("a", "d", "Invoice INV-20931 was paid."), ("b", "d", "Invoice INV 20932, and 20931 apples."),
                    ("c", "d", "Use os.path.join for paths."), ("d", "d", "The os module; a path.")])
    assert search(index, col, "INV-20931", 5) == ["a"]
    assert search(index, col, "os.path", 5) == ["c"]


def test_a_name_nobody_wrote_whole_is_searched_by_its_words(index, col):
    """People write "debian/watch" where the guide says "the watch file": a phrase in no chunk matches nothing, so
    its words are searched instead; a phrase that is written somewhere is still searched as a phrase only."""
    index.add(col, [("watch", "d", "The watch file tells uscan where upstream publishes its releases."),
                    ("rules", "d", "The debian/rules file builds the package."),
                    ("other", "d", "Debian is a free operating system, and Debian packages are built from sources.")])
    assert search(index, col, "What is debian/watch for?", 1) == ["watch"]
    assert search(index, col, "debian/rules", 5) == ["rules"]


def test_one_pass_ranks_the_keyword_finds_and_scores_the_others(index, col):
    index.add(col, [(f"n-{i:06d}", "n", f"Note {i} about {'herons' if i < 10 else 'ducks'} and their nests.")
                    for i in range(30)] + [("k-000000", "k", "Kestrels hunt voles.")])
    q = index.prepare(col, "herons kestrels")
    best, scores = index.rank(q, 3, also=["k-000000", "n-000007", "n-000020", "nobody-000000"])
    assert len(best) == 3 and best[0][0] == "k-000000"  # the rarer word scores higher: idf counts
    assert set(scores) == {"k-000000", "n-000007"}  # scored if they match at all
    assert [cid for cid, _ in index.rank(q, 3)[0]] == [cid for cid, _ in best]
    assert index.prepare(col, "zebras") is None
    assert index.rank(None, 3) == ([], {})


def test_words_in_more_chunks_than_the_postings_budget_are_not_searched(index, col, monkeypatch):
    """Past the budget the commonest words are left out, and a query whose rarest word is past it alone gets no
    keyword search: BM25 over thousands of chunks that all hold the word ranks by how often they say it."""
    from crew.retrieval import keywords, pg_keywords

    for module in (keywords, pg_keywords):
        monkeypatch.setattr(module, "POSTINGS_BUDGET", 8)
    index.add(col, [(f"n-{i:06d}", "n", f"Note {i} about herons{' and kestrels' if i < 3 else ''}.") for i in range(12)])
    assert index.prepare(col, "herons") is None  # in 12 chunks, past the budget of 8
    assert set(search(index, col, "herons kestrels", 5)) == {"n-000000", "n-000001", "n-000002"}  # kestrels alone
    monkeypatch.setattr(keywords, "POSTINGS_BUDGET", 12)
    monkeypatch.setattr(pg_keywords, "POSTINGS_BUDGET", 12)
    assert len(search(index, col, "herons", 20)) == 12


def test_upsert_delete_count_and_holds(index, col):
    index.add(col, [("a-0", "a", "Old text mentions KESTREL-1."), ("a-1", "a", "More about alpha."),
                    ("b-0", "b", "Beta mentions OSPREY-2 too.")])
    index.add(col, [("a-0", "a", "New text mentions OSPREY-2.")])
    assert search(index, col, "KESTREL-1") == []
    assert sorted(search(index, col, "OSPREY-2")) == ["a-0", "b-0"]
    assert (index.count(col), index.count(col, "a"), index.count(col, "b")) == (3, 2, 1)
    index.hold(col, "b")
    index.hold(col, "b")  # holding twice is one hold
    assert index.held(col) == {"b"}
    assert search(index, col, "OSPREY-2", exclude_docs=index.held(col)) == ["a-0"]
    index.release(col, "b")
    assert index.held(col) == set()
    assert index.delete_document(col, "a") == 2
    assert (index.count(col), search(index, col, "OSPREY-2")) == (1, ["b-0"])


def test_collections_do_not_share_keywords(index, col):
    index.add(col + "_alpha", [("a", "a", "Codename ZEPHYR-9 is alpha's secret.")])
    index.add(col + "_beta", [("b", "b", "Beta knows nothing of it.")])
    index.hold(col + "_alpha", "b")
    assert search(index, col + "_beta", "ZEPHYR-9") == []
    assert search(index, col + "_alpha", "ZEPHYR-9") == ["a"]
    assert index.held(col + "_beta") == set()
    assert index.count(col + "_beta") == 1


def test_two_threads_adding_at_once(index, col):
    errors = []

    def add(start):
        try:
            for i in range(start, start + 100, 10):
                # Overlapping ids, written in opposite orders by the two threads.
                rows = [(f"c-{j:04d}", f"d{j % 7}", f"Chunk {j} of topic heron{j % 5}") for j in range(i, i + 20)]
                index.add(col, rows if start == 0 else rows[::-1])
        except Exception as exc:  # pragma: no cover - what the test reports
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(s,)) for s in (0, 50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert index.count(col) == 160  # ids 0..159, each once
    assert len(search(index, col, "heron3", 50)) == 32


def test_both_backends_score_alike(tmp_path, pg_url, col):
    """Same stems, same BM25: the Postgres index ranks and scores as FTS5 does (Postgres's own ranking has no idf)."""
    rows = [(f"r-{i:03d}", f"d{i % 4}", text) for i, text in enumerate(
        [f"Invoice INV-{1000 + i} from Papelera Norte for office supplies, paid in March." for i in range(20)]
        + SPANISH + ["Raising an exception is cheap when nothing catches it; exceptions propagate up the stack."] * 2)]
    sqlite, pg = KeywordIndex(tmp_path / "k.sqlite"), PgKeywordIndex(pg_url)
    try:
        for idx in (sqlite, pg):
            idx.add(col, rows)
        for query in ("office supplies March", "INV-1007", "información censo", "exceptions stack", "papelera",
                      "Norte/March supplies"):
            a = sqlite.rank(sqlite.prepare(col, query), 10)[0]
            b = pg.rank(pg.prepare(col, query), 10)[0]
            assert [round(s, 6) for _, s in a] == [round(s, 6) for _, s in b], query
            assert {c for c, s in a if s > a[-1][1]} == {c for c, s in b if s > b[-1][1]}, query
    finally:
        sqlite.close()
        pg.close()


# Postgres only.


def test_letters_only_unaccent_folds_are_folded_once_per_search(pg_url, col):
    """"ø", "ł", "ß" survive Python's folding and are folded by unaccent on both sides; `prepare` folds the
    query's phrases itself, so `rank` compares the tsvector with ready-made tsqueries."""
    pg = PgKeywordIndex(pg_url)
    try:
        pg.add(col, [("dk", "d", "Søren Kierkegaard wrote in Copenhagen."), ("pl", "p", "Łódź is a city in Poland."),
                     ("other", "o", "Nothing about either of them.")])
        assert pg.prepare(col, "Søren").phrases == ("soren",)
        assert search(pg, col, "Søren") == ["dk"]
        assert search(pg, col, "Łódź Poland") == ["pl"]
    finally:
        pg.close()


def test_collection_statistics_follow_every_write(pg_url, col):
    """BM25's figures (chunks, total length, chunks per word), kept by triggers, stay exact under upserts,
    deletes and three writers."""
    import psycopg

    index = PgKeywordIndex(pg_url)

    def writer(k):
        for i in range(0, 120, 12):
            rows = [(f"c-{j:04d}", f"d{j % 5}", "word " * (1 + (j * k) % 9)) for j in range(i, i + 30)]
            index.add(col, rows if k % 2 else rows[::-1])

    try:
        threads = [threading.Thread(target=writer, args=(k,)) for k in (1, 2, 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        index.delete_document(col, "d3")
        index.add(col, [("c-0001", "d1", "one two three four five six seven eight nine ten eleven")])
        with psycopg.connect(pg_url) as conn:
            real = conn.execute("SELECT count(*), sum(length) FROM crew_keyword_chunks WHERE collection = %s",
                                (col,)).fetchone()
            kept = conn.execute("SELECT chunks, length FROM crew_keyword_stats WHERE collection = %s", (col,)).fetchone()
            real_terms = conn.execute("SELECT word, ndoc FROM ts_stat(format('SELECT tsv FROM crew_keyword_chunks"
                                      " WHERE collection = %%L', %s::text)) ORDER BY 1", (col,)).fetchall()
            kept_terms = conn.execute("SELECT term, chunks FROM crew_keyword_terms WHERE collection = %s AND chunks > 0"
                                      " ORDER BY 1", (col,)).fetchall()
        assert real[0] == index.count(col) == 138 - 27  # c-0000..c-0137, less d3's 27
        assert tuple(kept) == tuple(real)
        assert kept_terms == real_terms and len(real_terms) == 12  # "word" and the eleven of c-0001
    finally:
        index.close()


def test_schema_is_created_once_when_two_instances_start_together(postgres_server):
    url = postgres_server.create_database(f"twin_{uuid.uuid4().hex[:8]}")
    barrier, opened, errors = threading.Barrier(4), [], []

    def start():
        try:
            barrier.wait()
            opened.append(PgKeywordIndex(url))
        except Exception as exc:  # pragma: no cover - what the test reports
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert sorted(i.migrations_applied for i in opened) == [0, 0, 0, 4]  # alembic's 0001 to 0004, once
        import psycopg

        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0004",)]
    finally:
        for i in opened:
            i.close()


def test_keyword_rows_written_before_0003_are_rewritten_with_their_tsvector_in_the_row(postgres_server):
    """Revision 0003 keeps the tsvector in the row (STORAGE MAIN) and rewrites the rows already there: their
    tsvectors are generated again, and the BM25 statistics the triggers keep come out the same."""
    import psycopg
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from crew.storage.postgres import _alembic

    url = postgres_server.create_database(f"kw_0002_{uuid.uuid4().hex[:8]}")
    config, _ = _alembic()
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url), poolclass=NullPool)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:  # rows as a Crew at 0002 wrote them
        conn.execute("INSERT INTO crew_keyword_chunks (collection, chunk_id, doc_id, stems, length)"
                     " SELECT 'c', 'n-' || i, 'n', 'heron kestrel note ' || i || repeat(' word' || i, 300), 303"
                     " FROM generate_series(1, 40) AS i")
        stats = conn.execute("SELECT * FROM crew_keyword_stats ORDER BY 1").fetchall()
        terms = conn.execute("SELECT * FROM crew_keyword_terms ORDER BY 1, 2").fetchall()
        assert conn.execute("SELECT attstorage FROM pg_attribute WHERE attrelid = 'crew_keyword_chunks'::regclass"
                            " AND attname = 'tsv'").fetchone() == ("x",)
    index = PgKeywordIndex(url)
    try:
        assert index.migrations_applied == 2  # 0003, then 0004 (the library's reader column)
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT attstorage FROM pg_attribute WHERE attrelid = 'crew_keyword_chunks'::regclass"
                                " AND attname = 'tsv'").fetchone() == ("m",)
            assert conn.execute("SELECT * FROM crew_keyword_stats ORDER BY 1").fetchall() == stats
            assert conn.execute("SELECT * FROM crew_keyword_terms ORDER BY 1, 2").fetchall() == terms
            assert conn.execute("SELECT count(*) FROM crew_keyword_chunks WHERE tsv @@ 'word7'::tsquery").fetchone() == (1,)
        assert [cid for cid, _ in index.rank(index.prepare("c", "kestrel word12"), 3)[0]][0] == "n-12"
    finally:
        index.close()


def test_unreachable_database_names_the_setting_and_masks_the_password(postgres_server):
    from tests.servers import free_port

    with pytest.raises(DatabaseError) as err:
        PgKeywordIndex(f"postgresql://crew:hunter2hunter2@127.0.0.1:{free_port()}/crew", timeout=1)
    message = str(err.value)
    assert "CREW_DATABASE_URL" in message and "postgresql://crew:***@127.0.0.1" in message
    assert "hunter2" not in message
    wrong = postgres_server.url.replace(postgres_server.password, "not-the-password")
    with pytest.raises(DatabaseError) as err:
        PgKeywordIndex(wrong, timeout=1)
    assert "password authentication failed" in str(err.value) and "not-the-password" not in str(err.value)


def test_the_index_carries_on_after_the_server_restarts(col):
    from tests.postgres import PostgresServer

    with PostgresServer() as server:
        index = PgKeywordIndex(server.url, pool_size=2)
        try:
            index.add(col, [("a", "a", "Kestrels hunt voles.")])
            server.restart()
            assert search(index, col, "kestrel") == ["a"]  # the pool's dead connections were replaced
            index.add(col, [("b", "b", "Herons hunt fish.")])
            assert index.count(col) == 2
        finally:
            index.close()


def test_memory_searches_with_postgres_keywords(tmp_path, pg_url, embedder):
    """`Memory(..., keywords=PgKeywordIndex(url))`: hybrid and keyword search, per workspace."""
    from crew.retrieval.memory import Chunk, Memory, chroma_client

    kw = PgKeywordIndex(pg_url)
    try:
        memory = Memory(chroma_client(tmp_path / "data"), embedder, prefix=f"t{uuid.uuid4().hex[:6]}", keywords=kw)
        alpha, beta = memory.workspace("alpha"), memory.workspace("beta")
        alpha.add("documents", [Chunk(t, "es.md", "es", i) for i, t in enumerate(SPANISH)]
                  + [Chunk("Codename ZEPHYR-9 is alpha's secret.", "z.md", "z", 0)])
        beta.add("documents", [Chunk("Beta knows nothing of it.", "b.md", "b", 0)])
        assert [h.position for h in alpha.search("cancion", k=1, mode="keyword")] == [4]
        assert alpha.search("ZEPHYR-9", k=1)[0].source == "z.md"
        assert beta.search("ZEPHYR-9", k=5, mode="keyword") == []
        assert alpha.keyword_count() == alpha.count() == 6
        alpha.delete_document("z")
        assert alpha.search("ZEPHYR-9", k=5, mode="keyword") == []
    finally:
        kw.close()


def test_langgraph_postgres_checkpointer_runs_on_the_server(pg_url):
    """The checkpointer issue 13 names sets up its tables and keeps a graph's state between calls."""
    from typing import TypedDict

    from langgraph.checkpoint.postgres import PostgresSaver
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        n: int

    graph = StateGraph(State)
    graph.add_node("inc", lambda s: {"n": s["n"] + 1})
    graph.add_edge(START, "inc")
    graph.add_edge("inc", END)
    with PostgresSaver.from_conn_string(pg_url) as saver:
        saver.setup()
        saver.setup()  # idempotent: a second instance starting does no harm
        app = graph.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "t1"}}
        assert app.invoke({"n": 1}, config) == {"n": 2}
    with PostgresSaver.from_conn_string(pg_url) as saver:  # a new connection, as another instance would open
        assert graph.compile(checkpointer=saver).get_state(config).values == {"n": 2}
