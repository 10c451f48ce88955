"""Fetch one web page as text: guarded addresses, redirects checked hop by hop, size and time caps."""

from __future__ import annotations

import hashlib
from urllib.parse import urljoin

import httpx
from bs4 import BeautifulSoup

from crew.memory import Hit
from crew.tools import ToolResult
from crew.tools.address_guard import BlockedURL, Resolver, check_url, system_resolver

MAX_REDIRECTS = 5


def html_to_text(html: str) -> tuple[str, str]:
    """Return (title, visible text) with scripts, styles and navigation dropped."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return title, "\n".join(line for line in lines if line)


def fetch_page(
    url: str,
    *,
    max_bytes: int = 2_000_000,
    timeout: float = 10.0,
    resolve: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
    max_chars: int = 4000,
) -> ToolResult:
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, transport=transport) as client:
            for _ in range(MAX_REDIRECTS + 1):
                check_url(url, resolve)
                with client.stream("GET", url, headers={"User-Agent": "Crew/0.1 (research assistant)"}) as resp:
                    if resp.is_redirect and "location" in resp.headers:
                        url = urljoin(url, resp.headers["location"])
                        continue
                    resp.raise_for_status()
                    body = bytearray()
                    for piece in resp.iter_bytes():
                        body.extend(piece)
                        if len(body) > max_bytes:
                            return ToolResult(False, f"page larger than {max_bytes} bytes, not read")
                    ctype = resp.headers.get("content-type", "")
                    text = body.decode(resp.encoding or "utf-8", errors="replace")
                    break
            else:
                return ToolResult(False, f"more than {MAX_REDIRECTS} redirects")
    except BlockedURL as exc:
        return ToolResult(False, f"refused: {exc}")
    except httpx.HTTPError as exc:
        return ToolResult(False, f"could not fetch the page ({type(exc).__name__}: {str(exc)[:160]})")
    if "html" in ctype:
        title, text = html_to_text(text)
    elif ctype.startswith("text/") or not ctype:
        title = url
    else:
        return ToolResult(False, f"not a text page ({ctype})")
    text = text.strip()[:max_chars]
    if not text:
        return ToolResult(False, "the page has no readable text")
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    hit = Hit(text=text, source=title or url, page=0, url=url, score=1.0, chunk_id=f"page-{key}",
              doc_id=f"page-{key}", position=0, kind="findings")
    return ToolResult(True, f"read {len(text)} characters from {url}", [hit])
