"""Command line: `python -m crew run|ingest|search|traces|eval|reindex|migrate|tools`, the same engine the app uses.

`--json` prints exactly one JSON document on stdout; everything else (progress, library
chatter) goes to stderr. Exit codes: 0 ok, 1 some files failed to ingest, some evaluated turns
failed, or a part the crew needs is out of order (the data dir's disk full or read-only, the
Chroma server down), 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Iterator

from pydantic import ValidationError

DEFAULT_WORKSPACE = "default"


class UsageError(Exception):
    """Input the person must fix; printed as one line, exit code 2."""


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Keep stdout clean for the JSON document, even from C libraries writing to fd 1."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _settings(model: str | None):
    from crew.settings import ROLES, Settings

    overrides = {"model": model, **{f"model_{r}": model for r in ROLES}} if model else {}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"bad setting {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def _crew(settings):
    from crew import Crew
    from crew import ModelSpecError

    crew = Crew.from_settings(settings)
    try:
        crew.models_for(settings)  # built now, so a spec that cannot be served is a usage error
    except ModelSpecError as exc:
        raise UsageError(str(exc)) from None
    return crew


def _memory(settings, workspace: str):
    from crew import Embedder, EnglishEmbedder
    from crew import Memory, WorkspaceError, chroma_client

    from crew.storage.stores import open_keywords

    try:
        return Memory(chroma_client(settings.data_dir, settings.chroma_host, settings.chroma_port), Embedder(),
                      keywords=open_keywords(settings), english=EnglishEmbedder()).workspace(workspace)
    except WorkspaceError as exc:
        raise UsageError(str(exc)) from None


def cmd_run(args) -> tuple[object, int]:
    from crew import StaleVectors, WorkspaceError
    from crew import EmptyGoal, TurnInProgress
    from crew import source_label

    if not args.goal.strip():
        raise UsageError("the goal is empty: say what the crew should find out")
    crew = _crew(_settings(args.model))
    if args.chat and crew.chats.get(args.workspace, args.chat) is None:
        raise UsageError(f"no chat {args.chat} in workspace {args.workspace}: leave --chat out to start a new one")
    try:
        # A turn from the command line is a chat in the history, as in the browser.
        turn = crew.run_turn(args.workspace, args.chat, args.goal)
    except (EmptyGoal, WorkspaceError, StaleVectors, TurnInProgress) as exc:
        raise UsageError(str(exc)) from None
    for event in turn:
        if event.kind == "step_started":
            print(f"· {event.agent}: {event.text}", file=sys.stderr)
        elif event.kind in ("limit_hit", "error"):
            print(f"! {event.kind}: {event.text}", file=sys.stderr)
    result = turn.result
    if args.json:
        return result.to_json(), 0
    lines = [result.answer]
    if result.citations:
        lines += ["", "Sources:"] + [
            f"[{c['n']}] {source_label(c)}" for c in result.citations
        ]
    if result.notes:  # as the chat shows them under the answer: how it was made, and how to find more
        lines += [""] + [f"note: {n}" for n in result.notes]
    if result.limit_hit:
        lines.append(f"\n(limit reached: {result.limit_hit})")
    lines.append(f"\n(chat {result.chat_id}: continue it with --chat {result.chat_id})")
    return "\n".join(lines), 0


def _library(settings, workspace: str):
    """Open a workspace's memory and the document library over it, as the app does."""
    from crew.documents.library import Library
    from crew.storage.stores import open_documents, open_originals

    memory = _memory(settings, workspace)
    return memory, Library.beside(settings.data_dir, memory.memory, records=open_documents(settings),
                                  originals=open_originals(settings))


def _note_outdated(documents, workspace: str) -> None:
    """Say on stderr which documents an older reader read, and the command that reads them again."""
    from crew.presentation.library_rows import plural, some_names

    if documents:
        again = "them again from their originals" if len(documents) > 1 else "it again from its original"
        print(f"note: {plural(len(documents), 'document')} of {workspace} ({some_names(documents)}) read by an older"
              f" reader; `crew reindex --outdated --workspace {workspace}` reads {again}", file=sys.stderr)


def cmd_ingest(args) -> tuple[object, int]:
    from crew.faults import explainer
    from crew.documents.ingest import IngestLimits, ingest_path

    settings = _settings(None)
    memory, library = _library(settings, args.workspace)
    limits = IngestLimits.from_settings(settings)
    results = []
    for name in args.files:
        res = ingest_path(memory, Path(name), library=library, chunk_size=settings.chunk_size,
                          chunk_overlap=settings.chunk_overlap, limits=limits, explain=explainer(settings))
        note = " - " + res.error if res.error else (" - " + res.extra.get("note", "") if res.duplicate else "")
        print(f"{res.file}: {res.status} ({res.chunks} chunks){note}", file=sys.stderr)
        results.append(res)
    _note_outdated(library.outdated(args.workspace), args.workspace)
    code = 1 if any(r.status != "ok" for r in results) else 0
    if args.json:
        return [{k: r.to_dict()[k] for k in ("file", "status", "chunks", "error")} for r in results], code
    return "\n".join(f"{r.file}\t{r.status}\t{r.chunks}\t{r.error}" for r in results), code


