"""`sentinel test-alert`: one test notification to every configured target, sent directly."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from typing import TextIO

from sentinel.alerts import Alert, make_alert
from sentinel.config import load_or_exit
from sentinel.config.model import Config, NotifyTarget
from sentinel.sinks.alertmanager import AlertmanagerSender
from sentinel.sinks.notify import AppriseSender, DeliveryError, Dispatcher, Sender, mask_url
from sentinel.textsafe import neutral

TEST_RESOLVE = timedelta(minutes=5)  # a test alert should not linger in Alertmanager


def make_test_alert(config: Config, target: NotifyTarget, now: datetime) -> Alert:
    """The test alert for a target, at the lowest severity that target accepts."""
    return make_alert(
        rule="test_alert",
        severity=target.min_severity,
        server=config.server_name,
        subject="test",
        summary=f"Test notification from sentinel on {config.server_name}: delivery works",
        first_seen=now,
        last_seen=now,
        details={"test": True},
    )


def send_all(config: Config, sender: Sender, stream: TextIO) -> bool:
    """Sends to each target in turn, printing one result line each; True if all delivered."""
    now = datetime.fromtimestamp(time.time(), config.timezone)
    delivered = True
    for target in config.notify.targets:
        record = make_test_alert(config, target, now).to_dict()
        try:
            sender.send(target, record)
            result = "delivered"
        except DeliveryError as error:
            result = f"FAILED: {error}"
            delivered = False
        except Exception as error:  # report any plugin's failure, keep going
            result = f"FAILED: {neutral(type(error).__name__ + ': ' + str(error), 200)}"
            delivered = False
        stream.write(f"{mask_url(target.url)} ({target.kind}): {result}\n")
        stream.flush()
    return delivered


def main(args: argparse.Namespace) -> int:
    config = load_or_exit(args, required=True)
    if not config.notify.targets:
        print("sentinel: no notification target configured (notify.targets)", file=sys.stderr)
        return 1
    sender = Dispatcher(
        {"apprise": AppriseSender(), "alertmanager": AlertmanagerSender(TEST_RESOLVE)}
    )
    return 0 if send_all(config, sender, sys.stdout) else 1
