"""The crew of one process: its stores, its compiled graph, its models; the one entry for the UI and the CLI.

`Crew.run_turn` starts a turn (crew.engine.turn) with the settings of whoever asked: the graph is
compiled once, and each turn brings its own models, tools, limits and knobs in the runtime context.
A turn started anywhere (the page, the CLI, an evaluation) is a chat in the history unless asked not to be.
"""

from __future__ import annotations

import dataclasses
import threading
from functools import partial
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel

from crew.engine.agents.researcher import WebTools
from crew.engine.events import Event
from crew.engine.graph import build_graph
from crew.engine.turn import Turn, TurnResult
from crew.engine.watchdog import Watchdog
from crew.faults import explainer
from crew.models.cache import ModelCache
from crew.retrieval.embeddings import Embedder
from crew.retrieval.english import EnglishEmbedder
from crew.retrieval.memory import Memory, check_workspace, chroma_client
from crew.settings import Role, Settings
from crew.storage.chats import ChatStore
from crew.engine.tools.fetch_page import fetch_page
from crew.engine.tools.catalog import servers_for, tool_catalog
from crew.engine.tools.mcp import McpHub, ServerStatus
from crew.engine.tools.mcp_toolbox import McpToolbox
from crew.engine.tools.web_search import ddgs_search, web_search
from crew.storage.traces import TraceStore

if TYPE_CHECKING:
    from crew.documents.library import Library
    from crew.telemetry import TurnExporter

__all__ = ["Crew", "EmptyGoal", "NotPaused", "Turn", "TurnInProgress", "TurnResult", "Event", "web_tools"]


class EmptyGoal(ValueError):
    """The person sent nothing to work on."""


class NotPaused(LookupError):
    """A resume was asked for a turn that is not waiting for a plan review."""


class TurnInProgress(RuntimeError):
    """A chat already has a turn running; one at a time per chat."""


def web_tools(settings: Settings) -> WebTools:
    if not settings.web_search:
        return WebTools(None, None)
    return WebTools(
        web_search=partial(web_search, ddgs_search(settings.web_timeout_s)),
        fetch_page=partial(fetch_page, max_bytes=settings.fetch_max_bytes, timeout=settings.fetch_timeout_s),
    )


