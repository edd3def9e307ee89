"""Group commit: short write transactions from the event loop, run in groups on one thread.

Paper entry is the hot path of a count: ten tablets each sending a paper every few seconds, and a
burst when Wi-Fi returns and the offline queues drain. Giving each entry a worker thread and a
transaction of its own made the threads queue for the one SQLite writer (and the chain lock on
PostgreSQL), hand the GIL to each other for every statement, and sync the disk once per paper:
more time went to the queueing than to the entry.

``GroupCommitter.run(work)`` hands ``work(session)`` to this engine's one committer thread. The
thread takes every job waiting (up to ``max_group``), opens ONE transaction, runs each job in a
SAVEPOINT of its own (a job sees the jobs before it; the group's session is emptied between jobs,
so a job's ORM state is its own), and COMMITs once. Then every job is answered:

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

Live streams are woken after the real COMMIT: the SQLite wake-ups a job gathers in the session
(``app.live.signal``) are taken after each job that succeeded and sent once the group is
committed; PostgreSQL's ``pg_notify`` is transactional by itself.

The thread starts on the first job and ends after ``idle_seconds`` without one, so an app that
is never shut down (a test) leaves no thread behind.
"""

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine
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


@dataclass(eq=False)
class GroupCommitter:
    engine: Engine
    max_group: int = 32
    idle_seconds: float = 5.0
    _jobs: deque[_Job] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Condition = field(init=False)
    _running: bool = False
    groups: int = 0  # committed groups, for tests and benchmarks
    jobs_done: int = 0

    def __post_init__(self) -> None:
        self._wake = threading.Condition(self._lock)

    async def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a savepoint of the next group; its value once the group is
        committed, or its exception (or the group's) raised here."""
        loop = asyncio.get_running_loop()
        job = _Job(work, loop, loop.create_future())
        with self._lock:
            self._jobs.append(job)
            if self._running:
                self._wake.notify()
            else:
                self._running = True
                threading.Thread(
                    target=self._serve, name="jipiao-group-commit", daemon=True
                ).start()
        value: T = await job.future
        return value

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._jobs:
                    if not self._wake.wait(self.idle_seconds) and not self._jobs:
                        self._running = False
                        return
                count = min(len(self._jobs), self.max_group)
                group = [self._jobs.popleft() for _ in range(count)]
            try:
                self._run_group(group)
            except Exception as exc:  # a bug of ours: answered, and the thread goes on serving
                log.exception("group commit failed outside a job")
                for job in group:
                    if job.error is None:
                        job.value, job.error = None, exc
            finally:
                self._answer(group)

    def _run_group(self, group: list[_Job]) -> None:
        woken: set[int] = set()
        succeeded: list[_Job] = []
        try:
            with (
                self.engine.connect() as connection,
                connection.begin(),
                # One session for the group, joined to its transaction without owning it
                # ("rollback_only": a flush never commits; it is never rolled back on purpose).
                # Emptied after every job: each job starts with no ORM state of another's.
                Session(
                    bind=connection,
                    join_transaction_mode="rollback_only",
                    expire_on_commit=False,
                    autoflush=False,
                ) as session,
            ):
                # Savepoints on the DBAPI connection: SQLAlchemy's begin_nested() and a session
                # per job cost more than the entry's own statements.
                dbapi = connection.connection.driver_connection
                assert dbapi is not None
                # psycopg sends "a; b" without parameters in one round trip (sqlite3 refuses it,
                # and has no round trips to save). The COMMIT releases the last savepoint.
                one_trip = connection.dialect.name == "postgresql"
                for index, job in enumerate(group):
                    if index == 0:
                        dbapi.execute("SAVEPOINT job")
                    elif one_trip:
                        dbapi.execute("RELEASE SAVEPOINT job; SAVEPOINT job")
                    else:
                        dbapi.execute("RELEASE SAVEPOINT job")
                        dbapi.execute("SAVEPOINT job")
                    try:
                        job.value = job.work(session)
                        session.flush()
                    except Exception as exc:
                        job.error = exc
                        # If this fails, the group fails (below): nothing of it is committed.
                        dbapi.execute("ROLLBACK TO SAVEPOINT job")
                        signal.take_appended(session)  # its events are gone with it
                    else:
                        succeeded.append(job)
                        woken |= signal.take_appended(session)
                    finally:
                        session.expunge_all()
        except Exception as exc:
            # Nothing of the group is stored. Every job that had not failed by itself may be
            # retried: it is answered as the database being unavailable (503), whatever broke.
            log.warning("a group of %d jobs failed: %r", len(group), exc)
            failure = (
                exc if isinstance(exc, OperationalError) else OperationalError("group", None, exc)
            )
            for job in succeeded:
                job.value, job.error = None, failure
            for job in group:
                if job.error is None:  # the job never ran: the group broke before it
                    job.error = failure
            return
        self.groups += 1
        self.jobs_done += len(group)
        if woken:
            try:
                signal.wake_local(self.engine, woken)
            except Exception:  # the entries are committed; the streams' own re-reads catch up
                log.exception("waking the live streams failed")

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
