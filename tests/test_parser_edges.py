"""Parser edge cases the captured samples do not show: dates, addresses, hostile input.

Lines here are captured lines (tests/samples/captured/) with one part changed, to show
what the parsers do with the variants the servers write on other days and networks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentinel.events import ANONYMOUS_USER, Direction, Event, Kind
from sentinel.parsers import PARSERS, detect_format, timeparse
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ip

PARIS = ZoneInfo("Europe/Paris")
CAPTURED = Path(__file__).parent / "samples" / "captured"
CONNECT = 'Mon Nov 23 02:28:08 2026 [pid 11291] CONNECT: Client "127.0.0.2"'
SSHD = "Nov 23 02:28:38 vm sshd[12151]: Accepted password for alice from 127.0.0.2 port 34689 ssh2"
XFER = (
    "Mon Nov 23 02:28:08 2026 1 127.0.0.2 380 /srv/sentinel-test/home/alice/report-1.txt"
    " b _ o r alice ftp 0 * c"
)


def ctx(reference: datetime, tz: ZoneInfo = PARIS) -> ParseContext:
    return ParseContext("test", tz, reference)


NOV = ctx(datetime(2026, 11, 23, 12, tzinfo=PARIS))


def parsed(fmt: str, line: str, context: ParseContext = NOV) -> Event:
    event = PARSERS[fmt](line, context)
    assert event is not None, line
    return event


# --- time -------------------------------------------------------------------------------


def test_syslog_year_is_the_references() -> None:
    assert parsed("openssh", SSHD).ts == datetime(2026, 11, 23, 2, 28, 38, tzinfo=PARIS)


def test_syslog_december_line_read_in_january_is_last_year() -> None:
    january = ctx(datetime(2027, 1, 2, 8, tzinfo=PARIS))
    line = SSHD.replace("Nov 23", "Dec 31")
    assert parsed("openssh", line, january).ts == datetime(2026, 12, 31, 2, 28, 38, tzinfo=PARIS)


def test_syslog_date_up_to_a_day_after_the_reference_keeps_its_year() -> None:
    # a file's mtime may lag its last line a little (clock skew, buffered writes)
    early = ctx(datetime(2026, 11, 22, 23, 0, tzinfo=PARIS))
    assert parsed("openssh", SSHD, early).ts.year == 2026


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Paris", datetime(2026, 3, 29, 1, 0)),  # 02:00 is 03:00: the gap
        ("Europe/Paris", datetime(2026, 10, 25, 1, 0)),  # 02:00-03:00 twice: the fold
        ("Africa/Monrovia", datetime(1972, 1, 6, 23, 0)),  # -0:44:30 to UTC at 00:44:30 UTC
    ],
)
def test_the_memos_time_of_each_stamp_is_its_timestamp(zone: str, day: datetime) -> None:
    """The pipeline takes a new second's time from `timeparse.stamp`: over three hours of
    a zone's change (one within a minute), every second of both memoized forms."""
    tz = ZoneInfo(zone)
    reference = ParseContext("test", tz, day.replace(tzinfo=tz) + timedelta(days=1))
    memoized = 0
    for second in range(3 * 3600):
        wall = day + timedelta(seconds=second)
        for form in ("%a %b %d %H:%M:%S %Y", "%b %d %H:%M:%S"):  # vsftpd's, syslog's
            text = wall.strftime(form)
            if len(text) == 24:
                value = timeparse.ctime_time(text, tz)
            else:
                value = timeparse.syslog_time(text, reference)
            assert value is not None
            assert value.replace(tzinfo=None) == wall
            made, t = timeparse.stamp
            if made is value:
                memoized += 1
                assert t == value.timestamp(), value
    assert memoized > 2 * 3 * 3600 - 4 * 60  # all but the minute of a change, read slowly


def test_space_padded_day() -> None:
    line = SSHD.replace("Nov 23", "Nov  2")
    assert parsed("openssh", line).ts == datetime(2026, 11, 2, 2, 28, 38, tzinfo=PARIS)
    vsftpd = CONNECT.replace("Mon Nov 23", "Mon Nov  2")
    assert parsed("vsftpd", vsftpd).ts == datetime(2026, 11, 2, 2, 28, 8, tzinfo=PARIS)
    xfer = XFER.replace("Mon Nov 23", "Mon Nov  2")
    assert parsed("xferlog", xfer).ts.day == 2


