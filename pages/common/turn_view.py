"""Draw a turn: one expandable step per agent action, the answer, its sources and its footer.

The same `TurnRenderer` draws a stored turn (all events at once) and a live one (event by
event, the draft streamed token by token), so a reopened chat looks as it did while it ran.
Model and document text reaches Streamlit as `st.text`, or as an `Md` from crew.presentation.safe_text (`rich`
for answers and drafts, `plain`/`md` for labels and errors): never as HTML, never as a live link.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator

import streamlit as st

from crew import Event
from crew import Turn
from crew import source_label
from crew.presentation.safe_text import SafeStream, md, plain, rich, safe_url
from crew.presentation.turn_view import StepView, TurnView, answer_markdown
from pages.common.chrome import TRACES_PAGE

Approve = Callable[[str, list[str]], None]  # (turn_id, sub-questions)


def _tool_mark(status: str):
    """A tool call's outcome as an icon: done, abandoned at Stop or the turn's clock, or failed."""
    if status == "ok":
        return md(":material/check:")
    if status == "stopped":
        return md(":material/stop_circle:")
    if status == "limit":
        return md(":material/timer:")
    return md(":material/close:")


def render_step(step: StepView) -> None:
    with st.status(md("{}", step.title), state=step.state, expanded=False):
        if step.plan:
            st.markdown(md("\n").join(md("{}. {}", i, q) for i, q in enumerate(step.plan, 1)))
            if step.plan_fallback:
                st.caption("The plan came back malformed twice, so the goal is researched as one question.")
        for tool in step.tools:
            args = ", ".join(f"{k}={v!r}" for k, v in tool.args.items())
            st.code(f"{tool.name}({args})", language=None, wrap_lines=True)
            if tool.status == "running":
                st.caption("running…")
            else:
                mark = _tool_mark(tool.status)
                st.caption(md("{} {} result{} · {:.0f} ms", mark, tool.hits, "s" * (tool.hits != 1), tool.ms))
                if tool.result:
                    st.text(tool.result[:1500] + ("…" if len(tool.result) > 1500 else ""))
        if step.passages is not None:
            sources = list(dict.fromkeys(step.sources))
            tail = ": " + ", ".join(sources[:8]) if sources else ""
            st.caption(md("Found {} passage{}{}", step.passages, "s" * (step.passages != 1), tail))
        if step.draft is not None:
            st.markdown(rich(step.draft))
            if step.unsupported:
                st.caption(md(":material/report: No source supports: {}", " · ".join(step.unsupported)))
        if step.verdict:
            if step.verdict == "approve":
                st.markdown("**:material/check_circle: Approved**")
            elif step.verdict == "quote":
                st.markdown("**:material/format_quote: Not supported by the sources: the answer quotes them instead**")
            else:
                st.markdown("**:material/undo: Sent back for revision**")
            if step.notes:
                st.markdown(md("\n").join(md("- {}", n) for n in step.notes))
        if step.error and step.status != "ok":
            st.caption(md(":material/warning: {}", step.error))
        if step.status != "running":
            st.caption(md("{:.2f} s · {:,} tokens in · {:,} out", step.ms / 1000, step.tokens_in, step.tokens_out))


def render_answer(view: TurnView, *, on_approve: Approve | None = None, elsewhere: bool = False) -> None:
    """The end of a turn: how it ended, the answer, numbered sources, export and trace link.

    `elsewhere`: the turn is still running, in another instance of the app (its owner keeps beating)."""
    if view.status == "awaiting_review":
        render_review(view, on_approve)
        return
    if view.status == "stopped":
        st.warning("**Stopped.** Here is what the crew had done so far.", icon=":material/stop_circle:")
    elif view.status == "limit":
        st.warning(md("The turn reached its **{}** limit; this is the best draft so far.", view.limit_hit or "a"),
                   icon=":material/timer:")
    elif view.status == "error":
        st.error(plain(view.error or "The turn failed."), icon=":material/error:")
    elif view.status == "running" and elsewhere:
        st.info("This turn is still running in another instance of the app: reload to see how far it got.",
                icon=":material/progress_activity:")
    elif view.status == "running":
        st.info("This turn was interrupted (the app stopped while it ran).", icon=":material/pause_circle:")
    for kind, text in view.alerts:
        if kind == "limit" and view.status not in ("stopped", "limit") and "max_revisions" not in text:
            st.caption(md(":material/timer: {}", text))
    if view.answer:
        st.markdown(rich(view.answer))
    if view.unsupported:
        st.warning(md("No source supports these sentences: {}", " · ".join(view.unsupported)),
                   icon=":material/report:")
    elif view.grounding:
        st.caption(md(":material/verified: {}", view.grounding))
    for note in view.notes:
        st.caption(md(":material/info: {}", note))
    if view.citations:
        render_citations(view)
    render_footer(view)


def render_citations(view: TurnView) -> None:
    st.markdown("**Sources**")
    with st.container(horizontal=True, gap="small"):
        for c in view.citations:
            with st.popover(md("\\[{}\\] {}", c["n"], source_label(c)), key=f"cite-{view.turn_id}-{c['n']}"):
                st.caption(plain(source_label(c)))
                st.text(str(c.get("text", "")).strip() or "(no text stored for this passage)")
                url = safe_url(c.get("url", ""))
                if url:
                    st.link_button("Open the page", url, icon=":material/open_in_new:")


def render_footer(view: TurnView) -> None:
    tokens = view.tokens_in + view.tokens_out
    mark = {"done": md(":material/check: Done"), "stopped": md(":material/stop_circle: Stopped"),
            "limit": md(":material/timer: Limit reached"), "error": md(":material/error: Failed")}.get(view.status, view.status)
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.caption(md("{} · {:.1f} s · {:,} tokens · {} steps", mark, view.seconds, tokens, len(view.steps)))
        if view.answer:
            st.download_button(
                "Markdown", answer_markdown(view.goal, view.answer, view.citations, view.status, view.limit_hit),
                file_name=f"crew-answer-{view.turn_id}.md", mime="text/markdown", icon=":material/download:",
                key=f"export-{view.turn_id}", on_click="ignore", type="tertiary",
                help="Download the answer with its references as Markdown",
            )
        st.page_link(TRACES_PAGE, label="Trace", icon=":material/timeline:", query_params={"turn": view.turn_id})


def render_review(view: TurnView, on_approve: Approve | None) -> None:
    st.info("**Review the plan.** Edit the sub-questions (one per line), add or remove some, then approve: "
            "the crew resumes from where it paused.", icon=":material/checklist:")
    key = f"plan-{view.turn_id}"
    with st.form(f"review-{view.turn_id}", border=False):
        st.text_area("Sub-questions, one per line", value="\n".join(view.review or []), key=key,
                     height=40 + 28 * max(2, len(view.review or [])))
        st.form_submit_button("Approve and research", type="primary", icon=":material/play_arrow:",
                              disabled=on_approve is None,
                              on_click=(lambda: on_approve(view.turn_id, _lines(st.session_state.get(key, ""))))
                              if on_approve else None)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class TurnRenderer:
    """Draws one turn into the current container as its events arrive."""

    def __init__(self) -> None:
        self.view = TurnView()
        self._steps = st.container()
        self._answer = st.empty()
        self._slots: dict[str, object] = {}
        self.applied = 0  # events drawn (tokens aside)
        self.final_at = 0  # how many had been drawn when the latest final event came

    def apply(self, event: Event) -> None:
        self.applied += 1
        if event.kind == "final":
            self.final_at = self.applied
        for step in self.view.apply(event).steps:
            slot = self._slots.get(step.span_id)
            if slot is None:
                slot = self._slots[step.span_id] = self._steps.empty()
            with slot.container():  # type: ignore[attr-defined]
                render_step(step)

    def stream(self, first: Event, feed: Iterator[Event | None], tick: Callable[[], None]) -> None:
        """Stream a writer's tokens into the answer area until that draft is done."""
        safe = SafeStream()
        writer_step = first.parent_id
        self.view.apply(first)

        def pieces() -> Iterator[str]:
            yield safe.feed(first.text)
            for event in feed:
                if event is None:
                    tick()
                    continue
                if event.kind == "token" and event.parent_id == writer_step:
                    self.view.apply(event)
                    yield safe.feed(event.text)
                    continue
                self.apply(event)
                if event.kind == "final" or (event.span_id == writer_step and event.kind in ("draft", "step_finished")):
                    break
            yield safe.flush()

        number = sum(1 for s in self.view.steps if s.agent == "writer")
        with self._answer.container():
            st.caption(md(":material/edit_note: Writing draft {}…", number))
            st.write_stream(pieces(), cursor="▌")

    def finish(self, on_approve: Approve | None = None) -> None:
        with self._answer.container():
            render_answer(self.view, on_approve=on_approve)


