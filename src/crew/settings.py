"""Hold every setting in one object, read from the environment and `.streamlit/secrets.toml`.

Each setting is said once, on its field: default, bounds, help (`description`), and where the
Settings page shows it, its label (`title`) and widget hints (`on_page`). Limits, parsers, the
page and the CLI read them from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypedDict

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, create_model, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from crew.roles import AGENTS

ROLES: tuple[str, ...] = tuple(role.name for role in AGENTS)
Role = Literal[ROLES]  # type: ignore[valid-type]  # the agents' names, as crew.roles lists them

# Estimated USD per million tokens (input, output), matched by the longest model-name prefix.
# A rough public list price, for the Traces page's estimate only; anything not listed (local,
# fake, ollama, a self-hosted server) counts as free. Override with CREW_PRICES as JSON.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
}

# The app's folder: `data/` and `.streamlit/` are looked up beside app.py, not the cwd.
APP_DIR = Path(__file__).resolve().parents[2]


class OnPage(TypedDict, total=False):
    """Where and how the Settings page shows a field; kept in the field's `json_schema_extra`.

    The widget follows the field's type (int or float: a number input, bool: a toggle), its label
    is the field's title, its help the description, and its bounds the field's ge/le.
    """

    page: str  # the section of the Settings page that shows the field, e.g. "limits"
    step: float  # the number input's step
    page_max: float  # the input's upper end where the field itself has none (le)


def on_page(page: str, *, step: float | None = None, page_max: float | None = None) -> dict[str, Any]:
    """Mark a field as shown on the Settings page: `Field(..., json_schema_extra=on_page("limits"))`."""
    shown = OnPage(page=page)
    if step is not None:
        shown["step"] = step
    if page_max is not None:
        shown["page_max"] = page_max
    return dict(shown)


class McpServer(BaseModel):
    """One MCP server whose tools the researcher may use, in the shape MCP clients commonly take:
    `{"transport": "stdio", "command": "python", "args": ["server.py"]}` or
    `{"transport": "streamable_http", "url": "http://127.0.0.1:8000/mcp"}` (crew.engine.tools.mcp).

    `env` and `headers` may carry keys: they are secrets, masked wherever the server is shown.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    transport: Literal["stdio", "streamable_http", "http"]
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, SecretStr] = Field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    workspaces: tuple[str, ...] | None = None  # None: every workspace; else only these
    tools: tuple[str, ...] | None = None  # None: every tool the server lists; else only these

    @model_validator(mode="after")
    def _complete(self) -> "McpServer":
        if self.transport == "stdio" and not self.command.strip():
            raise ValueError("a stdio MCP server needs a command")
        if self.transport != "stdio" and not self.url.lower().startswith(("http://", "https://")):
            raise ValueError("a streamable_http MCP server needs an http(s) url")
        return self

    def serves(self, workspace: str | None) -> bool:
        return self.workspaces is None or workspace is None or workspace in self.workspaces


# One model override per agent role (CREW_MODEL_<ROLE>), a field per row of crew.roles.AGENTS, so a
# new role needs no edit here.
RoleModels = create_model(
    "RoleModels",
    __base__=BaseSettings,
    **{role.model_field: (str | None, Field(None, description=f"Model of the {role.title.lower()}, who {role.job}; "
                                                               "unset: the crew-wide model"))
       for role in AGENTS},
)


