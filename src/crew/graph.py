"""Wire the crew as a LangGraph graph: coordinator -> researchers (in parallel) -> writer <-> critic.

Routing is pure functions over the state; nodes get their models, tools and limits from
`build_graph`, and the turn's workspace, budget and event sink from the runtime context.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Literal

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from crew.agents.coordinator import coordinate
from crew.agents.critic import review
from crew.agents.researcher import WebTools, research
from crew.agents.writer import cite, write
from crew.events import Event
from crew.limits import LimitReached
from crew.runtime import TurnContext
from crew.settings import Role, Settings
from crew.state import CrewState, ResearchTask, numbered_evidence


def stopped(state: CrewState) -> bool:
    return bool(state.get("limit_hit") or state.get("error"))


def route_plan(state: CrewState) -> list[Send] | Literal["finish"]:
    """Send each sub-question to its own researcher; they run concurrently."""
    if stopped(state):
        return "finish"
    return [Send("researcher", ResearchTask(goal=state["goal"], question=q, index=i)) for i, q in enumerate(state["plan"])]


def route_after_research(state: CrewState) -> Literal["writer", "finish"]:
    return "finish" if stopped(state) else "writer"


def route_after_writer(state: CrewState) -> Literal["critic", "finish"]:
    return "finish" if stopped(state) else "critic"


def route_after_critic(state: CrewState, max_revisions: int) -> Literal["writer", "finish"]:
    """Revise while the critic asks and rounds remain; otherwise finish with the last draft."""
    if stopped(state) or not state.get("verdicts"):
        return "finish"
    if state["verdicts"][-1]["decision"] == "revise" and len(state.get("drafts", [])) <= max_revisions:
        return "writer"
    return "finish"


def finish(state: CrewState, max_revisions: int) -> dict:
    """Settle the answer: the last draft, its citations, and the limit that ended the turn, if any."""
    evidence = numbered_evidence(state.get("findings", []))
    drafts = state.get("drafts", [])
    update: dict[str, Any] = {}
    verdicts = state.get("verdicts", [])
    if not stopped(state) and verdicts and verdicts[-1]["decision"] == "revise" and len(drafts) > max_revisions:
        update["limit_hit"] = "max_revisions"
    if drafts:
        answer, citations = cite(drafts[-1], evidence)
    else:
        answer, citations = "", []
    update.update(answer=answer, citations=citations)
    return update


def guarded(agent: str, node: Callable[..., dict]) -> Callable[[Any, Runtime[TurnContext]], dict]:
    """Turn a limit or a failure inside a node into state, so the turn always ends cleanly."""

    def run(state: Any, runtime: Runtime[TurnContext]) -> dict:
        ctx = runtime.context
        try:
            return node(state, ctx)
        except LimitReached as exc:
            ctx.emit(Event(kind="limit_hit", turn_id=ctx.turn_id, agent=agent, text=exc.detail, data={"limit": exc.limit}))
            return {"limit_hit": exc.limit}
        except Exception as exc:  # a model or tool failure ends the turn with what was done so far
            message = f"{agent} failed: {type(exc).__name__}: {str(exc)[:300]}"
            ctx.emit(Event(kind="error", turn_id=ctx.turn_id, agent=agent, text=message, data={"part": agent}))
            return {"error": message}

    run.__name__ = agent
    return run


def build_graph(
    settings: Settings,
    models: dict[Role, BaseChatModel],
    tools: WebTools,
    checkpointer: Any = None,
):
    """Compile the crew graph; memory arrives per turn in the runtime context."""

    def coordinator_node(state: CrewState, ctx: TurnContext) -> dict:
        return coordinate(ctx, models["coordinator"], state["goal"])

    def researcher_node(task: ResearchTask, ctx: TurnContext) -> dict:
        return research(ctx, models["researcher"], tools, task, k=settings.top_k, max_actions=settings.research_steps)

    def writer_node(state: CrewState, ctx: TurnContext) -> dict:
        drafts, verdicts = state.get("drafts", []), state.get("verdicts", [])
        previous = drafts[-1] if drafts and verdicts else None
        return write(ctx, models["writer"], state["goal"], numbered_evidence(state.get("findings", [])),
                     previous, verdicts[-1] if previous is not None else None)

    def critic_node(state: CrewState, ctx: TurnContext) -> dict:
        return review(ctx, models["critic"], state["goal"], numbered_evidence(state.get("findings", [])), state["drafts"][-1])

    graph = StateGraph(CrewState, context_schema=TurnContext)
    graph.add_node("coordinator", guarded("coordinator", coordinator_node))
    graph.add_node("researcher", guarded("researcher", researcher_node))
    graph.add_node("writer", guarded("writer", writer_node))
    graph.add_node("critic", guarded("critic", critic_node))
    graph.add_node("finish", partial(finish, max_revisions=settings.max_revisions))
    graph.add_edge(START, "coordinator")
    graph.add_conditional_edges("coordinator", route_plan, ["researcher", "finish"])
    graph.add_conditional_edges("researcher", route_after_research, ["writer", "finish"])
    graph.add_conditional_edges("writer", route_after_writer, ["critic", "finish"])
    graph.add_conditional_edges("critic", partial(route_after_critic, max_revisions=settings.max_revisions), ["writer", "finish"])
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer)
