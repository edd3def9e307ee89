"""The Alembic migrations build exactly the tables of app/models.py, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI

from app.db import Base


def test_migrations_match_the_models(app: FastAPI) -> None:
    with app.state.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
