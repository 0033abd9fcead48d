"""The timeline picture: incidents by rule and severity over the volume of logins and
transfers, blind spots shaded; one inline SVG (text drawn as paths: no font to fetch).

matplotlib is the optional extra `ftp-sentinel[report]`; only this module imports it, and
only the report command imports this module. No pyplot: a Figure of its own, no global state.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

COLOURS = {"critical": "#c0392b", "warning": "#e67e22", "info": "#2e86c1"}
MAX_RULE_ROWS = 16
_PROLOG = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _bins(
    activity: list[dict[str, Any]], daily: bool
) -> tuple[list[datetime], list[int], list[int]]:
    sums: dict[datetime, list[int]] = {}
    for row in activity:
        when = datetime.fromisoformat(row["hour"])
        if daily:
            when = when.replace(hour=0, minute=0, second=0, microsecond=0)
        counts = sums.setdefault(when, [0, 0])
        counts[0] += row["logins"]
        counts[1] += row["transfers"]
    keys = sorted(sums)
    return keys, [sums[k][0] for k in keys], [sums[k][1] for k in keys]


def draw(facts: dict[str, Any], words: Callable[[str], str]) -> str:
    """The SVG element (no XML prolog) of the report's timeline."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    period = facts["period"]
    start = datetime.fromisoformat(period["start"])
    end = datetime.fromisoformat(period["end"])
    if end - start < timedelta(minutes=10):
        start, end = start - timedelta(minutes=5), end + timedelta(minutes=5)
    daily = end - start > timedelta(days=7)
    width = timedelta(days=1) if daily else timedelta(hours=1)

    incidents = facts["incidents"]
    rules = list(dict.fromkeys(i["rule"] for i in incidents))[:MAX_RULE_ROWS]
    rows = max(len(rules), 1)
    figure = Figure(figsize=(10, 1.6 + 0.32 * rows + 1.8), layout="constrained")
    top, bottom = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [0.32 * rows + 0.6, 1.8]}
    )
    tz = start.tzinfo
    for spot in facts["blind_spots"]:
        for axes in (top, bottom):
            axes.axvspan(
                datetime.fromisoformat(spot["start"]),
                datetime.fromisoformat(spot["end"]),
                color="#999999",
                alpha=0.3,
                linewidth=0,
            )
    for incident in incidents:
        if incident["rule"] not in rules:
            continue
        y = rules.index(incident["rule"])
        first = datetime.fromisoformat(incident["first_seen"])
        last = datetime.fromisoformat(incident["last_seen"])
        colour = COLOURS.get(incident["severity"], "#555555")
        top.plot(
            [first, max(last, first)], [y, y], color=colour, linewidth=6, solid_capstyle="butt"
        )
        top.plot([first], [y], marker="o", color=colour, markersize=6)
    top.set_yticks(range(len(rules)), [words(f"rule.{r}") for r in rules], fontsize=8)
    top.set_ylim(-0.7, rows - 0.3)
    top.invert_yaxis()
    top.set_title(words("timeline"), fontsize=10, loc="left")

    keys, logins, transfers = _bins(facts["activity"], daily)
    if keys:
        span = width / timedelta(days=1)  # matplotlib's dates count in days
        bottom.bar(
            keys, logins, width=span, align="edge", color="#5d6d7e", label=words("timeline.logins")
        )
        bottom.bar(
            keys,
            transfers,
            width=span,
            bottom=logins,
            align="edge",
            color="#aab7b8",
            label=words("timeline.transfers"),
        )
        bottom.legend(fontsize=7, loc="upper right")
    bottom.set_ylabel(words("timeline.volume"), fontsize=8)
    bottom.set_xlim(start, end)
    # matplotlib.dates ships no annotations for these two classes
    locator = AutoDateLocator(tz=tz)  # type: ignore[no-untyped-call]
    bottom.xaxis.set_major_locator(locator)
    formatter = ConciseDateFormatter(locator, tz=tz)  # type: ignore[no-untyped-call]
    bottom.xaxis.set_major_formatter(formatter)
    for axes in (top, bottom):
        axes.tick_params(labelsize=7)
        axes.spines[["top", "right"]].set_visible(False)
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _PROLOG.sub("", out.getvalue(), count=1)
