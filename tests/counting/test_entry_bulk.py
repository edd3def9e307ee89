"""Paper entries that wait together are entered together (``counting_service.enter_papers``, a
bulk of the group committer on PostgreSQL): every answer, refusal and stored row is what entering
them one at a time, in the same order, gives. On SQLite the bulk leaves every entry to run alone,
so the same tests hold there too."""

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session

from app import models
from app.counting import router as counting_router
from app.counting.service import _CONTEXTS, _INSERT_ENTRY, _LOCK_CHAINS
from app.db import rows_together
from app.errors import AppError
from app.groupcommit import GroupCommitter
from app.ledger import notify as signal
from app.ledger import store
from app.settings import Settings
from tests.builders import Api, expect
from tests.counting.test_entry_api import PAPERS, Counting, counting, make_batch, paper
from tests.counting.test_entry_statements import (  # noqa: F401
    ALONG,
    BULK,
    TOGETHER,
    TOGETHER_END,
    Statements,
    statements,
)
from tests.test_groupcommit import run_as_one_group


def entry(settings: Settings, who: Api, batch_id: int, body: Any) -> Any:
    assert who.token is not None
    return counting_router._Entry(who.token, batch_id, json.dumps(body).encode(), settings.data_dir)


def enter_as_one_group(engine: Engine, entries: list[Any]) -> list[Any]:
    """The entries as one group of a committer on its thread; each one's answer (JSON) or
    refusal."""
    committer = GroupCommitter(engine, inline=False)
    works = [e.work for e in entries]
    try:
        results = run_as_one_group(committer, works, counting_router._enter_all, entries)
    finally:
        committer.close()
    return [json.loads(r) if isinstance(r, bytes) else r for r in results]


def code(result: Any) -> str:
    assert isinstance(result, AppError), result
    return result.code


def chain_problems(app: FastAPI, c: Counting) -> list[Any]:
    with Session(app.state.engine) as session:
        return store.verify_congress_chain(session, congress_id=c.ready.congress.id)


def batch_progress(api: Api, c: Counting) -> list[dict[str, Any]]:
    batches = expect(api.get(f"/api/rounds/{c.round_id}/batches"), 200)["batches"]
    return [b["progress"] for b in batches]


def test_a_group_of_entries_is_entered_as_one_at_a_time_would_be(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)["id"]
    a, b, stranger = c.tellers
    first = paper(c, "a-0", PAPERS[0])
    results = enter_as_one_group(
        app.state.engine,
        [
            entry(settings, a, batch, first),
            entry(settings, b, batch, paper(c, "b-0", PAPERS[1])),
            entry(settings, stranger, batch, paper(c, "s-0", PAPERS[0])),
            entry(settings, a, batch, paper(c, "a-1", PAPERS[1])),
            entry(settings, a, batch, first),  # a retry while the first one waits
            entry(settings, a, batch, paper(c, "a-0", PAPERS[2])),  # its key, another paper
            entry(settings, api.as_token("no-such-session"), batch, first),
            entry(settings, a, batch, {"idempotency_key": "x"}),  # no marks: 422
            entry(settings, a, batch + 1000, paper(c, "a-2", PAPERS[0])),
            entry(settings, a, batch, paper(c, "a-2", PAPERS[3], void="P4")),
        ],
    )
    entered, other, refused, second, again, reused, unknown, invalid, missing, void = results
    assert [r["progress"]["pass_a"] for r in (entered, second, void)] == [1, 2, 3]
    assert (other["pass"], other["progress"]["pass_b"]) == ("b", 1)
    assert again == entered
    assert (entered["status"], void["status"], void["rule"]) == ("valid", "invalid", "P4")
    assert code(refused) == "not_assigned_to_batch"
    assert code(reused) == "idempotency_key_reused"
    assert code(unknown) == "invalid_session"
    assert isinstance(invalid, RequestValidationError)
    assert code(missing) == "batch_not_found"
    assert [(p["pass_a"], p["pass_b"], p["status"]) for p in batch_progress(api, c)] == [
        (3, 1, "entering")
    ]
    events = expect(api.get(f"/api/congresses/{c.ready.congress.id}/events"), 200)
    assert [e["type"] for e in events].count("paper.entered") == 4
    assert chain_problems(app, c) == []


