"""The browser never leaves the machine: every page of the app, visited in Chromium, asks only loopback.

An offline-first app must not make a person's browser call a third party (a font CDN for the
favicon, say): it leaks that the app is open, and fails on an air-gapped network. `Chromium`
(tests/servers.py) routes every request of every page: loopback passes, anything else is aborted
and recorded. This test visits Chat, Documents, Traces and Settings, with a finished turn so the
Traces page draws its chart, and asserts that nothing else was even attempted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import CHROMIUM, GOAL_BOX, Chromium, StreamlitApp, is_loopback_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: bash scripts/setup --dev"),
]
PAGES = [("Documents", "Documents"), ("Traces", "Timeline"), ("Settings", "Settings"), ("Chat", "What is green tea?")]  # (link, a heading it shows)


def test_the_loopback_rule_tells_this_machine_from_the_rest():
    assert all(map(is_loopback_url, ["http://127.0.0.1:8501/", "http://localhost:1/x", "ws://[::1]:2/_stcore/stream",
                                     "http://127.8.9.1/", "data:image/svg+xml,<svg/>", "blob:http://127.0.0.1/x"]))
    assert not any(map(is_loopback_url, ["https://fonts.gstatic.com/s/i/x.svg", "http://10.0.0.1/", "http://[::2]/",
                                         "https://evil.example/", "http://127.0.0.1.evil.example/", "ws://0.0.0.0/"]))


def test_every_page_asks_only_loopback(tmp_path):
    from playwright.sync_api import expect

    env = {"CREW_MODEL": "fake", "CREW_DATA_DIR": str(tmp_path / "data")}
    with StreamlitApp(tmp_path / "streamlit.log", env) as app, Chromium() as browser:
        page = browser.page(height=1400)
        expect.set_options(timeout=60_000)
        main = page.get_by_role("main")
        sidebar = page.locator('[data-testid="stSidebar"]')
        seen: list[str] = []
        page.on("request", lambda r: seen.append(r.url))

        page.goto(app.url)
        box = page.get_by_placeholder(GOAL_BOX, exact=False)
        box.fill("What is green tea?")
        box.press("Enter")
        expect(main.get_by_text("Done ·", exact=False)).to_be_visible(timeout=120_000)
        for link, heading in PAGES:
            sidebar.get_by_role("link", name=link).click()
            expect(main.get_by_role("heading", name=heading).first).to_be_visible()
            page.wait_for_load_state("networkidle")
        page.reload()  # a fresh load fetches the page's head (favicon included) again
        expect(box).to_be_visible()
        page.wait_for_load_state("networkidle")
        blocked = list(browser.guard.blocked)
        browser.guard.blocked.clear()  # reported below, with what the pages did load

    assert blocked == [], f"the browser tried to leave the machine: {blocked}"
    assert any("/_stcore/" in url for url in seen), seen  # the guard did watch the app's own requests
