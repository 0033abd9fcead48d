"""Test accounts and their files: real system users that every server authenticates.

Created idempotently as root under a fixed tree, TEST_ROOT (/srv/sentinel-test): homes in
TEST_ROOT/home/<user>, shell /bin/bash (vsftpd's PAM stack has pam_shells, sshd wants a
valid shell). Content that the scenario downloads is fixed and recreated if missing; uploads
use names unique to a run, so concurrent runs do not collide. The anonymous root is the
home of the system `ftp` account (/srv/ftp), because Pure-FTPd always takes that one.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEST_ROOT = Path("/srv/sentinel-test")
HOMES = TEST_ROOT / "home"
ANON_ROOT = Path("/srv/ftp")
LOCK = Path("/tmp/sentinel-test-accounts.lock")

PASSWORDS = {
    "alice": "Alice-pw-1",
    "bob": "Bob-pw-2",
    "carol": "Carol-pw-3",
    "labsync": "Labsync-pw-4",
}
MISSING_USERS = ("mallory", "admin", "oracle", "test")  # never created: failures for them
ANON_PASSWORD = "mozilla@example.com"  # obviously fake: vsftpd and ProFTPD log it
BULK_FILES = 105
DOCS = ("report-1.txt", "report-2.txt", "report-3.txt")
EMPTY = "empty.dat"
ANON_FILE = "pub/welcome.txt"


@contextmanager
def _locked() -> Iterator[None]:
    # concurrent test processes would race on /etc/passwd and on the fixed files
    with LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def home(user: str) -> Path:
    """The home directory of a test user."""
    return HOMES / user


def make_dirs(path: Path, mode: int = 0o755) -> None:
    """`path` and its missing parents, each with `mode` whatever the umask (the servers'
    users must traverse them: a tree born 0700 under umask 077 locks them out)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        directory.chmod(mode)


def _ensure_user(user: str) -> None:
    make_dirs(HOMES)
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(
            ["useradd", "-m", "-d", str(home(user)), "-s", "/bin/bash", user],
            check=True,
            capture_output=True,
        )
    for directory in (TEST_ROOT, HOMES, home(user)):
        directory.chmod(0o755)  # also over an earlier run's tree, whatever made it


def _write(path: Path, data: bytes, owner: str) -> None:
    entry = pwd.getpwnam(owner)
    make_dirs(path.parent)
    if not (path.exists() and path.stat().st_size == len(data)):
        path.write_bytes(data)
    path.chmod(0o644)
    path.parent.chmod(0o755)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    os.chown(path.parent, entry.pw_uid, entry.pw_gid)


def _ensure_files() -> None:
    for i, name in enumerate(DOCS, start=1):
        _write(home("alice") / name, f"quarterly report {i}\n".encode() * 20, "alice")
    _write(home("alice") / EMPTY, b"", "alice")
    _write(home("bob") / "notes.txt", b"meeting notes\n", "bob")
    _write(home("carol") / "plan.txt", b"plan\n", "carol")
    for i in range(BULK_FILES):
        _write(home("labsync") / "export" / f"rec{i:03d}.csv", f"id;{i}\n".encode(), "labsync")
    anon = ANON_ROOT / ANON_FILE
    # anonymous roots must not be writable by the ftp user (vsftpd refuses to chroot)
    make_dirs(anon.parent)
    anon.parent.chmod(0o755)
    if not anon.exists():
        anon.write_text("public welcome file\n")
    anon.chmod(0o644)


def ensure_accounts() -> None:
    """Creates the test users with their passwords and files, if not already there."""
    with _locked():
        for user in PASSWORDS:
            _ensure_user(user)
        lines = "".join(f"{user}:{pw}\n" for user, pw in PASSWORDS.items())
        subprocess.run(["chpasswd"], input=lines.encode(), check=True, capture_output=True)
        _ensure_files()
