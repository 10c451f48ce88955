"""Web search offline, rate limited or answering junk: the agent reads "web search unavailable"
and the turn goes on with memory alone. The search function is injected; nothing touches the
network.
"""

from __future__ import annotations

from functools import partial

import pytest
from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.engine.agents.researcher import ResearchAction, WebTools
from crew.engine.tools.web_search import web_search
from tests.doubles import ScriptedChatModel


class Search:
    """A scripted ddgs text search: each call takes the next outcome (rows or an exception)."""

    def __init__(self, *outcomes) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, int]] = []

    def __call__(self, query: str, max_results: int):
        self.calls.append((query, max_results))
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


ROWS = [{"title": "Tea", "href": "https://tea.example/a", "body": "Green tea contains catechins."}]


@pytest.mark.parametrize("failure,tries", [
    (DDGSException("network unreachable"), 1),  # offline: fails at once, would fail again
    (TimeoutException("timed out"), 1),
    (RatelimitException("202 Ratelimit"), 2),  # rate limited: one retry with backoff
    (ConnectionError("dns"), 1),
])
def test_an_unavailable_search_is_a_tool_result(failure, tries):
    search = Search(failure)
    result = web_search(search, "green tea", wait_s=0)
    assert result.ok is False and "web search unavailable" in result.text and "continue with memory" in result.text
    assert len(search.calls) == tries


def test_a_rate_limit_that_clears_gets_the_results():
    search = Search(RatelimitException("202 Ratelimit"), ROWS)
    result = web_search(search, "green tea", wait_s=0)
    assert result.ok and [h.url for h in result.hits] == ["https://tea.example/a"]
    assert len(search.calls) == 2


def test_junk_rows_are_dropped():
    rows = [None, "a string", {"href": "javascript:alert(1)", "body": "x"}, {"href": "file:///etc/passwd", "body": "x"},
            {"href": "https://ok.example/ page", "body": "space in url"}, {"href": "https://ok.example/", "body": ""},
            {"href": "http://[::1", "body": "broken"}, {"href": "https://ok.example/b", "body": "fine", "title": "T\nitle"}]
    result = web_search(Search(rows), "q", wait_s=0)
    assert [h.url for h in result.hits] == ["https://ok.example/b"]
    assert result.hits[0].source == "T itle"


def test_a_turn_goes_on_with_memory_when_the_web_is_down(make_crew):
    search = Search(DDGSException("offline"))
    researcher = ScriptedChatModel(responses=[ResearchAction(action="web_search", argument="green tea catechins"),
                                              ResearchAction(action="done")])
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["What is in green tea?"])]),
                      "researcher": researcher,
                      "writer": ScriptedChatModel(responses=["Green tea contains catechins [1]."]),
                      "critic": ScriptedChatModel(responses=[Review(decision="approve")])},
                     tools=WebTools(web_search=partial(web_search, search, wait_s=0), fetch_page=None), research_steps=2)
    crew.ingest("w", "tea.md", b"Green tea contains catechins such as EGCG.")
    turn = crew.run_turn("w", "t", "What is in green tea?")
    events = list(turn)
    result = next(e for e in events if e.kind == "tool_result" and e.data["tool"] == "web_search")
    assert result.data["ok"] is False and "unavailable" in result.text
    assert [e for e in events if e.kind == "error"] == []
    assert turn.result.status == "done"
    assert [c["source"] for c in turn.result.citations] == ["tea.md"]
