"""Every string a page hands Streamlit to render as Markdown is a literal or goes through crew.safe_text.

An AST scan of app.py and pages/: a Streamlit call that renders Markdown (st.error, st.caption,
st.progress text, button and expander labels, `help=` tooltips, ...) may receive a string literal,
or `plain(...)`, `rich(...)`, `md("literal template", ...)` (and `md("sep").join(...)`), nothing
else: no f-string, `.format`, concatenation or variable. `md`'s template must itself be a literal,
and no page builds an `Md` by hand. So escaping cannot be forgotten: the test fails first.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from crew.presentation.safe_text import Md, SafeStream, escape_md, md, plain, rich, safe_markdown
from tests.servers import ROOT

# Streamlit calls whose text is rendered as Markdown: method -> ((positional index, keyword), ...).
MARKDOWN_ARGS = {
    **{name: ((0, "body"),) for name in ("markdown", "caption", "title", "header", "subheader", "error", "warning",
                                          "info", "success", "toast")},
    **{name: ((0, "label"),) for name in (
        "status", "expander", "popover", "button", "form_submit_button", "download_button", "link_button",
        "checkbox", "toggle", "radio", "selectbox", "multiselect", "text_input", "text_area", "number_input",
        "slider", "select_slider", "file_uploader", "date_input", "time_input", "color_picker", "camera_input",
        "feedback", "pills", "segmented_control")},
    "metric": ((0, "label"), (1, "value"), (2, "delta")),
    "page_link": ((1, "label"),),
    "progress": ((1, "text"),),
    "write_stream": ((0, "stream"),),
    "write": (),  # every positional argument
}
SAFE_BUILDERS = {"plain", "rich"}
# Reviewed exceptions: (file, method). The writer's tokens reach write_stream through SafeStream.
EXCEPTIONS = {("pages/common/turn_view.py", "write_stream")}


def page_files() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]


def _is_st(node: ast.AST) -> bool:
    """`st` or `st.sidebar`."""
    return (isinstance(node, ast.Name) and node.id == "st") or (
        isinstance(node, ast.Attribute) and node.attr == "sidebar" and _is_st(node.value))


def _is_md_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "md"
            and bool(node.args) and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))


def is_safe(node: ast.AST) -> bool:
    """A string literal, a safe builder's result, or a choice between such."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.IfExp):
        return is_safe(node.body) and is_safe(node.orelse)
    if _is_md_call(node):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SAFE_BUILDERS:
        return True
    # md("\n").join(md(...) for ...): Md.join shows each part literally unless it is an Md
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
            and _is_md_call(node.func.value))


def problems(source: str, name: str) -> list[str]:
    """What in this page's source reaches Streamlit's Markdown without the safe path."""
    found = []
    tree = ast.parse(source)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute) and _is_st(node.value) and node.attr in MARKDOWN_ARGS and id(node) not in called:
            found.append(f"{where}: st.{node.attr} used without calling it (call it with safe text instead)")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "Md":
            found.append(f"{where}: Md(...) built by hand; use md/plain/rich")
        if isinstance(func, ast.Name) and func.id == "md" and not _is_md_call(node):
            found.append(f"{where}: md() needs a string literal as its template")
        for kw in node.keywords:
            if kw.arg == "help" and not is_safe(kw.value):
                found.append(f"{where}: help= is rendered as Markdown: {ast.unparse(kw.value)}")
        if not isinstance(func, ast.Attribute) or func.attr not in MARKDOWN_ARGS:
            continue
        if (name, func.attr) in EXCEPTIONS:
            continue
        values = []
        for index, keyword in MARKDOWN_ARGS[func.attr]:
            values += [kw.value for kw in node.keywords if kw.arg == keyword]
            values += node.args[index:index + 1]
        if func.attr == "write":
            values += node.args
        for value in values:
            if not is_safe(value):
                found.append(f"{where}: {ast.unparse(func)}(...) gets {ast.unparse(value)}")
    return found


