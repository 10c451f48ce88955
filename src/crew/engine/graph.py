"""Wire the crew as a LangGraph graph: coordinator -> researchers (in parallel) -> writer <-> critic.

When a chat asks for it, the run pauses after the plan (a LangGraph interrupt, saved by the
checkpointer) until the person approves or edits the sub-questions.

The graph is compiled once per process. Everything that differs from turn to turn (the models of
each role, the tools, the limits and knobs, the workspace's memory, the event sink) arrives in
LangGraph's runtime context (`TurnContext`). Routing is pure functions over the state and those knobs.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send, interrupt

from crew.engine.agents.coordinator import clean_plan, coordinate
from crew.engine.agents.critic import review, review_by_support
from crew.engine.agents.researcher import research
from crew.engine.agents.writer import cited_numbers, write
from crew.engine.events import Event
from crew.grounding.settle import Thresholds, language_note, relevant, settle, similarity_of
from crew.engine.limits import LimitReached
from crew.engine.runtime import TurnContext, describe
from crew.engine.state import Citation, CrewState, Evidence, ResearchTask, numbered_evidence
from crew.grounding.support import check


def stopped(state: CrewState) -> bool:
    return bool(state.get("limit_hit") or state.get("error"))


def route_plan(state: CrewState) -> list[Send] | Literal["finish"]:
    """Send each sub-question to its own researcher; they run concurrently."""
    if stopped(state):
        return "finish"
    return [Send("researcher", ResearchTask(goal=state["goal"], question=q, index=i)) for i, q in enumerate(state["plan"])]


def route_after_research(state: CrewState, grounded: Thresholds | None = None) -> Literal["writer", "finish"]:
    """Write unless the turn is over, or (grounded) no passage found is relevant to the goal."""
    if stopped(state):
        return "finish"
    if grounded is not None and not relevant(state["goal"], numbered_evidence(state.get("findings", [])), grounded):
        return "finish"  # nothing to write from: finish says the documents do not answer it
    return "writer"


def route_after_writer(state: CrewState) -> Literal["critic", "finish"]:
    return "finish" if stopped(state) else "critic"


def route_after_critic(state: CrewState, max_revisions: int) -> Literal["writer", "finish"]:
    """Revise while the critic asks and rounds remain; otherwise finish with the last draft."""
    if stopped(state) or not state.get("verdicts"):
        return "finish"
    if state["verdicts"][-1]["decision"] == "revise" and len(state.get("drafts", [])) <= max_revisions:
        return "writer"
    return "finish"


def citations_for(numbers: list[int], evidence: list[Evidence]) -> list[Citation]:
    return [
        Citation(n=n, source=evidence[n - 1]["source"], page=evidence[n - 1]["page"],
                 place=evidence[n - 1].get("place", ""), url=evidence[n - 1]["url"],
                 chunk_id=evidence[n - 1]["chunk_id"], text=evidence[n - 1]["text"])
        for n in numbers if 1 <= n <= len(evidence)
    ]


def finish(state: CrewState, runtime: Runtime[TurnContext] | None = None, max_revisions: int = 2,
           grounded: Thresholds | None = None, support_threshold: float = Thresholds().support) -> dict:
    """Settle the answer and the limit that ended the turn, if any.

    Grounded: only what the evidence supports (see crew.grounding); else the last draft as written.
    """
    evidence = numbered_evidence(state.get("findings", []))
    drafts = state.get("drafts", [])
    update: dict[str, Any] = {}
    verdicts = state.get("verdicts", [])
    if not stopped(state) and verdicts and verdicts[-1]["decision"] == "revise" and len(drafts) > max_revisions:
        update["limit_hit"] = "max_revisions"
    if grounded is not None and (drafts or not stopped(state)):
        similarity = similarity_of(runtime.context.memory.memory.embedder) if runtime is not None else None
        settled = settle(state["goal"], evidence, drafts, state.get("language"), grounded, similarity)
        update.update(answer=settled.answer, citations=citations_for(settled.cited, evidence),
                      sentences=settled.sentences, answer_kind=settled.kind, notes=settled.notes)
        translated = runtime is not None and runtime.context.policy.translate
        if not translated and (note := language_note(state.get("language"), evidence)):
            update["notes"] = [*settled.notes, note]
    elif drafts:
        # Free generation keeps the draft as written; its sentences are still checked, so the
        # page can mark what no source supports and the eval can compare both ways.
        # The writer already cited its draft (crew.agents.writer.cite): only its citations are listed.
        answer = drafts[-1]
        report = check(answer, [e["text"] for e in evidence], support_threshold)
        update.update(answer=answer, citations=citations_for(cited_numbers(answer, len(evidence)), evidence),
                      answer_kind="written",
                      sentences=[s.to_json() for s in report.sentences])
    else:
        update.update(answer="", citations=[])
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
            # describe() redacts secrets; `part` names what failed (model, memory...) when known.
            message = f"{agent} failed: {describe(exc)}"
            ctx.emit(Event(kind="error", turn_id=ctx.turn_id, agent=agent, text=message,
                           data={"part": getattr(exc, "part", agent)}))
            return {"error": message}

    run.__name__ = agent
    return run


def plan_review(state: CrewState, runtime: Runtime[TurnContext]) -> dict:
    """Pause for the person to approve or edit the plan, when the turn asked for a review.

    `interrupt` saves the run here; resuming with Command(resume={"subquestions": [...]}) runs
    this node again and `interrupt` returns the person's reply. It stays outside `guarded`, which
    would otherwise catch the interrupt as a failure.
    """
    if stopped(state) or not state.get("review_plan"):
        return {}
    reply = interrupt({"subquestions": state["plan"]})
    return guarded("person", partial(_apply_review, reply))(state, runtime)


def _apply_review(reply: Any, state: CrewState, ctx: TurnContext) -> dict:
    asked = reply.get("subquestions", []) if isinstance(reply, dict) else list(reply or [])
    questions = clean_plan([str(q) for q in asked], state["goal"])
    with ctx.step("person", "review", "Reviewed the plan") as step:
        step.emit("plan", "\n".join(questions), subquestions=questions, edited=questions != state["plan"])
    return {"plan": questions}


def _coordinator(state: CrewState, ctx: TurnContext) -> dict:
    return coordinate(ctx, ctx.models["coordinator"], state["goal"])


def _researcher(task: ResearchTask, ctx: TurnContext) -> dict:
    return research(ctx, ctx.models["researcher"], ctx.tools, task, k=ctx.policy.top_k,
                    max_actions=ctx.policy.research_steps, translate=ctx.policy.translate)


def _writer(state: CrewState, ctx: TurnContext) -> dict:
    drafts, verdicts = state.get("drafts", []), state.get("verdicts", [])
    previous = drafts[-1] if drafts and verdicts else None
    grounded = ctx.policy.grounded
    return write(ctx, ctx.models["writer"], state["goal"], numbered_evidence(state.get("findings", [])),
                 previous, verdicts[-1] if previous is not None else None, state.get("language"),
                 support_threshold=grounded.support if grounded else None)


def _critic(state: CrewState, ctx: TurnContext) -> dict:
    evidence = numbered_evidence(state.get("findings", []))
    grounded = ctx.policy.grounded
    if grounded is not None:
        # The support check is the first critic: a draft with sentences no source backs goes
        # back with those sentences named, without spending a model call on it.
        report = check(state["drafts"][-1], [e["text"] for e in evidence], grounded.support)
        if report.unsupported:
            return review_by_support(ctx, report)
    return review(ctx, ctx.models["critic"], state["goal"], evidence, state["drafts"][-1], state.get("language"))


def _finish(state: CrewState, runtime: Runtime[TurnContext]) -> dict:
    policy = runtime.context.policy
    return finish(state, runtime, max_revisions=policy.max_revisions, grounded=policy.grounded,
                  support_threshold=policy.support_threshold)


def build_graph(checkpointer: Any = None):
    """Compile the crew graph once: models, tools, limits and memory arrive per turn in the runtime context."""
    graph = StateGraph(CrewState, context_schema=TurnContext)
    graph.add_node("coordinator", guarded("coordinator", _coordinator))
    graph.add_node("plan_review", plan_review)
    graph.add_node("researcher", guarded("researcher", _researcher))
    graph.add_node("writer", guarded("writer", _writer))
    graph.add_node("critic", guarded("critic", _critic))
    graph.add_node("finish", _finish)
    graph.add_edge(START, "coordinator")
    graph.add_edge("coordinator", "plan_review")
    graph.add_conditional_edges("plan_review", route_plan, ["researcher", "finish"])
    graph.add_conditional_edges(
        "researcher", lambda state, runtime: route_after_research(state, runtime.context.policy.grounded),
        ["writer", "finish"])
    graph.add_conditional_edges("writer", route_after_writer, ["critic", "finish"])
    graph.add_conditional_edges(
        "critic", lambda state, runtime: route_after_critic(state, runtime.context.policy.max_revisions),
        ["writer", "finish"])
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer)
