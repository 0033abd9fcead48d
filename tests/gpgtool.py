"""OpenPGP files made with the real gpg, for the checks of encrypted exports."""

from __future__ import annotations

import subprocess
from pathlib import Path


def encrypt(plain: Path, out: Path, homedir: Path, *, armor: bool = False) -> None:
    """`plain` encrypted with a passphrase into `out` (ASCII-armored with `armor`). The
    gpg-agent that gpg starts for `homedir` is stopped afterwards through that homedir's
    own socket (`gpgconf --kill`): no daemon outlives the test."""
    gpg = ["gpg", "--batch", "--yes", "--homedir", str(homedir)]
    secret = ["--symmetric", "--passphrase", "correct horse", *(["--armor"] if armor else [])]
    for argv in (
        [*gpg, *secret, "-o", str(out), str(plain)],
        ["gpgconf", "--homedir", str(homedir), "--kill", "gpg-agent"],
    ):
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
