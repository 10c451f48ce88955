"""Hostile names, goals and provider errors on every page, in real Chromium: text, never a live link or image.

A loopback "canary" listener stands where an attacker's server would: the hostile text points
images at it (`![px](https:127.0.0.1:PORT)`, `<img src=http://...>`) and links at evil.example.
It counts TCP connections, so an https attempt at a plain socket counts too. Then:

- Documents: files named as Markdown images, links and bare addresses are uploaded into a
  workspace named like an e-mail address; their progress bars, result banners, library rows
  and search results show the names;
- Chat: a goal carrying the same payloads (it becomes the chat's title too), answered by the
  fake model citing those files, while the critic's provider (a loopback fake OpenAI server)
  answers 500 with a Markdown and HTML payload in its error; a file with a hostile name is
  dropped on the chat box too;
- Traces: that turn, its goal and the provider's error;
- Settings: a hostile model name, refused or applied, shown back.

At each stop the DOM must hold no <a href> to evil.example and no <img> pointing at the canary,
and at the end the canary must have had no connection but the test's own control images
(which show that an image pointing at it, in either spelling, would reach it). `Chromium` fails the test if the
browser tried to reach any host but loopback.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.servers import CHROMIUM, GOAL_BOX, Chromium, StreamlitApp

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(420),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: bash scripts/setup --dev"),
]
WORKSPACE = "phish@evil.example"  # a valid workspace name, and an e-mail address to autolink
PHISH = "Verify your account"
DOC_TEXT = "Heron tea notes. The heron tea harvest starts in May and the leaves are steamed, not roasted.\n"
FINISHED = re.compile(r"(Done|Failed|Limit reached|Stopped) ·")

LIVE = """(port) => ({
    links: [...document.querySelectorAll('a[href]')].map(a => new URL(a.href, location.href))
        .filter(u => /evil\\.example/i.test(u.protocol === 'mailto:' ? u.pathname : u.hostname)).map(u => u.href),
    images: [...document.querySelectorAll('img, image, source, video, audio, iframe')]
        .map(e => e.currentSrc || e.src || e.getAttribute('href') || e.getAttribute('srcset') || '')
        .filter(s => s.includes('127.0.0.1:' + port)),
})"""


def hostile_names(port: int) -> list[str]:
    # No '/' in a file name; "https:" on an http page is still an absolute URL, "http:" a relative one.
    return [f"![px](https:127.0.0.1:{port}).md", f"[{PHISH}](https:evil.example).md", "www.evil.example.md",
            f"<img src=https:127.0.0.1:{port}>.md", f"![px](http:127.0.0.1:{port}).md"]


def hostile_text(port: int, where: str) -> str:
    return (f"{where} ![pixel](https:127.0.0.1:{port}/{where}) ![p2](http://127.0.0.1:{port}/{where}-2) "
            f'[{PHISH}](https:evil.example) <img src="http://127.0.0.1:{port}/{where}-html"> '
            f"www.evil.example/{where} https://evil.example/{where} $5 :red[x]")


class Canary:
    """A loopback TCP listener that records the first bytes of every connection, in any protocol."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.connections.append(conn.recv(200) or b"(closed)")
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    self.connections.append(b"(no data)")

    def settled(self, page, seconds: float = 1.5) -> list[bytes]:
        """The connections so far, once none has come for `seconds` (a browser may retry).

        Waits through the page: Playwright's request routing runs in this thread, so a bare
        sleep would hold every request of the page back.
        """
        count = -1
        while count != len(self.connections):
            count = len(self.connections)
            page.wait_for_timeout(seconds * 1000)
        return list(self.connections)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture
def canary():
    listener = Canary()
    yield listener
    listener.close()


@pytest.fixture
def provider(server_factory, canary):
    """A fake OpenAI-compatible server whose every answer is a 500 carrying the payload."""
    body = json.dumps({"error": {"message": "upstream failed: " + hostile_text(canary.port, "provider"),
                                 "type": "server_error"}}).encode()
    return server_factory(default=(500, {"Content-Type": "application/json"}, body))


