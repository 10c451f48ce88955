"""fetch_page end to end over loopback: refused addresses are never reached, whatever DNS or a
redirect says; the connection goes to the checked address; size and time are capped; every
failure is a tool result.

"Public" servers are loopback servers behind the lab transport, which maps the pretend-public
address 93.184.216.34 onto them; the `internal` server stands for anything on this machine.
"""

from __future__ import annotations

import time

import httpx
import pytest

from crew.engine.tools.fetch_page import PinnedTransport, fetch_page

from .conftest import PUBLIC_IP, LabTransport, resolver

PAGE = (200, {"Content-Type": "text/html; charset=utf-8"},
        b"<html><head><title>Green tea</title><script>evil()</script></head><body><p>Green tea has catechins.</p></body></html>")


@pytest.fixture
def public(server_factory):
    server = server_factory()
    server.routes["/page"] = PAGE
    return server


def lab_fetch(url, public, dns_table, **kwargs):
    lab = LabTransport({PUBLIC_IP: public.port})
    return fetch_page(url, resolve=resolver(dns_table), transport=lab, **kwargs), lab


def test_a_public_page_is_read_through_the_pinned_address(public):
    result, lab = lab_fetch("http://news.example/page", public, {"news.example": [PUBLIC_IP]})
    assert result.ok, result.text
    assert "Green tea has catechins." in result.hits[0].text and "evil" not in result.hits[0].text
    assert result.hits[0].source == "Green tea" and result.hits[0].url == "http://news.example/page"
    # The connection went to the checked IP; the name travelled only in the Host header.
    assert lab.seen[0].url.host == PUBLIC_IP
    assert public.hits[0].headers["host"] == "news.example"


def test_https_keeps_the_name_for_sni_and_certificate_checks():
    seen = []

    def answer(request):
        seen.append(request)
        return httpx.Response(200, text="ok", headers={"Content-Type": "text/plain"})

    result = fetch_page("https://news.example/a", resolve=resolver({"news.example": [PUBLIC_IP]}),
                        transport=httpx.MockTransport(answer))
    assert result.ok
    request = seen[0]
    assert request.url.host == PUBLIC_IP and request.url.scheme == "https"
    assert request.headers["host"] == "news.example"
    assert request.extensions["sni_hostname"] == "news.example"


def test_a_public_name_resolving_to_loopback_never_reaches_it(internal):
    url = f"http://innocent.example:{internal.port}/admin?action=delete"
    result, _ = lab_fetch(url, internal, {"innocent.example": ["127.0.0.1"]})
    assert not result.ok and result.text.startswith("refused:")
    assert internal.hits == []


def test_dns_rebinding_between_check_and_connect_cannot_reach_loopback(public, internal):
    """The name answers a public address to the check and 127.0.0.1 to everything after it.

    A client that checks, then lets its HTTP stack resolve the name again, connects to the
    internal server (the lab transport resolves unpinned names with the same flipping DNS).
    """
    answers = iter([[PUBLIC_IP]] + [["127.0.0.1"]] * 10)
    asked = []

    def rebinding(host, port):
        asked.append(host)
        return next(answers)

    lab = LabTransport({PUBLIC_IP: public.port}, dns=rebinding)
    result = fetch_page(f"http://rebind.example:{internal.port}/page", resolve=rebinding, transport=lab)
    assert internal.hits == []
    assert result.ok and "catechins" in result.hits[0].text
    assert asked == ["rebind.example"]  # one answer, checked and used; nobody asked again
    assert [r.url.host for r in lab.seen] == [PUBLIC_IP]


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/secret",
    "http://localhost:{port}/secret",
    "http://[::1]:{port}/secret",
    "http://internal.example:{port}/secret",  # a name whose DNS answer is loopback
    "http://169.254.169.254/latest/meta-data/",
    "http://2130706433:{port}/secret",
    "file:///etc/passwd",
])
def test_a_redirect_chain_toward_a_refused_address_stops_at_the_guard(server_factory, internal, target):
    public = server_factory()
    location = target.format(port=internal.port)
    public.routes["/start"] = (302, {"Location": "/hop"}, b"")
    public.routes["/hop"] = (307, {"Location": location}, b"")
    result, lab = lab_fetch("http://public.example/start", public,
                            {"public.example": [PUBLIC_IP], "internal.example": ["127.0.0.1"]})
    assert not result.ok and result.text.startswith("refused:"), result.text
    assert [h.path for h in public.hits] == ["/start", "/hop"]
    assert internal.hits == []


