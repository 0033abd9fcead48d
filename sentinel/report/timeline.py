"""The timeline picture: incidents by rule and severity over the volume of logins and
transfers, blind spots shaded; one inline SVG (text drawn as paths: no font to fetch).

matplotlib is the optional extra `ftp-sentinel[report]`; only this module imports it, and
only the report command imports this module. No pyplot: a Figure of its own, no global state.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

COLOURS = {"critical": "#c0392b", "warning": "#e67e22", "info": "#2e86c1"}
MAX_RULE_ROWS = 16
RESOLUTION = 600  # parts of the period the picture tells apart (about its width in points)
_PROLOG = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)  # RDF naming its schemas' URLs
# namespace names: not fetched, and HTML's parser gives inline SVG its namespaces anyway
_XMLNS = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')
_LABEL = re.compile(
    r"[^\w .,'()-]"
)  # matplotlib echoes labels in SVG comments: nothing to close one


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


def _merged(spans: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    """Spans (epoch seconds) closer than `gap`, which the picture cannot tell apart, drawn as
    one: the SVG stays small for tens of thousands of incidents."""
    merged: list[tuple[float, float]] = []
    end = float("-inf")
    for first, last in sorted(spans):
        if first <= end + gap:
            if last > end:
                end = last
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
            end = last
    return merged


Marks = dict[str, tuple[list[int], list[datetime], list[datetime]]]


def _incident_marks(
    incidents: list[dict[str, Any]], rules: list[str], gap: timedelta, tz: tzinfo | None
) -> Marks:
    """Per severity: the row (rule), start and end of each span to draw."""
    rows = {rule: y for y, rule in enumerate(rules)}
    spans: dict[tuple[str, int], list[tuple[float, float]]] = {}
    stamp = datetime.fromisoformat
    for incident in incidents:
        y = rows.get(incident["rule"])
        if y is not None:
            first = stamp(incident["first_seen"]).timestamp()
            last = stamp(incident["last_seen"]).timestamp()
            spans.setdefault((incident["severity"], y), []).append(
                (first, last if last > first else first)
            )
    marks: Marks = {}
    for (severity, y), found in spans.items():
        ys, firsts, lasts = marks.setdefault(severity, ([], [], []))
        for first, last in _merged(found, gap.total_seconds()):
            ys.append(y)
            firsts.append(datetime.fromtimestamp(first, tz))
            lasts.append(datetime.fromtimestamp(last, tz))
    return marks


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
    height = 0.32 * rows + 3.4  # inches: a row per rule, the volume below, margins
    figure = Figure(figsize=(10, height))
    top, bottom = figure.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [0.32 * rows + 0.6, 1.8]}
    )
    # fixed margins (rule names on the left): constrained layout costs half the drawing
    figure.subplots_adjust(left=0.24, right=0.98, top=1 - 0.4 / height, bottom=0.5 / height)
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
    marks = _incident_marks(incidents, rules, (end - start) / RESOLUTION, start.tzinfo)
    for severity, (ys, firsts, lasts) in marks.items():  # one collection per colour
        colour = COLOURS.get(severity, "#555555")
        top.hlines(ys, firsts, lasts, colors=colour, linewidth=6)
        top.scatter(firsts, ys, color=colour, s=30, zorder=3, label=words(f"severity.{severity}"))
    if marks:
        top.legend(fontsize=7, loc="upper right")
    labels = [_LABEL.sub("", words(f"rule.{r}")) for r in rules]
    top.set_yticks(range(len(rules)), labels, fontsize=8)
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
    svg = _METADATA.sub("", _PROLOG.sub("", out.getvalue(), count=1), count=1)
    head, _, rest = svg.partition(">")
    return _XMLNS.sub("", head) + ">" + rest
