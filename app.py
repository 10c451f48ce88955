"""Chat page: state a goal, watch the crew work step by step, stop it, read and export the cited answer."""

from __future__ import annotations

import streamlit as st

from crew import Crew, EmptyGoal, NotPaused, Turn
from crew import ModelSpecError
from crew.presentation.library_rows import progress_label, summary_line
from crew.presentation.safe_text import md, plain, rich
from crew.storage.chats import Chat, ChatStore
from pages.common.chrome import SETTINGS_PAGE, page_setup, stop_on_fault
from pages.common.crew_access import chat_store, get_crew, models_for
from pages.common.reader_notice import reader_notice
from pages.common.turn_view import follow_live, render_stored

INPUT_KEY = "goal_box"
FLASH_KEY = "chat_flash"

page = page_setup("Chat")
chat_list = page.sidebar  # above the workspace picker
ws, chats = page.workspace, page.chats


# Chat selection and management (sidebar) -------------------------------------------------------


def _select(chat_id: str | None) -> None:
    if chat_id:
        st.session_state["chat_id"] = chat_id
        st.query_params["chat"] = chat_id
    else:
        st.session_state.pop("chat_id", None)
        st.query_params.pop("chat", None)


def _current_chat(store: ChatStore) -> Chat | None:
    if "chat_id" not in st.session_state and st.query_params.get("chat"):
        st.session_state["chat_id"] = st.query_params["chat"]  # a reload keeps the open chat
    chat_id = st.session_state.get("chat_id")
    chat = store.get(ws, chat_id) if chat_id else None
    if chat_id and chat is None:
        _select(None)  # deleted, or another workspace's
    return chat


def _rename(chat_id: str) -> None:
    title = (st.session_state.get(f"title-{chat_id}") or "").strip()
    if title:
        chat_store().rename(ws, chat_id, title)


def _delete(chat_id: str) -> None:
    crew = get_crew()
    live = crew.live_turn(ws, chat_id)
    if live is not None:
        live.cancel()
    crew.delete_chat(ws, chat_id)
    _select(None)


def _toggle_review(chat_id: str) -> None:
    chat_store().set_review_plan(ws, chat_id, bool(st.session_state.get(f"review-plan-{chat_id}")))


def chat_sidebar(store: ChatStore, current: Chat | None) -> None:
    with chat_list:
        st.button("New chat", icon=":material/edit_square:", on_click=_select, args=(None,), width="stretch",
                  type="secondary" if current else "primary")
        items = store.list(ws)
        if items:
            st.caption("Chats")
        for c in items:
            # Another chat still working shows a spinner (the open chat shows its own progress).
            live = get_crew().live_turn(ws, c.chat_id)
            running = live is not None and not (current and c.chat_id == current.chat_id)
            st.button(plain(c.title), key=f"chat-{c.chat_id}", on_click=_select, args=(c.chat_id,), width="stretch",
                      type="primary" if current and c.chat_id == current.chat_id else "tertiary",
                      icon=":material/progress_activity:" if running else None)
        st.divider()
        if current is None:
            st.toggle("Review the plan before research", key="new_chat_review",
                      help="Pause after the coordinator's plan so you can edit or approve the sub-questions.")
            return
        st.toggle("Review the plan before research", value=current.review_plan, key=f"review-plan-{current.chat_id}",
                  on_change=_toggle_review, args=(current.chat_id,),
                  help="Pause after the coordinator's plan so you can edit or approve the sub-questions.")
        with st.popover("Rename or delete this chat", icon=":material/more_horiz:", width="stretch"):
            st.text_input("Title", value=current.title, key=f"title-{current.chat_id}", max_chars=80)
            st.button("Rename", on_click=_rename, args=(current.chat_id,), icon=":material/edit:")
            st.button("Delete chat", on_click=_delete, args=(current.chat_id,), icon=":material/delete:")


# Turns: start, resume (the engine keeps the chat history in step with every turn) -------------


def start_turn(crew: Crew, chat: Chat, goal: str) -> Turn:
    return crew.run_turn(ws, chat.chat_id, goal, review_plan=chat.review_plan, settings=page.settings,
                         models=models_for(page.settings))


def _pick_up(chat_id: str, turn_id: str, restart) -> None:
    """Start an existing turn again in this process and follow it live (a callback helper).

    `restart(crew, record)` returns the service's Turn, or raises what the person should be told.
    """
    crew = get_crew()
    record = crew.chats.turn(ws, turn_id)
    if record is None:
        return
    try:
        restart(crew, record)
    except (EmptyGoal, NotPaused, ModelSpecError, RuntimeError) as exc:
        st.session_state[FLASH_KEY] = str(exc)


def _approve(chat_id: str, turn_id: str, subquestions: list[str]) -> None:
    """Resume a turn paused for plan review (a form callback: runs before the page's script)."""
    _pick_up(chat_id, turn_id, lambda crew, r: crew.resume_turn(
        ws, chat_id, turn_id, r.goal, subquestions, settings=page.settings, models=models_for(page.settings),
        prior=r.event_objects()))


def _carry_on(chat_id: str, turn_id: str) -> None:
    """Continue a turn the app was killed during, from its last checkpoint (a button callback)."""
    _pick_up(chat_id, turn_id, lambda crew, r: crew.continue_turn(
        ws, chat_id, turn_id, r.goal, settings=page.settings, models=models_for(page.settings),
        prior=r.event_objects()))


def _run_again(chat_id: str, goal: str) -> None:
    st.session_state["pending"] = {"chat_id": chat_id, "text": goal, "files": []}


