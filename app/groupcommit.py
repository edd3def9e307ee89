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
  is never shut down (a test) leaves no thread behind, or at ``close()`` (the app's shutdown).
  It keeps one connection while it runs.

**Bulk jobs** (PostgreSQL): a job may also name a ``bulk`` function and its ``item``. Consecutive
jobs of a group naming the same function are given to it at once: ``bulk(session, items)``
returns each job's outcome — its value, its exception (it stored nothing), or ``ALONE``: run this
job's own ``work`` after the bulk, in a savepoint of its own, as if it had come later. What a
bulk saves is per job: paper entry on PostgreSQL cost four round trips a paper, each a trip
through psycopg's Python and a wait for the GIL while the chain lock is held; a bulk of them costs
a handful. A bulk never makes a job fail that would have succeeded alone: if it raises, every one
of its jobs runs alone — after the savepoint it ran in is rolled back or, when it came first in
the group and so ran without one (a round trip less), after the whole group's transaction is
rolled back and begun again. On SQLite, whose jobs run on the loop, every job runs alone.

When a bulk is the whole group (PostgreSQL), its writes (``Prepared.run_or_keep``) are kept and
sent with the COMMIT, in one round trip (``app.db.commit_with``). If one of them is refused (a key
entered before: its UNIQUE constraint), the server never runs the COMMIT and leaves the
transaction failed: nothing is stored, and the group runs again, every job alone. If the COMMIT
fails or the connection is lost meanwhile, whether it took effect is unknown: nothing is run
again (503, as for any failed COMMIT; the tablets send again with the same keys).

**Gathering** (PostgreSQL's thread): a caller (a tablet's session) whose job comes within
``busy_gap_seconds`` of its previous one is *busy*: a tablet draining its offline queue, a script.
Before a group starts, the committer waits ``gather_seconds`` (5 ms) at most for the busy callers
answered by the last group that have not sent their next job yet. Without it, ten busy tablets
split into two halves that took turns, each group paying its round trips and its COMMIT for half
of them (bench_entry.py: groups of 5.0 entries without, 8.7–9.0 with it; the server's CPU a paper
1.67 → 1.46–1.50 ms). A caller at a person's pace (a paper every few seconds) is never waited
for.

Live streams are woken after the real COMMIT: the SQLite wake-ups a job gathers in the session
(``app.ledger.notify``) are taken after each job that succeeded and sent once the group is
committed; PostgreSQL's ``pg_notify`` is transactional by itself.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.db import Write, commit_with, failed_before_commit, keep_writes, kept_writes, run_writes
from app.ledger import notify as signal

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Alone:
    def __repr__(self) -> str:
        return "ALONE"


ALONE: Final = _Alone()  # a bulk's outcome for a job it leaves to its own ``work``
Bulk = Callable[[Session, list[Any]], Sequence[Any]]


@dataclass(eq=False, slots=True)
class _Job:
    work: Callable[[Session], Any]
    loop: asyncio.AbstractEventLoop
    future: "asyncio.Future[Any]"
    bulk: Bulk | None = None
    item: Any = None
    caller: Hashable | None = None
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
        self.pending: list[Write] = []  # a bulk's writes, sent with the COMMIT

    def _savepoint(self) -> None:
        if not self.savepoint:
            self.dbapi.execute("SAVEPOINT job")
            self.savepoint = True
        elif self.one_trip:
            self.dbapi.execute("RELEASE SAVEPOINT job; SAVEPOINT job")
        else:
            self.dbapi.execute("RELEASE SAVEPOINT job")
            self.dbapi.execute("SAVEPOINT job")

    def _rolled_back(self) -> None:
        # If this fails, the group fails: nothing of it is committed.
        self.dbapi.execute("ROLLBACK TO SAVEPOINT job")
        signal.take_appended(self.session)  # its events are gone with it

    def run(self, job: _Job) -> None:
        self._savepoint()
        try:
            job.value = job.work(self.session)
            self.session.flush()
        except Exception as exc:
            job.error = exc
            self._rolled_back()
        else:
            self.woken |= signal.take_appended(self.session)
        finally:
            self.session.expunge_all()

    def run_all(self, jobs: list[_Job], *, bulks: bool = True) -> None:
        """Each job alone, or with the consecutive jobs naming the same bulk function."""
        start = 0
        while start < len(jobs):
            bulk, end = jobs[start].bulk, start + 1
            if bulk is None or not bulks:
                self.run(jobs[start])
            else:
                while end < len(jobs) and jobs[end].bulk is bulk:
                    end += 1
                self.run_bulk(bulk, jobs[start:end], last=end == len(jobs))
            start = end

    def run_bulk(self, bulk: Bulk, jobs: list[_Job], *, last: bool) -> None:
        # First in the transaction, a bulk needs no savepoint (a round trip): if it fails, the
        # group starts again with every job alone (_Restart), and nothing is lost. The whole
        # group on PostgreSQL, it keeps its writes (``Prepared.run_or_keep``), sent with the
        # COMMIT: one round trip less, with the chain lock held.
        first = not self.savepoint
        if not first:
            self._savepoint()
        keep = first and last and self.one_trip
        if keep:
            keep_writes(self.session)
        alone: list[_Job] = []
        try:
            outcomes = bulk(self.session, [job.item for job in jobs])
            if len(outcomes) != len(jobs):
                raise RuntimeError(f"a bulk answered {len(outcomes)} of {len(jobs)} jobs")
            self.session.flush()
            if keep:
                self.pending = kept_writes(self.session)
                if any(outcome is ALONE for outcome in outcomes):  # they run after the writes
                    run_writes(self.session, self.pending)
                    self.pending = []
        except Exception as exc:
            if keep:
                kept_writes(self.session)
                self.pending = []
            if isinstance(exc, IntegrityError):  # e.g. a retried key: the bulk has no answer
                log.info("a bulk of %d jobs was refused (%s): each runs alone", len(jobs), exc)
            else:
                log.exception("a bulk of %d jobs failed: each runs alone", len(jobs))
            if first:
                signal.take_appended(self.session)
                raise _Restart from exc
            self._rolled_back()
            alone = jobs
        else:
            self.woken |= signal.take_appended(self.session)
            for job, outcome in zip(jobs, outcomes, strict=True):
                if outcome is ALONE:
                    alone.append(job)
                elif isinstance(outcome, BaseException):
                    job.error = outcome
                else:
                    job.value = outcome
        finally:
            self.session.expunge_all()
        for job in alone:
            self.run(job)

    def commit_pending(self) -> None:
        """The pending writes and the COMMIT, in one round trip. If a write is refused (e.g. a
        retried key), the COMMIT never ran: the group starts again with every job alone."""
        try:
            commit_with(self.connection, self.pending)
        except Exception as exc:
            if not failed_before_commit(self.connection):
                raise  # the COMMIT failed, or the connection was lost: the outcome is unknown
            log.info("a bulk's writes were refused (%s): each job runs alone", exc)
            raise _Restart from exc

    def close(self) -> None:
        self.session.close()


@dataclass(eq=False)
class _Callers:
    """Who sends jobs back to back, for the committer's thread (module docstring, "gathering")."""

    gather: float  # how long a group waits at most for a busy caller's next job
    busy_gap: float  # a job this soon after its caller's previous one: the caller is busy
    last: dict[Hashable, float] = field(default_factory=dict)  # caller → its last job's time
    busy: set[Hashable] = field(default_factory=set)
    expected: dict[Hashable, float] = field(default_factory=dict)  # caller → until when

    def taken(self, group: list[_Job], now: float) -> None:
        for caller, since in list(self.last.items()):
            if now - since >= self.busy_gap:
                del self.last[caller]
                self.busy.discard(caller)
        for job in group:
            if job.caller is not None:
                if job.caller in self.last:
                    self.busy.add(job.caller)
                self.last[job.caller] = now
                self.expected.pop(job.caller, None)

    def answered(self, group: list[_Job], now: float) -> None:
        for job in group:
            if job.caller in self.busy:
                self.expected[job.caller] = now + self.gather

    def wait_for(self, queued: Collection[Hashable], now: float) -> float | None:
        """Seconds to wait at most for a busy caller answered last that is not ``queued`` yet;
        None: none to wait for."""
        for caller, until in list(self.expected.items()):
            if until <= now:
                del self.expected[caller]
        missing = [until for caller, until in self.expected.items() if caller not in queued]
        return min(missing) - now if missing else None


class _Restart(Exception):
    """The group's transaction is rolled back and the group run again, each job alone."""


class _CommitFailed(Exception):
    """The COMMIT failed (its cause): whether it took effect is unknown, so nothing is retried."""


@dataclass(eq=False)
class GroupCommitter:
    engine: Engine
    # None: on the event loop for SQLite, on the committer thread otherwise (module docstring).
    inline: bool | None = None
    max_group: int = 32
    idle_seconds: float = 5.0
    gather_seconds: float = 0.005
    busy_gap_seconds: float = 0.25
    _jobs: deque[_Job] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wake: threading.Condition = field(init=False)
    _running: bool = False
    _closing: bool = False
    _thread: threading.Thread | None = None
    _task: "asyncio.Task[None] | None" = None
    groups: int = 0  # committed groups, for tests and benchmarks
    jobs_done: int = 0

    def __post_init__(self) -> None:
        self._wake = threading.Condition(self._lock)
        self._callers = _Callers(self.gather_seconds, self.busy_gap_seconds)
        if self.inline is None:
            self.inline = self.engine.dialect.name == "sqlite"

    async def run(
        self,
        work: Callable[[Session], T],
        *,
        bulk: Bulk | None = None,
        item: Any = None,
        caller: Hashable | None = None,
    ) -> T:
        """``work(session)`` in a savepoint of the next group; its value once the group is
        committed, or its exception (or the group's) raised here. ``bulk``, ``item``: this job may
        also run as ``item`` of a bulk; ``caller``: who sends it, for gathering (module
        docstring; kept in memory only, for ``busy_gap_seconds``)."""
        loop = asyncio.get_running_loop()
        job = _Job(work, loop, loop.create_future(), bulk, item, caller)
        with self._lock:
            self._jobs.append(job)
            if not self._running:
                self._running = True
                if self.inline:
                    self._task = loop.create_task(self._drain())
                else:
                    self._closing = False
                    self._thread = threading.Thread(
                        target=self._serve, name="jipiao-group-commit", daemon=True
                    )
                    self._thread.start()
            elif not self.inline:
                self._wake.notify()
        value: T = await job.future
        return value

    def close(self, timeout: float = 10.0) -> None:
        """End the committer's thread, and give back its connection, once the jobs waiting have
        run (the app's shutdown: the engine is disposed next, and would not close a connection
        that is checked out). A job queued later starts a new thread."""
        with self._lock:
            self._closing = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

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
        # One connection for as long as the thread runs: a checkout from the pool, with its
        # liveness check, was one more round trip per group. A group that fails gives it back to
        # the pool (which checks it before anyone uses it again).
        connection: Connection | None = None
        try:
            while True:
                with self._lock:
                    while not self._jobs:
                        if self._closing or (
                            not self._wake.wait(self.idle_seconds) and not self._jobs
                        ):
                            self._running = False
                            return
                    self._gather()
                group = self._take(self.max_group)
                self._callers.taken(group, time.monotonic())
                try:
                    connection = self._thread_group(group, connection)
                except Exception as exc:  # a bug of ours: answered, and the thread goes on
                    log.exception("group commit failed outside a job")
                    self._broken(group, exc)
                finally:
                    self._answer(group)
                    self._callers.answered(group, time.monotonic())
        finally:
            if connection is not None:
                connection.close()

    def _gather(self) -> None:
        # With the lock held: a while at most for the busy callers answered last.
        while len(self._jobs) < self.max_group and not self._closing:
            queued = {job.caller for job in self._jobs}
            wait = self._callers.wait_for(queued, time.monotonic())
            if wait is None:
                return
            self._wake.wait(wait)

    def _thread_group(self, group: list[_Job], connection: Connection | None) -> Connection | None:
        """The group in one transaction on ``connection`` (a new one if None); the connection to
        use for the next group, None if this one failed."""
        kept = connection is not None
        while True:
            try:
                if connection is None:
                    connection = self.engine.connect()
                try:
                    opened = self._transaction(connection, group, bulks=True)
                except _Restart:
                    _reset(group)
                    opened = self._transaction(connection, group, bulks=False)
            except Exception as exc:
                broken = connection is not None and _lost(connection)
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.close()
                    connection = None
                if kept and broken and not isinstance(exc, _CommitFailed):
                    # The connection kept since the last group was lost meanwhile (the server
                    # restarted, an idle timeout), and no COMMIT was sent: nothing of this group is
                    # stored. Once more on a new one, as the pool's liveness check at checkout
                    # would have done.
                    log.warning("the committer's connection was lost: the group runs again")
                    kept = False
                    _reset(group)
                    continue
                self._broken(
                    group, (exc.__cause__ or exc) if isinstance(exc, _CommitFailed) else exc
                )
                return None
            self._committed(group, opened.woken)
            return connection

    @staticmethod
    def _transaction(connection: Connection, group: list[_Job], *, bulks: bool) -> _Group:
        opened = _Group(connection, connection.begin())
        committing = False
        try:
            with opened.transaction:  # COMMIT on leaving (if not sent yet), ROLLBACK on error
                try:
                    opened.run_all(group, bulks=bulks)
                finally:
                    opened.close()
                committing = True
                if opened.pending:
                    opened.commit_pending()
        except _Restart:
            raise
        except Exception as exc:
            if committing:
                raise _CommitFailed() from exc
            raise
        return opened

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


def _reset(group: list[_Job]) -> None:
    for job in group:
        job.value, job.error = None, None


def _lost(connection: Connection) -> bool:
    """Whether ``connection`` was lost: SQLAlchemy saw it go (and would reconnect on its next
    use), or the DBAPI connection under it is closed or broken (psycopg)."""
    if connection.invalidated or connection.closed:
        return True
    try:
        driver: Any = connection.connection.driver_connection
    except Exception:  # SQLAlchemy refuses: invalidated, closed
        return True
    return bool(getattr(driver, "closed", False) or getattr(driver, "broken", False))


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():  # the request was cancelled (the tablet went away)
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.value)
