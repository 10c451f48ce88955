"""Offer the `fake` provider: an offline chat model with deterministic crew behaviour.

`FakeCrewModel` plays every role well enough for UI demos and benchmarks: it plans N
sub-questions, writes a draft that quotes the numbered evidence it was given, and approves.
Which role it plays is told by the reply's schema class (crew.roles maps it to the role).
The test double that replays scripted replies lives in tests/doubles.py.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, ValidationError

from crew.roles import role_for_schema

_EVIDENCE = re.compile(r"^\[(\d+)\] (.*) \([^()]*\)$", re.M)
_GOAL = re.compile(r"^Goal:\s*(.+)$", re.M)


def _tokens(text: str) -> int:
    # A rough count (4 characters a token) so traces of fake runs still show token figures.
    return max(1, len(text) // 4)


def token_usage(messages: list[BaseMessage], reply: str) -> dict[str, int]:
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
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply, usage_metadata=token_usage(messages, reply)))])

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
        yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=token_usage(messages, reply)))

    def _plan(self, prompt: str) -> dict[str, Any]:
        goal_match = _GOAL.search(prompt)
        goal = goal_match.group(1).strip() if goal_match else prompt.strip()
        n = max(1, min(4, self.subquestions))
        return {"subquestions": [goal] if n == 1 else [f"{goal} (part {i + 1} of {n})" for i in range(n)]}

    def _structured(self, schema: type[BaseModel], messages: list[BaseMessage]) -> BaseModel:
        role = role_for_schema(schema)
        reply = _REPLIES.get(role.name) if role else None
        if reply is not None:
            return schema.model_validate(reply(self, _last_text(messages)))
        try:  # a role added since: its schema's defaults, so demos still run end to end
            return schema()
        except ValidationError:
            raise TypeError(f"the fake model has no answer for schema {schema.__name__}") from None

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Runnable:
        def run(messages: Any) -> Any:
            msgs = self._convert_input(messages).to_messages()
            self._sleep()
            parsed = self._structured(schema, msgs)
            raw = AIMessage(content=parsed.model_dump_json(), usage_metadata=token_usage(msgs, parsed.model_dump_json()))
            return {"raw": raw, "parsed": parsed, "parsing_error": None} if include_raw else parsed

        return RunnableLambda(run, name=f"{schema.__name__}Fake")


# What the fake answers each role's structured request with (the writer's draft is free text):
# a plan of `subquestions` parts, no web action, and approval.
_REPLIES: dict[str, Callable[[FakeCrewModel, str], dict[str, Any]]] = {
    "coordinator": FakeCrewModel._plan,
    "researcher": lambda model, prompt: {"action": "done", "argument": ""},
    "critic": lambda model, prompt: {"decision": "approve", "notes": []},
}
