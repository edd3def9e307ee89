"""The group committer (``app.groupcommit``): waiting jobs share one transaction and one COMMIT,
each in a savepoint of its own; a failing job stores nothing and spares the others; a failed
COMMIT fails every job; nobody is answered, and no live stream woken, before the COMMIT.

Each test runs the committer both ways: on its thread (PostgreSQL's way; also on SQLite) and on
the event loop (SQLite's way)."""

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app import models
from app.groupcommit import ALONE, Bulk, GroupCommitter
from app.ledger import notify as signal


def add_congress(name: str, *, fail: bool = False) -> Callable[[Session], int]:
    def work(session: Session) -> int:
        congress = models.Congress(name=name, delegates_total=10)
        session.add(congress)
        session.flush()
        if fail:
            raise ValueError(f"{name} refused after writing")
        return congress.id

    return work


def names(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(models.Congress.name)))


@pytest.fixture(params=["thread", "inline"])
def committer(request: pytest.FixtureRequest, app: FastAPI) -> GroupCommitter:
    engine: Engine = app.state.engine
    inline = request.param == "inline"
    if inline and engine.dialect.name != "sqlite":
        pytest.skip("jobs run on the event loop only on SQLite")
    return GroupCommitter(engine, inline=inline)


def run_as_one_group(
    committer: GroupCommitter,
    works: list[Callable[[Session], Any]],
    bulk: Bulk | None = None,
    items: list[Any] | None = None,
) -> list[Any]:
    """Runs ``works`` as one group; returns each job's value or exception. ``bulk``: every job
    may also run in it, as its item of ``items``.

    On the loop: all are queued in one turn of the loop, before the group opens. On the thread: a
    first job holds the committer until every job of ``works`` is waiting."""

    async def on_the_loop() -> list[Any]:
        return await asyncio.gather(*submitted(), return_exceptions=True)

    def submitted() -> list["asyncio.Future[Any]"]:
        found = items or [None] * len(works)
        return [
            asyncio.ensure_future(committer.run(work, bulk=bulk, item=item))
            for work, item in zip(works, found, strict=True)
        ]

    started, release = threading.Event(), threading.Event()

    def holder(_session: Session) -> str:
        started.set()
        release.wait(10)
        return "held"

    async def on_the_thread() -> list[Any]:
        first = asyncio.ensure_future(committer.run(holder))
        assert await asyncio.to_thread(started.wait, 10)
        tasks = submitted()
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in tasks)
        release.set()
        assert await first == "held"
        return await asyncio.gather(*tasks, return_exceptions=True)

    groups_before = committer.groups
    results = asyncio.run(on_the_loop() if committer.inline else on_the_thread())
    held = 0 if committer.inline else 1
    if not any(isinstance(r, OperationalError) for r in results):  # a broken group counts none
        assert committer.groups == groups_before + held + 1, "not one group"
    return results


def test_waiting_jobs_share_one_commit(committer: GroupCommitter) -> None:
    engine = committer.engine
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "commit", count)
    try:
        results = run_as_one_group(committer, [add_congress(f"c{i:02d}") for i in range(12)])
    finally:
        event.remove(engine, "commit", count)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 12
    held = 0 if committer.inline else 1  # the holder's group first
    assert (committer.groups, committer.jobs_done) == (held + 1, held + 12)
    assert len(commits) == held + 1
    assert names(engine) == [f"c{i:02d}" for i in range(12)]


def test_a_failing_job_stores_nothing_and_spares_the_others(committer: GroupCommitter) -> None:
    engine = committer.engine
    works = [add_congress("a"), add_congress("b", fail=True), add_congress("c")]
    results = run_as_one_group(committer, works)
    assert isinstance(results[0], int)
    assert isinstance(results[2], int)
    assert isinstance(results[1], ValueError)
    assert "b refused" in str(results[1])
    assert names(engine) == ["a", "c"]


def test_a_failed_commit_fails_every_job_and_stores_nothing(committer: GroupCommitter) -> None:
    engine = committer.engine
    failing = {"on": False}

    def refuse_commit(_connection: Any) -> None:
        if failing["on"]:
            raise OperationalError("COMMIT", None, Exception("disk I/O error"))

    def arm(_session: Session) -> str:
        failing["on"] = True
        return "armed"

    event.listen(engine, "commit", refuse_commit)
    try:
        results = run_as_one_group(committer, [add_congress("x"), arm, add_congress("y")])
    finally:
        event.remove(engine, "commit", refuse_commit)
    assert all(isinstance(r, OperationalError) for r in results), results
    assert names(engine) == []


