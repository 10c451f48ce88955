"""`crew eval` over a small real workspace with the fake model: the report, the JSON contract, exit codes."""

from __future__ import annotations

import json

from tests.engine.test_cli import assert_one_line_error
from tests.evaluation.conftest import QUESTIONS
from tests.servers import run_cli


def test_eval_reports_retrieval_and_answers_as_one_json_document(tea_workspace, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text(QUESTIONS)
    out = run_cli("eval", str(questions), "--workspace", "tea", "--model", "fake", "--json", "-k", "3")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # exactly one JSON document; progress went to stderr
    assert "[1/5] How much caffeine" in out.stderr and "[5/5]" in out.stderr
    s = doc["summary"]
    assert (s["questions"], s["answerable"], s["unanswerable"], s["answered"], s["k"]) == (5, 4, 1, 5, 3)
    assert s["recall_at_k"] == 1.0 and s["mrr"] > 0.5
    assert 0 < s["key_term_rate"] <= 1 and 0 < s["right_page_cited"] <= 1
    assert s["median_turn_s"] > 0 and s["errors"] == 0
    rows = doc["questions"]
    assert [r["line"] for r in rows] == [2, 3, 4, 5, 6]
    caffeine = rows[0]
    assert caffeine["rank"] is not None and caffeine["answerable"] and caffeine["language"] == "en"
    assert caffeine["cited_right_page"] is True and "30 mg" in caffeine["terms_found"]
    assert "30 mg" in caffeine["answer"] and caffeine["status"] == "done"
    assert rows[1]["language"] == "cross"  # a Spanish question about an English document
    assert rows[4]["answerable"] is False and rows[4]["rank"] is None and isinstance(rows[4]["not_found"], bool)


def test_eval_prints_a_table_and_retrieval_only_runs_no_turn(tea_workspace, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text(QUESTIONS)
    out = run_cli("eval", str(questions), "--workspace", "tea", "--retrieval-only")
    assert out.returncode == 0, out.stderr
    head, table = out.stdout.split("\n\n", 1)
    assert head.splitlines()[0].split()[:3] == ["page", "recall@5", "1.00"]
    assert "MRR" in head and "key-term rate" not in head
    assert table.splitlines()[0].split() == ["line", "lang", "rank", "question"]
    assert len(table.strip().splitlines()) == 6
    assert tea_workspace.traces.turns("tea") == []  # no turn ran


def test_bad_question_files_stop_before_anything_runs(tea_workspace, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("How much caffeine?|tea.pdf|2|30 mg\nWhere?|coffee.pdf|1|x\n")
    assert_one_line_error(run_cli("eval", str(bad), "--workspace", "tea", "--model", "fake"),
                          "bad.txt, line 2: unknown source 'coffee.pdf'")
    bad.write_text("How much caffeine?|tea.pdf|7|30 mg\n")
    assert_one_line_error(run_cli("eval", str(bad), "--workspace", "tea", "--json"),
                          "bad.txt, line 1: page 7 does not exist: tea.pdf has 3 pages")
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as f:
        f.truncate(20_000_000)
    assert_one_line_error(run_cli("eval", str(huge), "--workspace", "tea"), "huge.txt: the file is 20.0 MB")
    assert_one_line_error(run_cli("eval", str(tmp_path / "none.txt"), "--workspace", "tea"),
                          "cannot read the question file", "none.txt")
    good = tmp_path / "good.txt"
    good.write_text("How much caffeine?|tea.pdf|2|30 mg\n")
    assert_one_line_error(run_cli("eval", str(good), "--workspace", "empty"), "workspace empty has no documents")
    assert_one_line_error(run_cli("eval", str(good), "-k", "0"), "-k must be at least 1")
    assert tea_workspace.traces.turns("tea") == []
