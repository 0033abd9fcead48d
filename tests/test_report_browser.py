"""The HTML report in a real headless Chromium (Debian's): it renders, shows the timeline and
the art. 33 summary, and makes no network request.

Chromium runs with a fresh profile, a proxy on a closed loopback port and no DNS, so nothing
it tries can leave the machine; its net log records every URL it asked for. Chromium asks its
own update and account services whatever the page holds (they have no initiator): those are
set apart, and a control page with one external image shows that the page's requests are
seen.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from PIL import Image

from tests.test_report import VSFTPD_LOG, make_zone, nirs, report, write_config

WIDTH, HEIGHT = 1200, 1500
CRITICAL_RED = (192, 57, 43)  # the timeline's colour of critical incidents (timeline.py),
# which the page's own styles never use
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=127.0.0.1:9",  # discard port, closed: a request goes nowhere
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile.mkdir()
    return subprocess.run(
        ["chromium", *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def page_requests(net_log: Path) -> set[str]:
    """URLs the page asked for: the net log's requests that have an initiator (the page's
    file:// origin shows as "null"); Chromium's own service requests have none."""
    events: list[dict[str, Any]] = json.loads(net_log.read_text())["events"]
    return {
        e["params"]["url"]
        for e in events
        if "url" in e.get("params", {}) and e["params"].get("initiator") == "null"
    }


def test_the_html_report_renders_in_chromium_without_any_request(tmp_path: Path) -> None:
    pub = make_zone(tmp_path, nirs(10))
    config = write_config(tmp_path, pub)
    page = tmp_path / "report.html"
    page.write_text(report(config, str(VSFTPD_LOG), fmt="html"))
    html = page.read_text()
    assert "default-src 'none'" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"https?://", html, re.I)  # no URL at all, not even a namespace
    assert "@media print" in html
    assert "192, 57, 43" not in html and "#c0392b" not in html.split("<svg", 1)[0]

    shot = tmp_path / "shot.png"
    chromium(page, tmp_path / "p1", f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}")
    with Image.open(shot) as image:
        assert image.size == (WIDTH, HEIGHT)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # not a blank page
    counts = {colour: count for count, colour in colours}
    assert counts.get(CRITICAL_RED, 0) > 30  # the marks of the two critical incidents

    net_log = tmp_path / "net.json"
    dom = chromium(page, tmp_path / "p2", "--dump-dom", f"--log-net-log={net_log}").stdout
    assert 'id="timeline-figure"><svg' in dom
    assert "Notification of a personal data breach (GDPR art. 33(3))" in dom
    assert "anonymous access from 127.0.0.9" in dom
    assert page_requests(net_log) == set()


def test_a_page_with_an_external_image_is_seen_requesting_it(tmp_path: Path) -> None:
    """The control: what the net log shows of a page that does reach out."""
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>')
    net_log = tmp_path / "net.json"
    chromium(page, tmp_path / "p", "--dump-dom", f"--log-net-log={net_log}")
    assert page_requests(net_log) == {"http://127.0.0.1:9/x.png"}
