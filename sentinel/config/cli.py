"""What every command does with `-c`: find and load the configuration, or exit 2 on one line."""

from __future__ import annotations

import argparse
import sys

from sentinel.config.errors import ConfigError
from sentinel.config.loader import load_config, resolve_config_path
from sentinel.config.model import Config


def load_or_exit(args: argparse.Namespace, *, required: bool) -> Config:
    """The configuration of `args.config` (or the defaults), else one error line and exit 2."""
    try:
        path = resolve_config_path(getattr(args, "config", None), required=required)
        return load_config(path)
    except ConfigError as error:
        print(f"sentinel: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