def cmd_search(args) -> tuple[object, int]:
    if not args.query.strip():
        raise UsageError("the query is empty")
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    from crew import StaleVectors

    memory, library = _library(_settings(None), args.workspace)
    try:
        hits = memory.search_documents(args.query, k=args.k, with_findings=args.findings)
    except StaleVectors as exc:
        raise UsageError(str(exc)) from None
    _note_outdated(library.outdated(args.workspace), args.workspace)
    rows = [{"text": h.text, "source": h.source, "page": h.page, "score": h.score, "chunk_id": h.chunk_id, "url": h.url,
             "heading": h.heading, "rows": h.rows, "place": h.place, "doc_id": h.doc_id, "kind": h.kind} for h in hits]
    if args.json:
        return rows, 0
    return "\n\n".join(f"[{h.score:.3f}] {h.cite()}\n{h.text[:300]}" for h in hits) or "(nothing found)", 0


def cmd_reindex(args) -> tuple[object, int]:
    """Read every document of a workspace again and embed it with the current model."""
    from crew.documents.ingest import IngestLimits
    from crew.documents.reindex import Reindex

    settings = _settings(None)
    memory, library = _library(settings, args.workspace)
    job = Reindex(memory, library, chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
                  limits=IngestLimits.from_settings(settings), only_outdated=args.outdated)
    total = len(job.documents)
    stale = sorted(job.stale)
    if stale:
        print(f"re-embedding the {' and '.join(stale)} of {args.workspace} with {job.model}", file=sys.stderr)
    shown: dict[int, str] = {}

    def moved(i: int, stage: str, fraction: float) -> None:
        if shown.get(i) != stage and stage != "done":
            shown[i] = stage
            print(f"[{i + 1}/{total}] {job.documents[i].name}: {stage}", file=sys.stderr)

    results = job.run(moved)
    for r in results:
        print(f"{r.file}: {r.status} ({r.chunks} chunks){' - ' + r.error if r.error else ''}", file=sys.stderr)
    code = 1 if any(r.status == "error" for r in results) else 0
    if args.json:
        return {"workspace": args.workspace, "model": job.model, "re_embedded": stale,
                "documents": [{k: r.to_dict()[k] for k in ("file", "doc_id", "status", "chunks", "pages", "error")}
                              for r in results]}, code
    if not results:
        none = "no document an older reader read" if args.outdated else "no documents"
        return f"({none} in workspace {args.workspace}){' - findings re-embedded' if stale else ''}", code
    return "\n".join(f"{r.file}\t{r.status}\t{r.chunks}\t{r.error}" for r in results), code


def _trace_text(doc: dict) -> str:
    from crew.presentation.trace_view import money

    turn, totals = doc["turn"], doc["totals"]
    lines = [f"turn {turn['turn_id']}  {totals['status']}  {totals['duration_s']:.2f} s  tokens {totals['tokens_in']} in /"
             f" {totals['tokens_out']} out  {money(totals['cost_usd'])}  {turn['goal']}",
             f"{'start':>8} {'ms':>9} {'in':>7} {'out':>6} {'cost':>8}  {'status':<8} span"]
    for r in doc["spans"]:
        lines.append(f"{r['start_s']:>7.3f}s {r['duration_ms']:>9.1f} {r['tokens_in']:>7} {r['tokens_out']:>6}"
                     f" {money(r['cost_usd']):>8}  {r['status']:<8} {r['span']}"
                     + (f"  ! {r['error'][:120]}" if r["error"] else ""))
    return "\n".join(lines)


def cmd_traces(args) -> tuple[object, int]:
    from crew import WorkspaceError, check_workspace
    from crew.storage.files import DataFiles
    from crew.storage.stores import database_url, open_traces
    from crew.presentation.trace_view import money, trace_document

    try:
        check_workspace(args.workspace)
    except WorkspaceError as exc:
        raise UsageError(str(exc)) from None
    if args.n < 1:
        raise UsageError("-n must be at least 1")
    settings = _settings(None)
    path = DataFiles(settings.data_dir).traces
    docs = []
    if database_url(settings) or path.exists():  # reading must not create a data dir
        store = open_traces(settings)
        turns = store.turns(args.workspace, limit=1 if args.last else args.n)
        docs = [trace_document(t, store.spans(args.workspace, t["turn_id"])) for t in turns]
    if args.json:
        return (docs[0] if docs else None) if args.last else docs, 0
    if not docs:
        return f"(no traces in workspace {args.workspace})", 0
    if args.last:
        return _trace_text(docs[0]), 0
    import time

    rows = [f"{'started':<19}  {'turn':<16}  {'status':<15} {'s':>7} {'in':>7} {'out':>6} {'cost':>8}  goal"]
    for d in docs:
        t, tot = d["turn"], d["totals"]
        rows.append(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(t['started']))}  {t['turn_id']:<16}  "
                    f"{tot['status']:<15} {tot['duration_s']:>7.2f} {tot['tokens_in']:>7} {tot['tokens_out']:>6}"
                    f" {money(tot['cost_usd']):>8}  {' '.join(t['goal'].split())[:80]}")
    return "\n".join(rows), 0


