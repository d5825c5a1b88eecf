"""Summarise py-spy raw (collapsed) stacks: ``python -m bench.mix.topstacks FILE [N]`` prints the
functions with the most samples *inclusive* (anywhere on the stack) and *self* (on top)."""

from __future__ import annotations

import sys
from collections import Counter


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    with open(path) as lines:
        rows = list(lines)
    for line in rows:
        stack, _, count = line.rstrip().rpartition(" ")
        samples = int(count)
        total += samples
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    print(f"{total} samples")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"-- {title}")
        for frame, samples in counter.most_common(n):
            print(f"{100 * samples / total:5.1f}%  {frame[:150]}")


if __name__ == "__main__":
    main()
