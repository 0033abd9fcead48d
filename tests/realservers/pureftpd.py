"""Pure-FTPd (extracted Debian build) on a free loopback port: syslog (facility ftp) + AltLog."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.realservers import accounts
from tests.realservers.handle import RunningServer
from tests.realservers.proc import Server, free_port, listening
from tests.realservers.proftpd import LIBS, SERVERS_ROOT
from tests.realservers.syslog import rsyslogd

PUREFTPD = SERVERS_ROOT / "usr/sbin/pure-ftpd"


def command(workdir: Path, port: int) -> list[str]:
    """pure-ftpd's command line: no config file, every setting is an option."""
    pasv_min = random.randrange(40000, 59000)  # spreads concurrent runs' ranges
    return [
        str(PUREFTPD),
        "--bind",
        f"127.0.0.1,{port}",
        "--ipv4only",
        "--login",
        "pam",  # PAM service "pure-ftpd": pam_unix lines land in auth.log like Debian's
        "--syslogfacility",
        "ftp",
        "--altlog",
        f"xferlog:{workdir / 'xferlog'}",
        "--passiveportrange",
        f"{pasv_min}:{pasv_min + 500}",
        "--dontresolve",
        "--minuid",
        "1000",
        "--maxclientsnumber",
        "60",
        "--maxclientsperip",
        "30",
        "--pidfile",
        str(workdir / "pure-ftpd.pid"),
    ]


@contextmanager
def pureftpd(workdir: Path) -> Iterator[RunningServer]:
    """Starts Pure-FTPd in the foreground with a private /dev/log; stops it by PID on exit."""
    accounts.ensure_accounts()
    port = free_port()
    with rsyslogd(workdir) as syslog:
        argv = syslog.wrap(command(workdir, port), workdir / "dev")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LD_LIBRARY_PATH": str(LIBS)}
        server = Server("pure-ftpd", argv, workdir, env)
        try:
            server.await_ready("listening", lambda: listening(port))
            yield RunningServer(
                kind="pureftpd",
                port=port,
                workdir=workdir,
                logs={
                    "syslog.log": syslog.traditional,
                    "syslog.rfc3339.log": syslog.rfc3339,
                    "xferlog": workdir / "xferlog",
                },
                main_log="syslog.log",
                pid=server.pid,
            )
        finally:
            server.stop()
