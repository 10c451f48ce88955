"""Answer quality on labelled question sets: page recall and MRR of the researcher's search, and
for the crew's answers key terms, cited pages, supported sentences and "not found", per set and
language, with the baselines measured in the same run.

    .venv/bin/python bench/quality.py [--sets GLOB] [--holdout] [--retrieval-only] [--model local]
                                      [--limit N] [--json] [--data-dir DIR] [--keywords BACKEND]

Sets: bench/sets/*.tune.txt by default (the part thresholds are tuned on), *.holdout.txt with
--holdout; the format is `crew eval`'s (crew.evaluation.questions, bench/sets/README.md). Each set
runs on its own workspace of a fresh temporary data dir holding exactly the documents its
`# document:` lines name (bench/corpus.py finds them where `bash scripts/corpus` unpacked them),
added through Crew.ingest as an upload would be.

Figures (crew.evaluation.metrics): recall@5 and MRR over answerable questions; key-term rate,
right page cited and "said not found" over answerable questions, "said not found" also over the
questions the documents do not answer; supported sentences over all sentences of all answers;
median wall time of a whole turn. Language: the question's ("en", "es", from the set's `# asked
in:` lines), or "cross" when it differs from its document's (from its `# document:` line). "fresh" rows:
the questions written last, by reading the pages only (bench/corpus.py's FRESH_BATCHES), apart; "short"
rows: the short questions as people type them (SHORT_BATCHES).

Baselines, same run, same workspace: retrieval hybrid (Crew.search_documents, what the researcher
uses) vs vector-only vs keyword-only (WorkspaceMemory.search's modes); answers with the grounded
pipeline vs free generation (the `grounded` setting, CREW_GROUNDED), when the engine has it.
Per-question rows of every run go to bench/out/quality-<tune|holdout>.json (with `-<backend>` when
--keywords is given).

--keywords picks the keyword index: `sqlite` (FTS5 in the data dir, the default), `postgres`
(crew.retrieval.pg_keywords on a temporary server started with tests/postgres.py), or
`postgres-ts_rank_cd` (the same, ranked by Postgres's own ts_rank_cd, which has no idf). With
Postgres, the chunks already in a reused --data-dir are copied into the index from Chroma first.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _report import report

from crew.evaluation.metrics import QuestionResult, summarize
from crew.evaluation.questions import Question, QuestionFileError, check_questions, parse_questions
from crew.evaluation.runner import Evaluation
from crew.engine.service import Crew
from crew.settings import ROLES, Settings

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
K = 5


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def add_set_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of the benches that search an ingested data dir without a model (quoted.py, translated.py)."""
    p.add_argument("--sets", help="glob of question files (default bench/sets/*.tune.txt)")
    p.add_argument("--holdout", action="store_true", help="the *.holdout.txt sets (figures only: do not tune on them)")
    p.add_argument("--data-dir", type=Path, required=True, help="the workspaces (ingested here if empty)")


def offline_crew(data_dir: Path) -> Crew:
    """A crew over a data dir that runs no model: for benches of the search and the quotes."""
    return Crew.from_settings(Settings(data_dir=data_dir, model="fake", web_search=False,
                                       **{f"model_{r}": None for r in ROLES}))


def set_files(pattern: str | None, holdout: bool) -> list[Path]:
    pattern = pattern or str(HERE / "sets" / ("*.holdout.txt" if holdout else "*.tune.txt"))
    return [Path(p) for p in sorted(glob.glob(pattern))]


def set_name(path: Path) -> str:
    return path.name.removesuffix(".txt")


def set_files_of(path: Path) -> list[Path]:
    """The documents a set names in its `# document:` lines, on this machine."""
    try:
        from corpus import CorpusMissing, set_documents  # bench/corpus.py, beside the sets' tools
    except ImportError:
        raise SystemExit("bench/corpus.py is missing: it comes with the question sets (bench/sets/)") from None
    documents = set_documents(path)
    if not documents:
        raise SystemExit(f"{path}: no `# document:` lines: a set names the documents it runs on "
                         "(bench/sets/README.md)")
    try:
        return [d.path() for d in documents]
    except CorpusMissing as exc:
        raise SystemExit(str(exc)) from None


def workspace_of(name: str) -> str:
    """One workspace per set (its tuning and holdout parts share documents): "python-docs"."""
    return name.split(".")[0]


