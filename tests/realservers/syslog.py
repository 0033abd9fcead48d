"""A private rsyslogd and a private /dev/log for servers that log only through syslog.

rsyslogd listens on a socket in the run's temp dir (imuxsock with the system socket off), so
it never touches the machine's /dev/log. A server that calls syslog(3) is started inside its
own mount namespace (`unshare --mount`) where /dev is a small tmpfs holding the usual device
nodes (bind mounts) and `log`, a symlink to that socket. Concurrent runs thus never share a
/dev/log, and the host's /dev is left alone.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.realservers.proc import Server

FACILITIES = "auth,authpriv.*;ftp.*"

_CONF = """\
{reduction}
global(workDirectory="{dir}")
module(load="imuxsock" SysSock.Use="off")
# no rate limit: 105 sftp transfers log hundreds of lines in a second from one process
input(type="imuxsock" Socket="{sock}" CreatePath="on" RateLimit.Interval="0")
{facilities} action(type="omfile" file="{traditional}" template="RSYSLOG_TraditionalFileFormat")
{facilities} action(type="omfile" file="{rfc3339}" template="RSYSLOG_FileFormat")
"""

# /dev nodes a server may open; everything else of the host's /dev is hidden in the namespace
_NODES = "null zero full random urandom tty"

_NAMESPACE_SCRIPT = f"""set -e
d=$1; s=$2; shift 2
mkdir -p "$d"
mount -t tmpfs -o mode=755 sentinel-dev "$d"
for n in {_NODES}; do touch "$d/$n"; mount --bind "/dev/$n" "$d/$n"; done
mkdir "$d/pts" "$d/shm"
mount --rbind /dev/pts "$d/pts"
mount --rbind /dev/shm "$d/shm"
ln -s /proc/self/fd "$d/fd"
ln -s "$s" "$d/log"
mount --rbind "$d" /dev
exec "$@"
"""


@dataclass(frozen=True, slots=True)
class Syslog:
    """Where a private rsyslogd listens and writes (auth, authpriv and ftp facilities)."""

    socket: Path
    traditional: Path  # "Nov 22 11:46:07 host prog[pid]: msg"
    rfc3339: Path  # "2025-11-22T11:46:07.123456+01:00 host prog[pid]: msg"
    server: Server

    def wrap(self, argv: Sequence[str], devdir: Path) -> list[str]:
        """`argv` run in a mount namespace whose /dev/log is this rsyslogd's socket."""
        script = ["sh", "-c", _NAMESPACE_SCRIPT, "sh", str(devdir), str(self.socket)]
        return ["unshare", "--mount", "--propagation", "private", "--", *script, *argv]


@contextmanager
def rsyslogd(workdir: Path, *, repeat_reduction: bool = False) -> Iterator[Syslog]:
    """Runs rsyslogd in the foreground writing into `workdir`; stops it by PID on exit.

    `repeat_reduction`: `$RepeatedMsgReduction on`, as Ubuntu ships it: a message logged
    again by the same program is written once, then `message repeated N times: [ ...]`.
    """
    spool = workdir / "rsyslog"
    spool.mkdir()
    # processes that dropped privileges (internal-sftp runs as the user) must reach the socket,
    # and a socket path must fit in 108 bytes: so a short, traversable dir of its own
    sockdir = Path(tempfile.mkdtemp(prefix="sentinel-log-", dir="/tmp"))
    sockdir.chmod(0o711)
    sock = sockdir / "log.sock"
    conf = workdir / "rsyslog.conf"
    traditional, rfc3339 = workdir / "syslog.log", workdir / "syslog.rfc3339.log"
    conf.write_text(
        _CONF.format(
            reduction=f"$RepeatedMsgReduction {'on' if repeat_reduction else 'off'}",
            dir=spool,
            sock=sock,
            facilities=FACILITIES,
            traditional=traditional,
            rfc3339=rfc3339,
        )
    )
    argv = ["rsyslogd", "-n", "-f", str(conf), "-i", str(workdir / "rsyslogd.pid")]
    server = Server("rsyslogd", argv, workdir)
    try:
        server.await_ready("socket", sock.exists)
        yield Syslog(sock, traditional, rfc3339, server)
    finally:
        server.stop()
        shutil.rmtree(sockdir, ignore_errors=True)
