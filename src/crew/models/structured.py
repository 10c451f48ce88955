"""Shared helpers for chat models that produce structured output without native tool calling."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, ValidationError


def role_dicts(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """Convert LangChain messages to the plain role/content dicts chat templates take."""
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    out = []
    for m in messages:
        content = m.content if isinstance(m.content, str) else str(m.content)
        out.append({"role": roles.get(m.type, "user"), "content": content})
    return out


@lru_cache(maxsize=32)
def schema_for(schema: type[BaseModel]) -> dict[str, Any]:
    """Return the JSON schema a constrained decoder follows, without titles it would echo.

    Cached: schemas are fixed classes, and building one costs a millisecond on every call.
    Callers must not mutate the returned dict.
    """
    js = schema.model_json_schema()

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("title", "description", "default")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(js)


def parse_reply(schema: type[BaseModel], raw: AIMessage) -> dict[str, Any]:
    """Parse a reply into LangChain's include_raw shape: {"raw", "parsed", "parsing_error"}."""
    text = raw.content if isinstance(raw.content, str) else str(raw.content)
    try:
        return {"raw": raw, "parsed": schema.model_validate_json(text.strip()), "parsing_error": None}
    except ValidationError as exc:
        return {"raw": raw, "parsed": None, "parsing_error": exc}


def json_object_output(schema: type[BaseModel], call: Callable[[Any, dict[str, Any]], AIMessage],
                       include_raw: bool, name: str):
    """A runnable that gets a reply by `call(messages, response_format)`, asking for JSON under the
    schema's grammar, and parses it: the shape `with_structured_output` returns."""
    from langchain_core.runnables import RunnableLambda

    response_format = {"type": "json_object", "schema": schema_for(schema)}

    def run(messages: Any) -> Any:
        result = parse_reply(schema, call(messages, response_format))
        return result if include_raw else result["parsed"]

    return RunnableLambda(run, name=f"{schema.__name__}{name}")
