"""`sentinel report`: were we affected? The incident report of logs or of the state store."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, tzinfo

from sentinel.config import load_or_exit
from sentinel.config.units import parse_duration


class _Usage(Exception):
    """A bad option value: one line, exit 2."""


def parse_moment(text: str, now: datetime, tz: tzinfo) -> datetime:
    """A duration back from now (`7d`), a date (`2026-11-23`) or an ISO 8601 time."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Usage(f"{text!r} is neither a duration (7d) nor a date (2026-11-23)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _write(text: str, target: str | None) -> None:
    if target is None or target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    # user names and addresses are personal data: the file is private by its own mode
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(target, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def main(args: argparse.Namespace) -> int:
    config = load_or_exit(args, required=False)
    now = datetime.fromtimestamp(int(time.time()), UTC).astimezone(config.timezone)
    try:
        since = parse_moment(args.since, now, config.timezone) if args.since else None
        until = parse_moment(args.until, now, config.timezone) if args.until else None
    except _Usage as error:
        print(f"sentinel: error: --since/--until: {error}", file=sys.stderr)
        return 2
    from sentinel.commands.replay import UsageError
    from sentinel.report.build import build_report
    from sentinel.report.facts import report_facts
    from sentinel.report.gather import incidents_from_replay, incidents_from_store
    from sentinel.report.words import Words, choose_language
    from sentinel.sinks.store import StoreError

    try:
        if args.logs:
            gathered = incidents_from_replay(config, args.logs, since, until)
        else:
            gathered = incidents_from_store(config, since, until)
    except UsageError as error:
        print(f"sentinel: error: {error}", file=sys.stderr)
        return 2
    except StoreError as error:
        print(f"sentinel: error: {error}", file=sys.stderr)
        return 1
    lang = choose_language(args.lang, os.environ)
    words = Words(lang)
    facts = report_facts(build_report(config, gathered, now), lang)
    if args.format == "json":
        text = json.dumps(facts, ensure_ascii=False, separators=(",", ":")) + "\n"
    elif args.format == "md":
        from sentinel.report.markdown import render_markdown

        text = render_markdown(facts, words)
    else:
        text = _html(facts, words)
    try:
        _write(text, args.output)
    except OSError as error:
        print(f"sentinel: error: {args.output}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"sentinel: {len(facts['incidents'])} incidents", file=sys.stderr)
    return 0


def _html(facts: dict[str, object], words: object) -> str:
    from sentinel.report import timeline
    from sentinel.report.html import render_html
    from sentinel.report.words import Words

    assert isinstance(words, Words)
    figure = None
    if facts["period"] is not None:
        if timeline.available():
            figure = timeline.draw(facts, words)
        else:
            print(
                "sentinel: matplotlib missing: no timeline (ftp-sentinel[report])", file=sys.stderr
            )
    return render_html(facts, words, figure)
