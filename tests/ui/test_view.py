"""Pure view helpers: untrusted text made inert, turn events folded into steps, spans into a tree."""

from __future__ import annotations

from crew.engine.events import Event
from crew.presentation.safe_text import safe_url
from crew.engine.state import source_label
from crew.presentation.secrets import mask_secret
from crew.presentation.trace_view import span_tree, timeline_rows, trace_rows, trace_totals
from crew.presentation.turn_view import TurnView, answer_markdown


def test_safe_url_allows_only_http_links():
    assert safe_url("https://example.org/a") == "https://example.org/a"
    assert safe_url("javascript:alert(1)") == ""
    assert safe_url("data:text/html,hi") == ""
    assert safe_url("") == ""


def test_mask_secret_never_shows_the_middle():
    assert mask_secret("sk-abcdefghijklmnop1234") == "sk-…1234"
    assert mask_secret("short") == "••••"
    assert mask_secret(None) == "not set"


def test_citation_labels_and_markdown_export():
    doc = {"n": 1, "source": "guide.pdf", "page": 3, "url": "", "text": "Green tea is steamed."}
    web = {"n": 2, "source": "example.org", "page": 0, "url": "https://example.org/tea", "text": "Black tea is oxidised."}
    assert source_label(doc) == "guide.pdf, p. 3"
    assert source_label(web) == "https://example.org/tea"
    assert source_label({**doc, "page": 0}) == "guide.pdf"
    md = answer_markdown("What is tea?", "Green [1] and black [2].", [doc, web])
    assert md.startswith("# What is tea?\n\nGreen [1] and black [2].\n")
    assert "## References" in md
    assert "[1] guide.pdf, p. 3\n    > Green tea is steamed." in md
    assert "[2] <https://example.org/tea>" in md
    stopped = answer_markdown("g", "partial", [], status="stopped")
    assert "Stopped before the crew finished" in stopped and "## References" not in stopped


def ev(kind, span="", parent="t1", agent="crew", text="", **data):
    return Event(kind=kind, turn_id="t1", agent=agent, span_id=span, parent_id=parent, text=text, data=data)


def test_events_fold_into_steps_in_the_order_they_began():
    events = [
        ev("turn_started", text="Goal?"),
        ev("step_started", "c", agent="coordinator", text="Planning the research", step="plan"),
        ev("plan", "c", agent="coordinator", subquestions=["a", "b"]),
        ev("step_finished", "c", agent="coordinator", step="plan", status="ok"),
        ev("step_started", "r1", agent="researcher", text="Q1: a", step="research"),
        ev("step_started", "r2", agent="researcher", text="Q2: b", step="research"),
        ev("tool_call", "x2", "r2", agent="researcher", text="search_memory", args={"query": "b"}),
        ev("tool_result", "x2", "r2", agent="researcher", text="2 passages", ok=True, hits=2),
        ev("findings", "r2", agent="researcher", count=2, sources=["a.md", "a.md"]),
        ev("step_finished", "r2", agent="researcher", step="research", status="ok"),
        ev("step_finished", "r1", agent="researcher", step="research", status="ok"),
        ev("step_started", "w1", agent="writer", text="Writing the draft", step="draft"),
        ev("token", "l1", "w1", agent="writer", text="Dra"),
        ev("token", "l1", "w1", agent="writer", text="ft"),
        ev("draft", "w1", agent="writer", text="Draft [1]"),
        ev("step_finished", "w1", agent="writer", step="draft", status="ok"),
        ev("step_started", "k1", agent="critic", step="critique", text="Checking the draft"),
        ev("verdict", "k1", agent="critic", text="revise", decision="revise", notes=["more"]),
        ev("step_finished", "k1", agent="critic", step="critique", status="ok"),
        ev("step_started", "w2", agent="writer", text="Revising the draft", step="revise"),
        ev("stopped"),
        ev("final", text="Draft [1]", status="stopped", citations=[{"n": 1}], limit_hit="stopped"),
    ]
    view = TurnView.fold(events)
    assert [(s.agent, s.kind) for s in view.steps] == [
        ("coordinator", "plan"), ("researcher", "research"), ("researcher", "research"),
        ("writer", "draft"), ("critic", "critique"), ("writer", "revise")]
    coordinator, r1, r2, w1, critic, w2 = view.steps
    assert coordinator.plan == ["a", "b"] and "Planned 2 sub-questions" in coordinator.title
    assert r2.tools[0].name == "search_memory" and r2.tools[0].ok and r2.passages == 2
    assert r1.passages is None and r1.status == "ok"
    assert w1.draft == "Draft [1]" and view.streaming == ""
    assert critic.verdict == "revise" and critic.title.endswith("Verdict: revise — 1 note")
    assert (w1.number, w2.number) == (1, 2) and "Draft 2 (revision)" in w2.title
    assert w2.status == "stopped" and w2.state == "error" and w2.title.endswith("· stopped")
    assert view.status == "stopped" and view.answer == "Draft [1]" and view.drafts == ["Draft [1]"]


