"""HTML text as people's manuals are written: DocBook boxes are content, their previous/next links are not."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from crew.documents.parsers.html_text import parse_html

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("CREW_CORPUS", ROOT / "bench" / "out" / "corpus"))
HANDBOOK = CORPUS / "debian-handbook" / "usr/share/doc/debian-handbook/html/es-ES/sect.apt-get.html"

# The shape DocBook XSL / Publican give a section page: an XML declaration, a banner, previous/next links
# above and below, a <sidebar> box inside the text, and a heading whose <code> meets a comma.
DOCBOOK_PAGE = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>6.2. Tools</title></head><body>
<div id="banner"><a href="http://example.org/get/"><span class="text">Download the ebook</span></a></div>
<ul class="docnav top"><li class="previous"><a href="apt.html">Previous</a></li>
<li class="home">The Handbook</li><li class="next"><a href="next.html">Next</a></li></ul>
<div class="toc"><dl><dt>6.1. <a href="s61.html">Sources of packages</a></dt></dl></div>
<div class="section"><h2 class="title">6.2. The <code class="command">aptitude</code>, <code>apt-get</code> tools</h2>
<div class="para">APT keeps the list of packages in its cache.</div>
<div class="sidebar"><div class="titlepage"><p class="title"><strong>TIP Incremental updates</strong></p></div>
<div class="para">Set Acquire::PDiffs to false to download the whole Packages file.</div></div>
<div class="para">Then run apt update as root.</div>
</div>
<div class="sidebar"><a href="a.html">Chapter one</a> <a href="b.html">Chapter two</a></div>
<ul class="docnav"><li class="previous"><a href="apt.html">Previous</a></li><li class="up"><a href="#">Up</a></li></ul>
</body></html>""".encode()


def test_docbook_boxes_are_kept_and_its_navigation_dropped():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # bs4 warns about XHTML on every page unless told
        parsed = parse_html(DOCBOOK_PAGE)
    text = "\n".join(s.text for s in parsed.sections)
    assert "Acquire::PDiffs" in text and "TIP Incremental updates" in text
    for navigation in ("Download the ebook", "Previous", "Next", "Up", "Chapter one", "Sources of packages"):
        assert navigation not in text
    heading = {s.text.split("\n")[-1]: s.heading for s in parsed.sections}
    # The box's title heads its text (a quote of it would answer nothing); after the box, the section again.
    assert heading["Set Acquire::PDiffs to false to download the whole Packages file."] == \
        "6.2. The aptitude, apt-get tools > TIP Incremental updates"
    assert heading["Then run apt update as root."] == "6.2. The aptitude, apt-get tools"


def test_a_real_docbook_manual_keeps_its_tip_boxes():
    # scripts/setup --dev unpacks the corpus: a missing file is a broken install, not a skip.
    assert HANDBOOK.is_file(), f"{HANDBOOK} is missing: run bash scripts/corpus"
    parsed = parse_html(HANDBOOK.read_bytes())
    text = "\n".join(s.text for s in parsed.sections)
    # Both are inside <div class="sidebar"> boxes of section 6.2 of the Debian Administrator's Handbook.
    assert "Acquire::PDiffs" in text and "dpkg --get-selections" in text
    assert "Download the ebook" not in text and "Anterior" not in text
    chapter = parse_html(HANDBOOK.with_name("apt.html").read_bytes())
    assert "6.3. La orden apt-cache" not in "\n".join(s.text for s in chapter.sections)  # its contents list
    assert parsed.sections[0].heading == "6.2. Los programas aptitude, apt-get y apt"
