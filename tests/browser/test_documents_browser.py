"""The Documents page in a real browser (Debian's Chromium through Playwright).

Two files in at once (a 100-page PDF and a Markdown note); a progress bar for each that the
browser sees move through the stages; the person leaving for the chat page mid-upload and
coming back to a summary for each; both listed in the library; the
search box finding the passage on its page; a question on the chat page answered citing the PDF
down to its page; and Delete (confirmed) removing the PDF from the library and from what the crew
can cite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.documents import makers
from tests.servers import CHROMIUM, GOAL_BOX, Chromium, StreamlitApp

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: bash scripts/setup --dev"),
]
PAGES = [
    "Harbour survey, part one. The tide tables were checked against the gauge.",
    "Harbour survey, part two. Dredging of the east basin is planned for spring.",
    "Harbour survey, part three. The pier inspection code is KESTREL-5521, issued by the port office.",
]
# Filler after the known pages, so ingest takes seconds and the bar has time to move.
FILLER = [f"Appendix {n}. Weather log for week {n}: wind from the south-west at {10 + n % 9} knots, "
          f"visibility good, swell {n % 4 + 1} metres, water temperature {8 + n % 6} degrees. " * 12
          for n in range(1, 98)]
QUESTION = "What is the pier inspection code?"
# Every label any progress bar shows, as the browser renders it.
WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  const seen = () => document.querySelectorAll('[data-testid="stProgress"]').forEach(
      el => window.progressSeen.push(el.innerText.trim()));
  new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture
def files(tmp_path) -> list[Path]:
    survey = tmp_path / "harbour-survey.pdf"
    survey.write_bytes(makers.pdf(PAGES + FILLER))
    note = tmp_path / "crew-note.md"
    note.write_text("# Crew note\n\nThe rota changes on Mondays.\n")
    return [survey, note]


def ask_in_a_new_chat(page, url: str) -> None:
    """Open the chat page afresh (a new session, so a new chat), ask QUESTION and wait for the answer."""
    from playwright.sync_api import expect

    page.goto(url)
    box = page.get_by_placeholder(GOAL_BOX, exact=False)
    box.fill(QUESTION)
    box.press("Enter")
    expect(page.get_by_role("main").get_by_text("Done ·", exact=False)).to_be_visible()


def test_upload_list_cite_and_delete_in_a_real_browser(files, tmp_path):
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    env = {"CREW_MODEL": "fake", "CREW_DATA_DIR": str(tmp_path / "data")}
    with StreamlitApp(tmp_path / "streamlit.log", env) as app, Chromium() as browser:
        page = browser.page()
        main = page.get_by_role("main")

        page.goto(f"{app.url}/Documents")  # a deep link is the server's first session
        expect(main.get_by_role("heading", name="Documents")).to_be_visible()
        expect(main.get_by_text("No documents in this workspace yet", exact=False)).to_be_visible()
        links = page.locator('[data-testid="stSidebar"]').get_by_role("link")
        expect(links).to_have_count(5)
        expect(links).to_contain_text(["Chat", "Documents", "Traces", "Evaluate", "Settings"])

        # Both files at once through the uploader, then the form's submit button.
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([str(f) for f in files])
        for f in files:
            expect(main.get_by_text(f.name).first).to_be_visible()  # the uploader's file list
        page.screenshot(path=shots / "0_chosen.png")
        page.evaluate(WATCH_PROGRESS)
        main.get_by_role("button", name="Add to the workspace").click()

        # A bar per file at once; the browser sees the PDF's bar move while it is embedded.
        expect(main.locator('[data-testid="stProgress"]')).to_have_count(2)
        page.wait_for_function("""() => new Set(window.progressSeen.filter(
            t => t.startsWith('harbour-survey.pdf') && t.includes('Embedding and storing') && !t.includes('(100%)'))).size >= 2""",
                               timeout=120_000)
        seen = [t for t in dict.fromkeys(page.evaluate("window.progressSeen")) if t.startswith("harbour-survey.pdf")]
        moving = [t for t in seen if "(100%)" not in t and "(0%)" not in t]
        assert len(moving) >= 2, seen  # redrawn twice a second: short stages like reading may fall between
        page.screenshot(path=shots / "0_adding.png")

        # Leave for the chat page mid-upload and come back: the upload went on without the page.
        summaries = main.locator('[data-testid="stAlert"]')
        assert summaries.filter(has_text="harbour-survey.pdf").count() == 0  # not done when we leave
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_role("link", name="Chat").click()
        expect(page.get_by_placeholder(GOAL_BOX, exact=False)).to_be_visible()
        sidebar.get_by_role("link", name="Documents").click()
        expect(summaries.filter(has_text="harbour-survey.pdf")).to_contain_text("100 pages", timeout=120_000)
        expect(summaries.filter(has_text="crew-note.md")).to_contain_text("chunk")
        expect(main.get_by_role("heading", name="Library (2)")).to_be_visible()
        expect(main.get_by_role("button", name="Delete", exact=False)).to_have_count(2)
        page.screenshot(path=shots / "1_listed.png", full_page=True)

        # The search box shows what the crew would find, and on which page.
        search = main.get_by_placeholder("A name, a number or a question", exact=False)
        search.fill("KESTREL-5521")
        search.press("Enter")
        first = main.locator('[data-testid="stExpander"]').filter(has_text="1. harbour-survey.pdf, p. 3")
        expect(first).to_contain_text("The pier inspection code is KESTREL-5521")
        page.screenshot(path=shots / "1_searched.png", full_page=True)

        # The chat page: the answer cites the PDF down to the page the code is on.
        ask_in_a_new_chat(page, app.url)
        citation = main.get_by_role("button", name="harbour-survey.pdf, p. 3")
        expect(citation.first).to_be_visible()
        citation.first.click()  # opens the cited passage
        passage = page.get_by_role("dialog", name="harbour-survey.pdf, p. 3")
        expect(passage).to_contain_text("The pier inspection code is KESTREL-5521")
        page.screenshot(path=shots / "2_cited.png", full_page=True)

        # Back on Documents: delete the PDF; the list shrinks and names only the note.
        page.goto(f"{app.url}/Documents")
        expect(main.get_by_role("heading", name="Library (2)")).to_be_visible()
        row = main.locator('[data-testid="stHorizontalBlock"]').filter(has_text="harbour-survey.pdf")
        row.get_by_role("button", name="Delete", exact=False).click()  # asks once more
        confirm = page.get_by_role("button", name="Delete for good")
        expect(confirm).to_be_visible()
        page.screenshot(path=shots / "3_confirm.png")
        confirm.click()
        expect(main.get_by_role("heading", name="Library (1)")).to_be_visible()
        expect(main.get_by_role("button", name="Delete", exact=False)).to_have_count(1)
        expect(main.get_by_text("harbour-survey.pdf", exact=False)).to_have_count(0)
        expect(main.get_by_text("crew-note.md · 42 B · 1 chunk")).to_be_visible()
        page.screenshot(path=shots / "4_deleted.png", full_page=True)

        # The crew can no longer cite it: asked again, it cites only the note.
        ask_in_a_new_chat(page, app.url)
        expect(main.get_by_role("button", name="crew-note.md").first).to_be_visible()
        expect(main.get_by_role("button", name="harbour-survey.pdf", exact=False)).to_have_count(0)
        expect(main.get_by_text("KESTREL-5521", exact=False)).to_have_count(0)
        page.screenshot(path=shots / "5_asked_again.png", full_page=True)
