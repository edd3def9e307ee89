"""Paper entries that wait together are entered together (``app.counting.entry``): every answer,
refusal and stored row is what entering them one at a time, in the same order, gives; a group
that fails stores nothing and its papers are entered alone; nobody is answered before the
COMMIT; two groups sharing congresses queue for their chain locks, never deadlock."""

import asyncio
import contextlib
import json
import threading
import time
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import models
from app.counting import entry as entry_module
from app.counting.entry import EntryQueue, EntryRequest, enter_group
from app.ledger import notify, store
from app.settings import Settings
from tests.builders import (
    PAPERS,
    Api,
    Counting,
    answers,
    batch_progress,
    chain_problems,
    code,
    counting,
    enter_as_one_group,
    entry,
    expect,
    make_batch,
    paper,
    run_coroutine,
)


def event_types(api: Api, c: Counting) -> list[str]:
    events = expect(api.get(f"/api/congresses/{c.ready.congress.id}/events"), 200)
    return [e["type"] for e in events]


def stored(app: FastAPI) -> tuple[int, int]:
    """How many paper entries, and ``paper.entered`` events, are stored."""
    with Session(app.state.engine) as session:
        entries = session.scalar(select(func.count()).select_from(models.PaperEntry))
        events = session.scalar(select(func.count()).where(models.Event.type == "paper.entered"))
    return int(entries or 0), int(events or 0)


