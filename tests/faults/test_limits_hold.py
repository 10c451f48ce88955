"""Limits are real: models that never approve, never stop researching, repeat themselves or burn
tokens end within their limit, with `limit_hit` naming it.

Every count here is an upper bound the crew must not pass; none of it is timing.
"""

from __future__ import annotations

import itertools

from langchain_core.messages import AIMessage

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.engine.agents.researcher import ResearchAction, WebTools
from crew.engine.tools import ToolResult
from tests.doubles import ScriptedChatModel


def forever(make_reply):
    """A reply list long enough that only a limit can end the turn."""
    return [make_reply] * 500


def tool_calls(events):
    return [e for e in events if e.kind == "tool_call"]


def nothing_found(query: str) -> ToolResult:
    return ToolResult(True, "the web search found nothing")


def test_a_critic_that_never_approves_stops_at_max_revisions(make_crew):
    writer = ScriptedChatModel(responses=[f"draft {i}" for i in range(50)])
    critic = ScriptedChatModel(responses=forever(Review(decision="revise", notes=["not good enough"])))
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["q"])]),
                      "writer": writer, "critic": critic}, max_revisions=2)
    turn = crew.run_turn("w", "t", "goal")
    events = list(turn)
    assert turn.result.limit_hit == "max_revisions" and turn.result.status == "limit"
    assert len(writer.calls) == 3 and len(critic.calls) == 3  # the draft and two revisions
    assert turn.result.answer == "draft 2"  # the best (last) draft so far
    assert events[-1].kind == "final"


def test_a_crew_that_revises_forever_stops_at_max_steps(make_crew):
    writer = ScriptedChatModel(responses=[f"draft {i}" for i in range(50)])
    critic = ScriptedChatModel(responses=forever(Review(decision="revise", notes=["again"])))
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["q"])]),
                      "writer": writer, "critic": critic}, max_revisions=10, max_steps=6)
    turn = crew.run_turn("w", "t", "goal")
    events = list(turn)
    assert turn.result.limit_hit == "max_steps"
    assert len([e for e in events if e.kind == "step_started"]) == 6


def test_a_researcher_that_always_wants_another_search_stops_at_max_tool_calls(make_crew):
    counter = itertools.count()
    researcher = ScriptedChatModel(responses=forever(lambda m: ResearchAction(action="web_search", argument=f"query {next(counter)}")))
    searched = []
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["a", "b", "c", "d"])]),
                      "researcher": researcher},
                     tools=WebTools(web_search=lambda q: searched.append(q) or nothing_found(q), fetch_page=None),
                     research_steps=6, max_tool_calls=7)
    turn = crew.run_turn("w", "t", "goal")
    events = list(turn)
    assert turn.result.limit_hit == "max_tool_calls"
    assert len(tool_calls(events)) == 7  # exactly the budget, every one of them reported
    assert len(searched) == len([e for e in tool_calls(events) if e.text == "web_search"])
    assert events[-1].kind == "final"


def test_a_researcher_repeating_the_same_call_is_stopped_as_a_loop(make_crew):
    researcher = ScriptedChatModel(responses=forever(ResearchAction(action="web_search", argument="the same query")))
    searched = []
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["q"])]), "researcher": researcher},
                     tools=WebTools(web_search=lambda q: searched.append(q) or nothing_found(q), fetch_page=None),
                     research_steps=6, loop_repeats=3)
    result = crew.run_turn("w", "t", "goal").run()
    assert result.limit_hit == "loop"
    assert searched == ["the same query"] * 2  # the third identical call is refused, not run


def spent(events) -> tuple[int, int]:
    calls = [e.tokens_in + e.tokens_out for e in events if e.kind == "llm_call"]
    return sum(calls), max(calls)


def test_a_token_budget_stops_the_turn_before_one_more_call_is_spent(make_crew):
    budget = 2_000

    def costly(messages):
        return AIMessage(content="a long draft [1]", usage_metadata={"input_tokens": 300, "output_tokens": 100, "total_tokens": 400})

    writer = ScriptedChatModel(responses=forever(costly))
    critic = ScriptedChatModel(responses=forever(Review(decision="revise", notes=["longer"])))
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["q"])]), "writer": writer, "critic": critic},
                     max_revisions=10, token_budget=budget)
    turn = crew.run_turn("w", "t", "goal")
    events = list(turn)
    total, largest = spent(events)
    assert turn.result.limit_hit == "token_budget"
    assert budget <= total < budget + largest


def test_parallel_researchers_cannot_each_overshoot_the_token_budget(make_crew):
    """Four researchers call the model at once; only one call may cross the budget line."""

    def crew_with_budget(budget: int, research_steps: int = 6):
        counter = itertools.count()
        researcher = ScriptedChatModel(
            responses=forever(lambda m: ResearchAction(action="web_search", argument=f"q{next(counter)}")), delay=0.05)
        return make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["a", "b", "c", "d"])]),
                          "researcher": researcher, "writer": ScriptedChatModel(responses=forever("w")),
                          "critic": ScriptedChatModel(responses=forever(Review(decision="approve")))},
                         tools=WebTools(web_search=nothing_found, fetch_page=None), research_steps=research_steps,
                         max_tool_calls=100, token_budget=budget)

    # Measure what the plan and one research call cost, then allow the plan and 2.5 research calls.
    measured = list(crew_with_budget(1_000_000, research_steps=1).run_turn("w", "m", "goal"))
    plan = sum(e.tokens_in + e.tokens_out for e in measured if e.kind == "llm_call" and e.agent == "coordinator")
    research = max(e.tokens_in + e.tokens_out for e in measured if e.kind == "llm_call" and e.agent == "researcher")
    budget = plan + int(2.5 * research)

    turn = crew_with_budget(budget).run_turn("w", "t", "goal")
    events = list(turn)
    total, largest = spent(events)
    assert turn.result.limit_hit == "token_budget"
    # Admitting all four at once would spend plan + 4 research calls, past budget + one call.
    assert total < budget + largest, (total, budget, largest)
