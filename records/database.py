"""Where the records live: an SQLite file by default, PostgreSQL by URL.

:func:`open_engine` makes the SQLAlchemy engine (SQLite in WAL mode with ``synchronous=FULL``,
so a commit is on disk when it returns; PostgreSQL commits durably by default) and brings the
schema up to date with the Alembic migrations. :class:`WriterLock` makes sure that one
dispatch server at a time writes to a database: a second one is refused at start.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from geo.config import PROJECT_ROOT
from geo.errors import InputError

DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "runtime" / "dispatch.sqlite"
DB_URL_ENV = "RESCUE_DB_URL"
"""The environment variable naming the database when ``--db`` is not given."""
SECRET_FILE_MODE = 0o600
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
_MIGRATIONS = Path(__file__).with_name("migrations")
_WRITER_LOCK_KEY = 7_250_104_611
"""The PostgreSQL advisory lock held by the database's one writer."""


def private_file(path: Path) -> None:
    """Make ``path`` (created empty if missing) readable and writable by its owner only."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, SECRET_FILE_MODE)
    try:
        os.fchmod(fd, SECRET_FILE_MODE)
    finally:
        os.close(fd)


def database_url(db: str | Path | None = None) -> URL:
    """The database ``db`` names: a file path (SQLite) or a ``sqlite://`` / ``postgresql://``
    URL; by default ``$RESCUE_DB_URL``, else :data:`DEFAULT_DB_PATH`.

    Raises :class:`InputError` (field ``--db``) for anything else.
    """
    if db is None or db == "":
        db = os.environ.get(DB_URL_ENV) or DEFAULT_DB_PATH
    if isinstance(db, Path) or "://" not in db:
        return URL.create("sqlite", database=str(Path(db).expanduser().absolute()))
    try:
        url = make_url(db)
    except ArgumentError:
        raise InputError("--db", db, "not a database URL") from None
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database:
        return url.set(drivername="sqlite")
    raise InputError("--db", db, "not an SQLite file or a postgresql:// URL")


def sqlite_path(url: URL) -> Path | None:
    """The file of an SQLite URL, else None."""
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database)


def _private_sqlite_files(path: Path) -> None:
    """The database and its WAL files hold password hashes, session tokens' hashes and the
    signing key: readable by their owner only, whatever existed before."""
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(path)
    for suffix in _SQLITE_SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, SECRET_FILE_MODE)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def open_engine(db: str | Path | None = None) -> Engine:
    """The engine of ``db`` (see :func:`database_url`) with its schema migrated to the latest.

    Raises :class:`InputError` (field ``--db``) when the database cannot be opened.
    """
    url = database_url(db)
    path = sqlite_path(url)
    if path is not None:
        if path.is_dir():
            raise InputError("--db", str(path), "is a folder, not a database file")
        try:
            _private_sqlite_files(path)
        except OSError as error:
            raise InputError(
                "--db", str(path), "cannot open the store: {error}", error=error.strerror
            ) from None
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    try:
        migrate(engine)
    except Exception as error:
        engine.dispose()
        shown = str(path) if path is not None else url.render_as_string(hide_password=True)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError("--db", shown, "cannot open the store: {error}", error=reason) from None
    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration of the records' migrations (on ``connection`` if given)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` in one transaction (idempotent)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None before any migration)."""
    with engine.connect() as connection:
        try:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        except Exception:
            return None
    return None if row is None else str(row[0])


class WriterRefusedError(RuntimeError):
    """Another dispatch server already writes to this database."""


class WriterLock:
    """The one-writer rule: the live dispatch server holds it as long as it runs.

    SQLite: an exclusive ``flock`` on ``<database>.writer``; PostgreSQL: a session advisory
    lock on a connection kept open. Both end with the process, however it ends, so a
    restart after a crash is never refused.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._fd: int | None = None
        self._connection: Connection | None = None
        path = sqlite_path(engine.url)
        if path is not None:
            lock_path = path.with_name(path.name + ".writer")
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, SECRET_FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
                os.close(fd)
                raise WriterRefusedError(
                    f"another dispatch server (pid {holder or '?'}) is writing to {path}"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
            self._fd = fd
            return
        connection = engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": _WRITER_LOCK_KEY}
        ).scalar()
        connection.commit()
        if not got:
            connection.close()
            shown = engine.url.render_as_string(hide_password=True)
            raise WriterRefusedError(f"another dispatch server is writing to {shown}")
        self._connection = connection

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._connection is not None:
            self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": _WRITER_LOCK_KEY}
            )
            self._connection.commit()
            self._connection.close()
            self._connection = None