def test_times_without_zone_take_the_contexts() -> None:
    summer = datetime(2026, 7, 1, tzinfo=PARIS)
    line = CONNECT.replace("Mon Nov 23", "Wed Jul  1")
    assert parsed("vsftpd", line, ctx(summer)).ts.utcoffset() == summer.utcoffset()
    assert parsed("vsftpd", CONNECT, ctx(summer, ZoneInfo("UTC"))).ts.hour == 2


def test_rfc3339_offset_wins_over_the_context() -> None:
    line = SSHD.replace("Nov 23 02:28:38", "2026-11-23T02:28:38.001414+05:30")
    event = parsed("openssh", line)
    assert event.ts.utcoffset() is not None
    assert event.ts.astimezone(UTC) == datetime(2026, 11, 22, 20, 58, 38, 1414, tzinfo=UTC)
    zulu = SSHD.replace("Nov 23 02:28:38", "2026-11-23T02:28:38Z")
    assert parsed("openssh", zulu).ts == datetime(2026, 11, 23, 2, 28, 38, tzinfo=UTC)


@pytest.mark.parametrize(
    "stamp", ["Feb 30 02:28:38", "Nov 23 25:28:38", "Xyz 23 02:28:38", "Nov 2x 02:28:38"]
)
def test_impossible_dates_are_no_event(stamp: str) -> None:
    assert PARSERS["openssh"](SSHD.replace("Nov 23 02:28:38", stamp), NOV) is None


# --- addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logged", "normal"),
    [
        ("127.0.0.2", "127.0.0.2"),
        ("::1", "::1"),
        ("::ffff:127.0.0.2", "127.0.0.2"),
        ("2001:DB8:0:0::7", "2001:db8::7"),
        ("localhost", None),
        ("127.0.0.300", None),
        ("", None),
    ],
)
def test_addresses_are_normalized(logged: str, normal: str | None) -> None:
    assert ip(logged) == normal


def test_ipv6_clients_in_every_format() -> None:
    assert parsed("vsftpd", CONNECT.replace("127.0.0.2", "::1")).ip == "::1"
    mapped = CONNECT.replace("127.0.0.2", "::ffff:127.0.0.2")
    assert parsed("vsftpd", mapped).ip == "127.0.0.2"
    assert parsed("openssh", SSHD.replace("127.0.0.2", "::1")).ip == "::1"
    assert parsed("xferlog", XFER.replace("127.0.0.2", "::ffff:127.0.0.2")).ip == "127.0.0.2"


# --- hostile and unusual fields ---------------------------------------------------------


def test_vsftpd_user_name_cannot_forge_a_success() -> None:
    line = (
        'Mon Nov 23 02:28:11 2026 [pid 11318] [x] OK LOGIN: Client "6.6.6.6"] FAIL LOGIN:'
        ' Client "127.0.0.7"'
    )
    event = parsed("vsftpd", line)
    assert (event.kind, event.ip) == (Kind.LOGIN_FAILURE, "127.0.0.7")


def test_vsftpd_path_with_quotes_commas_and_spaces() -> None:
    line = (
        'Mon Nov 23 02:28:08 2026 [pid 11292] [alice] OK DOWNLOAD: Client "127.0.0.2",'
        ' "/srv/a b/x", 9 bytes, 1.00Kbyte/sec", 380 bytes, 1400.35Kbyte/sec'
    )
    event = parsed("vsftpd", line)
    assert event.path == '/srv/a b/x", 9 bytes, 1.00Kbyte/sec'
    assert event.nbytes == 380


def test_vsftpd_failed_transfer() -> None:
    line = (
        'Mon Nov 23 02:28:08 2026 [pid 11292] [alice] FAIL UPLOAD: Client "127.0.0.2",'
        ' "/srv/sentinel-test/home/alice/upload-capture-1.txt", 0.00Kbyte/sec'
    )
    event = parsed("vsftpd", line)
    assert (event.kind, event.ok, event.nbytes, event.direction) == (
        Kind.TRANSFER,
        False,
        0,
        Direction.UPLOAD,
    )


