"""Keyword-only retrieval on the labelled sets: page recall@5 and MRR of crew's BM25 index alone.

    .venv/bin/python bench/keywords.py [--json] [--sets 'DIR/*.tune.txt'] [--corpus DIR] [--faq N]

The same questions, passages and language groups as bench/embedders.py (read there): every passage
goes into a `KeywordIndex` in memory, each question is run through `prepare` and `rank` as a search
does, and a question scores a hit at 5 when one of the 5 best passages is on a labelled page.
"""

from __future__ import annotations

import argparse
import json

from embedders import load_data, score

from crew.retrieval.keywords import KeywordIndex


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true")
    p.add_argument("--sets", default=None)
    p.add_argument("--corpus", default=None)
    p.add_argument("--faq", type=int, default=0)
    a = p.parse_args()
    questions, passages, groups = load_data(a.sets, a.corpus, a.faq)
    index = KeywordIndex(":memory:")
    index.add("bench", [(str(i), "d", text) for i, (_, _, text) in enumerate(passages)])
    ranked = []
    for q in questions:
        best, _ = index.rank(index.prepare("bench", q.text), 50)
        ranked.append([int(cid) for cid, _ in best])
    quality = score(questions, passages, ranked, groups)
    if a.json:
        print(json.dumps({"passages": len(passages), "quality": quality}))
        return
    print(f"## Keyword-only retrieval (bench/keywords.py): {len(questions)} questions, {len(passages)} passages\n")
    print("| group | questions | recall@5 | MRR |\n| --- | --- | --- | --- |")
    for g, r in quality.items():
        print(f"| {g} | {r['n']} | {r['recall5']:.3f} | {r['mrr']:.3f} |")


if __name__ == "__main__":
    main()
