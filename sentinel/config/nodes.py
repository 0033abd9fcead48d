"""Typed reading of composed YAML nodes, every failure a ConfigError at the node's line.

Working on nodes (yaml.compose) rather than on constructed Python objects keeps the line
of every key and value, so an error can point at it.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from sentinel.config.errors import ConfigError

TAG = "tag:yaml.org,2002:"
TYPE_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "null": "nothing (null)",
    "timestamp": "a date",
    "binary": "binary data",
    "map": "a mapping",
    "seq": "a list",
    "set": "a set",
    "omap": "an ordered mapping",
    "pairs": "a list of pairs",
}


def type_name(node: yaml.Node) -> str:
    short = node.tag.removeprefix(TAG)
    return TYPE_NAMES.get(short, f"a value tagged {node.tag!r}")


@dataclass(frozen=True, slots=True)
class At:
    """A YAML node with its place: the file and the dotted key path leading to it."""

    node: yaml.Node
    file: str
    key: str = ""

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    def error(self, message: str) -> ConfigError:
        return ConfigError(self.file, message, line=self.line, key=self.key)

    def child(self, node: yaml.Node, name: str) -> At:
        key = f"{self.key}.{name}" if self.key else name
        return At(node, self.file, key)

    def item(self, node: yaml.Node, index: int) -> At:
        return At(node, self.file, f"{self.key}[{index}]")

    def is_null(self) -> bool:
        return self.node.tag == TAG + "null"

    def expected(self, what: str) -> ConfigError:
        return self.error(f"expected {what}, got {type_name(self.node)}")


def mapping(at: At, allowed: Collection[str] | None = None) -> dict[str, At]:
    """The entries of a mapping (null is an empty one); unknown or repeated keys are errors."""
    if at.is_null():
        return {}
    if not isinstance(at.node, yaml.MappingNode) or at.node.tag != TAG + "map":
        raise at.expected("a mapping (key: value)")
    entries: dict[str, At] = {}
    for key_node, value_node in at.node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != TAG + "str":
            shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            raise _at_key(at, key_node).error(f"unknown key {shown!r} (keys are names)")
        name = str(key_node.value)
        if allowed is not None and name not in allowed:
            raise _at_key(at, key_node).error(_unknown(name, allowed))
        if name in entries:
            raise _at_key(at, key_node).error(f"duplicate key {name!r}")
        entries[name] = at.child(value_node, name)
    return entries


def _at_key(at: At, key_node: yaml.Node) -> At:
    return At(key_node, at.file, at.key)


def _unknown(name: str, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(allowed), n=1)
    if close:
        return f"unknown key {name!r} (did you mean {close[0]!r}?)"
    return f"unknown key {name!r} (known: {', '.join(sorted(allowed))})"


def sequence(at: At) -> list[At]:
    """The items of a list (null is an empty one)."""
    if at.is_null():
        return []
    if not isinstance(at.node, yaml.SequenceNode) or at.node.tag != TAG + "seq":
        raise at.expected("a list")
    return [at.item(node, index) for index, node in enumerate(at.node.value)]


def string(at: At, *, what: str = "a string") -> str:
    """A non-empty string scalar, surrounding blanks removed."""
    if not isinstance(at.node, yaml.ScalarNode) or at.node.tag != TAG + "str":
        raise at.expected(what)
    text = str(at.node.value).strip()
    if not text:
        raise at.error(f"expected {what}, got an empty string")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise at.error("control characters are not allowed here")
    return text


def boolean(at: At) -> bool:
    if not isinstance(at.node, yaml.ScalarNode) or at.node.tag != TAG + "bool":
        raise at.expected("a boolean (true or false)")
    return bool(_construct(at))


def integer(at: At, *, minimum: int = 1) -> int:
    if not isinstance(at.node, yaml.ScalarNode) or at.node.tag != TAG + "int":
        raise at.expected("an integer")
    value = _construct(at)
    if not isinstance(value, int) or isinstance(value, bool):  # pragma: no cover - by the tag
        raise at.expected("an integer")
    if value < minimum:
        raise at.error(f"must be at least {minimum}, got {value}")
    return value


def choice(at: At, options: Collection[str]) -> str:
    text = string(at, what=f"one of {', '.join(options)}")
    if text not in options:
        raise at.error(f"{text!r} is not one of {', '.join(options)}")
    return text


def strings(at: At) -> tuple[str, ...]:
    """A list of non-empty strings."""
    return tuple(string(item) for item in sequence(at))


def _construct(at: At) -> object:
    try:
        return SafeConstructor().construct_object(at.node, deep=True)
    except (ConstructorError, ValueError, OverflowError) as error:
        raise at.error(f"unreadable value: {error}") from None
