"""`python -m crew traces`: the Traces page's data on the command line."""

from __future__ import annotations

import json

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from tests.servers import run_cli


def run_turns(make_crew, *goals: str, workspace: str = "default") -> list[str]:
    n = len(goals)
    crew = make_crew({"coordinator": [Plan(subquestions=["a", "b"])] * n, "writer": ["An answer."] * n,
                      "critic": [Review(decision="approve")] * n})
    return [crew.run_turn(workspace, "chat", g).run().turn_id for g in goals]


def test_traces_last_json_prints_the_span_tree_with_tokens(make_crew):
    first, last = run_turns(make_crew, "first goal", "second goal")
    out = run_cli("traces", "--last", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["turn"]["turn_id"] == last and doc["turn"]["goal"] == "second goal"
    kinds = [s["kind"] for s in doc["spans"]]
    assert kinds == ["turn", "step", "llm", "step", "tool", "step", "tool", "step", "llm", "step", "llm"]
    assert [s["depth"] for s in doc["spans"]][:3] == [0, 1, 2]
    assert doc["totals"]["llm_calls"] == 3 and doc["totals"]["tool_calls"] == 2
    assert doc["totals"]["tokens_in"] == sum(s["tokens_in"] for s in doc["spans"] if s["kind"] == "llm") > 0
    assert doc["totals"]["cost_usd"] == 0


def test_traces_lists_recent_turns_and_respects_the_workspace(make_crew):
    run_turns(make_crew, "mine", workspace="alpha")
    listed = json.loads(run_cli("traces", "--json", "--workspace", "alpha").stdout)
    assert [d["turn"]["goal"] for d in listed] == ["mine"]
    assert json.loads(run_cli("traces", "--json", "--workspace", "beta").stdout) == []
    text = run_cli("traces", "--workspace", "alpha")
    assert text.returncode == 0 and "mine" in text.stdout and "done" in text.stdout
    tree = run_cli("traces", "--last", "--workspace", "alpha").stdout
    assert "turn: mine" in tree and "coordinator:" in tree and "llm Plan" in tree


def test_traces_with_no_data_or_bad_input(tmp_path):
    empty = run_cli("traces", "--last", "--json")
    assert empty.returncode == 0 and json.loads(empty.stdout) is None
    assert not (tmp_path / "data").exists()  # reading never creates the data dir
    bad = run_cli("traces", "--workspace", "../etc")
    assert bad.returncode == 2 and bad.stderr.startswith("crew: bad workspace name") and "Traceback" not in bad.stderr
