"""Every format, made in the test with known text in known places, comes back cited to that place."""

from __future__ import annotations

import pytest

from tests.documents import makers

FILLER = ("The committee reviewed the quarterly figures and agreed to revisit the budget at the next meeting. "
          "Several members asked for more detail on travel costs and on the new office lease. ")
PAGE_TEXT = {
    1: "Introduction to the regional water survey. " + FILLER,
    2: "Methods: samples were taken from forty wells in spring. " + FILLER,
    3: "Findings: the aquifer under Valdemoro holds nitrate at 61 milligrams per litre, above the legal limit. " + FILLER,
    4: "Recommendations: close the two shallowest wells and test again in autumn. " + FILLER,
    5: "Annex with the raw measurements of every well. " + FILLER,
}


def test_pdf_phrase_from_page_3_comes_back_with_page_3(store):
    res = store.ingest("survey.pdf", makers.pdf([PAGE_TEXT[i] for i in range(1, 6)]))
    assert res.status == "ok", res.error
    assert res.pages == 5
    hits = store.ws().search("nitrate in the aquifer under Valdemoro", k=3)
    assert hits[0].page == 3 and hits[0].source == "survey.pdf"
    assert "Valdemoro" in hits[0].text
    assert hits[0].cite() == "survey.pdf, p. 3"
    # Every chunk carries its place and identity.
    meta = store.chroma()["metadatas"]
    assert {m["page"] for m in meta} == {1, 2, 3, 4, 5}
    for m in meta:
        assert m["workspace"] == "default" and m["doc_id"] == res.doc_id and m["source"] == "survey.pdf"
        assert len(m["content_hash"]) == 64 and m["chunk_hash"] and isinstance(m["position"], int)
    assert sorted(m["position"] for m in meta) == list(range(len(meta)))


def test_pdf_page_numbers_are_physical_even_with_a_blank_page(store):
    pages = [PAGE_TEXT[1], "", PAGE_TEXT[3]]  # page 2 has no text at all
    res = store.ingest("gap.pdf", makers.pdf(pages))
    assert res.status == "ok" and res.pages == 3
    hit = store.ws().search("nitrate Valdemoro", k=1)[0]
    assert hit.page == 3


def test_docx_keeps_the_heading_path(store):
    data = makers.docx([
        ("h1", "Annual report"), ("p", "Opening remarks about the year. " + FILLER),
        ("h2", "Water quality"), ("p", "Nitrate in the Valdemoro aquifer reached 61 mg per litre."),
        ("h3", "Wells"), ("table", "well,depth;W-17,12 m;W-22,40 m"),
        ("h2", "Finances"), ("p", "Spending stayed within the budget."),
    ])
    res = store.ingest("report.docx", data)
    assert res.status == "ok", res.error
    hit = store.ws().search("Valdemoro nitrate", k=1)[0]
    assert hit.heading == "Annual report > Water quality" and hit.page == 0
    wells = store.ws().search("W-22 depth", k=1)[0]
    assert wells.heading == "Annual report > Water quality > Wells"
    assert "W-22 | 40 m" in wells.text


def test_markdown_headers_are_respected(store):
    text = ("# Handbook\n\nWelcome.\n\n## Leave\n\nStaff get 23 days of paid leave.\n\n"
            "## Expenses\n\nClaims go through the portal within 30 days.\n")
    res = store.ingest("handbook.md", text.encode())
    assert res.status == "ok" and res.chunks == 3
    hit = store.ws().search("paid leave days", k=1)[0]
    assert hit.heading == "Handbook > Leave" and "23 days" in hit.text and "portal" not in hit.text


def test_html_drops_scripts_and_navigation_and_keeps_headings(store):
    data = makers.html("Water survey", [("Findings", "Nitrate in the Valdemoro aquifer reached 61 mg per litre."),
                                        ("Next steps", "Test the wells again in autumn.")])
    res = store.ingest("survey.html", data)
    assert res.status == "ok", res.error
    texts = " ".join(store.chroma()["documents"])
    assert "Valdemoro" in texts
    for junk in ("TRACKER-CODE-777", "document.write", "NAVIGATION-LINKS", "FOOTER-TEXT", "color: red"):
        assert junk not in texts
    hit = store.ws().search("Valdemoro nitrate", k=1)[0]
    assert hit.heading == "Water survey > Findings"


