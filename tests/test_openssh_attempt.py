"""sshd's common attempt line and the sftp server's file lines, read at once (openssh.ATTEMPT,
openssh.SFTP_FILE), give what the general path gives.

The general path (`openssh.parse_general`: syslog.split, then sshd.message) is the one every
sample and form test checks; here every line of every sample, and lines built from the
parts where the two could part ways (the user name, the address, the port, the stamp, the
host and tag, what follows `ssh2`), must give the same event, or the same None, both ways.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.events import Kind
from sentinel.parsers import openssh
from tests.fastpaths import agree, agree_on, captured, context, one_or_two_changed, sample_lines

CTX = context("auth")
FLOOD_LINE = (
    "Oct  1 06:00:00 exchange01 sshd[10000]: Failed password for invalid user guest"
    " from 215.26.54.255 port 52479 ssh2"
)


GENERAL = openssh.parse, openssh.parse_general, CTX  # the fast path, the general one, a context


def both(line: str) -> None:
    agree(*GENERAL, line)


def test_every_sample_line_reads_the_same_both_ways() -> None:
    expressions = openssh.ATTEMPT, openssh.SFTP_FILE
    matched, files = agree_on(*GENERAL, sample_lines(), *expressions)
    assert matched >= 20  # the samples hold captured attempts: the fast path was taken
    assert files >= 5  # and captured sftp sessions


def test_the_flood_line_is_read_at_once() -> None:
    assert openssh.ATTEMPT.fullmatch(FLOOD_LINE) is not None
    event = openssh.parse(FLOOD_LINE, CTX)
    assert event is not None
    assert (event.kind, event.user, event.ip, event.detail) == (
        Kind.LOGIN_FAILURE,
        "guest",
        "215.26.54.255",
        "invalid_user",
    )
    assert (event.session, event.action, event.source) == ("ssh:10000", "password", "auth")
    both(FLOOD_LINE)


# each part of an attempt line: the captured form first, then variants of it
PARTS: dict[str, tuple[str, ...]] = {
    "stamp": ("Nov 23 02:28:38", "Nov  3 02:28:38", "Feb 30 02:28:38", "Nov 23 25:28:38",
              "nov 23 02:28:38", "Nov 23 2:28:38"),
    "host": ("vm", "", "host:", "a:b", "h\tx", "v m"),
    "tag": ("sshd[12]", "sshd-session[7]", "sshd-auth[7]", "sshd[]", "sshd[1a]", "sshdx[3]",
            "sshd", "sshd[12]:"),
    "outcome": ("Failed", "Accepted", "failed", "Failed ", "Rejected"),
    "method": ("password", "none", "keyboard-interactive/pam", "publickey", "magic",
               "pass word", "", "keyboard-interactive/magic"),
    "invalid": ("", "invalid user ", "invalid user invalid user ", "Invalid user ",
                "illegal user "),
    "user": ("alice", "", "a from 1.2.3.4 port 22 ssh2", "x from", "root ", " r", "b\u00e9",
             "c for d", "e from f"),
    "address": ("127.0.0.2", "::1", "::ffff:10.1.2.3", "2001:db8::7", "1.2.3.999", "abc",
                "from", "host.example", "001.2.3.4", "", "1.2.3.4 from 5.6.7.8"),
    "port": ("22", "65535", "123456", "\u0662\u0662", "", "x", "2 2"),
    "end": ("ssh2", "ssh2 [preauth]", "ssh2: RSA SHA256:abc", "ssh1", "", "ssh2\r", "ssh2 "),
}  # fmt: skip


def attempt_line(parts: dict[str, str]) -> str:
    p = parts
    return (
        f"{p['stamp']} {p['host']} {p['tag']}: {p['outcome']} {p['method']} for "
        f"{p['invalid']}{p['user']} from {p['address']} port {p['port']} {p['end']}"
    )


CAPTURED = captured(PARTS)


def test_attempt_lines_with_one_or_two_parts_changed_read_the_same_both_ways() -> None:
    lines = map(attempt_line, one_or_two_changed(PARTS))
    (fast,) = agree_on(*GENERAL, lines, openssh.ATTEMPT)
    assert fast > 1000  # most of them take the fast path, and agree


@settings(max_examples=1000, deadline=None)
@given(st.fixed_dictionaries({name: st.sampled_from(values) for name, values in PARTS.items()}))
def test_attempt_lines_with_any_parts_changed_read_the_same_both_ways(
    parts: dict[str, str],
) -> None:
    both(attempt_line(parts))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" afmoportsh2.1:x\u00e9[]", max_size=16))
def test_any_user_name_reads_the_same_both_ways(user: str) -> None:
    both(attempt_line({**CAPTURED, "user": user}))
    both(attempt_line({**CAPTURED, "invalid": "invalid user ", "user": user}))


SFTP_PARTS: dict[str, tuple[str, ...]] = {
    "stamp": ("Nov 23 02:28:38", "Nov  3 02:28:38", "Feb 30 02:28:38", "Nov 23 2:28:38"),
    "host": ("vm", "", "host:", "v m"),
    "tag": ("internal-sftp[21]", "sftp-server[21]", "internal-sftp", "internal-sftp[]",
            "sftpx[3]", "internal-sftp[21]:", "sshd[21]"),
    "verb": ("close", "open", "Close", "close ", "closed"),
    "path": ("/srv/x/results.hl7", "", 'a" bytes read 1 written 2', "x y", '"', "r\u00e9s"),
    "read": ("380", "0", "", "x", "\u0661", "1" * 20, "00"),
    "written": ("0", "12", "", "1 2", "0" * 19, "9" * 20),
    "end": ("", "\r", " ", " extra"),
}  # fmt: skip
SFTP_CAPTURED = captured(SFTP_PARTS)


def sftp_line(parts: dict[str, str]) -> str:
    p = parts
    head = f'{p["stamp"]} {p["host"]} {p["tag"]}: {p["verb"]} "{p["path"]}"'
    if p["verb"] == "open":
        return f"{head} flags READ mode 0666{p['end']}"
    return f"{head} bytes read {p['read']} written {p['written']}{p['end']}"


def test_sftp_lines_with_one_or_two_parts_changed_read_the_same_both_ways() -> None:
    lines = map(sftp_line, one_or_two_changed(SFTP_PARTS))
    (fast,) = agree_on(*GENERAL, lines, openssh.SFTP_FILE)
    assert fast > 250  # many of them take the fast path, and agree


def test_a_download_and_an_upload_are_read_at_once() -> None:
    download = sftp_line(SFTP_CAPTURED)
    upload = sftp_line({**SFTP_CAPTURED, "read": "0", "written": "12"})
    for line, direction, nbytes in ((download, "download", 380), (upload, "upload", 12)):
        assert openssh.SFTP_FILE.fullmatch(line) is not None
        event = openssh.parse(line, CTX)
        assert event is not None
        assert (event.kind, event.direction, event.nbytes, event.path, event.session) == (
            Kind.TRANSFER,
            direction,
            nbytes,
            "/srv/x/results.hl7",
            "ssh:21",
        )
        both(line)
