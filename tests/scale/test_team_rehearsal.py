"""A two-machine rehearsal on one box (issue 13): two `streamlit run` instances, each under a host name of
its own (`unshare --uts`) and with its own empty data dir, share one Postgres and one `chroma run`.

In Chromium: a file uploaded in A is cited by B's answer; A lists B's chat; A is killed mid-turn, B first
shows that turn as running elsewhere (A's heartbeat is fresh), then as interrupted once the heartbeat goes
stale, and carries it on from A's checkpoint in Postgres. Neither data dir ever holds a SQLite file.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.servers import CHROMIUM, GOAL_BOX, Chromium, StreamlitApp

REPORT = "Project Heron status: the launch code word is HERON-4417, agreed on 3 March.\n"
STALE_S = 6  # both instances: another host's turn without a heartbeat this long is interrupted


def _can_unshare() -> bool:
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "--uts", "sh", "-c", "hostname crew-probe"], capture_output=True).returncode == 0


pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: bash scripts/setup --dev"),
    pytest.mark.skipif(not _can_unshare(), reason="needs `unshare --uts` (root, or user namespaces) for two host names"),
]


def _sqlite_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.suffix in (".sqlite", ".sqlite3", ".db")]


def test_two_hosts_share_a_postgres_and_a_chroma_server(tmp_path, postgres_server, chroma_server):
    from playwright.sync_api import expect

    from crew.storage.pg_chats import PgChats

    expect.set_options(timeout=30_000)
    url = postgres_server.create_database(f"rehearsal_{uuid.uuid4().hex[:8]}")
    doc = tmp_path / "heron-report.md"
    doc.write_text(REPORT)
    shared = {"CREW_DATABASE_URL": url, "CREW_TURN_STALE_AFTER_S": str(STALE_S), **chroma_server.env()}
    # A's model takes 6 s a call, so a turn there is still running when A is killed; B's answers at once.
    env_a = {**shared, "CREW_MODEL": "fake?delay=6", "CREW_DATA_DIR": str(tmp_path / "a")}
    env_b = {**shared, "CREW_MODEL": "fake", "CREW_DATA_DIR": str(tmp_path / "b")}
    chats = PgChats(url)
    a = StreamlitApp(tmp_path / "a.log", env_a, hostname="crew-a")
    with a, StreamlitApp(tmp_path / "b.log", env_b, hostname="crew-b") as b, Chromium() as browser:
        page_a, page_b = browser.page(), browser.page()

        # A: drop the report on the chat box.
        page_a.goto(a.url)
        chat_a = page_a.locator('[data-testid="stChatInput"]')
        expect(page_a.get_by_placeholder(GOAL_BOX, exact=False)).to_be_visible()
        chat_a.locator('input[type="file"]').set_input_files(str(doc))
        expect(chat_a.get_by_text("heron-report.md")).to_be_visible()
        chat_a.locator('[data-testid="stChatInputSubmitButton"]').click()
        expect(page_a.get_by_role("main").get_by_text("chunks added to the workspace's documents")).to_be_visible()

        # B, another host with another data dir: ask; the answer cites A's upload.
        page_b.goto(b.url)
        box_b = page_b.get_by_placeholder(GOAL_BOX, exact=False)
        box_b.fill("What is the Project Heron launch code word?")
        box_b.press("Enter")
        main_b = page_b.get_by_role("main")
        expect(main_b.get_by_text("HERON-4417", exact=False).filter(visible=True).first).to_be_visible()
        expect(main_b.get_by_role("button", name="[1] heron-report.md")).to_be_visible()

        # A lists B's chat.
        page_a.reload()
        sidebar_a = page_a.locator('[data-testid="stSidebar"]')
        expect(sidebar_a.get_by_text("What is the Project Heron launch code word?", exact=False)).to_be_visible()

        # A asks in its own chat, and is killed once the plan is made and research has begun.
        sidebar_a.get_by_role("button", name="heron-report.md").click()
        expect(page_a.get_by_role("main").get_by_text("chunks added to the workspace's documents")).to_be_visible()
        goal = "When was the Project Heron code word agreed?"
        box_a = page_a.get_by_placeholder(GOAL_BOX, exact=False)
        box_a.fill(goal)
        box_a.press("Enter")
        main_a = page_a.get_by_role("main")
        expect(main_a.get_by_text("Planned 1 sub-question")).to_be_visible()
        # The researcher's step is drawn: its step_started came after the plan's checkpoint was written.
        expect(main_a.locator('[data-testid="stExpander"]').nth(1)).to_be_visible()
        (workspace,) = chats.workspaces()
        (turn,) = [t for c in chats.list(workspace) for t in chats.turns(workspace, c.chat_id) if t.goal == goal]
        assert turn.status == "running"

        # B opens A's chat while A is alive: running elsewhere, nothing to resume.
        page_b.reload()
        page_b.locator('[data-testid="stSidebar"]').get_by_role("button", name="heron-report.md").click()
        expect(main_b.get_by_text(goal).first).to_be_visible()
        expect(main_b.get_by_text("still running in another instance", exact=False)).to_be_visible()
        expect(main_b.get_by_role("button", name="Resume from checkpoint")).to_have_count(0)

        a.kill()
        killed = time.monotonic()
        # B: once A's heartbeat is older than STALE_S, the turn reads as interrupted and can be resumed.
        resume = main_b.get_by_role("button", name="Resume from checkpoint")
        while not resume.count() and time.monotonic() - killed < 4 * STALE_S:
            time.sleep(1)
            page_b.reload()
            expect(main_b.get_by_text(goal).first).to_be_visible()
        expect(resume).to_be_visible()
        expect(main_b.get_by_text("This turn was interrupted", exact=False)).to_be_visible()
        assert chats.turn(workspace, turn.turn_id).status == "interrupted"
        page_b.screenshot(path=tmp_path / "b_interrupted.png")

        resume.click()
        expect(main_b.get_by_text("3 March", exact=False).filter(visible=True).first).to_be_visible()
        expect(main_b.get_by_role("button", name="[1] heron-report.md").last).to_be_visible()
        page_b.screenshot(path=tmp_path / "b_carried_on.png")

    # B carried A's turn on from A's checkpoint: the plan was made once, by A, and B started again only the step A
    # was in when it was killed. Which step that is depends on how long B's checks above took (A's calls take 6 s):
    # on a loaded machine A was seen reaching the critic.
    done = chats.turn(workspace, turn.turn_id)
    chats.close()
    assert done.status == "done" and "3 March" in done.answer
    started = [e["agent"] for e in done.events if e["kind"] == "step_started"]
    steps = [s for i, s in enumerate(started) if i == 0 or s != started[i - 1]]
    assert started.count("coordinator") == 1 and steps == ["coordinator", "researcher", "writer", "critic"], started
    assert len(started) - len(steps) <= 1, started  # at most the interrupted step ran twice
    assert [c["source"] for c in done.citations] == ["heron-report.md"]
    for name in ("a", "b"):
        assert (tmp_path / name).is_dir(), name
        assert _sqlite_files(tmp_path / name) == [], name
