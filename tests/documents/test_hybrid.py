"""Hybrid retrieval: exact codes and accent-free spellings are found where embeddings alone miss."""

from __future__ import annotations

import json
import random

import pytest

from crew.retrieval.keywords import query_terms
from crew.retrieval.memory import Chunk, Memory, chroma_client, fuse
from tests.documents import makers
from tests.servers import run_cli

VENDORS = ["Papelera Norte", "Oficinas Sur", "Suministros Tajo", "Distribuciones Ebro"]


def invoices(n=60, seed=3):
    r = random.Random(seed)
    codes = [f"INV-{r.randint(10000, 99999)}" for _ in range(n)]
    chunks = [Chunk(f"Invoice {c} from {VENDORS[i % 4]} for office supplies, paid on {1 + i % 28} March by the "
                    "finance department.", "invoices.md", "inv", i) for i, c in enumerate(codes)]
    return codes, chunks


def test_hybrid_finds_exact_codes_that_vector_search_misses(store):
    ws = store.ws()
    codes, chunks = invoices()
    ws.add("documents", chunks)
    vector_missed = [i for i, c in enumerate(codes) if i not in [h.position for h in ws.search(c, k=5, mode="vector")]]
    assert len(vector_missed) >= 3  # embeddings blur look-alike numbers
    for i, code in enumerate(codes):
        hybrid = [h.position for h in ws.search(code, k=5)]
        assert i in hybrid, code
        assert [h.position for h in ws.search(code, k=1, mode="keyword")] == [i]


def test_numbers_inside_a_question_are_matched(store):
    ws = store.ws()
    ws.add("documents", invoices()[1] + [
        Chunk("Purchase order 7741-B covers twelve ergonomic chairs for the Valencia office.", "po.md", "po", 0),
    ])
    hits = ws.search("what does purchase order 7741-B cover?", k=3)
    assert hits[0].source == "po.md"


SPANISH = [
    "La información del censo agrícola se publica cada diez años.",
    "El niño aprendió a nadar en la piscina municipal durante el verano.",
    "Los resultados de la votación se conocerán el próximo martes.",
    "La cigüeña anida en el campanario de la iglesia desde marzo.",
]


@pytest.mark.parametrize("query, wanted", [
    ("informacion del censo", 0), ("INFORMACIÓN", 0), ("nino piscina", 1), ("votacion proximo", 2), ("ciguena", 3),
])
def test_keyword_match_ignores_accents_and_case(store, query, wanted):
    ws = store.ws()
    ws.add("documents", [Chunk(t, "es.md", "es", i) for i, t in enumerate(SPANISH)])
    assert [h.position for h in ws.search(query, k=1, mode="keyword")] == [wanted]
    assert ws.search(query, k=1)[0].position == wanted


def test_text_without_accents_is_found_by_a_query_with_them(store):
    ws = store.ws()
    ws.add("documents", [Chunk("Informacion tecnica del proyecto Aguila sin tildes.", "plain.txt", "p", 0),
                         Chunk("Otro texto cualquiera sobre el tiempo.", "other.txt", "o", 0)])
    assert ws.search("información técnica", k=1, mode="keyword")[0].source == "plain.txt"


def test_findings_are_searchable_the_same_way(store):
    ws = store.ws()
    ws.add("findings", [Chunk("The Riverside bridge reopened after repairs costing 4.2 million (contract RB-5512).",
                              "City news", "web-abc", 0, url="https://example.org/bridge")])
    ws.add("documents", invoices()[1])
    hit = ws.search("RB-5512", k=1)[0]
    assert (hit.kind, hit.url, hit.cite()) == ("findings", "https://example.org/bridge", "https://example.org/bridge")
    assert ws.search("RB-5512", k=1, mode="keyword")[0].kind == "findings"
    assert ws.search("RB-5512", k=5, kinds=("documents",), mode="keyword") == []


def test_search_modes_and_scores(store):
    ws = store.ws()
    codes, chunks = invoices(20)
    ws.add("documents", chunks)
    for mode in ("hybrid", "vector", "keyword"):
        hits = ws.search(codes[4], k=3, mode=mode)
        assert 1 <= len(hits) <= 3
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert ws.search("   ", k=3) == []
    assert ws.search("zzzqqq-nothing-like-it", k=3, mode="keyword") == []
    with pytest.raises(ValueError):
        ws.search("x", mode="fuzzy")


def test_reciprocal_rank_fusion():
    fused = dict(fuse([["a", "b", "c"], ["c", "a", "d"]]))
    assert max(fused, key=fused.get) == "a"  # 1st and 2nd beats 3rd and 1st
    assert fused["a"] == pytest.approx((1 / 61 + 1 / 62) / (2 / 61))
    assert fused["c"] > fused["b"] and fused["d"] < fused["b"]
    assert dict(fuse([["x"], ["x"]]))["x"] == pytest.approx(1.0)


def test_workspaces_do_not_share_keywords(store):
    store.ws("alpha").add("documents", [Chunk("Codename ZEPHYR-9 is alpha's secret.", "a.md", "a", 0)])
    store.ws("beta").add("documents", [Chunk("Beta knows nothing of it.", "b.md", "b", 0)])
    assert all(h.source == "b.md" for h in store.ws("beta").search("ZEPHYR-9", k=5))
    assert store.ws("beta").search("ZEPHYR-9", k=5, mode="keyword") == []
    assert store.ws("alpha").search("ZEPHYR-9", k=1)[0].source == "a.md"


