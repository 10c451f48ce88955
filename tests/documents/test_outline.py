"""A PDF outline's entries become the heading path each page, and each part of a page, stands under."""

from __future__ import annotations

from crew.documents.parsers import parse
from crew.documents.parsers.outline import Entry, heading_at, page_headings
from crew.retrieval.memory import Hit, place_of
from tests.documents import makers

PAGES = [
    "Cover\nA book",
    "Chapter 1. Birds\nBirds fly.\n1.1. Owls\nOwls hunt at night.",
    "Owls nest in barns.\n1.2 Herons\nHerons wade.",
    "More on herons.",
]
ENTRIES = [Entry(2, 0, "Birds"), Entry(2, 1, "Owls"), Entry(3, 1, "Herons"), Entry(4, 1, "Not printed anywhere")]


def test_each_page_starts_under_the_heading_in_effect_and_marks_where_new_ones_start():
    got = page_headings(PAGES, ENTRIES)
    assert got[0] == ("", ())
    start, marks = got[1]
    assert start == ""
    # The printed line, numbering and all, is the label; the path keeps the chapter above the section.
    assert marks == (("Chapter 1. Birds", "Chapter 1. Birds"), ("1.1. Owls", "Chapter 1. Birds > 1.1. Owls"))
    assert got[2] == ("Chapter 1. Birds > 1.1. Owls", (("1.2 Herons", "Chapter 1. Birds > 1.2 Herons"),))
    # An entry whose title the page does not print starts at the top of its page, under its outline title.
    assert got[3] == ("Chapter 1. Birds > 1.2 Herons", (("", "Chapter 1. Birds > Not printed anywhere"),))


def test_the_heading_at_an_offset_is_the_last_one_started_before_it():
    text = PAGES[2]
    start, marks = page_headings(PAGES, ENTRIES)[2]
    assert heading_at(text, start, marks, 3).endswith("1.1. Owls")  # still the section the page began in
    assert heading_at(text, start, marks, text.index("Herons wade")).endswith("1.2 Herons")


def test_a_pdf_without_an_outline_keeps_plain_page_places():
    parsed = parse("plain.pdf", makers.pdf(["Owls hunt at night.", "Herons wade at dawn."]))
    assert [(s.page, s.heading, s.marks) for s in parsed.sections] == [(1, "", ()), (2, "", ())]


def hit(page: int, heading: str) -> Hit:
    return Hit(text="t", source="b.pdf", page=page, url="", score=1.0, chunk_id=f"c{page}{heading}", doc_id="d",
               position=0, kind="documents", extra={"heading": heading} if heading else {})


def test_a_page_is_one_place_whatever_headings_its_chunks_stand_under():
    a, b = hit(18, "Primeros pasos > 2.7. Configurar dh_make"), hit(18, "Primeros pasos > 2.8. Paquete")
    assert place_of(a) == place_of(b) and place_of(a) != place_of(hit(19, ""))
    assert a.place == "p. 18 · 2.7. Configurar dh_make" and hit(19, "").place == "p. 19"
