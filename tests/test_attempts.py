"""The attempt ledger: one guess counts once, however many lines sshd and rsyslog wrote for it.

Whole connections as OpenSSH writes them (versions and sources in the sample files
tests/samples/openssh.forms-*.log), through the pipeline; live counterparts in
tests/test_sshforms_live.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sentinel.config.model import Config
from sentinel.events import MAX_TIMES
from sentinel.parsers import PARSERS
from sentinel.parsers.context import ParseContext
from sentinel.pipeline import MAX_FEEDS, Pipeline
from tests.attempts_count import FailureTally, failures_counted

H = "Nov 22 11:46:{:02d} web sshd[{}]: "
A = "198.51.100.76"  # the attacker


MAX_TRIES = f"error: maximum authentication attempts exceeded for root from {A} port 5 ssh2"
PAM = (
    "PAM {} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost="
    + A
    + "  user=root"
)


def lines(pid: int, *messages: str, start: int = 0) -> list[str]:
    return [H.format(start + i, pid) + message for i, message in enumerate(messages)]


def test_the_repeat_notice_of_issue_11_is_ten_failures_and_a_brute_force() -> None:
    log = lines(
        4242,
        f"Failed password for root from {A} port 42393 ssh2",
        f"message repeated 9 times: [ Failed password for root from {A} port 42393 ssh2]",
    )
    assert failures_counted(log) == {(A, "root"): 10}
    pipeline = Pipeline(Config(server_name="test", timezone=UTC))
    ctx = ParseContext("openssh", UTC, datetime(2026, 12, 1, tzinfo=UTC))
    chunk = "".join(f"{line}\n" for line in log).encode()
    alerts = pipeline.process_chunk(chunk, PARSERS["openssh"], ctx, pipeline.stats_for("openssh"))
    assert [(a.rule, a.ip, a.count) for a in alerts] == [("brute_force", A, 10)]
    assert pipeline.stats["openssh"].logins == {("failure", "false"): 10}


def test_one_failure_and_no_repeat_is_no_brute_force() -> None:
    assert failures_counted(lines(1, f"Failed password for root from {A} port 1 ssh2")) == {
        (A, "root"): 1
    }


def test_max_auth_tries_and_its_disconnect_summarise_the_failures_logged() -> None:
    log = lines(
        7,
        *[f"Failed password for root from {A} port 5 ssh2"] * 6,
        MAX_TRIES,
        f"Disconnecting authenticating user root {A} port 5: Too many authentication failures",
        PAM.format(5),
    )
    assert failures_counted(log) == {(A, "root"): 6}


def test_a_fleets_connections_count_each_attempt_once_too() -> None:
    # a fleet qualifies session keys by server (`web/ssh:7`): still sshd's connections
    log = lines(
        7,
        *[f"Failed password for root from {A} port 5 ssh2"] * 6,
        MAX_TRIES,
        f"Disconnecting authenticating user root {A} port 5: Too many authentication failures",
        PAM.format(5),
    )
    assert failures_counted(log, fleet=True) == {(A, "root"): 6}
    other = [line.replace(" web ", " db ") for line in log]  # the same pid on another server
    assert failures_counted(log + other, fleet=True) == {(A, "root"): 12}


def test_a_summary_counts_where_nothing_was_logged_one_by_one() -> None:
    # LogLevel ERROR: only the error lines; keys at VERBOSE; PAM's count alone
    assert failures_counted(
        lines(
            8,
            MAX_TRIES + " [preauth]",
        )
    ) == {(A, "root"): 1}
    assert failures_counted(lines(9, PAM.format(2))) == {(A, "root"): 2}
    closed = f"Connection closed by authenticating user root {A} port 6 [preauth]"
    assert failures_counted(lines(10, closed)) == {(A, "root"): 1}


def test_the_old_disconnect_takes_the_address_its_connection_logged() -> None:
    # OpenSSH 5.x-6.x: `Disconnecting: Too many authentication failures for root` names no address
    log = lines(
        11,
        f"Invalid user admin from {A}",
        "Disconnecting: Too many authentication failures for admin [preauth]",
    )
    assert failures_counted(log) == {(A, "admin"): 1}
    assert (
        failures_counted(lines(12, "Disconnecting: Too many authentication failures [preauth]"))
        == {}
    )


def test_keyboard_interactive_counts_the_pam_error_not_its_echo() -> None:
    # 9.2: each guess logs `error: PAM: ...`; `Failed keyboard-interactive/pam` from the 4th on
    guess = f"error: PAM: Authentication failure for alice from {A}"
    failed = f"Failed keyboard-interactive/pam for alice from {A} port 7 ssh2"
    log = [H.format(2 * i, 13) + guess for i in range(3)]
    for i in range(3, 6):
        log += [H.format(2 * i, 13) + guess, H.format(2 * i, 13) + failed]
    assert failures_counted(log) == {(A, "alice"): 6}


def test_an_echo_counts_alone_when_its_failed_line_comes_late() -> None:
    log = lines(14, f"ROOT LOGIN REFUSED FROM {A} port 8", start=0)
    log += lines(14, f"Failed password for root from {A} port 8 ssh2", start=5)
    assert failures_counted(log) == {(A, "root"): 2}


def test_root_refused_twice_and_its_failed_line_are_one_attempt() -> None:
    log = lines(
        15,
        f"ROOT LOGIN REFUSED FROM {A} port 9",
        f"ROOT LOGIN REFUSED FROM {A} port 9 [preauth]",
    )
    log.insert(
        1,
        H.format(0, 15) + f"Failed publickey for root from {A} port 9 ssh2: ED25519 SHA256:x",
    )
    assert failures_counted(log) == {(A, "root"): 1}


def test_connections_are_told_apart_by_pid_and_by_source() -> None:
    closed = f"Connection closed by authenticating user root {A} port 6 [preauth]"
    log = lines(16, f"Failed password for root from {A} port 6 ssh2") + lines(17, closed)
    assert failures_counted(log) == {(A, "root"): 2}


def test_three_sources_with_the_same_pids_are_three_sets_of_connections() -> None:
    """The ledger keys the first source's connections by session, the others' by (source,
    session): a summary counts where its own source logged no failure, and only there."""
    tally = FailureTally()
    pipeline = Pipeline(Config(server_name="test", timezone=UTC), [tally])
    failed = lines(16, f"Failed password for root from {A} port 6 ssh2")
    closed = lines(
        16, f"Connection closed by authenticating user root {A} port 6 [preauth]", start=1
    )
    for source, log in (("a", failed), ("b", failed), ("a", closed), ("c", closed), ("b", closed)):
        ctx = ParseContext(source, UTC, datetime(2026, 12, 31, tzinfo=UTC))
        chunk = "".join(f"{line}\n" for line in log).encode()
        pipeline.process_chunk(chunk, PARSERS["openssh"], ctx, pipeline.stats_for(source))
    # a: one failure (its summary counted before); b: the same; c: its summary alone
    assert tally.failures == {(A, "root"): 3}
    assert [pipeline.stats_for(s).counted_before for s in "abc"] == [1, 1, 0]


def test_a_repeat_is_bounded() -> None:
    huge = f"message repeated 99999999999 times: [ Failed password for root from {A} port 1 ssh2"
    huge += "]"
    event = PARSERS["openssh"](
        H.format(0, 18) + huge, ParseContext("openssh", UTC, datetime(2026, 12, 1, tzinfo=UTC))
    )
    assert event is not None
    assert event.times == MAX_TIMES
    assert failures_counted(lines(18, huge)) == {(A, "root"): MAX_FEEDS}


def test_a_user_name_cannot_move_the_address() -> None:
    # the user name is whatever the client sent; the address is sshd's or PAM's own field
    name = "x rhost=192.0.2.9 from 192.0.2.9 port 1 ssh2"
    log = lines(
        19,
        f"Connection closed by invalid user {name} {A} port 2 [preauth]",
        start=0,
    )
    log += lines(20, PAM.format(2).replace("user=root", f"user={name}"), start=1)
    log += lines(21, f"Failed password for invalid user {name} from {A} port 3 ssh2", start=2)
    assert failures_counted(log) == {(A, name): 4}


@pytest.mark.parametrize(
    ("fmt", "failure", "address", "user"),
    [
        ("vsftpd", 'vsftpd[17304]: [alice] FAIL LOGIN: Client "192.0.2.5"', "192.0.2.5", "alice"),
        ("proftpd", "proftpd[19950]: ftp1 (192.0.2.6[192.0.2.6]) - USER alice (Login failed):"
         " Incorrect password", "192.0.2.6", "alice"),
        ("pureftpd", "pure-ftpd: (?@192.0.2.7) [WARNING] Authentication failed for user [alice]",
         "192.0.2.7", "alice"),
    ],
)  # fmt: skip
def test_an_ftp_daemons_repeat_notice_through_syslog_counts_its_times(
    fmt: str, failure: str, address: str, user: str
) -> None:
    # rsyslog folds an FTP daemon's repeated message as it folds sshd's (syslog_enable=YES)
    tag, _, text = failure.partition(": ")
    log = [f"Nov 22 11:46:00 ftp1 {failure}", f"Nov 22 11:46:30 ftp1 {tag}: message repeated 4"
           f" times: [ {text}]"]  # fmt: skip
    assert failures_counted(log, fmt) == {(address, user): 5}


def test_the_previous_generation_goes_once_its_last_line_is_idle() -> None:
    from sentinel.attempts import _GENERATION, IDLE, AttemptLedger
    from sentinel.events import Event, Kind

    def event(pid: int, t: float, detail: str | None = None) -> Event:
        ts = datetime.fromtimestamp(t, tz=UTC)
        return Event(ts, Kind.LOGIN_FAILURE, "auth", "root", A, session=f"ssh:{pid}", detail=detail)

    ledger = AttemptLedger()
    for pid in range(_GENERATION):  # a generation of connections, ten a second: then rotated
        ledger.apply(event(pid, 100.0 + pid / 10), 100.0 + pid / 10)
    last = 100.0 + (_GENERATION - 1) / 10  # its newest line; its oldest is at 100.0
    assert ledger.evictions == 0
    ledger.expire(last + IDLE - 1)  # its oldest connections are idle, its newest not
    # so the newest's summary still finds the failure it summarises, counted already
    t = last + IDLE - 0.5
    assert ledger.apply(event(_GENERATION - 1, t, "max_tries"), t) is None
    ledger.expire(last + IDLE + 1)  # all of it idle now: forgotten
    t = last + IDLE + 2
    assert ledger.apply(event(_GENERATION - 2, t, "max_tries"), t) is not None
