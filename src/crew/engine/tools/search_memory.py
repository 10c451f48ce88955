"""Search the workspace's memory: uploaded documents and earlier findings."""

from __future__ import annotations

from crew.retrieval.memory import WorkspaceMemory
from crew.engine.tools import ToolResult


def search_memory(memory: WorkspaceMemory, query: str, k: int = 4) -> ToolResult:
    # Crew.run_turn checked the vectors as the turn began
    hits = memory.whole_sentences(memory.search(query, k=k, checked=True))
    if not hits:
        return ToolResult(True, "memory holds nothing on this yet")
    return ToolResult(True, f"{len(hits)} passages from memory: " + "; ".join(h.cite() for h in hits), hits)
