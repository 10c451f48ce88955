"""The chat page (AppTest): live steps in order, the cited answer, revisions, stop, history, plan review."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.storage.chats import ChatStore
from crew.storage.files import DataFiles
from crew.settings import Settings
from pages.common.crew_access import MODELS_HOOK, get_crew
from tests.servers import APP
from tests.ui.conftest import TEA

AGENT = re.compile(r"(Coordinator|Researcher|Writer|Critic|You) · ")


def agents(app) -> list[str]:
    return [m.group(1) for label, _ in app.statuses() if (m := AGENT.search(label))]


def assistant(at: AppTest, index: int = -1):
    return [m for m in at.chat_message if m.name == "assistant"][index]


def popovers(block) -> list:
    return [b for b in block.get("popover")]


def store() -> ChatStore:
    return ChatStore(DataFiles(Settings().data_dir).chats)


def test_a_goal_shows_each_step_in_order_then_the_answer_with_its_sources(scripted):
    app = scripted(coordinator=[Plan(subquestions=["What is green tea made from?"])],
                   writer=["Green tea is made from the leaves of Camellia sinensis [1]."],
                   critic=[Review(decision="approve")])
    at = app.ask("What is green tea?", upload=("tea.md", TEA))
    assert not at.exception, at.exception

    assert agents(app) == ["Coordinator", "Researcher", "Writer", "Critic"]
    labels = [label for label, _ in app.statuses()]
    assert "Planned 1 sub-question" in labels[0]
    assert "Q1: What is green tea made from?" in labels[1] and "1 passage" in labels[1]
    assert "Draft 1" in labels[2] and "Verdict: approve" in labels[3]
    assert all(state == "complete" for _, state in app.statuses())
    upload = at.chat_message[0]
    assert upload.name == "user" and upload.markdown[0].value.endswith("tea.md")
    assert upload.caption[0].value.startswith(":material/check: tea.md: ")

    answer = assistant(at)
    shown = [m.value for m in answer.markdown]
    assert "Green tea is made from the leaves of Camellia sinensis [1]." in shown
    assert "**Sources**" in shown
    cites = popovers(answer)
    assert len(cites) == 1 and cites[0].proto.popover.label.startswith("\\[1\\] tea.md")
    assert "Camellia sinensis" in cites[0].text[0].value  # the cited snippet opens from the source
    assert [b.label for b in answer.download_button] == ["Markdown"]
    # The scripted crew was asked in the order of the steps.
    assert [c["schema"] for c in app.models["coordinator"].calls] == ["Plan"]
    assert len(app.models["writer"].calls) == 1 and "tea.md" in app.models["writer"].calls[0]["messages"][-1].content


def test_a_revise_verdict_shows_two_drafts_and_the_critics_notes(scripted):
    app = scripted(coordinator=[Plan(subquestions=["caffeine in green tea"])],
                   writer=["Green tea has caffeine [1].", "A cup of green tea has about 30 mg of caffeine [1]."],
                   critic=[Review(decision="revise", notes=["Give the amount."]), Review(decision="approve")])
    app.ask("How much caffeine is in green tea?", upload=("tea.md", TEA))
    assert agents(app) == ["Coordinator", "Researcher", "Writer", "Critic", "Writer", "Critic"]
    writers = [s for s in app.at.status if "Writer" in s.label]
    assert "Draft 1" in writers[0].label and "Draft 2 (revision)" in writers[1].label
    assert "Green tea has caffeine [1]." in [m.value for m in writers[0].markdown]
    assert "A cup of green tea has about 30 mg of caffeine [1]." in [m.value for m in writers[1].markdown]
    critics = [s for s in app.at.status if "Critic" in s.label]
    assert "Verdict: revise — 1 note" in critics[0].label
    assert "- Give the amount." in [m.value for m in critics[0].markdown]
    final = [m.value for m in assistant(app.at).markdown if not m.value.startswith("**")]
    assert final[-1] == "A cup of green tea has about 30 mg of caffeine [1]."


def test_a_reopened_chat_shows_its_steps_and_answer_as_they_were(scripted):
    app = scripted(coordinator=[Plan(subquestions=["What is green tea made from?"])],
                   writer=["Green tea is made from Camellia sinensis [1]."], critic=[Review(decision="approve")])
    app.ask("What is green tea?", upload=("tea.md", TEA))
    live = assistant(app.at)
    chat_id = app.at.session_state["chat_id"]

    later = AppTest.from_file(str(APP), default_timeout=60)  # a new browser session
    later.query_params["chat"] = chat_id
    later.run()
    assert not later.exception, later.exception
    again = assistant(later)
    assert [(s.label, s.state) for s in again.status] == [(s.label, s.state) for s in live.status]
    assert [m.value for m in again.markdown] == [m.value for m in live.markdown]
    assert [c.value for c in again.caption] == [c.value for c in live.caption]
    assert [b.label for b in later.sidebar.button if "green tea" in b.label] == ["What is green tea?"]


def test_a_stopped_turn_shows_what_was_done_and_the_chat_goes_on(scripted):
    def plan_then_press_stop(messages):
        for live in get_crew(Settings()).running_turns():
            live.cancel()  # what the Stop button's callback does
        return Plan(subquestions=["q"])

    app = scripted(coordinator=[plan_then_press_stop, Plan(subquestions=["q2"])],
                   writer=["Second answer."], critic=[Review(decision="approve")])
    at = app.ask("First goal")
    assert not at.exception, at.exception
    first = assistant(at)
    assert [w.value for w in first.warning] == ["**Stopped.** Here is what the crew had done so far."]
    assert "Stopped before a draft was written." in [m.value for m in first.markdown]
    assert agents(app) == ["Coordinator"]
    assert store().turns("default", at.session_state["chat_id"])[0].status == "stopped"

    assert not at.chat_input[0].disabled
    app.ask("Second goal")
    assert "Second answer." in [m.value for m in assistant(app.at).markdown]
    assert len(assistant(app.at, 0).warning) == 1
    # With the support check off, the page still marks what no source supports (there was no source).
    assert [w.value for w in assistant(app.at).warning] == ["No source supports these sentences: Second answer."]


def test_plan_review_pauses_then_resumes_with_the_edited_plan(scripted):
    app = scripted(coordinator=[Plan(subquestions=["What is green tea?"])],
                   writer=["Green tea comes from Camellia sinensis [1]."], critic=[Review(decision="approve")])
    app.at.sidebar.toggle(key="new_chat_review").set_value(True).run()
    at = app.ask("Tell me about green tea", upload=("tea.md", TEA))
    assert not at.exception, at.exception
    assert agents(app) == ["Coordinator"]
    assert len(app.models["writer"].calls) == 0  # paused: nothing researched yet
    plan = at.text_area(key=next(k for k in at.session_state if str(k).startswith("plan-")))
    assert plan.value == "What is green tea?"

    plan.set_value("Where does green tea come from?\nHow is it processed?")
    next(b for b in at.button if b.label == "Approve and research").click()
    at.run()
    app.settle()
    assert not at.exception, at.exception
    assert agents(app) == ["Coordinator", "You", "Researcher", "Researcher", "Writer", "Critic"]
    researched = sorted(s.label for s in at.status if "Researcher" in s.label)
    assert "Q1: Where does green tea come from?" in researched[0] and "Q2: How is it processed?" in researched[1]
    assert "Green tea comes from Camellia sinensis [1]." in [m.value for m in assistant(at).markdown]
    turn = store().turns("default", at.session_state["chat_id"])[-1]
    assert turn.status == "done" and turn.answer == "Green tea comes from Camellia sinensis [1]."


def test_chats_can_be_switched_renamed_and_deleted(scripted):
    app = scripted(coordinator=[Plan(subquestions=["a"]), Plan(subquestions=["b"])],
                   writer=["Answer A.", "Answer B."], critic=[Review(decision="approve")] * 2)
    app.ask("Goal A")
    first = app.at.session_state["chat_id"]
    next(b for b in app.at.sidebar.button if b.label == "New chat").click().run()
    app.ask("Goal B")
    assert app.at.session_state["chat_id"] != first
    assert [b.label for b in app.at.sidebar.button if b.label.startswith("Goal")] == ["Goal B", "Goal A"]

    app.at.sidebar.button(key=f"chat-{first}").click().run()
    assert app.at.subheader[0].value == "Goal A"
    assert "Answer A." in [m.value for m in assistant(app.at).markdown]

    app.at.sidebar.text_input(key=f"title-{first}").set_value("Renamed chat")
    next(b for b in app.at.sidebar.button if b.label == "Rename").click().run()
    assert [c.title for c in store().list("default")] == ["Goal B", "Renamed chat"]
    assert "Renamed chat" in [b.label for b in app.at.sidebar.button]

    next(b for b in app.at.sidebar.button if b.label == "Delete chat").click().run()
    assert [c.title for c in store().list("default")] == ["Goal B"]
    assert "chat_id" not in app.at.session_state
    assert app.at.title[0].value == "Crew"  # back to the empty chat


def test_the_tiny_model_banner_shows_on_every_page_until_a_real_model_is_set(monkeypatch):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state[MODELS_HOOK] = lambda settings: {}
    at.run()
    for page in (None, "pages/3_Traces.py", "pages/4_Settings.py"):
        if page:
            at.switch_page(page).run()
        assert any("tiny embedded model" in w.value for w in at.warning), page
    monkeypatch.setenv("CREW_MODEL", "openai:gpt-4o-mini")
    at.switch_page("app.py").run()
    assert not any("tiny embedded model" in w.value for w in at.warning)


def test_workspaces_keep_their_chats_apart(scripted):
    app = scripted(coordinator=[Plan(subquestions=["a"])], writer=["A."], critic=[Review(decision="approve")])
    app.ask("Goal in default")
    app.at.sidebar.text_input(key="_ws_new").set_value("thesis").run()
    assert app.at.sidebar.selectbox(key="_ws_picker").value == "thesis"
    assert app.at.query_params["ws"] == "thesis"
    assert not [b for b in app.at.sidebar.button if b.label == "Goal in default"]
    app.at.sidebar.text_input(key="_ws_new").set_value("../bad").run()
    assert any("bad workspace name" in e.value for e in app.at.sidebar.error)
    app.at.sidebar.selectbox(key="_ws_picker").set_value("default").run()
    assert [b.label for b in app.at.sidebar.button if b.label == "Goal in default"] == ["Goal in default"]


def test_a_model_that_cannot_be_built_is_explained_and_history_still_shows(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "nope:x")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("unknown model provider 'nope'" in e.value for e in at.error)
    assert at.chat_input[0].disabled
    assert [p.value for p in at.get("page_link") if p.value == "Fix it in Settings"] == ["Fix it in Settings"]


def test_the_fake_model_runs_a_whole_turn_in_the_page(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake?subquestions=2")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.chat_input[0].upload("tea.md", TEA, "text/markdown")
    at.chat_input[0].set_value("What is green tea?").run()
    assert not at.exception, at.exception
    assert [m.group(1) for s in at.status if (m := AGENT.search(s.label))] == [
        "Coordinator", "Researcher", "Researcher", "Writer", "Critic"]
    answer = [m.value for m in assistant(at).markdown if m.value.startswith("According to the sources")]
    assert len(answer) == 2 and "[1]" in answer[-1]  # the writer's step and the final answer
    assert not any("tiny embedded model" in w.value for w in at.warning)


def test_an_interrupted_turn_offers_resume_and_run_again(scripted):
    """A turn whose process died shows as interrupted; Resume explains there is no checkpoint, Run again works."""
    app = scripted(coordinator=[Plan(subquestions=["q"])], writer=["Fresh answer [1]."], critic=[Review(decision="approve")])
    chats = store()
    chat = chats.create("default", "Killed chat")
    chats.start_turn("default", chat.chat_id, "deadbeefdeadbeef", "What is green tea?")
    # The process that owned it is gone: a pid that cannot exist on this host.
    chats.run("UPDATE chat_turns SET owner = ? WHERE turn_id = ?", (chats_owner_dead(), "deadbeefdeadbeef"))
    at = app.at
    at.query_params["chat"] = chat.chat_id
    at.run()
    assert chats.turn("default", "deadbeefdeadbeef").status == "interrupted"
    labels = [b.label for b in at.main.button]
    assert "Resume from checkpoint" in labels and "Run again" in labels
    next(b for b in at.main.button if b.label == "Resume from checkpoint").click().run()
    shown = [e.value for e in at.error] + [w.value for w in at.warning]
    assert any("no unfinished checkpoint" in v for v in shown), shown
    next(b for b in at.main.button if b.label == "Run again").click().run()
    app.settle()
    at.run()
    assert any("Fresh answer" in m.value for m in assistant(at).markdown)


def test_a_turn_another_instance_is_running_is_shown_as_running_there(scripted):
    """Another host's turn with a fresh heartbeat: not interrupted, nothing to resume; stale, it is."""
    import time

    app = scripted()
    chats = store()
    chat = chats.create("default", "Elsewhere")
    chats.start_turn("default", chat.chat_id, "feedfacefeedface", "What is green tea?")
    chats.run("UPDATE chat_turns SET owner = ?, heartbeat = ? WHERE turn_id = ?",
              ("another-host:7", time.time(), "feedfacefeedface"))
    at = app.at
    at.query_params["chat"] = chat.chat_id
    at.run()
    assert any("still running in another instance" in i.value for i in at.info)
    assert "Resume from checkpoint" not in [b.label for b in at.main.button]
    chats.run("UPDATE chat_turns SET heartbeat = ? WHERE turn_id = ?", (time.time() - 3600, "feedfacefeedface"))
    at.run()
    assert any("was interrupted" in i.value for i in at.info)
    assert "Resume from checkpoint" in [b.label for b in at.main.button]


