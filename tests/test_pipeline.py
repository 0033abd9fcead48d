"""The pipeline: session join, one transfer seen through two logs, counters, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sentinel.config.model import Config
from sentinel.events import Direction, Event, Kind
from sentinel.pipeline import Pipeline

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)


def config() -> Config:
    return Config(server_name="ftp-test", timezone=UTC)


def at(second: float, kind: Kind, source: str = "vsftpd", **fields: object) -> Event:
    return Event(ts=T0 + timedelta(seconds=second), kind=kind, source=source, **fields)  # type: ignore[arg-type]


def download(second: float, source: str, n: int, **fields: object) -> Event:
    return at(
        second,
        Kind.TRANSFER,
        source,
        path=f"/out/{n}.csv",
        nbytes=100,
        direction=Direction.DOWNLOAD,
        **fields,
    )


def test_sftp_transfers_take_user_and_address_from_their_session() -> None:
    pipeline = Pipeline(config())
    stats = pipeline.stats_for("openssh")
    opened = at(0, Kind.SESSION_START, "openssh", user="labsync", ip="10.1.1.4", session="s1")
    pipeline.process_event(opened, stats)
    alerts = []
    for n in range(101):
        alerts += pipeline.process_event(download(1 + n * 0.1, "openssh", n, session="s1"), stats)
    assert [a.rule for a in alerts] == ["bulk_download"]
    assert alerts[0].user == "labsync"
    assert alerts[0].ip == "10.1.1.4"
    assert stats.transfers == {"download": 101}
    assert stats.transfer_bytes == {"download": 10_100}


def test_a_transfer_logged_twice_by_two_sources_counts_once() -> None:
    pipeline = Pipeline(config(), pair_sources=True)
    log, xferlog = pipeline.stats_for("vsftpd"), pipeline.stats_for("xferlog")
    alerts = []
    for n in range(101):
        fields = {"user": "labsync", "ip": "10.1.1.4"}
        alerts += pipeline.process_event(download(n, "vsftpd", n, **fields), log)
        alerts += pipeline.process_event(download(n + 1, "xferlog", n, **fields), xferlog)
    assert len(alerts) == 1
    assert alerts[0].count == 101
    assert xferlog.duplicates == 101
    assert log.transfers == {"download": 101}


def test_the_same_file_fetched_twice_through_one_source_counts_twice() -> None:
    pipeline = Pipeline(config())
    stats = pipeline.stats_for("vsftpd")
    for second in (0, 1):
        pipeline.process_event(download(second, "vsftpd", 1, user="u", ip="10.0.0.1"), stats)
    assert stats.transfers == {"download": 2}


def test_login_counters_by_result_and_anonymity() -> None:
    pipeline = Pipeline(config())
    stats = pipeline.stats_for("vsftpd")
    events = [
        at(0, Kind.LOGIN_SUCCESS, user="anonymous", ip="192.0.2.1", anonymous=True),
        at(1, Kind.LOGIN_FAILURE, user="alice", ip="192.0.2.2"),
        at(5, Kind.LOGIN_SUCCESS, user="alice", ip="192.0.2.2"),
    ]
    rules = [a.rule for e in events for a in pipeline.process_event(e, stats)]
    assert rules == ["anonymous_access"]
    assert stats.logins == {
        ("success", "true"): 1,
        ("failure", "false"): 1,
        ("success", "false"): 1,
    }
    assert stats.last_event == (T0 + timedelta(seconds=5)).timestamp()
    assert pipeline.alert_counts == {("anonymous_access", "critical"): 1}


def test_windows_expire_on_event_time() -> None:
    pipeline = Pipeline(config())
    stats = pipeline.stats_for("vsftpd")
    for n in range(5):
        pipeline.process_event(at(n, Kind.LOGIN_FAILURE, user="a", ip="192.0.2.9"), stats)
    brute = next(r for r in pipeline.rules if r.name == "brute_force")
    assert len(brute.table) == 1  # type: ignore[attr-defined]
    pipeline.process_event(at(7200, Kind.CONNECT, ip="192.0.2.1"), stats)
    assert len(brute.table) == 0  # type: ignore[attr-defined]


def test_rule_state_round_trip() -> None:
    first = Pipeline(config())
    stats = first.stats_for("vsftpd")
    for n in range(9):
        first.process_event(at(n, Kind.LOGIN_FAILURE, user="a", ip="192.0.2.9"), stats)
    second = Pipeline(config())
    second.load_state(first.dump_state())
    tenth = at(10, Kind.LOGIN_FAILURE, user="a", ip="192.0.2.9")
    assert [a.rule for a in second.process_event(tenth, second.stats_for("vsftpd"))] == [
        "brute_force"
    ]


def vsftpd_log() -> bytes:
    """A vsftpd.log with every oddity a file may hold, and a brute force to alert on."""
    lines = [
        f'Mon Nov 23 10:00:{n:02d} 2026 [pid {100 + n}] [root] FAIL LOGIN: Client "192.0.2.9"'
        for n in range(12)
    ]
    lines[3] += "\r"  # one CRLF line
    lines[5] = lines[5].replace("root", "r\xe9mi")  # UTF-8 beyond ASCII
    ok = 'Mon Nov 23 10:01:00 2026 [pid 7] [alice] OK LOGIN: Client "192.0.2.1"'
    raw = "\n".join([*lines, ok, "garbage", "", "x" * 70_000, ok]).encode()
    return raw + b'\nMon Nov 23 10:02:00 2026 [pid 8] [bad\xff] FAIL LOGIN: Client "1.2.3.4"'


def test_lines_read_in_chunks_give_what_lines_read_one_by_one_give() -> None:
    from io import BytesIO

    from sentinel.parsers import PARSERS
    from sentinel.parsers.context import ParseContext
    from sentinel.sources.logfile import chunks

    data = vsftpd_log()
    ctx = ParseContext("vsftpd", UTC, T0)
    parse = PARSERS["vsftpd"]
    one_by_one = Pipeline(config())
    stats = one_by_one.stats_for("vsftpd")
    expected = [a for raw in BytesIO(data) for a in one_by_one.process_raw(raw, parse, ctx, stats)]
    assert [a.rule for a in expected] == ["brute_force"]
    for size in (1, 100, 4096, 1 << 20):  # chunk ends between lines, and in the long line
        chunked = Pipeline(config())
        got = chunked.stats_for("vsftpd")
        alerts = []
        for chunk in chunks(BytesIO(data), size):
            alerts += chunked.process_chunk(chunk, parse, ctx, got)
        assert [a.to_json() for a in alerts] == [a.to_json() for a in expected]
        assert got == stats
        assert (got.lines, got.unparsed, got.oversized, got.invalid_utf8) == (18, 3, 1, 1)


def failure(second: float, user: str, ip: str = "192.0.2.7", **fields: object) -> Event:
    return at(second, Kind.LOGIN_FAILURE, user=user, ip=ip, **fields)


def test_one_source_pairs_a_pam_failure_with_its_daemons_line() -> None:
    """PAM's line, then vsftpd's (~2 s later) in one file: one attempt; each name its own."""
    pipeline = Pipeline(config())
    stats = pipeline.stats_for("auth")
    assert pipeline.dedup is None
    for n, user in enumerate(("alice", "bob", "carol")):
        pipeline.process_event(failure(n * 0.01, user, detail="pam"), stats)
    # vsftpd's own lines, names in another order: each pairs with its own PAM line
    for n, user in enumerate(("carol", "alice", "bob")):
        pipeline.process_event(failure(2 + n * 0.01, user, session=f"vsftpd:{n}"), stats)
    assert (stats.logins, stats.duplicates) == ({("failure", "false"): 3}, 3)


def test_pairing_state_goes_with_the_pairs_and_with_time() -> None:
    """A paired signature is forgotten at once; an unpaired one a minute after its line."""
    pipeline = Pipeline(config())
    stats = pipeline.stats_for("auth")
    for n in range(50):  # fifty addresses: a PAM line and vsftpd's each
        ip = f"192.0.2.{n}"
        pipeline.process_event(failure(n, "alice", ip, detail="pam"), stats)
        pipeline.process_event(failure(n + 2, "alice", ip, session=f"vsftpd:{n}"), stats)
    assert pipeline.dedup is not None
    assert (stats.duplicates, len(pipeline.dedup)) == (50, 0)
    for n in range(50):  # PAM lines whose daemon line never comes
        pipeline.process_event(failure(100 + n, f"u{n}", "198.51.100.9", detail="pam"), stats)
    assert len(pipeline.dedup) == 50
    pipeline.process_event(failure(100 + 49 + 61, "zed", "203.0.113.1", detail="pam"), stats)
    pipeline.expire(100 + 49 + 61)
    assert len(pipeline.dedup) == 1  # the last line only, still within its minute
    assert stats.logins == {("failure", "false"): 101}


def test_one_source_without_pam_lines_keeps_no_pairing_state() -> None:
    pipeline = Pipeline(config())
    stats = pipeline.stats_for("vsftpd")
    for n in range(3):
        pipeline.process_event(failure(n, "alice", session="vsftpd:1"), stats)
    assert pipeline.dedup is None
    assert stats.logins == {("failure", "false"): 3}


def test_sshd_failures_never_pair_with_ftp_pam_lines() -> None:
    pipeline = Pipeline(config())
    stats = pipeline.stats_for("auth")
    pipeline.process_event(failure(0, "root", detail="pam"), stats)
    pipeline.process_event(failure(1, "root", session="ssh:42", action="password"), stats)
    assert (stats.logins, stats.duplicates) == ({("failure", "false"): 2}, 0)


def test_rules_reading_one_kind_of_session_are_fed_only_those() -> None:
    """anonymous_access reads only anonymous sessions, shared_account none of them: the
    pipeline does not feed them the others, and what they would do with them is nothing."""
    pipeline = Pipeline(config())
    named = {feed.__self__.name for feed in pipeline.by_kind[Kind.LOGIN_SUCCESS]}  # type: ignore[attr-defined]
    anonymous = {feed.__self__.name for feed in pipeline.anonymous_by_kind[Kind.LOGIN_SUCCESS]}  # type: ignore[attr-defined]
    assert "anonymous_access" in anonymous - named
    assert "shared_account" in named - anonymous
    assert "brute_force_success" in named & anonymous  # a rule without `sessions`: both
    rules = {rule.name: rule for rule in pipeline.rules}
    login = at(0, Kind.LOGIN_SUCCESS, user="alice", ip="192.0.2.7")
    guest = at(0, Kind.LOGIN_SUCCESS, user="anonymous", ip="192.0.2.7", anonymous=True)
    for rule, left_out in (("anonymous_access", login), ("shared_account", guest)):
        assert not rules[rule].feed(left_out, 0.0)
        assert not rules[rule].adds(left_out, 0.0)
    # and the anonymous login itself is read: the rule that reads it fires
    stats = pipeline.stats_for("vsftpd")
    assert [a.rule for a in pipeline.process_event(guest, stats)] == ["anonymous_access"]
