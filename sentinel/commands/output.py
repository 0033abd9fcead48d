"""Where `replay` and `scan` write their alerts: JSON lines, or the table for people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from sentinel.alerts import Alert


class AlertOutput:
    """Writes alerts as one JSON object a line, or as the human table; counts them."""

    def __init__(self, out: TextIO, json_out: bool) -> None:
        self.count = 0
        self.out = out
        self.table = None
        if not json_out:
            from sentinel.render import AlertTable  # the table only for a person reading

            self.table = AlertTable(out)

    def write(self, alerts: Sequence[Alert]) -> None:
        self.count += len(alerts)
        if self.table is None:
            self.out.write("".join([alert.to_json() + "\n" for alert in alerts]))
        else:
            for alert in alerts:
                self.table.write(alert.to_dict())
