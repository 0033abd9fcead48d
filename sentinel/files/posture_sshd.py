"""Posture of sshd_config: root logins, passwords, sftp transfers invisible in the logs."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from sentinel.files.finding import Finding

MAX_INCLUDES = 64
_QUIET_LEVELS = ("quiet", "fatal", "error")
_SFTP_LOGGING = ("info", "verbose", "debug", "debug1", "debug2", "debug3")


@dataclass(frozen=True, slots=True)
class Option:
    key: str  # lower case
    args: tuple[str, ...]
    match: str  # "" at top level, else the Match criteria
    source: Path


def _words(line: str) -> list[str]:
    key, sep, rest = line.partition("=")
    if sep and " " not in key.strip() and "\t" not in key.strip():
        line = f"{key} {rest}"
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def read_sshd(path: Path, match: str = "", seen: set[Path] | None = None) -> list[Option]:
    """Options in file order with their Match scope; Include is read in place.

    Relative Include paths are taken from the main file's directory (sshd uses /etc/ssh,
    which is that directory on a real server). A Match opened in an included file ends
    with it, as in OpenSSH.
    """
    seen = seen if seen is not None else set()
    if path in seen or len(seen) >= MAX_INCLUDES:
        return []
    seen.add(path)
    out: list[Option] = []
    base = next(iter(seen)).parent
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        words = _words(raw.strip())
        if not words or words[0].startswith("#"):
            continue
        key = words[0].lower()
        if key == "match":
            match = " ".join(words[1:])
            match = "" if match.lower() == "all" else match
        elif key == "include":
            for pattern in words[1:]:
                target = Path(pattern) if Path(pattern).is_absolute() else base / pattern
                for included in sorted(target.parent.glob(target.name)):
                    out.extend(read_sshd(included, match, seen))
        else:
            out.append(Option(key, tuple(words[1:]), match, path))
    return out


def _first(options: list[Option], key: str, match: str = "") -> Option | None:
    return next((o for o in options if o.key == key and o.match == match), None)


def _label(key: str, match: str) -> str:
    return f"Match {match}: {key}" if match else key


def check_sshd(path: Path) -> list[Finding]:
    options = read_sshd(path)
    scopes = ["", *sorted({o.match for o in options if o.match})]
    out: list[Finding] = []
    for match in scopes:
        out.extend(_scope_findings(options, match))
    level = _first(options, "loglevel")
    if level and level.args and level.args[0].lower() in _QUIET_LEVELS:
        out.append(
            Finding(
                "LogLevel",
                f"LogLevel {level.args[0]} hides logins",
                "set LogLevel INFO (or VERBOSE)",
                where=str(level.source),
            )
        )
    sftp = next((o for o in options if o.key == "subsystem" and o.args[:1] == ("sftp",)), None)
    if sftp is not None and not _logs_transfers(sftp.args[1:]):
        out.append(
            Finding(
                "Subsystem sftp",
                "sftp transfers are invisible: the sftp server logs only errors by default",
                f"append -l INFO: Subsystem sftp {' '.join(sftp.args[1:])} -l INFO",
                where=str(sftp.source),
            )
        )
    return out


def _scope_findings(options: list[Option], match: str) -> list[Finding]:
    out: list[Finding] = []
    root = _first(options, "permitrootlogin", match)
    if root and root.args and root.args[0].lower() == "yes":
        out.append(
            Finding(
                _label("PermitRootLogin", match),
                "root can log in with a password",
                "set PermitRootLogin prohibit-password (or no)",
                where=str(root.source),
            )
        )
    password = _first(options, "passwordauthentication", match)
    default_on = password is None and not match  # sshd's default is yes
    if default_on or (password and password.args and password.args[0].lower() == "yes"):
        why = "passwords are accepted" + (" (sshd's default)" if default_on else "")
        out.append(
            Finding(
                _label("PasswordAuthentication", match),
                f"{why}: open to guessing",
                "set PasswordAuthentication no and use keys",
            )
        )
    forced = _first(options, "forcecommand", match)
    if forced and forced.args[:1] == ("internal-sftp",) and not _logs_transfers(forced.args[1:]):
        out.append(
            Finding(
                _label("ForceCommand", match),
                "sftp transfers of these users are invisible in the logs",
                "use ForceCommand internal-sftp -l INFO",
                where=str(forced.source),
            )
        )
    return out


def _logs_transfers(args: tuple[str, ...]) -> bool:
    words = list(args)
    for i, word in enumerate(words):
        if word == "-l" and i + 1 < len(words):
            return words[i + 1].lower() in _SFTP_LOGGING
        if word.startswith("-l") and len(word) > 2:
            return word[2:].lower() in _SFTP_LOGGING
    return False
