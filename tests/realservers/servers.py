"""The registry of real servers the harness can start: name -> context manager."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from tests.realservers.handle import RunningServer
from tests.realservers.openssh import sshd
from tests.realservers.proftpd import proftpd
from tests.realservers.pureftpd import pureftpd
from tests.realservers.vsftpd import vsftpd

Starter = Callable[[Path], AbstractContextManager[RunningServer]]

STARTERS: dict[str, Starter] = {
    "vsftpd": vsftpd,
    "proftpd": proftpd,
    "pureftpd": pureftpd,
    "openssh": sshd,
}
