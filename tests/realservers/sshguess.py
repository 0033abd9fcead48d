"""SSH clients that guess: several authentication attempts on one connection (paramiko).

Each function opens one connection from a chosen 127.0.0.x address, makes `guesses`
attempts of one method, and returns how many the server answered (a refusal, or the
connection dropped at MaxAuthTries): the guesses the client really made, which is what
sentinel must count.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import paramiko  # type: ignore[import-untyped]  # no stubs in the venv (types-paramiko)

TIMEOUT = 20.0


@contextmanager
def _transport(port: int, source: str) -> Iterator[paramiko.Transport]:
    sock = socket.create_connection(
        ("127.0.0.1", port), timeout=TIMEOUT, source_address=(source, 0)
    )
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=TIMEOUT)
        yield transport
    finally:
        transport.close()
        sock.close()


def _guess(
    port: int, source: str, guesses: int, attempt: Callable[[paramiko.Transport], object]
) -> int:
    """`guesses` attempts on one connection; the number the server refused."""
    made = 0
    with _transport(port, source) as transport:
        for _ in range(guesses):
            if not transport.is_active():
                break
            try:
                attempt(transport)
            except paramiko.AuthenticationException:
                made += 1
                continue
            except (paramiko.SSHException, EOFError, OSError):
                made += 1  # the server hung up on this guess (MaxAuthTries): it was made
                break
            raise AssertionError("a guess meant to fail was accepted")
    return made


def passwords(port: int, source: str, user: str, guesses: int) -> int:
    """Wrong passwords, one after another, on one connection."""
    return _guess(
        port, source, guesses, lambda t: t.auth_password(user, "wrong-guess", fallback=False)
    )


def keyboard_interactive(port: int, source: str, user: str, guesses: int) -> int:
    """keyboard-interactive (PAM) with a wrong answer to every prompt."""

    def answer(_title: str, _instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
        return ["wrong-guess" for _ in prompts]

    return _guess(port, source, guesses, lambda t: t.auth_interactive(user, answer))


def public_keys(port: int, source: str, user: str, key: paramiko.PKey, guesses: int) -> int:
    """The same key offered (signed) again and again."""
    return _guess(port, source, guesses, lambda t: t.auth_publickey(user, key))


def key_login(port: int, source: str, user: str, key: paramiko.PKey) -> bool:
    """One publickey login; True if accepted."""
    with _transport(port, source) as transport:
        try:
            transport.auth_publickey(user, key)
        except paramiko.AuthenticationException:
            return False
        return transport.is_authenticated()


def name_and_leave(port: int, source: str, user: str) -> None:
    """A client that names a user (the `none` method) and hangs up without a guess."""
    with _transport(port, source) as transport, suppress(paramiko.BadAuthenticationType):
        transport.auth_none(user)
