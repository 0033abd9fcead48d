"""The capture scenario: benign use plus one of each login/transfer incident, on any server.

Each client plays from its own 127.0.0.x address. With sentinel's default thresholds it
produces exactly the incidents `expected_incidents` lists: bulk_download (labsync, 105 files
from 127.0.0.4 in one session), shared_account (carol from .5 and .6), brute_force (12 wrong
passwords for alice from .7), password_spray (6 user names from .8) and, on FTP servers,
anonymous_access (from .9). Failed logins run a few at a time because pam_unix delays each
failure by about 2 s.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from tests.realservers import accounts
from tests.realservers.handle import RunningServer

BENIGN = {"alice": "127.0.0.2", "bob": "127.0.0.3"}
BULK = ("labsync", "127.0.0.4")
SHARED = ("carol", ("127.0.0.5", "127.0.0.6"))
BRUTE = ("alice", "127.0.0.7", 12)
SPRAY = ("127.0.0.8", ("bob", "carol", "labsync", *accounts.MISSING_USERS[:3]))
ANON = "127.0.0.9"
PARALLEL_FAILURES = 9


def benign(server: RunningServer, tag: str) -> None:
    """alice uploads 2, downloads 3 (+ a 0-byte file), mkdir/delete/rmdir; bob downloads 1."""
    with server.session(BENIGN["alice"], "alice") as alice:
        uploads = [f"upload-{tag}-{i}.txt" for i in (1, 2)]
        for name in uploads:
            alice.upload(name, f"uploaded by alice {name}\n".encode())
        for name in accounts.DOCS:
            alice.download(name)
        alice.download(accounts.EMPTY)
        alice.mkdir(f"dir-{tag}")
        for name in uploads:
            alice.delete(name)
        alice.rmdir(f"dir-{tag}")
    with server.session(BENIGN["bob"], "bob") as bob:
        bob.download("notes.txt")


def anonymous(server: RunningServer) -> None:
    """An anonymous session lists the public directory and downloads one file."""
    with server.ftp(ANON, "anonymous") as anon:
        anon.listing("pub")
        anon.download(accounts.ANON_FILE)


def bulk(server: RunningServer) -> None:
    """labsync downloads BULK_FILES small files in one session."""
    user, source = BULK
    with server.session(source, user) as client:
        for i in range(accounts.BULK_FILES):
            client.download(f"export/rec{i:03d}.csv")


def shared(server: RunningServer) -> None:
    """carol logs in successfully from two addresses."""
    user, sources = SHARED
    for source in sources:
        with server.session(source, user) as client:
            client.listing()


def failures(server: RunningServer) -> None:
    """Brute force (one user, many wrong passwords) and spraying (many user names)."""
    user, source, count = BRUTE
    spray_source, spray_users = SPRAY
    attempts = [(source, user, f"wrong-{i}") for i in range(count)]
    attempts += [(spray_source, name, "Winter2025!") for name in spray_users]
    with ThreadPoolExecutor(max_workers=PARALLEL_FAILURES) as pool:
        accepted = list(pool.map(lambda a: server.try_login(*a), attempts))
    if any(accepted):
        raise AssertionError("a login meant to fail was accepted")


def run(server: RunningServer, tag: str | None = None) -> list[dict[str, str]]:
    """Plays the whole scenario against `server`; returns the incidents it should raise."""
    tag = tag or uuid.uuid4().hex[:8]
    benign(server, tag)
    if server.protocol == "ftp":
        anonymous(server)
    bulk(server)
    shared(server)
    failures(server)
    return expected_incidents(server.protocol)


def expected_incidents(protocol: str) -> list[dict[str, str]]:
    """The incidents of the scenario under sentinel's default thresholds."""
    incidents = [
        {"rule": "bulk_download", "user": BULK[0], "ip": BULK[1]},
        {"rule": "shared_account", "user": SHARED[0]},
        {"rule": "brute_force", "user": BRUTE[0], "ip": BRUTE[1]},
        {"rule": "password_spray", "ip": SPRAY[0]},
    ]
    if protocol == "ftp":
        incidents.insert(0, {"rule": "anonymous_access", "user": "anonymous", "ip": ANON})
    return incidents
