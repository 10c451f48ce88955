"""Fixtures for attacking the crew: loopback HTTP servers that count every hit, a lab network that
maps pretend-public addresses onto them (crews come from make_crew in tests/conftest.py).

Nothing here opens a connection beyond 127.0.0.1: the lab transport refuses any other address
instead of passing it on, and the session-wide guard in tests/conftest.py backs it up.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import httpx
import pytest

# Addresses the tests pretend are on the public internet; the lab transport maps them to
# loopback servers, so no packet ever leaves the machine.
PUBLIC_IP = "93.184.216.34"


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class LoopbackServer:
    """An HTTP server on 127.0.0.1 that answers from a route table and records every request."""

    routes: dict[str, Any] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    default: tuple[int, dict[str, str], bytes] = (200, {"Content-Type": "text/plain"}, b"internal secret: do not leak")

    def start(self) -> "LoopbackServer":
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client hanging up on a capped or refused response is the point of the test


class _Handler(BaseHTTPRequestHandler):
    server_owner: LoopbackServer

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        owner = self.server_owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        owner.hits.append(Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        route = owner.routes.get(self.path.split("?", 1)[0], owner.default)
        answer = route(self, body) if callable(route) else route
        if answer is None:  # the route wrote the response itself
            return
        status, headers, payload = answer
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = _serve


@pytest.fixture
def server_factory():
    servers: list[LoopbackServer] = []

    def make(**kwargs) -> LoopbackServer:
        s = LoopbackServer(**kwargs).start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


@pytest.fixture
def internal(server_factory) -> LoopbackServer:
    """A service on this machine the crew must never reach (the Streamlit port, an admin API...)."""
    return server_factory()


class LabTransport(httpx.BaseTransport):
    """A pretend network: pinned public IPs go to loopback servers, loopback stays loopback.

    Any other destination fails the test at once (it would have left the machine). For a
    hostname (only seen if a client did not pin its connection), it asks `dns` like an operating
    system would, so a rebinding answer really does reach the loopback server.
    """

    def __init__(self, routes: dict[str, int], dns: Callable[[str, int], list[str]] | None = None) -> None:
        self.routes = routes
        self.dns = dns
        self.seen: list[httpx.Request] = []
        self._real = httpx.HTTPTransport(retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        host = request.url.host
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if self.dns is None:
                raise AssertionError(f"the client tried to resolve {host} itself instead of pinning") from None
            ip = ipaddress.ip_address(self.dns(host, request.url.port or 80)[0])
        if str(ip) in self.routes:
            url = request.url.copy_with(host="127.0.0.1", port=self.routes[str(ip)])
        elif ip.is_loopback:
            url = request.url.copy_with(host=str(ip))
        else:
            raise AssertionError(f"the client tried to connect to {ip}, which is off this machine")
        forwarded = httpx.Request(request.method, url, headers=request.headers, stream=request.stream,
                                  extensions=request.extensions)
        return self._real.handle_request(forwarded)

    def close(self) -> None:
        self._real.close()


def resolver(table: dict[str, list[str]], calls: list | None = None) -> Callable[[str, int], list[str]]:
    """A DNS stand-in: answers from the table, records each question, fails for unknown names."""

    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append((host, port))
        if host not in table:
            raise OSError(f"no such host {host}")
        return list(table[host])

    return resolve
