"""Researcher: gather evidence for one sub-question from memory, then the web or MCP tools if it chooses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, create_model

from crew.engine.agents.prompts import DATA_RULE, evidence_block, json_rule, system
from crew.grounding.names import unmentioned
from crew.models.language import NAMES, detect
from crew.retrieval.fusion import same_language
from crew.retrieval.memory import LANGUAGE_SAMPLE, Chunk, Hit
from crew.retrieval.stemming import language_of
from crew.engine.runtime import CallFailed, TurnContext
from crew.engine.state import Evidence, ResearchTask
from crew.engine.tools import ToolResult
from crew.engine.tools.search_memory import merged, search_memory

if TYPE_CHECKING:
    from crew.engine.tools.mcp import McpTool
    from crew.engine.tools.mcp_toolbox import McpToolbox


class ResearchAction(BaseModel):
    """The researcher's next move."""

    action: Literal["web_search", "fetch_page", "done"]
    argument: str = Field("", json_schema_extra={"maxLength": 200})


@lru_cache(maxsize=64)
def action_schema(names: tuple[str, ...]) -> type[ResearchAction]:
    """The researcher's reply schema when it may also call these tools: the action is one of them,
    so a constrained decoder can only name an allowed tool (same class name, so the fake model
    and the roles table still know it)."""
    if not names:
        return ResearchAction
    return create_model("ResearchAction", __base__=ResearchAction,
                        action=(Literal[(*names, "done")], ...))  # type: ignore[valid-type]


@dataclass(frozen=True)
class WebTools:
    """The researcher's outside tools; None where the settings turn one off, and the workspace's MCP servers."""

    web_search: Callable[[str], ToolResult] | None
    fetch_page: Callable[[str], ToolResult] | None
    mcp: "McpToolbox | None" = None

    def allowed(self) -> list[str]:
        return [name for name in ("web_search", "fetch_page") if getattr(self, name)]


class Translation(BaseModel):
    """The question in the documents' language ("" for none: the fake model's answer)."""

    text: str = Field("", json_schema_extra={"maxLength": 300})


# Its own system message: every other role is told to write in the question's language (prompts.language_rule).
TRANSLATE = (
    "Translate the question into {language}, the way a person would ask it in {language}. Keep names, commands, "
    "file names, options and code exactly as they are. Reply with the translation only."
)

SYSTEM = (
    "You are a researcher. Decide the next action to answer the question. Actions: {actions}. "
    "Say done when the sources answer the question. " + DATA_RULE
)
DESCRIPTIONS = {
    "web_search": "web_search (argument: a search query)",
    "fetch_page": "fetch_page (argument: a URL from the evidence)",
}


def evidence_of(hits: list[Hit], question: int, start: int = 0) -> list[Evidence]:
    """A search's hits as the evidence of the research question numbered `question`, ranked from `start`."""
    return [
        Evidence(text=h.text, source=h.source, page=h.page, place=h.place, url=h.url, chunk_id=h.chunk_id, kind=h.kind,
                 score=h.score, similarity=h.similarity, question=question, rank=start + i)
        for i, h in enumerate(hits)
    ]


def _remember(ctx: TurnContext, hits: list[Hit]) -> None:
    """Keep web and tool findings in the workspace's memory so later turns can find them without the web."""
    chunks = [Chunk(text=h.text, source=h.source, doc_id=h.doc_id, position=h.position, url=h.url) for h in hits]
    if chunks:
        ctx.memory.add("findings", chunks)


def _mcp_tools(ctx: TurnContext, step, tools: WebTools) -> "dict[str, McpTool]":
    """The MCP tools this researcher may call, by name; a server that does not answer is a failed call in the step."""
    if tools.mcp is None:
        return {}
    listed, down = tools.mcp.listing(ctx.budget.check)  # Stop ends the wait for a slow server
    for server, error in down:
        step.unavailable(f"MCP server {server}", f"MCP server {server} is unavailable, its tools are left out: {error}")
    return {t.qualified: t for t in listed}


_WORDS = re.compile(r"[^\W\d_]{2,}")  # words of letters


