"""Build a crew over temporary stores with the models and tools a test chooses."""

import pytest

from crew.agents.researcher import WebTools
from crew.fake_model import ScriptedChatModel
from crew.memory import Chunk
from crew.service import Crew


@pytest.fixture
def make_crew(settings):
    def make(models=None, tools=None, **overrides):
        s = settings.model_copy(update=overrides)
        if models is None:
            models = {}
        elif not isinstance(models, dict):
            models = {r: models for r in ("coordinator", "researcher", "writer", "critic")}
        full = {r: models.get(r) or ScriptedChatModel(responses=[]) for r in ("coordinator", "researcher", "writer", "critic")}
        return Crew.from_settings(s, models=full, tools=tools or WebTools(None, None))

    return make


@pytest.fixture
def remember():
    """Store plain passages in a workspace, one chunk each."""

    def put(crew, workspace, *texts, source="notes.md"):
        chunks = [Chunk(text=t, source=source, doc_id=f"doc-{workspace}", position=i, page=i + 1) for i, t in enumerate(texts)]
        crew.memory.workspace(workspace).add("documents", chunks)

    return put
