"""Merge the rankings of one search into the passages it returns: weighted reciprocal rank fusion
(the keyword vote weighed by language), then one passage per place.

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
# The keyword ranking's vote in the fusion (the vector ranking's is 1). A query with a number or code
# in it ("INV-20931", "7741-B") is where embeddings blur look-alikes and an exact match is the best
# evidence there is. Otherwise the vote depends on whether the question is in the language of the
# passages it is searched against: in the same language BM25 is as good a judge as the vectors
# (keyword recall@5 0.86 = vector 0.86 on the English tuning questions) and gets a full vote; across
# languages it can only meet shared names ("dpkg", "apt") and gets half (0.41 vs 0.82 cross-language).
# Full vote vs half for same-language questions, with one passage per place (bench/RESULTS.md): tuning
# sets Spanish 28 -> 31 of 33, English 19 -> 18 of 22, cross-language unchanged (the half vote stays);
# Python FAQ set (English, 174) hybrid recall@5 0.517 -> 0.552, both halves of the questions up.
# Since chunks are also searched by their short windows (crew.retrieval.windows), vectors alone find
# 0.88 of the tuning questions' pages against keywords' 0.71, and both votes were halved: hybrid
# recall@5 0.87 -> 0.91 (cross-language 0.86 -> 0.91), MRR 0.70 -> 0.72; a quarter / eighth, 0.91.
KEYWORD_WEIGHT = 0.5
KEYWORD_WEIGHT_ACROSS = 0.25
KEYWORD_WEIGHT_CODES = 1.5
# The English model's ranking of the pool (crew.retrieval.english), for English questions on English passages:
# a vote equal to the main vectors'. Tuning sets, English questions (22), recall@5 / MRR by this weight: 0 (none)
# 0.86 / 0.75; 0.5 0.86 / 0.74; 0.75 0.91 / 0.75; 1 0.91 / 0.77; 1.5 0.86 / 0.75; 2 0.91 / 0.74; 3 0.91 / 0.77
# (one question, 0.045, moves between them: a plateau, not a peak). Spanish and cross-language questions never
# use it.
ENGLISH_WEIGHT = 1.0
# ... and only when most of the pool is English. A Spanish manual that quotes English text can put English
# passages first, so the question passes the language test, yet the English model can rank only the pool's few
# English chunks and its whole vote goes to them: a held-out question (English, about the Spanish guide) fell out
# of the top 5 that way. On the tuning sets the English share of the pools it ranked was >= 0.8 in 37 searches and
# < 0.5 in 3, and leaving those 3 out changed no rank.
ENGLISH_POOL_SHARE = 0.5
_HAS_DIGIT = re.compile(r"\d")
# A question searched again in the documents' language (crew.engine.agents.researcher): its own search's vote in the
# merge, the translated search's being 1. Translated by hand, the 57 cross-language questions of the tuning sets found
# their page in the top 5 54 times alone, 54 merged at this weight, 53 at an equal vote (46 untranslated).
ORIGINAL_WEIGHT = 0.5


def keyword_weight(query: str, same_language: bool = True) -> float:
    """How much the keyword ranking counts for this query in the fusion.

    `same_language`: whether the query is in the language of the passages the vectors found first.
    """
    if _HAS_DIGIT.search(query):
        return KEYWORD_WEIGHT_CODES
    return KEYWORD_WEIGHT if same_language else KEYWORD_WEIGHT_ACROSS


def same_language(query: str, passages: list[str]) -> bool:
    """Whether a query is written in the language of the passages (told between English and Spanish,
    the languages the keyword index stems; see crew.retrieval.stemming)."""
    from crew.retrieval.stemming import language_of

    text = " ".join(passages)
    return not text.strip() or language_of(query) == language_of(text)


def fuse(rankings: list[list[Key]], weights: list[float] | None = None, k: int = RRF_K) -> list[tuple[Key, float]]:
    """Merge rankings by weighted reciprocal rank fusion; scaled so first in every list scores 1.0."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, key in enumerate(ranking, 1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    best = sum(weights) / (k + 1)
    return sorted(((key, s / best) for key, s in scores.items()), key=lambda x: x[1], reverse=True)


Item = TypeVar("Item")


def merge_searches(first: list[Item], again: list[Item], key: Callable[[Item], Hashable],
                   place: Callable[[Item], Hashable | None], k: int) -> list[Item]:
    """Two searches' results for one question (its own words, then translated) as one list of k, one per place."""
    items = {key(item): item for item in [*first, *again]}
    ranked = fuse([[key(i) for i in first], [key(i) for i in again]], [ORIGINAL_WEIGHT, 1.0])
    return [items[name] for name, _ in one_per_place(ranked, lambda name: place(items[name]), k)]


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