def cmd_tools(args) -> tuple[object, int]:
    """List every tool each role may use: built in, and each MCP server's (connecting to it to ask)."""
    from crew import WorkspaceError, check_workspace, tool_catalog

    try:
        check_workspace(args.workspace)
    except WorkspaceError as exc:
        raise UsageError(str(exc)) from None
    rows = tool_catalog(_settings(None), args.workspace)
    if args.json:
        return rows, 0
    width = max([len(r["name"]) for r in rows] + [4])
    lines = [f"{'role':<11} {'tool':<{width}}  {'server':<12} {'status':<12} description"]
    lines += [f"{r['role']:<11} {r['name'] or '-':<{width}}  {r['server']:<12} {r['status']:<12} {r['description'][:80]}"
              for r in rows]
    return "\n".join(lines), 0


def _read_question_file(name: str) -> bytes:
    from crew.evaluation.questions import MAX_BYTES, QuestionFileError, check_size

    path = Path(name)
    try:
        check_size(path.name, path.stat().st_size)  # before reading: a huge file is refused unread
        with open(path, "rb") as f:
            return f.read(MAX_BYTES + 1)
    except QuestionFileError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot read the question file {name}: {exc.strerror or exc}") from None


def cmd_eval(args) -> tuple[object, int]:
    from crew.evaluation.metrics import summarize
    from crew.evaluation.questions import QuestionFileError
    from crew.evaluation.report import text_report
    from crew.evaluation.runner import Evaluation, load_questions
    from crew import WorkspaceError

    if args.k < 1:
        raise UsageError("-k must be at least 1")
    data = _read_question_file(args.questions)
    settings = _settings(args.model)
    crew = _crew(settings)
    try:
        questions = load_questions(crew, args.workspace, data, Path(args.questions).name)
    except (QuestionFileError, WorkspaceError) as exc:
        raise UsageError(str(exc)) from None
    _note_outdated(crew.outdated(args.workspace), args.workspace)  # its figures are of the older text

    def progress(done: int, total: int, question) -> None:
        if question is not None:
            print(f"[{done + 1}/{total}] {' '.join(question.text.split())[:100]}", file=sys.stderr)

    run = Evaluation(crew, args.workspace, questions, k=args.k, answers=not args.retrieval_only)
    try:
        results = run.run(progress)
    except KeyboardInterrupt:
        run.cancel()
        raise
    rows = [r.row() for r in results]
    summary = summarize(results)
    code = 1 if summary["errors"] else 0
    if args.json:
        return {"workspace": args.workspace, "file": args.questions, "model": None if args.retrieval_only else
                settings.model, "retrieval_only": args.retrieval_only, "summary": summary, "questions": rows}, code
    return text_report(summary, rows, answers=not args.retrieval_only), code