def test_csv_groups_rows_repeats_the_header_and_records_the_row_range(store):
    res = store.ingest("stock.csv", makers.csv_text(300), chunk_size=400)
    assert res.status == "ok", res.error
    assert res.rows == 300 and res.chunks > 10
    records = store.chroma()
    for text, meta in zip(records["documents"], records["metadatas"]):
        assert text.startswith("id | product | code | price\n")
        lines = text.split("\n")[1:]
        assert len(lines) == meta["row_end"] - meta["row_start"] + 1
        assert lines[0].startswith(f"{meta['row_start']} | ")
    covered = sorted((m["row_start"], m["row_end"]) for m in records["metadatas"])
    assert covered[0][0] == 1 and covered[-1][1] == 300
    assert all(a[1] + 1 == b[0] for a, b in zip(covered, covered[1:]))  # no row lost or repeated
    hit = store.ws().search("SKU-000217", k=1)[0]
    assert "SKU-000217" in hit.text
    start, end = map(int, hit.rows.split("-"))
    assert start <= 217 <= end and hit.cite() == f"stock.csv, rows {start}-{end}"


def test_csv_with_semicolons_and_latin1(store):
    data = "ciudad;población\nMadrid;3.300.000\nLeón;120.000\n".encode("latin-1")
    res = store.ingest("ciudades.csv", data)
    assert res.status == "ok", res.error
    text = store.chroma()["documents"][0]
    assert "ciudad | población" in text and "León | 120.000" in text


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-16-le", "utf-8-sig"])
def test_text_in_other_encodings_is_read_correctly(store, encoding):
    text = "La información sobre el niño y la cigüeña está en el anexo. Año 2024."
    if encoding == "cp1252":
        text += " Precio: 20 € — «oferta»."
    res = store.ingest("nota.txt", text.encode(encoding))
    assert res.status == "ok", res.error
    assert store.chroma()["documents"] == [text]


def test_form_feeds_in_text_mark_pages(store):
    text = "\f".join([PAGE_TEXT[1], PAGE_TEXT[2], PAGE_TEXT[3]]) + "\f"
    res = store.ingest("survey.txt", text.encode())
    assert res.status == "ok" and res.pages == 3
    assert store.ws().search("Valdemoro nitrate", k=1)[0].page == 3


def test_progress_moves_through_every_stage_of_a_long_file(store):
    seen = []
    pages = [f"Page {i}: " + FILLER * 3 for i in range(1, 41)]
    res = store.ingest("long.pdf", makers.pdf(pages), batch=16, progress=lambda stage, f: seen.append((stage, f)))
    assert res.status == "ok" and res.chunks > 40
    stages = [s for s, _ in seen]
    assert stages.index("parsing") < stages.index("chunking") < stages.index("embedding") < stages.index("done")
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    # It moves *during* the long stages, not only between them.
    assert len({f for s, f in seen if s == "parsing"}) >= 10
    assert len({f for s, f in seen if s == "embedding"}) >= 4


def test_a_turn_cites_csv_rows_and_docx_headings_not_just_the_file(tmp_path, embedder):
    """A person looks a claim up by page, row range or section: the citations of a whole turn say which."""
    from crew.models.fake import FakeCrewModel
    from crew.engine.service import Crew
    from crew.settings import ROLES, Settings
    from crew.engine.state import source_label

    model = FakeCrewModel()
    crew = Crew.from_settings(Settings(data_dir=tmp_path / "data", model="fake", web_search=False),
                              models={r: model for r in ROLES}, embedder=embedder)
    assert crew.ingest("default", "stock.csv", makers.csv_text(300)).status == "ok"
    assert crew.ingest("default", "report.docx", makers.docx([
        ("h1", "Annual report"), ("p", FILLER),
        ("h2", "Water quality"), ("p", "Nitrate in the Valdemoro aquifer reached 61 mg per litre."),
    ])).status == "ok"

    rows = crew.run_turn("default", "chat", "What is the price of SKU-000217?").run()
    csv = next(c for c in rows.citations if c["source"] == "stock.csv" and "SKU-000217" in c["text"])
    start, end = map(int, csv["place"].removeprefix("rows ").split("-"))
    assert start <= 217 <= end and source_label(csv) == f"stock.csv, rows {start}-{end}"

    section = crew.run_turn("default", "chat2", "How much nitrate is in the Valdemoro aquifer?").run()
    docx = next(c for c in section.citations if c["source"] == "report.docx" and "Valdemoro" in c["text"])
    assert source_label(docx) == "report.docx, Annual report > Water quality"