def test_hostile_text_is_never_a_live_link_or_image_on_any_page(canary, provider, tmp_path):
    from playwright.sync_api import expect

    port = canary.port
    env = {"CREW_MODEL": "fake", "CREW_MODEL_CRITIC": "openai:gpt-test", "OPENAI_BASE_URL": f"{provider.base}/v1",
           "OPENAI_API_KEY": "sk-test-not-a-key", "CREW_RETRY_ATTEMPTS": "1", "CREW_RETRY_WAIT_S": "0.01",
           "CREW_DATA_DIR": str(tmp_path / "data"),
           # The hostile goal matches no document: grounded, the crew would say "not found" without
           # ever calling the critic whose provider error this test renders.
           "CREW_GROUNDED": "false"}
    seen: list[tuple[str, dict]] = []
    texts: dict[str, str] = {}
    with StreamlitApp(tmp_path / "streamlit.log", env) as app, Chromium() as browser:
        page = browser.page(height=1600)
        expect.set_options(timeout=60_000)
        main = page.get_by_role("main")
        sidebar = page.locator('[data-testid="stSidebar"]')

        def check(where: str) -> None:
            # The script has finished drawing the page ("Running..." is gone); then look.
            expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0)
            page.wait_for_load_state("networkidle")
            seen.append((where, page.evaluate(LIVE, port)))
            texts[where] = page.inner_text("body").replace("\u2060", "")  # the joiners that stop autolinks
            page.screenshot(path=tmp_path / f"{len(seen)}_{where}.png", full_page=True)

        # Control: an image pointing at the canary, in both spellings the payloads use, reaches it.
        page.goto(f"{app.url}/Documents?ws={WORKSPACE}")
        expect(main.get_by_role("heading", name="Documents")).to_be_visible()
        page.evaluate("""(port) => { for (const src of ['http://127.0.0.1:' + port + '/control',
                                                          'https:127.0.0.1:' + port + '/control-tls'])
                                       { const i = new Image(); i.src = src; } }""", port)
        _wait(page, lambda: len(canary.connections) >= 2)
        control = canary.settled(page)
        assert any(c.startswith(b"GET /control ") for c in control), control
        assert any(c.startswith(b"\x16\x03") for c in control), control  # a TLS hello: https was tried
        canary.connections.clear()

        # Documents: hostile names through the uploader.
        names = hostile_names(port)
        files = [{"name": n, "mimeType": "text/markdown", "buffer": f"{DOC_TEXT}File {i}.\n".encode()}
                 for i, n in enumerate(names)]
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files)
        main.get_by_role("button", name="Add to the workspace").click()
        expect(main.locator('[data-testid="stAlert"]').filter(has_text="added")).to_have_count(len(names),
                                                                                     timeout=180_000)
        check("documents upload")  # the progress labels and banners, where the names once went live
        # The library list comes from a full run of the page, which the upload panel asks for when
        # its job ends; a reload lists it without waiting on that rerun (once, in CI, it never came).
        page.reload()
        expect(main.get_by_role("heading", name=f"Library ({len(names)})")).to_be_visible(timeout=60_000)
        expect(main.get_by_role("button", name="Delete", exact=False)).to_have_count(len(names))
        expect(main.get_by_text("No documents in this workspace yet", exact=False)).to_have_count(0)
        check("documents")
        search = main.get_by_placeholder("A name, a number or a question", exact=False)
        search.fill("heron harvest")
        search.press("Enter")
        expect(main.locator('[data-testid="stExpander"]').first).to_be_visible()
        check("documents search")

        # Chat: a hostile goal (the chat's title too); the critic's provider fails with a hostile error.
        sidebar.get_by_role("link", name="Chat").click()
        box = page.get_by_placeholder(GOAL_BOX, exact=False)
        box.fill("When is the heron tea harvest? " + hostile_text(port, "goal"))
        box.press("Enter")
        expect(main.get_by_text(FINISHED).first).to_be_visible(timeout=180_000)
        check("chat")
        for source in main.get_by_role("button", name=re.compile(r"^\[\d+\] ")).all():
            source.click()
            expect(page.get_by_role("dialog").last).to_be_visible()
            check("chat source")
            page.keyboard.press("Escape")
        chat_box = page.locator('[data-testid="stChatInput"]')
        dropped = f"[{PHISH}](https:evil.example) dropped.md"
        chat_box.locator('input[type="file"]').set_input_files(
            [{"name": dropped, "mimeType": "text/markdown", "buffer": b"Dropped on the chat box.\n"}])
        chat_box.locator('[data-testid="stChatInputSubmitButton"]').click()
        expect(main.get_by_text("chunks added to the workspace's documents", exact=False)).to_be_visible(timeout=120_000)
        check("chat upload")

        # Traces: the turn, its goal and the provider's error.
        sidebar.get_by_role("link", name="Traces").click()
        expect(main.get_by_role("heading", name="Timeline")).to_be_visible()
        expect(main.locator('[data-testid="stMetric"]').filter(has_text="Est. cost")).to_contain_text("$0")
        expect(main.locator('[data-testid="stVegaLiteChart"]').locator("canvas, svg").first).to_be_visible()
        check("traces")

        # Settings: a hostile model name, shown back whether it is refused or applied.
        sidebar.get_by_role("link", name="Settings").click()
        expect(main.get_by_role("heading", name="Settings")).to_be_visible()
        main.get_by_label("Writer model").fill(f"[{PHISH}](https:evil.example)")
        main.get_by_role("button", name="Apply to the next turn").click()
        expect(main.get_by_text(re.compile("^(Not applied|Applied)")).first).to_be_visible()
        # Shown back in "Your next turn runs with" (in the DOM even while the expander is closed).
        expect(main.locator('[data-testid="stExpander"] li').filter(has_text=PHISH)).to_have_count(1)
        check("settings")
        connections = canary.settled(page)

    live = {where: found for where, found in seen if found != {"links": [], "images": []}}
    assert live == {}, f"live hostile elements: {live}"
    assert connections == [], "the browser connected to what the hostile text pointed at"
    # The payloads did reach each page, as text.
    assert all(PHISH in texts[w] for w in ("documents", "documents search", "chat", "chat upload")), texts
    assert "upstream failed" in texts["chat"] and "upstream failed" in texts["traces"]
    assert WORKSPACE in texts["documents"] and "www.evil.example" in texts["documents"]
    assert provider.hits, "the critic's provider was never asked"


def _wait(page, condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(100)  # not time.sleep: the page's routed requests are served in this thread