def render_stored(events: list[Event], on_approve: Approve | None = None, elsewhere: bool = False) -> TurnView:
    """Draw a finished (or paused) turn from its stored events; `elsewhere`: another instance runs it still."""
    view = TurnView.fold(events)  # fold first: each step is drawn once, in its final state
    for step in view.steps:
        render_step(step)
    with st.container():
        render_answer(view, on_approve=on_approve, elsewhere=elsewhere)
    return view


def follow_live(live: Turn, on_approve: Approve | None = None) -> TurnView:
    """Draw a running turn as it happens, with a Stop button, until it ends.

    The page's script stays in this loop while the turn runs; a click on Stop reruns the script
    (Streamlit interrupts this loop at its next element update, at most TICK_S later), the Stop
    callback cancels the turn first thing, and the new run picks the same live turn up again.
    """
    bar = st.empty()
    with bar.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.button("Stop", key=f"stop-{live.turn_id}", icon=":material/stop_circle:", on_click=live.cancel,
                  disabled=live.stop_requested, help="Stop the crew; what it has done so far stays")
        clock = st.empty()

    def tick() -> None:
        # Also the loop's yield point: every element update lets Streamlit deliver a click.
        seconds = time.time() - live.started
        clock.caption(md("{} {:.1f} s", "Stopping…" if live.stop_requested else "The crew is working…", seconds))

    renderer = TurnRenderer()
    feed = live.follow(tick=TICK_S)
    tick()
    for event in feed:
        if event is None:
            tick()
        elif event.kind == "token":
            renderer.stream(event, feed, tick)
        else:
            renderer.apply(event)
        if renderer.final_at > live.prior:
            break  # this run's final event (not a resumed turn's earlier one): show it now, while it is saved
    bar.empty()
    renderer.finish(on_approve)
    return renderer.view


TICK_S = 0.1
