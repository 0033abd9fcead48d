"""source_silent: a followed log that has said nothing for `after`, or vanished (wall clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sentinel.alerts import Alert
from sentinel.rules.base import rule_alert
from sentinel.rules.incident import duration_text
from sentinel.rules.settings import SourceSilentSettings


@dataclass(slots=True)
class SourceLiveness:
    """What the daemon knows of one source, by the wall clock."""

    last_line: float  # when its last line arrived (or when following began)
    missing_since: float | None = None  # when the file was found missing
    alerted: bool = False
    server: str | None = None  # the fleet's server whose log this is


class SilenceRule:
    """Checks each source against the injected wall clock `now`.

    One alert per silence: a source that speaks again re-arms it. State: one small record
    per configured source (a closed set).
    """

    name = "source_silent"

    def __init__(self, settings: SourceSilentSettings, *, server: str) -> None:
        self.settings = settings
        self.server = server
        self.after = settings.after.total_seconds()
        self.sources: dict[str, SourceLiveness] = {}

    def update(
        self, source: str, *, last_line: float, missing: bool, now: float, server: str | None = None
    ) -> None:
        """What the daemon saw of `source`: when its last line came, whether it is gone."""
        state = self.sources.get(source)
        if state is None:
            state = self.sources[source] = SourceLiveness(last_line or now, server=server)
        if last_line > state.last_line:
            state.last_line = last_line
            state.alerted = False
        if not missing:
            state.missing_since = None
        elif state.missing_since is None:
            state.missing_since = now

    def check(self, now: float) -> list[Alert]:
        alerts = []
        for source, state in self.sources.items():
            silent_for = now - state.last_line
            missing_since = state.missing_since
            # a missing file is reported after min(after, 1 min) even if lines came lately;
            # a silent source whose file is missing when the alert goes says it vanished
            gone_long = missing_since is not None and now - missing_since >= min(self.after, 60.0)
            if state.alerted or not (gone_long or silent_for >= self.after):
                continue
            state.alerted = True
            alerts.append(self._alert(source, state, now, vanished=missing_since is not None))
        return alerts

    def _alert(self, source: str, state: SourceLiveness, now: float, *, vanished: bool) -> Alert:
        since = datetime.fromtimestamp(state.last_line).astimezone()
        if vanished:
            summary = (
                f"log of source {source} has vanished; nothing read since {since:%Y-%m-%d %H:%M}"
            )
        else:
            summary = (
                f"source {source} has logged nothing for {duration_text(now - state.last_line)}"
            )
        return rule_alert(
            self,
            subject=source,
            summary=summary,
            first_seen=since,
            last_seen=datetime.fromtimestamp(now).astimezone(),
            source=source,
            details={"vanished": vanished},
            origin=state.server,
        )