def test_redirects_are_capped(server_factory):
    public = server_factory()
    public.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    result, _ = lab_fetch("http://public.example/loop", public, {"public.example": [PUBLIC_IP]})
    assert not result.ok and "redirects" in result.text
    assert len(public.hits) == 6  # the first request and five redirects, then it gives up


@pytest.mark.parametrize("declared", [True, False])
def test_bodies_over_the_size_cap_are_not_read(server_factory, declared):
    public = server_factory()
    big = b"<p>" + b"tea " * 50_000 + b"</p>"

    def chunked(handler, body):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for i in range(0, len(big), 4096):
            handler.wfile.write(big[i:i + 4096])
        return None

    public.routes["/big"] = (200, {"Content-Type": "text/html"}, big) if declared else chunked
    result, _ = lab_fetch("http://public.example/big", public, {"public.example": [PUBLIC_IP]}, max_bytes=10_000)
    assert not result.ok and "larger than 10000 bytes" in result.text


def test_a_server_that_trickles_forever_is_cut_off_by_the_time_cap(server_factory):
    public = server_factory()

    def trickle(handler, body):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        while not public.stop.is_set():  # one byte at a time, never finishing
            try:
                handler.wfile.write(b"x")
                handler.wfile.flush()
            except OSError:
                return None
            time.sleep(0.05)
        return None

    public.routes["/slow"] = trickle
    result, _ = lab_fetch("http://public.example/slow", public, {"public.example": [PUBLIC_IP]}, timeout=0.5)
    assert not result.ok and "longer than 0.5 s" in result.text


@pytest.mark.parametrize("failure", [
    httpx.ConnectError("connection refused"), httpx.ReadTimeout("slow"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
    RuntimeError("a transport bug"),
])
def test_transport_failures_are_tool_results(failure):
    def answer(request):
        raise failure

    result = fetch_page("http://news.example/", resolve=resolver({"news.example": [PUBLIC_IP]}), transport=httpx.MockTransport(answer))
    assert result.ok is False and result.text


@pytest.mark.parametrize("status,ctype,body,expected", [
    (404, "text/html", b"nope", "HTTP 404"),
    (200, "application/octet-stream", b"\x00\x01", "not a text page"),
    (200, "text/html; charset=not-a-charset", b"<p>caf\xe9</p>", None),  # unknown charset: read as utf-8
    (200, "text/html", b"<html><script>only()</script></html>", "no readable text"),
])
def test_unusable_pages_are_explained(status, ctype, body, expected):
    def answer(request):
        return httpx.Response(status, content=body, headers={"Content-Type": ctype})

    result = fetch_page("http://news.example/", resolve=resolver({"news.example": [PUBLIC_IP]}), transport=httpx.MockTransport(answer))
    if expected is None:
        assert result.ok and "caf" in result.hits[0].text
    else:
        assert not result.ok and expected in result.text


def test_the_pinned_transport_refuses_on_its_own():
    """Whoever builds a client on PinnedTransport gets the guard, redirects or not."""
    client = httpx.Client(transport=PinnedTransport(resolver({"x.example": ["10.0.0.1"]}),
                                                    httpx.MockTransport(lambda r: httpx.Response(200))))
    from crew.engine.tools.address_guard import BlockedURL

    with pytest.raises(BlockedURL):
        client.get("http://x.example/")
    with pytest.raises(BlockedURL):
        client.get("http://127.0.0.1/")


def test_an_unreachable_address_falls_back_to_the_next_checked_one():
    tried = []

    def answer(request):
        tried.append(request.url.host)
        if request.url.host == "2606:4700::1":
            raise httpx.ConnectError("no IPv6 route")
        return httpx.Response(200, text="hello", headers={"Content-Type": "text/plain"})

    result = fetch_page("http://dual.example/", resolve=resolver({"dual.example": ["2606:4700::1", PUBLIC_IP]}),
                        transport=httpx.MockTransport(answer))
    assert result.ok and tried == ["2606:4700::1", PUBLIC_IP]
    # A private record anywhere in the answer still refuses the name before any attempt.
    tried.clear()
    refused = fetch_page("http://dual.example/", resolve=resolver({"dual.example": [PUBLIC_IP, "10.0.0.1"]}),
                         transport=httpx.MockTransport(answer))
    assert not refused.ok and tried == []
