"""Give every page the same crew, stores and per-session settings.

The process keeps one set of stores per data dir (memory, traces, checkpoints, chats) and one
model per spec; a session's settings (changed on the Settings page) pick the crew for its next
turn. Tests put a model factory in the session state under MODELS_HOOK to run scripted models.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import streamlit as st
from langchain_core.language_models import BaseChatModel

from crew.storage.chats import ChatStore
from crew.storage.files import DataFiles
from crew.retrieval.embeddings import Embedder
from crew.models.fake import FakeCrewModel
from crew.engine.live import LiveRegistry
from crew.models.providers import MODEL_BUILD_FIELDS, build_model
from crew.engine.service import Crew
from crew.settings import ROLES, Role, Settings
from crew.storage.traces import TraceStore, price_table
from crew.documents.uploads import Uploads

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


def _secret_fingerprint(settings: Settings) -> str:
    # The model cache must tell keys apart without keeping them in its key: hash them.
    raw = "|".join(s.get_secret_value() if s else "" for s in (settings.openai_api_key, settings.anthropic_api_key))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _provider_config(settings: Settings) -> str:
    # Every setting build_model reads, so a changed one builds a new model instead of reusing a cached one.
    return json.dumps({
        **settings.model_dump(include=MODEL_BUILD_FIELDS, mode="json"), "keys": _secret_fingerprint(settings),
    }, sort_keys=True)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _model(spec: str, config: str, _settings: Settings) -> BaseChatModel:
    return build_model(spec, _settings)


def models_for(settings: Settings) -> dict[Role, BaseChatModel]:
    """One model per role; roles with the same spec share it (and its weights). Raises ModelSpecError."""
    hook: ModelsFactory | None = st.session_state.get(MODELS_HOOK)
    if hook is not None:
        return hook(settings)
    config = _provider_config(settings)
    return {role: _model(settings.model_for(role), config, settings) for role in ROLES}


def _stores_key(settings: Settings) -> str:
    return json.dumps([str(settings.data_dir), settings.chroma_host, settings.chroma_port, settings.prices], sort_keys=True)


@st.cache_resource(show_spinner="Starting the crew…", max_entries=4)
def _stores_crew(stores_key: str, _settings: Settings) -> Crew:
    # Its models are placeholders and never run a turn: every turn's crew is this one `with_settings`.
    placeholder = FakeCrewModel()
    return Crew.from_settings(_settings, models={role: placeholder for role in ROLES}, embedder=_embedder())


def stores_crew(settings: Settings | None = None) -> Crew:
    """The process's memory, library, traces and checkpoints for these settings' data dir, without
    building a chat model: documents work even when the configured model cannot be built."""
    settings = settings or session_settings()
    return _stores_crew(_stores_key(settings), settings)


@st.cache_resource(show_spinner=False, max_entries=16)
def _crew(settings_json: str, stores_key: str, _settings: Settings, _base: Crew) -> Crew:
    return _base.with_settings(_settings, models=models_for(_settings))


def get_crew(settings: Settings | None = None) -> Crew:
    """The crew for this session's next turn; raises ModelSpecError for a model that cannot be built."""
    settings = settings or session_settings()
    key = _stores_key(settings)
    models = models_for(settings)
    base = _stores_crew(key, settings)
    if st.session_state.get(MODELS_HOOK) is not None:
        return base.with_settings(settings, models=models)  # scripted models: never cached across sessions
    return _crew(settings.model_dump_json(), key, settings, base)


@st.cache_resource(show_spinner=False)
def _chat_store(path: str) -> ChatStore:
    return ChatStore(Path(path))


def chat_store(settings: Settings | None = None) -> ChatStore:
    settings = settings or session_settings()
    return _chat_store(str(DataFiles(settings.data_dir).chats))


@st.cache_resource(show_spinner=False)
def upload_queue() -> Uploads:
    """The uploads being added in this process; shared by every session."""
    return Uploads()


@st.cache_resource(show_spinner=False)
def live_registry() -> LiveRegistry:
    """The turns running in this process, by (workspace, chat); shared by every session."""
    return LiveRegistry()


@st.cache_resource(show_spinner=False)
def _trace_store(path: str, prices: str) -> TraceStore:
    return TraceStore(Path(path), price_table({k: tuple(v) for k, v in json.loads(prices).items()}))


def trace_store(settings: Settings | None = None) -> TraceStore:
    """The trace store for reading (the Traces page works even when no model can be built)."""
    settings = settings or session_settings()
    return _trace_store(str(DataFiles(settings.data_dir).traces), json.dumps(settings.prices, sort_keys=True))