def test_upsert_replaces_keywords_too(store):
    ws = store.ws()
    ws.add("findings", [Chunk("Old text mentions KESTREL-1.", "news", "web-1", 0, url="https://example.org/k")])
    ws.add("findings", [Chunk("New text mentions OSPREY-2.", "news", "web-1", 0, url="https://example.org/k")])
    assert ws.search("KESTREL-1", k=5, mode="keyword") == []
    assert ws.search("OSPREY-2", k=1, mode="keyword")[0].text == "New text mentions OSPREY-2."
    assert ws.keyword_count("findings") == ws.count("findings") == 1


def test_server_mode_shares_the_keyword_index_between_processes(tmp_path, chroma_server, embedder):
    """Two app processes on one Chroma server and one data dir: what one ingests, the other finds by keyword."""
    data = tmp_path / "shared"
    env = {"CREW_DATA_DIR": str(data), **chroma_server.env()}
    pdf = tmp_path / "survey.pdf"
    pdf.write_bytes(makers.pdf(["Nothing much here.", "Or here.", "Well W-4471 shows nitrate at 61 mg per litre."]))
    out = run_cli("ingest", str(pdf), "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["status"] == "ok"
    out = run_cli("search", "W-4471", "--json", "-k", "1", env=env)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)[0]
    assert (row["source"], row["page"]) == ("survey.pdf", 3)
    # This process, a third client of the same server and data dir, sees it too, by keyword alone.
    memory = Memory(chroma_client(data, chroma_server.host, chroma_server.port), embedder)
    assert (data / "keywords.sqlite").is_file()
    hit = memory.workspace("default").search("W-4471", k=1, mode="keyword")[0]
    assert hit.page == 3
    # And a delete in this process is seen by the next CLI process.
    from crew.documents.library import Library

    lib = Library.beside(data, memory)
    assert lib.delete("default", lib.documents("default")[0].doc_id)
    assert json.loads(run_cli("search", "W-4471", "--json", env=env).stdout) == []


def test_words_are_stemmed_and_question_words_ignored(store):
    ws = store.ws()
    ws.add("documents", [
        Chunk("Raising an exception is cheap when nothing catches it.", "a.md", "a", 0),
        Chunk("Why and how: a note on wording.", "b.md", "b", 0),
        Chunk("Las casas del pueblo tienen tejados rojos.", "c.md", "c", 0),
    ])
    assert ws.search("how fast are exceptions?", k=1, mode="keyword")[0].source == "a.md"
    assert ws.search("casa", k=1, mode="keyword")[0].source == "c.md"
    words = query_terms("Why doesn't the list.sort() method return the list?")
    assert [w for w, _ in words] == ["list.sort", "method", "return", "list"]
    assert query_terms("how are you") != []  # only stopwords: kept rather than nothing


def test_codes_and_numbers_weigh_more_in_the_fusion():
    from crew.retrieval.fusion import keyword_weight

    assert keyword_weight("INV-20931") > 1.0 >= keyword_weight("how do I read a file")
    assert keyword_weight("how do I read a file") > keyword_weight("how do I read a file", same_language=False)


def test_one_pass_ranks_the_keyword_finds_and_scores_the_vector_finds(store):
    ws = store.ws()
    ws.add("documents", [Chunk(f"Note {i} about {'herons' if i < 10 else 'ducks'} and their nests.", "n.md", "n", i)
                         for i in range(30)] + [Chunk("Kestrels hunt voles.", "k.md", "k", 0)])
    kw = store.memory.keywords
    q = kw.prepare(ws._key("documents"), "herons kestrels")
    best, scores = kw.rank(q, 3, also=["k-000000", "n-000007", "n-000020", "nobody-000000"])
    assert len(best) == 3 and best[0][0] == "k-000000"  # the rarer word scores higher
    assert set(scores) == {"k-000000", "n-000007"}  # scored if they match at all (n-000020 is about ducks)
    assert [cid for cid, _ in kw.rank(q, 3)[0]] == [cid for cid, _ in best]  # `also` does not change the ranking
    assert kw.prepare(ws._key("documents"), "zebras") is None


def test_spanish_words_are_stemmed_in_spanish(store):
    ws = store.ws()
    ws.add("documents", [
        Chunk("Para instalar el programa, ejecute apt con permisos de administrador.", "es.md", "es", 0),
        Chunk("El gato duerme en el sofá toda la tarde.", "cat.md", "cat", 0),
        Chunk("Install the program with apt as the administrator.", "en.md", "en", 0),
    ])
    # porter left "instalación" and "instalar" apart; Snowball's Spanish stemmer brings both to "instal",
    # as the English one does "install" and "installing": the stem meets in both languages
    for query in ("instalación", "instalacion", "installing"):  # "instalacion": typed without the accent
        assert {h.source for h in ws.search(query, k=3, mode="keyword")} == {"es.md", "en.md"}, query
    assert [h.source for h in ws.search("gatos dormidos", k=3, mode="keyword")] == ["cat.md"]


def test_a_search_brings_the_best_passage_of_each_page_before_a_second_of_one_page(store):
    ws = store.ws()
    boilers = [f"The boiler manual, page one, part {n}: the boiler pressure gauge and the boiler pressure valve."
               for n in range(4)]  # four chunks of page 1 that outrank every other page's
    ws.add("documents", [Chunk(t, "manual.pdf", "m", n, page=1) for n, t in enumerate(boilers)] + [
        Chunk("Page two: how to bleed the radiators once the pressure gauge reads low.", "manual.pdf", "m", 4, page=2),
        Chunk("Page three: the warranty covers the gauge for five years.", "manual.pdf", "m", 5, page=3),
    ] + invoices(12)[1])  # other documents, so that the manual's words are rare enough to search by
    for mode in ("hybrid", "vector", "keyword"):
        pages = [h.page for h in ws.search("boiler pressure gauge", k=3, mode=mode)]
        assert pages[0] == 1 and sorted(pages) == [1, 2, 3], mode
