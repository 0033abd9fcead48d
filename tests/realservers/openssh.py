"""OpenSSH sshd with internal-sftp on a free loopback port, logging through a private rsyslogd."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.realservers import accounts
from tests.realservers.handle import RunningServer
from tests.realservers.proc import Server, free_port, listening
from tests.realservers.syslog import rsyslogd

SSHD = "/usr/sbin/sshd"  # sshd re-executes itself: it must be started by absolute path
PRIVSEP_DIR = Path("/run/sshd")

_CONF = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {workdir}/ssh_host_ed25519_key
PidFile {workdir}/sshd.pid
SyslogFacility AUTH
LogLevel INFO
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
PermitRootLogin no
UseDNS no
StrictModes no
MaxStartups 60:30:100
MaxAuthTries 6
Subsystem sftp internal-sftp -l INFO
"""


def write_config(workdir: Path, port: int, overrides: dict[str, str] | None = None) -> Path:
    """sshd_config and a fresh host key in `workdir`; `overrides` replace or add keywords."""
    key = workdir / "ssh_host_ed25519_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    conf = workdir / "sshd_config"
    lines = _CONF.format(port=port, workdir=workdir).splitlines()
    given = dict(overrides or {})
    kept = [line for line in lines if line.split(" ", 1)[0] not in given]
    # the Subsystem line stays last: keywords after a Match block would belong to it
    body = [*kept[:-1], *(f"{key} {value}" for key, value in given.items()), kept[-1]]
    conf.write_text("\n".join(body) + "\n")
    return conf


@contextmanager
def sshd(
    workdir: Path, overrides: dict[str, str] | None = None, *, repeat_reduction: bool = False
) -> Iterator[RunningServer]:
    """Starts sshd -D in a namespace whose /dev/log is a private rsyslogd; stops both by PID.

    internal-sftp logs transfers only through syslog, never to `sshd -E`: hence rsyslogd.
    `overrides` are sshd_config keywords (AllowUsers, MaxAuthTries, ...); `repeat_reduction`
    turns rsyslog's `$RepeatedMsgReduction` on (Ubuntu's default).
    """
    accounts.ensure_accounts()
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)  # sshd refuses to start without it
    port = free_port()
    conf = write_config(workdir, port, overrides)
    with rsyslogd(workdir, repeat_reduction=repeat_reduction) as syslog:
        argv = syslog.wrap([SSHD, "-D", "-f", str(conf)], workdir / "dev")
        server = Server("sshd", argv, workdir)
        try:
            server.await_ready("listening", lambda: listening(port))
            yield RunningServer(
                kind="openssh",
                port=port,
                workdir=workdir,
                logs={"auth.log": syslog.traditional, "auth.rfc3339.log": syslog.rfc3339},
                main_log="auth.log",
                pid=server.pid,
                protocol="sftp",
                anon_root=None,
            )
        finally:
            server.stop()
