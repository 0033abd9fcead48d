"""Watching a fleet from one central host: which server logged each line, which files to follow.

A sentinel names servers (sets `Event.server`) when its configuration has a `fleet:` section or
a source with a `{server}` path or a `server:` setting. Otherwise it watches one server, whose
name is `server_name`, exactly as without a fleet (same alerts, same fingerprints).
"""

from __future__ import annotations

from sentinel.config.model import Config, SourceConfig

SERVER = "{server}"


def names_servers(config: Config) -> bool:
    """Whether events carry the name of the server that logged them."""
    return config.fleet.enabled or any(source_names_servers(s) for s in config.sources)


def source_names_servers(source: SourceConfig) -> bool:
    return source.server is not None or SERVER in str(source.path or "")
