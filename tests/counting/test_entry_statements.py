"""How many SQL statements one paper entry sends to the database: pinned, so the hot path of a
count cannot quietly grow a query (bench_entry.py measures what each one costs).

Counted at the DBAPI: SQLite's trace callback sees every statement the connection runs; on
PostgreSQL every cursor the connection makes counts its executions. Transaction control is left
out (psycopg sends BEGIN and COMMIT without a cursor; SQLite's BEGIN IMMEDIATE and COMMIT are
traced), so both lists are the statements the service itself chose to send, with the SAVEPOINT
and RELEASE the group commit (``app.groupcommit``) puts around each entry, and the COMMIT it
sends together with a group's writes.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event

from app import models
from app.settings import Settings
from tests.builders import Api, expect
from tests.counting.test_entry_api import PAPERS, counting, make_batch, paper

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


class Statements:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def record(self, sql: str) -> None:
        if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL):
            self.sent.append(" ".join(sql.split()))

    def verbs(self) -> list[str]:
        """Each statement's first words (``SELECT``, ``INSERT INTO event`` …)."""
        return [_verb(sql) for sql in self.sent]


def _verb(sql: str) -> str:
    words = sql.split()
    if words == [";"]:
        return "; (pool_pre_ping)"
    if sql in (TOGETHER, TOGETHER_END):
        return sql
    if words[:3] == ["WITH", "along_row", "AS"]:
        tables = [words[i + 1] for i, word in enumerate(words) if word == "INTO"]
        assert tables == ["paper_entry", "event"], sql
        assert "pg_notify" in sql, sql
        return ALONG
    if words[0] == "INSERT":
        return f"INSERT INTO {words[2]}"
    if words[0] == "SELECT" and "pg_advisory_xact_lock" in words[1]:
        return "SELECT pg_advisory_xact_lock"
    if words[0] == "SELECT" and "pg_notify" in words[1]:
        return "SELECT pg_notify"
    return words[0]


TOGETHER, TOGETHER_END = "[sent together, one query string:", "]"
ALONG = (
    "WITH along_row AS (INSERT INTO paper_entry …), along_event AS (INSERT INTO event …) "
    "SELECT pg_notify"
)
# A bulk of entries that is its group's only job (PostgreSQL, ``counting_service.enter_papers``):
# the callers, the chain lock before the read and the batches, sent together (one round trip
# after the BEGIN); the entries, their events and the live streams' wake-up in one statement,
# sent with the COMMIT. No savepoint (a failed bulk runs again alone).
BULK = [
    TOGETHER,
    "SELECT",
    "SELECT pg_advisory_xact_lock",
    "SELECT",
    TOGETHER_END,
    TOGETHER,
    ALONG,
    "COMMIT",
    TOGETHER_END,
]


@pytest.fixture
def statements(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Statements]:
    """Statements of connections opened from now on (the pool is emptied first). On PostgreSQL,
    the statements sent together as one query string (psycopg's client-side binding:
    ``app.db.rows_together``, ``app.db.commit_with``) are between ``TOGETHER`` and
    ``TOGETHER_END``, each on its own, a COMMIT among them included."""
    found = Statements()
    engine: Engine = app.state.engine
    client_execute = psycopg.ClientCursor.execute

    def together(self: psycopg.ClientCursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        found.sent.append(TOGETHER)
        for sql in str(query).split(";\n"):  # as app.db joins them; a COMMIT among them too
            found.sent.append(" ".join(sql.split()))
        found.sent.append(TOGETHER_END)
        return client_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.ClientCursor, "execute", together)

    class CountingCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            found.record(query if isinstance(query, str) else str(query))
            return super().execute(query, *args, **kwargs)

        def executemany(self, query: Any, params_seq: Any, *args: Any, **kwargs: Any) -> Any:
            params_seq = list(params_seq)
            for _ in params_seq:  # one execution each, sent together
                found.record(query if isinstance(query, str) else str(query))
            return super().executemany(query, params_seq, *args, **kwargs)

    def instrument(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, psycopg.Connection):
            dbapi_connection.cursor_factory = CountingCursor
        else:
            dbapi_connection.set_trace_callback(found.record)

    engine.dispose()
    event.listen(engine, "connect", instrument)
    yield found
    event.remove(engine, "connect", instrument)


def test_one_entry_is_a_handful_of_statements(
    api: Api, settings: Settings, app: FastAPI, statements: Statements
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)
    path = f"/api/batches/{batch['id']}/papers"
    expect(c.tellers[0].post(path, json=paper(c, "warm-up", PAPERS[0])), 201)
    statements.sent.clear()
    answer = expect(c.tellers[0].post(path, json=paper(c, "counted", PAPERS[1])), 201)
    assert answer["progress"]["pass_a"] == 2
    # Its savepoint in the group's transaction (released by the next entry's or by the COMMIT);
    # the session lookup; batch, round, congress, progress, chain head and any earlier entry under
    # this key in one read; the entry; its event.
    expected = [
        "SAVEPOINT",
        "SELECT",
        "SELECT",
        "INSERT INTO paper_entry",
        "INSERT INTO event",
    ]
    if app.state.engine.dialect.name == "postgresql":
        # Entered as a bulk of one (test_entry_bulk.py), and no liveness check: the committer
        # keeps the connection the warm-up entry took.
        expected = BULK
    assert statements.verbs() == expected, "\n".join(statements.sent)


def test_a_retried_entry_only_reads(api: Api, settings: Settings, statements: Statements) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)
    path = f"/api/batches/{batch['id']}/papers"
    body = paper(c, "tablet1-0001", PAPERS[0])
    first = expect(c.tellers[0].post(path, json=body), 201)
    statements.sent.clear()
    assert expect(c.tellers[0].post(path, json=body), 201) == first
    writes = ("INSERT", "UPDATE", "DELETE", "SELECT pg_notify")
    assert statements.sent
    assert not [verb for verb in statements.verbs() if verb.startswith(writes)]


def test_the_core_insert_stores_what_the_orm_reads(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)
    path = f"/api/batches/{batch['id']}/papers"
    before = datetime.now(UTC)
    answer = expect(c.tellers[0].post(path, json=paper(c, "k1", PAPERS[1])), 201)
    with app.state.sessionmaker.begin() as session:
        entry = session.get(models.PaperEntry, answer["paper_id"])
        assert entry is not None
        assert json.loads(entry.answer) == answer
        # A UTC time to the minute, as the UTCDateTime column reads back on either database.
        assert entry.entered_at.tzinfo is not None
        assert before.replace(second=0, microsecond=0) <= entry.entered_at <= datetime.now(UTC)
        assert (entry.entered_at.second, entry.entered_at.microsecond) == (0, 0)
