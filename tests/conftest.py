"""Shared fixtures: a private data dir per test, no web, a guard that allows loopback only, and crews
built on scripted models."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from crew.settings import ROLES, Settings

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address) -> None:
    if isinstance(address, tuple):
        host = address[0]
        try:
            ok = ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host}")


def _guarded_connect(self, address):
    _loopback_only(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _loopback_only(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def loopback_only():
    """Fail any test that tries to open a connection beyond this machine."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex


@pytest.fixture(autouse=True)
def offline_env(monkeypatch, tmp_path):
    """Point every test (and the processes it starts) at a fresh data dir with web search off and no trace export."""
    monkeypatch.setenv("CREW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CREW_WEB_SEARCH", "false")
    for var in ("CREW_MODEL", "CHROMA_HOST", "CREW_DATABASE_URL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL",
                "CREW_OTLP_ENDPOINT", "CREW_OTLP_HEADERS", "CREW_OTLP_CONTENT"):
        monkeypatch.delenv(var, raising=False)
    for role in ROLES:
        monkeypatch.delenv(f"CREW_MODEL_{role.upper()}", raising=False)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", model="fake", web_search=False)


@pytest.fixture(scope="session")
def embedder():
    from crew.retrieval.embeddings import Embedder

    return Embedder()


@pytest.fixture
def make_crew(tmp_path, embedder):
    """Build a crew over the test's temporary stores: `make(models, tools, **settings_overrides)`.

    `models` maps a role to a chat model, or to a list of replies for a scripted model; roles not
    given get a scripted model with no replies. No web tools unless given; retries wait 10 ms.
    Scripted drafts exercise the loop (revisions, limits, stops), so the support check that would
    rewrite them is off unless a test asks for `grounded=True` (tests/engine/test_grounding.py).
    """
    from crew.engine.agents.researcher import WebTools
    from tests.doubles import ScriptedChatModel
    from crew.engine.service import Crew

    def make(models: dict[str, Any] | None = None, tools: WebTools | None = None, **overrides) -> Crew:
        base = {"data_dir": tmp_path / "data", "model": "fake", "web_search": False, "retry_wait_s": 0.01,
                "grounded": False}
        settings = Settings(**{**base, **overrides})
        models = models or {}
        full = {}
        for role in ROLES:
            model = models.get(role) or []
            full[role] = ScriptedChatModel(responses=list(model)) if isinstance(model, list) else model
        # One embedding model for the whole session, loaded once.
        return Crew.from_settings(settings, models=full, tools=tools or WebTools(None, None), embedder=embedder)

    return make


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on a free loopback port, stopped after the module's tests."""
    from tests.servers import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server (Debian's, `initdb` + `pg_ctl` in a temp dir) on a free loopback port for
    the whole session; its `url` names the database `crew`, `create_database(name)` makes another.
    Missing binaries fail here with the command that installs them."""
    from tests.postgres import PostgresServer

    with PostgresServer() as server:
        yield server


class Backend:
    """Stores of one backend for a test: SQLite files in the test's data dir, or a fresh Postgres database.

    `chats()`, `traces(price)`, `documents()` and `originals()` open a store (a second call opens a second one on the same
    data, as another process would); `sql(store, text, args)` runs a statement written with `{}` for each
    argument on that store (tests that reach under the protocol, e.g. to age a heartbeat).
    """

    def __init__(self, name: str, data_dir, url: str | None) -> None:
        self.name, self.data_dir, self.url = name, data_dir, url
        self._opened: list[Any] = []

    def _keep(self, store):
        self._opened.append(store)
        return store

    def chats(self):
        if self.url:
            from crew.storage.pg_chats import PgChats

            return self._keep(PgChats(self.url))
        from crew.storage.chats import ChatStore
        from crew.storage.files import DataFiles

        return self._keep(ChatStore(DataFiles(self.data_dir).chats))

    def traces(self, price=None):
        from crew.storage.traces import no_cost

        if self.url:
            from crew.storage.pg_traces import PgTraces

            return self._keep(PgTraces(self.url, price or no_cost))
        from crew.storage.files import DataFiles
        from crew.storage.traces import TraceStore

        return self._keep(TraceStore(DataFiles(self.data_dir).traces, price or no_cost))

    def documents(self):
        if self.url:
            from crew.storage.pg_documents import PgDocuments

            return self._keep(PgDocuments(self.url))
        from crew.storage.documents_table import DocumentsTable
        from crew.storage.files import DataFiles

        return self._keep(DocumentsTable(DataFiles(self.data_dir).library))

    def originals(self):
        if self.url:
            from crew.storage.pg_originals import PgOriginals

            return self._keep(PgOriginals(self.url))
        from crew.documents.originals import FileOriginals
        from crew.storage.files import DataFiles

        return self._keep(FileOriginals(DataFiles(self.data_dir).originals))

    def sql(self, store, text: str, args=()) -> int:
        return store.run(text.format(*(["%s" if self.url else "?"] * len(args))), args)

    def close(self) -> None:
        for store in reversed(self._opened):
            store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path):
    """Each store test once on SQLite and once on a real Postgres (a fresh database per test)."""
    url = None
    if request.param == "postgres":
        import uuid

        url = request.getfixturevalue("postgres_server").create_database(f"t_{uuid.uuid4().hex[:12]}")
    opened = Backend(request.param, tmp_path / "data", url)
    yield opened
    opened.close()
