"""`sentinel scan`: one-shot audit of exchange directories and server configurations."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sentinel.commands.output import AlertOutput
from sentinel.config import Config, load_or_exit
from sentinel.config.model import DirectoryConfig
from sentinel.files.audit import DirectoryAuditor, DirectoryReport
from sentinel.files.cache import InspectionCache
from sentinel.progress import Progress
from sentinel.textsafe import neutral

if TYPE_CHECKING:
    from sentinel.files.actions import ActionRecord

AD_HOC_MAX_AGE = timedelta(days=30)


def plan_directories(config: Config, dirs: Sequence[str]) -> list[DirectoryConfig]:
    """Configured trees, or the ones named: their configuration if configured, else defaults."""
    if not dirs:
        return list(config.directories)
    configured = {d.path.resolve(): d for d in config.directories}
    planned = []
    for name in dirs:
        path = Path(name)
        if not path.is_dir():
            raise NotADirectoryError(name)
        planned.append(
            configured.get(path.resolve())
            or DirectoryConfig(path=path, max_age=AD_HOC_MAX_AGE, inspect=True)
        )
    return planned


def _action_line(record: ActionRecord) -> str:
    verb = record.action if record.done else f"would {record.action}"
    where = f" -> {record.destination}" if record.destination else ""
    why = f" ({record.reason})" if record.reason and not record.done else ""
    if not record.done and record.reason not in ("dry run", ""):
        verb = f"did not {record.action}"
    return neutral(f"{verb} {record.directory}/{record.rel}{where}{why}", limit=600)


def run_scan(
    config: Config,
    dirs: Sequence[str],
    *,
    json_out: bool,
    dry_run: bool,
    out: TextIO,
    err: TextIO,
    clock: Callable[[], datetime],
) -> int:
    try:
        directories = plan_directories(config, dirs)
    except NotADirectoryError as error:
        err.write(f"sentinel: error: {neutral(str(error))}: not a directory\n")
        return 2
    now = clock()
    # one pass: no file is looked at twice, so no inspection is kept
    # one-shot: every file is judged, however recent (the daemon waits for uploads to settle);
    # those that may still be being written are named, and nothing recent is moved
    auditor = DirectoryAuditor(
        config.server_name, config.rules, InspectionCache(limit=0), read_settle=0.0
    )
    output = AlertOutput(out, json_out)

    reports: list[DirectoryReport] = []
    for directory in directories:
        progress = Progress(0, label=neutral(str(directory.path), 40), stream=err)
        report = auditor.audit(directory, now, dry_run=dry_run, progress=progress.update)
        progress.close()
        reports.append(report)
        output.write(report.alerts)
    if not dirs and config.server_configs:
        from sentinel.files.posture import posture_alerts  # only where configs are checked

        for check in config.server_configs:
            output.write(
                posture_alerts(
                    config.server_name, check, now, config.rules["insecure_server_config"]
                )
            )
    actions = [_action_line(r) for report in reports for r in report.actions]
    (err if json_out else out).writelines(line + "\n" for line in actions)
    err.writelines(_unsettled_lines(reports))
    err.write(_summary(reports, output.count) + "\n")
    return 0


def _unsettled_lines(reports: Sequence[DirectoryReport]) -> list[str]:
    lines = []
    for report in reports:
        for note in report.unsettled:
            where = neutral(f"{report.directory}/{note.rel}", limit=600)
            lines.append(f"sentinel: {where}: judged as it was, but {note.reason}\n")
        more = report.unsettled_total - len(report.unsettled)
        if more:
            lines.append(f"sentinel: {report.directory}: {more} more such files\n")
    return lines


def _summary(reports: Sequence[DirectoryReport], alerts: int) -> str:
    """What the scan judged, and what it could not, and why."""
    files = sum(r.files for r in reports)
    inspected = sum(r.inspected for r in reports)
    parts = [
        f"{_count(files, 'file')} in {_count(len(reports), 'directory', 'directories')}",
        f"{inspected} inspected",
    ]
    unsettled = sum(r.unsettled_total for r in reports)
    if unsettled:
        parts.append(f"{unsettled} judged while possibly still being written")
    unreadable = sum(r.unreadable for r in reports)
    deferred = sum(r.deferred for r in reports)
    unjudged = [
        f"{n} {why}"
        for n, why in ((unreadable, "unreadable"), (deferred, "still being written"))
        if n
    ]
    parts.append(
        f"{unreadable + deferred} not judged ({', '.join(unjudged)})"
        if unjudged
        else "0 not judged"
    )
    return f"sentinel: {', '.join(parts)}; {_count(alerts, 'alert')}"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def main(args: argparse.Namespace) -> int:
    config = load_or_exit(args, required=False)
    code = run_scan(
        config,
        args.dirs,
        json_out=args.json,
        dry_run=args.dry_run,
        out=sys.stdout,
        err=sys.stderr,
        clock=lambda: datetime.now(config.timezone),
    )
    sys.stdout.flush()
    return code
