"""The offer to read again what an older reader read, in a real browser (Debian's Chromium through Playwright).

A workspace whose PDF an older reader read (its library row names an earlier reader): the chat's welcome
says so and links to the Documents page, which names the PDF, reads only it again with a progress bar,
and then offers nothing more; the note beside it is not read again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.documents import makers
from tests.servers import CHROMIUM, GOAL_BOX, Chromium, StreamlitApp, run_cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: bash scripts/setup --dev"),
]
OFFER = "1 document (harbour-survey.pdf) was read by an older version of Crew's PDF reader"


def test_the_outdated_pdf_is_named_and_read_again_alone_in_a_real_browser(tmp_path):
    from playwright.sync_api import expect

    data = tmp_path / "data"
    env = {"CREW_MODEL": "fake", "CREW_DATA_DIR": str(data)}
    survey, note = tmp_path / "harbour-survey.pdf", tmp_path / "crew-note.md"
    survey.write_bytes(makers.pdf(["The pier inspection code is KESTREL-5521."]))
    note.write_text("# Crew note\n\nThe rota changes on Mondays.\n")
    assert run_cli("ingest", str(survey), str(note), env=env).returncode == 0  # in its own process, as a person would
    with sqlite3.connect(data / "library.sqlite") as conn:
        conn.execute("UPDATE documents SET reader = 0 WHERE name = 'harbour-survey.pdf'")

    expect.set_options(timeout=30_000)
    with StreamlitApp(tmp_path / "streamlit.log", env) as app, Chromium() as browser:
        page = browser.page()
        main = page.get_by_role("main")
        page.goto(app.url)
        expect(page.get_by_placeholder(GOAL_BOX, exact=False)).to_be_visible()
        expect(main.get_by_text(OFFER, exact=False)).to_be_visible()
        page.screenshot(path=tmp_path / "0_welcome.png", full_page=True)
        main.get_by_role("link", name="Re-index on the Documents page").click()

        expect(main.get_by_role("heading", name="Documents")).to_be_visible()
        expect(main.get_by_text(OFFER, exact=False)).to_be_visible()
        main.get_by_role("button", name="Re-index it").click()
        summaries = main.locator('[data-testid="stAlert"]')
        expect(summaries.filter(has_text="harbour-survey.pdf: re-indexed")).to_contain_text("1 page", timeout=60_000)
        expect(summaries.filter(has_text="crew-note.md")).to_have_count(0)  # only the outdated one is read
        expect(main.get_by_text(OFFER, exact=False)).to_have_count(0)
        expect(main.get_by_role("button", name="Re-index", exact=True)).to_be_visible()  # the plain one is back
        page.screenshot(path=tmp_path / "1_reindexed.png", full_page=True)

        page.goto(app.url)
        expect(page.get_by_placeholder(GOAL_BOX, exact=False)).to_be_visible()
        expect(main.get_by_text("read by an older version", exact=False)).to_have_count(0)
