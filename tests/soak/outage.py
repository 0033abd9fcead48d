"""Outage: both notification targets down for minutes, a SIGKILL meanwhile, then back.

    .venv/bin/python -m tests.soak.outage --minutes 3 --every 10

A chat webhook (Apprise json://) and a mail server (mailto://) are down from the start.
One brute-force incident (10 failed logins from a new address) is written every `--every`
seconds for `--minutes`; halfway, `sentinel run` is SIGKILLed and started again. Then
both targets come up. Every incident must reach both targets: none missing, and none
twice beyond one per SIGKILL (the notification sent whose acknowledgement the kill
prevented; targets are down at the kill here, so none is expected). Prints, per target,
how long the last notification took after it came back: the backoff's cap (1 min) bounds
the first retry; Apprise then sends at most one e-mail per ~5.5 s to one mail server.
Exits 1 when a notification is missing or repeated.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from tests.receivers import HttpReceiver, SmtpReceiver
from tests.soak.common import daemon, failure, start

DELIVERY_TIMEOUT = 180.0  # seconds for the outbox to empty once the targets are back


def incident(log: Path, ip: str) -> None:
    base = datetime.now().astimezone()
    with log.open("a") as out:
        out.writelines(failure(ip, base + timedelta(seconds=i)) + "\n" for i in range(10))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=3.0, help="how long targets are down")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between incidents")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sentinel-outage-"))
    log = work / "vsftpd.log"
    log.touch()
    chat, mail = HttpReceiver(), SmtpReceiver()
    chat.start()  # takes a free port ...
    chat.stop()  # ... then refuses connections on it until it starts again
    sentinel = daemon(
        work,
        log,
        {"notify": {"targets": [{"url": chat.apprise_url()}, {"url": mail.apprise_url()}]}},
    )
    start(sentinel)
    ips: list[str] = []
    began = time.monotonic()
    killed = False
    try:
        while time.monotonic() - began < args.minutes * 60:
            ip = (
                f"203.0.113.{len(ips) % 250 + 1}"
                if len(ips) < 250
                else f"198.51.100.{len(ips) - 249}"
            )
            incident(log, ip)
            ips.append(ip)
            if not killed and time.monotonic() - began >= args.minutes * 30:
                sentinel.kill()
                start(sentinel)
                killed = True
            time.sleep(args.every)  # the pace of the incidents, not a wait for a condition
        up = time.monotonic()
        chat.start()
        with mail:
            deadline = up + DELIVERY_TIMEOUT
            done: dict[str, float] = {}
            while time.monotonic() < deadline and len(done) < 2:
                for name, count in (("chat", len(chat.received())), ("mail", len(mail.messages()))):
                    if count >= len(ips):
                        done.setdefault(name, time.monotonic() - up)
                time.sleep(0.5)
            time.sleep(5)  # a late duplicate would arrive now
            posts = Counter(
                ip for r in chat.received() for ip in ips if f"{ip} " in r.json()["title"]
            )
            mails = Counter(
                ip for m in mail.messages() for ip in ips if f"{ip} " in str(m["Subject"])
            )
    finally:
        if sentinel.alive():
            sentinel.stop()
        chat.stop()
    missing = [ip for ip in ips if not posts[ip] or not mails[ip]]
    repeated = sum(n - 1 for n in (*posts.values(), *mails.values()) if n > 1)
    print(f"targets down for {args.minutes:.1f} min, {len(ips)} incidents, 1 SIGKILL meanwhile")
    print(f"delivered: {sum(posts.values())} chat posts, {sum(mails.values())} mails")
    print(f"missing: {len(missing)}, repeated: {repeated}")
    for name, took in sorted(done.items()):
        print(f"{name}: all delivered {took:.1f} s after the targets came back")
    print(f"work directory: {work}")
    return 1 if missing or repeated > 1 else 0


if __name__ == "__main__":
    raise SystemExit(main())
