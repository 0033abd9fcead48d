"""What a started server hands to tests: its port, its logs and its data, plus client helpers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.realservers import accounts
from tests.realservers.clients import FtpClient, SftpClient
from tests.realservers.proc import children, wait_until


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A real server listening on 127.0.0.1:`port`, logging into files under `workdir`.

    `logs` maps a log's capture name (e.g. "vsftpd.log", "xferlog", "auth.log") to the file
    the server (or its rsyslogd) really writes; `main_log` is the one with the logins.
    """

    kind: str  # vsftpd | proftpd | pureftpd | openssh
    port: int
    workdir: Path
    logs: dict[str, Path]
    main_log: str
    pid: int
    protocol: str = "ftp"  # ftp | sftp
    anon_root: Path | None = accounts.ANON_ROOT
    homes: Path = accounts.HOMES

    @property
    def main_log_path(self) -> Path:
        return self.logs[self.main_log]

    def ftp(self, source: str, user: str, password: str | None = None) -> FtpClient:
        """An FTP session from `source` (a 127.0.0.x address); password defaults to the user's."""
        return FtpClient(self.port, source, user, _password(user, password))

    def sftp(self, source: str, user: str, password: str | None = None) -> SftpClient:
        """An SFTP session from `source` (a 127.0.0.x address)."""
        return SftpClient(self.port, source, user, _password(user, password))

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Waits until every client session process has ended (and so has logged its end)."""
        wait_until(f"{self.kind} sessions to end", lambda: not children(self.pid), timeout)

    def session(
        self, source: str, user: str, password: str | None = None
    ) -> FtpClient | SftpClient:
        """A session in the server's own protocol (FTP or SFTP)."""
        if self.protocol == "sftp":
            return self.sftp(source, user, password)
        return self.ftp(source, user, password)

    def try_login(self, source: str, user: str, password: str) -> bool:
        """One login attempt on a fresh connection; True if the server accepted it."""
        try:
            with self.session(source, user, password):
                return True
        except PermissionError:
            return False


def _password(user: str, password: str | None) -> str:
    if password is not None:
        return password
    if user in ("anonymous", "ftp"):
        return accounts.ANON_PASSWORD
    return accounts.PASSWORDS[user]
