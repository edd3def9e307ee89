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
exception: each entry is a savepoint of a group transaction (``app.groupcommit``), answered only
once that group is committed.
"""

import contextlib
import os
import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from sqlalchemy import (
    ARRAY,
    Connection,
    Dialect,
    Engine,
    Insert,
    MetaData,
    Select,
    Update,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
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


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # positional paramstyles: the parameters' order
    defaults: dict[str, Any]  # literal values bound by the statement itself (LIMIT 1, 'a')
    bind_processors: dict[str, Callable[[Any], Any]]
    row: type[tuple[Any, ...]] | None  # a SELECT's row type (named columns)
    result_processors: tuple[Callable[[Any], Any] | None, ...]


def _row_type(fields: list[str]) -> type[tuple[Any, ...]]:
    return namedtuple("Row", fields)


class Prepared:
    """A core statement compiled once per dialect and run on the DBAPI cursor of the session's
    transaction, without SQLAlchemy's per-execution machinery (execution context, events, Result):
    about 8 µs instead of 70 µs a statement on SQLite. For the few statements every paper entry
    runs; column types still apply (``UTCDateTime`` in both directions), Python-side column
    defaults do not (an insert names every column), and errors are SQLAlchemy's."""

    def __init__(self, statement: Select[Any] | Insert | Update) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._client: dict[tuple[str, str], str] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        defaults = dict(compiled.construct_params(_check=False))
        processors: dict[str, Callable[[Any], Any]] = {}
        for name in defaults:
            processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        row: type[tuple[Any, ...]] | None = None
        results: tuple[Callable[[Any], Any] | None, ...] = ()
        if isinstance(self.statement, Select):
            columns = list(self.statement.selected_columns)
            row = _row_type([c.key or f"c{i}" for i, c in enumerate(columns)])
            results = tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
            )
        names = tuple(compiled.positiontup or ()) if dialect.positional else None
        sql = str(compiled)
        if dialect.driver == "psycopg":
            # Arrays in psycopg's binary format: its text format escapes every element (a
            # paper's JSON record, quotes and all) through a regular expression in Python.
            for name, bind in compiled.binds.items():
                if isinstance(bind.type, ARRAY):
                    sql = sql.replace(f"%({name})s", f"%({name})b")
        return _Compiled(sql, names, defaults, processors, row, results)

    def _client_sql(self, dialect: Dialect, prefix: str) -> str:
        """The statement with its parameters renamed ``<prefix><name>`` and bound by psycopg on
        this side (``rows_together``)."""
        found = self._client.get((dialect.name, prefix))
        if found is None:
            compiled = self._compiled.get(dialect.name) or self._compile(dialect)
            found = compiled.sql
            for name in compiled.defaults:
                for form in ("s", "b"):
                    found = found.replace(f"%({name}){form}", f"%({prefix}{name})s")
            self._client[(dialect.name, prefix)] = found
        return found

    def _bound(self, connection: Connection, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        compiled = self._compiled.get(connection.dialect.name)
        if compiled is None:
            compiled = self._compiled[connection.dialect.name] = self._compile(connection.dialect)
        values = compiled.defaults | dict(params)
        for name, process in compiled.bind_processors.items():
            values[name] = process(values[name])
        bound = values if compiled.names is None else tuple(values[n] for n in compiled.names)
        return bound, compiled

    def _execute(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        connection = session.connection()
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        dbapi_error = connection.dialect.loaded_dbapi.Error
        bound, compiled = self._bound(connection, params)
        try:
            cursor.execute(compiled.sql, bound)
        except dbapi_error as exc:
            cursor.close()
            # As SQLAlchemy raises it, so the app's handlers answer (IntegrityError → 409, …).
            raise DBAPIError.instance(compiled.sql, bound, exc, dbapi_error) from exc
        return cursor, compiled

    def run(self, session: Session, params: Mapping[str, Any]) -> None:
        cursor, _ = self._execute(session, params)
        cursor.close()

    def run_or_keep(self, session: Session, params: Mapping[str, Any]) -> None:
        """``run``; or, while the session keeps its writes (``keep_writes``), kept to be sent
        later by whoever asked for that."""
        kept: list[Write] | None = session.info.get(_KEPT)
        if kept is None:
            self.run(session, params)
        else:
            kept.append((self, dict(params)))

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[Any]:
        cursor, compiled = self._execute(session, params)
        fetched = cursor.fetchall()
        cursor.close()
        return self._rows(compiled, fetched)

    @staticmethod
    def _rows(compiled: _Compiled, fetched: list[Any]) -> list[Any]:
        assert compiled.row is not None
        make, processors = compiled.row, compiled.result_processors
        if not any(processors):
            return [make(*values) for values in fetched]
        return [
            make(*(v if p is None else p(v) for p, v in zip(processors, values, strict=True)))
            for values in fetched
        ]


Write = tuple[Prepared, dict[str, Any]]
_KEPT = "jipiao.kept_writes"


def keep_writes(session: Session) -> None:
    """From now on, ``Prepared.run_or_keep`` keeps its write instead of sending it, until
    ``kept_writes``."""
    session.info[_KEPT] = []


def kept_writes(session: Session) -> list[Write]:
    """The writes kept since ``keep_writes``, in order; the session sends writes again."""
    kept: list[Write] = session.info.pop(_KEPT, [])
    return kept


def run_writes(session: Session, writes: Sequence[Write]) -> None:
    for prepared, params in writes:
        prepared.run(session, params)


def _one_string(
    connection: Connection, statements: Sequence[tuple[Prepared, Mapping[str, Any]]]
) -> tuple[list[str], dict[str, Any], list[_Compiled]]:
    """The statements to send as one query string, values bound by psycopg on this side (the
    simple query protocol, which alone takes several statements): each one's SQL, with its
    parameters renamed apart, all their values, and each one's compiled form."""
    sql: list[str] = []
    values: dict[str, Any] = {}
    compiled: list[_Compiled] = []
    for i, (prepared, params) in enumerate(statements):
        bound, one = prepared._bound(connection, params)
        sql.append(prepared._client_sql(connection.dialect, f"s{i}_"))
        values.update((f"s{i}_{name}", value) for name, value in bound.items())
        compiled.append(one)
    return sql, values, compiled


def commit_with(connection: Connection, writes: Sequence[Write]) -> None:
    """PostgreSQL: ``writes`` and the COMMIT of ``connection``'s transaction as one query string
    (one round trip). If a write fails, the statements after it, the COMMIT included, are not
    run and the transaction is left failed (``failed_before_commit``): nothing of it is stored."""
    driver: Any = connection.connection.driver_connection
    dbapi_error = connection.dialect.loaded_dbapi.Error
    sql, values, _ = _one_string(connection, writes)
    query = ";\n".join([*sql, "COMMIT"])
    cursor = psycopg.ClientCursor(driver)
    try:
        cursor.execute(query, values)
    except dbapi_error as exc:
        raise DBAPIError.instance(query, values, exc, dbapi_error) from exc
    finally:
        cursor.close()


def failed_before_commit(connection: Connection) -> bool:
    """After ``commit_with`` raised: whether a write failed, so the COMMIT was never run (the
    server says the transaction is failed), rather than the COMMIT failing or the connection
    being lost (then whether it took effect is unknown)."""
    try:
        driver: Any = connection.connection.driver_connection
    except Exception:  # SQLAlchemy refuses: invalidated, closed
        return False
    return bool(driver.pgconn.transaction_status == psycopg.pq.TransactionStatus.INERROR)


def rows_together(
    session: Session, reads: Sequence[tuple[Prepared, Mapping[str, Any]]]
) -> list[list[Any]]:
    """``prepared.rows(session, params)`` of each read, in order. On PostgreSQL they are sent
    together as one query string, run one after another as sent: each statement takes its own
    snapshot, so a lock taken by one is held when the next one reads. One round trip and one
    pass through psycopg (with the values bound on this side, as the simple query protocol that
    takes several statements needs): psycopg's pipeline mode had cost more than the reads."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return [prepared.rows(session, params) for prepared, params in reads]
    driver: Any = connection.connection.driver_connection
    dbapi_error = connection.dialect.loaded_dbapi.Error
    sql, values, compiled = _one_string(connection, reads)
    query = ";\n".join(sql)
    cursor = psycopg.ClientCursor(driver)
    try:
        cursor.execute(query, values)
        found: list[list[Any]] = []
        for one in compiled:
            found.append(Prepared._rows(one, cursor.fetchall()))
            cursor.nextset()
        return found
    except dbapi_error as exc:
        raise DBAPIError.instance(query, values, exc, dbapi_error) from exc
    finally:
        cursor.close()


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
