"""The production server: Gunicorn, one worker process with a pool of threads.

Why Gunicorn's threaded worker (``gthread``): Flask-SocketIO lists eventlet, gevent and
Gunicorn among its production servers, and its ``threading`` mode runs on Gunicorn
with WebSocket through simple-websocket. The live state lives in one process (the center,
its lock, the store), so there is exactly one worker, as Flask-SocketIO's documentation
requires without sticky sessions. Threads, not green threads: the work behind a command
(numba kernels, OR-Tools, SQLite) runs in C and would stall a gevent or eventlet hub,
while a thread releases the GIL there; eventlet is no longer maintained for new
deployments. Each open WebSocket holds one thread, so :data:`THREADS` bounds the room.

The app is built inside the worker (``load_app``), so its background task (simulation,
promise watch) runs there; on a graceful stop (SIGTERM, Ctrl-C) the worker closes the
runtime, which flushes the trucks' positions and closes the store. What the app built at
load is frozen out of the garbage collector's passes (:func:`gc.freeze`).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

THREADS = 128
"""Connections served at once: every dispatcher's WebSocket holds one, plus page loads."""
GRACEFUL_STOP_S = 10


class _Gunicorn(BaseApplication):
    def __init__(self, load_app: Callable[[], Flask], options: dict[str, Any]) -> None:
        self._load_app = load_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        app = self._load_app()
        # What the app built (network, indexes, board: half a million objects) lives as long
        # as the worker: kept out of the cyclic collector's sight, a full collection no
        # longer stalls every thread for a quarter of a second (a broadcast's p99).
        gc.freeze()
        return app


def _close_runtime(worker: Any) -> None:
    """Gunicorn's ``worker_exit`` hook: close the app's runtime (flush, close the store)."""
    app = getattr(worker, "wsgi", None)
    runtime = getattr(app, "extensions", {}).get("rescue") if app is not None else None
    if runtime is not None:
        runtime.close()


def run(load_app: Callable[[], Flask], *, host: str, port: int, threads: int = THREADS) -> None:
    """Serve the app ``load_app()`` builds on ``host:port`` until stopped (SIGTERM, Ctrl-C)."""
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "graceful_timeout": GRACEFUL_STOP_S,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "preload_app": False,
        "worker_exit": lambda _server, worker: _close_runtime(worker),
    }
    _Gunicorn(load_app, options).run()