def ingest(crew: Crew, workspace: str, files: list[Path]) -> dict:
    started = time.perf_counter()
    chunks = pages = 0
    failed = []
    for n, path in enumerate(files, 1):
        res = crew.ingest(workspace, path.name, path.read_bytes())
        if res.status != "ok":
            failed.append(f"{path.name}: {res.error}")
        chunks += res.chunks
        pages += res.pages
        say(f"{workspace}: ingested {path.name} ({n}/{len(files)}), {res.chunks} chunks")
    return {"files": len(files), "pages": pages, "chunks": chunks, "seconds": round(time.perf_counter() - started, 1), "failed": failed}


@contextlib.contextmanager
def postgres_keywords(memory, ranking: str):
    """A PgKeywordIndex on a throwaway Postgres server, holding every chunk the memory's Chroma holds."""
    sys.path.insert(0, str(HERE.parent))  # the repository, for tests/postgres.py
    from tests.postgres import PostgresServer

    from crew.retrieval import windows
    from crew.retrieval.pg_keywords import PgKeywordIndex

    with PostgresServer() as server:
        index = PgKeywordIndex(server.url, ranking=ranking)
        try:
            for col in memory.client.list_collections():
                if not col.name.startswith(memory.prefix + "_"):
                    continue
                col = memory.client.get_collection(col.name)
                for start in range(0, col.count(), 2000):
                    got = col.get(include=["documents", "metadatas"], limit=2000, offset=start)
                    # Window rows (crew.retrieval.windows) are vectors of a chunk, never keyword rows: indexed as
                    # empty texts they tripled the row count and skewed BM25's idf and mean length.
                    index.add(col.name, [(cid, str((meta or {}).get("doc_id", "")), text or "")
                                         for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
                                         if not windows.is_window(cid)])
                say(f"postgres keywords: {col.name}: {index.count(col.name)} chunks copied from Chroma")
            yield index
        finally:
            index.close()


def mode_search(crew: Crew, mode: str):
    if mode == "hybrid":
        return crew.search_documents  # exactly the researcher's search
    return lambda workspace, query, k: crew.memory.workspace(workspace).search(query, k=k, kinds=("documents",),
                                                                               mode=mode)


def run_sets(crew: Crew, sets: dict[str, list[Question]], label: str, answers: bool,
             search=None, settings: Settings | None = None) -> dict[str, list[QuestionResult]]:
    out = {}
    for name, questions in sets.items():
        def progress(done, total, q, name=name):
            if q is not None:
                say(f"{label} {name} [{done + 1}/{total}] {' '.join(q.text.split())[:90]}")

        out[name] = Evaluation(crew, workspace_of(name), questions, k=K, answers=answers, search=search,
                               settings=settings).run(progress)
    return out


def groups(results: dict[str, list[QuestionResult]],
           batches: dict[str, dict[str, set[int]]] | None = None) -> dict[tuple[str, str], list[QuestionResult]]:
    """Results per (set, language), plus each set whole ("all") and everything ("*", "all"); with `batches`
    (a label such as "fresh" -> set name -> its lines, bench/corpus.py) those questions of all sets too
    ("*", "fresh", "fresh es", ...)."""
    out: dict[tuple[str, str], list[QuestionResult]] = {}
    for name, rs in results.items():
        out[(name, "all")] = rs
        for r in rs:
            out.setdefault((name, r.language or "?"), []).append(r)
    out[("*", "all")] = [r for rs in results.values() for r in rs]
    for r in out[("*", "all")]:
        out.setdefault(("*", r.language or "?"), []).append(r)
    for label, lines in (batches or {}).items():
        for name, rs in results.items():
            for r in rs:
                if r.question.line in lines.get(name, ()):
                    out.setdefault(("*", label), []).append(r)
                    out.setdefault(("*", f"{label} {r.language or '?'}"), []).append(r)
    return out


