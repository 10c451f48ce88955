"""Fetch one web page as text: guarded and pinned addresses, redirects checked hop by hop, size and time caps.

Every failure, a refused address included, comes back as a ToolResult the agent reads; nothing
here raises into the turn.
"""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urljoin

import httpx
from bs4 import BeautifulSoup

from crew.retrieval.memory import Hit
from crew.redact import redact
from crew.engine.tools import ToolResult
from crew.engine.tools.address_guard import BlockedURL, Resolver, check_url, system_resolver

MAX_REDIRECTS = 5
USER_AGENT = "Crew/0.1 (research assistant)"


class PinnedTransport(httpx.BaseTransport):
    """Check each request's URL and connect to the very address the check approved.

    Resolving once to check and again to connect would let a DNS server answer a public address
    first and 127.0.0.1 second (DNS rebinding). Here the request goes to the checked IP; the
    original name stays in the Host header and, for https, in SNI and certificate checks.
    """

    def __init__(self, resolve: Resolver = system_resolver, inner: httpx.BaseTransport | None = None) -> None:
        self.resolve = resolve
        # No proxy: a proxy would resolve the name itself and undo the pinning.
        self.inner = inner or httpx.HTTPTransport(retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        addresses = check_url(str(request.url), self.resolve)
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = request.url.host
        for i, address in enumerate(addresses):  # all were checked; try the next if one is unreachable
            pinned = httpx.Request(
                request.method, request.url.copy_with(host=address), headers=request.headers,
                stream=request.stream, extensions=extensions,
            )
            try:
                return self.inner.handle_request(pinned)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if i == len(addresses) - 1:
                    raise
        raise BlockedURL("no address to connect to")  # check_url never returns an empty list

    def close(self) -> None:
        self.inner.close()


def html_to_text(html: str) -> tuple[str, str]:
    """Return (title, visible text) with scripts, styles and navigation dropped."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return title, "\n".join(line for line in lines if line)


class _TooSlow(Exception):
    pass


def _download(url: str, *, max_bytes: int, timeout: float, resolve: Resolver,
              transport: httpx.BaseTransport | None) -> tuple[str, str, str] | ToolResult:
    """Follow redirects by hand (each hop checked and pinned) and return (final url, content type, text)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(transport=PinnedTransport(resolve, transport), follow_redirects=False, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise _TooSlow
            # Identity encoding: a compressed body could expand far past the size cap in one read.
            headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
            with client.stream("GET", url, headers=headers, timeout=httpx.Timeout(left)) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    url = urljoin(url, resp.headers["location"])
                    continue
                resp.raise_for_status()
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    return ToolResult(False, f"page larger than {max_bytes} bytes, not read")
                body = bytearray()
                for piece in resp.iter_bytes():
                    body.extend(piece)
                    if len(body) > max_bytes:
                        return ToolResult(False, f"page larger than {max_bytes} bytes, not read")
                    if time.monotonic() > deadline:
                        raise _TooSlow
                ctype = resp.headers.get("content-type", "").lower()
                try:
                    text = body.decode(resp.encoding or "utf-8", errors="replace")
                except LookupError:  # a charset Python does not know
                    text = body.decode("utf-8", errors="replace")
                return url, ctype, text
    return ToolResult(False, f"more than {MAX_REDIRECTS} redirects, not followed")


def fetch_page(
    url: str,
    *,
    max_bytes: int = 2_000_000,
    timeout: float = 10.0,
    resolve: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
    max_chars: int = 4000,
) -> ToolResult:
    """Read one public page as text within `timeout` seconds in all and `max_bytes` of body."""
    try:
        got = _download(url.strip(), max_bytes=max_bytes, timeout=timeout, resolve=resolve, transport=transport)
    except BlockedURL as exc:
        return ToolResult(False, f"refused: {exc}")
    except (_TooSlow, httpx.TimeoutException):
        return ToolResult(False, f"the page took longer than {timeout:g} s, not read")
    except httpx.HTTPStatusError as exc:
        return ToolResult(False, f"could not fetch the page (HTTP {exc.response.status_code})")
    except Exception as exc:  # any other transport or decoding failure is news for the agent, not a crash
        return ToolResult(False, redact(f"could not fetch the page ({type(exc).__name__}: {str(exc)[:160]})"))
    if isinstance(got, ToolResult):
        return got
    final_url, ctype, text = got
    if "html" in ctype:
        title, text = html_to_text(text)
    elif ctype.startswith("text/") or not ctype:
        title = final_url
    else:
        return ToolResult(False, f"not a text page ({ctype.split(';')[0]})")
    text = text.strip()[:max_chars]
    if not text:
        return ToolResult(False, "the page has no readable text")
    key = hashlib.sha256(final_url.encode()).hexdigest()[:16]
    hit = Hit(text=text, source=(title or final_url)[:200], page=0, url=final_url, score=1.0, chunk_id=f"page-{key}",
              doc_id=f"page-{key}", position=0, kind="findings")
    return ToolResult(True, f"read {len(text)} characters from {final_url}", [hit])
