"""Store passages for crews built by make_crew (tests/conftest.py)."""

import pytest

from crew.retrieval.memory import Chunk


@pytest.fixture
def remember():
    """Store plain passages in a workspace, one chunk each."""

    def put(crew, workspace, *texts, source="notes.md"):
        chunks = [Chunk(text=t, source=source, doc_id=f"doc-{workspace}", position=i, page=i + 1) for i, t in enumerate(texts)]
        crew.memory.workspace(workspace).add("documents", chunks)

    return put
