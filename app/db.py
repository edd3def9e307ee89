"""Database plumbing: the declarative Base, the engine, and one transaction per request.

SQLite (the embedded default) runs with WAL and foreign keys on, and every transaction starts with
``BEGIN IMMEDIATE``: it takes the write lock at once, so two requests never interleave their reads
and writes (the ledger's head cannot be read by two appenders). PostgreSQL runs in READ COMMITTED;
the ledger serializes appends with ``pg_advisory_xact_lock`` (see ``app.ledger.store``).

``get_session`` yields a session inside ``sessionmaker.begin()``; used as
``Depends(get_session, scope="function")`` the commit happens when the path operation returns and
BEFORE the response is sent, so a failed commit is an error response, never a 200 with nothing
stored. Services ``flush()``; they never commit.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
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


def make_engine(settings: Settings) -> Engine:
    """The engine: SQLite file (WAL, foreign keys, BEGIN IMMEDIATE) or PostgreSQL."""
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if url.database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    busy_timeout = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
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
        connection.exec_driver_sql("BEGIN IMMEDIATE")

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


def upgrade_database(settings: Settings) -> None:
    """Apply every Alembic migration up to head (``jipiao db upgrade``; tests use it too)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["settings"] = settings
    command.upgrade(config, "head")
