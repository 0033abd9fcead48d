"""vsftpd's common lines, read at once (vsftpd.COMMON), give what the general path gives.

The general path (`vsftpd.parse_general`) is the one every sample and form test checks;
here every line of every sample, and login and transfer lines built from the parts where
the two could part ways (the stamp, the pid, the user name, the status and verb, the
address, the path, the bytes and the rate, what follows), must give the same event, or
the same None, both ways.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.events import Direction, Kind
from sentinel.parsers import vsftpd
from tests.fastpaths import agree, agree_on, captured, context, one_or_two_changed, sample_lines

CTX = context("vsftpd")
DOWNLOAD = (
    'Thu Oct  1 06:00:03 2026 [pid 1014] [user0702] OK DOWNLOAD: Client "10.0.205.159",'
    ' "/srv/exchange/home/user0702/results_39040.hl7", 7340032 bytes, 39845.68Kbyte/sec'
)


GENERAL = vsftpd.parse, vsftpd.parse_general, CTX  # the fast path, the general one, a context


def both(line: str) -> None:
    agree(*GENERAL, line)


def test_every_sample_line_reads_the_same_both_ways() -> None:
    (matched,) = agree_on(*GENERAL, sample_lines(), vsftpd.COMMON)
    assert matched >= 20  # the samples hold captured logins and transfers: the fast path


def test_a_download_is_read_at_once() -> None:
    assert vsftpd.COMMON.fullmatch(DOWNLOAD) is not None
    event = vsftpd.parse(DOWNLOAD, CTX)
    assert event is not None
    assert (event.kind, event.user, event.ip, event.direction, event.nbytes) == (
        Kind.TRANSFER,
        "user0702",
        "10.0.205.159",
        Direction.DOWNLOAD,
        7340032,
    )
    assert (event.path, event.session, event.ok) == (
        "/srv/exchange/home/user0702/results_39040.hl7",
        "vsftpd:1014",
        True,
    )
    both(DOWNLOAD)


# each part of a line: the captured form first, then variants of it
PARTS: dict[str, tuple[str, ...]] = {
    "stamp": ("Thu Oct  1 06:00:03 2026", "Thu Oct 01 06:00:03 2026", "Thu Oct  1 26:00:03 2026",
              "Thu Oct  1 06:00:03 20266", "Thu Oct  1 06:00:03"),
    "pid": ("[pid 1014]", "[pid ]", "[pid 10 14]", "[pid x]", "[pid 1014]]"),
    "user": ("[user0702]", "[ftp]", "[anonymous]", "[]", "[a] b]", '[a"b]', "[a]b]", "[ x ]",
             "[\u00e9l\u00e8ve]", "user0702"),
    "what": ("OK DOWNLOAD", "OK UPLOAD", "FAIL DOWNLOAD", "FAIL UPLOAD", "OK LOGIN",
             "FAIL LOGIN", "OK MKDIR", "ok DOWNLOAD", "OK  DOWNLOAD"),
    "address": ('"10.0.205.159"', '"::ffff:10.1.2.3"', '"::1"', '"1.2.3.999"', '"host"', '""',
                '"1.2.3.4'),
    "path": (', "/srv/x/results.hl7"', ', ""', ', "/a, b/c"', ', "/a"b"', ", /x", ""),
    "bytes": (", 7340032 bytes", "", ", 0 bytes", ", 12345678901234567890 bytes", ", x bytes",
              ", \u0662 bytes", ", 12 bytes, 3 bytes"),
    "rate": (", 39845.68Kbyte/sec", ", 0.00Kbyte/sec", ", Kbyte/sec", ", 1,5Kbyte/sec",
             ", 39845.68kbyte/sec", ""),
    "end": ("", "\r", " ", ', "User is not in the allow user list."', ', anon password "x"'),
}  # fmt: skip
CAPTURED = captured(PARTS)


def common_line(parts: dict[str, str]) -> str:
    p = parts
    head = f"{p['stamp']} {p['pid']} {p['user']} {p['what']}: Client {p['address']}"
    return f"{head}{p['path']}{p['bytes']}{p['rate']}{p['end']}"


def login_line(parts: dict[str, str]) -> str:
    p = parts
    return f"{p['stamp']} {p['pid']} {p['user']} {p['what']}: Client {p['address']}{p['end']}"


def test_lines_with_one_or_two_parts_changed_read_the_same_both_ways() -> None:
    lines = (
        line
        for parts in one_or_two_changed(PARTS)
        for line in (common_line(parts), login_line({**parts, "what": "OK LOGIN"}))
    )
    (fast,) = agree_on(*GENERAL, lines, vsftpd.COMMON)
    assert fast > 1000  # most of them take the fast path, and agree


@settings(max_examples=1000, deadline=None)
@given(st.fixed_dictionaries({name: st.sampled_from(values) for name, values in PARTS.items()}))
def test_lines_with_any_parts_changed_read_the_same_both_ways(parts: dict[str, str]) -> None:
    both(common_line(parts))
    both(login_line(parts))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=' []"OKabftp\u00e9', max_size=12))
def test_any_user_name_reads_the_same_both_ways(user: str) -> None:
    both(common_line({**CAPTURED, "user": f"[{user}]"}))
    both(login_line({**CAPTURED, "user": f"[{user}]", "what": "FAIL LOGIN"}))
