"""`sentinel scan` end to end on a planted tree, through the real CLI and config loader."""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.gpgtool import encrypt
from tests.modules import modules_loaded
from tests.test_files_inspect import make_iban, make_nir, spaced, wrong_key

DAY = 86400


def _age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def plant(root: Path, *, fresh: bool = False) -> tuple[Path, list[str]]:
    """The tree of the acceptance check; returns its config and every planted identifier.

    `fresh`: every file as just written (a tree copied a second ago, the old report with its
    modification time kept, as `cp -a` does), instead of two hours old."""
    rng = random.Random(2021)
    out, public = root / "outgoing", root / "public"
    out.mkdir()
    public.mkdir(mode=0o755)
    public.chmod(0o755)
    planted: list[str] = []
    (out / "old-report.txt").write_text("quarterly figures, nothing personal\n")
    nirs = [make_nir(rng) for _ in range(20)] + [make_nir(rng, "2A"), make_nir(rng, "2B")]
    planted += nirs
    (out / "patients.csv").write_text(
        "nom;nir\n" + "".join(f"Patient {i};{spaced(n)}\n" for i, n in enumerate(nirs))
    )
    ibans = [make_iban(rng) for _ in range(10)]
    planted += ibans
    (out / "ibans.txt").write_text("\n".join(ibans) + "\n")
    decoys = [wrong_key(make_nir(rng)) for _ in range(30)]
    (out / "decoys.csv").write_text("\n".join(decoys) + "\nFR7630006000011234567890188\n")
    secret = [make_nir(rng) for _ in range(20)]
    planted += secret
    clear = root / "secret.csv"
    clear.write_text("\n".join(secret) + "\n")
    encrypt(clear, out / "secret.csv.gpg", root)
    clear.unlink()
    (out / "passwd").symlink_to("/etc/passwd")
    exported = [make_nir(rng) for _ in range(5)]
    planted += exported
    (public / "export.csv").write_text("\n".join(exported) + "\n")
    (public / "export.csv").chmod(0o644)
    for path in [*out.iterdir(), public / "export.csv"]:
        if not path.is_symlink():
            path.chmod(0o644 if path.parent == public else 0o640)
            if not fresh:
                _age(path, 2 * 3600)
    _age(out / "old-report.txt", 40 * DAY)
    config = root / "sentinel.yaml"
    config.write_text(
        f"server_name: test-exchange\nstate_dir: {root / 'state'}\n"
        f"directories:\n"
        f"  - {{path: {out}, max_age: 7d, inspect: true}}\n"
        f"  - {{path: {public}, anonymous: true}}\n"
    )
    return config, planted


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentinel", "scan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_scan_reports_exactly_the_planted_incidents(tmp_path: Path) -> None:
    config, planted = plant(tmp_path)
    result = _run("-c", str(config), "--json")
    assert result.returncode == 0, result.stderr
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    found = Counter((a["rule"], Path(a["path"]).name) for a in alerts)
    assert found == Counter(
        {
            ("stale_file", "outgoing"): 1,
            ("unencrypted_personal_data", "patients.csv"): 1,
            ("unencrypted_personal_data", "ibans.txt"): 1,
            ("unencrypted_personal_data", "export.csv"): 1,
            ("exposed_file", "export.csv"): 1,
        }
    )
    by_rule = {(a["rule"], Path(a["path"]).name): a for a in alerts}
    stale = by_rule["stale_file", "outgoing"]
    assert stale["count"] == 1 and "old-report.txt" in stale["summary"]
    assert by_rule["exposed_file", "export.csv"]["severity"] == "critical"
    assert by_rule["unencrypted_personal_data", "patients.csv"]["details"]["counts"] == {"nir": 22}
    everything = result.stdout + result.stderr
    for identifier in planted:
        assert identifier not in everything
        assert spaced(identifier) not in everything
    assert "secret.csv.gpg" not in everything and "decoys" not in everything
    state = tmp_path / "state"
    assert not state.exists() or not any(
        identifier in p.read_bytes().decode(errors="replace")
        for p in state.rglob("*")
        if p.is_file()
        for identifier in planted
    )