def usable_translation(question: str, text: str, language: str) -> str | None:
    """The model's translation of a question when it is one: in `language` (a code of crew.retrieval.stemming) and
    naming every name the question names (crew.grounding.names), else None. A model that cannot translate answers
    the question or copies it instead: none of the embedded one's replies to the labelled cross-language questions
    pass (searched as they were, they cost a fifth of the pages found); the hand translations all pass."""
    text = " ".join(text.split())
    if not text or text.casefold() == question.casefold() or len(_WORDS.findall(text)) < len(_WORDS.findall(question)) / 2:
        return None  # a copy, or a date or a code where a question was ("2018-04-30T:57:29.600Z")
    return None if language_of(text) != language or unmentioned(question, [text]) else text


def translation_target(question: str, hits: list[Hit]) -> str | None:
    """The language (a code of crew.retrieval.stemming) to search a question in again: that of the first passages
    it found, when it is not the question's; None when they agree."""
    passages = [h.text for h in hits[:LANGUAGE_SAMPLE]]
    return None if same_language(question, passages) else language_of(" ".join(passages))


def _in_documents_language(ctx: TurnContext, step, model: BaseChatModel, question: str, hits: list[Hit],
                           k: int) -> list[Hit]:
    """The hits of a question asked in another language than the passages it found, merged with those of the
    question translated into theirs by the model (the search's vectors and keywords both do better within one
    language); the hits as they were when the languages agree or the model gives no translation."""
    target = translation_target(question, hits)
    if target is None:
        return hits
    instructions = SystemMessage(content=f"{TRANSLATE.format(language=NAMES[target])} {json_rule(Translation)}")
    reply = step.structured(model, Translation, [instructions, HumanMessage(content=f"Question: {question}")])
    text = usable_translation(question, reply.text if isinstance(reply, Translation) else "", target)
    if text is None:
        return hits
    again = step.tool("search_memory", {"query": text, "translated_from": question},
                      lambda: search_memory(ctx.memory, text, k=k))
    return merged(hits, again.hits or [], k)


def research(ctx: TurnContext, model: BaseChatModel, tools: WebTools, task: ResearchTask, k: int, max_actions: int,
             translate: bool = False) -> dict:
    """`translate`: a question in another language than its passages is searched again in theirs
    (`_in_documents_language`), with a model that can translate."""
    found: list[Evidence] = []
    label = f"Q{task['index'] + 1}: {task['question']}"
    with ctx.step("researcher", "research", label) as step:
        result = step.tool("search_memory", {"query": task["question"]},
                           lambda: search_memory(ctx.memory, task["question"], k=k))
        hits = result.hits or []
        if translate and hits:
            hits = _in_documents_language(ctx, step, model, task["question"], hits, k)
        found += evidence_of(hits, task["index"])
        mcp = _mcp_tools(ctx, step, tools) if max_actions else {}
        allowed = tools.allowed() + list(mcp)
        schema = action_schema(tuple(mcp) and tuple(allowed))
        described = [DESCRIPTIONS[a] if a in DESCRIPTIONS else tools.mcp.hint(mcp[a]) for a in allowed]
        # The goal's language, as the coordinator detected it from the same goal: queries in it.
        language = detect(task["goal"]) if allowed else None
        for _ in range(max_actions if allowed else 0):
            prompt = [
                system(SYSTEM.format(actions="; ".join(described + ["done"])), language, schema),
                HumanMessage(content=f"Question: {task['question']}\n\nSources so far:\n{evidence_block(found, 300)}\n\nNext action?"),
            ]
            action = step.structured(model, schema, prompt)
            if action is None or action.action == "done" or action.action not in allowed:
                break  # an action outside the allow-list is ignored, never run
            argument = action.argument.strip()
            if action.action in mcp:
                tool = mcp[action.action]
                if not any(c.isalnum() for c in argument) and tools.mcp.takes_text(tool):
                    argument = task["question"]  # a tiny model's "{{": ask with the question itself
                try:
                    # The turn's check goes in: Stop or its clock abandons a call in flight (the gate reports it).
                    result = step.tool(action.action, {"argument": argument},
                                       lambda: tools.mcp.call(tool, argument, ctx.budget.check),
                                       part=f"MCP server {tool.server}")
                except CallFailed:
                    continue  # the failed call is in the step; the turn goes on without that server's answer
            elif not argument:
                break
            else:
                web = getattr(tools, action.action)
                result = step.tool(action.action, {"argument": argument}, lambda: web(argument))
            if result.hits:
                _remember(ctx, result.hits)
                found += evidence_of(result.hits, task["index"], len(found))
        step.emit("findings", f"{len(found)} passages", count=len(found),
                  sources=[e["url"] or e["source"] for e in found])
    return {"findings": found}
