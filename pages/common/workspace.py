"""Decide which workspace this session works in: the one place that knows about workspaces.

Single-user mode for now: no sign-in, and the sidebar lets anyone pick or create any workspace.
Workspaces keep chats, documents and traces apart but are not private. Sign-in (issue 5) replaces
the body of `current_workspace` with the signed-in person's workspaces (st.login / st.user).
"""

from __future__ import annotations

import streamlit as st

from crew.chats import ChatStore
from crew.memory import WorkspaceError, check_workspace

DEFAULT = "default"
KEY = "workspace"


def _choose(name: str) -> None:
    st.session_state[KEY] = name
    st.session_state.pop("chat_id", None)
    st.query_params["ws"] = name
    st.query_params.pop("chat", None)


def _picked() -> None:
    _choose(st.session_state["_ws_picker"])


def _created() -> None:
    name = (st.session_state.get("_ws_new") or "").strip()
    try:
        _choose(check_workspace(name))
        st.session_state.pop("_ws_error", None)
    except WorkspaceError as exc:
        st.session_state["_ws_error"] = str(exc)
    st.session_state["_ws_new"] = ""


def current_workspace(store: ChatStore) -> str:
    """Show the workspace picker in the sidebar and return the session's workspace."""
    if KEY not in st.session_state:
        try:
            st.session_state[KEY] = check_workspace(st.query_params.get("ws", DEFAULT))
        except WorkspaceError:
            st.session_state[KEY] = DEFAULT
    current = st.session_state[KEY]
    known = sorted(set(store.workspaces()) | {DEFAULT, current} | set(st.session_state.get("_ws_seen", [])))
    st.session_state["_ws_seen"] = known
    if st.session_state.get("_ws_picker") != current:
        st.session_state["_ws_picker"] = current
    with st.sidebar:
        st.selectbox("Workspace", known, key="_ws_picker", on_change=_picked,
                     help="Chats, documents and traces belong to one workspace.")
        with st.popover("New workspace", icon=":material/add:", width="stretch"):
            st.text_input("Name", key="_ws_new", placeholder="e.g. thesis", on_change=_created,
                          help="Letters, digits, '.', '_', '-' or '@'; press Enter to create it.")
        if st.session_state.get("_ws_error"):
            st.error(st.session_state.pop("_ws_error"))
        st.caption("Single-user mode: no sign-in. Workspaces keep things apart but are not private.")
    return current
