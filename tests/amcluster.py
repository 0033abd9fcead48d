"""Two (or more) Debian prometheus-alertmanager peers gossiping on loopback, one cluster.

Each peer routes every alert to one webhook (an HttpReceiver) at once: a cluster that
de-duplicates sends it one notification per alert group, whichever peers received it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from tests.realservers.proc import free_port, wait_until
from tests.receivers import Alertmanager

CLUSTER_CONFIG = """\
route:
  receiver: hook
  group_by: [fingerprint]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {hook}
        send_resolved: false
"""


class Peer(Alertmanager):
    """One peer: its HTTP API on one free port, its gossip on another."""

    def __init__(self, workdir: Path, hook: str, peers: list[str], gossip_port: int) -> None:
        workdir.mkdir(mode=0o700, exist_ok=True)
        super().__init__(workdir)
        self.hook = hook
        self.peers = peers
        self.gossip = f"127.0.0.1:{gossip_port}"

    def start(self) -> None:
        config = self.workdir / "alertmanager.yml"
        config.write_text(CLUSTER_CONFIG.format(hook=self.hook))
        (self.workdir / "am-data").mkdir(mode=0o700, exist_ok=True)
        peers = [f"--cluster.peer={peer}" for peer in self.peers]
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(
                [
                    "prometheus-alertmanager",
                    f"--config.file={config}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    f"--cluster.listen-address={self.gossip}",
                    f"--cluster.advertise-address={self.gossip}",
                    "--cluster.peer-timeout=2s",
                    "--cluster.gossip-interval=100ms",
                    "--cluster.pushpull-interval=1s",
                    *peers,
                    f"--storage.path={self.workdir / 'am-data'}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until("Alertmanager peer ready", self._ready, timeout=20)

    def members(self) -> int:
        url = f"http://127.0.0.1:{self.port}/api/v2/status"
        with urllib.request.urlopen(url, timeout=5) as response:
            status: dict[str, Any] = json.load(response)
        return len(status.get("cluster", {}).get("peers", []))

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(timeout=5)


class Cluster:
    """`size` peers, each told of the first; `url` is the sentinel target naming them all."""

    def __init__(self, workdir: Path, hook: str, size: int = 2) -> None:
        ports = [free_port() for _ in range(size)]
        first = f"127.0.0.1:{ports[0]}"
        self.peers = [
            Peer(workdir / f"am{i}", hook, [] if i == 0 else [first], port)
            for i, port in enumerate(ports)
        ]
        self.url = "alertmanager://" + ",".join(f"127.0.0.1:{p.port}" for p in self.peers)

    def __enter__(self) -> Self:
        try:
            for peer in self.peers:
                peer.start()
            size = len(self.peers)
            wait_until("peers joined", lambda: all(p.members() == size for p in self.peers), 20)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for peer in self.peers:
            peer.stop()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
