"""Crew: a coordinator, researchers, a writer and a critic answering a goal with cited sources.

The names the app's pages and the CLI need, in one place. They load on first use (PEP 562), so
`import crew.settings` does not pull in the engine, and nothing is built at import.

    engine/        the service (Crew, Turn), graph, state, limits, events, the one reducer, agents/, tools/ (MCP too)
    grounding/     the per-sentence support check, the extractive fallback, the settled answer
    models/        provider specs -> chat models, the embedded llama.cpp model, the fake model
    retrieval/     the Chroma memory, the keyword index, embeddings, stemming
    documents/     parsers/, ingest, the library, background uploads, re-index
    storage/       the SQL base, chats and turns, traces, job ownership
    presentation/  what the pages show, without Streamlit: safe text, turn and trace views, library rows
    evaluation/    labelled questions: runner, metrics, report (crew eval, the Evaluate page)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Crew": "crew.engine.service",
    "Turn": "crew.engine.turn",
    "TurnResult": "crew.engine.turn",
    "EmptyGoal": "crew.engine.service",
    "NotPaused": "crew.engine.service",
    "TurnInProgress": "crew.engine.service",
    "Event": "crew.engine.events",
    "source_label": "crew.engine.state",
    "Settings": "crew.settings",
    "ROLES": "crew.settings",
    "Role": "crew.settings",
    "APP_DIR": "crew.settings",
    "ModelSpecError": "crew.models.providers",
    "PROVIDERS": "crew.models.providers",
    "HINTS": "crew.models.providers",
    "access_fields": "crew.models.providers",
    "split_spec": "crew.models.providers",
    "is_embedded": "crew.models.providers",
    "Embedder": "crew.retrieval.embeddings",
    "EnglishEmbedder": "crew.retrieval.english",
    "Memory": "crew.retrieval.memory",
    "chroma_client": "crew.retrieval.memory",
    "StaleVectors": "crew.retrieval.memory",
    "WorkspaceError": "crew.retrieval.memory",
    "check_workspace": "crew.retrieval.memory",
    "tool_catalog": "crew.engine.tools.catalog",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from crew.engine.events import Event
    from crew.engine.service import Crew, EmptyGoal, NotPaused, TurnInProgress
    from crew.engine.state import source_label
    from crew.engine.tools.catalog import tool_catalog
    from crew.engine.turn import Turn, TurnResult
    from crew.models.providers import HINTS, PROVIDERS, ModelSpecError, access_fields, is_embedded, split_spec
    from crew.retrieval.embeddings import Embedder
    from crew.retrieval.english import EnglishEmbedder
    from crew.retrieval.memory import Memory, StaleVectors, WorkspaceError, check_workspace, chroma_client
    from crew.settings import APP_DIR, ROLES, Role, Settings


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'crew' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # looked up once
    return value