class Settings(RoleModels):  # type: ignore[valid-type,misc]
    """Configuration of one Crew process; agents receive what they need from it, never read env."""

    model_config = SettingsConfigDict(
        env_prefix="CREW_", extra="ignore", populate_by_name=True
    )

    model: str = Field("local", description='The model of every role unless overridden: "provider:model" '
                                            "(local, openai:…, anthropic:…, ollama:…, fake).")

    data_dir: Path = Field(APP_DIR / "data", description="Where chats, documents, traces and vectors are kept.")
    chroma_host: str | None = Field(
        None, validation_alias=AliasChoices("CHROMA_HOST", "CREW_CHROMA_HOST", "chroma_host"),
        description="A Chroma server to keep vectors in (default: an embedded Chroma under data_dir).",
    )
    chroma_port: int = Field(
        8000, validation_alias=AliasChoices("CHROMA_PORT", "CREW_CHROMA_PORT", "chroma_port"),
        description="The Chroma server's port.",
    )
    # A secret (its password): masked wherever it is shown, and registered with crew.redact when a store
    # connects (crew.storage.postgres.open_pool).
    database_url: SecretStr | None = Field(
        None, validation_alias=AliasChoices("CREW_DATABASE_URL", "database_url"), title="Database URL",
        description="A Postgres database (postgresql://user:password@host:port/db) to keep chats, traces, the "
                    "document library, keywords and checkpoints in, for a team of app instances "
                    "(default: SQLite files under data_dir).",
    )
    turn_stale_after_s: float = Field(
        120.0, gt=0, title="Heartbeat timeout (s)",
        description="How long a turn run by an instance on another host may go without a heartbeat before the "
                    "others show it as interrupted and offer to resume it; a running turn beats every quarter of it.",
    )

    # Limits every turn obeys (crew.engine.limits.Limits.from_settings reads them).
    max_revisions: int = Field(
        2, ge=0, le=10, title="Max revision rounds", description="How often the critic may send a draft back.",
        json_schema_extra=on_page("limits", step=1),
    )
    max_steps: int = Field(
        40, ge=1, title="Max agent steps", description="Agent actions a turn may take.",
        json_schema_extra=on_page("limits", step=1, page_max=500),
    )
    max_tool_calls: int = Field(
        30, ge=0, title="Max tool calls", description="Searches and page fetches a turn may make.",
        json_schema_extra=on_page("limits", step=1, page_max=500),
    )
    token_budget: int = Field(
        60_000, ge=1, title="Token budget per turn", description="Model tokens in + out a turn may spend.",
        json_schema_extra=on_page("limits", step=1_000, page_max=5_000_000),
    )
    timeout_s: float = Field(
        300.0, ge=1.0, title="Timeout per turn (s)", description="Wall-clock limit; the best draft so far is kept.",
        json_schema_extra=on_page("limits", step=5.0, page_max=3_600.0),
    )
    loop_repeats: int = Field(
        3, ge=2, title="Loop repeats",
        description="The same tool call with the same arguments this many times is a loop and ends the turn.",
    )
    research_steps: int = Field(
        2, ge=0, le=6, title="Research actions", description="Web searches and page fetches a researcher may make per subquestion, after its memory search.",
    )
    retry_attempts: int = Field(
        3, ge=1, le=10, title="Retry attempts",
        description="Tries in all of a model or memory call that failed transiently (a timeout, a dropped connection).",
    )
    retry_wait_s: float = Field(
        0.5, ge=0, le=30, title="Retry wait (s)", description="The first wait before a retry; each next wait doubles.",
    )

    # Retrieval and tools.
    # 5: the evidence is what the labelled sets measure (page recall@5): the labelled page is among 4 passages for
    # 0.82 of the tuning questions, among 5 for 0.87 (holdout 0.76, 0.80). Quoted answers' key terms: a wash
    # (bench/quoted.py: tuning 0.39 -> 0.41, holdout 0.23 -> 0.21).
    top_k: int = Field(5, ge=1, le=20, title="Passages per search", description="Passages a researcher's memory search returns.")
    chunk_size: int = Field(800, ge=100, title="Chunk size", description="Characters per chunk of an ingested document.")
    chunk_overlap: int = Field(
        120, ge=0, title="Chunk overlap", description="Characters shared by neighbouring chunks (at most half a chunk).",
    )
    web_search: bool = Field(
        True, title="Web search (DuckDuckGo) and page fetching",
        description="Let researchers search the web and fetch pages besides your documents.",
        json_schema_extra=on_page("limits"),
    )
    # Tools from MCP servers (crew.engine.tools.mcp); the JSON of CREW_MCP_SERVERS, or [mcp_servers.NAME] tables.
    mcp_servers: dict[str, McpServer] = Field(
        default_factory=dict, title="MCP servers",
        description='MCP servers whose tools researchers may use, by name: {"directory": {"transport": "stdio", '
                    '"command": "python", "args": ["server.py"]}, "wiki": {"transport": "streamable_http", '
                    '"url": "http://127.0.0.1:8000/mcp"}}; "workspaces": [...] keeps one to those workspaces.',
    )
    mcp_timeout_s: float = Field(
        20.0, ge=0.5, le=600.0, title="MCP call timeout (s)",
        description="How long connecting to an MCP server or one call of its tools may take.",
        json_schema_extra=on_page("limits", step=1.0),
    )
    mcp_max_bytes: int = Field(
        1_000_000, ge=1_000, le=100_000_000, title="MCP reply cap (bytes)",
        description="The largest reply read from an MCP server; a larger one is refused and its connection closed.",
        json_schema_extra=on_page("limits", step=100_000),
    )
    translate_questions: Literal["auto", "on", "off"] = Field(
        "auto", title="Search in the documents' language",
        description="When a question is in another language than the passages its search finds, the researcher's "
                    "model translates it into theirs and searches again: asked in the documents' language, the "
                    "labelled cross-language questions found their page 0.95 of the time, against 0.81 (bench/"
                    "RESULTS.md). auto: on with a provider's model, off with the embedded one, which cannot translate.",
    )
    # Off is kept for comparison in bench/quality.py.
    grounded: bool = Field(
        True, title="Grounded answers",
        description="Check every sentence against the passage it cites, answer extractively when the draft does "
                    "not hold up, and say \"not found\" when no passage is relevant. Off: the writer's draft as written.",
    )
    support_threshold: float = Field(
        0.6, ge=0.1, le=1.0, title="Support threshold",
        description="How much of a sentence must be in the passage it cites for the sentence to stand. The embedded "
                    "model's sentences need all their words in the passage: it cannot paraphrase, and its sentences "
                    "that hold fewer are garbles (bench/RESULTS.md), so its answers are mostly quoted.",
    )
    # Below both relevance settings, no passage answers the question: the crew says so instead of
    # writing (as it does when no passage names what the question asks about: crew.grounding.names).
    # Calibrated by bench/not_found.py on the tuning sets: with the names, 0 of 101 answerable questions
    # wrongly refused, 25 of 27 unanswerable ones rightly.
    relevance_words: float = Field(
        0.35, ge=0.0, le=1.0, title="Relevance by words",
        description="Share of the question's words (weighted by rarity) the best passage must hold.",
    )
    relevance_meaning: float = Field(
        0.22, ge=-1.0, le=1.0, title="Relevance by meaning",
        description="Cosine similarity (USE) of the question to the best passage it must reach.",
    )
    web_timeout_s: float = Field(10.0, gt=0, description="How long a web search may take (s).")
    fetch_max_bytes: int = Field(2_000_000, ge=1, description="The most of a fetched page that is read (bytes).")
    fetch_timeout_s: float = Field(10.0, gt=0, description="How long fetching a page may take (s).")

    # Uploaded documents: caps on one file (the upload size defaults to server.maxUploadSize in
    # .streamlit/config.toml, so the UI and the engine refuse the same files).
    max_upload_mb: int | None = Field(
        None, ge=1, description="Largest file accepted, in MB (default: server.maxUploadSize of the UI).",
    )
    max_file_chunks: int = Field(50_000, ge=1, description="Most chunks one file may make.")
    max_csv_rows: int = Field(100_000, ge=1, description="Most data rows one CSV file may hold.")
    docx_max_unpacked_mb: int = Field(200, ge=1, description="Largest unpacked size of a .docx, in MB (zip bombs).")
    docx_max_ratio: float = Field(
        100.0, gt=1, description="Largest unpacked/packed ratio of a large .docx member (zip bombs).",
    )

    prices: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES),
        description="USD per million tokens (input, output) by model-name prefix, for the Traces page's cost estimate.",
    )

    # Embedded model.
    local_ctx: int = Field(8192, description="Context window of a local GGUF model, in tokens.")
    local_threads: int | None = Field(None, description="CPU threads of a local model (default: llama.cpp's).")

    # Traces out over OpenTelemetry (crew.telemetry): off without an endpoint; the app's own trace store is
    # written either way. Read when the process starts its crew, so the Settings page shows them read-only.
    otlp_endpoint: str | None = Field(
        None, title="OTLP endpoint",
        description="An OpenTelemetry collector's OTLP/HTTP base URL; each turn's spans are posted to <URL>/v1/traces "
                    "(Langfuse, Arize Phoenix, Jaeger, Grafana Tempo). Unset: traces stay in the app.",
        json_schema_extra=on_page("traces"),
    )
    # A secret (it carries keys): masked wherever it is shown, registered with crew.redact when the
    # exporter is built (crew.telemetry.otlp.parse_headers).
    otlp_headers: SecretStr | None = Field(
        None, title="OTLP headers",
        description='Headers sent with every export, as "Name=value,Name=value" '
                    '(e.g. "Authorization=Basic …" for Langfuse, "api-key=…").',
        json_schema_extra=on_page("traces"),
    )
    otlp_content: bool = Field(
        False, title="Export prompts and results",
        description="Also export the goal, step labels, tool arguments and results and the answer (redacted). "
                    "Off: only operations, agents, models, token counts, timings and statuses leave the app.",
        json_schema_extra=on_page("traces"),
    )
    otlp_timeout_s: float = Field(10.0, gt=0, description="How long one export to the collector may take (s).")

    # Provider keys: masked everywhere, passed to the provider's client and nowhere else.
    # The first alias is the environment variable the Settings page names.
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"), title="OpenAI key",
        description="The key openai: models are called with.",
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"), title="OpenAI-compatible base URL",
        description="An OpenAI-compatible server (vLLM, LM Studio, llama.cpp) to use instead of OpenAI's.",
    )
    openai_structured: Literal["json_schema", "json_object_schema", "function_calling", "json_mode"] = Field(
        "json_schema",
        description="How an OpenAI-compatible server is asked for structured replies: OpenAI, vLLM and LM Studio "
                    "take json_schema; llama.cpp's servers a schema inside json_object (json_object_schema, "
                    "grammar-constrained); some servers only tools (function_calling) or bare json_mode.",
    )
    # So a model that will not stop cannot run a turn dry.
    max_output_tokens: int = Field(1024, ge=16, description="Most tokens one reply from a provider may hold.")
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "anthropic_api_key"), title="Anthropic key",
        description="The key anthropic: models are called with.",
    )
    ollama_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OLLAMA_HOST", "OLLAMA_BASE_URL", "ollama_base_url"), title="Ollama URL",
        description="The Ollama server ollama: models run on (default: Ollama's own, on this machine).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secrets = TomlConfigSettingsSource(settings_cls, toml_file=APP_DIR / ".streamlit" / "secrets.toml")
        return init_settings, env_settings, secrets

    def model_for(self, role: Role) -> str:
        """Return the model spec of one role: its override, else the crew-wide model."""
        return getattr(self, f"model_{role}") or self.model


def default_of(name: str) -> Any:
    """Return one setting's default, for code that must agree with Settings without holding one."""
    return Settings.model_fields[name].get_default(call_default_factory=True)
