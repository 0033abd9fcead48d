"""Log parsers: one pure function per server format, and format detection."""

from __future__ import annotations

from sentinel.parsers import openssh, proftpd, pureftpd, vsftpd, xferlog
from sentinel.parsers.context import ParseContext, Parser
from sentinel.parsers.detect import detect_format

PARSERS: dict[str, Parser] = {
    "vsftpd": vsftpd.parse,
    "xferlog": xferlog.parse,
    "proftpd": proftpd.parse,
    "pureftpd": pureftpd.parse,
    "openssh": openssh.parse,
}

__all__ = ["PARSERS", "ParseContext", "Parser", "detect_format"]