def cmd_migrate(args) -> tuple[object, int]:
    from crew import chroma_client
    from crew.storage.migrate import Migration, MigrationRefused
    from crew.storage.stores import database_url

    settings = _settings(None)
    source = Path(args.source) if args.source else settings.data_dir
    url = args.database_url or database_url(settings)
    host = args.chroma_host or settings.chroma_host
    port = args.chroma_port or settings.chroma_port
    if not url:
        raise UsageError("name the target database: --database-url postgresql://... or CREW_DATABASE_URL")
    if not host:
        raise UsageError("name the target Chroma server: --chroma-host HOST [--chroma-port PORT] or CHROMA_HOST")
    if not (source / "crew.sqlite").exists() and not (source / "chroma").is_dir():
        raise UsageError(f"{source} holds no Crew data (no crew.sqlite, no chroma/): name the data dir with --from")
    print(f"crew migrate: {source} -> Postgres + Chroma server {host}:{port}", file=sys.stderr)
    try:
        report = Migration(source, url, chroma_client(source, host, port),
                           progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True)).run()
    except MigrationRefused as exc:
        raise UsageError(str(exc)) from None
    code = 0 if report.ok else 1
    if args.json:
        return report.to_json(), code
    verdict = "every count matches" if report.ok else "COUNTS DIFFER: the target is not a full copy"
    return f"{report.table()}\n\n{verdict}", code


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="crew", description="Run the research crew from the command line.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--workspace", default=DEFAULT_WORKSPACE)
        sp.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    run = sub.add_parser("run", help="answer a goal with cited sources")
    run.add_argument("goal")
    run.add_argument("--model", help="provider:model for every role, e.g. local, fake, openai:gpt-4o-mini")
    run.add_argument("--chat", help="add the turn to this chat (its id, as the app's URL shows: ?chat=ID); "
                                    "without it the turn starts a new chat")
    common(run)
    run.set_defaults(func=cmd_run)

    ing = sub.add_parser("ingest", help="add files to the workspace's memory")
    ing.add_argument("files", nargs="+")
    common(ing)
    ing.set_defaults(func=cmd_ingest)

    se = sub.add_parser("search", help="search the workspace's documents, as the Documents page does")
    se.add_argument("query")
    se.add_argument("-k", type=int, default=5)
    se.add_argument("--findings", action="store_true",
                    help="also search the web findings the crew remembered in this workspace")
    common(se)
    se.set_defaults(func=cmd_search)

    ri = sub.add_parser("reindex", help="read every document again and embed it with the current model")
    ri.add_argument("--outdated", action="store_true",
                    help="only the documents an older reader read; the others keep their chunks as they are")
    common(ri)
    ri.set_defaults(func=cmd_reindex)

    tr = sub.add_parser("traces", help="show recent turns' traces: spans, durations, tokens, estimated cost")
    tr.add_argument("--last", action="store_true", help="only the latest turn, with its span tree")
    tr.add_argument("-n", type=int, default=20, help="how many recent turns (default 20)")
    common(tr)
    tr.set_defaults(func=cmd_traces)

    to = sub.add_parser("tools", help="list every tool each role may use, built in and from MCP servers")
    common(to)
    to.set_defaults(func=cmd_tools)

    ev = sub.add_parser("eval", help="measure retrieval and answers on labelled questions",
                        description="Each line of QUESTIONS: question|source file|page[,page]|key;terms "
                                    "(page - for sources without pages; source, page and terms - for a question "
                                    "the documents do not answer). # starts a comment.")
    ev.add_argument("questions", metavar="QUESTIONS", help="the question file (UTF-8 text)")
    ev.add_argument("-k", type=int, default=5, help="passages searched per question for recall@k and MRR (default 5)")
    ev.add_argument("--retrieval-only", action="store_true", help="only search; run no turns")
    ev.add_argument("--model", help="provider:model for every role (default: the configured model)")
    common(ev)
    ev.set_defaults(func=cmd_eval)

    mi = sub.add_parser("migrate", help="copy a single-user data dir into Postgres and a Chroma server",
                        description="Copies chats, turns, traces, the library, upload originals, the keyword index,"
                                    " LangGraph checkpoints and every Chroma collection (vectors as they are) into"
                                    " an empty Postgres and Chroma server, then compares the counts on both sides."
                                    " The data dir is only read.")
    mi.add_argument("--from", dest="source", metavar="DATA_DIR", help="the data dir to copy (default: CREW_DATA_DIR)")
    mi.add_argument("--database-url", help="the target Postgres (default: CREW_DATABASE_URL)")
    mi.add_argument("--chroma-host", help="the target Chroma server (default: CHROMA_HOST)")
    mi.add_argument("--chroma-port", type=int, help="its port (default: CHROMA_PORT)")
    mi.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    mi.set_defaults(func=cmd_migrate)
    return p


def _fault(exc: Exception):
    """The operator fault behind an error (crew.faults), or None when the error is ours."""
    from crew.faults import explain_for

    try:
        return explain_for(exc, _settings(None))
    except UsageError:
        return None


def fault_document(args, fault) -> object:
    """The one JSON document a command prints when a part it needs is out of order.

    `ingest` keeps its shape, one entry per file, each saying why it was not stored; the other
    commands print {"error", "part", "where"}.
    """
    if args.command == "ingest":
        from crew.documents.ingest import safe_name

        return [{"file": safe_name(Path(name).name), "status": "error", "chunks": 0, "error": f"not stored: {fault.message}"}
                for name in args.files]
    return fault.to_json()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.json:
            with stdout_to_stderr():
                out, code = args.func(args)
        else:
            out, code = args.func(args)
    except UsageError as exc:
        print(f"crew: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("crew: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        fault = _fault(exc)
        if fault is None:
            raise  # ours: keep the traceback
        print(f"crew: {fault.message}", file=sys.stderr)
        if args.json:
            print(json.dumps(fault_document(args, fault), ensure_ascii=False, indent=2))
        return 1
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(out)
    return code


if __name__ == "__main__":
    sys.exit(main())
