"""Test doubles: a chat model that replays scripted replies and records what each agent sent."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, PrivateAttr

from crew.models.fake import token_usage
from crew.models.structured import parse_reply


class ScriptedChatModel(BaseChatModel):
    """Replay queued replies in order, one per call, and record every call.

    A queued item is a string or AIMessage (a plain reply), a pydantic object or dict (a
    structured reply), an Exception (raised), or a callable taking the messages (computed reply).
    A string given to a structured call is parsed as JSON, so malformed replies can be scripted.
    """

    responses: list[Any] = []
    delay: float = 0.0
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _calls: list[dict[str, Any]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def calls(self) -> list[dict[str, Any]]:
        return list(self._calls)

    def enqueue(self, *items: Any) -> None:
        with self._lock:
            self.responses.extend(items)

    def _next(self, messages: list[BaseMessage], schema: type[BaseModel] | None) -> Any:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self._calls.append({"messages": messages, "schema": schema.__name__ if schema else None})
            if not self.responses:
                raise RuntimeError(f"scripted model ran out of replies at call {len(self._calls)}")
            item = self.responses.pop(0)
        if callable(item) and not isinstance(item, BaseModel):
            item = item(messages)
        if isinstance(item, BaseException):
            raise item
        return item

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        item = self._next(messages, None)
        msg = item if isinstance(item, AIMessage) else AIMessage(content=str(item))
        if msg.usage_metadata is None:
            msg.usage_metadata = token_usage(messages, str(msg.content))
        return ChatResult(generations=[ChatGeneration(message=msg)])

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Runnable:
        def run(messages: Any) -> Any:
            msgs = self._convert_input(messages).to_messages()
            item = self._next(msgs, schema)
            if isinstance(item, BaseModel):
                item = item.model_dump_json()
            elif isinstance(item, dict):
                item = json.dumps(item)
            raw = AIMessage(content=str(item), usage_metadata=token_usage(msgs, str(item)))
            result = parse_reply(schema, raw)
            if not include_raw:
                if result["parsing_error"]:
                    raise result["parsing_error"]
                return result["parsed"]
            return result

        return RunnableLambda(run, name=f"{schema.__name__}Scripted")