def fmt(value) -> str:
    return "-" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", help="glob of question files (default bench/sets/*.tune.txt)")
    p.add_argument("--holdout", action="store_true", help="run the *.holdout.txt sets instead of *.tune.txt")
    p.add_argument("--retrieval-only", action="store_true", help="measure search only; run no turns")
    p.add_argument("--model", default="local", help="provider:model for every role (default local, the embedded model)")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions of each set")
    p.add_argument("--json", action="store_true", help="print only a JSON object of the figures")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="keep the ingested workspaces here and reuse them next time (default: a fresh temporary dir)")
    p.add_argument("--rows", type=Path, default=None,
                   help="write the per-question rows here (default bench/out/quality-<tune|holdout>.json)")
    p.add_argument("--keywords", choices=("sqlite", "postgres", "postgres-ts_rank_cd"), default=None,
                   help="keyword index backend (default sqlite, FTS5); postgres starts a temporary server")
    a = p.parse_args()

    paths = set_files(a.sets, a.holdout)
    if not paths:
        raise SystemExit(f"no question sets match {a.sets or 'bench/sets/*.' + ('holdout' if a.holdout else 'tune') + '.txt'}")
    sets: dict[str, list[Question]] = {}
    try:
        for path in paths:
            sets[set_name(path)] = parse_questions(path.read_bytes(), path.name)[: a.limit]
    except QuestionFileError as exc:
        raise SystemExit(f"quality: {exc}") from None
    files = {name: set_files_of(path) for name, path in zip(sets, paths)}
    load_before = os.getloadavg()[0]

    with contextlib.ExitStack() as stack:
        tmp = a.data_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="crew-quality-"))
        base = Settings(data_dir=Path(tmp), model=a.model, web_search=False,
                        **{f"model_{role}": None for role in ROLES})  # one model for every role
        crew = Crew.from_settings(base)
        if a.keywords and a.keywords.startswith("postgres"):
            ranking = "ts_rank_cd" if a.keywords.endswith("ts_rank_cd") else "bm25"
            crew.memory.keywords = stack.enter_context(postgres_keywords(crew.memory, ranking))
        ingested = {"files": 0, "pages": 0, "chunks": 0, "seconds": 0.0, "failed": []}
        for name, docs in files.items():
            workspace = workspace_of(name)
            if not crew.documents(workspace):  # a set's two parts share a workspace
                for key, value in ingest(crew, workspace, docs).items():
                    ingested[key] += value
            pages = {}
            for doc in crew.documents(workspace):
                pages[doc.name] = max(pages.get(doc.name, 0), doc.pages)
            try:
                sets[name] = check_questions(sets[name], pages, name, workspace)
            except QuestionFileError as exc:
                raise SystemExit(f"quality: {exc}") from None
        ingested["seconds"] = round(ingested["seconds"], 1)

        runs: dict[str, dict[str, list[QuestionResult]]] = {}
        for mode in ("hybrid", "vector", "keyword"):
            runs[f"search-{mode}"] = run_sets(crew, sets, mode, answers=False, search=mode_search(crew, mode))
        if not a.retrieval_only:
            for pipeline, flag in {"grounded": True, "free": False}.items():
                settings = base.model_copy(update={"grounded": flag})
                runs[f"answers-{pipeline}"] = run_sets(crew, sets, pipeline, answers=True, settings=settings)

    from corpus import fresh_lines, short_lines  # bench/corpus.py

    batches = {label: {name: lines(path) for name, path in zip(sets, paths)}
               for label, lines in {"fresh": fresh_lines, "short": short_lines}.items()}
    summaries = {run: {key: summarize(rs) for key, rs in groups(results, batches).items()} for run, results in runs.items()}
    answer_runs = [r for r in runs if r.startswith("answers-")]
    OUT.mkdir(exist_ok=True)
    rows_path = a.rows or OUT / f"quality-{'holdout' if a.holdout else 'tune'}{'-' + a.keywords if a.keywords else ''}.json"
    rows_path.write_text(json.dumps({
        "sets": [str(p) for p in paths], "model": a.model, "ingest": ingested,
        "runs": {run: {name: [r.row() for r in rs] for name, rs in results.items()} for run, results in runs.items()},
    }, ensure_ascii=False, indent=1))

    # The table per set and language.
    head = ["set", "lang", "answerable", "not in docs", "R@5 hyb", "R@5 vec", "R@5 kw", "MRR hyb"]
    for run in answer_runs:
        tag = run.removeprefix("answers-")
        head += [f"terms {tag}", f"page {tag}", f"supp {tag}", f"nf-ans {tag}", f"nf-un {tag}", f"s {tag}"]
    table = []
    for key in summaries["search-hybrid"]:
        hyb = summaries["search-hybrid"][key]
        row = [key[0], key[1], str(hyb["answerable"]), str(hyb["unanswerable"]), fmt(hyb["recall_at_k"]),
               fmt(summaries["search-vector"][key]["recall_at_k"]), fmt(summaries["search-keyword"][key]["recall_at_k"]),
               fmt(hyb["mrr"])]
        for run in answer_runs:
            s = summaries[run][key]
            row += [fmt(s["key_term_rate"]), fmt(s["right_page_cited"]), fmt(s["supported_sentence_rate"]),
                    fmt(s["not_found_answerable"]), fmt(s["not_found_unanswerable"]), fmt(s["median_turn_s"])]
        table.append(row)

    overall = {run: summaries[run][("*", "all")] for run in runs}
    hyb, vec, kw = (overall[f"search-{m}"] for m in ("hybrid", "vector", "keyword"))

    def ratio(x, y):
        return round(x / y, 3) if x is not None and y else None

    figures: dict = {
        "questions": hyb["questions"], "answerable": hyb["answerable"], "files": ingested["files"],
        "chunks": ingested["chunks"], "ingest_s": ingested["seconds"], "model": a.model,
        "keywords": a.keywords or "sqlite",
        "recall5_hybrid": hyb["recall_at_k"], "recall5_vector": vec["recall_at_k"], "recall5_keyword": kw["recall_at_k"],
        "mrr_hybrid": hyb["mrr"], "mrr_vector": vec["mrr"], "mrr_keyword": kw["mrr"],
        "recall5_hybrid_vs_vector": ratio(hyb["recall_at_k"], vec["recall_at_k"]),
        "recall5_hybrid_vs_keyword": ratio(hyb["recall_at_k"], kw["recall_at_k"]),
        "groups": {f"{s}/{lang}": {"n": summaries["search-hybrid"][(s, lang)]["questions"],
                                   **{run: {k: v for k, v in summaries[run][(s, lang)].items() if k != "notes"}
                                      for run in runs}}
                   for s, lang in summaries["search-hybrid"]},
    }
    rows: list[tuple[str, object, str]] = [
        ("questions", hyb["questions"], f"{hyb['answerable']} answerable, over {len(paths)} set(s)"),
        ("files / chunks", f"{ingested['files']} / {ingested['chunks']}",
         f"{ingested['pages']} PDF pages among them; ingested in {ingested['seconds']} s; "
         f"failed: {len(ingested['failed'])}"),
        ("recall@5 hybrid / vector / keyword", f"{fmt(hyb['recall_at_k'])} / {fmt(vec['recall_at_k'])} / "
         f"{fmt(kw['recall_at_k'])}", "a labelled page in the top 5"),
        ("MRR hybrid / vector / keyword", f"{fmt(hyb['mrr'])} / {fmt(vec['mrr'])} / {fmt(kw['mrr'])}", ""),
        ("recall@5 hybrid / vector", figures["recall5_hybrid_vs_vector"], "ratio, same run"),
        ("recall@5 hybrid / keyword", figures["recall5_hybrid_vs_keyword"], "ratio, same run"),
    ]
    for run in answer_runs:
        s, tag = overall[run], run.removeprefix("answers-")
        for key in ("key_term_rate", "right_page_cited", "supported_sentence_rate", "not_found_answerable",
                    "not_found_unanswerable", "median_turn_s"):
            figures[f"{key}_{tag}"] = s[key]
        rows.append((f"answers ({tag})", f"terms {fmt(s['key_term_rate'])}, page {fmt(s['right_page_cited'])}, "
                     f"supported {fmt(s['supported_sentence_rate'])}",
                     "; ".join(part for part in [f"model {a.model}", ", ".join(f"{n} {kind}" for kind, n in
                                                                              s["answer_kinds"].items()), *s["notes"]]
                               if part)))
        rows.append((f"not found ({tag}) answerable / unanswerable",
                     f"{fmt(s['not_found_answerable'])} / {fmt(s['not_found_unanswerable'])}",
                     f"median turn {fmt(s['median_turn_s'])} s"))
    if "answers-grounded" in overall and "answers-free" in overall:
        g, f = overall["answers-grounded"], overall["answers-free"]
        for key in ("key_term_rate", "right_page_cited", "supported_sentence_rate"):
            figures[f"{key}_grounded_vs_free"] = ratio(g[key], f[key])
            rows.append((f"{key} grounded / free", figures[f"{key}_grounded_vs_free"], "ratio, same run"))
    elif answer_runs:
        rows.append(("grounded / free", "n/a", "the engine has no `grounded` setting yet: answers ran once, as today"))
    rows.append(("per-question rows", str(rows_path), ""))
    rows.append(("load average (1 min)", f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}", "others share the 2 cores"))

    if not a.json:
        print("## Quality per set and language (bench/quality.py)\n")
        print("| " + " | ".join(head) + " |")
        print("| " + " | ".join("---" for _ in head) + " |")
        for row in table:
            print("| " + " | ".join(row) + " |")
        print()
    report("Quality (bench/quality.py)", rows, figures, a.json)


if __name__ == "__main__":
    main()
