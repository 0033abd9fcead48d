"""`sentinel check-config`: the summary on success, one error line and exit 2 otherwise."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentinel.commands import check_config
from sentinel.config import load_or_exit, parse_config
from sentinel.config.summary import describe
from sentinel.config.urls import mask
from tests.test_config import SPEC_EXAMPLE

REPO = Path(__file__).resolve().parent.parent
SECRETS = ("Sup3rSecretPw", "T0KENaaaa", "B0KENbbbb", "xoxbSecretTokenValue123", "4f9ab3c")
SECRET_CONFIG = (
    SPEC_EXAMPLE
    + """  tls_cert: /etc/sentinel/tls.crt
  tls_key: /etc/sentinel/tls.key
  basic_auth: {prometheus: "sha256:4f9ab3c%s"}
"""
    % ("0" * 57)
).replace(
    '    - {url: "json://alerts.example.org/hook", min_severity: critical}\n',
    '    - {url: "json://alerts.example.org/hook", min_severity: critical}\n'
    "    - url: slack://T0KENaaaa/B0KENbbbb/xoxbSecretTokenValue123/#ops\n"
    "    - url: https://hooks.example.org/services/T0KENaaaa/B0KENbbbb?token=xoxbSecretTokenValue123\n"
    "    - url: alertmanager://am:Sup3rSecretPw@127.0.0.1:9093\n",
)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "SENTINEL_CONFIG"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sentinel", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        env=environ,
        check=False,
    )


def write(tmp_path: Path, text: str, name: str = "sentinel.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_configuration_is_summarised_without_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, SECRET_CONFIG)
    result = run_cli("check-config", "-c", str(path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        f"configuration: {path}",
        "server name:   ftp-exchange-01",
        "time zone:     Europe/Paris",
        "vsftpd       vsftpd   /var/log/vsftpd.log",
        "openssh      openssh  /var/log/auth.log",
        "trusted networks: 10.0.0.0/8, 192.168.10.0/24",
        "bulk_download              critical window 10m, max_files 100, max_bytes 1GiB",
        "off_hours                  warning  hours 07:00-20:00, days mon,tue,wed,thu,fri",
        "/srv/ftp/outgoing",
        "vsftpd   /etc/vsftpd.conf",
        "mailto://ops:***@mail.example.org",
        "slack://***/***/***/",
        "alertmanager://am:***@127.0.0.1:9093",
        "metrics: 127.0.0.1:9817 (TLS, not found: /etc/sentinel/tls.crt /etc/sentinel/tls.key,",
        " basic auth, 1 user)",
        "configuration valid",
    ):
        assert expected in out, expected
    for secret in SECRETS:
        assert secret not in out + result.stderr, secret


def test_rules_disabled_and_untrusted_network_inactive(tmp_path: Path) -> None:
    text = "rules:\n  brute_force: {enabled: false}\n"
    lines = describe(parse_config(text, "x.yaml"), exists=lambda _: True)
    assert "rules disabled: brute_force, off_hours" in lines
    assert any("untrusted_network" in line and "inactive" in line for line in lines)
    assert not any(line.split()[:1] == ["brute_force"] for line in lines)
    assert any(line.split()[:1] == ["brute_force_success"] for line in lines)


def test_missing_paths_are_marked_but_accepted(tmp_path: Path) -> None:
    log = write(tmp_path, "", "vsftpd.log")
    text = f"sources:\n  - {{path: {log}}}\n  - {{path: {tmp_path / 'gone.log'}, name: gone}}\n"
    result = run_cli("check-config", "-c", str(write(tmp_path, text)))
    assert result.returncode == 0
    assert f"{log}\n" in result.stdout
    assert f"{tmp_path / 'gone.log'}  (not found)" in result.stdout
    assert f"{log}  (not found)" not in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules:\n  bulk_download:\n    window: ten\n", ":3: rules.bulk_download.window: invalid"),
        ("sources:\n  - {path: /a, format: nope}\n", ":2: sources[0].format: 'nope' is not one"),
        ("colour: red\n", ":1: unknown key 'colour'"),
        ("server_name: [oops\n", ":2: invalid YAML"),
    ],
)
def test_errors_exit_2_with_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    result = run_cli("check-config", "-c", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"sentinel: error: {path}{expected}"), lines[0]


def test_environment_variable_names_the_file(tmp_path: Path) -> None:
    good = write(tmp_path, "server_name: from-env\n")
    result = run_cli("check-config", env={"SENTINEL_CONFIG": str(good)})
    assert result.returncode == 0 and "server name:   from-env" in result.stdout
    bad = write(tmp_path, "server_name: [x]\n", "bad.yaml")
    result = run_cli("check-config", "-c", str(bad), env={"SENTINEL_CONFIG": str(good)})
    assert result.returncode == 2 and "bad.yaml:1: server_name: expected" in result.stderr


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = run_cli("check-config", "-c", str(tmp_path / "absent.yaml"))
    assert result.returncode == 2
    assert (
        result.stderr
        == f"sentinel: error: {tmp_path / 'absent.yaml'}: no such file (given by -c)\n"
    )


def test_error_lines_never_carry_secrets(tmp_path: Path) -> None:
    bad = SECRET_CONFIG.replace("127.0.0.1:9093", "127.0.0.1")
    result = run_cli("check-config", "-c", str(write(tmp_path, bad)))
    assert result.returncode == 2
    assert "invalid Alertmanager URL 'alertmanager://am:***@127.0.0.1'" in result.stderr
    for secret in SECRETS:
        assert secret not in result.stderr


def test_main_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "server_name: inproc\n")
    assert check_config.main(argparse.Namespace(config=str(good))) == 0
    assert "server name:   inproc" in capsys.readouterr().out
    bad = write(tmp_path, "notify:\n  cooldown: 15\n", "bad.yaml")
    with pytest.raises(SystemExit) as caught:
        check_config.main(argparse.Namespace(config=str(bad)))
    assert caught.value.code == 2
    captured = capsys.readouterr()
    message = "notify.cooldown: expected a duration such as 10m, got an integer"
    assert captured.err == f"sentinel: error: {bad}:2: {message}\n"
    assert captured.out == ""


def test_load_or_exit_optional_config_gives_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentinel.config import loader

    monkeypatch.delenv("SENTINEL_CONFIG", raising=False)
    monkeypatch.setattr(loader, "DEFAULT_CONFIG_PATH", tmp_path / "none.yaml")
    config = load_or_exit(argparse.Namespace(config=None), required=False)
    assert config.path is None
    with pytest.raises(SystemExit):
        load_or_exit(argparse.Namespace(config=None), required=True)


SECRET_TEXT = st.text(
    alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=12, max_size=40
).filter(lambda s: any(c.isdigit() for c in s) and any(c.isalpha() for c in s))
SCHEMES = st.sampled_from(
    ["mailto", "mailtos", "json", "slack", "discord", "tgram", "https", "ntfys"]
)


@given(SCHEMES, st.sampled_from(["ops", "alerts", "x"]), SECRET_TEXT, SECRET_TEXT, SECRET_TEXT)
def test_masking_hides_passwords_and_tokens(
    scheme: str, user: str, password: str, token1: str, token2: str
) -> None:
    for url in (
        f"{scheme}://{user}:{password}@smtp.example.org:587/{token1}?to=a@b.org",
        f"{scheme}://{token1}/{token2}/{password}",
        f"{scheme}://{token1}:{password}/chat",
        f"{scheme}://hooks.example.org/services/{token1}/{token2}?key={password}",
        f"{scheme}://{user}@{token1}/{token2}",
    ):
        masked = mask(url)
        for secret in (password, token1, token2):
            assert secret not in masked, (url, masked)
        assert masked.startswith(f"{scheme}://")


def test_masking_keeps_what_identifies_the_target() -> None:
    assert mask("mailto://user:pass@host") == "mailto://user:***@host"
    assert mask("json://alerts.example.org/hook") == "json://alerts.example.org/hook"
    assert (
        mask("ntfy://ntfy.example.org/topic?token=tk_1")
        == "ntfy://ntfy.example.org/topic?token=***"
    )
    assert mask("alertmanager://[::1]:9093/api") == "alertmanager://[::1]:9093/api"
    assert mask("no url at all") == "***"
