"""Tokens/s of the embedded model through Crew's chat model vs raw llama.cpp, same prompts, one run.

    .venv/bin/python bench/llm_throughput.py [--json]
"""

from __future__ import annotations

import statistics
import time

from _report import args, report
from langchain_core.messages import HumanMessage

from crew.llm import embedded_gguf
from crew.local_model import LocalChatModel

PROMPTS = [
    "Explain what green tea is in a short paragraph.",
    "Describe how a bicycle works.",
    "Write a few sentences about the history of Madrid.",
    "What is photosynthesis? Answer briefly.",
    "Give three tips for learning a language.",
]
MAX_TOKENS = 128
ROUNDS = 3


def main() -> None:
    a = args(__doc__)
    model = LocalChatModel(model_path=str(embedded_gguf()), max_tokens=MAX_TOKENS, temperature=0.0)
    loaded = model._model()  # the very Llama instance Crew uses, so both paths share weights and threads
    options = {"max_tokens": MAX_TOKENS, "temperature": 0.0, "repeat_penalty": model.repeat_penalty}

    def raw(prompt: str) -> int:
        out = loaded.llama.create_chat_completion(messages=[{"role": "user", "content": prompt}], **options)
        return out["usage"]["completion_tokens"]

    def crew_invoke(prompt: str) -> int:
        return model.invoke([HumanMessage(content=prompt)]).usage_metadata["output_tokens"]

    def crew_stream(prompt: str) -> int:
        last = None
        for chunk in model.stream([HumanMessage(content=prompt)]):
            last = chunk if last is None else last + chunk
        return last.usage_metadata["output_tokens"]

    raw(PROMPTS[0])  # warm-up: first call pays for loading and caches
    rates: dict[str, list[float]] = {"raw": [], "invoke": [], "stream": []}
    for _ in range(ROUNDS):
        for prompt in PROMPTS:
            for name, fn in (("raw", raw), ("invoke", crew_invoke), ("stream", crew_stream)):
                t = time.perf_counter()
                tokens = fn(prompt)
                rates[name].append(tokens / (time.perf_counter() - t))
    med = {k: statistics.median(v) for k, v in rates.items()}
    figures = {
        "raw_tokens_per_s": round(med["raw"], 1),
        "crew_tokens_per_s": round(med["invoke"], 1),
        "crew_stream_tokens_per_s": round(med["stream"], 1),
        "ratio": round(med["invoke"] / med["raw"], 3),
        "stream_ratio": round(med["stream"] / med["raw"], 3),
    }
    report(
        "Embedded model throughput (SmolLM2-135M Q4_1, 2 cores)",
        [
            ("raw llama_cpp create_chat_completion tokens/s", figures["raw_tokens_per_s"], f"median of {ROUNDS * len(PROMPTS)} calls"),
            ("Crew LocalChatModel.invoke tokens/s", figures["crew_tokens_per_s"], "same prompts, same Llama"),
            ("Crew LocalChatModel.stream tokens/s", figures["crew_stream_tokens_per_s"], "the writer's path"),
            ("ratio (invoke / raw)", figures["ratio"], "goal >= 0.90"),
            ("stream_ratio (stream / raw)", figures["stream_ratio"], ""),
        ],
        figures,
        a.json,
    )


if __name__ == "__main__":
    main()
