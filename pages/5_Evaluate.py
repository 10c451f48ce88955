"""Evaluate page: run a labelled question file over the workspace, with a progress bar and Stop, then
read page recall, the answer figures, a chart and the per-question table.

UI only: reading the file, running the questions and scoring them live in crew.evaluation, the
same code as `crew eval`. Questions, file names and answers are untrusted: they reach the page in
tables and charts (shown as text) or through crew.safe_text, never as Markdown of their own.
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import streamlit as st

from crew.evaluation.job import EvaluationJob
from crew.evaluation.metrics import summarize
from crew.evaluation.questions import FORMAT, QuestionFileError
from crew.evaluation.report import chart_rows, headline
from crew.evaluation.runner import Evaluation, load_questions
from crew import ModelSpecError
from crew.presentation.safe_text import md, plain
from pages.common.chrome import DOCUMENTS_PAGE, SETTINGS_PAGE, page_setup
from pages.common.crew_access import get_crew, models_for
from pages.common.reader_notice import reader_notice

JOB_KEY = "evaluate_job"  # this session's latest evaluation


def progress_panel(job: EvaluationJob) -> None:
    """Redrawn on its own every half second while the questions run."""
    if job.finished:
        st.rerun()  # draw the results with the whole page
    now = f" · now: {job.current}" if job.current else ""
    st.progress(job.done / max(job.total, 1), text=md("{} of {} questions done{}", job.done, job.total, now))
    st.button("Stopping…" if job.stopped else "Stop", key="evaluate_stop", icon=":material/stop_circle:",
              on_click=job.stop, disabled=job.stopped,
              help="The running turn is cancelled; the questions already done are scored.")


def show_results(job: EvaluationJob) -> None:
    if job.error:
        st.error(md("The evaluation failed: {}", job.error), icon=":material/error:")
    results = job.results
    st.caption(md("Results for {}: {} of {} questions, {} passages searched{}.", job.label, len(results), job.total,
                  job.evaluation.k, "" if job.evaluation.answers else ", search only"))
    if job.stopped:
        st.info(md("Stopped after {} of {} questions; the figures cover those.", len(results), job.total),
                icon=":material/stop_circle:")
    if not results:
        return
    summary = summarize(results)
    st.subheader("Summary")
    figures = headline(summary)
    for start in range(0, len(figures), 4):
        for col, (label, value, note) in zip(st.columns(4), figures[start : start + 4]):
            col.metric(plain(label), plain(value), help=plain(note))
    if summary["answer_kinds"]:
        kinds = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in summary["answer_kinds"].items())
        st.caption(md("Answers: {}", kinds))
    for note in summary["notes"]:
        st.caption(md("Note: {}", note))

    rows = [r.row() for r in results]
    answers = summary["answered"] > 0
    bars = pd.DataFrame(chart_rows(rows, summary["k"]))
    if not bars.empty:
        st.subheader("Per document and language")
        chart = (
            alt.Chart(bars)
            .mark_bar(cornerRadius=3)
            .encode(
                x=alt.X("value:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(tickCount=5, format=".1f")),
                y=alt.Y("group:N", title=None, axis=alt.Axis(labelLimit=360)),
                yOffset="measure:N",
                color=alt.Color("measure:N", title=None),
                tooltip=["group:N", "measure:N", alt.Tooltip("value:Q", format=".2f"), alt.Tooltip("n:Q", title="questions")],
            )
            .properties(height=max(120, 44 * bars["group"].nunique()))
        )
        st.altair_chart(chart, width="stretch")
        st.caption("“cross”: the question is in another language than its document.")

    st.subheader("Questions")
    table = pd.DataFrame([{
        "Line": r["line"], "Question": r["question"], "Source": r["source"], "Pages": r["pages"],
        "Language": r["language"], "Rank": r["rank"],
        **({"Key terms": r["term_rate"], "Right page cited": r["cited_right_page"],
            "Supported": f"{r['supported']}/{r['sentences']}" if r["sentences"] is not None else "",
            "Said not found": r["not_found"], "Kind": r["answer_kind"] or "", "Turn (s)": r["seconds"], "Answer": r["answer"],
            "Missing terms": "; ".join(r["terms_missing"])} if answers else {}),
    } for r in rows])
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Question": st.column_config.TextColumn(width="large"),
        "Rank": st.column_config.NumberColumn(help=md("where the first passage from a labelled page came among the "
                                                      "top {}; empty: not among them", summary["k"])),
        "Key terms": st.column_config.NumberColumn(format="%.2f", help="share of the key terms in the answer"),
        "Supported": st.column_config.TextColumn(help="supported sentences / sentences of the answer"),
        "Turn (s)": st.column_config.NumberColumn(format="%.1f"),
        "Answer": st.column_config.TextColumn(width="large"),
    })
    st.download_button("Download JSON", json.dumps({"summary": summary, "questions": rows}, ensure_ascii=False,
                                                   indent=2), file_name="crew-evaluation.json",
                       mime="application/json", icon=":material/download:", on_click="ignore")


page = page_setup("Evaluate", layout="wide")
ws = page.workspace

st.title("Evaluate")
st.caption(md(
    "Measure the crew on questions with known answers, over the documents of workspace **{}**: "
    "is the right page found, does the answer hold the key facts and cite that page. The same figures as "
    "`crew eval`.", ws))

crew = get_crew(page.settings)
try:
    models = models_for(page.settings)
except ModelSpecError as exc:
    st.error(md("The crew cannot be built: {}", str(exc)), icon=":material/error:")
    st.page_link(SETTINGS_PAGE, label="Open Settings", icon=":material/settings:")
    st.stop()

if not crew.documents(ws):
    st.warning(md("Workspace **{}** has no documents: add the files your questions are about first.", ws),
               icon=":material/folder_open:")
    st.page_link(DOCUMENTS_PAGE, label="Open Documents", icon=":material/folder_open:")
    st.stop()
reader_notice(crew, ws)  # the figures would be of the older text

job: EvaluationJob | None = st.session_state.get(JOB_KEY)
if job is not None and job.evaluation.workspace != ws:
    job = None  # another workspace's run: not shown here
running = job is not None and not job.finished

with st.form("evaluate", border=True):
    upload = st.file_uploader(
        "Question file", type=["txt"],
        help=md("UTF-8 text, one question a line: {}. Page `-` for a source without pages (HTML, "
                "Markdown); `question|-|-|-` for a question the documents do not answer. `#` starts a comment.",
                FORMAT),
    )
    left, right = st.columns(2)
    k = left.number_input("Passages searched (k)", min_value=1, max_value=20, value=5,
                          help="Recall@k and MRR look at the top k passages of the researcher's search.")
    retrieval_only = right.toggle("Search only (no answers)", help="Fast: measures retrieval, runs no turn.")
    submitted = st.form_submit_button("Run", type="primary", icon=":material/play_arrow:", disabled=running)

if submitted and upload is None:
    st.warning("Choose a question file first.")
elif submitted:
    try:
        questions = load_questions(crew, ws, upload.getvalue(), upload.name)
    except QuestionFileError as exc:
        st.error(plain(str(exc)), icon=":material/error:")
    else:
        job = EvaluationJob.start(Evaluation(crew, ws, questions, k=int(k), answers=not retrieval_only,
                                               settings=page.settings, models=models), upload.name)
        st.session_state[JOB_KEY] = job
        running = True

if running:
    st.fragment(progress_panel, run_every=0.5)(job)
elif job is not None:
    show_results(job)