def test_xferlog_file_name_with_spaces() -> None:
    line = XFER.replace("report-1.txt", "annual report 2026.txt")
    assert parsed("xferlog", line).path == "/srv/sentinel-test/home/alice/annual report 2026.txt"


def test_xferlog_anonymous_password_with_spaces_is_dropped() -> None:
    line = (
        "Mon Nov 23 02:28:09 2026 1 127.0.0.9 20 /pub/welcome.txt b _ o a my secret words ftp 0 * c"
    )
    event = parsed("xferlog", line)
    assert (event.user, event.anonymous, event.path) == (ANONYMOUS_USER, True, "/pub/welcome.txt")
    assert "secret" not in repr(event)


def test_sshd_user_name_holding_from_and_port() -> None:
    line = SSHD.replace("for alice from", "for x from 6.6.6.6 port 1 from")
    event = parsed("openssh", line)
    assert (event.user, event.ip) == ("x from 6.6.6.6 port 1", "127.0.0.2")


def test_sshd_publickey_and_keyboard_interactive() -> None:
    key = SSHD.replace("password", "publickey") + ": ED25519 SHA256:AbCdEf"
    assert parsed("openssh", key).action == "publickey"
    pam = SSHD.replace("Accepted password", "Failed keyboard-interactive/pam")
    event = parsed("openssh", pam)
    assert (event.kind, event.action) == (Kind.LOGIN_FAILURE, "keyboard-interactive/pam")


def test_sshd_session_program_of_openssh_9_8() -> None:
    line = SSHD.replace("sshd[", "sshd-session[")
    assert parsed("openssh", line).kind is Kind.LOGIN_SUCCESS


@pytest.mark.parametrize(
    ("message", "kind", "detail"),
    [
        # refused before the password is checked, and logged by this line only: an attempt
        ("SECURITY VIOLATION: Root login attempted", Kind.LOGIN_FAILURE, "root_login"),
        # a summary of attempts each logged already
        (
            "Maximum login attempts (3) exceeded, connection refused",
            Kind.SECURITY,
            "max_login_attempts",
        ),
    ],
)
def test_proftpd_security_lines(message: str, kind: Kind, detail: str) -> None:
    line = "2026-11-23 02:28:17,935 vm proftpd[11674] 127.0.0.1 (127.0.0.7[127.0.0.7]): " + message
    event = parsed("proftpd", line)
    assert (event.kind, event.ip, event.detail) == (kind, "127.0.0.7", detail)
    assert event.ts == datetime(2026, 11, 23, 2, 28, 17, 935000, tzinfo=PARIS)


def test_pam_counts_ftp_daemons_only() -> None:
    vsftpd = (
        "Nov 23 02:28:09 vm vsftpd: pam_unix(vsftpd:auth): authentication failure;"
        " logname= uid=0 euid=0 tty=ftp ruser=alice rhost=127.0.0.7  user=alice"
    )
    assert parsed("openssh", vsftpd).detail == "pam"
    sshd = vsftpd.replace("vsftpd", "sshd")
    sudo = vsftpd.replace("vsftpd", "sudo")
    assert PARSERS["openssh"](sshd, NOV) is None
    assert PARSERS["openssh"](sudo, NOV) is None


def test_anonymous_password_never_leaves_a_parser() -> None:
    """vsftpd and ProFTPD log the anonymous "password": no event may carry it."""
    checked = 0
    for path in sorted(CAPTURED.rglob("*")):
        if not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        fmt = detect_format(lines[:50])
        assert fmt is not None, path
        for line in lines:
            event = PARSERS[fmt](line, NOV)
            if event is not None and event.anonymous:
                checked += 1
                assert event.user == ANONYMOUS_USER
                assert "mozilla@example.com" not in repr(event), path
    assert checked >= 3


# --- detection --------------------------------------------------------------------------


