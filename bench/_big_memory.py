"""A big workspace for bench/scale.py: N synthetic chunks with synthetic vectors, and its search times.

Texts: about 800 characters (the default chunk size, so each chunk also gets its ~300-character windows,
crew.retrieval.windows) of words drawn by Zipf's law from a 50k-word vocabulary that starts with the
repository's own prose and question sets (English and Spanish) in their order of frequency: common words are
common, rare ones rare, as in a real library, which is what keyword postings cost. Vectors: as
bench/retrieval.py does at 100k, not embedded (that would take hours here): each chunk is a topic's direction
plus noise, each window its chunk's vector plus a little more, renormalised.
Questions: six running words of a random chunk, embedded for real at search time.
"""

from __future__ import annotations

import re
import time
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

from crew.retrieval.memory import Chunk, WorkspaceMemory
from crew.retrieval.windows import windows_of

WORD = re.compile(r"[^\W\d_]{2,}")
TOPICS = 2000
WORDS_PER_CHUNK = 125  # ~800 characters
VOCABULARY = 50_000
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def vocabulary(root: Path, rng: np.random.Generator, size: int = VOCABULARY) -> tuple[list[str], np.ndarray]:
    """`size` words and each one's chance, by Zipf's law (s = 1, as in prose): the repository's own words
    first, most frequent first (its stopwords lead, as in any text), then made-up words to the size a library
    of 100k chunks has (the repository alone has ~2.5k words: every content word would be in most chunks)."""
    counts: Counter[str] = Counter()
    for path in sorted([*root.glob("*.md"), *root.glob("bench/*.md"), *root.glob("bench/sets/*.txt")]):
        counts.update(w.lower() for w in WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
    words = [w for w, _ in counts.most_common(size)]
    known = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES, int(rng.integers(2, 5))))
        if word not in known:
            known.add(word)
            words.append(word)
    chance = 1.0 / (np.arange(size) + 2.7)  # Zipf-Mandelbrot: the few commonest words a little flatter
    return words, chance / chance.sum()


def texts(n: int, rng: np.random.Generator, root: Path) -> list[str]:
    words, chance = vocabulary(root, rng)
    picks = rng.choice(len(words), size=(n, WORDS_PER_CHUNK), p=chance)
    return [" ".join(words[j] for j in row) + f" item {i}." for i, row in enumerate(picks)]


def questions(corpus: list[str], count: int, rng: np.random.Generator) -> list[str]:
    out = []
    for i in rng.choice(len(corpus), size=count, replace=False):
        words = corpus[i].split()
        start = int(rng.integers(0, len(words) - 7))
        out.append(" ".join(words[start : start + 6]) + "?")
    return out


class SyntheticVectors:
    """The `embed` of `WorkspaceMemory.add` for one batch of chunks: their rows' vectors without a model."""

    def __init__(self, dim: int, seed: int = 7) -> None:
        self.rng = np.random.default_rng(seed)
        centres = self.rng.normal(size=(TOPICS, dim)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    def _near(self, base: np.ndarray, sigma: float) -> np.ndarray:
        v = base + self.rng.normal(0, sigma, size=base.shape).astype(np.float32)
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    def for_batch(self, chunks: list[Chunk]):
        def embed(row_texts: list[str]) -> np.ndarray:
            # windows.rows asks for the chunks' rows first, then each chunk's windows in order.
            own = self._near(self.centres[[zlib.crc32(c.text.encode()) % TOPICS for c in chunks]], 0.03)
            parts = [own] + [self._near(np.repeat(own[i : i + 1], len(windows_of(c.text)), axis=0), 0.02)
                             for i, c in enumerate(chunks)]
            out = np.concatenate(parts)
            assert len(out) == len(row_texts), (len(out), len(row_texts))
            return out

        return embed


def fill(ws: WorkspaceMemory, corpus: list[str], vectors: SyntheticVectors, batch: int) -> float:
    """Store the corpus as chunks of one document per 100; return the seconds it took."""
    t = time.perf_counter()
    for start in range(0, len(corpus), batch):
        part = [Chunk(text=text, source="big.md", doc_id=f"d{(start + i) // 100}", position=start + i)
                for i, text in enumerate(corpus[start : start + batch])]
        ws.add("documents", part, batch=len(part), embed=vectors.for_batch(part))
    return time.perf_counter() - t


def search_times(spaces: dict[str, WorkspaceMemory], queries: list[str], mode: str = "hybrid") -> dict[str, list[float]]:
    """Milliseconds per search as the researcher makes it (k=5), the spaces taking turns query by query."""
    for q in queries[:10]:
        for ws in spaces.values():
            ws.search(q, k=5, mode=mode)  # warm-up
    out: dict[str, list[float]] = {name: [] for name in spaces}
    for q in queries:
        for name, ws in spaces.items():
            t = time.perf_counter()
            ws.search(q, k=5, mode=mode)
            out[name].append((time.perf_counter() - t) * 1000)
    return out
