"""Group commit: short write transactions from the event loop, run in groups.

Paper entry is the hot path of a count: ten tablets each sending a paper every few seconds, and a
burst when Wi-Fi returns and the offline queues drain. Giving each entry a worker thread and a
transaction of its own made the threads queue for the one SQLite writer (and the chain lock on
PostgreSQL), hand the GIL to each other for every statement, and sync the disk once per paper:
more time went to the queueing than to the entry.

``GroupCommitter.run(work)`` queues ``work(session)``. The committer takes every job waiting (up
to ``max_group``), opens ONE transaction, runs each job in a SAVEPOINT of its own (a job sees the
jobs before it; the group's session is emptied between jobs, so a job's ORM state is its own),
and COMMITs once. Then every job is answered:

* a job that raised is answered with its exception; its savepoint was rolled back, so it stored
  nothing, and the jobs around it are not touched;
* a job that succeeded is answered with its value only after the COMMIT returned (durable, as
  with a transaction per request);
* if the BEGIN, a savepoint command or the COMMIT fails, nothing of the group is stored, and every
  job that had not failed by itself is answered with an ``OperationalError`` (503: nothing saved,
  try again; tablets retry with the same idempotency key and nothing is recorded twice). A job
  whose ORM flush fails is such a case: the session's own rollback after a failed flush ends the
  group's transaction (the session joins it "rollback_only"), and the savepoint command after it
  fails. Paper entry flushes through the ORM only when a batch completes.

Where the jobs run:

* **SQLite** (``inline``): on the event loop itself. A job's statements are work in this process
  (pages in memory), like parsing its JSON; handing each job to a thread cost more than the job
  (measured: 1.9 → 1.4 ms of CPU a paper). Only what waits goes to a worker thread, once a group:
  the BEGIN IMMEDIATE (it may wait for another thread's or process's write lock) and the COMMIT
  (the disk sync). Between two jobs the loop serves other requests, and entries arriving then
  join the open group.
* **PostgreSQL**: on one committer thread, since every statement is a round trip to the server.
  The thread starts on the first job and ends after ``idle_seconds`` without one, so an app that
  is never shut down (a test) leaves no thread behind.

Live streams are woken after the real COMMIT: the SQLite wake-ups a job gathers in the session
(``app.live.signal``) are taken after each job that succeeded and sent once the group is
committed; PostgreSQL's ``pg_notify`` is transactional by itself.
"""

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.live import signal

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class _Job:
    work: Callable[[Session], Any]
    loop: asyncio.AbstractEventLoop
    future: "asyncio.Future[Any]"
    value: Any = None
    error: BaseException | None = None


class _Group:
    """One group's transaction: its connection, its session, and a savepoint per job."""

    def __init__(self, connection: Connection, transaction: RootTransaction) -> None:
        self.connection, self.transaction = connection, transaction
        # Joined to the transaction without owning it ("rollback_only": a flush never commits;
        # it is never rolled back on purpose). Emptied after every job.
        self.session = Session(
            bind=connection,
            join_transaction_mode="rollback_only",
            expire_on_commit=False,
            autoflush=False,
        )
        # Savepoints on the DBAPI connection: SQLAlchemy's begin_nested() and a session per job
        # cost more than the entry's own statements.
        self.dbapi: Any = connection.connection.driver_connection
        # psycopg sends "a; b" without parameters in one round trip (sqlite3 refuses it, and has
        # no round trips to save). The COMMIT releases the last savepoint.
        self.one_trip = connection.dialect.name == "postgresql"
        self.savepoint = False  # one is open (the last job's)
        self.woken: set[int] = set()

    def run(self, job: _Job) -> None:
        if not self.savepoint:
            self.dbapi.execute("SAVEPOINT job")
            self.savepoint = True
        elif self.one_trip:
            self.dbapi.execute("RELEASE SAVEPOINT job; SAVEPOINT job")
        else:
            self.dbapi.execute("RELEASE SAVEPOINT job")
            self.dbapi.execute("SAVEPOINT job")
        try:
            job.value = job.work(self.session)
            self.session.flush()
        except Exception as exc:
            job.error = exc
            # If this fails, the group fails: nothing of it is committed.
            self.dbapi.execute("ROLLBACK TO SAVEPOINT job")
            signal.take_appended(self.session)  # its events are gone with it
        else:
            self.woken |= signal.take_appended(self.session)
        finally:
            self.session.expunge_all()

    def close(self) -> None:
        self.session.close()