def test_a_group_of_entries_is_entered_as_one_at_a_time_would_be(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)["id"]
    a, b, stranger = c.tellers
    first = paper(c, "a-0", PAPERS[0])
    results = enter_as_one_group(
        app,
        settings,
        [
            entry(a, batch, first),
            entry(b, batch, paper(c, "b-0", PAPERS[1])),
            entry(stranger, batch, paper(c, "s-0", PAPERS[0])),
            entry(a, batch, paper(c, "a-1", PAPERS[1])),
            entry(a, batch, first),  # a retry while the first one waits
            entry(a, batch, paper(c, "a-0", PAPERS[2])),  # its key, another paper
            entry(api.as_token("no-such-session"), batch, first),
            entry(a, batch, {"idempotency_key": "x"}),  # no marks: 422
            entry(a, batch + 1000, paper(c, "a-2", PAPERS[0])),
            entry(a, batch, paper(c, "a-2", PAPERS[3], void="P4")),
            entry(c.scrutineer, batch, paper(c, "x-0", PAPERS[0])),  # may not enter papers
        ],
    )
    entered, other, refused, second, again, reused, unknown, invalid, missing, void, role = results
    assert [r["progress"]["pass_a"] for r in (entered, second, void)] == [1, 2, 3]
    assert (other["pass"], other["progress"]["pass_b"]) == ("b", 1)
    assert again == entered
    assert (entered["status"], void["status"], void["rule"]) == ("valid", "invalid", "P4")
    assert code(refused) == "not_assigned_to_batch"
    assert code(reused) == "idempotency_key_reused"
    assert code(unknown) == "invalid_session"
    assert isinstance(invalid, RequestValidationError)
    assert code(missing) == "batch_not_found"
    assert code(role) == "forbidden"
    assert [(p["pass_a"], p["pass_b"], p["status"]) for p in batch_progress(api, c)] == [
        (3, 1, "entering")
    ]
    assert event_types(api, c).count("paper.entered") == 4
    assert stored(app) == (4, 4)
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
        app,
        settings,
        [
            entry(a, batch, paper(c, "a-1", PAPERS[1])),
            entry(a, batch, body),  # the response was lost: the tablet sends again
            entry(a, batch, paper(c, "a-0", PAPERS[2])),
        ],
    )
    assert results[0]["progress"]["pass_a"] == 2
    assert results[1] == before
    assert code(results[2]) == "idempotency_key_reused"
    assert [p["pass_a"] for p in batch_progress(api, c)] == [2]
    assert stored(app) == (2, 2)
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
        app,
        settings,
        [
            entry(b, done, last),
            entry(a, half, half_last),
            entry(b, done, paper(c, "b-1", PAPERS[1])),
            entry(a, half, paper(c, "h-1", PAPERS[2])),
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
    first, second, _untouched = (make_batch(c, 2)["id"] for _ in range(3))
    a, b, _ = c.tellers
    results = enter_as_one_group(
        app,
        settings,
        [
            entry(a, first, paper(c, "a-0", PAPERS[0])),
            entry(a, first, paper(c, "a-1", PAPERS[1])),
            entry(b, first, paper(c, "b-0", PAPERS[1])),
            entry(b, first, paper(c, "b-1", PAPERS[0])),  # completes the batch: reconciled
            entry(a, second, paper(c, "a-0", PAPERS[2])),
            entry(a, first, paper(c, "a-2", PAPERS[2])),  # after it: too late
            entry(a, second, paper(c, "a-1", PAPERS[2])),
            entry(b, second, paper(c, "b-0", PAPERS[2])),
            entry(b, second, paper(c, "b-1", PAPERS[1])),  # completes it: a discrepancy
        ],
    )
    statuses = [r["progress"]["status"] if isinstance(r, dict) else code(r) for r in results]
    assert statuses == [
        *["entering"] * 3,
        "reconciled",
        "entering",
        "batch_not_entering",
        *["entering"] * 2,
        "discrepancy",
    ]
    assert [(p["pass_a"], p["pass_b"], p["status"]) for p in batch_progress(api, c)] == [
        (2, 2, "reconciled"),
        (2, 2, "discrepancy"),
        (0, 0, "entering"),
    ]
    types = event_types(api, c)
    compared = types[types.index("paper.entered") :]
    assert compared == [
        *["paper.entered"] * 4,
        "batch.reconciled",
        *["paper.entered"] * 4,
        "batch.discrepancy",
    ]
    # Answered as stored: a retry of the completing paper gets the reconciled answer again.
    again = enter_as_one_group(app, settings, [entry(b, first, paper(c, "b-1", PAPERS[0]))])
    assert again == [results[3]]
    queue = expect(c.scrutineer.get(f"/api/rounds/{c.round_id}/adjudication"), 200)
    (disputed,) = queue["batches"]
    assert (disputed["batch_id"], disputed["records_needed"]) == (second, 1)
    assert chain_problems(app, c) == []


def test_a_group_that_fails_is_entered_paper_by_paper(
    api: Api, settings: Settings, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)["id"]
    a = c.tellers[0]
    sizes: list[int] = []
    real = entry_module.enter_papers

    def failing_groups(session: Session, requests: Any, **kwargs: Any) -> Any:
        sizes.append(len(requests))
        found = real(session, requests, **kwargs)
        if len(requests) > 1:  # after its writes: they are rolled back with the group
            raise OperationalError("a group", None, Exception("the connection was lost"))
        return found

    monkeypatch.setattr(entry_module, "enter_papers", failing_groups)
    requests = [
        entry(a, batch, paper(c, "a-0", PAPERS[0])),
        entry(a, batch, paper(c, "a-1", PAPERS[1]) | {"marks": {"王宁": "maybe"}}),  # 422 alone too
        entry(a, batch, paper(c, "a-2", PAPERS[2])),
    ]
    results = answers(enter_group(app.state.sessionmaker, requests, data_dir=settings.data_dir))
    assert sizes == [3, 1, 1, 1]
    assert [r["progress"]["pass_a"] for r in (results[0], results[2])] == [1, 2]
    assert isinstance(results[1], RequestValidationError)
    assert stored(app) == (2, 2)
    assert chain_problems(app, c) == []


def test_a_write_that_fails_stores_nothing_of_the_group(
    api: Api, settings: Settings, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The entries are written, then appending their events fails: nothing is half-written, and
    # each paper (alone, failing again) is answered with the failure.
    c = counting(api, settings)
    batch = make_batch(c, 4)["id"]
    a = c.tellers[0]

    def broken(_session: Session, _events: Any, **_: Any) -> None:
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr(store, "append_chained", broken)
    requests = [entry(a, batch, paper(c, f"a-{n}", PAPERS[n])) for n in range(2)]
    results = enter_group(app.state.sessionmaker, requests, data_dir=settings.data_dir)
    assert all(isinstance(r, RuntimeError) for r in results), results
    assert stored(app) == (0, 0)
    monkeypatch.undo()
    results = answers(enter_group(app.state.sessionmaker, requests, data_dir=settings.data_dir))
    assert [r["progress"]["pass_a"] for r in results] == [1, 2]


def test_a_failed_commit_answers_nothing_saved_and_the_same_keys_enter_later(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)["id"]
    a = c.tellers[0]
    engine: Engine = app.state.engine

    def refuse_commit(_connection: Any) -> None:
        raise OperationalError("COMMIT", None, Exception("disk I/O error"))

    requests = [entry(a, batch, paper(c, f"a-{n}", PAPERS[n])) for n in range(2)]
    event.listen(engine, "commit", refuse_commit)
    try:
        results = enter_group(app.state.sessionmaker, requests, data_dir=settings.data_dir)
    finally:
        event.remove(engine, "commit", refuse_commit)
    assert all(isinstance(r, OperationalError) for r in results), results  # 503
    assert stored(app) == (0, 0)
    results = answers(enter_group(app.state.sessionmaker, requests, data_dir=settings.data_dir))
    assert [r["progress"]["pass_a"] for r in results] == [1, 2]


class Deadlock(Exception):
    sqlstate = "40P01"


def test_a_deadlock_is_tried_again_not_answered_as_a_failure(
    api: Api, settings: Settings, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)["id"]
    a = c.tellers[0]
    real = entry_module.enter_papers
    calls: list[int] = []

    def deadlocked_twice(session: Session, requests: Any, **kwargs: Any) -> Any:
        calls.append(len(requests))
        found = real(session, requests, **kwargs)
        if len(calls) <= 2:
            raise OperationalError("SELECT pg_advisory_xact_lock", None, Deadlock())
        return found

    monkeypatch.setattr(entry_module, "enter_papers", deadlocked_twice)
    body = paper(c, "a-0", PAPERS[0])
    answer = expect(a.post(f"/api/batches/{batch}/papers", json=body), 201)
    assert calls == [1, 1, 1]
    assert answer["progress"]["pass_a"] == 1
    assert stored(app) == (1, 1)


def test_two_groups_sharing_congresses_take_their_locks_in_one_order(
    api: Api, settings: Settings, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two writers (two app instances) enter papers of the same two congresses, in opposite
    # orders. Each group takes both chain locks up front, lowest congress first: the second
    # waits for the first, and neither deadlocks. A group that locked each paper's congress as
    # it came to it would hold one lock while waiting for the other: PostgreSQL ends one of them
    # (40P01) once both have entered their first paper, which the barrier makes sure of.
    engine: Engine = app.state.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no lock order to get wrong")
    x, y = counting(api, settings), counting(api, settings)
    batch_x, batch_y = make_batch(x, 4)["id"], make_batch(y, 4)["id"]
    barrier = threading.Barrier(2, timeout=1.0)
    real = entry_module._check_code

    def both_deciding(*args: Any) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):  # the other waits for a lock
            barrier.wait()
        real(*args)

    monkeypatch.setattr(entry_module, "_check_code", both_deciding)
    groups = {
        "xy": [
            entry(x.tellers[0], batch_x, paper(x, "xy-x", PAPERS[0])),
            entry(y.tellers[0], batch_y, paper(y, "xy-y", PAPERS[0])),
        ],
        "yx": [
            entry(y.tellers[0], batch_y, paper(y, "yx-y", PAPERS[1])),
            entry(x.tellers[0], batch_x, paper(x, "yx-x", PAPERS[1])),
        ],
    }
    outcomes: dict[str, Any] = {}

    def writer(name: str) -> None:
        try:
            outcomes[name] = enter_as_one_group(app, settings, groups[name])
        except Exception as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=writer, args=(name,)) for name in groups]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not isinstance(outcomes["xy"], Exception), outcomes["xy"]
    assert not isinstance(outcomes["yx"], Exception), outcomes["yx"]
    entered = sorted(r["progress"]["pass_a"] for name in groups for r in outcomes[name])
    assert entered == [1, 1, 2, 2]
    assert chain_problems(app, x) == chain_problems(app, y) == []


