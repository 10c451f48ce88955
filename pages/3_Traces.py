"""Traces page: each turn as a tree of spans and a timeline, with tokens, estimated cost and errors.

Goals, span names and errors come from models, documents and provider servers: they are shown in
plain-text widgets (selectbox options, tables, JSON, the chart) or escaped by crew.safe_text.
"""

from __future__ import annotations

import json
import time

import altair as alt
import pandas as pd
import streamlit as st

from crew.presentation.safe_text import md, plain
from crew.presentation.trace_view import money, timeline_rows, trace_document
from crew.roles import colours
from pages.common.chrome import CHAT_PAGE, page_setup, stop_on_fault
from pages.common.crew_access import trace_store

AGENT_COLORS = colours()  # each actor's colour, from the roles table


page = page_setup("Traces", layout="wide")
with stop_on_fault(page.settings):
    traces = trace_store(page.settings)

st.title("Traces")
st.caption("Every turn of this workspace as a tree: turn → agent step → model call or tool call. "
           "Costs are estimates from the price table in settings; local and fake models cost 0.")

with stop_on_fault(page.settings):
    turns = traces.turns(page.workspace, limit=200)
if not turns:
    st.info("No turns in this workspace yet. Ask the crew something on the Chat page and its trace shows up here.",
            icon=":material/explore:")
    st.page_link(CHAT_PAGE, label="Go to the chat", icon=":material/chat:")
    st.stop()


def _turn_label(t: dict) -> str:
    when = time.strftime("%b %d %H:%M:%S", time.localtime(t["started"]))
    goal = " ".join(t["goal"].split())
    return f"{when} · {t['status']} · {goal[:80]}{'…' if len(goal) > 80 else ''}"


ids = [t["turn_id"] for t in turns]
by_id = {t["turn_id"]: t for t in turns}
wanted = st.query_params.get("turn")
if wanted in by_id and st.session_state.get("_trace_from_link") != wanted:
    st.session_state["trace_turn"] = wanted  # arrived from a chat's "Trace" link
    st.session_state["_trace_from_link"] = wanted
if st.session_state.get("trace_turn") not in by_id:
    st.session_state["trace_turn"] = ids[0]
turn_id = st.selectbox("Turn", ids, format_func=lambda i: _turn_label(by_id[i]), key="trace_turn")
turn = by_id[turn_id]
spans = traces.spans(page.workspace, turn_id)
doc = trace_document(turn, spans)  # totals, table rows and the JSON download, worked out once
totals = doc["totals"]

cols = st.columns(7)
# A metric's value is Markdown too (a "$" in a cost would start a formula).
cols[0].metric("Duration", md("{:.2f} s", totals["duration_s"]))
cols[1].metric("Tokens in", md("{:,}", totals["tokens_in"]))
cols[2].metric("Tokens out", md("{:,}", totals["tokens_out"]))
cols[3].metric("Est. cost", plain(money(totals["cost_usd"])))
cols[4].metric("Steps", md("{}", totals["steps"]))
cols[5].metric("Model calls", md("{}", totals["llm_calls"]))
cols[6].metric("Tool calls", md("{}", totals["tool_calls"]))
if turn.get("error"):
    st.error(md("This turn ended with an error: {}", turn["error"]), icon=":material/error:")
elif turn.get("limit_hit"):
    st.warning(md("This turn ended at its **{}** limit.", turn["limit_hit"]), icon=":material/timer:")

st.subheader("Timeline")
bars = pd.DataFrame(timeline_rows(turn, spans))
order = list(bars["row"])
chart = (
    alt.Chart(bars)
    .mark_bar(cornerRadius=3, height={"band": 0.75})
    .encode(
        x=alt.X("start_s:Q", title="seconds since the turn started"),
        x2="end_s:Q",
        y=alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=420, labelOverlap=False)),
        color=alt.Color("agent:N", title="Agent",
                        scale=alt.Scale(domain=list(AGENT_COLORS), range=list(AGENT_COLORS.values()))),
        opacity=alt.condition(alt.datum.kind == "turn", alt.value(0.35), alt.value(1.0)),
        tooltip=[alt.Tooltip("row:N", title="span"), "kind:N", "agent:N",
                 alt.Tooltip("start_s:Q", title="start (s)", format=".3f"),
                 alt.Tooltip("duration_ms:Q", title="duration (ms)", format=",.1f"),
                 alt.Tooltip("tokens_in:Q", title="tokens in"), alt.Tooltip("tokens_out:Q", title="tokens out"),
                 "status:N", "error:N"],
    )
    .properties(height=max(120, 26 * len(bars)))
)
st.altair_chart(chart, width="stretch")
st.caption("Researchers working on different sub-questions at the same time appear as overlapping bars.")

st.subheader("Spans")
rows = pd.DataFrame(doc["spans"])
st.dataframe(
    rows[["span", "kind", "agent", "start_s", "duration_ms", "tokens_in", "tokens_out", "cost_usd", "status", "error"]],
    hide_index=True, width="stretch",
    column_config={
        "span": st.column_config.TextColumn("Span", width="medium"),
        "start_s": st.column_config.NumberColumn("Start (s)", format="%.3f"),
        "duration_ms": st.column_config.NumberColumn("Duration (ms)", format="%.1f"),
        "tokens_in": st.column_config.NumberColumn("Tokens in"),
        "tokens_out": st.column_config.NumberColumn("Tokens out"),
        "cost_usd": st.column_config.NumberColumn("Cost ($)", format="%.6f"),
    },
)

left, right = st.columns([3, 1], vertical_alignment="bottom")
with left:
    chosen = st.selectbox("Span details", list(range(len(doc["spans"]))),
                          format_func=lambda i: doc["spans"][i]["span"].strip(), key="trace_span")
with right:
    st.download_button("Download JSON", json.dumps(doc, ensure_ascii=False, indent=2, default=str),
                       file_name=f"crew-trace-{turn_id}.json", mime="application/json", icon=":material/download:",
                       on_click="ignore", width="stretch")
span_row = doc["spans"][chosen]
st.json({**{k: span_row[k] for k in ("kind", "agent", "status", "error", "duration_ms", "tokens_in", "tokens_out")},
         "attrs": doc["attrs"].get(span_row["span_id"], {})}, expanded=2)

with st.expander("Totals per turn in this workspace"):
    # The turn rows keep running totals (TraceStore.record), so no turn's spans are read here.
    table = [{"started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t["started"])),
              "goal": t["goal"][:100], "status": t["status"],
              "duration_s": round((t["ended"] or t["started"]) - t["started"], 3),
              "tokens_in": t["tokens_in"], "tokens_out": t["tokens_out"], "cost_usd": round(t["cost"], 6)}
             for t in turns]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
