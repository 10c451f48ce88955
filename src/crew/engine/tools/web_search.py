"""Search the web with ddgs, retrying once on a rate limit, and never failing the turn."""

from __future__ import annotations

import hashlib
from typing import Callable
from urllib.parse import urlsplit

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from crew.retrieval.memory import Hit
from crew.redact import redact
from crew.engine.tools import ToolResult

SearchFn = Callable[[str, int], list[dict]]


def ddgs_search(timeout: float) -> SearchFn:
    """Return a search function over ddgs' text search (imported lazily: it is slow to import)."""

    def search(query: str, max_results: int) -> list[dict]:
        from ddgs import DDGS

        return DDGS(timeout=timeout).text(query, max_results=max_results) or []

    return search


def _retrying(search: SearchFn, wait_s: float) -> SearchFn:
    from ddgs.exceptions import RatelimitException

    # Only a rate limit is worth waiting for; offline, ddgs fails at once and would fail again.
    @retry(
        retry=retry_if_exception_type(RatelimitException),
        stop=stop_after_attempt(2),
        wait=wait_exponential(multiplier=wait_s, max=4 * wait_s),
        reraise=True,
    )
    def run(query: str, max_results: int) -> list[dict]:
        return search(query, max_results)

    return run


def _web_url(url: str) -> bool:
    try:
        return urlsplit(url).scheme in ("http", "https") and not any(c.isspace() for c in url)
    except ValueError:
        return False


def web_search(search: SearchFn, query: str, max_results: int = 5, wait_s: float = 1.0) -> ToolResult:
    """Search once (twice after a rate limit) and return the results as findings; never raise."""
    from ddgs.exceptions import DDGSException

    try:
        rows = list(_retrying(search, wait_s)(query, max_results) or [])
    except DDGSException as exc:
        return ToolResult(False, redact(f"web search unavailable ({type(exc).__name__}: {str(exc)[:160]}); continue with memory"))
    except Exception as exc:  # any transport failure is the same news to the agent
        return ToolResult(False, f"web search unavailable ({type(exc).__name__}); continue with memory")
    hits = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        url = str(row.get("href") or row.get("url") or "").strip()
        body = str(row.get("body") or "").strip()
        # A result is shown as a link and may be fetched next: only plain web addresses are kept
        # (no javascript:, data: or file: links from a hostile result page).
        if not body or not _web_url(url):
            continue
        hits.append(
            Hit(text=body[:2000], source=" ".join(str(row.get("title") or url).split())[:200], page=0, url=url, score=1.0 - i * 0.01,
                chunk_id="web-" + hashlib.sha256(url.encode()).hexdigest()[:16], doc_id="web-" + hashlib.sha256(url.encode()).hexdigest()[:16],
                position=0, kind="findings")
        )
    if not hits:
        return ToolResult(True, "the web search found nothing")
    return ToolResult(True, f"{len(hits)} web results: " + "; ".join(h.url for h in hits), hits)
