"""Say an evaluation's figures in words: the headline list and the per-question table, as plain text.

The CLI prints these; the Evaluate page shows the same labels as metrics. Pure functions.
"""

from __future__ import annotations

from typing import Any


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def headline(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, what it means) for each summary figure, in reading order."""
    k = summary["k"]
    rows = [
        (f"page recall@{k}", _rate(summary["recall_at_k"]),
         f"a labelled page among the top {k} passages ({_count(summary['answerable'], 'answerable question')})"),
        ("MRR", _rate(summary["mrr"]), "mean of 1/rank of the first labelled page"),
    ]
    if summary["answered"]:
        median = summary["median_turn_s"]
        rows += [
            ("key-term rate", _rate(summary["key_term_rate"]), "share of a question's key terms in the answer"),
            ("right page cited", _rate(summary["right_page_cited"]), "the answer cites a labelled page"),
            ("supported sentences", _rate(summary["supported_sentence_rate"]),
             "supported sentences / sentences, over all answers"),
            ("said not found (answerable)", _rate(summary["not_found_answerable"]), "wrongly: lower is better"),
            ("said not found (unanswerable)", _rate(summary["not_found_unanswerable"]),
             f"rightly: higher is better ({_count(summary['unanswerable'], 'question')})"),
            ("median turn", "n/a" if median is None else f"{median:.1f} s", "wall clock of a whole turn"),
        ]
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table_text(rows: list[dict[str, Any]], answers: bool, width: int = 60) -> str:
    """The per-question table as aligned text, one line a question."""
    cols = ["line", "lang", "rank"] + (["terms", "cited", "supp", "not found", "s"] if answers else []) + ["question"]
    lines = []
    for r in rows:
        question = " ".join(r["question"].split())
        cells = [r["line"], r["language"] or "?", r["rank"]]
        if answers:
            supp = f"{r['supported']}/{r['sentences']}" if r["sentences"] is not None else None
            cells += [r["term_rate"], r["cited_right_page"], supp, r["not_found"], r["seconds"]]
        cells.append(question if len(question) <= width else question[: width - 1] + "…")
        lines.append([_cell(c) for c in cells])
    widths = [max([len(c), *(len(line[i]) for line in lines)]) for i, c in enumerate(cols)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in [cols, *lines])


def text_report(summary: dict[str, Any], rows: list[dict[str, Any]], answers: bool) -> str:
    """The whole report as the CLI prints it."""
    head = headline(summary)
    width = max(len(label) for label, _, _ in head)
    out = [f"{label.ljust(width)}  {value:>6}  {note}" for label, value, note in head]
    if summary.get("answer_kinds"):
        out.append("answers: " + ", ".join(f"{n} {kind}" for kind, n in summary["answer_kinds"].items()))
    out += [f"note: {n}" for n in summary["notes"]]
    return "\n".join(out + ["", table_text(rows, answers)])


def chart_rows(rows: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """Long-form rows for a grouped bar chart: per document and language, recall@k and key-term rate
    over the answerable questions (the key-term rate only where answers were run)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["answerable"]:
            groups.setdefault((r["source"], r["language"] or "?"), []).append(r)
    out = []
    for (source, language), members in sorted(groups.items()):
        group = f"{source} · {language}"
        out.append({"group": group, "measure": f"recall@{k}", "n": len(members),
                    "value": sum(1 for m in members if m["hit"]) / len(members)})
        rates = [m["term_rate"] for m in members if m["term_rate"] is not None]
        if rates:
            out.append({"group": group, "measure": "key-term rate", "n": len(rates), "value": sum(rates) / len(rates)})
    return out
