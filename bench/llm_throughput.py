"""Tokens/s of the embedded model through Crew's chat model vs raw llama.cpp, same prompts, one run.

    .venv/bin/python bench/llm_throughput.py [--json]

Like with like: llama.cpp reuses the KV cache of a prompt prefix it has just evaluated, so the
second path to see a prompt skips its evaluation. Every call here starts from an empty cache
(`Llama.reset()`), and the order of the paths rotates each round. End-to-end tokens/s include
the prompt's evaluation; decode tokens/s count only the tokens after the first one, from the
streamed paths.
"""

from __future__ import annotations

import statistics
import time

from _report import args, report
from langchain_core.messages import HumanMessage

from crew.models.providers import embedded_gguf
from crew.models.local import LocalChatModel

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

    def raw(prompt: str) -> tuple[int, float | None]:
        out = loaded.llama.create_chat_completion(messages=[{"role": "user", "content": prompt}], **options)
        return out["usage"]["completion_tokens"], None

    def raw_stream(prompt: str) -> tuple[int, float | None]:
        first, pieces = None, 0
        for chunk in loaded.llama.create_chat_completion(messages=[{"role": "user", "content": prompt}], stream=True,
                                                          **options):
            if chunk["choices"][0]["delta"].get("content"):
                first = first or time.perf_counter()
                pieces += 1
        return pieces, first

    def crew_invoke(prompt: str) -> tuple[int, float | None]:
        return model.invoke([HumanMessage(content=prompt)]).usage_metadata["output_tokens"], None

    def crew_stream(prompt: str) -> tuple[int, float | None]:
        last, first = None, None
        for chunk in model.stream([HumanMessage(content=prompt)]):
            if chunk.content:
                first = first or time.perf_counter()
            last = chunk if last is None else last + chunk
        return last.usage_metadata["output_tokens"], first

    paths = [("raw", raw), ("raw_stream", raw_stream), ("invoke", crew_invoke), ("stream", crew_stream)]
    raw(PROMPTS[0])  # warm-up: first call pays for loading
    rates: dict[str, list[float]] = {name: [] for name, _ in paths}
    decode: dict[str, list[float]] = {"raw_stream": [], "stream": []}
    for round_ in range(ROUNDS):
        for prompt in PROMPTS:
            for name, fn in paths[round_ % len(paths):] + paths[: round_ % len(paths)]:
                loaded.llama.reset()  # no path may reuse another's evaluated prompt
                t = time.perf_counter()
                tokens, first = fn(prompt)
                end = time.perf_counter()
                rates[name].append(tokens / (end - t))
                if first is not None and tokens > 1 and end > first:
                    decode[name].append((tokens - 1) / (end - first))
    med = {k: statistics.median(v) for k, v in rates.items()}
    dec = {k: statistics.median(v) for k, v in decode.items() if v}
    figures = {
        "raw_tokens_per_s": round(med["raw"], 1),
        "crew_tokens_per_s": round(med["invoke"], 1),
        "crew_stream_tokens_per_s": round(med["stream"], 1),
        "raw_decode_tokens_per_s": round(dec.get("raw_stream", 0.0), 1),
        "crew_decode_tokens_per_s": round(dec.get("stream", 0.0), 1),
        "ratio": round(med["invoke"] / med["raw"], 3),
        "stream_ratio": round(med["stream"] / med["raw_stream"], 3),
        "decode_ratio": round(dec.get("stream", 0.0) / dec["raw_stream"], 3) if dec.get("raw_stream") else None,
    }
    report(
        "Embedded model throughput (SmolLM2-135M Q4_1, 2 cores)",
        [
            ("raw llama_cpp create_chat_completion tokens/s", figures["raw_tokens_per_s"], f"median of {ROUNDS * len(PROMPTS)} calls"),
            ("Crew LocalChatModel.invoke tokens/s", figures["crew_tokens_per_s"], "same prompts, same Llama"),
            ("Crew LocalChatModel.stream tokens/s", figures["crew_stream_tokens_per_s"], "the writer's path"),
            ("raw decode tokens/s (after the first token)", figures["raw_decode_tokens_per_s"], "raw, streamed"),
            ("Crew decode tokens/s (after the first token)", figures["crew_decode_tokens_per_s"], "Crew, streamed"),
            ("ratio (invoke / raw)", figures["ratio"], "end to end, empty KV cache each call; goal >= 0.90"),
            ("stream_ratio (Crew stream / raw stream)", figures["stream_ratio"], ""),
            ("decode_ratio (Crew / raw)", figures["decode_ratio"], ""),
        ],
        figures,
        a.json,
    )


if __name__ == "__main__":
    main()
