"""The one error a configuration can raise: one line naming the file, line and key path."""

from __future__ import annotations


class ConfigError(Exception):
    """`/etc/sentinel/sentinel.yaml:12: rules.bulk_download.window: invalid duration 'ten' ...`.

    `file`, `line` (1-based, None when unknown) and `key` (dotted path, "" for the document
    itself) are kept apart so that callers can show or log them as they like.
    """

    def __init__(self, file: str, message: str, line: int | None = None, key: str = "") -> None:
        self.file = _one_line(file)
        self.line = line
        self.key = _one_line(key)
        self.message = _one_line(message)
        super().__init__(self.file, self.message, self.line, self.key)

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


def _one_line(text: str) -> str:
    """Whatever a cause or a file name holds, the error stays on one line."""
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text
