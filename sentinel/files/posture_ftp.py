"""Posture of vsftpd, ProFTPD and Pure-FTPd configurations, each against its own defaults."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from sentinel.alerts import Severity
from sentinel.files.finding import Finding

CRITICAL = Severity.CRITICAL
_TRUE = ("yes", "true", "1", "on")
MAX_INCLUDES = 64  # include files read for one configuration

# vsftpd's built-in defaults (upstream tunables.c). Debian's shipped vsftpd.conf sets
# anonymous_enable=NO explicitly; a file without the key gets upstream's YES.
VSFTPD_DEFAULTS = {
    "anonymous_enable": "YES",
    "local_enable": "NO",
    "write_enable": "NO",
    "anon_upload_enable": "NO",
    "anon_mkdir_write_enable": "NO",
    "ssl_enable": "NO",
    "force_local_logins_ssl": "YES",
    "force_local_data_ssl": "YES",
    "chroot_local_user": "NO",
    "xferlog_enable": "NO",
    "xferlog_file": "/var/log/xferlog",
    "vsftpd_log_file": "/var/log/vsftpd.log",
}


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _on(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def read_vsftpd(path: Path) -> dict[str, str]:
    """The effective settings: the file's `key=value` lines over vsftpd's defaults."""
    settings = dict(VSFTPD_DEFAULTS)
    for line in _lines(path):
        key, sep, value = line.partition("=")
        if sep:
            settings[key.strip().lower()] = value.strip()
    return settings


def check_vsftpd(path: Path) -> list[Finding]:
    s = read_vsftpd(path)
    out: list[Finding] = []
    anonymous = _on(s["anonymous_enable"])
    if anonymous:
        out.append(
            Finding(
                "anonymous_enable",
                "anonymous logins are allowed (vsftpd's default is YES when the key is absent)",
                "set anonymous_enable=NO",
                CRITICAL,
            )
        )
        if _on(s["anon_upload_enable"]) and _on(s["write_enable"]):
            out.append(
                Finding(
                    "anon_upload_enable",
                    "anonymous users can upload files",
                    "set anon_upload_enable=NO",
                    CRITICAL,
                )
            )
    if not _on(s["ssl_enable"]):
        out.append(
            Finding(
                "ssl_enable",
                "passwords and files travel in clear text",
                "set ssl_enable=YES with rsa_cert_file and rsa_private_key_file",
            )
        )
    elif not _on(s["force_local_logins_ssl"]) or not _on(s["force_local_data_ssl"]):
        out.append(
            Finding(
                "force_local_logins_ssl",
                "clients may still log in without TLS",
                "set force_local_logins_ssl=YES and force_local_data_ssl=YES",
            )
        )
    if _on(s["local_enable"]) and not _on(s["chroot_local_user"]):
        out.append(
            Finding(
                "chroot_local_user",
                "local users can browse the whole file system",
                "set chroot_local_user=YES",
            )
        )
    out.extend(_vsftpd_logging(s))
    return out


def _vsftpd_logging(s: dict[str, str]) -> list[Finding]:
    if not _on(s["xferlog_enable"]):
        return [
            Finding(
                "xferlog_enable",
                "transfers are not logged: downloads leave no trace",
                "set xferlog_enable=YES (and dual_log_enable=YES for both log formats)",
            )
        ]
    xferlog_only = _on(s.get("xferlog_std_format")) and not _on(s.get("dual_log_enable"))
    target = s["xferlog_file"] if xferlog_only else s["vsftpd_log_file"]
    if not _on(s.get("syslog_enable")) and target.strip() in ("", "/dev/null"):
        key = "xferlog_file" if xferlog_only else "vsftpd_log_file"
        return [Finding(key, "the transfer log is thrown away", f"point {key} at a real file")]
    return []


@dataclass(frozen=True, slots=True)
class Directive:
    name: str  # lower case
    args: tuple[str, ...]
    blocks: tuple[str, ...]  # enclosing blocks, outermost first, e.g. ("anonymous ~ftp",)
    source: Path


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError:
        return line.split()


def read_proftpd(path: Path, seen: set[Path] | None = None) -> list[Directive]:
    """Directives with their enclosing blocks, following `Include` (files, dirs, globs)."""
    seen = seen if seen is not None else set()
    if path in seen or len(seen) >= MAX_INCLUDES:
        return []
    seen.add(path)
    out: list[Directive] = []
    blocks: list[str] = []
    for line in _lines(path):
        if line.startswith("</"):
            blocks = blocks[:-1]
        elif line.startswith("<"):
            blocks.append(line.strip("<>").strip().lower())
        else:
            words = _split(line)
            if words and words[0].lower() == "include" and len(words) > 1:
                for included in _expand(words[1], path.parent):
                    out.extend(read_proftpd(included, seen))
            elif words:
                out.append(Directive(words[0].lower(), tuple(words[1:]), tuple(blocks), path))
    return out


def _expand(pattern: str, base: Path) -> list[Path]:
    target = Path(pattern) if Path(pattern).is_absolute() else base / pattern
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.is_file())
    return sorted(p for p in target.parent.glob(target.name) if p.is_file())


def _last(directives: list[Directive], name: str) -> Directive | None:
    found = [
        d
        for d in directives
        if d.name == name and not any(b.startswith("anonymous") for b in d.blocks)
    ]
    return found[-1] if found else None


def check_proftpd(path: Path) -> list[Finding]:
    directives = read_proftpd(path)
    out = _proftpd_anonymous(directives)
    engine = _last(directives, "tlsengine")
    required = _last(directives, "tlsrequired")
    if engine is None or not _on(engine.args[0] if engine.args else None):
        out.append(
            Finding(
                "TLSEngine",
                "passwords and files travel in clear text (TLSEngine is off by default)",
                "set TLSEngine on and TLSRequired on in tls.conf",
            )
        )
    elif required is None or (required.args and required.args[0].lower() in ("off", "false")):
        out.append(
            Finding("TLSRequired", "clients may still log in without TLS", "set TLSRequired on")
        )
    level = _last(directives, "sysloglevel")
    if (
        level
        and level.args
        and level.args[0].lower() in ("emerg", "alert", "crit", "error", "warn", "notice")
    ):
        out.append(
            Finding(
                "SyslogLevel",
                f"level {level.args[0]} hides successful logins",
                "set SyslogLevel info (or debug)",
                where=str(level.source),
            )
        )
    log = _last(directives, "transferlog")
    if log and log.args and log.args[0].upper() == "NONE":
        out.append(
            Finding(
                "TransferLog",
                "transfers are not logged",
                "set TransferLog /var/log/proftpd/xferlog",
            )
        )
    return out


def _proftpd_anonymous(directives: list[Directive]) -> list[Finding]:
    zones: dict[str, list[Directive]] = {}
    for d in directives:
        for block in d.blocks:
            if block.startswith("anonymous"):
                zones.setdefault(block, []).append(d)
    out: list[Finding] = []
    for block, inside in zones.items():
        label = f"<{block.split(None, 1)[0].capitalize()} {block.split(None, 1)[-1]}>"
        out.append(
            Finding(
                label,
                "anonymous logins are allowed",
                f"remove the {label} block",
                CRITICAL,
                str(inside[0].source),
            )
        )
        if any(d.name == "allowall" and _writes(d.blocks) for d in inside):
            out.append(
                Finding(
                    f"{label} <Limit STOR/WRITE>",
                    "anonymous users can upload files",
                    "replace AllowAll by DenyAll in its write <Limit>",
                    CRITICAL,
                )
            )
    return out


def _writes(blocks: tuple[str, ...]) -> bool:
    return any(
        b.startswith("limit") and {"write", "stor", "stou", "appe"} & set(b.split()) for b in blocks
    )


# Pure-FTPd's defaults when an option is absent (its configuration reference).
PUREFTPD_DEFAULTS = {
    "noanonymous": "no",
    "anonymousonly": "no",
    "anonymouscantupload": "no",
    "tls": "0",
}


def read_pureftpd(path: Path) -> dict[str, str]:
    """pure-ftpd.conf (`Key value` lines) or Debian's conf/ directory (one file per option)."""
    settings = dict(PUREFTPD_DEFAULTS)
    if path.is_dir():
        for option in sorted(path.iterdir()):
            if option.is_file():
                settings[option.name.lower()] = option.read_text(errors="replace").strip()
        return settings
    for line in _lines(path):
        key, _, value = line.partition(" ")
        settings[key.lower()] = value.strip()
    return settings


def check_pureftpd(path: Path) -> list[Finding]:
    s = read_pureftpd(path)
    out: list[Finding] = []
    if _on(s["anonymousonly"]) or not _on(s["noanonymous"]):
        out.append(
            Finding(
                "NoAnonymous",
                "anonymous logins are allowed as soon as an `ftp` account exists (the default)",
                "set NoAnonymous yes",
                CRITICAL,
            )
        )
        if not _on(s["anonymouscantupload"]):
            out.append(
                Finding(
                    "AnonymousCantUpload",
                    "anonymous users can upload files",
                    "set AnonymousCantUpload yes",
                    CRITICAL,
                )
            )
    tls = s["tls"].strip()
    if not tls.isdigit() or int(tls) < 2:
        out.append(
            Finding(
                "TLS",
                "clients may log in without TLS (TLS 0 or 1)",
                "set TLS 2 (or 3 to encrypt data too)",
            )
        )
    if not s.get("altlog"):
        out.append(
            Finding(
                "AltLog",
                "transfers are not logged",
                "set AltLog clf:/var/log/pure-ftpd/transfer.log",
            )
        )
    return out
