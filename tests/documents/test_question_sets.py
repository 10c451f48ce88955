"""The labelled question sets (bench/sets/) hold together: every line checks against the documents it names.

The corpus comes from `bash scripts/corpus` (scripts/setup --dev runs it); without it the check fails with
that instruction rather than passing silently.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

SETS = Path(__file__).resolve().parents[2] / "bench" / "sets"


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location("question_set_check", SETS / "check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_set_line_checks_against_its_documents(check):
    paths = sorted(SETS.glob("*.txt"))
    errors, _, counts = check.check_sets(paths)
    assert not errors, "\n".join(errors)
    total = sum(counts.values(), start=Counter())
    # Issue 11's floor for the whole collection: 60 questions, 25 in Spanish, 10 cross-language.
    asked_es = sum(n for kind, n in total.items() if kind.startswith(("es on", "cross es")))
    cross = sum(n for kind, n in total.items() if kind.startswith("cross"))
    assert sum(total.values()) >= 60 and asked_es >= 25 and cross >= 10, total


def test_every_set_has_a_tuning_and_a_held_out_part(check):
    names = {p.name.removesuffix(".tune.txt") for p in SETS.glob("*.tune.txt")}
    assert names == {p.name.removesuffix(".holdout.txt") for p in SETS.glob("*.holdout.txt")}
    for name in names:
        tune = {q.text for q in check.parse_set(SETS / f"{name}.tune.txt").questions}
        holdout = {q.text for q in check.parse_set(SETS / f"{name}.holdout.txt").questions}
        assert not tune & holdout
        assert 0.25 <= len(holdout) / (len(tune) + len(holdout)) <= 0.42, name


def test_the_checker_catches_a_wrong_label(check, tmp_path):
    good = (SETS / "maint-guide-es.tune.txt").read_text(encoding="utf-8")
    header = "\n".join(line for line in good.splitlines() if line.startswith("# document:"))
    bad = tmp_path / "bad.txt"
    bad.write_text(header + "\n# asked in: es\n"
                   "¿Qué paquete instalo para empezar a empaquetar?|maint-guide.es.pdf|30|build-essential\n"
                   "¿Qué paquete instalo para compilar?|maint-guide.es.pdf|999|build-essential\n"
                   "¿Qué paquete instalo?|otro.pdf|9|build-essential\n"
                   "¿Y build-essential?|maint-guide.es.pdf|9|build-essential\n"
                   "sin campos suficientes|maint-guide.es.pdf|9\n", encoding="utf-8")
    errors, _, _ = check.check_sets([bad])
    joined = "\n".join(errors)
    assert "bad.txt:3: key term 'build-essential' is on none of the labelled pages" in joined
    assert "bad.txt:4: page [999] not in maint-guide.es.pdf (1..69)" in joined
    assert "bad.txt:5: unknown source 'otro.pdf'" in joined
    assert "bad.txt:6: key term 'build-essential' is already in the question" in joined
    assert "bad.txt:7: 3 fields" in joined


def test_a_missing_corpus_file_says_how_to_get_it(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("bench_corpus", SETS.parent / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = corpus
    spec.loader.exec_module(corpus)
    monkeypatch.setenv("CREW_CORPUS", str(tmp_path))
    with pytest.raises(corpus.CorpusMissing, match=r"run `bash scripts/corpus`.*maint-guide-es"):
        corpus.corpus_file("maint-guide-es", "usr/share/doc/maint-guide-es/maint-guide.es.pdf")
