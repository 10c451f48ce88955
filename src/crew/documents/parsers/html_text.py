"""HTML with BeautifulSoup: drop scripts, styles and navigation; keep the heading path."""

from __future__ import annotations

import re
import warnings

from crew.documents.parsers.base import IngestError, ParseOptions, Parsed, Section, Tick, no_tick
from crew.documents.parsers.sniff import sniff

_DROP = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe",
         "svg", "canvas", "button", "select", "object", "embed", "head"]
_NAV_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar"}
# Classes and ids of navigation: "docnav" (DocBook/Publican's previous/next links), "banner". A plain "sidebar" is
# not among them: DocBook's <sidebar> boxes ("TIP", "BACK TO BASICS") and Sphinx's sidebar directive are content,
# so an element called "sidebar" goes only when it is mostly links (_LINKS_SHARE), as a site's side menu is.
# DocBook's class "toc" (a chapter page's list of its sections) goes too, as a PDF's contents pages do.
_NAV_CLASS = re.compile(r"(?:^|[\s_-])([a-z]*nav|navbar|navigation|menu|sphinxsidebar|breadcrumbs?|related|footer|"
                        r"banner|cookie-?banner)(?:$|[\s_-])", re.I)
_SIDEBAR = re.compile(r"(?:^|[\s_-])sidebar(?:$|[\s_-])", re.I)
_LINKS_SHARE = 0.5
_TITLE = re.compile(r"(?:^|[\s_-])title(?:$|[\s_-])", re.I)  # "title", Sphinx's "sidebar-title"; not "titlepage"
_BOX_LEVEL = 7  # below <h6>
_BLOCKS = ["p", "div", "section", "article", "main", "li", "dt", "dd", "pre", "blockquote", "tr", "table",
           "ul", "ol", "dl", "br", "hr", "figcaption", "caption", "address", "td", "th"]
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
_MARK = "\u2063H"  # invisible separator: cannot come from a page's own text after we strip it
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
_FOLD = re.compile(r"\s+")
_SPACE_BEFORE_MARK = re.compile(r" +([,.;:!?)\]])(?=\s|$)")
_BLANKS = re.compile(r"\n\s*\n\s*")
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\x0c\r")


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\u00b6", "").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def _label(tag) -> str:
    label = _SPACES.sub(" ", tag.get_text(" ", strip=True).replace("\u00b6", "")).strip()
    return _SPACE_BEFORE_MARK.sub(r"\1", label)  # "apt-get , apt" where <code> met a comma


def _mostly_links(tag) -> bool:
    text = len(tag.get_text(strip=True))
    links = sum(len(a.get_text(strip=True)) for a in tag.find_all("a"))
    return text == 0 or links >= _LINKS_SHARE * text


def parse_html(data: bytes, options: ParseOptions = ParseOptions(), tick: Tick = no_tick) -> Parsed:
    from bs4 import BeautifulSoup, NavigableString, XMLParsedAsHTMLWarning

    kind = sniff(data)
    if kind:
        raise IngestError(f"this is not an HTML page: it is {kind}")
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 is half NULs
        # Binary data (or UTF-16 without a byte-order mark) is full of control bytes; a stray one is
        # dropped, as in a text file (a NUL here, else the parser shows it as U+FFFD inside a word;
        # the others with every format's control characters after parsing).
        head = data[:65536]
        if len(head) - len(head.translate(None, _CONTROL_BYTES)) > 0.01 * len(head) + 2:
            raise IngestError("this is not an HTML page (it holds binary data)")
        data = data.replace(b"\x00", b"")
    try:
        with warnings.catch_warnings():  # XHTML (an <?xml?> line first) reads right as HTML; bs4 warns on each
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(data, "lxml")
    except Exception as exc:
        raise IngestError(f"the HTML cannot be read ({type(exc).__name__})") from None
    tick(0.3)
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        role = str(tag.get("role", "")).lower()
        classes = " ".join(tag.get("class", []) or []) + " " + str(tag.get("id", ""))
        if (role in _NAV_ROLES or tag.get("aria-hidden") == "true" or _NAV_CLASS.search(classes)
                or "toc" in (tag.get("class") or []) or (_SIDEBAR.search(classes) and _mostly_links(tag))):
            tag.decompose()
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.body or soup
    # Line breaks in HTML source are spaces, except inside <pre>: fold them so sentences stay whole.
    for node in root.find_all(string=True):
        if type(node) is NavigableString and node.find_parent(["pre", "textarea"]) is None:
            node.replace_with(_FOLD.sub(" ", str(node)))
    for tag in root.find_all(_HEADINGS):
        label = _label(tag)
        tag.replace_with(f"\n{_MARK}{tag.name[1]}:{label}\n" if label else "\n")
    # A box's title ("TIP Changing the user and group together") heads the box's text, one level below the section
    # it stands in, and the section's heading path comes back after it: quoted, the title would answer nothing.
    for box in root.find_all(lambda t: _SIDEBAR.search(" ".join(t.get("class") or []))):
        title = box.find(lambda t: _TITLE.search(" ".join(t.get("class") or [])))
        label = _label(title) if title else ""
        if label:
            title.replace_with(f"\n{_MARK}{_BOX_LEVEL}:{label}\n")
            box.append(f"\n{_MARK}{_BOX_LEVEL}:\n")
    for tag in root.find_all(_BLOCKS):
        tag.append("\n")
    tick(0.6)
    raw = root.get_text()
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        text = _tidy("\n".join(body))
        if text and not (path and text == path[-1][1]):  # a heading with nothing under it yet
            heading = " > ".join(t for _, t in path) or title
            sections.append(Section(text, heading=heading))
        body.clear()

    for line in raw.split("\n"):
        if line.startswith(_MARK):
            flush()
            level, _, label = line[len(_MARK):].partition(":")
            lv = int(level)
            path = [(l, t) for l, t in path if l < lv] + ([(lv, label)] if label else [])  # no label: a box ends
            if label:
                body.append(label)
        else:
            body.append(line)
    flush()
    tick(1.0)
    if not sections:
        raise IngestError("the HTML page holds no readable text (only scripts, styles or navigation)")
    return Parsed(sections)
