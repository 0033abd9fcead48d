"""Deployment artefacts: systemd unit, sysusers/tmpfiles, Prometheus rules, Grafana, Docker."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from sentinel.config.model import MetricsConfig
from sentinel.rules.settings import RULE_SETTINGS
from sentinel.sinks.http import MetricsServer
from sentinel.sinks.metrics import DaemonStats, DirectoryStats, SentinelCollector, build_registry
from sentinel.stats import SourceStats

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "systemd" / "sentinel.service"
PROMETHEUS = REPO / "config" / "prometheus"
DASHBOARD = REPO / "config" / "grafana" / "sentinel-dashboard.json"
MAX_EXPOSURE = 2.0
TIMEOUT = 60  # seconds for any tool we run

# The core metrics of SPEC, as exposed (counters with their _total suffix).
SPEC_METRICS = frozenset(
    {
        "sentinel_build_info",
        "sentinel_log_lines_total",
        "sentinel_log_lines_unparsed_total",
        "sentinel_logins_total",
        "sentinel_transfers_total",
        "sentinel_transfer_bytes_total",
        "sentinel_alerts_total",
        "sentinel_source_last_event_timestamp_seconds",
        "sentinel_stale_files",
        "sentinel_oldest_file_age_seconds",
        "sentinel_unencrypted_personal_data_files",
        "sentinel_notifications_total",
        "sentinel_notification_queue",
    }
)

# PromQL functions, aggregations and keywords: identifiers that are not metric names.
PROMQL_WORDS = frozenset(
    """
    abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month day_of_week
    day_of_year days_in_month delta deriv exp floor histogram_quantile holt_winters hour idelta
    increase irate label_join label_replace ln log2 log10 minute month predict_linear rate
    resets round scalar sgn sort sort_desc sqrt time timestamp vector year avg_over_time
    min_over_time max_over_time sum_over_time count_over_time quantile_over_time
    stddev_over_time stdvar_over_time last_over_time present_over_time
    sum min max avg group stddev stdvar count count_values bottomk topk quantile
    by without on ignoring group_left group_right and or unless bool offset inf nan
    """.split()  # noqa: SIM905 (a word list reads better as text than as 80 quoted strings)
)


def run(
    *command: str | Path,
    cwd: Path = REPO,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (strings, matchers, ranges, groupings removed)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\$\{?\w+\}?", " ", expr)  # Grafana variables
    return set(re.findall(r"(?<![\w.$])[A-Za-z_:][\w:]*", expr)) - PROMQL_WORDS


def exported_metrics() -> set[str]:
    """Sample names the daemon's real registry exposes, with every family populated."""
    source = SourceStats(
        lines=2,
        unparsed=1,
        logins={("success", "false"): 1},
        transfers={"download": 1},
        transfer_bytes={"download": 10},
        last_event=1.0,
    )
    daemon = DaemonStats(directories={"/srv/ftp/outgoing": DirectoryStats(1, 1.0, 1)})
    collector = SentinelCollector(
        lambda: {"vsftpd": source}, lambda: {("bulk_download", "critical"): 1}, daemon
    )
    registry = build_registry(collector)
    return {sample.name for family in registry.collect() for sample in family.samples}


def allowed(name: str) -> bool:
    return name in SPEC_METRICS or name == "up" or name.startswith("process_")


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


# systemd


def test_unit_exposure_is_low() -> None:
    result = run("systemd-analyze", "security", "--offline=yes", "--no-pager", UNIT)
    assert result.returncode == 0, result.stderr
    match = re.search(r"Overall exposure level for sentinel\.service: (\d+\.\d+)", result.stdout)
    assert match, result.stdout[-500:]
    assert float(match.group(1)) <= MAX_EXPOSURE


