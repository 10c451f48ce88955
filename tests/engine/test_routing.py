"""Routing is pure: hand-built state in, the next node out."""

from langgraph.types import Send

from crew.engine.graph import finish, route_after_critic, route_after_research, route_after_writer, route_plan
from crew.engine.state import Evidence, numbered_evidence


def ev(chunk_id: str, question: int, rank: int) -> Evidence:
    return Evidence(text=chunk_id, source="a.md", page=0, url="", chunk_id=chunk_id, kind="documents",
                    score=1.0, question=question, rank=rank)


def test_plan_fans_out_one_researcher_per_question():
    sends = route_plan({"goal": "g", "plan": ["a", "b", "c"]})
    assert [s.node for s in sends] == ["researcher"] * 3
    assert [s.arg["question"] for s in sends] == ["a", "b", "c"]
    assert [s.arg["index"] for s in sends] == [0, 1, 2]
    assert all(isinstance(s, Send) for s in sends)


def test_a_limit_or_error_short_circuits_to_finish():
    for state in ({"limit_hit": "timeout"}, {"error": "writer failed"}):
        assert route_plan({"goal": "g", "plan": ["a"], **state}) == "finish"
        assert route_after_research(state) == "finish"
        assert route_after_writer(state) == "finish"
        assert route_after_critic({**state, "verdicts": [{"decision": "revise", "notes": []}], "drafts": ["d"]}, 2) == "finish"
    assert route_after_research({}) == "writer"
    assert route_after_writer({"drafts": ["d"]}) == "critic"


def test_revise_loops_back_until_rounds_run_out():
    revise = {"decision": "revise", "notes": ["cite"]}
    assert route_after_critic({"drafts": ["d1"], "verdicts": [revise]}, 2) == "writer"
    assert route_after_critic({"drafts": ["d1", "d2"], "verdicts": [revise, revise]}, 2) == "writer"
    assert route_after_critic({"drafts": ["d1", "d2", "d3"], "verdicts": [revise] * 3}, 2) == "finish"
    assert route_after_critic({"drafts": ["d1"], "verdicts": [revise]}, 0) == "finish"
    assert route_after_critic({"drafts": ["d1"], "verdicts": [{"decision": "approve", "notes": []}]}, 2) == "finish"


def test_finish_names_max_revisions_only_when_the_critic_never_approved():
    revise = {"decision": "revise", "notes": []}
    state = {"drafts": ["one [1]", "two [1] [9]", "three [1]"], "verdicts": [revise] * 3, "findings": [ev("c1", 0, 0)]}
    out = finish(state, max_revisions=2)
    assert out["limit_hit"] == "max_revisions"
    assert out["answer"] == "three [1]"
    assert [c["chunk_id"] for c in out["citations"]] == ["c1"]
    approved = finish({**state, "verdicts": [revise, revise, {"decision": "approve", "notes": []}]}, max_revisions=2)
    assert "limit_hit" not in approved


def test_evidence_numbering_is_stable_and_deduplicated():
    findings = [ev("x", 1, 0), ev("a", 0, 1), ev("b", 0, 0), ev("a", 1, 1)]
    assert [e["chunk_id"] for e in numbered_evidence(findings)] == ["b", "a", "x"]
    assert numbered_evidence(list(reversed(findings))) == numbered_evidence(findings)
