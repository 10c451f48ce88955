"""Shape a stored trace for the Traces page and `crew traces`: a span tree, a timeline, totals, the
downloadable document. Pure functions over the trace store's rows."""

from __future__ import annotations

from typing import Any


def span_tree(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order spans depth first (turn, then each step by start, then its calls) and add `depth`."""
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for s in spans:
        parent = s.get("parent_id") if s.get("parent_id") in ids else None
        children.setdefault(parent, []).append(s)
    out: list[dict[str, Any]] = []

    def walk(parent: str | None, depth: int) -> None:
        for s in sorted(children.get(parent, []), key=lambda x: (x["start"], x["span_id"])):
            out.append({**s, "depth": depth})
            if s["span_id"] != parent:
                walk(s["span_id"], depth + 1)

    walk(None, 0)
    return out


def _span_name(s: dict[str, Any]) -> str:
    if s["kind"] == "turn":
        return f"turn: {s['name']}"
    if s["kind"] == "llm":
        return f"llm {s['name']}"
    if s["kind"] == "tool":
        return f"tool {s['name']}"
    return f"{s['agent']}: {s['name']}"


def trace_rows(turn: dict[str, Any], spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per span, tree-ordered, with offsets from the turn's start (the Traces table)."""
    t0 = turn["started"]
    rows = []
    for s in span_tree(spans):
        end = s.get("end") or s["start"]
        rows.append({
            "span": "    " * s["depth"] + _span_name(s),
            "kind": s["kind"], "agent": s["agent"],
            "start_s": round(s["start"] - t0, 3), "duration_ms": round((end - s["start"]) * 1000, 1),
            "tokens_in": s["tokens_in"], "tokens_out": s["tokens_out"], "cost_usd": round(s["cost"], 6),
            "status": s["status"], "error": s["error"], "depth": s["depth"],
            "span_id": s["span_id"], "parent_id": s.get("parent_id") or "",
        })
    return rows


def timeline_rows(turn: dict[str, Any], spans: list[dict[str, Any]], min_width: float = 0.004) -> list[dict[str, Any]]:
    """Bars for a Gantt chart: one row per span, so spans that overlap in time sit side by side.

    `min_width` (a fraction of the turn's length) keeps instant calls visible as thin bars.
    """
    rows = trace_rows(turn, spans)
    t_end = max([r["start_s"] + r["duration_ms"] / 1000 for r in rows] + [0.001])
    out = []
    for i, r in enumerate(rows):
        end = r["start_s"] + r["duration_ms"] / 1000
        label = f"{i + 1:>2}. " + r["span"].strip()
        out.append({
            "row": label[:70] + ("…" if len(label) > 70 else ""), "order": i,
            "start_s": r["start_s"], "end_s": max(end, r["start_s"] + t_end * min_width),
            "agent": r["agent"], "kind": r["kind"], "duration_ms": r["duration_ms"],
            "tokens_in": r["tokens_in"], "tokens_out": r["tokens_out"], "status": r["status"], "error": r["error"],
        })
    return out


def money(usd: float) -> str:
    """An estimated cost as a person reads it: $0, $0.0042, $1.25."""
    return "$0" if not usd else (f"${usd:.4f}" if usd < 0.01 else f"${usd:.2f}")


def trace_totals(turn: dict[str, Any], spans: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-turn totals: wall time, tokens, estimated cost, and how many steps and calls ran."""
    ended = turn.get("ended")
    last = max([s.get("end") or s["start"] for s in spans] + [turn["started"]])
    by_kind = {k: sum(1 for s in spans if s["kind"] == k) for k in ("step", "llm", "tool")}
    return {
        "duration_s": round((ended or last) - turn["started"], 3),
        "tokens_in": sum(s["tokens_in"] for s in spans if s["kind"] == "llm"),
        "tokens_out": sum(s["tokens_out"] for s in spans if s["kind"] == "llm"),
        "cost_usd": round(sum(s["cost"] for s in spans if s["kind"] == "llm"), 6),
        "steps": by_kind["step"], "llm_calls": by_kind["llm"], "tool_calls": by_kind["tool"],
        "errors": sum(1 for s in spans if s["status"] == "error"),
        "status": turn.get("status", ""),
    }


def trace_document(turn: dict[str, Any], spans: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON a person downloads (and `crew traces --json` prints) for one turn."""
    return {"turn": turn, "totals": trace_totals(turn, spans), "spans": trace_rows(turn, spans),
            "attrs": {s["span_id"]: s.get("attrs", {}) for s in spans}}