def test_unit_keeps_what_the_daemon_needs() -> None:
    unit = unit_settings()
    assert unit["Type"] == ["notify"]
    assert unit["NotifyAccess"] == ["main"]
    assert unit["WatchdogSec"] == ["30s"]
    assert unit["ExecStart"] == ["/usr/local/bin/sentinel run -c /etc/sentinel/sentinel.yaml"]
    # The shell's built-in kill: /bin/kill (procps) is missing on minimal hosts.
    assert unit["ExecReload"] == ["/bin/sh -c 'kill -HUP \"$$MAINPID\"'"]
    assert unit["User"] == ["sentinel"]
    assert unit["AmbientCapabilities"] == unit["CapabilityBoundingSet"] == ["CAP_DAC_READ_SEARCH"]
    assert unit["StateDirectory"] == ["sentinel"]
    assert unit["StateDirectoryMode"] == ["0700"]
    assert unit["UMask"] == ["0077"]
    # Notification targets are remote: no IP allow-list; logs are read where they are.
    assert "IPAddressDeny" not in unit
    assert unit["PrivateUsers"] == ["no"]


def test_unit_verifies_cleanly(tmp_path: Path) -> None:
    # verify insists that ExecStart exists: point it at a binary every host has.
    text = UNIT.read_text().replace("/usr/local/bin/sentinel", "/bin/true")
    (tmp_path / "sentinel.service").write_text(text)
    result = run("systemd-analyze", "verify", tmp_path / "sentinel.service")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # unknown keys are only warnings


def test_unit_verify_reports_unknown_keys(tmp_path: Path) -> None:
    """The clean-verify check above can fail: a misspelt key shows on stderr."""
    text = UNIT.read_text().replace("/usr/local/bin/sentinel", "/bin/true")
    (tmp_path / "sentinel.service").write_text(text.replace("WatchdogSec=", "WatchdogSecs="))
    result = run("systemd-analyze", "verify", tmp_path / "sentinel.service")
    assert "WatchdogSecs" in result.stderr


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    """A root directory holding a copy of this host's user database."""
    etc = tmp_path / "etc"
    etc.mkdir()
    for name in ("passwd", "group", "shadow", "gshadow"):
        if Path("/etc", name).exists():
            shutil.copy2(Path("/etc", name), etc / name)
    return tmp_path


def test_sysusers_and_tmpfiles_create_user_and_private_state(scratch_root: Path) -> None:
    sysusers = (REPO / "systemd" / "sentinel.sysusers").read_text()
    result = run("systemd-sysusers", f"--root={scratch_root}", "-", stdin=sysusers)
    assert result.returncode == 0, result.stderr
    users = {line.split(":")[0]: line.split(":") for line in (scratch_root / "etc/passwd").open()}
    groups = {line.split(":")[0]: line.split(":") for line in (scratch_root / "etc/group").open()}
    uid, gid, home = int(users["sentinel"][2]), int(users["sentinel"][3]), users["sentinel"][5]
    assert home == "/var/lib/sentinel"
    assert "sentinel" in groups["adm"][3].strip().split(",")

    config = scratch_root / "etc/sentinel/sentinel.yaml"
    config.parent.mkdir()
    config.write_text("server_name: test\n")
    config.chmod(0o644)
    tmpfiles = (REPO / "systemd" / "sentinel.tmpfiles").read_text()
    result = run("systemd-tmpfiles", f"--root={scratch_root}", "--create", "-", stdin=tmpfiles)
    assert result.returncode == 0, result.stderr
    state = (scratch_root / "var/lib/sentinel").stat()
    assert (state.st_mode & 0o777, state.st_uid, state.st_gid) == (0o700, uid, gid)
    quarantine = (scratch_root / "var/lib/sentinel/quarantine").stat()
    assert (quarantine.st_mode & 0o777, quarantine.st_uid) == (0o700, uid)
    conf = config.stat()
    assert (conf.st_mode & 0o777, conf.st_uid, conf.st_gid) == (0o640, 0, gid)


# Prometheus


