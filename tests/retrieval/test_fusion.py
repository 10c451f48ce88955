"""Fusion of rankings and one passage per place (crew.retrieval.fusion), on plain keys: no store."""

from __future__ import annotations

import pytest

from crew.retrieval.fusion import (KEYWORD_WEIGHT, KEYWORD_WEIGHT_ACROSS, KEYWORD_WEIGHT_CODES, fuse, keyword_weight,
                                   one_per_place, same_language)

PAGES = {"a1": ("doc", 1), "a2": ("doc", 1), "a3": ("doc", 1), "b": ("doc", 2), "c": ("doc", 3), "web": None}


def ranked(*keys):
    return [(key, 1.0 - n / 10) for n, key in enumerate(keys)]


def test_reciprocal_rank_fusion_weighs_each_ranking():
    fused = dict(fuse([["a", "b"], ["b", "a"]], [1.0, 0.5]))
    assert fused["a"] > fused["b"]  # the heavier ranking's first wins
    assert fuse([["x"], ["x"]]) == [("x", pytest.approx(1.0))]


def test_codes_give_the_keywords_a_bigger_vote_in_any_language():
    assert keyword_weight("what does order 7741-B cover?") == KEYWORD_WEIGHT_CODES
    assert keyword_weight("what does order 7741-B cover?", same_language=False) == KEYWORD_WEIGHT_CODES
    assert keyword_weight("how do I build a package?") == KEYWORD_WEIGHT


def test_keywords_weigh_less_across_languages():
    assert keyword_weight("how do I build a package?", same_language=False) == KEYWORD_WEIGHT_ACROSS < KEYWORD_WEIGHT


SPANISH = ["Para construir el paquete completo sin firmar, ejecuta dpkg-buildpackage con las opciones adecuadas.",
           "Los ficheros de configuración del directorio /etc se marcan como conffiles automáticamente."]
ENGLISH = ["To build the whole package without signing it, run dpkg-buildpackage with the right options."]


@pytest.mark.parametrize("query, passages, same", [
    ("¿Cómo construyo el paquete sin firmarlo?", SPANISH, True),
    ("How do I build the package without signing it?", SPANISH, False),
    ("How do I build the package without signing it?", ENGLISH, True),
    ("¿Cómo construyo el paquete sin firmarlo?", ENGLISH, False),
    ("¿Cómo construyo el paquete sin firmarlo?", [], True),  # nothing found: nothing to tell
])
def test_the_language_of_a_query_is_compared_with_the_passages_found(query, passages, same):
    assert same_language(query, passages) is same


def test_a_second_chunk_of_a_page_waits_for_the_other_pages():
    top = one_per_place(ranked("a1", "a2", "b", "a3", "c"), PAGES.get, 3)
    assert [key for key, _ in top] == ["a1", "b", "c"]
    assert top[0] == ("a1", 1.0)  # the first passage and every score are kept as they were


def test_fewer_places_than_k_fill_with_the_chunks_set_aside_in_order():
    assert [key for key, _ in one_per_place(ranked("a1", "a2", "b", "a3"), PAGES.get, 4)] == ["a1", "b", "a2", "a3"]
    assert [key for key, _ in one_per_place(ranked("a1", "a2"), PAGES.get, 5)] == ["a1", "a2"]


def test_entries_without_a_place_are_never_set_aside():
    place = {"w1": None, "w2": None, "a1": ("doc", 1), "a2": ("doc", 1)}.get
    assert [key for key, _ in one_per_place(ranked("w1", "w2", "a1", "a2"), place, 3)] == ["w1", "w2", "a1"]
