"""ProFTPD (extracted Debian build) on a free loopback port, logging SystemLog and xferlog."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.realservers import accounts
from tests.realservers.handle import RunningServer
from tests.realservers.proc import Server, free_port, listening, wait_until
from tests.realservers.syslog import rsyslogd

SERVERS_ROOT = (
    Path(os.environ.get("SENTINEL_SERVERS_DIR", Path(__file__).resolve().parents[2] / ".servers"))
    / "root"
)
PROFTPD = SERVERS_ROOT / "usr/sbin/proftpd"
LIBS = SERVERS_ROOT / "usr/lib/x86_64-linux-gnu"
MODULES = SERVERS_ROOT / "usr/lib/proftpd"

_CONF = """\
ModulePath {modules}
ServerName "sentinel test proftpd"
ServerType standalone
DefaultServer on
UseIPv6 off
DefaultAddress 127.0.0.1
SocketBindTight on
Port {port}
PassivePorts {pasv_min} {pasv_max}
User nobody
Group nogroup
Umask 022 022
AllowOverwrite on
UseReverseDNS off
WtmpLog off
PidFile {workdir}/proftpd.pid
ScoreboardFile {workdir}/proftpd.scoreboard
{systemlog}
SyslogLevel info
TransferLog {workdir}/xferlog
MaxInstances 60
<IfModule mod_delay.c>
  DelayEngine off
</IfModule>
<IfModule mod_ctrls.c>
  ControlsEngine off
</IfModule>
<Anonymous {anon_root}>
  User ftp
  Group nogroup
  UserAlias anonymous ftp
  RequireValidShell off
  <Directory *>
    <Limit WRITE>
      DenyAll
    </Limit>
  </Directory>
</Anonymous>
"""


def write_config(workdir: Path, port: int, *, systemlog: bool = True, extra: str = "") -> Path:
    """The proftpd.conf of a test run: a Debian-like config with every path in `workdir`.

    Without `systemlog`, ProFTPD logs through syslog (facility auth, beside PAM's lines).
    """
    pasv_min = random.randrange(40000, 59000)  # spreads concurrent runs' ranges
    conf = workdir / "proftpd.conf"
    conf.write_text(
        _CONF.format(
            modules=MODULES,
            port=port,
            workdir=workdir,
            pasv_min=pasv_min,
            pasv_max=pasv_min + 500,
            anon_root=accounts.ANON_ROOT,
            systemlog=f"SystemLog {workdir}/proftpd.log" if systemlog else "SyslogFacility AUTH",
        )
        + extra
    )
    return conf


@contextmanager
def proftpd(workdir: Path) -> Iterator[RunningServer]:
    """Starts ProFTPD as a daemon (without -n, which logs to stderr, not SystemLog); stops it by
    the PID of its PidFile on exit."""
    accounts.ensure_accounts()
    port = free_port()
    conf = write_config(workdir, port)
    pidfile = workdir / "proftpd.pid"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LD_LIBRARY_PATH": str(LIBS)}
    server = Server("proftpd", [str(PROFTPD), "-c", str(conf)], workdir, env, pidfile=pidfile)
    try:
        server.await_ready("listening", lambda: pidfile.exists() and listening(port))
        yield RunningServer(
            kind="proftpd",
            port=port,
            workdir=workdir,
            logs={"proftpd.log": workdir / "proftpd.log", "xferlog": workdir / "xferlog"},
            main_log="proftpd.log",
            pid=server.pid,
        )
    finally:
        server.stop()


@contextmanager
def proftpd_syslog(
    workdir: Path, *, systemlog: bool = True, extra: str = ""
) -> Iterator[RunningServer]:
    """ProFTPD under a private rsyslogd: PAM's lines land in its auth.log, and so do
    ProFTPD's own without `systemlog` (then there is no proftpd.log). Stops both by PID."""
    accounts.ensure_accounts()
    port = free_port()
    conf = write_config(workdir, port, systemlog=systemlog, extra=extra)
    pidfile = workdir / "proftpd.pid"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LD_LIBRARY_PATH": str(LIBS)}
    with rsyslogd(workdir) as syslog:
        argv = syslog.wrap([str(PROFTPD), "-c", str(conf)], workdir / "dev")
        server = Server("proftpd", argv, workdir, env, pidfile=pidfile)
        logs = {
            "auth.log": syslog.traditional,
            "auth.rfc3339.log": syslog.rfc3339,
            "xferlog": workdir / "xferlog",
        }
        if systemlog:
            logs["proftpd.log"] = workdir / "proftpd.log"
        try:
            # the launcher may exit before the daemon wrote its pidfile: wait for it first
            wait_until("proftpd's pidfile", pidfile.exists)
            server.await_ready("listening", lambda: listening(port))
            yield RunningServer(
                kind="proftpd",
                port=port,
                workdir=workdir,
                logs=logs,
                main_log="proftpd.log" if systemlog else "auth.log",
                pid=server.pid,
            )
        finally:
            server.stop()
