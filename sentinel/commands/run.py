"""`sentinel run`: the daemon in the foreground (systemd Type=notify)."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import signal

from sentinel.config import load_or_exit, resolve_config_path
from sentinel.logsetup import setup_logging


def main(args: argparse.Namespace) -> int:
    setup_logging(args.log_format, args.log_level)
    # `kill -USR1 <pid>` writes every thread's stack to stderr: what is it doing right now?
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    config = load_or_exit(args, required=True)
    from sentinel.daemon import Daemon
    from sentinel.sinks.store import StoreError

    try:
        daemon = Daemon(config, config_path=resolve_config_path(args.config, required=True))
        daemon.install_signal_handlers()
        return daemon.run()
    except (StoreError, OSError) as error:
        # a state store that cannot open, a metrics port already taken, ...
        logging.getLogger("sentinel").error("cannot start: %s", error)
        return 1