def test_a_step_left_running_by_a_crash_ends_as_failed():
    view = TurnView.fold([ev("turn_started"), ev("step_started", "c", agent="coordinator", step="plan"),
                          ev("error", text="boom"), ev("final", text="No answer", status="error", error="boom")])
    assert view.steps[0].status == "error" and view.alerts == [("error", "boom")]


def span(sid, parent, kind, start, end, agent="researcher", name="n", tin=0, tout=0, cost=0.0):
    return {"span_id": sid, "parent_id": parent, "kind": kind, "agent": agent, "name": name, "start": start,
            "end": end, "tokens_in": tin, "tokens_out": tout, "cost": cost, "status": "ok", "error": ""}


TURN = {"turn_id": "t", "started": 100.0, "ended": 103.0, "status": "done", "goal": "g"}
SPANS = [
    span("t", None, "turn", 100.0, 103.0, agent="crew"),
    span("r2", "t", "step", 100.6, 101.8, name="Q2"),
    span("c", "t", "step", 100.0, 100.5, agent="coordinator"),
    span("r1", "t", "step", 100.5, 101.5, name="Q1"),
    span("l", "c", "llm", 100.1, 100.4, agent="coordinator", tin=10, tout=5, cost=0.01),
    span("x", "r1", "tool", 100.5, 100.6),
    span("l2", "r2", "llm", 100.7, 101.0, tin=3, tout=2, cost=0.002),
]


def test_spans_form_a_depth_first_tree_by_start_time():
    tree = span_tree(SPANS)
    assert [(s["span_id"], s["depth"]) for s in tree] == [
        ("t", 0), ("c", 1), ("l", 2), ("r1", 1), ("x", 2), ("r2", 1), ("l2", 2)]
    rows = trace_rows(TURN, SPANS)
    assert rows[2]["span"] == "        llm n" and rows[2]["start_s"] == 0.1 and rows[2]["duration_ms"] == 300.0


def test_parallel_researchers_overlap_on_the_timeline():
    bars = {b["row"].split(". ", 1)[1]: b for b in timeline_rows(TURN, SPANS)}
    q1, q2 = bars["researcher: Q1"], bars["researcher: Q2"]
    assert q1["start_s"] < q2["start_s"] < q1["end_s"]  # side by side in time, on their own rows
    assert bars["tool n"]["end_s"] > bars["tool n"]["start_s"]


def test_totals_count_model_tokens_once():
    totals = trace_totals(TURN, SPANS)
    assert totals == {"duration_s": 3.0, "tokens_in": 13, "tokens_out": 7, "cost_usd": 0.012, "steps": 3,
                      "llm_calls": 2, "tool_calls": 1, "errors": 0, "status": "done"}


def test_citation_labels_name_rows_and_sections_and_read_old_citations():
    base = {"n": 1, "url": "", "text": "x"}
    assert source_label({**base, "source": "s.csv", "page": 0, "place": "rows 12-40"}) == "s.csv, rows 12-40"
    assert source_label({**base, "source": "r.docx", "page": 0, "place": "Report > Costs"}) == "r.docx, Report > Costs"
    assert source_label({**base, "source": "g.pdf", "page": 3}) == "g.pdf, p. 3"  # stored before "place" existed


def test_the_view_says_how_far_the_answer_holds_up():
    def final(kind, sentences):
        return TurnView.fold([Event(kind="final", turn_id="t", agent="crew", text="a",
                                    data={"status": "done", "answer_kind": kind, "sentences": sentences})])

    ok = {"text": "Tea has caffeine.", "citations": [1], "support": 1.0, "supported": True}
    bad = {"text": "It cures colds.", "citations": [1], "support": 0.2, "supported": False}
    assert final("written", [ok, ok]).grounding == "Each of the answer's 2 sentences is backed by the passage it cites."
    assert final("extractive", [ok]).grounding.startswith("Quoted word for word")
    assert final("not_found", []).grounding == ""
    mixed = final("written", [ok, bad])
    assert mixed.unsupported == ["It cures colds."] and mixed.grounding == ""
    draft = TurnView.fold([Event(kind="step_started", turn_id="t", agent="writer", span_id="s", text="Writing"),
                           Event(kind="draft", turn_id="t", agent="writer", span_id="s", text="x",
                                 data={"sentences": [ok, bad]})])
    assert draft.steps[0].unsupported == ["It cures colds."]
