"""Make real files of every format in memory, with known text in known places."""

from __future__ import annotations

import io
import zipfile


def pdf(pages: list[str]) -> bytes:
    """A PDF with one paragraph of text per page (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for text in pages:
        y = 800
        for line in _wrap(text, 90):
            c.drawString(50, y, line)
            y -= 14
        c.showPage()
    c.save()
    return buf.getvalue()


def book_pdf(title: str, chapters: list[tuple[str, list[str]]]) -> bytes:
    """A PDF laid out like a manual: every page has a running header (the title and a folio
    "n / total"), the chapter's title under it, and a bare page number at the foot; each body
    string fills one page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    total = sum(len(bodies) for _, bodies in chapters)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    number = 0
    for chapter, bodies in chapters:
        for body in bodies:
            number += 1
            c.drawString(50, 810, f"{title} {number} / {total}")
            c.drawString(50, 795, chapter)
            y = 770
            for line in _wrap(body, 90):
                c.drawString(50, y, line)
                y -= 14
            c.drawString(290, 30, str(number))
            c.showPage()
    c.save()
    return buf.getvalue()


def table_pdf(before: str, rows: list[list[list[str]]], columns: list[int], after: str) -> bytes:
    """A page laid out as DocBook's PDFs lay out a table: a paragraph, then each row's cells drawn one after the
    other, each cell's lines going down from the row's top at its column's x (so a row's second cell is drawn
    above where its first cell ended), then a paragraph; and a second page of two columns of prose."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    y = 800
    for line in _wrap(before, 90):
        c.drawString(50, y, line)
        y -= 14
    y -= 10
    for row in rows:
        for x, cell in zip(columns, row):
            for n, line in enumerate(cell):
                c.drawString(x, y - 14 * n, line)
        y -= 14 * max(len(cell) for cell in row) + 8
    y -= 10
    for line in _wrap(after, 90):
        c.drawString(50, y, line)
        y -= 14
    c.showPage()
    for x, text in ((50, before), (310, after)):
        y = 800
        for line in _wrap(text * 3, 40):
            c.drawString(x, y, line)
            y -= 14
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf(pages: list[str], user_password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(pages))))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + [line] if line else lines


def docx(blocks: list[tuple[str, str]]) -> bytes:
    """A .docx from (kind, text) blocks: kind is 'h1'..'h3', 'p', or 'table' (rows split by ';', cells by ',')."""
    import docx as python_docx

    document = python_docx.Document()
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1]))
        elif kind == "table":
            rows = [r.split(",") for r in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
        else:
            document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def zip_bomb_docx(unpacked_mb: int, member: str = "word/media/image1.bin") -> bytes:
    """A real .docx with one extra member of zeros that deflates ~1000:1."""
    base = docx([("p", "An ordinary paragraph.")])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        block = b"\0" * (1024 * 1024)
        with out.open(member, "w") as f:
            for _ in range(unpacked_mb):
                f.write(block)
    return buf.getvalue()


def html(title: str, sections: list[tuple[str, str]], scripts: int = 3) -> bytes:
    body = "".join(f"<h2>{h}</h2><p>{p}</p>" for h, p in sections)
    script = "<script>var secret = 'TRACKER-CODE-777'; document.write(secret);</script>"
    return (
        f"<!doctype html><html><head><title>{title}</title>{script * scripts}"
        "<style>body { color: red }</style></head><body>"
        "<nav><a href='/'>Home</a> NAVIGATION-LINKS</nav>"
        f"<main><h1>{title}</h1>{body}</main>"
        f"<footer>FOOTER-TEXT</footer>{script * scripts}</body></html>"
    ).encode()


def csv_text(rows: int, header: str = "id,product,code,price") -> bytes:
    lines = [header] + [f"{i},Product {i},SKU-{i:06d},{i * 1.5:.2f}" for i in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def raw_pdf(text: bytes) -> bytes:
    """A one-page PDF whose content stream shows `text` (a PDF string body, escapes like \\000 allowed)
    in Helvetica, written by hand so the text layer holds exactly these bytes (reportlab would
    replace control characters with a glyph)."""
    ops = b"BT /F1 12 Tf 50 700 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
