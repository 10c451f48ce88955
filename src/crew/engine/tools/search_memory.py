"""Search the workspace's memory: uploaded documents and earlier findings."""

from __future__ import annotations

from crew.retrieval.fusion import merge_searches
from crew.retrieval.memory import Hit, WorkspaceMemory, place_of
from crew.engine.tools import ToolResult


def search_memory(memory: WorkspaceMemory, query: str, k: int = 4) -> ToolResult:
    # Crew.run_turn checked the vectors as the turn began
    hits = memory.whole_sentences(memory.search(query, k=k, checked=True))
    if not hits:
        return ToolResult(True, "memory holds nothing on this yet")
    return ToolResult(True, f"{len(hits)} passages from memory: " + "; ".join(h.cite() for h in hits), hits)


def merged(first: list[Hit], translated: list[Hit], k: int) -> list[Hit]:
    """The passages of a question's search and of its translation's, as one list of k (fusion.merge_searches)."""
    return merge_searches(first, translated, lambda h: (h.kind, h.chunk_id), place_of, k)
