"""insecure_server_config: posture checks of FTP and SSH server configurations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sentinel.alerts import Alert, make_alert
from sentinel.config.model import ServerConfigCheck
from sentinel.files import posture_ftp, posture_sshd
from sentinel.files.finding import Finding
from sentinel.rules.settings import InsecureServerConfigSettings

__all__ = ["Finding", "findings", "posture_alerts"]
RULE = "insecure_server_config"


def _checkers() -> dict[str, Callable[[Path], list[Finding]]]:
    return {
        "vsftpd": posture_ftp.check_vsftpd,
        "proftpd": posture_ftp.check_proftpd,
        "pureftpd": posture_ftp.check_pureftpd,
        "sshd": posture_sshd.check_sshd,
    }


def findings(check: ServerConfigCheck) -> list[Finding]:
    """Every finding for one configured server config (OSError if it cannot be read)."""
    return _checkers()[check.kind](check.path)


def posture_alerts(
    server: str, check: ServerConfigCheck, now: datetime, settings: InsecureServerConfigSettings
) -> list[Alert]:
    """One alert per finding, stamped with the configuration file's mtime."""
    if not settings.enabled:
        return []
    try:
        found = findings(check)
        stamp = datetime.fromtimestamp(check.path.stat().st_mtime, tz=now.tzinfo)
    except OSError as error:
        found = [Finding("(file)", f"cannot be read: {error.strerror}", "check the path")]
        stamp = now
    return [_alert(server, check, f, stamp, settings) for f in found]


def _alert(
    server: str,
    check: ServerConfigCheck,
    finding: Finding,
    stamp: datetime,
    settings: InsecureServerConfigSettings,
) -> Alert:
    severity = max(settings.severity, finding.severity)
    where = finding.where or str(check.path)
    return make_alert(
        rule=RULE,
        severity=severity,
        server=server,
        subject=f"{check.path}\x00{finding.setting}",
        summary=f"{check.kind} {where}: {finding.setting}: {finding.problem}; {finding.fix}",
        first_seen=stamp,
        last_seen=stamp,
        source=check.kind,
        path=str(check.path),
        details={"setting": finding.setting, "problem": finding.problem, "fix": finding.fix},
    )
