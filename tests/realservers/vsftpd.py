"""vsftpd on a free loopback port with its own config, logging both its log and xferlog."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.realservers import accounts
from tests.realservers.handle import RunningServer
from tests.realservers.proc import Server, free_port, listening
from tests.realservers.syslog import rsyslogd

VSFTPD = "/usr/sbin/vsftpd"

_CONF = """\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
anonymous_enable=YES
anon_root={anon_root}
no_anon_password=NO
local_enable=YES
write_enable=YES
local_umask=022
check_shell=NO
pam_service_name=vsftpd
dual_log_enable=YES
xferlog_enable=YES
vsftpd_log_file={workdir}/vsftpd.log
xferlog_file={workdir}/xferlog
use_localtime=YES
delay_failed_login=0
delay_successful_login=0
max_login_fails=1
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port={pasv_min}
pasv_max_port={pasv_max}
pasv_promiscuous=NO
connect_from_port_20=NO
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
secure_chroot_dir={workdir}/empty
ftpd_banner=sentinel test vsftpd
"""


def write_config(workdir: Path, port: int, extra: str = "") -> Path:
    """The vsftpd.conf of a test run (vsftpd wants it owned by root, which we are).

    `extra` lines are appended (vsftpd takes the last value of a setting).
    """
    (workdir / "empty").mkdir(mode=0o755)
    pasv_min = random.randrange(40000, 59000)  # spreads concurrent runs' ranges
    conf = workdir / "vsftpd.conf"
    conf.write_text(
        _CONF.format(
            port=port,
            workdir=workdir,
            anon_root=accounts.ANON_ROOT,
            pasv_min=pasv_min,
            pasv_max=pasv_min + 500,
        )
        + extra
    )
    return conf


@contextmanager
def vsftpd(workdir: Path, extra: str = "") -> Iterator[RunningServer]:
    """Starts vsftpd (PAM lines go to a private rsyslogd); stops both by PID on exit.

    `extra` config lines are appended: with `syslog_enable=YES`, vsftpd's own lines go to
    that rsyslogd too (facility ftp), beside PAM's, instead of vsftpd.log.
    """
    accounts.ensure_accounts()
    port = free_port()
    conf = write_config(workdir, port, extra)
    with rsyslogd(workdir) as syslog:
        argv = syslog.wrap([VSFTPD, str(conf)], workdir / "dev")
        server = Server("vsftpd", argv, workdir)
        try:
            server.await_ready("listening", lambda: listening(port))
            yield RunningServer(
                kind="vsftpd",
                port=port,
                workdir=workdir,
                logs={
                    "vsftpd.log": workdir / "vsftpd.log",
                    "xferlog": workdir / "xferlog",
                    "auth.log": syslog.traditional,
                    "auth.rfc3339.log": syslog.rfc3339,
                },
                main_log="vsftpd.log",
                pid=server.pid,
            )
        finally:
            server.stop()
