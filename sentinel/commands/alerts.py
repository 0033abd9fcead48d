"""`sentinel alerts`: the incidents recorded in the state store, each with its latest
status and extent (final once closed), as a table or JSON lines; `--records`: every record."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from sentinel.config import load_or_exit
from sentinel.config.units import parse_duration
from sentinel.render import AlertTable
from sentinel.sinks.store import DB_NAME, Store, StoreError


def main(args: argparse.Namespace) -> int:
    config = load_or_exit(args, required=False)
    since = None
    if args.since is not None:
        try:
            since = datetime.fromtimestamp(time.time(), UTC) - parse_duration(args.since)
        except ValueError as error:
            print(f"sentinel: error: --since: {error}", file=sys.stderr)
            return 2
    if not (config.state_dir / DB_NAME).exists():
        print(f"sentinel: no state store in {config.state_dir} yet: no alert", file=sys.stderr)
        return 0
    try:
        store = Store(config.state_dir)
        try:
            every = bool(getattr(args, "records", False))
            records = store.list_alerts(since) if every else store.list_incidents(since)
        finally:
            store.close()
    except StoreError as error:
        print(f"sentinel: error: {error}", file=sys.stderr)
        return 1
    table = AlertTable(sys.stdout)
    for record in records:
        if args.json:
            sys.stdout.write(json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n")
        else:
            table.write(record)
    print(f"sentinel: {len(records)} alerts", file=sys.stderr)
    return 0