def test_waiting_papers_share_one_group_and_one_commit(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 8)["id"]
    a = c.tellers[0]
    engine: Engine = app.state.engine
    queue = EntryQueue(app.state.sessionmaker, settings.data_dir)
    holding, release = threading.Event(), threading.Event()
    first = entry(a, batch, paper(c, "a-0", PAPERS[0]))

    def held() -> Any:  # read on the writer thread: it holds the writer until the rest wait
        holding.set()
        release.wait(10)
        return first.paper()

    commits: list[Any] = []

    def committed(connection: Any) -> None:
        commits.append(connection)

    event.listen(engine, "commit", committed)

    async def scenario() -> list[Any]:
        holder = asyncio.ensure_future(queue.enter(EntryRequest(first.token, batch, held)))
        assert await asyncio.to_thread(holding.wait, 10)
        rest = [
            asyncio.ensure_future(queue.enter(entry(a, batch, paper(c, f"a-{n}", PAPERS[0]))))
            for n in range(1, 6)
        ]
        await asyncio.sleep(0.1)
        assert not any(task.done() for task in rest)  # nobody answered before its COMMIT
        release.set()
        return [await holder, *await asyncio.gather(*rest)]

    try:
        results = answers(run_coroutine(scenario()))
    finally:
        event.remove(engine, "commit", committed)
        queue.close()
    assert [r["progress"]["pass_a"] for r in results] == [1, 2, 3, 4, 5, 6]
    assert (queue.groups, len(commits)) == (2, 2)


