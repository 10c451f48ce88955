"""Shape what the pages show, without Streamlit: turn events into steps, spans into a tree and a
timeline, an answer into Markdown. Pure functions, so the pages stay thin and these stay tested.

Text from outside reaches the pages as `crew.safe_text.Md` (step titles here are built with
`md`), so nothing a model, a document or a provider wrote becomes a link, an image or markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from crew.events import Event
from crew.safe_text import Md, md, plain, safe_url
from crew.state import source_label

# Streamlit's bundled Material Symbols, so labels look the same without an emoji font.
AGENT_ICONS = {
    "coordinator": ":material/explore:", "researcher": ":material/travel_explore:", "writer": ":material/edit_note:",
    "critic": ":material/balance:", "person": ":material/person:", "crew": ":material/groups:",
}
FINISHED = ("done", "limit", "error", "stopped", "awaiting_review")


# Secrets --------------------------------------------------------------------------------------


def mask_secret(value: str | None) -> str:
    """Show that a key is set and which one it is, never the key: 'sk-…a1b2'."""
    if not value:
        return "not set"
    if len(value) < 12:
        return "••••"
    return f"{value[:3]}…{value[-4:]}"


# Citations and export ------------------------------------------------------------------------


def answer_markdown(goal: str, answer: str, citations: list[dict[str, Any]], status: str = "done",
                    limit_hit: str | None = None) -> str:
    """The answer with its numbered references, as a Markdown document to download."""
    lines = [f"# {' '.join(goal.split())}", "", answer.strip(), ""]
    if status == "stopped":
        lines += ["> Stopped before the crew finished: this is what it had so far.", ""]
    elif limit_hit:
        lines += [f"> The turn reached its {limit_hit} limit: this is the best draft so far.", ""]
    if citations:
        lines += ["## References", ""]
        for c in citations:
            label = source_label(c)
            link = f"<{c['url']}>" if safe_url(c.get("url", "")) else label
            lines.append(f"[{c['n']}] {link}")
            snippet = " ".join(str(c.get("text", "")).split())
            if snippet:
                lines.append(f"    > {snippet[:400]}{'…' if len(snippet) > 400 else ''}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# Turn events -> steps ------------------------------------------------------------------------


@dataclass
class ToolView:
    span_id: str
    name: str
    args: dict[str, Any]
    result: str = ""
    ok: bool | None = None
    hits: int = 0
    ms: float = 0.0


@dataclass
class StepView:
    """One agent action as the person sees it: a plan, a sub-question's research, a draft, a verdict."""

    span_id: str
    agent: str
    kind: str
    label: str
    number: int = 0  # writer steps: draft 1, 2, ...
    status: str = "running"  # running | ok | error | limit | stopped
    error: str = ""
    ms: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    plan: list[str] = field(default_factory=list)
    plan_fallback: bool = False
    tools: list[ToolView] = field(default_factory=list)
    passages: int | None = None
    sources: list[str] = field(default_factory=list)
    draft: str | None = None
    unsupported: list[str] = field(default_factory=list)  # draft sentences no source supports
    verdict: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> Md:
        """The step's label for st.status: an icon, who, what, and how it ended (labels shown literally)."""
        icon = Md(AGENT_ICONS.get(self.agent, ":material/circle:"))
        who = "You" if self.agent == "person" else self.agent.capitalize()
        what = plain(self.label or self.kind)
        if self.kind == "plan" and self.plan:
            what = md("Planned {} sub-question{}", len(self.plan), "s" * (len(self.plan) != 1))
        elif self.kind == "research" and self.passages is not None:
            what = md("{} — {} passage{}", self.label, self.passages, "s" * (self.passages != 1))
        elif self.kind in ("draft", "revise"):
            what = md("Draft {} (revision)", self.number) if self.kind == "revise" else md("Draft {}", self.number)
        elif self.kind == "critique" and self.verdict:
            what = md("Verdict: {}", self.verdict)
            if self.notes:
                what = md("{} — {} note{}", what, len(self.notes), "s" * (len(self.notes) != 1))
        elif self.kind == "review":
            what = md("Approved the plan")
        tail = md("")
        if self.status == "stopped":
            tail = md(" · stopped")
        elif self.status in ("error", "limit"):
            tail = md(" · failed") if self.status == "error" else md(" · limit reached")
        elif self.status == "ok" and self.ms:
            tail = md(" · {:.1f} s", self.ms / 1000)
        return md("{} {} · {}{}", icon, who, what, tail)

    @property
    def state(self) -> str:
        """The st.status state: running, complete or error."""
        return {"running": "running", "ok": "complete"}.get(self.status, "error")