def alert_rules() -> list[dict[str, object]]:
    doc = yaml.safe_load((PROMETHEUS / "sentinel.rules.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_promtool_checks_rules() -> None:
    result = run("promtool", "check", "rules", "sentinel.rules.yml", cwd=PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout


def test_promtool_unit_tests_cover_every_rule() -> None:
    result = run("promtool", "test", "rules", "sentinel.rules.test.yml", cwd=PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    tests = yaml.safe_load((PROMETHEUS / "sentinel.rules.test.yml").read_text())["tests"]
    firing = {
        check["alertname"]
        for test in tests
        for check in test["alert_rule_test"]
        if check["exp_alerts"]
    }
    names = {str(rule["alert"]) for rule in alert_rules()}
    assert len(names) == 8
    assert firing == names


def test_promtool_checks_scrape_config() -> None:
    result = run("promtool", "check", "config", "prometheus.yml", cwd=PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_rules_use_exported_metrics() -> None:
    used = set().union(*(metric_names(str(rule["expr"])) for rule in alert_rules()))
    assert {"up", "sentinel_stale_files", "sentinel_log_lines_total"} <= used
    assert all(allowed(name) for name in used), used
    assert used - {"up"} <= exported_metrics()


def test_every_rule_tells_on_call_what_to_do() -> None:
    for rule in alert_rules():
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        assert annotations["summary"]
        assert len(annotations["description"]) > 150, rule["alert"]


# Grafana


def dashboard_exprs() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    for variable in board["templating"]["list"]:
        match = re.fullmatch(r"label_values\((.*),\s*\w+\)", variable["query"]["query"])
        assert match, variable["query"]
        exprs.append(match.group(1))
    return exprs


def test_metric_names_extraction() -> None:
    expr = (
        'sum by (result, source) (rate(sentinel_logins_total{job=~"$job", a="x{y}"}'
        "[$__rate_interval] offset 1h)) / on(instance) group_left(version) "
        "sentinel_build_info * 1e3 > bool time() - up"
    )
    assert metric_names(expr) == {"sentinel_logins_total", "sentinel_build_info", "up"}


def test_dashboard_queries_only_exported_metrics() -> None:
    used = set().union(*(metric_names(expr) for expr in dashboard_exprs()))
    assert used >= SPEC_METRICS, SPEC_METRICS - used
    assert all(allowed(name) for name in used), used
    assert used <= exported_metrics()


def test_dashboard_is_importable() -> None:
    board = json.loads(DASHBOARD.read_text())
    assert board["schemaVersion"] == 39
    assert [i["name"] for i in board["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
            assert panel["targets"], panel["title"]


# Docker


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (REPO / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, args = line.strip().partition(" ")
            pairs.append((instruction.upper(), args.strip()))
    return pairs


def dockerignore_keeps(path: str) -> bool:
    """Whether .dockerignore lets `path` into the build context (last matching line wins)."""
    kept = True
    for line in (REPO / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/")
        if pattern in {"*", path} or path.startswith(pattern + "/"):
            kept = negated
    return kept


def test_dockerfile_is_sane() -> None:
    steps = dockerfile()
    found = dict(steps)  # the last of each instruction counts, as in Docker
    args = dict(a.partition("=")[::2] for i, a in steps if i == "ARG")
    assert found["FROM"] == "${BASE}"
    assert re.fullmatch(r"python:3\.1[1-9]-slim", args["BASE"])  # what users get
    assert found["USER"].split(":")[0] not in {"root", "0"}
    assert [i for i, _ in steps].index("USER") > [i for i, _ in steps].index("RUN")
    assert json.loads(found["ENTRYPOINT"]) == ["sentinel"]
    assert json.loads(found["CMD"]) == ["run", "-c", "/etc/sentinel/sentinel.yaml"]
    assert "/var/lib/sentinel" in json.loads(found["VOLUME"])
    assert "SENTINEL_CONFIG" not in found["ENV"]  # replay and scan need no configuration
    assert any("pip install --no-cache-dir" in args for i, args in steps if i == "RUN")
    for instruction, args in steps:
        if instruction == "COPY":
            for source in args.split()[:-1]:
                assert (REPO / source).exists(), source
                assert dockerignore_keeps(source), source
    readme = re.search(r'readme = "([^"]+)"', (REPO / "pyproject.toml").read_text())
    assert readme and any(readme.group(1) in a for i, a in steps if i == "COPY")


def test_dockerignore_keeps_the_context_small() -> None:
    assert dockerignore_keeps("sentinel/cli.py")
    for path in (".git", ".venv", ".servers", ".cache", "tests/samples", "bench", "docs"):
        assert not dockerignore_keeps(path), path


def healthcheck_command() -> list[str]:
    args = dict(dockerfile())["HEALTHCHECK"]
    command: list[str] = json.loads(args.partition("CMD")[2])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


@pytest.fixture
def metrics_server() -> Iterator[MetricsServer]:
    server = MetricsServer(MetricsConfig(listen="127.0.0.1:0"), CollectorRegistry())
    server.start()
    yield server
    server.stop()


def run_healthcheck(url: str) -> int:
    env = {**os.environ, "SENTINEL_HEALTH_URL": url}
    return run(*healthcheck_command(), env=env).returncode


def test_healthcheck_passes_on_a_live_endpoint_and_fails_on_a_dead_one(
    metrics_server: MetricsServer,
) -> None:
    assert metrics_server.address is not None
    host, port = metrics_server.address
    assert run_healthcheck(f"http://{host}:{port}/metrics") == 0
    metrics_server.stop()
    assert run_healthcheck(f"http://{host}:{port}/metrics") == 1


def test_healthcheck_accepts_basic_auth_refusal() -> None:
    users = (("prometheus", "sha256:" + "0" * 64),)
    server = MetricsServer(
        MetricsConfig(listen="127.0.0.1:0", basic_auth=users), CollectorRegistry()
    )
    server.start()
    try:
        assert server.address is not None
        host, port = server.address
        assert run_healthcheck(f"http://{host}:{port}/metrics") == 0
    finally:
        server.stop()


# The example configuration and the docs


def test_example_config_passes_check_config() -> None:
    result = run(sys.executable, "-m", "sentinel", "check-config", "-c", "config/sentinel.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "alertmanager://127.0.0.1:9093" in result.stdout
    assert "CHANGE-ME" not in result.stdout  # secrets are masked in what it prints


def test_example_config_optional_settings_are_valid_too(tmp_path: Path) -> None:
    """The commented-out alternatives (journal source, TLS, basic auth, ...) load once enabled."""
    text = (REPO / "config" / "sentinel.yaml").read_text()
    enabled, count = re.subn(r"^([ ]*)# ([ ]*(?:- )?[a-z_]+:(?: .*)?)$", r"\1\2", text, flags=re.M)
    assert count >= 10
    digest = hashlib.sha256(b"not a real password").hexdigest()
    config = tmp_path / "sentinel.yaml"
    config.write_text(enabled.replace("sha256:CHANGE-ME", f"sha256:{digest}"))
    result = run(sys.executable, "-m", "sentinel", "check-config", "-c", config)
    assert result.returncode == 0, result.stdout + result.stderr
    metrics_line = next(line for line in result.stdout.splitlines() if "TLS" in line)
    assert "basic auth, 1 user" in metrics_line
    extensions = (
        "timezone",
        "journal",
        "age_by",
        "delete_after_download",
        "max_inspect_size",
        "give_up_after",
        "tls_cert",
        "tls_key",
        "basic_auth",
        "backfill",
        "max_tracked",
    )
    assert all(re.search(rf"\b{key}:", enabled) for key in extensions)


def test_demo_replay_with_example_config_raises_only_the_scenario_incidents() -> None:
    """scripts/demo replays the scenario logs with config/sentinel.yaml: no extra noise."""
    scenario = REPO / "tests" / "samples" / "scenario"
    logs = sorted(scenario.glob("*.log"))
    assert logs
    expected = {
        alert["rule"]
        for path in scenario.glob("*.expected.json")
        for alert in json.loads(path.read_text())
    }
    result = run(
        sys.executable, "-m", "sentinel", "replay", "--json", "-c", "config/sentinel.yaml", *logs
    )
    assert result.returncode == 0, result.stderr
    raised = {json.loads(line)["rule"] for line in result.stdout.splitlines()}
    assert raised == expected


def test_deploy_doc_explains_every_alert() -> None:
    doc = (REPO / "docs" / "DEPLOY.md").read_text()
    rows = set(re.findall(r"^\| `(\w+)` \|", doc, flags=re.MULTILINE))
    assert set(RULE_SETTINGS) <= rows, set(RULE_SETTINGS) - rows
    assert {str(rule["alert"]) for rule in alert_rules()} <= rows
