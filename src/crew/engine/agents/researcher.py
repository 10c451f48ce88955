"""Researcher: gather evidence for one sub-question from memory, then the web if it chooses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from crew.engine.agents.prompts import DATA_RULE, evidence_block, system
from crew.models.language import detect
from crew.retrieval.memory import Chunk, Hit
from crew.engine.runtime import TurnContext
from crew.engine.state import Evidence, ResearchTask
from crew.engine.tools import ToolResult
from crew.engine.tools.search_memory import search_memory


class ResearchAction(BaseModel):
    """The researcher's next move."""

    action: Literal["web_search", "fetch_page", "done"]
    argument: str = Field("", json_schema_extra={"maxLength": 200})


@dataclass(frozen=True)
class WebTools:
    """The researcher's outside tools; None where the settings turn one off."""

    web_search: Callable[[str], ToolResult] | None
    fetch_page: Callable[[str], ToolResult] | None

    def allowed(self) -> list[str]:
        return [name for name in ("web_search", "fetch_page") if getattr(self, name)]


SYSTEM = (
    "You are a researcher. Decide the next action to answer the question. Actions: {actions}. "
    "Say done when the sources answer the question. " + DATA_RULE
)
DESCRIPTIONS = {
    "web_search": "web_search (argument: a search query)",
    "fetch_page": "fetch_page (argument: a URL from the evidence)",
}


def _evidence(hits: list[Hit], question: int, start: int) -> list[Evidence]:
    return [
        Evidence(text=h.text, source=h.source, page=h.page, place=h.place, url=h.url, chunk_id=h.chunk_id, kind=h.kind,
                 score=h.score, similarity=h.similarity, question=question, rank=start + i)
        for i, h in enumerate(hits)
    ]


def _remember(ctx: TurnContext, hits: list[Hit]) -> None:
    """Keep web findings in the workspace's memory so later turns can find them without the web."""
    chunks = [Chunk(text=h.text, source=h.source, doc_id=h.doc_id, position=h.position, url=h.url) for h in hits]
    if chunks:
        ctx.memory.add("findings", chunks)


def research(ctx: TurnContext, model: BaseChatModel, tools: WebTools, task: ResearchTask, k: int, max_actions: int) -> dict:
    found: list[Evidence] = []
    label = f"Q{task['index'] + 1}: {task['question']}"
    with ctx.step("researcher", "research", label) as step:
        result = step.tool("search_memory", {"query": task["question"]},
                           lambda: search_memory(ctx.memory, task["question"], k=k))
        found += _evidence(result.hits, task["index"], 0)
        allowed = tools.allowed()
        # The goal's language, as the coordinator detected it from the same goal: queries in it.
        language = detect(task["goal"]) if allowed else None
        for _ in range(max_actions if allowed else 0):
            prompt = [
                system(SYSTEM.format(actions=", ".join([DESCRIPTIONS[a] for a in allowed] + ["done"])), language, ResearchAction),
                HumanMessage(content=f"Question: {task['question']}\n\nSources so far:\n{evidence_block(found, 300)}\n\nNext action?"),
            ]
            action = step.structured(model, ResearchAction, prompt)
            if action is None or action.action == "done" or action.action not in allowed or not action.argument.strip():
                break  # an action outside the allow-list is ignored, never run
            tool = getattr(tools, action.action)
            result = step.tool(action.action, {"argument": action.argument.strip()}, lambda: tool(action.argument.strip()))
            if result.hits:
                _remember(ctx, result.hits)
                found += _evidence(result.hits, task["index"], len(found))
        step.emit("findings", f"{len(found)} passages", count=len(found),
                  sources=[e["url"] or e["source"] for e in found])
    return {"findings": found}
