"""Two app instances, one Chroma server, one data dir: what one instance stores, the other finds at once."""

from pathlib import Path

import pytest

from tests.servers import CHROMIUM, GOAL_BOX, Chromium, StreamlitApp

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: bash scripts/setup --dev"),
]
REPORT = "Project Heron status: the launch code word is HERON-4417, agreed on 3 March.\n"


def test_upload_in_one_instance_is_cited_in_the_other(chroma_server, tmp_path):
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    doc = tmp_path / "heron-report.md"
    doc.write_text(REPORT)
    env = {"CREW_MODEL": "fake", "CREW_DATA_DIR": str(tmp_path / "data"), **chroma_server.env()}
    with StreamlitApp(tmp_path / "a.log", env) as a, StreamlitApp(tmp_path / "b.log", env) as b, Chromium() as browser:
        page_a, page_b = browser.page(), browser.page()

        # Instance A: drop the report on the chat box.
        page_a.goto(a.url)
        chat_a = page_a.locator('[data-testid="stChatInput"]')
        expect(page_a.get_by_placeholder(GOAL_BOX, exact=False)).to_be_visible()
        chat_a.locator('input[type="file"]').set_input_files(str(doc))
        expect(chat_a.get_by_text("heron-report.md")).to_be_visible()
        chat_a.locator('[data-testid="stChatInputSubmitButton"]').click()
        expect(page_a.get_by_role("main").get_by_text("chunks added to the workspace's documents")).to_be_visible()
        page_a.screenshot(path=tmp_path / "a_uploaded.png")

        # Instance B: ask; the answer cites the file A stored.
        page_b.goto(b.url)
        box = page_b.get_by_placeholder(GOAL_BOX, exact=False)
        box.fill("What is the Project Heron launch code word?")
        box.press("Enter")
        main_b = page_b.get_by_role("main")
        expect(main_b.get_by_text("HERON-4417", exact=False).filter(visible=True).first).to_be_visible()
        expect(main_b.get_by_role("button", name="[1] heron-report.md")).to_be_visible()
        page_b.screenshot(path=tmp_path / "b_answered.png")

        # Both instances list both chats: chats live in the shared data dir, not in a process.
        page_a.reload()
        sidebar_a = page_a.locator('[data-testid="stSidebar"]')
        expect(sidebar_a.get_by_text("What is the Project Heron launch code word?", exact=False)).to_be_visible()
        page_a.screenshot(path=tmp_path / "a_sees_b_chat.png")
