"""source_silent on an injected wall clock."""

from __future__ import annotations

from datetime import timedelta

from sentinel.rules.settings import SourceSilentSettings
from sentinel.rules.silence import SilenceRule


def test_silent_source_alerts_once_and_rearms_when_it_speaks() -> None:
    rule = SilenceRule(SourceSilentSettings(after=timedelta(hours=1)), server="s")
    rule.update("vsftpd", last_line=1000.0, missing=False, now=1000.0)
    assert rule.check(1000.0 + 3599) == []
    alerts = rule.check(1000.0 + 3600)
    assert [a.rule for a in alerts] == ["source_silent"]
    assert alerts[0].source == "vsftpd"
    assert "1.0 h" in alerts[0].summary or "60 min" in alerts[0].summary
    assert rule.check(1000.0 + 7200) == []  # one alert per silence
    rule.update("vsftpd", last_line=9000.0, missing=False, now=9000.0)
    assert rule.check(9000.0 + 10) == []
    assert len(rule.check(9000.0 + 3600)) == 1


def test_vanished_log_alerts_within_a_minute() -> None:
    rule = SilenceRule(SourceSilentSettings(after=timedelta(hours=1)), server="s")
    rule.update("auth", last_line=100.0, missing=False, now=100.0)
    rule.update("auth", last_line=100.0, missing=True, now=200.0)
    assert rule.check(259.0) == []
    alerts = rule.check(260.0)
    assert len(alerts) == 1
    assert alerts[0].details == {"vanished": True}
    assert "vanished" in alerts[0].summary


def test_a_silent_source_found_missing_says_it_vanished() -> None:
    """The file went away just before the silence was due: the alert says vanished."""
    rule = SilenceRule(SourceSilentSettings(after=timedelta(seconds=3)), server="s")
    rule.update("gone", last_line=100.0, missing=False, now=100.0)
    rule.update("gone", last_line=100.0, missing=True, now=105.0)  # missing for 0 s yet
    [alert] = rule.check(105.0)
    assert alert.details == {"vanished": True} and "vanished" in alert.summary
