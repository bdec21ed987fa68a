"""A process that loads the Beijing network once, then forks production servers on demand:
each child is the real server (:func:`webmap.server.run`, Gunicorn) on the given database,
in its own session so that a ``killpg(SIGKILL)`` takes it whole, as a crash would.

The crash test starts it as ``python tests/server_factory.py``; each line ``PORT DB`` on its
standard input forks a server; the child's pid comes back on standard output. Forking saves
the seconds of imports and network loading at each of the test's restarts.
"""

from __future__ import annotations

import os
import signal
import sys

from flask import Flask

from geo.place_search import place_index
from geo.places import load_geo
from webmap import server
from webmap.app import create_app, start_live


def main() -> None:
    geo = load_geo()
    place_index(geo.network)  # inherited by the children
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the killed servers are reaped at once
    print("ready", flush=True)
    for line in sys.stdin:
        port, db = line.split(maxsplit=1)
        pid = os.fork()
        if pid == 0:
            os.setsid()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)

            def load_app(db: str = db.strip()) -> Flask:
                app = create_app({"RESCUE_DB": db, "RESCUE_GEO": geo})
                start_live(app)
                return app

            server.run(load_app, host="127.0.0.1", port=int(port))
            os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
