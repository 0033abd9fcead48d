"""Live: sshd 9.2 (Debian 12) through rsyslog with repeat reduction; every guess counts once.

The plays of tests/realservers/sshforms.py make known numbers of guesses (MaxAuthTries hit
with passwords, keyboard-interactive and keys; users refused by AllowUsers, DenyUsers,
AllowGroups, DenyGroups, PermitRootLogin); the pipeline must count exactly the failures
the log shows for them, in both of rsyslog's file formats.
"""

from __future__ import annotations

import pytest

from tests.attempts_count import log_failures
from tests.realservers.sshforms import PLAYS, Outcome

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def methods(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return PLAYS["methods"](tmp_path_factory.mktemp("methods"))


@pytest.fixture(scope="module")
def groups(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return PLAYS["groups"](tmp_path_factory.mktemp("groups"))


@pytest.mark.parametrize("log", ["auth.log", "auth.rfc3339.log"])
def test_each_guess_counts_once(methods: Outcome, groups: Outcome, log: str) -> None:
    for outcome in (methods, groups):
        assert dict(log_failures(outcome.logs[log])) == outcome.expected


def test_max_auth_tries_cut_the_clients_off(methods: Outcome) -> None:
    # MaxAuthTries 6: the clients asked for 8 guesses and made 6
    assert methods.guesses["127.0.0.21", "alice"] == 6
    assert methods.guesses["127.0.0.22", "alice"] == 6
    assert methods.guesses["127.0.0.24", "alice"] == 6


def test_the_log_holds_the_forms_counted(methods: Outcome, groups: Outcome) -> None:
    text = methods.logs["auth.log"].read_text()
    assert "message repeated 5 times: [ Failed password for alice from 127.0.0.21" in text
    assert "error: PAM: Authentication failure for illegal user mallory from 127.0.0.23" in text
    assert "error: maximum authentication attempts exceeded for alice from 127.0.0.22" in text
    assert "User bob from 127.0.0.27 not allowed because not listed in AllowUsers" in text
    assert "ROOT LOGIN REFUSED FROM 127.0.0.26" in text
    assert "PAM 5 more authentication failures" in text
    text = groups.logs["auth.log"].read_text()
    assert "User carol from 127.0.0.31 not allowed because listed in DenyUsers" in text
    assert "none of user's groups are listed in AllowGroups" in text
    assert "because a group is listed in DenyGroups" in text
