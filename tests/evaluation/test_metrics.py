"""Scoring on hand-built results: ranks, key terms, cited pages, support and "not found"."""

from __future__ import annotations

import pytest

from crew.evaluation.metrics import (
    QuestionResult, answer_facts, first_right_rank, fold, key_terms_found, language_group, summarize,
)
from crew.evaluation.questions import Question

TEA = Question(1, "How much caffeine?", "tea.pdf", (2, 3), ("30 mg", "cafeína"))
ORIGIN = Question(2, "Where from?", "origin.html", (), ("China",))
GOLD = Question(3, "Price of gold?", None)


def test_fold_drops_accents_case_and_extra_spaces():
    assert fold("  ÍNDICE  de\tCafeína ") == "indice de cafeina"


@pytest.mark.parametrize("answer, found", [
    ("It holds 30 MG of Cafeina.", ["30 mg", "cafeína"]),
    ("It holds 300 mg of caffeine.", []),  # a number must end where the term ends
    ("Las cafeínas: 30 mg.", ["30 mg", "cafeína"]),  # a term may start a longer word
    ("descafeinado", []),  # but must start a word
])
def test_key_terms_are_matched_folded_at_word_starts(answer, found):
    assert key_terms_found(answer, TEA.terms) == found


def test_rank_is_the_first_passage_from_a_labelled_page():
    assert first_right_rank([("tea.pdf", 1), ("other.pdf", 2), ("tea.pdf", 3)], TEA) == 3
    assert first_right_rank([("tea.pdf", 1), ("tea.pdf", 4)], TEA) is None
    assert first_right_rank([("x.md", 0), ("origin.html", 0)], ORIGIN) == 2  # no pages: the file counts
    assert first_right_rank([("origin.html", 0)], GOLD) is None


def test_answer_facts_read_the_engines_fields():
    facts = answer_facts({"citations": [{"n": 1}], "not_found": False, "answer_kind": "extractive", "sentences": [
        {"text": "a", "citations": [1], "support": 0.9, "supported": True},
        {"text": "b", "citations": [], "support": 0.1, "supported": False}]})
    assert (facts.sentences, facts.supported, facts.not_found, facts.note, facts.kind) == (2, 1, False, "", "extractive")


def test_answer_facts_fall_back_while_the_engine_does_not_report_them():
    facts = answer_facts({"answer": "I found nothing.", "citations": []})
    assert facts.sentences is None and facts.supported is None and facts.not_found is True and facts.note
    assert answer_facts({"answer": "x [1]", "citations": [{"n": 1}]}).not_found is False


def result(q, places, answer=None, citations=(), sentences=None, not_found=False, seconds=1.0, k=5):
    r = QuestionResult(q, k, places=list(places))
    if answer is not None:
        data = {"citations": list(citations), "not_found": not_found,
                "answer_kind": "not_found" if not_found else "written"}
        if sentences is not None:
            data["sentences"] = [{"supported": s} for s in sentences]
        r.answer, r.citations, r.facts, r.seconds = answer, list(citations), answer_facts(data), seconds
    return r


def test_summary_over_hand_built_results():
    results = [
        result(TEA, [("x.pdf", 1), ("tea.pdf", 2)], "30 mg, it says [1].", [{"n": 1, "source": "tea.pdf", "page": 3}],
               sentences=[True, True, False], seconds=2.0),
        result(ORIGIN, [("x.pdf", 1)] * 5 + [("origin.html", 0)], "Not found; closest: China [1]",
               [{"n": 1, "source": "origin.html", "page": 0}], sentences=[False], not_found=True, seconds=4.0),
        result(GOLD, [("tea.pdf", 1)], "The documents do not answer this.", [], sentences=[], not_found=True,
               seconds=9.0),
    ]
    s = summarize(results)
    assert (s["questions"], s["answerable"], s["unanswerable"], s["answered"]) == (3, 2, 1, 3)
    assert s["recall_at_k"] == 0.5  # ORIGIN's file is 6th: outside the top 5
    assert s["mrr"] == 0.25
    # TEA: 1 of 2 terms ("cafeína" missing); ORIGIN said "not found": its quoted passage scores nothing.
    assert s["key_term_rate"] == 0.25
    assert s["right_page_cited"] == 0.5
    assert s["supported_sentence_rate"] == 0.5  # 2 supported of 4 sentences, over all answers
    assert s["not_found_answerable"] == 0.5 and s["not_found_unanswerable"] == 1.0
    assert s["median_turn_s"] == 4.0
    assert s["answer_kinds"] == {"not_found": 2, "written": 1}
    rows = [r.row() for r in results]
    assert [r["rank"] for r in rows] == [2, None, None]
    assert rows[0]["terms_missing"] == ["cafeína"] and rows[0]["cited_right_page"] is True


def test_retrieval_only_summary_has_no_answer_figures():
    s = summarize([result(TEA, [("tea.pdf", 3)]), result(GOLD, [])])
    assert s["recall_at_k"] == 1.0 and s["mrr"] == 1.0 and s["answered"] == 0
    assert s["key_term_rate"] is None and s["median_turn_s"] is None and s["supported_sentence_rate"] is None


def test_language_groups():
    assert language_group("es", "es") == "es"
    assert language_group("en", "es") == "cross"
    assert language_group("en", None) == "en" and language_group(None, None) == ""
