"""Starting the real server for a benchmark: a free loopback port, waiting until it answers."""

from __future__ import annotations

import socket
import subprocess
import time

import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    """Until ``url``'s ``/healthz`` answers; raises if the server exits or takes too long."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                return
        except requests.RequestException:  # refused, or the worker still loading
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start in time")
