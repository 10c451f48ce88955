"""Documents page: add files to the workspace with a progress bar each, list them, search them, delete them.

Files are added in the background (crew.uploads): the page watches, so a person can go and chat
while a long file is embedded, and finds the summaries when they come back.

UI only: reading, chunking, embedding and the library live in crew.ingest and crew.library,
reached through the Crew. Names and errors are shown with st.text/st.dataframe, or as text
escaped by crew.safe_text (`plain`, `md`): never as HTML, never as a live link or image.
"""

from __future__ import annotations

import streamlit as st

from crew.documents.ingest import upload_limit_mb
from crew.documents.library import read_by_older
from crew.presentation.library_rows import (UPLOAD_TYPES, library_rows, outdated_line, plural, progress_label,
                                            summary_line)
from crew import Crew
from crew.settings import Settings
from crew.documents.uploads import FileUpload, UploadJob, Uploads
from crew.presentation.safe_text import md, plain
from pages.common.chrome import page_setup, stop_on_fault
from pages.common.crew_access import get_crew, upload_queue

JOB_KEY = "documents_upload_job"  # this session's latest upload
RUNNING_KEY = "documents_uploads_running"  # the uploads still running when the page was last drawn in full
FLASH_KEY = "documents_flash"


def crew_for(settings: Settings) -> Crew:
    with stop_on_fault(settings):
        return get_crew(settings)  # the library needs no chat model


def delete(crew: Crew, workspace: str, doc_id: str, name: str) -> None:
    """Button callback: runs before the page redraws, so the list below is already without it."""
    if crew.delete_document(workspace, doc_id):
        st.session_state[FLASH_KEY] = md("Deleted {}: its chunks are gone from the workspace's memory.", name)
    else:
        st.session_state[FLASH_KEY] = md("{} was already gone.", name)


def reindex(crew: Crew, uploads: Uploads, workspace: str, only_outdated: bool = False) -> None:
    """Button callback: read every document (or those an older reader read) again and embed it with the
    current model, in the background."""
    job = crew.reindex(workspace, only_outdated=only_outdated)
    if job.documents:  # one bar per document, as an upload's files
        st.session_state[JOB_KEY] = uploads.submit(workspace, [(d.name, b"") for d in job.documents], job.step).job_id
    else:
        job.run()  # only saved web findings to embed again
        st.session_state[FLASH_KEY] = "Re-indexed: the workspace's saved web findings were embedded again."


def show_file(f: FileUpload) -> None:
    """One file of an upload: its bar, and once it is in, what came of it."""
    with st.container(border=True):
        st.progress(min(max(f.fraction, 0.0), 1.0), text=plain(progress_label(f.name, f.stage, f.fraction)))
        if f.result is None:
            return
        if f.result.status == "ok" and f.result.duplicate:
            st.info(plain(summary_line(f.result)), icon=":material/check:")
        elif f.result.status == "ok":
            st.success(plain(summary_line(f.result)), icon=":material/check:")
        elif f.result.status == "skipped":  # a re-index that could not read a document again
            st.warning(plain(summary_line(f.result)), icon=":material/info:")
        else:
            st.error(plain(summary_line(f.result)), icon=":material/error:")


def shown_jobs(uploads: Uploads, workspace: str) -> list[UploadJob]:
    """This session's latest upload (running or finished) and any other upload still running here."""
    latest = uploads.get(st.session_state.get(JOB_KEY, ""))
    jobs = [latest] if latest is not None and latest.workspace == workspace else []
    return jobs + [j for j in uploads.running(workspace) if j not in jobs]


def upload_panel(uploads: Uploads, workspace: str) -> None:
    """Redrawn on its own every half second while files are being added (see below)."""
    jobs = shown_jobs(uploads, workspace)
    if any(not j.done for j in jobs):
        st.caption("Files are added in the background: you can go on to the chat and come back.")
    for job in jobs:
        for f in job.files:
            show_file(f)
        if not job.done:
            st.button("Cancelling…" if job.cancel_requested else "Cancel", key=f"cancel-{job.job_id}",
                      icon=":material/cancel:", disabled=job.cancel_requested, on_click=uploads.cancel,
                      args=(job.job_id,), help="The file being added is rolled back; the ones after it are skipped.")
    running = {j.job_id for j in jobs if not j.done}
    if st.session_state.get(RUNNING_KEY, set()) - running:
        st.rerun()  # an upload finished: redraw the whole page, so the library lists its documents


page = page_setup("Documents", layout="wide")
ws = page.workspace
crew = crew_for(page.settings)
uploads = upload_queue()
limit = upload_limit_mb()

