"""Hostile text is shown as text in the real browser, never run as HTML or script.

A document whose first sentence is a `<script>`, an `<img onerror>`, a `javascript:` link and a
Markdown image is ingested into the app's workspace, and the goal typed into the chat carries
HTML too. The fake model quotes the document in its answer and citations, so every piece of the
payload reaches the chat page. The test then asks the page itself: did any payload run, and is
there any live element (script, img with the handler, javascript: link) built from it?
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.servers import CHROMIUM, GOAL_BOX, Chromium, StreamlitApp, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: bash scripts/setup --dev"),
]

# Two documents, so each payload fits in the first sentence the fake writer quotes (240 chars).
PAYLOADS = {
    "hostile-a.md": ('Green tea payload A <script>window.__xss_script=1</script><img src=x onerror="window.__xss_img=1">'
                     '<svg onload="window.__xss_svg=1"></svg> holds catechins\n'),
    "hostile-b.md": ('Green tea payload B <a href="javascript:window.__xss_link=1">a</a> [b](javascript:window.__xss_md=1) '
                     '![p](http://127.0.0.1:9/p.png) <iframe srcdoc="<script>parent.__xss_iframe=1</script>"></iframe>\n'),
}
GOAL = 'What is in green tea? <img src=y onerror="window.__xss_goal = 1"><script>window.__xss_goal2 = 1</script>'
MARKERS = ["__xss_script", "__xss_img", "__xss_link", "__xss_md", "__xss_iframe", "__xss_svg", "__xss_goal", "__xss_goal2"]


@pytest.fixture
def app_url(tmp_path):
    data = tmp_path / "data"
    env = {"CREW_MODEL": "fake", "CREW_DATA_DIR": str(data), "CREW_WEB_SEARCH": "false"}
    docs = []
    for name, text in PAYLOADS.items():
        docs.append(tmp_path / name)
        docs[-1].write_text(text)
    ingest = run_cli("ingest", *map(str, docs), "--workspace", "default", "--json", env=env)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    with StreamlitApp(tmp_path / "streamlit.log", {"CREW_MODEL": "fake", "CREW_DATA_DIR": str(data)}) as app:
        yield app.url


LIVE_ELEMENTS = """() => ({
    scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('__xss')).length,
    handlers: [...document.querySelectorAll('[onerror],[onload]')].filter(e => /__xss/.test(e.outerHTML)).length,
    jsLinks: [...document.querySelectorAll('a[href]')].filter(a => a.href.trim().toLowerCase().startsWith('javascript:')).length,
    frames: [...document.querySelectorAll('iframe[srcdoc]')].filter(f => f.srcdoc.includes('__xss')).length,
    hostileImages: [...document.querySelectorAll('img')].filter(i => /(^|\\/)(x|y|p\\.png)$/.test(i.getAttribute('src') || '')).length,
})"""
INERT = {"scripts": 0, "handlers": 0, "jsLinks": 0, "frames": 0, "hostileImages": 0}


def test_script_and_onerror_text_is_rendered_inert(app_url, tmp_path):
    from playwright.sync_api import expect

    dialogs: list[str] = []
    seen: list[tuple[str, list, dict]] = []
    with Chromium() as browser:
        page = browser.page(height=1400)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        expect.set_options(timeout=30_000)

        def check(where: str) -> None:
            ran = page.evaluate(f"() => {MARKERS!r}.filter(m => window[m] !== undefined)")
            seen.append((where, ran, page.evaluate(LIVE_ELEMENTS)))

        try:
            page.goto(app_url)
            box = page.get_by_placeholder(GOAL_BOX, exact=False)
            expect(box).to_be_visible()
            box.fill(GOAL)
            box.press("Enter")
            main = page.get_by_role("main")
            # The fake writer quotes both hostile documents: the payload is now on the page.
            expect(main.get_by_text("Done ·", exact=False).first).to_be_visible(timeout=90_000)
            text = main.inner_text()
            check("chat")
            # Open each cited source: the passage itself is rendered there.
            for source in main.get_by_role("button", name=re.compile(r"^\[\d+\] hostile")).all():
                source.click()
                expect(page.get_by_text("Green tea payload", exact=False).last).to_be_visible()
                text += page.inner_text("body")
                check(f"source {source.inner_text().splitlines()[0]}")
                page.keyboard.press("Escape")
            page.screenshot(path=tmp_path / "chat.png", full_page=True)
            # The same turn on the Traces page.
            main.get_by_role("link", name="Trace").first.click()
            page.wait_for_url(re.compile(r"/Traces"))
            expect(page.get_by_role("main").get_by_text("What is in green tea?", exact=False).first).to_be_visible()
            text += page.get_by_role("main").inner_text()
            check("traces")
            page.screenshot(path=tmp_path / "traces.png", full_page=True)
        finally:
            page.close()

    assert dialogs == []
    for where, ran, live in seen:
        assert ran == [], f"payload ran in the browser ({where}): {ran}"
        assert live == INERT, f"live hostile elements ({where}): {live}"
    assert [w for w, _, _ in seen][:3] == ["chat", "source [1] hostile-a.md", "source [2] hostile-b.md"]
    # The payload did reach the page, as text: the test looked at rendered hostile content.
    assert "Green tea payload A" in text and "Green tea payload B" in text, text[:3000]
    assert "onerror" in text and "<script>" in text  # shown as text, not dropped or run
