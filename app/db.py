"""Database plumbing: the declarative Base, the engine, and one transaction per request.

SQLite (the embedded default) runs with WAL and foreign keys on, and every transaction starts with
``BEGIN IMMEDIATE``: it takes the write lock at once, so two requests never interleave their reads
and writes (the ledger's head cannot be read by two appenders). Threads of one process queue for
that lock on a ``threading.Lock`` first (``_WriterConnection``): SQLite's busy handler would have
them poll in sleeps of 1, 2, 5 … ms, leaving the lock idle while the tablets wait. PostgreSQL runs
in READ COMMITTED; the ledger serializes appends with ``pg_advisory_xact_lock`` (see
``app.ledger.store``).

``get_session`` yields a session inside ``sessionmaker.begin()``; used as
``Depends(get_session, scope="function")`` the commit happens when the path operation returns and
BEFORE the response is sent, so a failed commit is an error response, never a 200 with nothing
stored. Services ``flush()``; they never commit. Paper entry, the hot path of a count, is the one
exception: the papers waiting are entered in one transaction of their own, committed before any
of them is answered (``app.counting.entry``).
"""

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import (
    Engine,
    MetaData,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


class _WriterConnection(sqlite3.Connection):
    """A pysqlite connection that holds its engine's in-process writer lock from ``BEGIN
    IMMEDIATE`` until its COMMIT or ROLLBACK has finished (or it closes)."""

    writer_lock: "threading.Lock | None" = None
    holds_writer_lock = False

    def acquire_writer_lock(self, timeout_ms: int) -> None:
        assert self.writer_lock is not None
        if not self.writer_lock.acquire(timeout=timeout_ms / 1000):
            error = sqlite3.OperationalError("database is locked (in-process writers)")
            raise OperationalError("BEGIN IMMEDIATE", None, error)
        self.holds_writer_lock = True

    def release_writer_lock(self) -> None:
        if self.holds_writer_lock:
            self.holds_writer_lock = False
            assert self.writer_lock is not None
            self.writer_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_writer_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_writer_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer_lock()


def create_private_file(path: Path) -> None:
    """Create the SQLite file 0600 (like the keys) if it does not exist yet: SQLite would create
    it with the process's umask (often 0644), and its WAL and shared-memory files take the mode
    of the database file."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(settings: Settings) -> Engine:
    """The engine: SQLite file (WAL, foreign keys, BEGIN IMMEDIATE) or PostgreSQL."""
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if url.database and url.database != ":memory:":
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_private_file(Path(url.database))
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "factory": _WriterConnection}
    )
    busy_timeout = settings.sqlite_busy_timeout_ms
    writer_lock = threading.Lock()  # this engine's; other processes still meet SQLite's lock

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: _WriterConnection, _record: Any) -> None:
        dbapi_connection.writer_lock = writer_lock
        # Let SQLAlchemy's "begin" event emit BEGIN IMMEDIATE instead of pysqlite's own BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # FULL: a committed paper survives a power cut of the hall laptop, not only a crash.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        dbapi_connection: _WriterConnection = connection.connection.driver_connection
        dbapi_connection.acquire_writer_lock(busy_timeout)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection.release_writer_lock()
            raise

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed on return, rolled back on any exception."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory.begin() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


# A session-level advisory lock (one bigint key: apart from the ledger's two-key locks).
STARTUP_LOCK = 0x6A69_7069_616F_0001


@contextlib.contextmanager
def startup_lock(settings: Settings) -> Iterator[None]:
    """PostgreSQL: held while one instance migrates the database and checks the keys, so that
    replicas starting together (docker compose) take turns: the second finds the schema at head
    and the keys recorded. SQLite: nothing (one machine; SQLite's own lock)."""
    url = settings.resolved_database_url()
    if is_sqlite(url):
        yield
        return
    engine = make_engine(settings)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(select(func.pg_advisory_lock(STARTUP_LOCK)))
            try:
                yield
            finally:
                connection.execute(select(func.pg_advisory_unlock(STARTUP_LOCK)))
    finally:
        engine.dispose()


def upgrade_database(settings: Settings) -> None:
    """Apply every Alembic migration up to head (``jipiao db upgrade``; tests use it too)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["settings"] = settings
    command.upgrade(config, "head")
