"""Where the chat and the Evaluate page say that some documents were read by an older reader.

Answers quote, and evaluations measure, the text an older reader made of those documents until they are
read again; the Documents page does that (a button that reads only them).
"""

from __future__ import annotations

import streamlit as st

from crew import Crew
from crew.presentation.library_rows import outdated_line
from crew.presentation.safe_text import plain
from pages.common.chrome import DOCUMENTS_PAGE


def reader_notice(crew: Crew, workspace: str) -> None:
    """An info line naming the workspace's outdated documents and a link to the Documents page, if any."""
    try:
        outdated = crew.outdated(workspace)
    except Exception:  # the library cannot be read now: what uses it says why
        return
    if outdated:
        st.info(plain(outdated_line(outdated)), icon=":material/update:")
        st.page_link(DOCUMENTS_PAGE, label="Re-index on the Documents page", icon=":material/refresh:")
