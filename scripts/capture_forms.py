"""Captures the log forms of FTP servers under other settings than the scenario's, unmodified.

Usage (as root): .venv/bin/python scripts/capture_forms.py [RUN ...] (default: every run below)

- vsftpd-syslog: vsftpd with `syslog_enable=YES` (its lines through syslog beside PAM's, in one
  file), `log_ftp_protocol=YES` and an allow list (`userlist_deny=NO`).
- proftpd-syslog: ProFTPD without SystemLog (its lines through syslog, facility auth, beside
  PAM's): bad password, no such user, root refused, maximum login attempts exceeded.
- proftpd-pam: the capture scenario on ProFTPD with its SystemLog: the auth.log then holds
  PAM's lines only (brute force and spraying told by PAM alone).

Writes tests/samples/captured/<name>/<log> for every log written.
"""

from __future__ import annotations

import argparse
import ftplib
import shutil
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.realservers import scenario  # noqa: E402 -- needs the repo on sys.path first
from tests.realservers.handle import RunningServer  # noqa: E402
from tests.realservers.proftpd import proftpd_syslog  # noqa: E402
from tests.realservers.vsftpd import vsftpd  # noqa: E402

CAPTURED = REPO / "tests" / "samples" / "captured"
TIMEOUT = 10.0


def _vsftpd_syslog(workdir: Path) -> AbstractContextManager[RunningServer]:
    allowed = workdir / "user_list"
    allowed.write_text("alice\nbob\nftp\nanonymous\n")
    allowed.chmod(0o644)
    extra = (
        "syslog_enable=YES\nlog_ftp_protocol=YES\n"
        f"userlist_enable=YES\nuserlist_deny=NO\nuserlist_file={allowed}\n"
    )
    return vsftpd(workdir, extra)


def _vsftpd_attempts(server: RunningServer) -> None:
    """A good login, wrong passwords, a user not on the allow list, an anonymous login."""
    with server.ftp("127.0.0.2", "alice") as alice:
        alice.listing()
    for _ in range(3):
        server.try_login("127.0.0.7", "alice", "wrong")
    server.try_login("127.0.0.8", "carol", "Carol-pw-3")  # a real account, not allowed
    server.try_login("127.0.0.8", "mallory", "wrong")  # no such account, not allowed
    with server.ftp("127.0.0.9", "anonymous") as anon:
        anon.listing()


def _max_attempts(server: RunningServer, source: str, user: str, tries: int) -> None:
    """Several wrong passwords on one control connection (MaxLoginAttempts counts these)."""
    ftp = ftplib.FTP(timeout=TIMEOUT, source_address=(source, 0))  # noqa: S321
    ftp.connect("127.0.0.1", server.port)
    try:
        for i in range(tries):
            try:
                ftp.login(user, f"wrong-{i}")
            except ftplib.error_perm:
                continue
    except (OSError, EOFError, ftplib.Error):
        pass  # the server hangs up after the last attempt it allows
    finally:
        ftp.close()


def _proftpd_attempts(server: RunningServer) -> None:
    """Good login, bad password, no such user, root refused, too many attempts, anonymous."""
    with server.ftp("127.0.0.2", "alice") as alice:
        alice.listing()
    server.try_login("127.0.0.7", "alice", "wrong")
    server.try_login("127.0.0.8", "mallory", "wrong")
    server.try_login("127.0.0.8", "root", "wrong")
    _max_attempts(server, "127.0.0.7", "bob", 3)
    with server.ftp("127.0.0.9", "anonymous") as anon:
        anon.listing()


def _scenario(server: RunningServer) -> None:
    scenario.run(server, tag="capture")


Runner = tuple[Callable[[Path], AbstractContextManager[RunningServer]], Callable[..., None]]
RUNS: dict[str, Runner] = {
    "vsftpd-syslog": (_vsftpd_syslog, _vsftpd_attempts),
    "proftpd-syslog": (lambda w: proftpd_syslog(w, systemlog=False), _proftpd_attempts),
    "proftpd-pam": (lambda w: proftpd_syslog(w, systemlog=True), _scenario),
}


def capture(name: str) -> None:
    start, play = RUNS[name]
    with tempfile.TemporaryDirectory(prefix=f"sentinel-capture-{name}-") as tmp:
        with start(Path(tmp)) as server:
            play(server)
            server.wait_idle()
            logs = dict(server.logs)
        out = CAPTURED / name
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        for log, path in logs.items():
            if path.exists() and path.stat().st_size:  # an empty log says nothing
                shutil.copyfile(path, out / log)
    print(name, sorted(p.name for p in out.iterdir()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help=f"some of {', '.join(RUNS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.runs) - set(RUNS)
    if unknown:
        parser.error(f"unknown run(s): {', '.join(sorted(unknown))}")
    for name in args.runs or list(RUNS):
        capture(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