def test_detection_of_unknown_or_empty_input() -> None:
    assert detect_format([]) is None
    assert detect_format(["hello", "", "\x00\x01"]) is None


def test_detection_of_a_mixed_auth_log() -> None:
    pam = (
        "Nov 23 02:28:09 vm vsftpd: pam_unix(vsftpd:auth): authentication failure;"
        " logname= uid=0 euid=0 tty=ftp ruser=alice rhost=127.0.0.7  user=alice"
    )
    # PAM's lines are auth.log's, whichever daemon called PAM
    assert detect_format([pam]) == "openssh"
    assert detect_format([pam, SSHD]) == "openssh"
    cron = "Nov 23 02:28:09 vm CRON[1]: pam_unix(cron:session): session opened for user root"
    assert detect_format([cron]) == "openssh"
    own = 'Nov 23 02:28:11 vm vsftpd[11318]: [alice] FAIL LOGIN: Client "127.0.0.7"'
    assert detect_format([own]) == "vsftpd"  # one FTP daemon's own messages: its parser
    assert detect_format([own, pam]) == "openssh"


# --- never raise ------------------------------------------------------------------------

SEEDS = [CONNECT, SSHD, XFER]
for _path in sorted(CAPTURED.rglob("*")):
    if _path.is_file():
        SEEDS.extend(_path.read_text(encoding="utf-8", errors="replace").splitlines()[:40:7])


@st.composite
def mangled(draw: st.DrawFn) -> str:
    """A real line cut, spliced with random text, or random text alone."""
    text = draw(st.text(max_size=200))
    seed = draw(st.sampled_from(SEEDS))
    at = draw(st.integers(0, len(seed)))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return text
    if kind == 1:
        return seed[:at]
    if kind == 2:
        return seed[:at] + text + seed[at:]
    return seed[:at] + text


@settings(max_examples=400, deadline=None)
@given(mangled(), st.sampled_from(sorted(PARSERS)))
def test_parsers_never_raise(line: str, fmt: str) -> None:
    event = PARSERS[fmt](line, NOV)
    assert event is None or event.ts.utcoffset() is not None


@settings(max_examples=100, deadline=None)
@given(st.lists(mangled(), max_size=20))
def test_detection_never_raises(lines: list[str]) -> None:
    assert detect_format(lines) in (None, *PARSERS)


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_huge_and_binary_lines(fmt: str) -> None:
    for seed in (CONNECT, SSHD, XFER):
        for line in (seed + "x" * 70_000, seed + "\x00" * 1000, "\x00" * 65_536, "] " * 30_000):
            PARSERS[fmt](line, NOV)  # returns, whatever it returns
    vsftpd = CONNECT[:37] + "[" + "] " * 30_000
    assert PARSERS["vsftpd"](vsftpd, NOV) is None


@pytest.mark.parametrize(
    ("fmt", "line"),
    [
        # lines that only look like ProFTPD 1.3.4's SystemLog: no client, or no pid
        ("proftpd", "Nov 03 09:16:01 ftp1 proftpd[4741]: ftp1.example.org (192.0.2.41[192.0.2.41])"
         " no separator"),
        ("proftpd", "Nov 03 09:16:02 ftp1 proftpd ftp1.example.org (192.0.2.41[192.0.2.41]):"
         " USER alice (Login failed): Incorrect password"),
        # RFC 5424's NILVALUE stamp: no time to place the event at
        ("openssh", "<38>1 - web sshd 4244 - - Failed password for root from 198.51.100.76"
         " port 42396 ssh2"),
        # rsyslog never nests its repeat notices: a client wrote this one
        ("openssh", "Nov 22 11:46:32 web sshd[4250]: message repeated 3 times: [ message"
         " repeated 2 times: [ Failed password for root from 198.51.100.76 port 42404 ssh2]]"),
    ],
)  # fmt: skip
def test_look_alike_lines_are_no_event(fmt: str, line: str) -> None:
    ctx = ParseContext(fmt, PARIS, datetime(2026, 11, 30, tzinfo=PARIS))
    assert PARSERS[fmt](line, ctx) is None