def test_a_key_entered_before_the_group_gets_its_first_answer(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)["id"]
    a = c.tellers[0]
    body = paper(c, "a-0", PAPERS[0])
    before = expect(a.post(f"/api/batches/{batch}/papers", json=body), 201)
    results = enter_as_one_group(
        app.state.engine,
        [
            entry(settings, a, batch, paper(c, "a-1", PAPERS[1])),
            entry(settings, a, batch, body),  # the response was lost: the tablet sends again
            entry(settings, a, batch, paper(c, "a-0", PAPERS[2])),
        ],
    )
    assert results[0]["progress"]["pass_a"] == 2
    assert results[1] == before
    assert code(results[2]) == "idempotency_key_reused"
    assert [p["pass_a"] for p in batch_progress(api, c)] == [2]
    assert chain_problems(app, c) == []


def test_a_retry_after_its_batch_was_completed_gets_its_first_answer(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    """The tablet's last paper was stored and its answer lost (Wi-Fi): the offline queue sends it
    again once the batch is reconciled, or once its pass is full."""
    c = counting(api, settings)
    done, half = make_batch(c, 1)["id"], make_batch(c, 1)["id"]
    a, b, _ = c.tellers
    expect(a.post(f"/api/batches/{done}/papers", json=paper(c, "a-0", PAPERS[0])), 201)
    last, half_last = paper(c, "b-0", PAPERS[0]), paper(c, "h-0", PAPERS[1])
    first = expect(b.post(f"/api/batches/{done}/papers", json=last), 201)
    half_first = expect(a.post(f"/api/batches/{half}/papers", json=half_last), 201)
    assert first["progress"]["status"] == "reconciled"
    assert (half_first["progress"]["pass_a"], half_first["progress"]["status"]) == (1, "entering")
    results = enter_as_one_group(
        app.state.engine,
        [
            entry(settings, b, done, last),
            entry(settings, a, half, half_last),
            entry(settings, b, done, paper(c, "b-1", PAPERS[1])),
            entry(settings, a, half, paper(c, "h-1", PAPERS[2])),
        ],
    )
    assert results[:2] == [first, half_first]
    assert code(results[2]) == "batch_not_entering"
    assert code(results[3]) == "batch_full"
    assert chain_problems(app, c) == []


def test_the_entry_that_completes_its_batch_is_compared_and_answered_so(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    c = counting(api, settings)
    first, second = make_batch(c, 2)["id"], make_batch(c, 2)["id"]
    a, b, _ = c.tellers
    results = enter_as_one_group(
        app.state.engine,
        [
            entry(settings, a, first, paper(c, "a-0", PAPERS[0])),
            entry(settings, a, first, paper(c, "a-1", PAPERS[1])),
            entry(settings, b, first, paper(c, "b-0", PAPERS[1])),
            entry(settings, b, first, paper(c, "b-1", PAPERS[0])),  # completes the batch
            entry(settings, a, second, paper(c, "a-0", PAPERS[2])),
            entry(settings, a, first, paper(c, "a-2", PAPERS[2])),  # after it: too late
        ],
    )
    assert [r["progress"]["status"] for r in results[:4]] == [
        "entering",
        "entering",
        "entering",
        "reconciled",
    ]
    assert results[4]["progress"]["pass_a"] == 1
    assert code(results[5]) == "batch_not_entering"
    assert [(p["pass_a"], p["pass_b"], p["status"]) for p in batch_progress(api, c)] == [
        (2, 2, "reconciled"),
        (1, 0, "entering"),
    ]
    assert chain_problems(app, c) == []


def test_a_group_costs_the_same_statements_for_two_papers_or_eight(
    api: Api,
    settings: Settings,
    app: FastAPI,
    statements: Statements,  # noqa: F811
) -> None:
    engine, c, batch = postgresql_batch(
        api, settings, app, why="entries are entered together on PostgreSQL only", papers=8
    )
    a = c.tellers[0]
    sent: list[list[str]] = []
    for size, tag in ((2, "x"), (8 - 2, "y")):
        statements.sent.clear()
        group = [entry(settings, a, batch, paper(c, f"{tag}{n}", PAPERS[0])) for n in range(size)]
        enter_as_one_group(engine, group)
        sent.append(statements.verbs())
    # The holder's group (the pool's liveness check as the committer takes its connection, the
    # holder's savepoint), then the bulk, its group's only job: the same statements for 2 or 6.
    expected = ["; (pool_pre_ping)", "SAVEPOINT", *BULK]
    assert sent == [expected, expected]
    assert [(p["pass_a"], p["status"]) for p in batch_progress(api, c)] == [(8, "entering")]
    assert chain_problems(app, c) == []


def test_a_group_of_entries_wakes_the_live_streams_once(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    # Every event's pg_notify names only its congress, and PostgreSQL delivers a transaction's
    # identical notifications once: the LISTEN connection of each worker wakes once a group.
    engine, c, batch = postgresql_batch(
        api,
        settings,
        app,
        why="SQLite wakes the streams in the process, once a group (test_groupcommit.py)",
        papers=8,
    )
    a = c.tellers[0]
    url = engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as listener:
        listener.execute(f"LISTEN {signal.CHANNEL}")
        group = [entry(settings, a, batch, paper(c, f"n{n}", PAPERS[0])) for n in range(3)]
        answers = enter_as_one_group(engine, group)
        assert [answer["progress"]["pass_a"] for answer in answers] == [1, 2, 3]
        heard = [n.payload for n in listener.notifies(timeout=1.0)]
    assert heard == [str(c.ready.congress.id)]


def test_a_group_insert_is_one_statement_whatever_its_size() -> None:
    # The rows and the events as one JSON array each: the same short statement for 1 or 32
    # entries, which psycopg converts once (it caches statements of at most 50 parameters) and
    # PostgreSQL prepares once. Each value is read as its column's type, length included (a cast
    # to VARCHAR(n) would cut a longer value short); a time is written as the instant it is.
    names = tuple(_INSERT_ENTRY.compile().params)
    compiled = store._along(_INSERT_ENTRY, names)._compile(postgresql.psycopg.dialect())
    assert len(compiled.sql.split("%(")) - 1 <= 50
    assert "VARCHAR(" not in compiled.sql
    beijing = datetime(2026, 11, 25, 20, 0, tzinfo=timezone(timedelta(hours=8)))
    written = json.loads(store._json_rows([{"entered_at": beijing, "rule": None}]))
    assert written == [{"entered_at": "2026-11-25T20:00:00+08:00", "rule": None}]
    assert datetime.fromisoformat(written[0]["entered_at"]) == datetime(
        2026, 11, 25, 12, 0, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="naive"):
        store._json_rows([{"entered_at": beijing.replace(tzinfo=None)}])


def postgresql_batch(
    api: Api, settings: Settings, app: FastAPI, *, why: str, papers: int = 4
) -> tuple[Engine, Counting, int]:
    """For a test of PostgreSQL's own path (skipped on SQLite, ``why``): the engine, a round to
    count and a batch of ``papers`` papers in it."""
    engine: Engine = app.state.engine
    if engine.dialect.name != "postgresql":
        pytest.skip(why)
    c = counting(api, settings)
    return engine, c, make_batch(c, papers)["id"]


def test_a_value_too_long_for_its_column_is_refused_not_cut(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    engine, c, batch = postgresql_batch(
        api, settings, app, why="the multi-row insert is PostgreSQL's"
    )
    congress_id = c.ready.congress.id
    with Session(engine) as session:
        head = store._head(session, congress_id)
        event = store.chained(congress_id, head, "paper.entered", {}, "teller", None)
        row = {
            "id": "0" * 36,
            "batch_id": batch,
            "entry_pass": "a",
            "generation": 1,
            "idempotency_key": "k" * 101,  # the column holds 100
            "request_hash": "h" * 64,
            "record": "{}",
            "status": "valid",
            "rule": None,
            "answer": "{}",
            "entered_at": datetime.now(UTC),
        }
        with pytest.raises(DataError):
            store.append_along(session, _INSERT_ENTRY, [(row, event)])
        session.rollback()
        assert session.scalars(select(models.PaperEntry)).all() == []


def submitted_together(
    committer: GroupCommitter, entries: list[Any], bulk: Any = None
) -> list[Any]:
    """The entries queued straight from a loop, with no holder job before them (as
    ``run_as_one_group`` has): the group is the bulk alone, which sends its writes with the
    COMMIT. Each one's answer (JSON) or refusal."""

    async def submitted() -> list[Any]:
        return await asyncio.gather(
            *(
                committer.run(e.work, bulk=bulk or counting_router._enter_all, item=e)
                for e in entries
            ),
            return_exceptions=True,
        )

    return [json.loads(r) if isinstance(r, bytes) else r for r in asyncio.run(submitted())]


def test_a_bulk_on_a_connection_lost_between_groups_runs_again(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    # A group that starts with a bulk sends its reads together in one query string; if the
    # connection the committer kept was lost meanwhile (a server restart), the group still runs
    # again on a new one (test_groupcommit.py has the same for single jobs).
    engine, c, batch = postgresql_batch(api, settings, app, why="a PostgreSQL backend to terminate")
    a = c.tellers[0]
    committer = GroupCommitter(engine, inline=False, idle_seconds=60)
    try:

        def group(*keys: str) -> list[Any]:
            # The first use of the lost connection is for the bulk's reads.
            entries = [entry(settings, a, batch, paper(c, key, PAPERS[0])) for key in keys]
            return submitted_together(committer, entries)

        assert [r["progress"]["pass_a"] for r in group("k1")] == [1]
        with Session(engine) as session:
            ended = session.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            ).scalar_one()
            assert ended >= 1
        time.sleep(0.5)  # the server ends them
        assert [r["progress"]["pass_a"] for r in group("k2", "k3")] == [2, 3]
    finally:
        committer.close()
    assert [(p["pass_a"], p["status"]) for p in batch_progress(api, c)] == [(3, "entering")]
    assert chain_problems(app, c) == []


def test_a_retried_key_refused_with_the_commit_runs_the_group_again_alone(
    api: Api,
    settings: Settings,
    app: FastAPI,
    statements: Statements,  # noqa: F811
) -> None:
    # The bulk does not look for keys entered before it: the entry's UNIQUE key refuses its
    # insert, sent with the COMMIT. The COMMIT never ran, so nothing of the group is stored, and
    # the group runs again, each entry alone: the retry gets its first answer.
    engine, c, batch = postgresql_batch(
        api, settings, app, why="a bulk's writes go with the COMMIT on PostgreSQL only"
    )
    a = c.tellers[0]
    body = paper(c, "a-0", PAPERS[0])
    before = expect(a.post(f"/api/batches/{batch}/papers", json=body), 201)
    statements.sent.clear()
    committer = GroupCommitter(engine, inline=False)
    try:
        results = submitted_together(
            committer,
            [
                entry(settings, a, batch, paper(c, "a-1", PAPERS[1])),
                entry(settings, a, batch, body),
            ],
        )
    finally:
        committer.close()
    assert results[0]["progress"]["pass_a"] == 2
    assert results[1] == before
    verbs = statements.verbs()
    refused = verbs.index("COMMIT")  # the first group: the writes and the COMMIT, refused
    assert verbs[refused - 2 : refused + 2] == [TOGETHER, ALONG, "COMMIT", TOGETHER_END], verbs
    assert "SAVEPOINT" in verbs[refused:]  # then each entry alone
    assert [p["pass_a"] for p in batch_progress(api, c)] == [2]
    assert chain_problems(app, c) == []


def test_a_connection_lost_before_the_commit_fails_the_group_as_unknown(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    # Lost while the writes and the COMMIT are sent: whether they took effect is unknown, so
    # nothing is run again, and every entry is answered as the database unavailable (503; the
    # tablets send again with the same keys). The next group runs on a new connection.
    engine, c, batch = postgresql_batch(api, settings, app, why="a PostgreSQL backend to terminate")
    a = c.tellers[0]

    def then_lost(session: Session, items: list[Any]) -> list[Any]:
        outcomes = counting_router._enter_all(session, items)
        pid = session.connection().connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
        with Session(engine) as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return outcomes

    committer = GroupCommitter(engine, inline=False)
    try:
        entries = [entry(settings, a, batch, paper(c, k, PAPERS[0])) for k in ("k1", "k2")]
        lost = submitted_together(committer, entries, then_lost)
        assert all(isinstance(r, OperationalError) for r in lost), lost
        assert [p["pass_a"] for p in batch_progress(api, c)] == [0]
        again = submitted_together(committer, entries)
    finally:
        committer.close()
    assert [r["progress"]["pass_a"] for r in again] == [1, 2]
    assert chain_problems(app, c) == []


def test_the_reads_sent_together_see_what_their_lock_waited_for(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    # The chain lock and the batches' read go in one query string: the read takes its snapshot
    # after the lock is granted, so it sees the head that the writer holding the lock committed
    # (one statement for both would read the head as it was before the wait).
    engine, c, batch = postgresql_batch(
        api, settings, app, why="the reads are sent together on PostgreSQL only"
    )
    congress_id = c.ready.congress.id
    batch_ids = {"batch_ids": [batch]}
    read: list[Any] = []

    def reader() -> None:
        with Session(engine) as session:
            _, contexts = rows_together(
                session, [(_LOCK_CHAINS, batch_ids), (_CONTEXTS, batch_ids)]
            )
            read.extend(contexts)

    with Session(engine) as holder:
        appended = store.append_event(
            holder, congress_id=congress_id, type="test.held", payload={}, actor_role="admin"
        )
        head = (appended.height, appended.hash)
        waiting = threading.Thread(target=reader)
        waiting.start()
        time.sleep(0.3)
        assert waiting.is_alive()  # it waits for the chain lock
        holder.commit()
    waiting.join(10)
    assert [(row.head_height, row.head_hash) for row in read] == [head]
