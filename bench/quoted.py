"""The quoted (extractive) answer, measured without a model: what a turn answers when the writer's draft does
not hold up, which on the embedded model is most turns (bench/RESULTS.md: 7 of 8).

    PYTHONPATH=$PWD/src .venv/bin/python bench/quoted.py --data-dir DIR [--holdout] [--sets GLOB]

For every labelled question the researcher's memory search runs on the question itself (the plan of one
question, what the coordinator falls back to), and the turn's last step, `crew.grounding.settle.settle`, gets
that evidence and no draft: the answer is quoted from the evidence or says "not found". Deterministic: the same
data dir gives the same table. DIR is a data dir `bench/quality.py --data-dir DIR` ingested (or a new one: the
sets' documents are ingested into it the same way).

Figures over answerable questions (crew.evaluation.metrics' key-term matching): key terms in the answer;
"in evidence", the share of key terms the passages hold at all (what any quoting could reach); right page
cited; wrongly said "not found"; and over the questions the documents do not answer, rightly said "not
found"; "cut quotes", the share of quotes that are not whole sentences of prose (`cut`). Baseline in the same
run: the first sentences of the best passages ("lead"), as many as the answer quotes, cited the same way. Last, a
timing table: the search against completing its passages to whole sentences (crew.retrieval.sentences).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

from quality import (OUT, add_set_arguments, fmt, ingest, offline_crew, say, set_files, set_files_of, set_name,
                     workspace_of)

from crew.engine.agents.researcher import evidence_of
from crew.engine.service import Crew
from crew.engine.state import Evidence
from crew.engine.tools.search_memory import search_memory
from crew.evaluation.metrics import key_terms_found, language_group, right_place
from crew.evaluation.questions import parse_questions
from crew.grounding import extractive
from crew.grounding.settle import Thresholds, settle, similarity_of
from crew.grounding.support import sentences


def lead_answer(evidence: list[Evidence], count: int) -> tuple[str, list[int]]:
    """The baseline: the first quotable sentence of each best passage in turn, `count` in all."""
    quotable = {text for text, _ in extractive.candidates([e["text"] for e in evidence])}
    chosen: list[tuple[str, int]] = []
    for n, e in enumerate(evidence, 1):
        first = next((t for t, _ in sentences(e["text"]) if t in quotable), None)
        if first:
            chosen.append((first, n))
        if len(chosen) == count:
            break
    return "\n".join(f"“{t}” [{n}]" for t, n in chosen), [n for _, n in chosen]


def cut(quote: str) -> bool:
    """Whether a quote is not a whole sentence of prose: a section heading, or prose (six words or more, most of
    them lower-case words) that begins with a lower-case word or stops without an end mark ("una memoria USB
    ubicada en «/dev/sda».", "... so that it matches our definition of the severity. That's"). Table rows and
    commands are neither prose nor headings, so they never count."""
    quote = quote.rstrip(" …")
    words = quote.split()
    if not words:
        return False
    if _HEADING.match(quote) and not _END.search(quote):
        return True
    prose = len(words) >= 6 and sum(w.isalpha() and w.islower() for w in words) >= 0.6 * len(words)
    return prose and ((words[0].isalpha() and words[0][:1].islower()) or not _END.search(quote))


_END = re.compile(r"[.!?…:;][\"'»”’)\]]*$")
_HEADING = re.compile(r"^(?:\d+\.\d+(?:\.\d+)*\.?|[A-Z]\.\d+(?:\.\d+)*\.?)\s+\S.{0,100}$")  # "8.1.1. Razón de ser"


def rate(found: list[str], terms: tuple[str, ...]) -> float:
    return len(found) / len(terms)


def one(crew: Crew, workspace: str, question, k: int, language_of) -> dict:
    memory = crew.memory.workspace(workspace)
    hits = search_memory(memory, question.text, k=k).hits or []
    evidence = evidence_of(hits, question=1)
    settled = settle(question.text, evidence, [], language_of(question.text), Thresholds(),
                     similarity_of(memory.memory.embedder))
    cited = [evidence[n - 1] for n in settled.cited if 1 <= n <= len(evidence)]
    row = {"question": question.text, "kind": settled.kind, "answerable": question.answerable,
           "chars": sum(len(s["text"]) for s in settled.sentences), "answer": settled.answer,
           "quotes": len(settled.sentences), "cut": sum(cut(s["text"]) for s in settled.sentences)}
    if not question.answerable:
        return row
    terms = tuple(question.terms)
    lead, lead_cited = lead_answer(evidence, max(1, len(settled.sentences)) if settled.kind == "extractive" else 3)
    row.update(
        terms=rate(key_terms_found(settled.answer, terms), terms) if terms else None,
        evidence_terms=rate(key_terms_found(" ".join(e["text"] for e in evidence), terms), terms) if terms else None,
        lead_terms=rate(key_terms_found(lead, terms), terms) if terms else None,
        page_cited=any(right_place(e["source"], e["page"], question) for e in cited),
        page_in_evidence=any(right_place(e["source"], e["page"], question) for e in evidence),
        lead_page_cited=any(right_place(evidence[n - 1]["source"], evidence[n - 1]["page"], question)
                            for n in lead_cited),
    )
    return row


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def summary(rows: list[dict]) -> dict:
    ans = [r for r in rows if r["answerable"]]
    un = [r for r in rows if not r["answerable"]]
    said = [r for r in ans if r["kind"] != "not_found"]
    return {
        "answerable": len(ans), "unanswerable": len(un),
        "terms": mean(r["terms"] for r in said), "lead_terms": mean(r["lead_terms"] for r in said),
        "evidence_terms": mean(r["evidence_terms"] for r in said),
        "page_cited": mean(float(r["page_cited"]) for r in said),
        "lead_page_cited": mean(float(r["lead_page_cited"]) for r in said),
        "page_in_evidence": mean(float(r["page_in_evidence"]) for r in said),
        "chars": mean(r["chars"] for r in said),
        "cut": sum(r["cut"] for r in said) / max(1, sum(r["quotes"] for r in said)),
        "nf_answerable": mean(float(r["kind"] == "not_found") for r in ans),
        "nf_unanswerable": mean(float(r["kind"] == "not_found") for r in un),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_set_arguments(p)
    p.add_argument("--rows", type=Path, default=None, help="per-question rows (default bench/out/quoted-<part>.json)")
    a = p.parse_args()

    from corpus import fresh_lines, short_lines  # bench/corpus.py

    from crew.models.language import detect

    crew = offline_crew(a.data_dir)
    by_set: dict[str, list[dict]] = {}
    for path in set_files(a.sets, a.holdout):
        name = set_name(path)
        workspace = workspace_of(name)
        if not crew.documents(workspace):
            ingest(crew, workspace, set_files_of(path))
        questions = parse_questions(path.read_bytes(), path.name)
        fresh, short = fresh_lines(path), short_lines(path)
        by_set[name] = []
        for i, q in enumerate(questions, 1):
            say(f"{name} [{i}/{len(questions)}] {q.text[:80]}")
            row = one(crew, workspace, q, crew.settings.top_k, detect)
            row["lang"] = language_group(q.language, q.source_language) or "?"
            row["fresh"] = q.line in fresh
            row["short"] = q.line in short
            by_set[name].append(row)

    OUT.mkdir(exist_ok=True)
    rows_path = a.rows or OUT / f"quoted-{'holdout' if a.holdout else 'tune'}.json"
    rows_path.write_text(json.dumps(by_set, ensure_ascii=False, indent=1))

    everything = [r for rows in by_set.values() for r in rows]
    groups = {name: rows for name, rows in by_set.items()}
    for lang in sorted({r["lang"] for r in everything}):
        groups[f"all {lang}"] = [r for r in everything if r["lang"] == lang]
    groups["fresh"] = [r for r in everything if r["fresh"]]
    groups["short"] = [r for r in everything if r["short"]]
    groups["all"] = everything
    head = ["group", "answerable", "terms quoted", "terms lead", "ratio", "terms in evidence", "page cited",
            "page cited lead", "page in evidence", "quoted chars", "cut quotes", "nf answerable", "nf not in docs"]
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join("---" for _ in head) + " |")
    for name, rows in groups.items():
        s = summary(rows)
        ratio = s["terms"] / s["lead_terms"] if s["terms"] is not None and s["lead_terms"] else None
        print("| " + " | ".join([name, str(s["answerable"]), fmt(s["terms"]), fmt(s["lead_terms"]), fmt(ratio),
                                 fmt(s["evidence_terms"]), fmt(s["page_cited"]), fmt(s["lead_page_cited"]),
                                 fmt(s["page_in_evidence"]), f"{s['chars']:.0f}" if s["chars"] else "-", fmt(s["cut"]), fmt(s["nf_answerable"]),
                                 f"{fmt(s['nf_unanswerable'])} of {s['unanswerable']}"]) + " |")
    say(f"rows: {rows_path}")
    timing(crew, by_set, crew.settings.top_k)


def timing(crew: Crew, by_set: dict[str, list[dict]], k: int) -> None:
    """What completing passages to whole sentences costs beside the search itself: each question searched, then its
    hits completed, three rounds, medians and 95th percentiles of the best round per question (milliseconds)."""
    memory_of = {name: crew.memory.workspace(workspace_of(name)) for name in by_set}
    if not all(hasattr(m, "whole_sentences") for m in memory_of.values()):
        return  # an engine from before passages were completed
    searching, completing = [], []
    for name, rows in by_set.items():
        memory = memory_of[name]
        for row in rows:
            best_search = best_complete = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                hits = memory.search(row["question"], k=k, checked=True)
                middle = time.perf_counter()
                memory.whole_sentences(hits)
                end = time.perf_counter()
                best_search, best_complete = min(best_search, middle - start), min(best_complete, end - middle)
            searching.append(best_search * 1000)
            completing.append(best_complete * 1000)

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    print(f"\n| step | p50 ms | p95 ms |\n| --- | --- | --- |\n"
          f"| search | {statistics.median(searching):.1f} | {p95(searching):.1f} |\n"
          f"| completing its passages to whole sentences | {statistics.median(completing):.1f} | {p95(completing):.1f} |\n"
          f"| ratio completing / search (p50) | {statistics.median(completing) / statistics.median(searching):.3f} | |")


if __name__ == "__main__":
    sys.exit(main())
