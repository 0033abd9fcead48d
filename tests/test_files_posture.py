"""Posture checks on Debian's shipped configurations and on planted insecure variants."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sentinel.config.model import ServerConfigCheck
from sentinel.files.posture import findings, posture_alerts
from sentinel.rules.settings import InsecureServerConfigSettings

SAMPLES = Path(__file__).parent / "samples" / "configs"


def _settings(kind: str, path: Path) -> set[str]:
    return {f.setting for f in findings(ServerConfigCheck(path, kind))}


def test_debian_vsftpd_and_upstream_default(tmp_path: Path) -> None:
    assert _settings("vsftpd", SAMPLES / "vsftpd" / "debian.conf") == {
        "ssl_enable",
        "chroot_local_user",
    }
    bare = tmp_path / "vsftpd.conf"
    bare.write_text("write_enable=YES\nanon_upload_enable=YES\nssl_enable=YES\n")
    # without the key, vsftpd's own default lets anonymous users in
    assert _settings("vsftpd", bare) == {"anonymous_enable", "anon_upload_enable", "xferlog_enable"}


def test_sshd_debian_include_and_match(tmp_path: Path) -> None:
    assert _settings("sshd", SAMPLES / "sshd" / "debian_sshd_config") == {
        "PasswordAuthentication",
        "Subsystem sftp",
    }
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "ftp.conf").write_text(
        "Match Group sftponly\n  ForceCommand internal-sftp\n  PasswordAuthentication yes\n"
    )
    main = tmp_path / "sshd_config"
    main.write_text(
        "Include conf.d/*.conf\nPermitRootLogin yes\nPasswordAuthentication no\n"
        "Subsystem sftp internal-sftp -l INFO\n"
    )
    assert _settings("sshd", main) == {
        "PermitRootLogin",
        "Match Group sftponly: ForceCommand",
        "Match Group sftponly: PasswordAuthentication",
    }


def test_proftpd_anonymous_tls_and_syslog(tmp_path: Path) -> None:
    assert _settings("proftpd", SAMPLES / "proftpd" / "debian.conf") == {"TLSEngine"}
    found = _settings("proftpd", SAMPLES / "proftpd" / "anonymous.conf")
    assert "<Anonymous ~ftp>" in found and "<Anonymous ~ftp> <Limit STOR/WRITE>" in found
    conf = tmp_path / "proftpd.conf"
    (tmp_path / "tls.conf").write_text("<IfModule mod_tls.c>\nTLSEngine on\n</IfModule>\n")
    conf.write_text(f"Include {tmp_path / 'tls.conf'}\nSyslogLevel notice\n")
    assert _settings("proftpd", conf) == {"TLSRequired", "SyslogLevel"}


def test_pureftpd_file_and_debian_directory() -> None:
    assert _settings("pureftpd", SAMPLES / "pureftpd" / "conf") == {"TLS"}
    assert _settings("pureftpd", SAMPLES / "pureftpd" / "pure-ftpd.conf") == {
        "NoAnonymous",
        "AnonymousCantUpload",
        "TLS",
        "AltLog",
    }


def test_alerts_say_what_to_change() -> None:
    check = ServerConfigCheck(SAMPLES / "vsftpd" / "debian.conf", "vsftpd")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    alerts = posture_alerts("srv", check, now, InsecureServerConfigSettings())
    assert {a.rule for a in alerts} == {"insecure_server_config"}
    assert any("set ssl_enable=YES" in a.summary for a in alerts)
    assert len({a.fingerprint for a in alerts}) == len(alerts)
