"""What every page starts with: page config, the page links, the workspace picker and the tiny-model banner;
and what a page shows instead of a traceback when the machine is at fault."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Literal

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from crew.storage.chats import ChatStore
from crew.faults import explain_for
from crew import is_embedded
from crew.presentation.safe_text import md, plain
from crew.settings import ROLES, Settings
from pages.common.crew_access import chat_store, session_settings
from pages.common.workspace import current_workspace

SETTINGS_PAGE = "pages/4_Settings.py"
TRACES_PAGE = "pages/3_Traces.py"
DOCUMENTS_PAGE = "pages/2_Documents.py"
EVALUATE_PAGE = "pages/5_Evaluate.py"
CHAT_PAGE = "app.py"


# (script, label, icon) in the order the sidebar lists them.
NAVIGATION = (
    (CHAT_PAGE, "Chat", ":material/forum:"),
    (DOCUMENTS_PAGE, "Documents", ":material/folder_open:"),
    (TRACES_PAGE, "Traces", ":material/timeline:"),
    (EVALUATE_PAGE, "Evaluate", ":material/fact_check:"),
    (SETTINGS_PAGE, "Settings", ":material/settings:"),
)


@dataclass(frozen=True)
class Page:
    settings: Settings
    workspace: str
    chats: ChatStore
    sidebar: DeltaGenerator  # the sidebar's room between the page links and the workspace picker


def page_setup(title: str, layout: Literal["centered", "wide"] = "centered") -> Page:
    """Configure the page; show the page links, the workspace picker and, if needed, the model banner."""
    # An emoji, which Streamlit draws into a data: URL: a ":material/...:" favicon is fetched
    # from Google's font CDN by every browser that opens the app.
    st.set_page_config(page_title=f"{title} · Crew", page_icon="🧭", layout=layout)
    for script, label, icon in NAVIGATION:
        st.sidebar.page_link(script, label=plain(label), icon=icon)
    st.sidebar.divider()
    room = st.sidebar.container()
    settings = session_settings()
    with stop_on_fault(settings):
        chats = chat_store(settings)
        workspace = current_workspace(chats)
    model_banner(settings)
    return Page(settings, workspace, chats, room)


@contextmanager
def stop_on_fault(settings: Settings) -> Iterator[None]:
    """Show an operator fault (a full or read-only data dir, a Chroma server that does not answer) as one
    message naming the part and what to do, and stop the page; any other error goes on up.

    Nothing that failed is cached (st.cache_resource keeps only what was built), so the next run tries
    again: the page works as soon as the fault is cleared, without restarting the app.
    """
    try:
        yield
    except Exception as exc:
        fault = explain_for(exc, settings)
        if fault is None:
            raise
        st.error(plain(fault.message[:1].upper() + fault.message[1:]), icon=":material/error:")
        st.button("Try again", key="fault-try-again", icon=":material/refresh:")
        st.stop()


def model_banner(settings: Settings) -> None:
    """Say so while the tiny embedded model answers, and how to switch to a real one."""
    tiny = [role for role in ROLES if is_embedded(settings.model_for(role))]
    if not tiny:
        return
    who = "every role" if len(tiny) == len(ROLES) else "the " + ", ".join(tiny)
    st.warning(md(
        "**The crew runs on the tiny embedded model (SmolLM2-135M) for {}: answers will be shallow.** "
        "To get real answers, pick a provider and model on the Settings page, or start the app with a real "
        "model, e.g. `CREW_MODEL=openai:gpt-4o-mini` and `OPENAI_API_KEY` (also `anthropic:…` with "
        "`ANTHROPIC_API_KEY`, `ollama:…`, or any OpenAI-compatible server through `OPENAI_BASE_URL`).", who),
        icon=":material/child_care:",
    )
    st.page_link(SETTINGS_PAGE, label="Open Settings", icon=":material/settings:")
