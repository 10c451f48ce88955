"""What every page starts with: page config, the page links, the workspace picker and the tiny-model banner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from crew.chats import ChatStore
from crew.llm import is_embedded
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
    st.set_page_config(page_title=f"{title} · Crew", page_icon=":material/explore:", layout=layout)
    for script, label, icon in NAVIGATION:
        st.sidebar.page_link(script, label=label, icon=icon)
    st.sidebar.divider()
    room = st.sidebar.container()
    settings = session_settings()
    chats = chat_store(settings)
    workspace = current_workspace(chats)
    model_banner(settings)
    return Page(settings, workspace, chats, room)


def model_banner(settings: Settings) -> None:
    """Say so while the tiny embedded model answers, and how to switch to a real one."""
    tiny = [role for role in ROLES if is_embedded(settings.model_for(role))]
    if not tiny:
        return
    who = "every role" if len(tiny) == len(ROLES) else "the " + ", ".join(tiny)
    st.warning(
        f"**The crew runs on the tiny embedded model (SmolLM2-135M) for {who}: answers will be shallow.** "
        "To get real answers, pick a provider and model on the Settings page, or start the app with a real "
        "model, e.g. `CREW_MODEL=openai:gpt-4o-mini` and `OPENAI_API_KEY` (also `anthropic:…` with "
        "`ANTHROPIC_API_KEY`, `ollama:…`, or any OpenAI-compatible server through `OPENAI_BASE_URL`).",
        icon=":material/child_care:",
    )
    st.page_link(SETTINGS_PAGE, label="Open Settings", icon=":material/settings:")
