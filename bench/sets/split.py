"""Split a drafted question set into its tuning part (about 2/3) and its held-out part (about 1/3).

    .venv/bin/python bench/sets/split.py DRAFT.txt [--seed 11] [--out bench/sets]

DRAFT.txt is a set file (see README.md) holding every question; NAME is its base name without .txt. Writes
NAME.tune.txt and NAME.holdout.txt: both keep every comment and blank line of the draft (the header, the
`# asked in:` markers), and each question line goes to exactly one of them. The choice is stratified and blind
to difficulty: questions are grouped by (source file, language asked in), shuffled inside each group by a
generator seeded from the seed and the set's name, the groups laid end to end, and every third question from
a seeded starting point is held out. So each document and language keeps about a third of its questions in
the holdout, and a group too small to split (one "not found" question per language) alternates.
The sets in this folder were split once this way with seed 11; later fixes edit a line in place and never
move a question from one part to the other. New questions come as a batch file (the set's header and the new
lines only) split the same way and appended to both parts with --append-to NAME, so no earlier question moves.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check import ASKED_IN, parse_set  # noqa: E402

TUNE_NOTE = "# Part: tuning (about 2/3 of the set). Tune retrieval and answering on this part only."
HOLDOUT_NOTE = ("# Part: held out (about 1/3 of the set). Report on it; never tune on it, never read its failures "
                "to change code or settings.")


def held_out_lines(draft: Path, seed: int) -> set[int]:
    """Line numbers (1-based) of the draft's questions that go to the held-out part."""
    parsed = parse_set(draft)
    if parsed.errors:
        raise SystemExit("\n".join(parsed.errors))
    groups: dict[tuple[str, str], list[int]] = {}
    for q in parsed.questions:
        groups.setdefault((q.source, q.asked_in), []).append(q.line_no)
    name = draft.name.removesuffix(".txt")
    order: list[int] = []
    for key in sorted(groups):
        lines = groups[key]
        random.Random(f"{seed}|{name}|{key[0]}|{key[1]}").shuffle(lines)
        order += lines
    start = random.Random(f"{seed}|{name}").randrange(3)
    return set(order[start::3])


def split(draft: Path, seed: int, out: Path) -> tuple[Path, Path]:
    holdout = held_out_lines(draft, seed)
    questions = {q.line_no for q in parse_set(draft).questions}
    lines = draft.read_text(encoding="utf-8").splitlines()
    name = draft.name.removesuffix(".txt")
    header_end = lines.index("") if "" in lines else 0  # the notes go at the end of the header block
    parts = {"tune": [], "holdout": []}
    for part, note in (("tune", TUNE_NOTE), ("holdout", HOLDOUT_NOTE)):
        for n, line in enumerate(lines, start=1):
            if n == header_end + 1:
                parts[part].append(note)
                parts[part].append(f"# Split by bench/sets/split.py with seed {seed}, stratified by document and language.")
            if n in questions and (n in holdout) != (part == "holdout"):
                continue
            parts[part].append(line)
    paths = (out / f"{name}.tune.txt", out / f"{name}.holdout.txt")
    for path, part in zip(paths, ("tune", "holdout")):
        path.write_text("\n".join(parts[part]) + "\n", encoding="utf-8")
    return paths


def append(batch: Path, seed: int, out: Path, name: str) -> tuple[Path, Path]:
    """Split the questions of batch and append them (with their `# asked in:` markers) to NAME's two parts."""
    holdout = held_out_lines(batch, seed)
    questions = {q.line_no for q in parse_set(batch).questions}
    lines = batch.read_text(encoding="utf-8").splitlines()
    start = max(n for n, line in enumerate(lines, start=1) if n < min(questions) and ASKED_IN.match(line))
    body = list(enumerate(lines, start=1))[start - 1 :]  # from the first question's `# asked in:` marker on
    paths = (out / f"{name}.tune.txt", out / f"{name}.holdout.txt")
    for path, part in zip(paths, ("tune", "holdout")):
        kept = [line for n, line in body if n not in questions or (n in holdout) == (part == "holdout")]
        note = f"# Batch {batch.name} appended by bench/sets/split.py --append-to {name}, seed {seed}."
        text = path.read_text(encoding="utf-8").rstrip("\n")
        path.write_text("\n".join([text, "", note, *kept]) + "\n", encoding="utf-8")
    return paths


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("draft", type=Path)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    p.add_argument("--append-to", metavar="NAME", help="append this batch to NAME.tune.txt and NAME.holdout.txt")
    args = p.parse_args()
    if args.append_to:
        paths = append(args.draft, args.seed, args.out, args.append_to)
    else:
        paths = split(args.draft, args.seed, args.out)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
