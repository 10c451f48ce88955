"""A scripted model drives whole turns; the tests assert the exact order of the crew's steps."""

import threading
from typing import get_args

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import MAX_NOTES, Review
from crew.engine.agents.prompts import language_rule
from crew.engine.agents.researcher import ResearchAction, WebTools
from crew.engine.events import EventKind
from crew.engine.tools import ToolResult
from crew.settings import ROLES
from tests.doubles import ScriptedChatModel


def steps(events):
    return [(e.agent, e.data["step"]) for e in events if e.kind == "step_started"]


def test_a_revise_verdict_loops_back_to_the_writer(make_crew, remember):
    writer = ScriptedChatModel(responses=["Green tea has caffeine [1].", "Green tea has about 30 mg of caffeine per cup [1]."])
    critic = ScriptedChatModel(responses=[
        Review(decision="revise", notes=["Give the amount of caffeine."]),
        Review(decision="approve", notes=[]),
    ])
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["caffeine in green tea"])]),
                      "writer": writer, "critic": critic})
    remember(crew, "w1", "A cup of green tea has about 30 mg of caffeine.")
    turn = crew.run_turn("w1", "t", "How much caffeine is in green tea?")
    events = list(turn)
    assert steps(events) == [
        ("coordinator", "plan"), ("researcher", "research"), ("writer", "draft"),
        ("critic", "critique"), ("writer", "revise"), ("critic", "critique"),
    ]
    result = turn.result
    assert result.answer == "Green tea has about 30 mg of caffeine per cup [1]."
    assert result.limit_hit is None and result.error is None and result.status == "done"
    assert [c["n"] for c in result.citations] == [1]
    assert result.citations[0]["page"] == 1
    # The revision saw its previous draft and the critic's note.
    second_prompt = writer.calls[1]["messages"][-1].content
    assert "Green tea has caffeine [1]." in second_prompt
    assert "Give the amount of caffeine." in second_prompt
    kinds = [e.kind for e in events]
    assert kinds[0] == "turn_started" and kinds[-1] == "final"
    assert kinds.count("draft") == 2 and kinds.count("verdict") == 2


def test_a_critic_that_never_approves_ends_at_max_revisions(make_crew):
    critic = ScriptedChatModel(responses=[Review(decision="revise", notes=["again"])] * 5)
    writer = ScriptedChatModel(responses=[f"draft {i}" for i in range(5)])
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["q"])]), "writer": writer, "critic": critic},
                     max_revisions=1)
    result = crew.run_turn("w", "t", "goal").run()
    assert result.limit_hit == "max_revisions"
    assert result.answer == "draft 1"
    assert len(writer.calls) == 2 and len(critic.calls) == 2


def test_malformed_plan_gets_one_repair_then_falls_back_to_the_goal(make_crew):
    coordinator = ScriptedChatModel(responses=["not json", '{"subquestions": []}'])
    crew = make_crew({"coordinator": coordinator, "writer": ScriptedChatModel(responses=["answer"]),
                      "critic": ScriptedChatModel(responses=["{oops", "still not json"])})
    turn = crew.run_turn("w", "t", "What is EGCG?")
    events = list(turn)
    plan = next(e for e in events if e.kind == "plan")
    assert plan.data["subquestions"] == ["What is EGCG?"] and plan.data["fallback"] is True
    assert len(coordinator.calls) == 2
    assert "not valid" in coordinator.calls[1]["messages"][-1].content
    verdict = next(e for e in events if e.kind == "verdict")
    assert verdict.data["decision"] == "approve" and "malformed" in verdict.data["notes"][0]
    assert turn.result.status == "done" and turn.result.answer == "answer"
    assert len(turn.result.notes) == 2


def test_repaired_plan_is_used(make_crew):
    coordinator = ScriptedChatModel(responses=["```json nope", Plan(subquestions=["a", "b"])])
    writer = ScriptedChatModel(responses=["w"])
    crew = make_crew({"coordinator": coordinator, "writer": writer, "critic": ScriptedChatModel(responses=[Review(decision="approve")])})
    events = list(crew.run_turn("w", "t", "goal"))
    assert sorted(e.text for e in events if e.kind == "step_started" and e.agent == "researcher") == ["Q1: a", "Q2: b"]


def test_a_model_failure_is_an_error_event_not_an_exception(make_crew):
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["q"])]),
                      "writer": ScriptedChatModel(responses=[RuntimeError("provider exploded")])})
    turn = crew.run_turn("w", "t", "goal")
    events = list(turn)
    errors = [e for e in events if e.kind == "error"]
    assert len(errors) == 1 and errors[0].agent == "writer" and "provider exploded" in errors[0].text
    assert turn.result.status == "error"
    assert "writer failed" in turn.result.answer
    assert events[-1].kind == "final"
    # The crew is still usable: the next turn works.
    crew.models["writer"].enqueue("fine")
    crew.models["coordinator"].enqueue(Plan(subquestions=["q"]))
    crew.models["critic"].enqueue(Review(decision="approve"))
    assert crew.run_turn("w", "t", "goal").run().answer == "fine"