@dataclass
class TurnView:
    """A turn folded from its events: the steps in the order they began, and how it ended."""

    turn_id: str = ""
    goal: str = ""
    steps: list[StepView] = field(default_factory=list)
    alerts: list[tuple[str, str]] = field(default_factory=list)  # ("limit" | "error", text)
    answer: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    status: str = "running"
    limit_hit: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    sentences: list[dict[str, Any]] = field(default_factory=list)  # the answer checked sentence by sentence
    answer_kind: str = ""  # written | extractive | not_found
    review: list[str] | None = None
    started: float = 0.0
    ended: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    streaming: str = ""  # the draft being written, token by token (live only)
    _by_span: dict[str, StepView] = field(default_factory=dict, repr=False)
    _tools: dict[str, ToolView] = field(default_factory=dict, repr=False)

    @classmethod
    def fold(cls, events: Iterable[Event]) -> "TurnView":
        view = cls()
        for e in events:
            view.apply(e)
        return view

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def drafts(self) -> list[str]:
        return [s.draft for s in self.steps if s.draft is not None]

    @property
    def seconds(self) -> float:
        return max(0.0, (self.ended or self.started) - self.started)

    @property
    def unsupported(self) -> list[str]:
        """Sentences of the answer that no source supports (only when the support check is off)."""
        return [s["text"] for s in self.sentences if not s.get("supported")]

    @property
    def grounding(self) -> str:
        """One line on how far the answer can be trusted, or "" when there is nothing to say."""
        if self.answer_kind == "written" and self.sentences and not self.unsupported:
            n = len(self.sentences)
            return f"Each of the answer's {n} sentence{'s' * (n != 1)} is backed by the passage it cites."
        if self.answer_kind == "extractive":
            return "Quoted word for word from the cited passages."
        return ""

    def apply(self, e: Event) -> list[StepView]:
        """Fold one event in; return the steps it changed (to redraw)."""
        k = e.kind
        if k == "turn_started":
            self.turn_id, self.goal = e.turn_id, e.text
            self.started = self.started or e.ts
            self.status, self.review, self.ended = "running", None, None
            return []
        if k == "step_started":
            number = 1 + sum(1 for s in self.steps if s.agent == "writer") if e.agent == "writer" else 0
            step = StepView(e.span_id, e.agent, e.data.get("step", ""), e.text, number=number)
            self.steps.append(step)
            self._by_span[e.span_id] = step
            return [step]
        if k == "llm_call":
            self.tokens_in += e.tokens_in
            self.tokens_out += e.tokens_out
            return []
        if k == "token":
            self.streaming += e.text
            return []
        if k == "limit_hit":
            self.alerts.append(("limit", f"{e.data.get('limit', 'limit')}: {e.text}" if e.text else str(e.data.get("limit"))))
            return []
        if k == "error":
            self.alerts.append(("error", e.text))
            return []
        if k == "stopped":
            self.status = "stopped"
            return []
        if k == "review":
            self.review = list(e.data.get("subquestions", []))
            return []
        if k == "final":
            return self._final(e)
        step = self._by_span.get(e.span_id) or self._by_span.get(e.parent_id)
        if step is None:
            return []
        if k == "step_finished":
            status = e.data.get("status", "ok")
            if status == "limit" and "stopped" in e.data.get("error", ""):
                status = "stopped"
            step.status, step.error, step.ms = status, e.data.get("error", ""), e.ms
            step.tokens_in, step.tokens_out = e.tokens_in, e.tokens_out
        elif k == "tool_call":
            tool = ToolView(e.span_id, e.text, dict(e.data.get("args", {})))
            step.tools.append(tool)
            self._tools[e.span_id] = tool
        elif k == "tool_result":
            tool = self._tools.get(e.span_id)
            if tool is not None:
                tool.result, tool.ok, tool.hits, tool.ms = e.text, bool(e.data.get("ok")), int(e.data.get("hits", 0)), e.ms
        elif k == "plan":
            step.plan = list(e.data.get("subquestions", []))
            step.plan_fallback = bool(e.data.get("fallback"))
        elif k == "findings":
            step.passages = int(e.data.get("count", 0))
            step.sources = list(e.data.get("sources", []))
        elif k == "draft":
            step.draft = e.text
            step.unsupported = [x["text"] for x in e.data.get("sentences") or [] if not x.get("supported")]
            self.streaming = ""
        elif k == "verdict":
            step.verdict = e.data.get("decision", e.text)
            step.notes = list(e.data.get("notes", []))
        else:
            return []
        return [step]

    def _final(self, e: Event) -> list[StepView]:
        d = e.data
        self.status = d.get("status", "done")
        self.answer = e.text
        self.citations = list(d.get("citations", []))
        self.limit_hit, self.error = d.get("limit_hit"), d.get("error")
        self.notes = list(d.get("notes", []))
        self.sentences = list(d.get("sentences") or [])
        self.answer_kind = d.get("answer_kind", "")
        self.ended = e.ts
        self.streaming = ""
        changed = []
        for step in self.steps:
            if step.status == "running":  # cut short: Stop, the wall clock, or a crash
                step.status = "stopped" if self.status in ("stopped", "limit") else "error"
                changed.append(step)
        return changed


