"""Run a GGUF chat model in-process with llama.cpp, with schema-constrained structured output."""

from __future__ import annotations

import threading
import weakref
from functools import lru_cache
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import BaseModel, PrivateAttr

from crew.models.structured import json_object_output, role_dicts


class _Loaded:
    """A llama.cpp model and the lock that serialises it: a Llama context is not thread-safe."""

    def __init__(self, path: str, n_ctx: int, n_threads: int | None) -> None:
        from llama_cpp import Llama

        self.llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False)
        self.lock = threading.Lock()
        # Freed at exit while llama_cpp's module is still whole: left to Llama.__del__ during interpreter
        # teardown it calls into already-cleared globals and prints "TypeError: 'NoneType' object is not
        # callable" (llama-cpp-python issues 1610, 2002). close() is safe to call twice.
        weakref.finalize(self, self.llama.close)


@lru_cache(maxsize=4)
def _load(path: str, n_ctx: int, n_threads: int | None) -> _Loaded:
    # Cached so every role on the same file shares one copy of the weights.
    return _Loaded(path, n_ctx, n_threads)


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": prompt_tokens,
        "output_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


class LocalChatModel(BaseChatModel):
    """A chat model over llama-cpp-python's `create_chat_completion`."""

    model_path: str
    n_ctx: int = 8192
    n_threads: int | None = None
    max_tokens: int = 400
    structured_max_tokens: int = 300
    temperature: float = 0.2
    repeat_penalty: float = 1.15
    _loaded: _Loaded | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-local"

    def _model(self) -> _Loaded:
        if self._loaded is None:
            self._loaded = _load(self.model_path, self.n_ctx, self.n_threads)
        return self._loaded

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "repeat_penalty": self.repeat_penalty,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        m = self._model()
        with m.lock:
            out = m.llama.create_chat_completion(
                messages=role_dicts(messages), stop=stop, **self._options(kwargs),
                response_format=kwargs.get("response_format"),
            )
        usage = out.get("usage") or {}
        msg = AIMessage(
            content=out["choices"][0]["message"]["content"] or "",
            usage_metadata=_usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
            response_metadata={"model_name": self.model_path.rsplit("/", 1)[-1],
                               "finish_reason": out["choices"][0].get("finish_reason")},
        )
        return ChatResult(generations=[ChatGeneration(message=msg)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        m = self._model()
        dicts = role_dicts(messages)
        with m.lock:
            prompt_tokens = len(m.llama.tokenize("\n".join(d["content"] for d in dicts).encode(), add_bos=True))
            produced = 0
            for part in m.llama.create_chat_completion(
                messages=dicts, stop=stop, stream=True, **self._options(kwargs)
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if not delta:
                    continue
                produced += 1
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=_usage(prompt_tokens, produced))
        )

    def with_structured_output(
        self, schema: Any, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable:
        """Decode under a grammar made from the schema, so even a tiny model emits valid JSON."""
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            raise TypeError("LocalChatModel structured output takes a pydantic model class")

        def call(messages: Any, response_format: dict[str, Any]) -> AIMessage:
            msgs = self._convert_input(messages).to_messages()
            return self.invoke(msgs, response_format=response_format, max_tokens=self.structured_max_tokens,
                               temperature=0.0)

        return json_object_output(schema, call, include_raw, "Local")
