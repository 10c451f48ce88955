"""Hold every setting in one object, read from the environment and `.streamlit/secrets.toml`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, create_model
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

    model: str = "local"

    data_dir: Path = APP_DIR / "data"
    chroma_host: str | None = Field(
        None, validation_alias=AliasChoices("CHROMA_HOST", "CREW_CHROMA_HOST", "chroma_host")
    )
    chroma_port: int = Field(
        8000, validation_alias=AliasChoices("CHROMA_PORT", "CREW_CHROMA_PORT", "chroma_port")
    )

    # Limits every turn obeys.
    max_revisions: int = Field(2, ge=0, le=10)
    max_steps: int = Field(40, ge=1)
    max_tool_calls: int = Field(30, ge=0)
    token_budget: int = Field(60_000, ge=1)
    timeout_s: float = Field(300.0, gt=0)
    loop_repeats: int = Field(3, ge=2)
    research_steps: int = Field(2, ge=0, le=6)
    # Transient model and memory failures: tries in all, and the first backoff wait (it doubles).
    retry_attempts: int = Field(3, ge=1, le=10)
    retry_wait_s: float = Field(0.5, ge=0, le=30)

    # Retrieval and tools.
    top_k: int = Field(4, ge=1, le=20)
    chunk_size: int = Field(800, ge=100)
    chunk_overlap: int = Field(120, ge=0)
    web_search: bool = True
    # Answers grounded by construction: every sentence checked against the passage it cites,
    # an extractive answer when the model's draft does not hold up, and "not found" when no
    # passage is relevant. Off: the writer's draft as written (for comparison in bench/quality.py).
    grounded: bool = True
    support_threshold: float = Field(0.6, ge=0.1, le=1.0)
    # Below both of these, no passage answers the question: the crew says so instead of writing.
    # relevance_words: share of the question's words (weighted by rarity) in the best passage;
    # relevance_meaning: cosine similarity (USE) of the question to the best passage. Calibrated by
    # bench/not_found.py on the tuning sets: 1 of 77 answerable questions wrongly refused.
    relevance_words: float = Field(0.35, ge=0.0, le=1.0)
    relevance_meaning: float = Field(0.22, ge=-1.0, le=1.0)
    web_timeout_s: float = 10.0
    fetch_max_bytes: int = 2_000_000
    fetch_timeout_s: float = 10.0

    # Uploaded documents: caps on one file (the upload size defaults to server.maxUploadSize in
    # .streamlit/config.toml, so the UI and the engine refuse the same files).
    max_upload_mb: int | None = Field(None, ge=1)
    max_file_chunks: int = Field(50_000, ge=1)
    max_csv_rows: int = Field(100_000, ge=1)
    docx_max_unpacked_mb: int = Field(200, ge=1)
    docx_max_ratio: float = Field(100.0, gt=1)

    # Cost estimate for the Traces page.
    prices: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    # Embedded model.
    local_ctx: int = 8192
    local_threads: int | None = None

    # Provider keys: masked everywhere, passed to the provider's client and nowhere else.
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url")
    )
    # How OpenAI-compatible servers are asked for structured replies: OpenAI itself, vLLM and
    # LM Studio take json_schema; llama.cpp's servers take a schema inside json_object
    # ("json_object_schema", grammar-constrained); some servers only tools, or bare json_mode.
    openai_structured: Literal["json_schema", "json_object_schema", "function_calling", "json_mode"] = "json_schema"
    # A cap on every reply from a provider, so a model that will not stop cannot run a turn dry.
    max_output_tokens: int = Field(1024, ge=16)
    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "anthropic_api_key")
    )
    ollama_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OLLAMA_HOST", "OLLAMA_BASE_URL", "ollama_base_url")
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
