"""Name the crew's roles once: who each agent is, how the pages show it, which setting picks its model.

Settings (a `CREW_MODEL_<ROLE>` override per row), the chat's step icons, the Traces page's colours,
the fake model and the test fixtures all read this table. A new agent role is its module under
`crew/engine/agents/`, one row in `AGENTS`, its node in `crew/engine/graph.py` and its test.

Consumers derive what they need when they are imported (`crew.settings.ROLES`,
`crew.presentation.turn_view.AGENT_ICONS`), so this module imports nothing of the crew's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Someone who takes steps in a turn, as the pages show them."""

    name: str  # as events and traces carry it (Event.agent)
    title: str  # how the pages name it
    icon: str  # a Streamlit Material Symbol: labels look the same without an emoji font
    colour: str  # its bars in the Traces page's timeline


@dataclass(frozen=True)
class AgentRole(Actor):
    """An agent of the crew: a row of `AGENTS`."""

    job: str = ""  # one line: what it does
    module: str = ""  # its prompt, node function and output schema
    schema: str | None = None  # its structured reply's class in `module`; None: it writes free text

    @property
    def model_field(self) -> str:
        """The Settings field (and, upper-cased with CREW_, the variable) that overrides its model."""
        return f"model_{self.name}"

    def output_schema(self) -> type[Any] | None:
        """The pydantic class its model is asked for (imported on first use), or None for free text."""
        return getattr(import_module(self.module), self.schema) if self.schema else None


AGENTS: tuple[AgentRole, ...] = (
    AgentRole("coordinator", "Coordinator", ":material/explore:", "#3b5bdb",
              job="splits the goal into 1-4 research questions",
              module="crew.engine.agents.coordinator", schema="Plan"),
    AgentRole("researcher", "Researcher", ":material/travel_explore:", "#2f9e44",
              job="gathers passages for one question from memory, then the web",
              module="crew.engine.agents.researcher", schema="ResearchAction"),
    AgentRole("writer", "Writer", ":material/edit_note:", "#e8590c",
              job="drafts the answer from the numbered passages, citing each claim",
              module="crew.engine.agents.writer", schema=None),
    AgentRole("critic", "Critic", ":material/balance:", "#ae3ec9",
              job="checks the draft against the passages and approves it or asks for a revision",
              module="crew.engine.agents.critic", schema="Review"),
)

# Who else takes steps: the person (reviewing a plan) and the crew itself (a turn's own span).
OTHERS: tuple[Actor, ...] = (
    Actor("person", "You", ":material/person:", "#f59f00"),
    Actor("crew", "Crew", ":material/groups:", "#868e96"),
)


def actors() -> tuple[Actor, ...]:
    """Every actor the pages can show: the agents, then the person and the crew."""
    return AGENTS + OTHERS


def icons() -> dict[str, str]:
    return {a.name: a.icon for a in actors()}


def colours() -> dict[str, str]:
    return {a.name: a.colour for a in actors()}


def title_of(name: str) -> str:
    """How the pages name an actor; an unknown one (from an older trace) by its own name."""
    return next((a.title for a in actors() if a.name == name), name.capitalize())


def role_for_schema(schema: type[Any]) -> AgentRole | None:
    """The role whose structured reply is this class (or one made from it for a turn's tools), if any."""
    return next((r for r in AGENTS if r.schema == schema.__name__ and issubclass(schema, r.output_schema())), None)