def test_sub_questions_are_researched_concurrently(make_crew):
    """Each researcher blocks until the other has started: only concurrent execution finishes.

    The wait is generous: each researcher first searches memory (the embedder's and the language
    detector's first use in the process can take seconds on a loaded machine); run one after the
    other, the first still waits forever for the second and the barrier breaks."""
    barrier = threading.Barrier(2, timeout=60)

    def search(query):
        barrier.wait()
        return ToolResult(True, "nothing")

    researcher = ScriptedChatModel(responses=[ResearchAction(action="web_search", argument="a"),
                                              ResearchAction(action="web_search", argument="b"),
                                              ResearchAction(action="done"), ResearchAction(action="done")])
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["a", "b"])]),
                      "researcher": researcher, "writer": ScriptedChatModel(responses=["w"]),
                      "critic": ScriptedChatModel(responses=[Review(decision="approve")])},
                     tools=WebTools(web_search=search, fetch_page=None), research_steps=2)
    result = crew.run_turn("w", "t", "goal").run()
    assert result.error is None, result.error
    assert result.status == "done"


def test_a_tool_outside_the_allow_list_is_never_run(make_crew):
    researcher = ScriptedChatModel(responses=[ResearchAction(action="fetch_page", argument="http://127.0.0.1:1/x")])
    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["q"])]), "researcher": researcher,
                      "writer": ScriptedChatModel(responses=["w"]), "critic": ScriptedChatModel(responses=[Review(decision="approve")])},
                     tools=WebTools(web_search=lambda q: ToolResult(True, "none"), fetch_page=None), research_steps=1)
    events = list(crew.run_turn("w", "t", "goal"))
    assert [e.text for e in events if e.kind == "tool_call"] == ["search_memory"]


def test_stop_ends_the_turn_at_once_with_the_work_so_far(make_crew):
    gate = threading.Event()

    def slow_review(messages):
        gate.wait(10)
        return Review(decision="approve")

    crew = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["q"])]),
                      "writer": ScriptedChatModel(responses=["partial answer"]),
                      "critic": ScriptedChatModel(responses=[slow_review])})
    turn = crew.run_turn("w", "t", "goal")
    seen = []
    for event in turn:
        seen.append(event.kind)
        if event.kind == "draft":
            turn.cancel()
    gate.set()
    assert seen[-2:] == ["stopped", "final"]
    assert turn.result.status == "stopped" and turn.result.limit_hit == "stopped"
    assert turn.result.answer == "partial answer"


def test_every_role_is_told_the_language_of_the_goal(make_crew, remember):
    spanish = language_rule("Spanish")
    models = {
        "coordinator": ScriptedChatModel(responses=[Plan(subquestions=["cafeína del té verde"])]),
        "researcher": ScriptedChatModel(responses=[ResearchAction(action="done")]),
        "writer": ScriptedChatModel(responses=["Una taza tiene unos 30 mg [1]."]),
        "critic": ScriptedChatModel(responses=[Review(decision="approve")]),
    }
    crew = make_crew(models, tools=WebTools(web_search=lambda q: ToolResult(True, "none"), fetch_page=None),
                     research_steps=1)
    remember(crew, "es", "A cup of green tea has about 30 mg of caffeine.")
    result = crew.run_turn("es", "t", "¿Cuánta cafeína tiene una taza de té verde?").run()
    assert result.status == "done", result.error
    for role in ROLES:  # a new role's model must be asked, and told, here too
        calls = crew.models[role].calls
        assert calls, f"the {role} was never asked"
        assert all(spanish in call["messages"][0].content for call in calls), role
    english = make_crew({"coordinator": ScriptedChatModel(responses=[Plan(subquestions=["q"])]),
                         "writer": ScriptedChatModel(responses=["a"]), "critic": ScriptedChatModel(responses=[Review(decision="approve")])})
    english.run_turn("en", "t", "How much caffeine is in a cup of green tea?").run()
    assert language_rule("English") in english.models["writer"].calls[0]["messages"][0].content


def test_every_event_kind_a_turn_emits_is_declared(make_crew, remember):
    crew = make_crew({"coordinator": [Plan(subquestions=["q"])], "writer": ["Green tea has caffeine [1]."],
                      "critic": [Review(decision="approve")]})
    remember(crew, "w", "Green tea has caffeine.")
    kinds = {e.kind for e in crew.run_turn("w", "t", "Does green tea have caffeine?")}
    assert "findings" in kinds and kinds <= set(get_args(EventKind))


def test_the_critic_keeps_as_many_notes_as_its_schema_allows(make_crew, remember):
    many = [f"Fix point {i}." for i in range(MAX_NOTES + 2)]
    crew = make_crew({"coordinator": [Plan(subquestions=["q"])], "writer": ["a [1].", "b [1]."],
                      "critic": [Review(decision="revise", notes=many), Review(decision="approve")]})
    remember(crew, "w", "Green tea has caffeine.")
    verdicts = [e for e in crew.run_turn("w", "t", "goal") if e.kind == "verdict"]
    assert verdicts[0].data["notes"] == many[:MAX_NOTES]
    assert Review.model_json_schema()["properties"]["notes"]["maxItems"] == MAX_NOTES
    assert f"up to {MAX_NOTES} concrete notes" in crew.models["critic"].calls[0]["messages"][0].content
