"""Summarise a py-spy ``--format raw`` profile (collapsed stacks) as top self and total costs.

Job: turn the profile that ``bench_api --py-spy FILE`` records of the server into two short
tables, so that where the time goes can be read in a terminal and pasted into a report.

Design: the collapsed format is one ``frame;frame;...;leaf count`` line per distinct stack;
self time is the leaf's count, total time counts a function once per stack it appears in
(recursion is not double counted). Frames are shortened to ``function (file:line)`` with the
line dropped for totals, so one function's lines add up.
Usage: ``python -m benchmarks.profile_summary FILE [--top N] [--under SUBSTRING]``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def parse(text: str) -> list[tuple[list[str], int]]:
    """The stacks (root first) and their sample counts."""
    stacks: list[tuple[list[str], int]] = []
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def costs(
    stacks: list[tuple[list[str], int]], under: str | None = None
) -> tuple[Counter[str], Counter[str], int]:
    """Self and total samples per function, and the total samples (optionally only the
    stacks that pass through a frame containing `under`)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for frames, n in stacks:
        if under and not any(under in f for f in frames):
            continue
        samples += n
        own[frames[-1]] += n
        for name in {_LINE.sub(")", f) for f in frames}:
            total[name] += n
    return own, total, samples


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("file", type=Path)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--under", help="only stacks through a frame containing this text")
    a = p.parse_args(argv)
    own, total, samples = costs(parse(a.file.read_text()), a.under)
    if not samples:
        print("no samples")
        return 1
    print(f"{samples} samples")
    for title, table in (("self", own), ("total", total)):
        print(f"\n-- top {a.top} by {title} time")
        for name, n in table.most_common(a.top):
            print(f"{n / samples * 100:6.1f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