st.title("Documents")
st.caption(md(
    "Files in workspace **{}** that the crew searches and cites down to the page. PDF, Word (.docx), "
    "Markdown, plain text, HTML and CSV, several at once, up to {} MB each.", ws, limit
))

with st.form("upload", clear_on_submit=True, border=True):
    files = st.file_uploader("Add files", type=UPLOAD_TYPES, accept_multiple_files=True,
                             help="Scanned PDFs without a text layer and password-protected files cannot be read.")
    submitted = st.form_submit_button("Add to the workspace", type="primary", icon=":material/upload:")

if submitted and files:
    # The worker adds the files; this page only watches, so the person may leave and come back.
    job = uploads.submit(ws, [(f.name, f.getvalue()) for f in files], crew.ingest)
    st.session_state[JOB_KEY] = job.job_id
elif submitted:
    st.warning("Choose one or more files first.")
st.session_state[RUNNING_KEY] = {j.job_id for j in shown_jobs(uploads, ws) if not j.done}
st.fragment(upload_panel, run_every=0.5 if st.session_state[RUNNING_KEY] else None)(uploads, ws)

if flash := st.session_state.pop(FLASH_KEY, None):
    st.toast(plain(flash), icon=":material/delete:")

busy = bool(st.session_state[RUNNING_KEY])
try:
    stale = crew.stale(ws)
except Exception:  # the vector store is unreachable: the library and search below say so themselves
    stale = []
for problem in stale:  # vectors of another embedding model: searching them would answer nonsense
    st.warning(plain(str(problem)[:1].upper() + str(problem)[1:]), icon=":material/warning:")
if stale:
    st.button("Re-index now", key="reindex-stale", type="primary", icon=":material/refresh:", disabled=busy,
              on_click=reindex, args=(crew, uploads, ws))

with stop_on_fault(page.settings):
    documents = crew.documents(ws)
# Read by an older reader of their format (none to offer while the re-index above reads every one again).
outdated = [] if stale else [d for d in documents if read_by_older(d)]
if outdated:
    st.info(plain(outdated_line(outdated)), icon=":material/update:")
    st.button("Re-index it" if len(outdated) == 1 else "Re-index them", key="reindex-outdated", type="primary",
              icon=":material/refresh:", disabled=busy, on_click=reindex, args=(crew, uploads, ws, True),
              help="Only these are read again; the other documents keep their chunks as they are.")

st.subheader(md("Library ({})", len(documents)))
if not documents:
    st.info("No documents in this workspace yet. Add some above; the crew will search them and cite the page.",
            icon=":material/folder_open:")
else:
    rows = library_rows(documents)
    st.dataframe([{k: v for k, v in r.items() if k != "doc_id"} for r in rows], hide_index=True, width="stretch")
    st.caption("Delete a document to remove it and its chunks from the workspace's memory. Re-index reads every "
               "document again from its original file and embeds it with the current model.")
    if not stale and not outdated:
        st.button("Re-index", key="reindex", icon=":material/refresh:", disabled=busy, on_click=reindex,
                  args=(crew, uploads, ws), help="After an update of the readers or of the embedding model. Documents "
                  "keep their names; one that cannot be read again keeps its current chunks.")
    for r in rows:
        name_col, button_col = st.columns([6, 1], vertical_alignment="center")
        name_col.text(f"{r['Name']}  ·  {r['Size']}  ·  {plural(r['Chunks'], 'chunk')}")
        # A popover asks once more: a deleted document cannot be brought back, only uploaded again.
        with button_col.popover("Delete", icon=":material/delete:", width="stretch"):
            st.text(f"Delete {r['Name']}? Its {plural(r['Chunks'], 'chunk')} leave the crew's memory; "
                    "answers already given keep their text.")
            st.button("Delete for good", key=f"del-{r['doc_id']}", type="primary",
                      on_click=delete, args=(crew, ws, r["doc_id"], r["Name"]))

    # What the crew will find: the researcher's own hybrid search over these documents, so a person
    # can check that a name or number in their files is reachable, and on which page, before asking.
    st.subheader("Search the documents")
    query = st.text_input("Search the documents", key="doc_search", label_visibility="collapsed",
                          placeholder="A name, a number or a question: see the passages the crew would find")
    if query.strip() and stale:
        st.info("Search waits for the re-index: the stored vectors were made by another model.")
    elif query.strip():
        with stop_on_fault(page.settings):
            hits = crew.search_documents(ws, query)
        for n, hit in enumerate(hits, start=1):
            with st.expander(md("{}. {}", n, hit.cite()), expanded=n == 1):
                st.text(hit.text)
