"""Seeded generator of an exchange-directory tree for the scan benchmark.

Partners' incoming/outgoing folders by month, small text files (no personal data), about a
third of them last modified 8 to 400 days ago and the rest within the last 6 days. Generated
once: a marker file beside the tree records when and how, and the tree is kept while it matches.
Run: `.venv/bin/python bench/tree.py ROOT [--files N] [--seed S]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from pathlib import Path

DAY = 86_400
FILES_PER_DIR = 200


def marker_of(root: Path) -> Path:
    return root.with_name(root.name + ".done")


def make_tree(root: Path, files: int = 200_000, seed: int = 2021) -> dict[str, int]:
    """Create the tree unless an identical one exists; return what its marker records."""
    marker = marker_of(root)
    if marker.exists():
        recorded: dict[str, int] = json.loads(marker.read_text())
        if recorded.get("files") == files and recorded.get("seed") == seed:
            return recorded
    shutil.rmtree(root, ignore_errors=True)
    marker.unlink(missing_ok=True)
    rng = random.Random(seed)
    now = int(time.time())
    old = 0
    row = b"sample_id;analysis;value;unit;validated\n"
    for index in range(files):
        folder = index // FILES_PER_DIR
        partner, rest = divmod(folder, 20)
        where = root / f"partner{partner:03d}" / ("incoming", "outgoing")[rest % 2]
        where = where / f"2026-{rest // 2 + 1:02d}"
        if index % FILES_PER_DIR == 0:
            where.mkdir(parents=True, exist_ok=True)
        path = where / f"export_{index:06d}.csv"
        body = row + b"".join(
            f"S{rng.randint(0, 10**8):08d};GLU;{rng.uniform(3, 9):.2f};mmol/L;yes\n".encode()
            for _ in range(rng.randint(1, 40))
        )
        path.write_bytes(body)
        if rng.random() < 0.35:
            age = rng.randint(8, 400) * DAY + rng.randint(0, DAY)
            old += 1
        else:
            age = rng.randint(0, 6 * DAY)
        os.utime(path, (now - age, now - age))
    recorded = {"files": files, "seed": seed, "old": old, "created": now}
    marker.write_text(json.dumps(recorded))
    return recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    print(make_tree(args.root, args.files, args.seed))


if __name__ == "__main__":
    main()
