"""Reading question files: the format, and every bad input refused with one line naming the line."""

from __future__ import annotations

import pytest

from crew.evaluation.questions import MAX_BYTES, Question, QuestionFileError, check_questions, parse_questions

GOOD = """# Tea questions
How much caffeine is in green tea?|tea.pdf|2|30 mg;caffeine

¿De dónde viene el té verde?|origin.html|-|China
Which pages talk about oolong?|tea.pdf|3,4|oolong
What is the price of gold in 1850?|-|-|-
A question with a | bar inside?|tea.pdf|1|bar
"""
DOCS = {"tea.pdf": 4, "origin.html": 0}


def test_a_good_file_reads_every_field():
    qs = parse_questions(GOOD.encode(), "q.txt")
    assert qs == [
        Question(2, "How much caffeine is in green tea?", "tea.pdf", (2,), ("30 mg", "caffeine")),
        Question(4, "¿De dónde viene el té verde?", "origin.html", (), ("China",)),
        Question(5, "Which pages talk about oolong?", "tea.pdf", (3, 4), ("oolong",)),
        Question(6, "What is the price of gold in 1850?", None),
        Question(7, "A question with a | bar inside?", "tea.pdf", (1,), ("bar",)),
    ]
    assert not qs[3].answerable and qs[0].answerable
    assert check_questions(qs, DOCS, "q.txt", "w") == qs


def test_a_label_with_a_path_names_the_document_by_its_base_name():
    qs = parse_questions(b"Where?|docs/html/origin.html|-|China\n", "q.txt")
    assert check_questions(qs, DOCS, "q.txt", "w")[0].source == "origin.html"


def test_asked_in_and_document_lines_give_the_languages():
    data = b"""# document: maint-guide-es es usr/share/doc/maint-guide-es/maint-guide.es.pdf
# asked in: es
Que paquete?|maint-guide.es.pdf|9|build-essential
# asked in: en
Which package?|maint-guide.es.pdf|9|build-essential
Elsewhere?|other.pdf|1|x
"""
    qs = parse_questions(data, "q.txt")
    assert [(q.language, q.source_language) for q in qs] == [("es", "es"), ("en", "es"), ("en", None)]


def test_a_bom_and_windows_line_ends_are_fine():
    qs = parse_questions("\ufeffWhere?|tea.pdf|1|tea\r\nWhy?|tea.pdf|2|why\r\n".encode(), "q.txt")
    assert [(q.line, q.text) for q in qs] == [(1, "Where?"), (2, "Why?")]


def error_of(data: bytes, docs=DOCS) -> str:
    with pytest.raises(QuestionFileError) as exc:
        check_questions(parse_questions(data, "q.txt"), docs, "q.txt", "w")
    message = str(exc.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("data, expected", [
    (b"ok?|tea.pdf|1|tea\nno fields here\n", "q.txt, line 2: 1 field where 4 are needed"),
    (b"ok?|tea.pdf|1|tea\n\nshort|tea.pdf|1\n", "q.txt, line 3: 3 fields where 4 are needed"),
    (b"|tea.pdf|1|tea\n", "q.txt, line 1: the question is empty"),
    (b"q?||1|tea\n", "q.txt, line 1: the source file is missing"),
    (b"q?|tea.pdf||tea\n", "q.txt, line 1: the page is missing"),
    (b"q?|tea.pdf|1|\n", "q.txt, line 1: the key terms are missing"),
    (b"q?|tea.pdf|1| ; - ;\n", "q.txt, line 1: the key terms are missing"),
    (b"q?|tea.pdf|two|tea\n", "q.txt, line 1: page 'two' is not a page number"),
    (b"q?|tea.pdf|0|tea\n", "q.txt, line 1: page '0' is not a page number"),
    (b"q?|-|3|tea\n", "q.txt, line 1: a question the documents do not answer has - as page and key terms"),
    (b"# c\nq?|coffee.pdf|1|tea\n", "q.txt, line 2: unknown source 'coffee.pdf': not a document of workspace w "
                                    "(it has origin.html, tea.pdf)"),
    (b"q?|tea.pdf|2,9|tea\n", "q.txt, line 1: page 9 does not exist: tea.pdf has 4 pages"),
    (b"q?|origin.html|1|tea\n", "q.txt, line 1: origin.html has no pages: write - as the page"),
    (b"", "q.txt: the file is empty"),
    (b"  \n\n", "q.txt: the file is empty"),
    (b"# only a comment\n\n", "q.txt: no questions, only comments and blank lines"),
    (b"q?|tea.pdf|1|tea\nq2?|tea.pdf|1|t\0ea\n", "q.txt, line 2: binary content (a NUL byte)"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "q.txt, line 3: binary content (a NUL byte)"),
    (b"\x89PNG\r\n", "q.txt, line 1: not UTF-8 text (byte 0x89)"),
    ("q?|tea.pdf|1|té\n".encode() + "q?|tea.pdf|1|té\n".encode("latin-1"), "q.txt, line 2: not UTF-8 text (byte 0xe9)"),
    (b"q?|tea.pdf|1|tea\x1b[31m\n", "q.txt, line 1: binary content (control character U+001B)"),
])
def test_bad_input_is_one_line_naming_the_line(data, expected):
    assert error_of(data).startswith(expected)


def test_a_huge_file_is_refused_by_its_size():
    message = error_of(b"q?|tea.pdf|1|tea\n" * (20_000_000 // 17))
    assert message.startswith("q.txt: the file is 20.0 MB; a question file may be at most 1 MB")
    assert len(b"x" * MAX_BYTES) == MAX_BYTES  # the limit itself is accepted size-wise
    parse_questions(b"q?|tea.pdf|1|tea\n".ljust(MAX_BYTES, b" "), "q.txt")


def test_an_empty_workspace_says_so():
    message = error_of(b"q?|tea.pdf|1|tea\n", docs={})
    assert message.startswith("workspace w has no documents")