def chats_owner_dead() -> str:
    import socket

    return f"{socket.gethostname()}:4194304999"


def test_dropping_a_file_already_in_the_library_says_nothing_was_stored_twice(scripted):
    app = scripted(coordinator=[Plan(subquestions=["a"]), Plan(subquestions=["b"])], writer=["A.", "B."],
                   critic=[Review(decision="approve"), Review(decision="approve")])
    app.ask("What is green tea?", upload=("tea.md", TEA))
    at = app.ask("And again?", upload=("tea-copy.md", TEA))
    assert not at.exception, at.exception
    uploads = [m for m in at.chat_message if m.name == "user" and m.caption]
    assert "chunks added" in uploads[0].caption[0].value
    again = uploads[1].caption[0].value
    assert "already in the library" in again and "nothing stored twice" in again and "chunks added" not in again


def test_an_answer_from_passages_in_another_language_says_so_under_it(monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    te = ("# Té verde\n\nUna taza de té verde tiene unos 30 mg de cafeína, la mitad que una taza de café. "
          "El té verde se hace con hojas de Camellia sinensis sin oxidar.\n").encode()
    at.chat_input[0].upload("te.md", te, "text/markdown")
    at.chat_input[0].set_value("How much caffeine is in a cup of green tea?").run()
    assert not at.exception, at.exception
    notes = [c.value for c in assistant(at).caption if "passages found" in c.value]
    assert notes and "are in Spanish: asked in Spanish" in notes[0], [c.value for c in assistant(at).caption]
