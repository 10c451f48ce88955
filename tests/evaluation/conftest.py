"""A small real workspace: a three-page PDF and a Markdown file, ingested as an upload would be."""

from __future__ import annotations

import pytest

from tests.documents import makers

PAGES = [
    "A short guide to tea. Contents: caffeine, oolong.",
    "A cup of green tea holds about 30 mg of caffeine, much less than a cup of coffee.",
    "Oolong tea is partly oxidised before it is dried, between green and black tea.",
]
ORIGIN = b"# Origin\n\nGreen tea was first grown in China, in the mountains of Yunnan province.\n"
QUESTIONS = """# Labelled questions over tea.pdf and origin.md
How much caffeine does a cup of green tea have?|tea.pdf|2|30 mg;caffeine
¿Cuánta cafeína tiene una taza de té verde?|tea.pdf|2|30 mg
Which tea is partly oxidised before drying?|tea.pdf|3|oolong
Where was green tea first grown?|origin.md|-|China;Yunnan
What did an ounce of gold cost in 1850?|-|-|-
"""


@pytest.fixture
def tea_workspace(make_crew):
    """Workspace "tea" in this test's data dir (the one CREW_DATA_DIR names), and the crew over it."""
    crew = make_crew()
    for name, data in (("tea.pdf", makers.pdf(PAGES)), ("origin.md", ORIGIN)):
        assert crew.ingest("tea", name, data).status == "ok"
    return crew
