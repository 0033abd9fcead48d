"""A fleet's logging on loopback: a central rsyslogd (TCP in, one file per sending host) and
senders (rsyslogd with their own host name, forwarding over TCP with a disk-assisted queue).

Each sender listens on a private socket like tests.realservers.syslog's (imuxsock, system
socket off), so real servers started with `wrap` log through it; `log` writes a line to it as
syslog(3) would (RFC 3164), for the forms no server on loopback can produce (IPv6 clients).
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.realservers import accounts, vsftpd
from tests.realservers.handle import RunningServer
from tests.realservers.proc import Server, free_port, listening
from tests.realservers.syslog import Syslog

CENTRAL_CONF = """\
global(workDirectory="{spool}")
module(load="imtcp")
template(name="PerHostAuth" type="string" string="{root}/%HOSTNAME:::secpath-replace%/auth.log")
ruleset(name="remote") {{
  action(type="omfile" dynaFile="PerHostAuth" template="RSYSLOG_FileFormat"
         dirCreateMode="0750" fileCreateMode="0640")
}}
input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="remote")
"""

SENDER_CONF = """\
global(workDirectory="{spool}" localHostname="{host}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{sock}" CreatePath="on" RateLimit.Interval="0")
auth,authpriv.*;ftp.* action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp"
    template="RSYSLOG_ForwardFormat"
    queue.type="LinkedList" queue.filename="to-central" queue.saveOnShutdown="on"
    action.resumeRetryCount="-1" action.resumeInterval="1")
"""

AUTHPRIV = 10  # syslog facility codes (RFC 5424)
FTP = 11
INFO = 6


@dataclass(frozen=True, slots=True)
class Central:
    """The central host: where per-host files land (`root`/HOST/auth.log)."""

    port: int
    root: Path
    server: Server

    def file(self, host: str) -> Path:
        return self.root / host / "auth.log"


@contextmanager
def central(workdir: Path) -> Iterator[Central]:
    """The central rsyslogd on a free loopback TCP port; stopped by PID on exit."""
    spool, root = workdir / "central-spool", workdir / "remote"
    spool.mkdir(mode=0o700)
    root.mkdir(mode=0o755)
    port = free_port()
    conf = workdir / "central.conf"
    conf.write_text(CENTRAL_CONF.format(spool=spool, root=root, port=port))
    argv = ["rsyslogd", "-n", "-f", str(conf), "-i", str(workdir / "central.pid")]
    server = Server("rsyslogd-central", argv, workdir)
    try:
        server.await_ready("listening", lambda: listening(port))
        yield Central(port, root, server)
    finally:
        server.stop()


@dataclass(frozen=True, slots=True)
class Sender:
    """One sending server's rsyslogd: `syslog.wrap` runs a real server logging through it."""

    host: str
    syslog: Syslog

    def log(self, facility: int, tag: str, message: str) -> None:
        """One datagram as syslog(3) sends it: `<PRI>Mmm dd hh:mm:ss tag: message`."""
        line = f"<{facility * 8 + INFO}>Jan  1 00:00:00 {tag}: {message}"  # time: imuxsock's
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(line.encode(), str(self.syslog.socket))


@contextmanager
def sender(workdir: Path, host: str, central_port: int) -> Iterator[Sender]:
    """An rsyslogd calling itself `host`, forwarding auth, authpriv and ftp to the central."""
    workdir.mkdir(mode=0o755, exist_ok=True)
    spool = workdir / "spool"
    spool.mkdir(mode=0o700)
    sockdir = Path(tempfile.mkdtemp(prefix="sentinel-fleet-", dir="/tmp"))
    sockdir.chmod(0o711)  # servers that dropped privileges must reach the socket
    sock = sockdir / "log.sock"
    conf = workdir / "sender.conf"
    conf.write_text(SENDER_CONF.format(spool=spool, host=host, sock=sock, port=central_port))
    argv = ["rsyslogd", "-n", "-f", str(conf), "-i", str(workdir / "rsyslogd.pid")]
    server = Server(f"rsyslogd-{host}", argv, workdir)
    try:
        server.await_ready("socket", sock.exists)
        yield Sender(host, Syslog(sock, workdir / "unused", workdir / "unused", server))
    finally:
        server.stop()
        shutil.rmtree(sockdir, ignore_errors=True)


@contextmanager
def vsftpd_via(sender: Sender, workdir: Path) -> Iterator[RunningServer]:
    """A real vsftpd on `sender`'s host, logging through its syslog (`syslog_enable=YES`)."""
    accounts.ensure_accounts()
    workdir.mkdir(mode=0o755, exist_ok=True)
    port = free_port()
    conf = vsftpd.write_config(workdir, port)
    with conf.open("a") as out:
        out.write("syslog_enable=YES\n")
    argv = sender.syslog.wrap([vsftpd.VSFTPD, str(conf)], workdir / "dev")
    server = Server(f"vsftpd-{sender.host}", argv, workdir)
    try:
        server.await_ready("listening", lambda: listening(port))
        yield RunningServer(
            kind="vsftpd",
            port=port,
            workdir=workdir,
            logs={"xferlog": workdir / "xferlog"},
            main_log="xferlog",
            pid=server.pid,
        )
    finally:
        server.stop()
