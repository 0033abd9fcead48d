"""Finding and loading the configuration file: YAML to a validated Config, or one ConfigError.

The whole file is checked before anything runs (STYLE 8): unknown keys, wrong types and
bad values are errors naming the file, the line and the key path. An empty file, or one
holding only comments, gives the built-in defaults.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from sentinel.config import fleet, sections, values
from sentinel.config.errors import ConfigError
from sentinel.config.model import DEFAULT_CONFIG_PATH, Config
from sentinel.config.nodes import At, mapping, string
from sentinel.config.rules import rule_settings
from sentinel.config.system import host_name, system_timezone

ENV_VAR = "SENTINEL_CONFIG"
MAX_BYTES = 1 << 20  # a configuration is a few kilobytes; a bigger file is a wrong path
TOP_KEYS = (
    "server_name",
    "timezone",
    "state_dir",
    "sources",
    "networks",
    "rules",
    "directories",
    "server_configs",
    "notify",
    "metrics",
    "backfill",
    "fleet",
)


def resolve_config_path(cli_value: str | None, *, required: bool) -> Path | None:
    """-c, then $SENTINEL_CONFIG, then the default path; None when optional and absent.

    A path given explicitly (-c or the variable) must exist; the default only when required.
    """
    for given, origin in ((cli_value, "-c"), (os.environ.get(ENV_VAR), ENV_VAR)):
        if given:
            path = Path(given)
            if not path.exists():
                raise ConfigError(str(path), f"no such file (given by {origin})")
            return path
    if DEFAULT_CONFIG_PATH.exists():
        return DEFAULT_CONFIG_PATH
    if required:
        raise ConfigError(
            str(DEFAULT_CONFIG_PATH), f"no such file (give a configuration with -c or {ENV_VAR})"
        )
    return None


def load_config(path: Path | None) -> Config:
    """The validated configuration at `path`; the built-in defaults when `path` is None."""
    if path is None:
        return default_config()
    text = read_text(path)
    return replace(parse_config(text, str(path)), path=path)


def default_config() -> Config:
    return Config(server_name=host_name(), timezone=system_timezone())


def read_text(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise ConfigError(str(path), f"cannot read: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(str(path), "larger than 1 MiB: not a configuration file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(str(path), "not UTF-8 text", line=line) from None


def parse_config(text: str, file: str = "<config>") -> Config:
    """The configuration in `text`; `file` names it in errors (the first one found, in order)."""
    root = compose(text, file)
    if root is None:
        return default_config()
    top = mapping(root, TOP_KEYS)
    given: dict[str, Any] = {}
    for key, at in top.items():
        if key != "directories":
            field, read = SECTIONS[key]
            given[field] = read(at)
    if "networks" in top:
        given["ipv6_prefix"] = fleet.ipv6_prefix(top["networks"])
    given.setdefault("server_name", host_name())
    given.setdefault("timezone", system_timezone())
    config = Config(**given)
    if "directories" in top:
        found = sections.directories(top["directories"], config.state_dir)
        config = replace(config, directories=found)
    return config


def _server_name(at: At) -> str:
    name = string(at, what="a server name")
    if len(name) > 255:
        raise at.error("a server name is at most 255 characters")
    return name


def compose(text: str, file: str) -> At | None:
    """The document's root node (None for an empty document); YAML errors as ConfigError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = ", ".join(part for part in (error.context, error.problem) if part)
        raise ConfigError(file, f"invalid YAML: {problem or 'unreadable'}", line=line) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise ConfigError(file, f"invalid YAML: {error.reason}", line=line) from None
    except yaml.YAMLError as error:  # pragma: no cover - every PyYAML error is one of the above
        raise ConfigError(file, f"invalid YAML: {error}") from None
    except RecursionError:
        raise ConfigError(file, "invalid YAML: nested too deeply") from None
    return None if node is None else At(node, file)


def _backfill(at: At) -> Any:
    return values.duration(at, allow_zero=True)


# top-level key -> (Config field, reader); `directories` is read last, it needs state_dir
SECTIONS: dict[str, tuple[str, Callable[[At], Any]]] = {
    "server_name": ("server_name", _server_name),
    "timezone": ("timezone", values.timezone),
    "state_dir": ("state_dir", values.absolute_path),
    "sources": ("sources", sections.sources),
    "networks": ("trusted_networks", sections.trusted_networks),
    "rules": ("rules", rule_settings),
    "server_configs": ("server_configs", sections.server_configs),
    "notify": ("notify", sections.notify),
    "metrics": ("metrics", sections.metrics),
    "backfill": ("backfill", _backfill),
    "fleet": ("fleet", fleet.fleet),
}
