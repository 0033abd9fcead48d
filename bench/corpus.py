"""Seeded files for the inspection benchmark: how fast `sentinel scan` reads contents.

Three kinds, one file each, in a directory of its own: `identifiers` (a CSV export, every
line a patient with a NIR of valid key, an IBAN of valid check digits, an e-mail address and
a phone number: the worst case, every candidate checked), `prose` (text without any
identifier: the common case), `random` (incompressible bytes: what encrypted exports look
like). Synthetic data only: the identifiers are made up, their keys computed.
Run: `.venv/bin/python bench/corpus.py ROOT [--megabytes N] [--seed S]`.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

KINDS = ("identifiers", "prose", "random")
WORDS = (
    "the", "results", "of", "analysis", "were", "sent", "to", "laboratory", "on", "monday",
    "and", "report", "follows", "with", "usual", "remarks", "about", "samples", "storage",
    "temperature", "delays",
)  # fmt: skip


def nir(rng: random.Random) -> str:
    """A French NIR (13 digits and a key of 97 - number mod 97), made up."""
    body = (
        f"{rng.choice('12')}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}"
        f"{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    )
    return f"{body}{97 - int(body) % 97:02d}"


def iban(rng: random.Random) -> str:
    """A French IBAN with valid check digits (ISO 13616 mod 97), made up."""
    bank, branch, account = (
        rng.randint(10000, 99999),
        rng.randint(10000, 99999),
        rng.randrange(10**11),
    )
    bban = f"{bank}{branch}{account:011d}{rng.randint(0, 96):02d}"
    numeric = int(bban + "152700")  # "FR00" moved to the end, letters as numbers (F=15, R=27)
    return f"FR{98 - numeric % 97:02d}{bban}"


def line(kind: str, rng: random.Random, n: int) -> str:
    if kind == "identifiers":
        phone = f"06{rng.randint(0, 10**8 - 1):08d}"
        return f"{n};{nir(rng)};{iban(rng)};patient{n}@example.org;{phone};negative\n"
    return " ".join(rng.choice(WORDS) for _ in range(14)) + ".\n"


def make_corpus(root: Path, megabytes: int = 32, seed: int = 2021) -> dict[str, Path]:
    """One file per kind under root/<kind>/, written unless already of the asked size."""
    size = megabytes << 20
    files = {}
    for kind in KINDS:
        path = root / kind / f"{kind}.{'bin' if kind == 'random' else 'csv'}"
        files[kind] = path
        if not path.exists() or path.stat().st_size != size:
            write(path, kind, size, random.Random(f"{seed}-{kind}"))
        hour_ago = time.time() - 3600  # settled: a scan skips files still being written
        os.utime(path, (hour_ago, hour_ago))
    return files


def write(path: Path, kind: str, size: int, rng: random.Random) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "random":
        path.write_bytes(rng.randbytes(size))
        return
    with path.open("w") as out:
        written, n = 0, 0
        while written < size:
            text = line(kind, rng, n)[: size - written]
            out.write(text)
            written += len(text)
            n += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--megabytes", type=int, default=32)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    for kind, path in make_corpus(args.root, args.megabytes, args.seed).items():
        print(kind, path, path.stat().st_size)


if __name__ == "__main__":
    main()
