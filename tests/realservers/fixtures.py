"""pytest fixtures starting each real server in the test's tmp_path (a pytest plugin module).

Register with `pytest_plugins = ["tests.realservers.fixtures"]` in tests/conftest.py. Each
fixture is function-scoped (a server starts in well under a second) and yields a
RunningServer: `port`, `logs` (capture name -> path), `main_log_path`, `homes`, `anon_root`,
and client helpers `session()`, `ftp()`, `sftp()`, `try_login()`, `wait_idle()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realservers.handle import RunningServer
from tests.realservers.openssh import sshd
from tests.realservers.proftpd import proftpd
from tests.realservers.pureftpd import pureftpd
from tests.realservers.vsftpd import vsftpd


@pytest.fixture
def vsftpd_server(tmp_path: Path) -> Iterator[RunningServer]:
    """vsftpd writing vsftpd.log + xferlog; its PAM lines go to a private rsyslogd."""
    with vsftpd(tmp_path) as server:
        yield server


@pytest.fixture
def proftpd_server(tmp_path: Path) -> Iterator[RunningServer]:
    """ProFTPD writing its SystemLog (proftpd.log) and TransferLog (xferlog)."""
    with proftpd(tmp_path) as server:
        yield server


@pytest.fixture
def pureftpd_server(tmp_path: Path) -> Iterator[RunningServer]:
    """Pure-FTPd logging to a private rsyslogd (syslog.log, syslog.rfc3339.log) + xferlog."""
    with pureftpd(tmp_path) as server:
        yield server


@pytest.fixture
def sshd_server(tmp_path: Path) -> Iterator[RunningServer]:
    """sshd with internal-sftp logging to a private rsyslogd (auth.log, auth.rfc3339.log)."""
    with sshd(tmp_path) as server:
        yield server
