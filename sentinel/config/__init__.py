"""The configuration: its model, loading and validation (see loader.py), the CLI helper."""

from sentinel.config.cli import load_or_exit
from sentinel.config.errors import ConfigError
from sentinel.config.loader import load_config, parse_config, resolve_config_path
from sentinel.config.model import Config

__all__ = [
    "Config",
    "ConfigError",
    "load_config",
    "load_or_exit",
    "parse_config",
    "resolve_config_path",
]
