"""Read-only sessions for reads that must never block the tablets: the live snapshots, the
roster preview.

The app's engine starts every SQLite transaction with ``BEGIN IMMEDIATE`` (app.db: the write
lock at once, so appenders never interleave). Such a read only: on SQLite it gets an engine
of its own over the same file whose transactions are deferred and ``query_only`` — in WAL mode a
reader sees one committed state and neither waits for nor holds up a writer. On PostgreSQL the
app's engine is used (READ COMMITTED reads do not block).
"""

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_sessionmaker


def _sqlite_reader(engine: Engine, busy_timeout_ms: int) -> Engine:
    reader = create_engine(engine.url, connect_args={"check_same_thread": False})

    @event.listens_for(reader, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    @event.listens_for(reader, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")  # deferred: a read snapshot, no write lock

    return reader


def close_reader(app: FastAPI) -> None:
    """At the app's end: the SQLite reader's own engine, if one was made."""
    factory: sessionmaker[Session] | None = getattr(app.state, "reader", None)
    if factory is not None and factory.kw["bind"] is not app.state.engine:
        factory.kw["bind"].dispose()


def reader(app: FastAPI) -> sessionmaker[Session]:
    """The sessionmaker for read-only reads (created on first use, kept on ``app.state``)."""
    factory: sessionmaker[Session] | None = getattr(app.state, "reader", None)
    if factory is None:
        engine: Engine = app.state.engine
        if engine.dialect.name == "sqlite":
            busy = app.state.settings.sqlite_busy_timeout_ms
            factory = make_sessionmaker(_sqlite_reader(engine, busy))
        else:
            factory = app.state.sessionmaker
        app.state.reader = factory
    return factory
