"""Decide which workspace this session works in: the one place that knows about workspaces.

With Streamlit's authentication configured (an `[auth]` section in `.streamlit/secrets.toml`),
a person must sign in (st.login) and works in their own workspace, derived from their identity;
there is no picker. Without it: single-user mode, where the sidebar lets anyone pick or create
any workspace, and the page says so.
"""

from __future__ import annotations

import streamlit as st

from crew.storage.chats import ChatStore
from crew.identity import workspace_for_user
from crew import WorkspaceError, check_workspace
from crew.presentation.safe_text import md, plain

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


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _signed_in_workspace() -> str:
    """Return the signed-in person's workspace, or show the sign-in screen and stop the page."""
    if not st.user.get("is_logged_in", False):
        st.title("Crew")
        st.write("Sign in to reach your chats, documents and traces.")
        st.button("Sign in", type="primary", on_click=st.login, icon=":material/login:")
        st.stop()
    workspace = workspace_for_user(st.user.to_dict())
    st.session_state[KEY] = workspace
    with st.sidebar:
        st.caption(md("Signed in as {}", st.user.get("email") or st.user.get("name") or workspace))
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
    return workspace


def current_workspace(store: ChatStore) -> str:
    """Return the session's workspace: the signed-in person's, else the sidebar picker's."""
    if auth_configured():
        return _signed_in_workspace()
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
            st.error(plain(st.session_state.pop("_ws_error")))
        st.caption("Single-user mode: no sign-in. Workspaces keep things apart but are not private.")
    return current
