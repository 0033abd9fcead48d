"""Live sshd plays for the forms of issue 11: what Debian 12's OpenSSH 9.2 writes when clients
guess with passwords, keyboard-interactive and keys, hit MaxAuthTries, or are turned away by
AllowUsers, DenyUsers, AllowGroups, DenyGroups and PermitRootLogin, through an rsyslogd with
`$RepeatedMsgReduction on`.

Each play starts its own sshd and returns, per (address, user), the guesses the clients
really made and the failures sentinel must count from the log: the same number wherever
sshd logs each guess, fewer where it logs only a summary (publickey failures are logged
at LogLevel VERBOSE only, so a connection that hit MaxAuthTries with keys shows as one).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paramiko  # type: ignore[import-untyped]  # no stubs in the venv (types-paramiko)

from tests.realservers import sshguess
from tests.realservers.handle import RunningServer
from tests.realservers.openssh import sshd

Key = tuple[str, str]  # (address, user)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a play did: guesses made and failures to count, per (address, user)."""

    guesses: dict[Key, int]
    expected: dict[Key, int]
    logs: dict[str, Path]


def _keypair(workdir: Path, name: str) -> tuple[paramiko.PKey, str]:
    path = workdir / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return paramiko.Ed25519Key.from_private_key_file(str(path)), (
        path.with_suffix(".pub").read_text()
    )


@contextmanager
def _server(workdir: Path, overrides: dict[str, str]) -> Iterator[RunningServer]:
    with sshd(workdir, overrides, repeat_reduction=True) as server:
        yield server
        server.wait_idle()


def methods(workdir: Path) -> Outcome:
    """Passwords, keyboard-interactive and keys up to MaxAuthTries; AllowUsers; root by key."""
    keys = workdir / "keys"
    keys.mkdir(mode=0o755)  # sshd reads authorized keys as the user
    root_key, root_public = _keypair(keys, "root")
    stranger, _ = _keypair(keys, "stranger")
    authorized = keys / "authorized_keys"
    authorized.write_text(root_public)
    authorized.chmod(0o644)
    overrides = {
        "MaxAuthTries": "6",
        "KbdInteractiveAuthentication": "yes",
        "PubkeyAuthentication": "yes",
        "AuthorizedKeysFile": str(authorized),
        "AllowUsers": "alice root labsync mallory",
    }
    guesses: dict[Key, int] = {}
    with _server(workdir, overrides) as server:
        port = server.port
        # alone first: rsyslog folds the identical `Failed password` lines of one connection
        guesses["127.0.0.21", "alice"] = sshguess.passwords(port, "127.0.0.21", "alice", 8)
        plays: dict[Key, Callable[[], int]] = {
            ("127.0.0.22", "alice"): lambda: sshguess.keyboard_interactive(
                port, "127.0.0.22", "alice", 8
            ),
            ("127.0.0.23", "mallory"): lambda: sshguess.keyboard_interactive(
                port, "127.0.0.23", "mallory", 3
            ),
            ("127.0.0.24", "alice"): lambda: sshguess.public_keys(
                port, "127.0.0.24", "alice", stranger, 8
            ),
            ("127.0.0.26", "root"): lambda: int(
                not sshguess.key_login(port, "127.0.0.26", "root", root_key)
            ),
            ("127.0.0.27", "bob"): lambda: sshguess.passwords(port, "127.0.0.27", "bob", 2),
            ("127.0.0.29", "labsync"): lambda: _leave(port, "127.0.0.29", "labsync"),
        }
        guesses.update(_parallel(plays))
        logs = dict(server.logs)
    expected = dict(guesses)
    expected["127.0.0.24", "alice"] = 1  # key failures at VERBOSE: only the summary shows
    expected["127.0.0.29", "labsync"] = 1  # named a user and left: one failed attempt
    return Outcome(guesses, expected, logs)


def groups(workdir: Path) -> Outcome:
    """DenyUsers, AllowGroups and DenyGroups (each test account has a group of its name)."""
    overrides = {"DenyUsers": "carol", "AllowGroups": "alice bob", "DenyGroups": "bob"}
    with _server(workdir, overrides) as server:
        port = server.port
        plays: dict[Key, Callable[[], int]] = {
            ("127.0.0.31", "carol"): lambda: sshguess.passwords(port, "127.0.0.31", "carol", 1),
            ("127.0.0.32", "labsync"): lambda: sshguess.passwords(port, "127.0.0.32", "labsync", 1),
            ("127.0.0.33", "bob"): lambda: sshguess.passwords(port, "127.0.0.33", "bob", 1),
        }
        guesses = _parallel(plays)
        logs = dict(server.logs)
    return Outcome(guesses, dict(guesses), logs)


def _leave(port: int, source: str, user: str) -> int:
    sshguess.name_and_leave(port, source, user)
    return 0


def _parallel(plays: dict[Key, Callable[[], int]]) -> dict[Key, int]:
    with ThreadPoolExecutor(max_workers=len(plays)) as pool:
        futures = {key: pool.submit(play) for key, play in plays.items()}
        return {key: future.result() for key, future in futures.items()}


PLAYS: dict[str, Callable[[Path], Outcome]] = {"methods": methods, "groups": groups}
