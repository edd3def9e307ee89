"""Alembic environment: the URL comes from app.settings (or a connection handed in by code)."""

from alembic import context
from sqlalchemy import Connection

from app import models  # noqa: F401 - registers the tables on Base.metadata
from app.db import Base, make_engine
from app.settings import Settings

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    settings = context.config.attributes.get("settings") or Settings()
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `jipiao db upgrade`")
run_migrations_online()
