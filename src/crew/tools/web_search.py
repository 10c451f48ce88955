"""Search the web with ddgs, retrying once on a rate limit, and never failing the turn."""

from __future__ import annotations

import hashlib
from typing import Callable

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from crew.memory import Hit
from crew.tools import ToolResult

SearchFn = Callable[[str, int], list[dict]]


def ddgs_search(timeout: float) -> SearchFn:
    """Return a search function over ddgs' text search (imported lazily: it is slow to import)."""

    def search(query: str, max_results: int) -> list[dict]:
        from ddgs import DDGS

        return DDGS(timeout=timeout).text(query, max_results=max_results) or []

    return search


def _retrying(search: SearchFn) -> SearchFn:
    from ddgs.exceptions import DDGSException, RatelimitException

    # Only a rate limit is worth waiting for; offline, ddgs fails at once and would fail again.
    @retry(
        retry=retry_if_exception_type(RatelimitException),
        stop=stop_after_attempt(2),
        wait=wait_exponential(multiplier=1, max=4),
        reraise=True,
    )
    def run(query: str, max_results: int) -> list[dict]:
        return search(query, max_results)

    return run


def web_search(search: SearchFn, query: str, max_results: int = 5) -> ToolResult:
    from ddgs.exceptions import DDGSException

    try:
        rows = _retrying(search)(query, max_results)
    except DDGSException as exc:
        return ToolResult(False, f"web search unavailable ({type(exc).__name__}: {str(exc)[:160]}); continue with memory")
    except Exception as exc:  # any transport failure is the same news to the agent
        return ToolResult(False, f"web search unavailable ({type(exc).__name__}); continue with memory")
    hits = []
    for i, row in enumerate(rows):
        url = str(row.get("href") or row.get("url") or "")
        body = str(row.get("body") or "").strip()
        if not url or not body:
            continue
        hits.append(
            Hit(text=body, source=str(row.get("title") or url), page=0, url=url, score=1.0 - i * 0.01,
                chunk_id="web-" + hashlib.sha256(url.encode()).hexdigest()[:16], doc_id="web-" + hashlib.sha256(url.encode()).hexdigest()[:16],
                position=0, kind="findings")
        )
    if not hits:
        return ToolResult(True, "the web search found nothing")
    return ToolResult(True, f"{len(hits)} web results: " + "; ".join(h.url for h in hits), hits)
