"""Cross-language questions searched in the documents' language: what the researcher's translated search
(`translate_questions`, crew.engine.agents.researcher) does to page recall, with translations written by hand
standing in for the model's (this machine has no model that translates: the embedded one cannot).

    PYTHONPATH=$PWD/src .venv/bin/python bench/translated.py --data-dir DIR [--holdout] [--json]

For every question of the sets that has a line in its set's `*.translated.tsv` (bench/sets: the question's line, a
tab, the question in its document's language), three searches as the researcher runs them (`search_memory`, k 5):
the question as asked (the baseline, same run), its translation alone, and the two merged the way the researcher
merges them (`crew.engine.tools.search_memory.merged`; the question's own search alone where the researcher would
find the reply no translation, `usable_translation`, or would not translate, the passages being in the question's
language; the rest are counted in "usable translations"). Figures: page recall@5 and MRR per set and in all, and the
ratio merged / as asked. DIR is a data dir `bench/quality.py --data-dir DIR` ingested (or a new one: the sets'
documents are ingested into it the same way).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from quality import add_set_arguments, fmt, ingest, offline_crew, say, set_files, set_files_of, set_name, workspace_of

from crew.engine.agents.researcher import translation_target, usable_translation
from crew.engine.service import Crew
from crew.engine.tools.search_memory import merged, search_memory
from crew.evaluation.metrics import first_right_rank
from crew.evaluation.questions import parse_questions

K = 5
WAYS = ("as asked", "translated", "merged")


def translations(path: Path) -> dict[int, str]:
    """A set's hand translations by question line ({} when it has none)."""
    tsv = path.with_name(path.name.removesuffix(".txt") + ".translated.tsv")
    if not tsv.exists():
        return {}
    out = {}
    for n, raw in enumerate(tsv.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        line, sep, text = raw.partition("\t")
        if not sep or not line.strip().isdigit() or not text.strip():
            raise SystemExit(f"{tsv}:{n}: expected `LINE<TAB>translation`, got {raw!r}")
        out[int(line)] = text.strip()
    return out


def ranks(crew: Crew, workspace: str, question, translation: str) -> dict[str, int | bool | None]:
    memory = crew.memory.workspace(workspace)
    asked = search_memory(memory, question.text, k=K).hits or []
    again = search_memory(memory, translation, k=K).hits or []
    # As the researcher does: a reply that is no translation (usable_translation) leaves the question's own search.
    target = translation_target(question.text, asked)
    usable = usable_translation(question.text, translation, target) if target else None
    found = {"as asked": asked, "translated": again, "merged": merged(asked, again, K) if usable else asked}
    return {"usable": usable is not None,
            **{way: first_right_rank([(h.source, h.page) for h in hits], question) for way, hits in found.items()}}


def summary(rows: list[dict]) -> dict[str, tuple[float, float]]:
    n = len(rows) or 1
    return {way: (sum(r[way] is not None for r in rows) / n, sum(1 / r[way] for r in rows if r[way]) / n)
            for way in WAYS}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_set_arguments(p)
    p.add_argument("--json", action="store_true", help="print the rows as JSON instead of the table")
    a = p.parse_args()

    crew = offline_crew(a.data_dir)
    by_set: dict[str, list[dict]] = {}
    for path in set_files(a.sets, a.holdout):
        translated = translations(path)
        if not translated:
            continue
        name, workspace = set_name(path), workspace_of(set_name(path))
        if not crew.documents(workspace):
            ingest(crew, workspace, set_files_of(path))
        crew.memory.workspace(workspace).check_current()  # what a turn checks as it starts
        questions = {q.line: q for q in parse_questions(path.read_bytes(), path.name)}
        unknown = sorted(set(translated) - set(questions))
        if unknown:
            raise SystemExit(f"{path.name}: translations of lines that hold no question: {unknown}")
        by_set[name] = []
        for line, text in translated.items():
            say(f"{name} line {line}: {text[:80]}")
            by_set[name].append({"line": line, "question": questions[line].text, "translation": text,
                                 **ranks(crew, workspace, questions[line], text)})
    if a.json:
        print(json.dumps(by_set, ensure_ascii=False, indent=1))
        return
    groups = {**by_set, "all": [r for rows in by_set.values() for r in rows]}
    head = ["set", "questions", "usable translations", *[f"R@5 {w}" for w in WAYS], *[f"MRR {w}" for w in WAYS], "R@5 merged / as asked"]
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join("---" for _ in head) + " |")
    for name, rows in groups.items():
        s = summary(rows)
        ratio = s["merged"][0] / s["as asked"][0] if s["as asked"][0] else None
        print("| " + " | ".join([name, str(len(rows)), str(sum(r["usable"] for r in rows)), *[fmt(s[w][0]) for w in WAYS], *[fmt(s[w][1]) for w in WAYS],
                                 fmt(round(ratio, 3) if ratio is not None else None)]) + " |")


if __name__ == "__main__":
    main()
