"""A throwaway PostgreSQL server for tests and benchmarks: a cluster made with ``initdb``
in a temporary folder, started with ``pg_ctl`` on a free loopback port, stopped and deleted
at the end. Debian's ``postgresql`` package provides the programs
(``scripts/install-system.sh`` installs it); as root they run as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER_USER = "postgres"
"""Who runs the server when we are root (PostgreSQL refuses to run as root)."""
DATABASE = "rescue"


def postgres_bindir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (Debian keeps them out of PATH), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(versions[0]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A running PostgreSQL server with an empty database; yields its ``postgresql://`` URL.

    Raises ``RuntimeError`` when PostgreSQL is not installed or does not start.
    """
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="rescue-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_USER)
        os.chown(folder, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", SERVER_USER, "--"]
    data, port = folder / "data", _free_port()

    def run(*command: str) -> None:
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stderr or done.stdout}")

    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "rescue",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-instructions",
        )
        options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=on -c synchronous_commit=on"
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        try:
            run(
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "rescue",
                DATABASE,
            )
            yield f"postgresql://rescue@127.0.0.1:{port}/{DATABASE}"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
