"""Blind spots: stretches of hours in which a usually busy log said nothing at all.

The rule, stated in every report: within the period a source's logs cover (its first to its
last event), an hour is *usually busy* when the median number of lines at that hour of the
day, over the days covered, is above zero; when the logs cover less than `PROFILE_DAYS`
days there is too little to know the hours of the day apart, and every hour is usually busy
when the median over all the hours covered is above zero. A blind spot is a run of
consecutive hours without any line that holds at least `MIN_BUSY_HOURS` usually busy hours.
A quiet night on a server busy by day is not one; a day of silence is.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from sentinel.report.gather import LogCoverage

HOUR = 3600
PROFILE_DAYS = 7  # days of logs before each hour of the day gets its own median
MIN_BUSY_HOURS = 3  # usually busy hours in one silent run that make it a blind spot


@dataclass(frozen=True, slots=True)
class BlindSpot:
    source: str
    start: float  # epoch seconds, on an hour
    end: float  # epoch seconds, the end of the last silent hour
    busy_hours: int  # usually busy hours within it

    @property
    def hours(self) -> int:
        return round((self.end - self.start) / HOUR)


def _usually_busy(hourly: dict[int, int], first: int, last: int) -> set[int]:
    """The hours (epoch // 3600) between `first` and `last` that are usually busy."""
    span = range(first, last + 1)
    if len(span) < PROFILE_DAYS * 24:
        return set(span) if median(hourly.get(h, 0) for h in span) > 0 else set()
    by_hour_of_day: dict[int, list[int]] = {}
    for hour in span:
        by_hour_of_day.setdefault(hour % 24, []).append(hourly.get(hour, 0))
    busy_of_day = {hod for hod, counts in by_hour_of_day.items() if median(counts) > 0}
    return {hour for hour in span if hour % 24 in busy_of_day}


def blind_spots(coverage: LogCoverage) -> list[BlindSpot]:
    """The blind spots of one source's logs, oldest first."""
    hourly = coverage.hourly
    if not hourly:
        return []
    first, last = min(hourly), max(hourly)
    busy = _usually_busy(hourly, first, last)
    if not busy:
        return []
    found = []
    run_start, run_busy = None, 0
    for hour in range(first, last + 2):  # one past the end closes a last run
        silent = hour <= last and not hourly.get(hour)
        if silent:
            if run_start is None:
                run_start, run_busy = hour, 0
            run_busy += hour in busy
            continue
        if run_start is not None and run_busy >= MIN_BUSY_HOURS:
            found.append(BlindSpot(coverage.source, run_start * HOUR, hour * HOUR, run_busy))
        run_start = None
    return found