def test_every_page_renders_text_only_through_the_safe_path():
    assert len(page_files()) >= 8  # app.py, three pages, pages/common
    found = []
    for path in page_files():
        found += problems(path.read_text(), str(path.relative_to(ROOT)))
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("line", [
    'st.error(f"This turn ended with an error: {turn[\'error\']}")',
    "st.success(summary_line(r))",
    "st.progress(0.5, text=progress_label(name, stage, 0.5))",
    'st.caption("Found: " + name)',
    'st.info("{} added".format(name))',
    "st.sidebar.button(title)",
    "col.popover(label)",
    "bar.progress(0.2, text=name)",
    "st.toast(flash)",
    "st.write(text)",
    'cols[0].metric("Duration", f"{seconds} s")',
    "(st.info if dup else st.success)(plain(x))",
    "st.error(md(template, x))",
    "st.error(Md(x))",
    'st.number_input("Limit", help=text)',
    'with st.expander(f"{n}. {hit}"):\n    pass',
])
def test_the_scan_catches_raw_text(line):
    assert problems(line, "page.py"), line


@pytest.mark.parametrize("line", [
    'st.error("A fixed sentence.", icon=":material/error:")',
    'st.error(md("This turn ended with an error: {}", turn["error"]))',
    "st.success(plain(summary_line(r)))",
    "st.markdown(rich(answer))",
    'st.markdown(md("\\n").join(md("- {}", n) for n in notes))',
    'st.button("Cancelling…" if busy else "Cancel")',
    "st.text(name)",
    'st.dataframe(rows, column_config={"a": 1})',
])
def test_the_scan_lets_safe_text_through(line):
    assert problems(line, "page.py") == []


HOSTILE = "![px](https://127.0.0.1:9/p) [Verify your account](https:evil.example) <b>x</b> $5 :red[x] www.evil.example a@evil.example"


def test_plain_text_has_no_markdown_left():
    out = escape_md(HOSTILE)
    assert "](" not in out.replace("\\](", "") and "![" not in out.replace("\\![", "") and "\\<b\\>" in out
    assert "https://" not in out and "www." not in out and "a@" not in out  # nothing left to autolink
    assert escape_md("a\n\nb   c") == "a b c"
    assert escape_md("my_file*v2*.md") == "my\\_file\\*v2\\*.md"
    assert escape_md("Q1: what? survey.pdf, p. 3 openai:gpt") == "Q1: what? survey.pdf, p. 3 openai:gpt"  # prose as it is
    assert escape_md("tea :red[x] :material/home:") == "tea \\:red\\[x\\] \\:material/home:"  # no directive


def test_rich_text_keeps_emphasis_but_nothing_live():
    out = safe_markdown("**bold** and _it_ - item [1]. " + HOSTILE + " [r]: https:evil.example [^1]: x")
    assert out.startswith("**bold** and _it_ - item [1]. \\![px\\](")
    assert "](" not in out.replace("\\](", "") and "]:" not in out.replace("\\]:", "")
    assert "![" not in out.replace("\\![", "") and "\\<b>" in out and "\\$5" in out
    assert "https://" not in out and "www." not in out and "a@" not in out
    # A backslash in the text cannot undo the escape after it.
    assert safe_markdown("\\[x](y)") == "\\\\[x\\](y)"


def test_a_stream_in_pieces_is_made_as_safe_as_the_whole_text():
    text = "Costs $3! ![img](http://x/y.png) ok! [a](b) see https://evil.example/x or www.evil.example !!![z](w) end!"
    rng = random.Random(7)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 12)))
        pieces = [text[i:j] for i, j in zip([0] + cuts, cuts + [len(text)])]
        stream = SafeStream()
        assert "".join([stream.feed(p) for p in pieces] + [stream.flush()]) == safe_markdown(text)


def test_md_fills_a_template_with_literal_text():
    out = md("**{}** has {:,} chunks", "[x](https:evil.example)", 1200)
    assert isinstance(out, Md) and out == "**\\[x\\](https:evil.example)** has 1,200 chunks"
    assert md("{}", plain("_a_")) == "\\_a\\_"  # an Md is not escaped twice
    assert plain(plain("_a_")) == "\\_a\\_"
    joined = md("\n").join([md("- {}", "a*"), "b_"])
    assert isinstance(joined, Md) and joined == "- a\\*\n" + "b\\_"
    assert isinstance(rich("x"), Md)
