"""Shape what the pages show, without Streamlit: turn events into steps, spans into a tree and a
timeline, an answer into Markdown. Pure functions, so the pages stay thin and these stay tested.

Text from outside reaches the pages as `crew.presentation.safe_text.Md` (step titles here are built with
`md`), so nothing a model, a document or a provider wrote becomes a link, an image or markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from crew.engine.events import Event
from crew.presentation.safe_text import Md, md, plain, safe_url
from crew.roles import icons
from crew.engine.state import source_label

# Each actor's Material Symbol, from the roles table (crew.roles).
AGENT_ICONS = icons()
FINISHED = ("done", "limit", "error", "stopped", "awaiting_review")


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
