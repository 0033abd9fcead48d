"""`sentinel check-config`: validate a configuration and say what it would watch."""

from __future__ import annotations

import argparse
import sys

from sentinel.config.cli import load_or_exit
from sentinel.config.summary import describe


def main(args: argparse.Namespace) -> int:
    config = load_or_exit(args, required=True)
    sys.stdout.write("".join(line + "\n" for line in describe(config)))
    sys.stdout.write("configuration valid\n")
    return 0