# Traces -> tree, timeline, totals ------------------------------------------------------------


def span_tree(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order spans depth first (turn, then each step by start, then its calls) and add `depth`."""
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for s in spans:
        parent = s.get("parent_id") if s.get("parent_id") in ids else None
        children.setdefault(parent, []).append(s)
    out: list[dict[str, Any]] = []

    def walk(parent: str | None, depth: int) -> None:
        for s in sorted(children.get(parent, []), key=lambda x: (x["start"], x["span_id"])):
            out.append({**s, "depth": depth})
            if s["span_id"] != parent:
                walk(s["span_id"], depth + 1)

    walk(None, 0)
    return out


def _span_name(s: dict[str, Any]) -> str:
    if s["kind"] == "turn":
        return f"turn: {s['name']}"
    if s["kind"] == "llm":
        return f"llm {s['name']}"
    if s["kind"] == "tool":
        return f"tool {s['name']}"
    return f"{s['agent']}: {s['name']}"


def trace_rows(turn: dict[str, Any], spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per span, tree-ordered, with offsets from the turn's start (the Traces table)."""
    t0 = turn["started"]
    rows = []
    for s in span_tree(spans):
        end = s.get("end") or s["start"]
        rows.append({
            "span": "    " * s["depth"] + _span_name(s),
            "kind": s["kind"], "agent": s["agent"],
            "start_s": round(s["start"] - t0, 3), "duration_ms": round((end - s["start"]) * 1000, 1),
            "tokens_in": s["tokens_in"], "tokens_out": s["tokens_out"], "cost_usd": round(s["cost"], 6),
            "status": s["status"], "error": s["error"], "depth": s["depth"],
            "span_id": s["span_id"], "parent_id": s.get("parent_id") or "",
        })
    return rows


def timeline_rows(turn: dict[str, Any], spans: list[dict[str, Any]], min_width: float = 0.004) -> list[dict[str, Any]]:
    """Bars for a Gantt chart: one row per span, so spans that overlap in time sit side by side.

    `min_width` (a fraction of the turn's length) keeps instant calls visible as thin bars.
    """
    rows = trace_rows(turn, spans)
    t_end = max([r["start_s"] + r["duration_ms"] / 1000 for r in rows] + [0.001])
    out = []
    for i, r in enumerate(rows):
        end = r["start_s"] + r["duration_ms"] / 1000
        label = f"{i + 1:>2}. " + r["span"].strip()
        out.append({
            "row": label[:70] + ("…" if len(label) > 70 else ""), "order": i,
            "start_s": r["start_s"], "end_s": max(end, r["start_s"] + t_end * min_width),
            "agent": r["agent"], "kind": r["kind"], "duration_ms": r["duration_ms"],
            "tokens_in": r["tokens_in"], "tokens_out": r["tokens_out"], "status": r["status"], "error": r["error"],
        })
    return out


def money(usd: float) -> str:
    """An estimated cost as a person reads it: $0, $0.0042, $1.25."""
    return "$0" if not usd else (f"${usd:.4f}" if usd < 0.01 else f"${usd:.2f}")


def trace_totals(turn: dict[str, Any], spans: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-turn totals: wall time, tokens, estimated cost, and how many steps and calls ran."""
    ended = turn.get("ended")
    last = max([s.get("end") or s["start"] for s in spans] + [turn["started"]])
    by_kind = {k: sum(1 for s in spans if s["kind"] == k) for k in ("step", "llm", "tool")}
    return {
        "duration_s": round((ended or last) - turn["started"], 3),
        "tokens_in": sum(s["tokens_in"] for s in spans if s["kind"] == "llm"),
        "tokens_out": sum(s["tokens_out"] for s in spans if s["kind"] == "llm"),
        "cost_usd": round(sum(s["cost"] for s in spans if s["kind"] == "llm"), 6),
        "steps": by_kind["step"], "llm_calls": by_kind["llm"], "tool_calls": by_kind["tool"],
        "errors": sum(1 for s in spans if s["status"] == "error"),
        "status": turn.get("status", ""),
    }


def trace_document(turn: dict[str, Any], spans: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON a person downloads (and `crew traces --json` prints) for one turn."""
    return {"turn": turn, "totals": trace_totals(turn, spans), "spans": trace_rows(turn, spans),
            "attrs": {s["span_id"]: s.get("attrs", {}) for s in spans}}