def test_human_output_and_dry_run_quarantine(tmp_path: Path) -> None:
    config, _ = plant(tmp_path)
    quarantine = tmp_path / "quarantine"
    text = config.read_text().replace(
        "inspect: true}", f"inspect: true, action: quarantine, quarantine_dir: {quarantine}}}"
    )
    config.write_text(text)
    result = _run("-c", str(config), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("LAST SEEN")
    assert "would quarantine" in result.stdout and "patients.csv" in result.stdout
    assert (tmp_path / "outgoing" / "patients.csv").exists() and not quarantine.exists()
    result = _run("-c", str(config), "--json")
    moved = quarantine / "patients.csv"
    assert moved.exists() and (moved.stat().st_mode & 0o777) == 0o600
    assert (quarantine / "old-report.txt").exists()
    assert not (tmp_path / "outgoing" / "patients.csv").exists()
    assert Path("/etc/passwd").exists() and (tmp_path / "outgoing" / "passwd").is_symlink()


def test_ad_hoc_directory_uses_defaults(tmp_path: Path) -> None:
    plant(tmp_path)
    result = _run("--json", str(tmp_path / "outgoing"))
    assert result.returncode == 0, result.stderr
    rules = sorted(json.loads(line)["rule"] for line in result.stdout.splitlines())
    # 30 days by default: the 40-day-old report is stale; two clear-text files
    assert rules == ["stale_file", "unencrypted_personal_data", "unencrypted_personal_data"]
    missing = _run(str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not a directory" in missing.stderr


def test_scan_imports_only_what_it_uses(tmp_path: Path) -> None:
    """Start-up is a large part of a scan: no daemon machinery, no inspection when off."""
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a.csv").write_text("x\n")
    config = tmp_path / "sentinel.yaml"
    config.write_text(f"directories:\n  - {{path: {tmp_path / 'tree'}, inspect: false}}\n")
    loaded = {
        "defaults": modules_loaded("scan", "--json", str(tmp_path / "tree")),
        "no inspection": modules_loaded("scan", "-c", str(config), "--json"),
    }
    for modules in loaded.values():
        assert not modules & {"apprise", "prometheus_client", "watchdog", "sqlite3", "stdnum"}
        assert "sentinel.files.posture" not in modules and "sentinel.render" not in modules
    assert "sentinel.files.inspect" in loaded["defaults"]
    assert not loaded["no inspection"] & {"sentinel.files.inspect", "sentinel.files.actions"}


def _found(result: subprocess.CompletedProcess[str]) -> Counter[tuple[str, str, int]]:
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    return Counter((a["rule"], Path(a["path"]).name, a.get("count", 0)) for a in alerts)


def test_a_tree_written_a_second_ago_is_judged_as_an_hour_later(tmp_path: Path) -> None:
    config, planted = plant(tmp_path, fresh=True)
    now = _run("-c", str(config), "--json")
    assert now.returncode == 0, now.stderr
    for path in tmp_path.rglob("*"):  # the same tree, an hour later
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            os.utime(path, (st.st_atime - 3600, st.st_mtime - 3600))
    later = _run("-c", str(config), "--json")
    assert _found(now) == _found(later)
    rules = Counter((rule, name) for rule, name, _ in _found(now))
    assert rules == Counter(
        {
            ("stale_file", "outgoing"): 1,
            ("unencrypted_personal_data", "patients.csv"): 1,
            ("unencrypted_personal_data", "ibans.txt"): 1,
            ("unencrypted_personal_data", "export.csv"): 1,
            ("exposed_file", "export.csv"): 1,
        }
    )
    assert "0 not judged" in now.stderr and "may still" not in now.stderr
    assert not any(identifier in now.stdout + now.stderr for identifier in planted)


def test_a_file_open_for_writing_is_judged_and_named(tmp_path: Path) -> None:
    config, _ = plant(tmp_path, fresh=True)
    growing = tmp_path / "outgoing" / "upload.part"
    growing.write_text("first rows\n")
    growing.chmod(0o640)
    writer = subprocess.Popen(  # another process holds it open for writing, as an upload
        [sys.executable, "-c", "import sys; f = open(sys.argv[1], 'ab'); sys.stdin.read()",
         str(growing)],
        stdin=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for_writer(writer.pid, growing)
        result = _run("-c", str(config), "--json")
    finally:
        assert writer.stdin is not None
        writer.stdin.close()
        writer.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    assert f"{growing}: judged as it was, but open for writing by another process" in (
        result.stderr
    )
    assert "1 judged while possibly still being written" in result.stderr
    assert ("unencrypted_personal_data", "patients.csv") in {
        (rule, name) for rule, name, _ in _found(result)
    }


def wait_for_writer(pid: int, path: Path) -> None:
    """Until process `pid` has `path` open (it opens it as it starts)."""
    deadline = time.monotonic() + 10
    target = os.stat(path)
    while time.monotonic() < deadline:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                st = os.stat(f"/proc/{pid}/fd/{fd}")
                if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                    return
        time.sleep(0.02)
    raise TimeoutError(f"process {pid} never opened {path}")


def test_summary_counts_in_words(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir(mode=0o755)
    old = tree / "old.txt"
    old.write_text("x\n")
    _age(old, 40 * DAY)
    result = _run("--json", str(tree))
    assert result.returncode == 0, result.stderr
    alert = json.loads(result.stdout)
    assert alert["summary"].startswith("1 file older than 30 days")
    assert "1 file in 1 directory" in result.stderr and "1 alert\n" in result.stderr
