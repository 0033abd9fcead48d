"""Command line of SPEC: parses arguments and hands over to one module per command.

Command modules are imported lazily so that `replay` never pays for Apprise or watchdog.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sentinel import __version__

FORMATS = ("auto", "vsftpd", "xferlog", "proftpd", "pureftpd", "openssh")


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        help="configuration file (default: $SENTINEL_CONFIG, then /etc/sentinel/sentinel.yaml)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sentinel",
        description="Security monitoring for file-exchange servers (FTP, FTPS, SFTP).",
    )
    parser.add_argument("--version", action="version", version=f"sentinel {__version__}")
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=None,
        help="diagnostics on stderr as text (default) or one JSON object per line",
    )
    parser.add_argument(
        "--log-level", choices=("debug", "info", "warning", "error"), default="info"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="the daemon, in the foreground")
    _config_option(run)

    replay = commands.add_parser("replay", help="analyse existing logs with the daemon's rules")
    _config_option(replay)
    replay.add_argument("--format", choices=FORMATS, default="auto")
    replay.add_argument("--json", action="store_true", help="one JSON alert per line")
    replay.add_argument(
        "--updates",
        action="store_true",
        help="every record the daemon would have made (open, update, closed), not only the last",
    )
    replay.add_argument("files", nargs="+", metavar="FILE", help="log files, plain or .gz")

    scan = commands.add_parser("scan", help="one-shot audit of the exchange directories")
    _config_option(scan)
    scan.add_argument("--json", action="store_true", help="one JSON alert per line")
    scan.add_argument("--dry-run", action="store_true", help="show what quarantine/delete would do")
    scan.add_argument("dirs", nargs="*", metavar="DIR", help="directories (default: configured)")

    parse = commands.add_parser("parse", help="show the events read from logs, or the lines missed")
    _config_option(parse)  # its time zone and sources' formats, as replay reads them
    parse.add_argument("--format", choices=FORMATS, default="auto")
    parse.add_argument(
        "--missed", action="store_true", help="the lines of known programs that gave no event"
    )
    parse.add_argument("files", nargs="+", metavar="FILE", help="log files, plain or .gz")

    check = commands.add_parser("check-config", help="validate a configuration")
    _config_option(check)

    test_alert = commands.add_parser("test-alert", help="send a test notification everywhere")
    _config_option(test_alert)

    alerts = commands.add_parser("alerts", help="list the incidents recorded in the state store")
    _config_option(alerts)
    alerts.add_argument("--since", metavar="DURATION", default=None, help="e.g. 1h, 7d")
    alerts.add_argument("--json", action="store_true", help="one JSON alert per line")
    alerts.add_argument(
        "--records",
        action="store_true",
        help="every record (open, update, closed), not only each incident's latest",
    )

    report = commands.add_parser("report", help="the incident report: were we affected?")
    _config_option(report)
    report.add_argument("--since", metavar="D", help="a duration back from now (7d) or a date")
    report.add_argument("--until", metavar="D", help="a duration back from now or a date")
    report.add_argument("--format", choices=("html", "json", "md"), default="html")
    report.add_argument("--lang", choices=("en", "fr"), help="default: from the locale")
    report.add_argument("-o", "--output", metavar="FILE", help="write here (mode 0600), not stdout")
    report.add_argument("logs", nargs="*", metavar="LOG", help="logs (default: the state store)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = importlib.import_module(f"sentinel.commands.{args.command.replace('-', '_')}")
    try:
        code: int = module.main(args)
    except BrokenPipeError:
        # `sentinel replay ... | head`: the reader left; not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    return code
