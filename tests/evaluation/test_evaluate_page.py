"""The Evaluate page in Streamlit's AppTest, entered through app.py, on scripted models over a small workspace."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from pages.common.crew_access import MODELS_HOOK
from tests.doubles import ScriptedChatModel
from tests.evaluation.conftest import QUESTIONS
from tests.servers import APP

PAGE = "pages/5_Evaluate.py"


def plan_the_goal(messages) -> Plan:
    """The coordinator's reply: one sub-question, the goal itself ("Goal: ..." is its last message)."""
    return Plan(subquestions=[str(messages[-1].content).removeprefix("Goal: ")])


def scripted(n: int, delay: float = 0.0) -> dict[str, ScriptedChatModel]:
    """Replies for n turns: plan the goal as is, draft from source [1], approve."""
    return {
        "coordinator": ScriptedChatModel(responses=[plan_the_goal] * n, delay=delay),
        "researcher": ScriptedChatModel(responses=[]),
        "writer": ScriptedChatModel(responses=["A cup of green tea holds about 30 mg of caffeine [1]."] * n),
        "critic": ScriptedChatModel(responses=[Review(decision="approve")] * n),
    }


def open_page(models: dict[str, ScriptedChatModel], workspace: str = "tea") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state[MODELS_HOOK] = lambda settings: dict(models)
    at.query_params["ws"] = workspace
    at.run()
    at = at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def run(at: AppTest, name: str, data: bytes, k: int = 5) -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/plain"))
    at.number_input[0].set_value(k)
    at.button[0].click().run()  # the form's Run
    assert not at.exception, at.exception
    return at


def finished(at: AppTest, timeout: float = 60) -> AppTest:
    """Rerun the page, as its timer does in a browser, until the evaluation is done."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = at.session_state["evaluate_job"]
        if job.finished:
            return at.run()
        time.sleep(0.1)
        at.run()
        assert not at.exception, at.exception
    raise AssertionError("the evaluation did not finish")


def test_the_page_is_in_the_sidebar_and_an_empty_workspace_says_so(make_crew):
    at = open_page(scripted(0), workspace="empty")
    assert "Evaluate" in [link.label for link in at.sidebar.get("page_link")]
    assert "has no documents" in at.warning[-1].value
    assert not at.file_uploader


def test_a_run_shows_progress_then_figures_table_and_chart(tea_workspace):
    at = open_page(scripted(5))
    at = run(at, "questions.txt", QUESTIONS.encode(), k=3)
    bars = at.get("progress")
    assert bars and "of 5 questions done" in bars[0].proto.text
    at = finished(at)
    # Labels pass through crew.safe_text, which breaks "x@y" with a word joiner so it is no e-mail link.
    metrics = {m.label.replace("\u2060", ""): m.value for m in at.metric}
    assert metrics["page recall@3"] == "1.00" and float(metrics["MRR"]) > 0.5
    assert metrics["right page cited"] != "n/a" and metrics["median turn"].endswith(" s")
    assert "Results for questions.txt: 5 of 5 questions, 3 passages searched." in [c.value for c in at.caption]
    table = at.dataframe[0].value
    assert list(table["Line"]) == [2, 3, 4, 5, 6]
    assert list(table["Language"])[:2] == ["en", "cross"]
    assert table["Key terms"].iloc[0] == 1.0 and bool(table["Right page cited"].iloc[0])
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart"), "no chart"
    assert [b.label for b in at.download_button] == ["Download JSON"]
    assert tea_workspace.traces.turns("tea"), "the turns ran through the crew"


def test_a_bad_file_names_the_line_escaped_and_runs_nothing(tea_workspace):
    models = scripted(0)
    at = open_page(models)
    at = run(at, "bad.txt", b"How much caffeine?|tea.pdf|2|30 mg\nAn image?|![x](http://127.0.0.1/x.png)|1|x\n")
    error = at.error[0].value
    assert error.startswith("bad.txt, line 2: unknown source")
    assert "\\!\\[x\\]" in error and "![x]" not in error.replace("\\!\\[x\\]", "")
    assert "evaluate_job" not in at.session_state
    assert not [c for m in models.values() for c in m.calls]


@pytest.mark.parametrize("data, expected", [
    (b"", "q.txt: the file is empty"),
    (b"Where?|tea.pdf|9|tea\n", "q.txt, line 1: page 9 does not exist: tea.pdf has 3 pages"),
    (b"Where?|tea.pdf\n", "q.txt, line 1: 2 fields where 4 are needed"),
])
def test_other_bad_files(tea_workspace, data, expected):
    at = run(open_page(scripted(0)), "q.txt", data)
    assert at.error[0].value.startswith(expected.replace("|", "\\|"))


def test_stop_ends_the_run_and_scores_the_questions_done(tea_workspace):
    at = open_page(scripted(5, delay=0.6))
    at = run(at, "questions.txt", QUESTIONS.encode())
    job = at.session_state["evaluate_job"]
    end = time.monotonic() + 30
    while job.done < 1 and time.monotonic() < end:
        time.sleep(0.05)
    at.run()
    at.button(key="evaluate_stop").click().run()
    assert job.wait(10) and job.stopped
    at = finished(at)
    assert at.info and at.info[0].value.startswith("Stopped after ")
    assert 1 <= len(job.results) < 5
    if job.results:
        assert len(at.dataframe[0].value) == len(job.results)


def test_search_only_runs_no_turn_and_shows_retrieval_figures(tea_workspace):
    models = scripted(0)
    at = open_page(models)
    at.toggle[0].set_value(True)
    at = finished(run(at, "questions.txt", QUESTIONS.encode()))
    assert [m.label.replace("\u2060", "") for m in at.metric] == ["page recall@5", "MRR"]
    assert "Key terms" not in at.dataframe[0].value.columns
    assert not [c for m in models.values() for c in m.calls] and tea_workspace.traces.turns("tea") == []