def interrupted_actions(chat_id: str, record) -> None:
    with st.container(horizontal=True, gap="small"):
        st.button("Resume from checkpoint", key=f"carry-{record.turn_id}", icon=":material/play_arrow:",
                  on_click=_carry_on, args=(chat_id, record.turn_id), type="primary")
        st.button("Run again", key=f"again-{record.turn_id}", icon=":material/replay:",
                  on_click=_run_again, args=(chat_id, record.goal))


def _submit() -> None:
    """Take the chat box's text and files (a callback: the chat exists before the page draws)."""
    value = st.session_state.get(INPUT_KEY)
    if not value:
        return
    text = (value.text or "").strip()
    files = [(f.name, f.getvalue()) for f in (value.files or [])]
    if not text and not files:
        return
    store = chat_store()
    chat_id = st.session_state.get("chat_id")
    if not chat_id or store.get(ws, chat_id) is None:
        title = text or ", ".join(name for name, _ in files)
        chat_id = store.create(ws, title, review_plan=bool(st.session_state.get("new_chat_review"))).chat_id
        _select(chat_id)
    st.session_state["pending"] = {"chat_id": chat_id, "text": text, "files": files}


def ingest_files(crew: Crew, store: ChatStore, chat: Chat, files: list[tuple[str, bytes]]) -> None:
    """Add the files dropped on the chat box, with a progress bar each; then show them as history does."""
    names = [name for name, _ in files]
    with st.chat_message("user"):
        st.markdown(md(":material/attach_file: {}", ", ".join(names)))
        working = st.empty()
        results = []
        with working.container(), st.status(md("Adding {} file{} to the workspace…", len(files), "s" * (len(files) != 1)),
                                            expanded=True):
            for name, data in files:
                bar = st.progress(0.0, text=plain(name))
                result = crew.ingest(ws, name, data, progress=lambda stage, frac, bar=bar, name=name:
                                     bar.progress(min(max(frac, 0.0), 1.0),
                                                  text=plain(progress_label(name, stage, frac))))
                results.append(result.to_dict())
        working.empty()
        upload_results(results)
    store.add_upload(ws, chat.chat_id, names, results)


# The page -------------------------------------------------------------------------------------


def upload_results(results: list[dict]) -> None:
    for r in results:
        if r.get("duplicate"):  # nothing was stored: say so, as the Documents page does
            st.caption(md(":material/check: {}", summary_line(r)))
        elif r.get("status") == "ok":
            st.caption(md(":material/check: {}: {} chunks added to the workspace's documents", r["file"], r.get("chunks", 0)))
        else:
            st.caption(md(":material/close: {}: {}", r.get("file", ""), r.get("error", "failed")))


def render_upload(record) -> None:
    with st.chat_message("user"):
        st.markdown(md(":material/attach_file: {}", record.goal))
        upload_results(record.extra.get("files", []))


def main() -> None:
    crew = get_crew(page.settings)
    try:
        models_for(page.settings)  # built once per process; a spec that cannot be built is said here
        can_ask = True
    except ModelSpecError as exc:
        can_ask = False
        st.error(md("The crew cannot start with these models: {}", exc), icon=":material/error:")
        st.page_link(SETTINGS_PAGE, label="Fix it in Settings", icon=":material/settings:")

    chat = _current_chat(chats)
    chat_sidebar(chats, chat)
    if flash := st.session_state.pop(FLASH_KEY, None):
        st.error(plain(flash))

    live = crew.live_turn(ws, chat.chat_id) if chat else None

    if chat is None:
        st.title("Crew")
        st.markdown(
            "Ask a question and a small crew works on it in the open: a **coordinator** plans, **researchers** "
            "gather evidence from this workspace's documents and the web, a **writer** drafts a cited answer and a "
            "**critic** checks it. Drop files on the chat box to add them to the workspace's documents."
        )
        reader_notice(crew, ws)
    else:
        st.subheader(plain(chat.title))
        for record in chats.turns(ws, chat.chat_id):
            if live is not None and record.turn_id == live.turn_id:
                continue
            if record.kind == "upload":
                render_upload(record)
                continue
            with st.chat_message("user"):
                st.markdown(rich(record.goal))
            with st.chat_message("assistant"):
                # Still "running" but not this process's live turn: another instance runs it and beats.
                render_stored(record.event_objects(), elsewhere=record.status == "running",
                              on_approve=lambda turn_id, qs, chat_id=chat.chat_id: _approve(chat_id, turn_id, qs))
                if record.status == "interrupted" and live is None:
                    interrupted_actions(chat.chat_id, record)

    pending = st.session_state.pop("pending", None)
    if pending and chat is not None and pending["chat_id"] == chat.chat_id:
        if pending["files"]:
            ingest_files(crew, chats, chat, pending["files"])
        if pending["text"] and not can_ask:
            st.error("The crew cannot answer until its models can be built: fix them in Settings.")
        elif pending["text"] and live is not None:
            st.warning("The crew is still working on this chat's last goal: wait for it, or press Stop, then ask again.")
        elif pending["text"]:
            try:
                live = start_turn(crew, chats.get(ws, chat.chat_id) or chat, pending["text"])
            except (EmptyGoal, RuntimeError) as exc:
                st.error(plain(exc))

    if live is not None:
        with st.chat_message("user"):
            st.markdown(rich(live.goal))
        with st.chat_message("assistant"):
            follow_live(live, on_approve=lambda turn_id, qs, chat_id=chat.chat_id: _approve(chat_id, turn_id, qs))

    st.chat_input("What should the crew find out? (drop files here to add them)", key=INPUT_KEY,
                  accept_file="multiple", on_submit=_submit, submit_mode="disable", disabled=not can_ask)


with stop_on_fault(page.settings):
    main()
