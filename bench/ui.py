"""How quickly the browser shows the crew at work, and how quickly Stop takes effect.

    .venv/bin/python bench/ui.py [--json]

Runs `streamlit run app.py` on a free loopback port and drives Debian's Chromium with Playwright.
first_step_s: from pressing Enter to the first agent step visible, `fake` model (no delay),
median of 10 goals, each in a new chat. stop_s: from clicking Stop to the stopped state visible,
`fake?delay=1&subquestions=3` (so every turn is still running when Stop is clicked), median of 5.
Times are taken in the test process around Playwright calls, so they include its round trips.
The browser is the tests' `Chromium` (tests/servers.py): loopback only; the run fails if a page
tried to reach any other host.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from _report import args, report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.servers import GOAL_BOX, Chromium  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_app(model: str, data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CREW_MODEL": model, "CREW_DATA_DIR": str(data_dir), "CREW_WEB_SEARCH": "false"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "streamlit"), "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("streamlit did not start")
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def new_goal(page, goal: str):
    """Open a new chat, type a goal and return (the chat box, the main area's step locator)."""
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="New chat").click()
    main = page.get_by_role("main")
    main.get_by_role("heading", name="Crew").wait_for()
    box = page.get_by_placeholder(GOAL_BOX, exact=False)
    box.fill(goal)
    return box, main, main.locator('[data-testid="stExpander"]').filter(has_text="Coordinator")


def first_step_times(browser: Chromium, url: str, tries: int) -> list[float]:
    page = browser.page()
    page.goto(url)
    page.get_by_placeholder(GOAL_BOX, exact=False).wait_for(timeout=60_000)
    times = []
    for i in range(tries + 1):
        box, main, first = new_goal(page, f"What is green tea? ({i})")
        t = time.perf_counter()
        box.press("Enter")
        first.first.wait_for(state="visible", timeout=30_000)
        elapsed = time.perf_counter() - t
        main.get_by_text("Done ·").wait_for(timeout=30_000)
        if i:  # the first goal warms up the page and the stores
            times.append(elapsed)
    page.close()
    return times


def stop_times(browser: Chromium, url: str, tries: int) -> list[float]:
    page = browser.page()
    page.goto(url)
    page.get_by_placeholder(GOAL_BOX, exact=False).wait_for(timeout=60_000)
    times = []
    for i in range(tries):
        box, main, first = new_goal(page, f"What is black tea? ({i})")
        box.press("Enter")
        first.first.wait_for(state="visible", timeout=30_000)
        stop = main.get_by_role("button", name="Stop")
        stop.wait_for()
        t = time.perf_counter()
        stop.click()
        main.get_by_text("Stopped.").wait_for(timeout=30_000)
        times.append(time.perf_counter() - t)
    page.close()
    return times


def main() -> None:
    a = args(__doc__)
    with tempfile.TemporaryDirectory() as tmp, Chromium() as browser:
        with streamlit_app("fake", Path(tmp) / "fast") as url:
            firsts = first_step_times(browser, url, 10)
        with streamlit_app("fake?delay=1&subquestions=3", Path(tmp) / "slow") as url:
            stops = stop_times(browser, url, 5)
    figures = {"first_step_s": round(statistics.median(firsts), 3), "stop_s": round(statistics.median(stops), 3)}
    report(
        "Browser: first step and Stop (Chromium + Playwright, fake model)",
        [
            ("first_step_s", figures["first_step_s"], f"Enter -> first agent step, median of {len(firsts)}, goal <= 1 s"),
            ("first step, max (s)", round(max(firsts), 3), "slowest of the same tries"),
            ("stop_s", figures["stop_s"], f"Stop -> stopped state, median of {len(stops)}, goal <= 2 s"),
            ("stop, max (s)", round(max(stops), 3), "slowest of the same tries"),
        ],
        figures,
        a.json,
    )


if __name__ == "__main__":
    main()