class Crew:
    """Everything a process needs to run turns, built once and shared by every session."""

    def __init__(
        self,
        settings: Settings,
        memory: Memory,
        traces: TraceStore,
        chats: ChatStore | None = None,
        checkpointer: Any = None,
        library: "Library | None" = None,
        models: dict[Role, BaseChatModel] | None = None,
        tools: WebTools | None = None,
        model_cache: ModelCache | None = None,
        exporter: "TurnExporter | None" = None,
        mcp: McpHub | None = None,
    ) -> None:
        self.settings = settings  # the process's defaults; a turn may bring its own
        self.memory = memory
        self.traces = traces
        self.chats = chats
        if chats is not None:  # how long another host's turn may go without a heartbeat (see Turn's beats)
            chats.stale_after_s = settings.turn_stale_after_s
        self.checkpointer = checkpointer
        self.exporter = exporter  # where finished turns go besides the trace store (OpenTelemetry), if anywhere
        self._models = models  # fixed models (tests, benches) that every turn uses
        self._tools = tools
        self._model_cache = model_cache or ModelCache()
        self.mcp = mcp or McpHub()  # MCP connections, opened on first use and kept per server configuration
        self._library = library
        self._library_lock = threading.Lock()
        self._running: dict[tuple[str, str], Turn] = {}  # the newest turn of each chat run by this process
        self._running_lock = threading.Lock()
        self.watchdog = Watchdog()  # ends turns at Stop's grace and the wall clock, for every turn
        self.graph = build_graph(checkpointer)

    @classmethod
    def from_settings(cls, settings: Settings, models: dict[Role, BaseChatModel] | None = None,
                      tools: WebTools | None = None, embedder: Embedder | None = None,
                      exporter: "TurnExporter | None" = None, english: EnglishEmbedder | None = None) -> "Crew":
        """Open the stores on the settings' backend (crew.storage.stores: SQLite files under the data dir, or
        the database of CREW_DATABASE_URL) and Chroma (embedded, or a server); models are built per turn.
        Turns are exported over OTLP when the settings name an endpoint (crew.telemetry.otlp). English chunks
        get vectors of `english` too (crew.retrieval.english; MiniLM unless given)."""
        from crew.documents.library import Library
        from crew.storage.stores import open_stores

        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        stores = open_stores(settings)
        try:
            memory = Memory(chroma_client(data, settings.chroma_host, settings.chroma_port), embedder or Embedder(),
                            keywords=stores.keywords, english=english or EnglishEmbedder())
        except BaseException:
            stores.close()
            raise
        if exporter is None and settings.otlp_endpoint:
            from crew.telemetry.otlp import OtlpExporter

            exporter = OtlpExporter.from_settings(settings)
        return cls(
            settings, memory, stores.traces, stores.chats, stores.checkpointer,
            library=Library.beside(data, memory, records=stores.documents, originals=stores.originals),
            models=models, tools=tools, exporter=exporter,
        )

    @property
    def models(self) -> dict[Role, BaseChatModel]:
        """The models of a turn on the process's own settings."""
        return self.models_for(self.settings)

    def models_for(self, settings: Settings | None = None) -> dict[Role, BaseChatModel]:
        """The models a turn with these settings uses; raises ModelSpecError for a spec that cannot be built."""
        if self._models is not None:
            return self._models
        return self._model_cache.for_roles(settings or self.settings)

    def tools_for(self, settings: Settings | None = None, workspace: str | None = None) -> WebTools:
        """The researcher's outside tools for a turn: web tools (or the fixed ones) and the workspace's MCP servers."""
        settings = settings or self.settings
        tools = self._tools if self._tools is not None else web_tools(settings)
        if tools.mcp is None:
            tools = dataclasses.replace(tools, mcp=McpToolbox.for_workspace(self.mcp, settings, workspace))
        return tools

    def mcp_status(self, settings: Settings | None = None, workspace: str | None = None) -> list[ServerStatus]:
        """How each MCP server a workspace may use is doing (connecting to those not connected yet)."""
        settings = settings or self.settings
        return self.mcp.status(servers_for(settings, workspace), timeout=settings.mcp_timeout_s,
                               max_bytes=settings.mcp_max_bytes)

    def tool_catalog(self, settings: Settings | None = None, workspace: str | None = None) -> list[dict]:
        """Every tool each role may use, built in and from MCP servers, as `crew tools` lists them."""
        return tool_catalog(settings or self.settings, workspace, self.mcp)

    def library(self) -> "Library":
        """The document library over this crew's memory (opened on first use, then shared)."""
        from crew.documents.library import Library

        with self._library_lock:
            if self._library is None:
                self._library = Library.beside(self.settings.data_dir, self.memory)
            return self._library

    def ingest(self, workspace: str, name: str, data: bytes, progress=None):
        """Add one uploaded file to a workspace's library and memory; never raises for a bad file.

        `progress(stage, fraction)` is called as parsing, chunking and embedding move on.
        """
        from crew.documents.ingest import IngestLimits, ingest_bytes

        return ingest_bytes(self.memory.workspace(workspace), name, data, library=self.library(),
                            chunk_size=self.settings.chunk_size, chunk_overlap=self.settings.chunk_overlap,
                            limits=IngestLimits.from_settings(self.settings), progress=progress,
                            explain=explainer(self.settings))

    def documents(self, workspace: str):
        """List a workspace's documents (only complete ones), newest first."""
        return self.library().documents(workspace)

    def search_documents(self, workspace: str, query: str, k: int = 5):
        """The passages of a workspace's documents the researcher's memory search would bring back."""
        return self.memory.workspace(workspace).search_documents(query, k=k)

    def delete_document(self, workspace: str, doc_id: str) -> bool:
        """Delete a document from a workspace: its chunks leave memory, then it leaves the list."""
        return self.library().delete(workspace, doc_id)

    def stale(self, workspace: str):
        """Why the workspace's stored vectors cannot be used with the running embedder ([] when they can)."""
        return self.memory.workspace(workspace).stale()

    def outdated(self, workspace: str):
        """The workspace's documents an older reader of their format read: a re-index makes better text of them."""
        return self.library().outdated(workspace)

    def reindex(self, workspace: str, only_outdated: bool = False):
        """A re-index of the workspace: every document (or, `only_outdated`, those an older reader read) read
        again from its original and embedded with the running embedder (crew.reindex); `run()` it, or `step`
        it as an upload job."""
        from crew.documents.ingest import IngestLimits
        from crew.documents.reindex import Reindex

        return Reindex(self.memory.workspace(workspace), self.library(), chunk_size=self.settings.chunk_size,
                       chunk_overlap=self.settings.chunk_overlap, limits=IngestLimits.from_settings(self.settings),
                       only_outdated=only_outdated)

    def run_turn(self, workspace: str, chat_id: str | None, goal: str, review_plan: bool = False, *,
                 settings: Settings | None = None, models: dict[Role, BaseChatModel] | None = None,
                 save_chat: bool = True) -> Turn:
        """Start a turn in the background and return it: read its events by cursor, or iterate them.

        `chat_id` None starts a new chat (titled by the goal); an id not in the history yet becomes
        a chat with that id. With `review_plan`, the turn ends early with a 'review' event and status
        "awaiting_review" after the coordinator's plan; `resume_turn` continues it. `settings` are
        the asking person's (the process's by default); `models` override the ones they name.
        `save_chat=False` keeps the turn out of the chat history (its trace is still written).
        """
        check_workspace(workspace)
        goal = (goal or "").strip()
        if not goal:
            raise EmptyGoal("the goal is empty: say what the crew should find out")
        settings = settings or self.settings
        models = models if models is not None else self.models_for(settings)
        self._check_vectors(workspace)
        if save_chat and self.chats is not None:
            chat_id = self._chat(workspace, chat_id, goal, review_plan)
        return self._start(workspace, chat_id or "", goal, settings, models, review_plan=review_plan,
                           save_chat=save_chat)

    def _chat(self, workspace: str, chat_id: str | None, goal: str, review_plan: bool) -> str:
        if chat_id and self.chats.get(workspace, chat_id) is not None:
            return chat_id
        return self.chats.create(workspace, goal, review_plan=review_plan, chat_id=chat_id).chat_id

    def _start(self, workspace: str, chat_id: str, goal: str, settings: Settings,
               models: dict[Role, BaseChatModel] | None = None, **how: Any) -> Turn:
        models = models if models is not None else self.models_for(settings)
        key = (workspace, chat_id)
        with self._running_lock:
            current = self._running.get(key)
            if current is not None and current.ended:
                current.join(10)  # its final event is in; let it finish saving to the chat history
            if current is not None and not current.done:
                raise TurnInProgress("a turn is already running in this chat: wait for it, or stop it, then ask again")
            if current is not None:
                current.save_history()  # its end, if the database was down when it came, before the next turn
            turn = self._running[key] = Turn(self, workspace, chat_id, goal, settings=settings, ctx_models=models,
                                             tools=self.tools_for(settings, workspace), **how).start()
            for other in [k for k, t in self._running.items() if t.done and k != key and t.save_history()]:
                del self._running[other]  # finished turns live on in the chat history (kept here until stored)
        return turn

    def live_turn(self, workspace: str, chat_id: str) -> Turn | None:
        """The chat's turn running in this process (or just finished and still saving), else None."""
        with self._running_lock:
            turn = self._running.get((workspace, chat_id))
        return turn if turn is not None and not turn.done else None

    def running_turns(self) -> list[Turn]:
        with self._running_lock:
            return [t for t in self._running.values() if not t.done]

    def _check_vectors(self, workspace: str) -> None:
        """Refuse a turn over vectors of another embedding model (StaleVectors says how to re-embed)."""
        try:
            found = self.memory.workspace(workspace).stale()
        except Exception:
            return  # the store is unreachable: the turn reports that itself
        if found:
            raise found[0]

    def resume_turn(self, workspace: str, chat_id: str, turn_id: str, goal: str, subquestions: list[str], *,
                    settings: Settings | None = None, models: dict[Role, BaseChatModel] | None = None,
                    prior: list[Event] | None = None) -> Turn:
        """Continue a turn paused for plan review, from its checkpoint, with the approved sub-questions.

        `prior` are the events of the turn's first part (from the chat history when not given)."""
        check_workspace(workspace)
        questions = [q for q in (" ".join(str(s).split()) for s in subquestions) if q]
        if not questions:
            raise EmptyGoal("the plan is empty: keep at least one sub-question")
        if self.checkpointer is None or not self.graph.get_state({"configurable": {"thread_id": turn_id}}).interrupts:
            raise NotPaused(f"turn {turn_id} is not waiting for a plan review")
        return self._start(workspace, chat_id, goal, settings or self.settings, models, resume=questions,
                           turn_id=turn_id, prior=self._prior(workspace, turn_id, prior))

    def continue_turn(self, workspace: str, chat_id: str, turn_id: str, goal: str, *,
                      settings: Settings | None = None, models: dict[Role, BaseChatModel] | None = None,
                      prior: list[Event] | None = None) -> Turn:
        """Carry on a turn that was interrupted (the process died) from its last checkpoint."""
        check_workspace(workspace)
        state = self.graph.get_state({"configurable": {"thread_id": turn_id}}) if self.checkpointer is not None else None
        if state is None or not state.next or state.interrupts:
            raise NotPaused(f"turn {turn_id} has no unfinished checkpoint to continue from; run it again instead")
        return self._start(workspace, chat_id, goal, settings or self.settings, models, carry_on=True,
                           turn_id=turn_id, prior=self._prior(workspace, turn_id, prior))

    def _prior(self, workspace: str, turn_id: str, given: list[Event] | None) -> list[Event]:
        if given is not None or self.chats is None:
            return list(given or [])
        record = self.chats.turn(workspace, turn_id)
        return record.event_objects() if record is not None else []

    def delete_chat(self, workspace: str, chat_id: str) -> None:
        """Delete a chat with everything it left behind: its turns, traces and checkpoints."""
        check_workspace(workspace)
        turn_ids = self.chats.delete(workspace, chat_id) if self.chats is not None else []
        self.forget_thread(workspace, chat_id, turn_ids)

    def forget_thread(self, workspace: str, chat_id: str, turn_ids: list[str]) -> None:
        """Delete what a deleted chat left behind: its traces and its turns' checkpoints."""
        check_workspace(workspace)
        self.traces.delete_thread(workspace, chat_id)
        if self.checkpointer is not None:
            for turn_id in turn_ids:
                self.checkpointer.delete_thread(turn_id)
