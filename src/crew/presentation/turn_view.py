"""Shape what the pages show of a turn, without Streamlit: step titles, how far the answer can be
trusted, the answer as Markdown. The folding itself is crew.engine.reducer's, shared with the CLI
and the trace writer.

Text from outside reaches the pages as `crew.presentation.safe_text.Md` (step titles here are built with
`md`), so nothing a model, a document or a provider wrote becomes a link, an image or markup.
"""

from __future__ import annotations

from typing import Any, ClassVar

from crew.engine.reducer import Step, TurnFold
from crew.presentation.safe_text import Md, md, plain, safe_url
from crew.roles import icons, title_of
from crew.engine.state import source_label

# Each actor's Material Symbol, from the roles table (crew.roles).
AGENT_ICONS = icons()


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


class StepView(Step):
    """One agent action as the person sees it: its title and its status box's state."""

    @property
    def title(self) -> Md:
        """The step's label for st.status: an icon, who, what, and how it ended (labels shown literally)."""
        icon = Md(AGENT_ICONS.get(self.agent, ":material/circle:"))
        who = title_of(self.agent)
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


class TurnView(TurnFold):
    """A turn folded from its events (crew.engine.reducer), with what the page says about it."""

    step_type: ClassVar[type[Step]] = StepView

    @property
    def grounding(self) -> str:
        """One line on how far the answer can be trusted, or "" when there is nothing to say."""
        if self.answer_kind == "written" and self.sentences and not self.unsupported:
            n = len(self.sentences)
            return f"Each of the answer's {n} sentence{'s' * (n != 1)} is backed by the passage it cites."
        if self.answer_kind == "extractive":
            return "Quoted word for word from the cited passages."
        return ""