def test_papers_sent_as_a_group_is_answered_join_the_papers_waiting(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    """Tablets answered together send again a moment later: the writer waits for them before
    it takes the papers already waiting, so the next group holds both, not one each."""
    c = counting(api, settings)
    batch = make_batch(c, 8)["id"]
    a = c.tellers[0]
    queue = EntryQueue(app.state.sessionmaker, settings.data_dir, gather_seconds=0.5)
    holding, release = threading.Event(), threading.Event()
    first = entry(a, batch, paper(c, "a-0", PAPERS[0]))

    def held() -> Any:
        holding.set()
        release.wait(10)
        return first.paper()

    async def scenario() -> list[Any]:
        holder = asyncio.ensure_future(queue.enter(EntryRequest(first.token, batch, held)))
        assert await asyncio.to_thread(holding.wait, 10)
        waiting = asyncio.ensure_future(queue.enter(entry(a, batch, paper(c, "a-1", PAPERS[0]))))
        await asyncio.sleep(0.05)
        release.set()
        answered = await holder
        # sent once its answer is in, as the tablet that was answered would
        after = asyncio.ensure_future(queue.enter(entry(a, batch, paper(c, "a-2", PAPERS[0]))))
        return [answered, await waiting, await after]

    try:
        results = answers(run_coroutine(scenario()))
    finally:
        queue.close()
    assert [r["progress"]["pass_a"] for r in results] == [1, 2, 3]
    assert queue.groups == 2


def test_the_writer_ends_when_idle_and_comes_back(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)["id"]
    a = c.tellers[0]
    queue = EntryQueue(app.state.sessionmaker, settings.data_dir, idle_seconds=0.05)

    def alive() -> bool:
        return any(t.name == "jipiao-entry" and t.is_alive() for t in threading.enumerate())

    one = run_coroutine(queue.enter(entry(a, batch, paper(c, "a-0", PAPERS[0]))))
    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive()
    two = run_coroutine(queue.enter(entry(a, batch, paper(c, "a-1", PAPERS[0]))))
    queue.close()
    assert not alive()
    assert [json.loads(x)["progress"]["pass_a"] for x in (one, two)] == [1, 2]


def test_the_live_streams_are_woken_once_a_group_is_committed(
    api: Api, settings: Settings, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 8)["id"]
    a = c.tellers[0]
    engine: Engine = app.state.engine
    requests = [entry(a, batch, paper(c, f"n{n}", PAPERS[0])) for n in range(3)]
    if engine.dialect.name == "sqlite":  # woken in the process after the COMMIT
        woken: list[tuple[set[int], tuple[int, int]]] = []

        def wake_local(_engine: Engine, congresses: set[int]) -> None:
            woken.append((set(congresses), stored(app)))  # another connection: committed rows

        monkeypatch.setattr(notify, "wake_local", wake_local)
        enter_group(app.state.sessionmaker, requests, data_dir=settings.data_dir)
        assert woken == [({c.ready.congress.id}, (3, 3))]
        return
    # PostgreSQL: every event's pg_notify names only its congress, and PostgreSQL delivers a
    # transaction's identical notifications once, at its COMMIT.
    url = engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as listener:
        listener.execute(f"LISTEN {notify.CHANNEL}")
        found = answers(enter_group(app.state.sessionmaker, requests, data_dir=settings.data_dir))
        assert [answer["progress"]["pass_a"] for answer in found] == [1, 2, 3]
        heard = [n.payload for n in listener.notifies(timeout=1.0)]
    assert heard == [str(c.ready.congress.id)]


def test_the_writer_reconnects_after_its_connection_was_lost(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    # The writer holds one connection while it lives; the database restarting ends it. The next
    # group fails on it, and its papers, entered alone, reconnect: nobody is answered 503.
    engine: Engine = app.state.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's connection is a file: nothing ends it from outside")
    c = counting(api, settings)
    batch = make_batch(c, 8)["id"]
    a = c.tellers[0]
    queue = EntryQueue(app.state.sessionmaker, settings.data_dir)
    checked_out: list[int] = []  # the backends of the writer's connection (no request meanwhile)

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        checked_out.append(dbapi_connection.info.backend_pid)

    def enter(key: str) -> Any:
        return json.loads(run_coroutine(queue.enter(entry(a, batch, paper(c, key, PAPERS[0])))))

    event.listen(engine, "checkout", on_checkout)
    try:
        before = enter("a-0")
        (writer,) = set(checked_out)
        with engine.connect() as connection:
            assert connection.scalar(select(func.pg_terminate_backend(writer)))
        after = enter("a-1")  # a group of one: tried again, not answered with the lost connection
    finally:
        event.remove(engine, "checkout", on_checkout)
        queue.close()
    assert [x["progress"]["pass_a"] for x in (before, after)] == [1, 2]
    assert stored(app) == (2, 2)