def test_live_streams_are_woken_after_the_commit(
    committer: GroupCommitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    if committer.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL wakes through pg_notify, delivered by the COMMIT itself")
    woken: list[tuple[set[int], int]] = []

    def wake_local(woken_engine: Engine, congresses: set[int]) -> None:
        with Session(woken_engine) as other:  # another connection: sees only committed rows
            woken.append((set(congresses), other.scalar(select(func.count(models.Congress.id)))))

    monkeypatch.setattr(signal, "wake_local", wake_local)

    def appending(name: str, congress_id: int) -> Callable[[Session], int]:
        def work(session: Session) -> int:
            value = add_congress(name)(session)
            signal.appended(session, congress_id=congress_id)
            return value

        return work

    results = run_as_one_group(committer, [appending("p", 7), appending("q", 8)])
    assert all(isinstance(r, int) for r in results)
    assert woken == [({7, 8}, 2)]  # once, for both, with both rows already committed


def test_the_thread_ends_when_idle_and_comes_back(app: FastAPI) -> None:
    committer = GroupCommitter(app.state.engine, inline=False, idle_seconds=0.05)

    def alive() -> bool:
        return any(t.name == "jipiao-group-commit" and t.is_alive() for t in threading.enumerate())

    assert asyncio.run(committer.run(add_congress("one"))) > 0
    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive()
    assert asyncio.run(committer.run(add_congress("two"))) > 0
    assert names(app.state.engine) == ["one", "two"]


def test_a_job_whose_orm_flush_fails_fails_its_group_safely(committer: GroupCommitter) -> None:
    # The session's own rollback after a failed flush ends the group's transaction (the session
    # joins it "rollback_only"): the group's next savepoint command fails, so every job of the
    # group is answered with an error and nothing of it is stored (tablets retry their keys).
    engine = committer.engine

    def violating(session: Session) -> int:
        session.add(models.Congress(name="zero", delegates_total=0))  # CHECK delegates_total > 0
        return 0  # the flush happens at the job's commit, and fails there

    works = [add_congress("a"), violating, add_congress("c")]
    results = run_as_one_group(committer, works)
    assert isinstance(results[1], IntegrityError)  # 409 for the job itself
    assert isinstance(results[0], OperationalError)  # 503 (nothing saved, try again) for the rest
    assert isinstance(results[2], OperationalError)
    assert names(engine) == []
    assert asyncio.run(committer.run(add_congress("after"))) > 0  # nothing stuck
    assert names(engine) == ["after"]


def test_on_the_loop_the_write_lock_is_awaited_off_the_loop(app: FastAPI) -> None:
    # Another thread's transaction holds SQLite's write lock for a while: the group's BEGIN waits
    # in a worker thread, and the event loop goes on serving meanwhile.
    engine: Engine = app.state.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("jobs run on the event loop only on SQLite")
    committer = GroupCommitter(engine, inline=True)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with engine.connect() as connection, connection.begin():
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert locked.wait(10)

    async def scenario() -> tuple[int, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        job = asyncio.ensure_future(committer.run(add_congress("waited")))
        await asyncio.sleep(0.3)
        assert not job.done()  # still waiting for the lock
        release.set()
        value = await job
        ticker.cancel()
        return ticks, value

    try:
        ticks, value = asyncio.run(scenario())
    finally:
        release.set()
        holder.join()
    assert ticks >= 10  # the loop ran its other task all along (30 ticks if never blocked)
    assert value > 0
    assert names(engine) == ["waited"]


def bulk_of_congresses(*, broken_by: str | None = None) -> Bulk:
    """A bulk that adds a congress "bulk:<item>" per item, leaves items "alone…" to their own
    work, refuses items "refused…", and raises at ``broken_by`` (after adding the ones before)."""

    def bulk(session: Session, items: list[str]) -> list[Any]:
        outcomes: list[Any] = []
        for item in items:
            if item == broken_by:
                raise ValueError("the bulk broke")
            if item.startswith("alone"):
                outcomes.append(ALONE)
            elif item.startswith("refused"):
                outcomes.append(ValueError(item))
            else:
                congress = models.Congress(name=f"bulk:{item}", delegates_total=10)
                session.add(congress)
                session.flush()
                outcomes.append(congress.id)
        return outcomes

    return bulk


def test_a_bulk_runs_its_jobs_together_and_leaves_some_alone(app: FastAPI) -> None:
    committer = GroupCommitter(app.state.engine, inline=False)
    items = ["a", "alone-b", "refused-c", "d"]
    try:
        results = run_as_one_group(
            committer, [add_congress(i) for i in items], bulk_of_congresses(), items
        )
    finally:
        committer.close()
    assert isinstance(results[0], int)
    assert isinstance(results[1], int)
    assert isinstance(results[2], ValueError)
    assert isinstance(results[3], int)
    assert names(committer.engine) == ["alone-b", "bulk:a", "bulk:d"]


@pytest.mark.parametrize("after_a_job", [False, True])
def test_a_failing_bulk_stores_nothing_and_its_jobs_run_alone(
    app: FastAPI, after_a_job: bool
) -> None:
    """First in its group, the bulk has no savepoint: the group runs again, every job alone.
    After another job, its savepoint is rolled back: that job's work is kept."""
    committer = GroupCommitter(app.state.engine, inline=False)
    items = ["a", "b", "c"]
    works = [add_congress(i) for i in items]
    if after_a_job:
        items, works = ["alone-plain", *items], [add_congress("plain"), *works]
    try:
        results = run_as_one_group(committer, works, bulk_of_congresses(broken_by="b"), items)
    finally:
        committer.close()
    assert all(isinstance(r, int) for r in results), results
    assert names(committer.engine) == ["a", "b", "c", *(["plain"] if after_a_job else [])]


def test_closing_ends_the_thread_and_gives_back_its_connection(app: FastAPI) -> None:
    engine: Engine = app.state.engine
    committer = GroupCommitter(engine, inline=False, idle_seconds=60)
    assert run_as_one_group(committer, [add_congress("x")])[0] > 0
    thread = committer._thread
    assert thread is not None
    assert thread.is_alive()
    assert engine.pool.checkedout() == 1  # kept between groups
    committer.close()
    assert not thread.is_alive()
    assert engine.pool.checkedout() == 0
    assert run_as_one_group(committer, [add_congress("y")])[0] > 0  # a new job: a new thread
    committer.close()
    assert names(engine) == ["x", "y"]


def test_a_lost_connection_between_groups_fails_no_job(app: FastAPI) -> None:
    """The committer keeps its connection between groups; if the server drops it meanwhile (a
    restart), the next group runs again on a new one instead of answering 503."""
    engine: Engine = app.state.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL backend to terminate")
    committer = GroupCommitter(engine, inline=False, idle_seconds=60)

    def backend_pid(session: Session) -> int:
        pid: int = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        return pid

    try:
        (first,) = run_as_one_group(committer, [backend_pid])
        with engine.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar()
        deadline = time.monotonic() + 10
        with engine.connect() as other:  # until the server has ended that backend
            while other.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": first}
            ).scalar():
                assert time.monotonic() < deadline
                time.sleep(0.05)
        second, added = run_as_one_group(committer, [backend_pid, add_congress("after")])
    finally:
        committer.close()
    assert isinstance(second, int), second
    assert second != first
    assert isinstance(added, int), added
    assert names(engine) == ["after"]


def one(_session: Session) -> int:
    return 1


def gathering(app: FastAPI, *, gather: float = 0.5, busy_gap: float = 5.0) -> GroupCommitter:
    """A committer on its thread whose gathering is long enough to see (module docstring)."""
    return GroupCommitter(
        app.state.engine, inline=False, gather_seconds=gather, busy_gap_seconds=busy_gap
    )


async def busy(committer: GroupCommitter, *callers: str) -> None:
    """Each caller sends twice, back to back: busy, and answered last."""
    for _ in range(2):
        await asyncio.gather(*(committer.run(one, caller=caller) for caller in callers))


async def timed(committer: GroupCommitter, caller: str, *, after: float = 0.0) -> float:
    await asyncio.sleep(after)
    started = time.monotonic()
    assert await committer.run(one, caller=caller) == 1
    return time.monotonic() - started


def test_busy_callers_answered_together_are_waited_for_and_run_together(app: FastAPI) -> None:
    committer = gathering(app)

    async def scenario() -> int:
        await busy(committer, "a", "b")
        before = committer.groups
        await asyncio.gather(timed(committer, "a"), timed(committer, "b", after=0.1))
        return committer.groups - before

    try:
        groups = asyncio.run(scenario())
    finally:
        committer.close()
    assert groups == 1  # a's job waited for b's, 0.1 s later


def test_a_busy_caller_that_does_not_come_back_delays_a_group_by_the_gathering_at_most(
    app: FastAPI,
) -> None:
    committer = gathering(app, gather=0.3)

    async def scenario() -> float:
        await busy(committer, "a", "b")
        return await timed(committer, "a")

    try:
        waited = asyncio.run(scenario())
    finally:
        committer.close()
    assert 0.2 < waited < 0.3 + 0.5, waited


def test_a_caller_at_a_persons_pace_is_never_waited_for(app: FastAPI) -> None:
    committer = gathering(app, busy_gap=0.2)

    async def scenario() -> float:
        await committer.run(one, caller="a")
        await timed(committer, "a", after=0.3)  # a paper every 0.3 s: not busy
        return await timed(committer, "b")

    try:
        waited = asyncio.run(scenario())
    finally:
        committer.close()
    assert waited < 0.25, waited  # a 0.5 s gathering would show