@dataclass(eq=False)
class GroupCommitter:
    engine: Engine
    # None: on the event loop for SQLite, on the committer thread otherwise (module docstring).
    inline: bool | None = None
    max_group: int = 32
    idle_seconds: float = 5.0
    _jobs: deque[_Job] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Condition = field(init=False)
    _running: bool = False
    _task: "asyncio.Task[None] | None" = None
    groups: int = 0  # committed groups, for tests and benchmarks
    jobs_done: int = 0

    def __post_init__(self) -> None:
        self._wake = threading.Condition(self._lock)
        if self.inline is None:
            self.inline = self.engine.dialect.name == "sqlite"

    async def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a savepoint of the next group; its value once the group is
        committed, or its exception (or the group's) raised here."""
        loop = asyncio.get_running_loop()
        job = _Job(work, loop, loop.create_future())
        with self._lock:
            self._jobs.append(job)
            if not self._running:
                self._running = True
                if self.inline:
                    self._task = loop.create_task(self._drain())
                else:
                    threading.Thread(
                        target=self._serve, name="jipiao-group-commit", daemon=True
                    ).start()
            elif not self.inline:
                self._wake.notify()
        value: T = await job.future
        return value

    def _take(self, most: int) -> list[_Job]:
        with self._lock:
            return [self._jobs.popleft() for _ in range(min(len(self._jobs), most))]

    def _open(self) -> _Group:
        connection = self.engine.connect()
        try:
            return _Group(connection, connection.begin())
        except BaseException:
            connection.close()
            raise

    # ------------------------------------------------------------------ SQLite: on the loop

    async def _drain(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._jobs:
                        self._running = False
                        return
                group: list[_Job] = []
                try:
                    await self._inline_group(group)
                except Exception as exc:  # a bug of ours: answered, and the draining goes on
                    log.exception("group commit failed outside a job")
                    self._broken(group, exc)
                finally:
                    self._answer(group)
        except BaseException:  # the loop is shut down under it: the next job starts a new drain
            with self._lock:
                self._running = False
            raise

    async def _inline_group(self, group: list[_Job]) -> None:
        try:
            opened = await asyncio.to_thread(self._open)
        except Exception as exc:
            group.extend(self._take(self.max_group))
            self._broken(group, exc)
            return
        try:
            while len(group) < self.max_group:
                jobs = self._take(self.max_group - len(group))
                if not jobs:
                    break
                group.extend(jobs)  # all of them: answered even if the group breaks before one
                for job in jobs:
                    opened.run(job)
                    await asyncio.sleep(0)  # other requests meanwhile; new entries join
            opened.close()
            await asyncio.to_thread(opened.transaction.commit)
        except BaseException as exc:  # also a cancelled drain: never answered as stored
            with contextlib.suppress(Exception):
                opened.close()
                opened.transaction.rollback()
            self._broken(group, exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            opened.connection.close()
        self._committed(group, opened.woken)

    # ------------------------------------------------------ PostgreSQL: on the committer thread

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._jobs:
                    if not self._wake.wait(self.idle_seconds) and not self._jobs:
                        self._running = False
                        return
            group = self._take(self.max_group)
            try:
                self._thread_group(group)
            except Exception as exc:  # a bug of ours: answered, and the thread goes on serving
                log.exception("group commit failed outside a job")
                self._broken(group, exc)
            finally:
                self._answer(group)

    def _thread_group(self, group: list[_Job]) -> None:
        try:
            opened = self._open()
            with opened.connection, opened.transaction:  # COMMIT on leaving, ROLLBACK on error
                try:
                    for job in group:
                        opened.run(job)
                finally:
                    opened.close()
        except Exception as exc:
            self._broken(group, exc)
            return
        self._committed(group, opened.woken)

    # ------------------------------------------------------------------------------ both

    def _committed(self, group: list[_Job], woken: set[int]) -> None:
        self.groups += 1
        self.jobs_done += len(group)
        if woken:
            try:
                signal.wake_local(self.engine, woken)
            except Exception:  # the entries are committed; the streams' own re-reads catch up
                log.exception("waking the live streams failed")

    @staticmethod
    def _broken(group: list[_Job], exc: BaseException) -> None:
        """Nothing of the group is stored. Every job that had not failed by itself (it had
        succeeded, or never ran) may be retried: it is answered as the database being
        unavailable (503), whatever broke."""
        log.warning("a group of %d jobs failed: %r", len(group), exc)
        failure = exc if isinstance(exc, OperationalError) else OperationalError("group", None, exc)
        for job in group:
            if job.error is None:
                job.value, job.error = None, failure

    @staticmethod
    def _answer(group: list[_Job]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in group:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, jobs)


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():  # the request was cancelled (the tablet went away)
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.value)
