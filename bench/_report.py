"""Print a benchmark's figures as a table, or as one JSON object with --json."""

from __future__ import annotations

import argparse
import json
import sys


def args(description: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--json", action="store_true", help="print only a JSON object of the figures")
    return p.parse_known_args()[0]


def report(title: str, rows: list[tuple[str, object, str]], figures: dict, as_json: bool) -> None:
    """rows: (measure, value, note); figures: the keys tracked over time."""
    if as_json:
        print(json.dumps(figures))
        return
    width = max(len(r[0]) for r in rows)
    print(f"## {title}\n")
    print(f"| {'measure'.ljust(width)} | value | note |")
    print(f"| {'-' * width} | ----- | ---- |")
    for name, value, note in rows:
        v = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"| {name.ljust(width)} | {v} | {note} |")
    sys.stdout.flush()
