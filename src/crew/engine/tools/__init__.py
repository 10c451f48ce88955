"""Tools the researcher may call: search_memory, web_search, fetch_page.

Each takes only what the model chooses (a query, a URL); infrastructure (the workspace's memory,
HTTP limits) is bound when the toolbox is built, so a model can never name another workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crew.retrieval.memory import Hit


@dataclass
class ToolResult:
    """What a tool returns to the agent: a short text it reads and the evidence it found."""

    ok: bool
    text: str
    hits: list[Hit] = field(default_factory=list)
