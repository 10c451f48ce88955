"""Offer two offline chat models: `fake` (deterministic crew behaviour) and a scripted replayer.

`FakeCrewModel` plays every role well enough for UI demos and benchmarks: it plans N
sub-questions, writes a draft that quotes the numbered evidence it was given, and approves.
`ScriptedChatModel` replays queued replies in order and records every call, so a test can drive
a turn step by step and assert exactly what each agent sent.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, PrivateAttr

from crew.models.structured import parse_reply

_EVIDENCE = re.compile(r"^\[(\d+)\] (.*) \([^()]*\)$", re.M)
_GOAL = re.compile(r"^Goal:\s*(.+)$", re.M)


def _tokens(text: str) -> int:
    # A rough count (4 characters a token) so traces of fake runs still show token figures.
    return max(1, len(text) // 4)


def _usage(messages: list[BaseMessage], reply: str) -> dict[str, int]:
    tin = sum(_tokens(str(m.content)) for m in messages)
    tout = _tokens(reply)
    return {"input_tokens": tin, "output_tokens": tout, "total_tokens": tin + tout}


def _last_text(messages: list[BaseMessage]) -> str:
    return str(messages[-1].content) if messages else ""


class FakeCrewModel(BaseChatModel):
    """Deterministic, instant (or `delay` seconds a call) stand-in for every role."""

    delay: float = 0.0
    subquestions: int = 1

    @property
    def _llm_type(self) -> str:
        return "fake-crew"

    def _sleep(self) -> None:
        if self.delay > 0:
            time.sleep(self.delay)

    def _draft(self, prompt: str) -> str:
        evidence = _EVIDENCE.findall(prompt)
        if not evidence:
            return "I found no evidence in memory or on the web for this goal, so I cannot give a sourced answer."
        sentences = []
        for n, text in evidence[:4]:
            first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
            sentences.append(f"{first[:240].rstrip()} [{n}]")
        return "According to the sources: " + " ".join(sentences)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._sleep()
        reply = self._draft(_last_text(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply, usage_metadata=_usage(messages, reply)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._sleep()
        reply = self._draft(_last_text(messages))
        for word in re.findall(r"\S+\s*", reply):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word))
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=_usage(messages, reply)))

    def _structured(self, schema: type[BaseModel], messages: list[BaseMessage]) -> BaseModel:
        fields = schema.model_fields
        prompt = _last_text(messages)
        if "subquestions" in fields:
            goal_match = _GOAL.search(prompt)
            goal = goal_match.group(1).strip() if goal_match else prompt.strip()
            n = max(1, min(4, self.subquestions))
            subs = [goal] if n == 1 else [f"{goal} (part {i + 1} of {n})" for i in range(n)]
            return schema.model_validate({"subquestions": subs})
        if "decision" in fields:
            return schema.model_validate({"decision": "approve", "notes": []})
        if "action" in fields:
            return schema.model_validate({"action": "done", "argument": ""})
        raise TypeError(f"the fake model has no answer for schema {schema.__name__}")

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Runnable:
        def run(messages: Any) -> Any:
            msgs = self._convert_input(messages).to_messages()
            self._sleep()
            parsed = self._structured(schema, msgs)
            raw = AIMessage(content=parsed.model_dump_json(), usage_metadata=_usage(msgs, parsed.model_dump_json()))
            return {"raw": raw, "parsed": parsed, "parsing_error": None} if include_raw else parsed

        return RunnableLambda(run, name=f"{schema.__name__}Fake")


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
            msg.usage_metadata = _usage(messages, str(msg.content))
        return ChatResult(generations=[ChatGeneration(message=msg)])

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Runnable:
        def run(messages: Any) -> Any:
            msgs = self._convert_input(messages).to_messages()
            item = self._next(msgs, schema)
            if isinstance(item, BaseModel):
                item = item.model_dump_json()
            elif isinstance(item, dict):
                import json

                item = json.dumps(item)
            raw = AIMessage(content=str(item), usage_metadata=_usage(msgs, str(item)))
            result = parse_reply(schema, raw)
            if not include_raw:
                if result["parsing_error"]:
                    raise result["parsing_error"]
                return result["parsed"]
            return result

        return RunnableLambda(run, name=f"{schema.__name__}Scripted")
