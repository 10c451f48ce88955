"""Chat page: state a goal, watch the crew work, read the cited answer."""

from __future__ import annotations

import streamlit as st

from crew.llm import is_embedded
from crew.service import Crew
from crew.settings import Settings

st.set_page_config(page_title="Crew", page_icon="🧭", layout="wide")


@st.cache_resource(show_spinner="Starting the crew…")
def get_crew() -> Crew:
    return Crew.from_settings(Settings())


crew = get_crew()
if is_embedded(crew.settings.model):
    st.info("Running on the tiny embedded model (SmolLM2-135M): answers will be shallow. Set CREW_MODEL to a real model for better ones.")

st.title("Crew")
if "messages" not in st.session_state:
    st.session_state.messages = []

for msg in st.session_state.messages:
    with st.chat_message(msg["role"]):
        st.markdown(msg["content"])

if goal := st.chat_input("What should the crew find out?"):
    st.session_state.messages.append({"role": "user", "content": goal})
    with st.chat_message("user"):
        st.markdown(goal)
    with st.chat_message("assistant"):
        status = st.status("The crew is working…", expanded=True)
        turn = crew.run_turn("default", "chat", goal)
        for event in turn:
            if event.kind == "step_started":
                status.write(f"**{event.agent}**: {event.text}")
        status.update(label="Done", state="complete", expanded=False)
        result = turn.result
        answer = result.answer
        if result.citations:
            answer += "\n\n" + "\n".join(
                f"[{c['n']}] {c['url'] or c['source']}" + (f", p. {c['page']}" if c["page"] else "") for c in result.citations
            )
        st.markdown(answer)
    st.session_state.messages.append({"role": "assistant", "content": answer})
