"""Give every page the same crew and this session's settings.

The process keeps one crew per set of stores (data dir, Chroma server): its memory, library,
traces, chats, checkpoints, compiled graph and built models. A session's settings (changed on the
Settings page) travel with each of its turns. Tests put a model factory in the session state under
MODELS_HOOK to run scripted models.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

import streamlit as st
from langchain_core.language_models import BaseChatModel

from crew.documents.uploads import Uploads
from crew import Crew
from crew import Embedder
from crew.settings import Role, Settings
from crew.storage.chats import ChatStore
from crew.storage.traces import TraceStore

OVERRIDES_KEY = "crew_settings_overrides"
# A callable(Settings) -> dict[Role, BaseChatModel]; when set, the session's turns use its models.
MODELS_HOOK = "crew_models_factory"
ModelsFactory = Callable[[Settings], dict[Role, BaseChatModel]]


def overrides() -> dict[str, Any]:
    return dict(st.session_state.get(OVERRIDES_KEY, {}))


def set_overrides(values: dict[str, Any]) -> None:
    """Replace this session's settings overrides; the next turn runs with them."""
    st.session_state[OVERRIDES_KEY] = dict(values)


def session_settings() -> Settings:
    """Settings from env / secrets.toml, with this session's changes from the Settings page on top."""
    return Settings(**overrides())


@st.cache_resource(show_spinner=False)
def _embedder() -> Embedder:
    return Embedder()


def _stores_key(settings: Settings) -> str:
    # The database URL holds a password: the key (kept in Streamlit's cache) holds only its digest.
    url = settings.database_url.get_secret_value() if settings.database_url else ""
    database = hashlib.sha256(url.encode()).hexdigest() if url else None
    return json.dumps([str(settings.data_dir), settings.chroma_host, settings.chroma_port, database, settings.prices],
                      sort_keys=True)


@st.cache_resource(show_spinner="Starting the crew…", max_entries=4)
def _crew(stores_key: str, _settings: Settings) -> Crew:
    return Crew.from_settings(_settings, embedder=_embedder())


def get_crew(settings: Settings | None = None) -> Crew:
    """The process's crew for these settings' stores; building it needs no chat model, so documents,
    chats and traces work even when the configured model cannot be built."""
    settings = settings or session_settings()
    return _crew(_stores_key(settings), settings)


def models_for(settings: Settings) -> dict[Role, BaseChatModel]:
    """The session's models, one per role (built once per process); raises ModelSpecError."""
    hook: ModelsFactory | None = st.session_state.get(MODELS_HOOK)
    if hook is not None:
        return hook(settings)
    return get_crew(settings).models_for(settings)


def chat_store(settings: Settings | None = None) -> ChatStore:
    return get_crew(settings).chats


def trace_store(settings: Settings | None = None) -> TraceStore:
    """The trace store for reading (the Traces page works even when no model can be built)."""
    return get_crew(settings).traces


@st.cache_resource(show_spinner=False)
def upload_queue() -> Uploads:
    """The uploads being added in this process; shared by every session."""
    return Uploads()
