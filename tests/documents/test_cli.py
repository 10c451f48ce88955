"""`python -m crew ingest` takes every format; `python -m crew search` says the page."""

from __future__ import annotations

import json

from tests.documents import makers
from tests.servers import run_cli


def test_ingest_every_format_then_search_returns_the_page(tmp_path):
    files = {
        "survey.pdf": makers.pdf(["Intro page.", "Method page.", "The heron colony at Lake Ostrava counts 412 nests."]),
        "report.docx": makers.docx([("h1", "Report"), ("p", "The kestrel survey found 37 pairs.")]),
        "notes.md": b"# Notes\n\nThe osprey returned on 3 April.\n",
        "plain.txt": "Cigüeñas: 58 nidos en Alcalá.".encode("latin-1"),
        "page.html": makers.html("Birds", [("Owls", "The barn owl roost holds 9 birds.")]),
        "counts.csv": b"species,count\nheron,412\nkestrel,74\n",
        "fake.pdf": makers.png(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    out = run_cli("ingest", *[str(tmp_path / n) for n in files], "--json")
    assert out.returncode == 1, out.stderr  # one file failed, the others are stored
    rows = {r["file"]: r for r in json.loads(out.stdout)}
    assert all(rows[n]["status"] == "ok" and rows[n]["chunks"] >= 1 for n in files if n != "fake.pdf"), rows
    assert rows["fake.pdf"]["status"] == "error" and "PNG image" in rows["fake.pdf"]["error"]
    assert "Traceback" not in out.stderr

    out = run_cli("search", "heron colony Lake Ostrava nests", "--json", "-k", "1")
    hit = json.loads(out.stdout)[0]
    assert (hit["source"], hit["page"]) == ("survey.pdf", 3)
    assert "412 nests" in hit["text"] and hit["chunk_id"]

    hit = json.loads(run_cli("search", "ciguenas nidos Alcala", "--json", "-k", "1").stdout)[0]
    assert hit["source"] == "plain.txt" and "Cigüeñas" in hit["text"]

    out = run_cli("search", "heron colony Lake Ostrava")
    assert out.returncode == 0 and "survey.pdf, p. 3" in out.stdout

    again = run_cli("ingest", str(tmp_path / "notes.md"), "--json")
    assert again.returncode == 0 and "already in the library" in again.stderr
