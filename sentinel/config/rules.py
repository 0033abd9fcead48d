"""`rules:`: each rule's settings dataclass filled from YAML, field by field, by its type."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

from sentinel.alerts import Severity
from sentinel.config import values
from sentinel.config.nodes import At, boolean, integer, mapping
from sentinel.rules.settings import RULE_SETTINGS, ByteSize, HoursRange, Weekdays

Reader = Callable[[At], Any]

# The field types of sentinel/rules/settings.py and how each is written in YAML.
READERS: dict[object, Reader] = {
    bool: boolean,
    int: integer,  # positive: every count and bound of a rule is at least 1
    timedelta: values.duration,
    ByteSize: values.size,
    Severity: values.severity,
    HoursRange: values.hours,
    Weekdays: values.weekdays,
}


@cache
def field_readers(settings: type) -> dict[str, Reader]:
    """Field name -> reader; a field type without a reader is a programming error."""
    hints = typing.get_type_hints(settings)
    readers = {}
    for field in dataclasses.fields(settings):
        hint = hints[field.name]
        if hint not in READERS:
            raise TypeError(f"{settings.__name__}.{field.name}: no reader for {hint!r}")
        readers[field.name] = READERS[hint]
    return readers


def rule_settings(at: At) -> dict[str, Any]:
    """Every rule of RULE_SETTINGS, on its defaults unless `rules.<name>` says otherwise."""
    given = mapping(at, RULE_SETTINGS)
    result = {}
    for name, settings in RULE_SETTINGS.items():
        entry = given.get(name)
        result[name] = settings() if entry is None else one_rule(entry, settings)
    return result


def one_rule(at: At, settings: type) -> Any:
    readers = field_readers(settings)
    changes = {key: readers[key](item) for key, item in mapping(at, readers).items()}
    return settings(**changes)
