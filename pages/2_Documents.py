"""Documents page: add files to the workspace with a progress bar each, list them, search them, delete them.

UI only: reading, chunking, embedding and the library live in crew.ingest and crew.library,
reached through the Crew. Names and errors are shown with st.text/st.dataframe, never as HTML.
"""

from __future__ import annotations

import streamlit as st

from crew.fake_model import FakeCrewModel
from crew.ingest import upload_limit_mb
from crew.library_view import UPLOAD_TYPES, library_rows, plural, progress_label, summary_line
from crew.llm import ModelSpecError
from crew.service import Crew
from crew.settings import ROLES, Settings
from crew.view import escape_md
from pages.common.chrome import page_setup
from pages.common.crew_access import get_crew

RESULTS_KEY = "documents_last_upload"
FLASH_KEY = "documents_flash"


@st.cache_resource(show_spinner=False, max_entries=4)
def _documents_only_crew(stores_key: str, _settings: Settings) -> Crew:
    # The library needs no chat model: when the configured one cannot be built, documents still work.
    model = FakeCrewModel()
    return Crew.from_settings(_settings, models={role: model for role in ROLES})


def crew_for(settings: Settings) -> Crew:
    try:
        return get_crew(settings)
    except ModelSpecError:
        return _documents_only_crew(f"{settings.data_dir}|{settings.chroma_host}|{settings.chroma_port}", settings)


def delete(crew: Crew, workspace: str, doc_id: str, name: str) -> None:
    """Button callback: runs before the page redraws, so the list below is already without it."""
    if crew.delete_document(workspace, doc_id):
        st.session_state[FLASH_KEY] = f"Deleted {name}: its chunks are gone from the workspace's memory."
    else:
        st.session_state[FLASH_KEY] = f"{name} was already gone."


def ingest_uploads(crew: Crew, workspace: str, files) -> list[dict]:
    """Add each file with its own progress bar and a summary line when it is done."""
    results = []
    for f in files:
        name = f.name
        with st.container(border=True):
            bar = st.progress(0.0, text=progress_label(name, "parsing", 0.0))

            def moved(stage: str, fraction: float, bar=bar, name=name) -> None:
                bar.progress(min(max(fraction, 0.0), 1.0), text=progress_label(name, stage, fraction))

            result = crew.ingest(workspace, name, f.getvalue(), progress=moved)
            if result.status == "ok":
                bar.progress(1.0, text=progress_label(name, "done", 1.0))
                (st.info if result.duplicate else st.success)(summary_line(result), icon=":material/check:")
            else:
                st.error(summary_line(result), icon=":material/error:")
        results.append(result.to_dict())
    return results


page = page_setup("Documents", layout="wide")
ws = page.workspace
crew = crew_for(page.settings)
limit = upload_limit_mb()

st.title("Documents")
st.caption(
    f"Files in workspace **{ws}** that the crew searches and cites down to the page. PDF, Word (.docx), "
    f"Markdown, plain text, HTML and CSV, several at once, up to {limit} MB each."
)

with st.form("upload", clear_on_submit=True, border=True):
    files = st.file_uploader("Add files", type=UPLOAD_TYPES, accept_multiple_files=True,
                             help="Scanned PDFs without a text layer and password-protected files cannot be read.")
    submitted = st.form_submit_button("Add to the workspace", type="primary", icon=":material/upload:")

if submitted and files:
    st.session_state[RESULTS_KEY] = ingest_uploads(crew, ws, files)
elif submitted:
    st.warning("Choose one or more files first.")
elif st.session_state.get(RESULTS_KEY):
    with st.expander("Last upload", expanded=False):
        for r in st.session_state[RESULTS_KEY]:
            st.text(summary_line(r))

if flash := st.session_state.pop(FLASH_KEY, None):
    st.toast(flash, icon=":material/delete:")

documents = crew.documents(ws)
st.subheader(f"Library ({len(documents)})")
if not documents:
    st.info("No documents in this workspace yet. Add some above; the crew will search them and cite the page.",
            icon=":material/folder_open:")
else:
    rows = library_rows(documents)
    st.dataframe([{k: v for k, v in r.items() if k != "doc_id"} for r in rows], hide_index=True, width="stretch")
    st.caption("Delete a document to remove it and its chunks from the workspace's memory.")
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
    if query.strip():
        for n, hit in enumerate(crew.search_documents(ws, query), start=1):
            with st.expander(f"{n}. {escape_md(hit.cite())}", expanded=n == 1):
                st.text(hit.text)
