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
    auditor = DirectoryAuditor(config.server_name, config.rules, InspectionCache(limit=0))
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
    files = sum(r.files for r in reports)
    inspected = sum(r.inspected for r in reports)
    err.write(
        f"sentinel: {files} files in {len(reports)} directories, {inspected} inspected, "
        f"{sum(r.deferred for r in reports)} still being written; {output.count} alerts\n"
    )
    return 0


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
