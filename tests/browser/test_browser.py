"""A real browser (Debian's Chromium through Playwright) against `streamlit run app.py` on loopback.

Types a goal, sees the first agent step, presses Stop mid-run and sees the stopped state, asks
again, reloads and finds the chat in the sidebar, and opens the Traces page's timeline. Each
state is saved as a screenshot under the test's tmp dir.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import CHROMIUM, GOAL_BOX, Chromium, StreamlitApp, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: bash scripts/setup --dev"),
]


TEA = ("# Tea\n\nGreen tea is made from unoxidised leaves of Camellia sinensis. Black tea is made from "
       "the same leaves, fully oxidised before they are dried.\n")


@pytest.fixture
def app_url(tmp_path):
    """`streamlit run app.py` on a free loopback port with the slow fake model, over one document
    about tea (so each turn runs all its steps); stopped afterwards."""
    env = {"CREW_MODEL": "fake?delay=0.6&subquestions=3", "CREW_DATA_DIR": str(tmp_path / "data")}
    doc = tmp_path / "tea.md"
    doc.write_text(TEA)
    assert run_cli("ingest", str(doc), "--workspace", "default", env=env).returncode == 0
    with StreamlitApp(tmp_path / "streamlit.log", env) as app:
        yield app.url


@pytest.fixture
def page():
    with Chromium() as browser:
        yield browser.page()


def test_chat_stop_history_and_traces_in_a_real_browser(app_url, page, tmp_path):
    from playwright.sync_api import expect

    shots = tmp_path / "screenshots"
    shots.mkdir()
    expect.set_options(timeout=20_000)
    main = page.get_by_role("main")
    sidebar = page.locator('[data-testid="stSidebar"]')
    steps = main.locator('[data-testid="stExpander"]')

    page.goto(app_url)
    box = page.get_by_placeholder(GOAL_BOX, exact=False)
    expect(box).to_be_visible()
    expect(main.get_by_role("heading", name="Crew")).to_be_visible()
    expect(sidebar.get_by_role("link")).to_have_count(5)
    expect(sidebar.get_by_role("link")).to_contain_text(["Chat", "Documents", "Traces", "Evaluate", "Settings"])  # not "app"
    page.screenshot(path=shots / "0_start.png")

    box.fill("What is green tea?")
    box.press("Enter")
    expect(steps.first).to_contain_text("Coordinator")  # the first agent step, live
    stop = main.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    page.screenshot(path=shots / "1_first_step.png")

    stop.click()
    expect(main.get_by_text("Stopped.", exact=False)).to_be_visible()
    expect(stop).to_have_count(0)
    assert steps.count() < 6  # cut short: the full turn has 6 steps
    page.screenshot(path=shots / "2_stopped.png")

    # The app stays usable: the next goal runs to its answer.
    expect(box).to_be_enabled()
    box.fill("What is black tea?")
    box.press("Enter")
    expect(main.get_by_text("Verdict: approve", exact=False)).to_be_visible()
    expect(main.get_by_text("Done ·", exact=False)).to_be_visible()
    assert steps.count() >= 7  # 1 step of the stopped turn + 6 of this one
    page.screenshot(path=shots / "3_answered.png")

    page.reload()
    expect(sidebar.get_by_role("button", name="What is green tea?")).to_be_visible()
    expect(main.get_by_text("Stopped.", exact=False)).to_be_visible()  # the reopened chat, as it was
    expect(main.get_by_text("Done ·", exact=False)).to_be_visible()
    expect(main.get_by_text("Verdict: approve", exact=False)).to_be_visible()
    page.screenshot(path=shots / "4_reloaded.png")

    page.set_viewport_size({"width": 1280, "height": 1600})
    sidebar.get_by_role("link", name="Traces").click()
    expect(main.get_by_role("heading", name="Timeline")).to_be_visible()
    chart = main.locator('[data-testid="stVegaLiteChart"]')
    expect(chart).to_be_visible()
    expect(chart.locator("canvas, svg").first).to_be_visible()
    expect(main.get_by_text("What is black tea?", exact=False).first).to_be_visible()
    page.screenshot(path=shots / "5_traces.png")
