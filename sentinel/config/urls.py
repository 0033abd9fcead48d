"""Notification target URLs: which kind they are, a cheap validity check, and masking.

Apprise is not imported here (it is slow to import and lenient): a URL needs a scheme and
something after it, and Apprise itself reports what it cannot use when `test-alert` runs.
Masking hides passwords and anything that looks like a token (chat webhooks carry their
secret in the host or path part: slack://TokenA/TokenB/TokenC, discord://id/token).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qsl, quote, urlsplit

ALERTMANAGER_SCHEMES = ("alertmanager", "alertmanagers")
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,31})://(\S+)")
_HOSTNAME = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9-]{1,63})*")
_SECRET_QUERY = re.compile(r"pass|pwd|secret|token|key|auth|sig|cred", re.IGNORECASE)
MASK = "***"


def classify(url: str) -> str:
    """'alertmanager' or 'apprise'. Raises ValueError for a URL no target can use."""
    if "…" in url:
        raise ValueError("the URL still holds a '…' placeholder")
    match = _URL.fullmatch(url)
    if not match:
        raise ValueError(f"invalid URL {mask(url)!r} (expected scheme://...)")
    if match.group(1).lower() not in ALERTMANAGER_SCHEMES:
        return "apprise"
    for peer in cluster_peers(url):  # a cluster: alertmanager://host:port,host:port
        parts = urlsplit(peer)
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise ValueError(
                f"invalid Alertmanager URL {mask(url)!r} (use alertmanager://host:port[,host:port])"
            )
    return "alertmanager"


def cluster_peers(url: str) -> list[str]:
    """One URL per host of `scheme://[userinfo@]host:port,host:port[/path]`."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    return [f"{scheme}{sep}{userinfo}{at}{host}{slash}{path}" for host in hosts.split(",")]


def mask(url: str) -> str:
    """The URL with passwords and token-like parts replaced by ***; safe to print or log."""
    match = _URL.fullmatch(url.strip())
    if not match:
        return MASK if url.strip() else url
    scheme, rest = match.groups()
    authority, sep, tail = _split_authority(rest)
    path, qmark, query = tail.partition("?")
    path = path.partition("#")[0]
    masked_path = "/".join(_mask_token(segment) for segment in path.split("/"))
    masked_query = "&".join(_mask_param(k, v) for k, v in parse_qsl(query, keep_blank_values=True))
    return f"{scheme}://{_mask_authority(authority)}{sep}{masked_path}{qmark}{masked_query}"


def _split_authority(rest: str) -> tuple[str, str, str]:
    """'user:pw@host:25/x?y' -> ('user:pw@host:25', '/', 'x?y'); '@' may occur in a password."""
    cut = len(rest)
    userinfo_end = rest.partition("?")[0].rfind("@")
    for stop in "/?#":
        index = rest.find(stop, userinfo_end + 1)
        if index != -1:
            cut = min(cut, index)
    if cut < len(rest) and rest[cut] == "/":
        return rest[:cut], "/", rest[cut + 1 :]
    return rest[:cut], "", rest[cut:]


def _mask_authority(authority: str) -> str:
    userinfo, at, hostports = authority.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        userinfo = f"{user}:{MASK}" if colon else _mask_token(user)
    hosts = ",".join(_mask_hostport(hostport) for hostport in hostports.split(","))
    return f"{userinfo}{at}{hosts}"


def _mask_hostport(hostport: str) -> str:
    host, colon, port = hostport.rpartition(":") if _has_port(hostport) else (hostport, "", "")
    shown = host if _looks_like_host(host) else MASK
    return f"{shown}{colon}{port if port.isdigit() else MASK if colon else ''}"


def _has_port(hostport: str) -> bool:
    return ":" in hostport and not hostport.endswith("]")


def _looks_like_host(host: str) -> bool:
    """A name with a dot, localhost or an address: not a token in the host position."""
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        pass
    else:
        return True
    if bare in {"localhost", ""}:
        return True
    labels = bare.split(".")
    if len(labels) == 1:
        return bool(_HOSTNAME.fullmatch(bare)) and not _token_like(bare)
    return bool(_HOSTNAME.fullmatch(bare)) and max(map(len, labels)) < 32


def _token_like(text: str) -> bool:
    """Long, mixing letters and digits, or a long number: keys, ids and webhook tokens."""
    has_digit = any(c.isdigit() for c in text)
    has_alpha = any(c.isalpha() for c in text)
    if text.isdigit():
        return len(text) >= 8
    return len(text) >= 20 or (len(text) >= 6 and has_digit and has_alpha)


def _mask_token(segment: str) -> str:
    return MASK if _token_like(segment) else segment


def _mask_param(key: str, value: str) -> str:
    hidden = value and (_SECRET_QUERY.search(key) or _token_like(value))
    return f"{quote(key)}={MASK if hidden else quote(value, safe='@:,')}"
