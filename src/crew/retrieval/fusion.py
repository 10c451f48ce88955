"""Merge the rankings of one search into the passages it returns: weighted reciprocal rank fusion,
then one passage per place.

Pure functions over keys the caller chooses (memory passes `(kind, chunk_id)`), so they are tested
without a store.

One passage per place: chunks overlap (120 characters of 800) and a page's chunks share its words,
so the three best chunks of a search were often three pieces of one page, and the other pages that
might answer fell out of the top 5. Keeping the best chunk of each place (page of a PDF, section of
an HTML page) and filling the top with the next places lifted page recall@5 on the labelled tuning
sets from 0.82 to 0.86 (63 -> 66 of 77 questions: Spanish 27 -> 28, cross-language 17 -> 19,
English 19 -> 19) and left MRR as it was (bench/RESULTS.md). The first passage never changes.
"""

from __future__ import annotations

import re
from typing import Callable, Hashable, Iterable, TypeVar

Key = TypeVar("Key", bound=Hashable)

RRF_K = 60  # the usual reciprocal-rank-fusion constant: rank r scores 1 / (RRF_K + r)
# The keyword ranking's vote in the fusion (the vector ranking's is 1). On questions in plain words
# BM25 often ranks the wrong passage first (recall@5 0.36 vs 0.71 for vectors on the Python FAQ,
# bench/RESULTS.md), so it gets half a vote; a query with a number or code in it ("INV-20931",
# "7741-B") is where embeddings blur look-alikes and an exact match is the best evidence there is.
# On that set, weights from 0.3 to 1 all gave 0.736-0.741 against 0.707 for vectors alone.
KEYWORD_WEIGHT = 0.5
KEYWORD_WEIGHT_CODES = 1.5
_HAS_DIGIT = re.compile(r"\d")


def keyword_weight(query: str) -> float:
    """How much the keyword ranking counts for this query in the fusion."""
    return KEYWORD_WEIGHT_CODES if _HAS_DIGIT.search(query) else KEYWORD_WEIGHT


def fuse(rankings: list[list[Key]], weights: list[float] | None = None, k: int = RRF_K) -> list[tuple[Key, float]]:
    """Merge rankings by weighted reciprocal rank fusion; scaled so first in every list scores 1.0."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, key in enumerate(ranking, 1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    best = sum(weights) / (k + 1)
    return sorted(((key, s / best) for key, s in scores.items()), key=lambda x: x[1], reverse=True)


def one_per_place(ranked: Iterable[tuple[Key, float]], place: Callable[[Key], Hashable | None],
                  k: int) -> list[tuple[Key, float]]:
    """The first k of a ranking, the best-ranked entry of each place first, in order.

    `place(key)` names where an entry is (a file and page); None for one with no place to share
    (a web finding, a text file without sections), which is never set aside. When the ranking holds
    fewer than k places, the entries set aside fill the rest in their order (a one-page document
    still gives all its passages).
    """
    seen: set[Hashable] = set()
    out: list[tuple[Key, float]] = []
    later: list[tuple[Key, float]] = []
    for key, score in ranked:
        where = place(key)
        if where is not None and where in seen:
            later.append((key, score))
            continue
        if where is not None:
            seen.add(where)
        out.append((key, score))
        if len(out) == k:
            return out
    return out + later[: k - len(out)]
