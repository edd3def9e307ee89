"""Waking the live streams when a congress's chain grows.

``append_event`` calls ``appended`` in the appending transaction:

* **PostgreSQL**: ``pg_notify('jipiao_events', '<congress_id>')`` — delivered at commit (never
  for a rolled-back transaction) to every app worker's LISTEN connection (``app.live.listen``),
  which wakes that worker's live channels. PostgreSQL delivers a transaction's identical
  notifications once, so a group of paper entries for one congress wakes its channels once.
* **SQLite** (one process): the congress is remembered in ``session.info`` and, after the commit,
  every ``Hub`` of an app over the same database file in this process is woken.

What is woken is a channel per (election, view) and worker (``app.live.fanout``), not each
stream: one cross-thread call per channel, whatever the number of dashboards. A wake-up is only a
hint: the channel re-reads the committed state (and its chain height) in a short session of its
own and hands it to its streams only when the height changed. Channels also re-read now and then
without a hint, so a lost hint delays an update, never loses it.
"""

import asyncio
import threading
import weakref
from dataclasses import dataclass, field

from sqlalchemy import Engine, bindparam, event, func, select
from sqlalchemy.orm import Session

CHANNEL = "jipiao_events"
_PENDING = "jipiao_live_appended"


@dataclass(eq=False)
class Waiter:
    """One channel's wake-up flag, set from any thread via its event loop."""

    loop: asyncio.AbstractEventLoop
    flag: asyncio.Event = field(default_factory=asyncio.Event)

    def set(self) -> None:
        self.loop.call_soon_threadsafe(self.flag.set)


class Hub:
    """The live channels of one app (``app.live.fanout``), by congress; ``wake`` is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, set[Waiter]] = {}

    def subscribe(self, congress_id: int) -> Waiter:
        waiter = Waiter(asyncio.get_running_loop())
        with self._lock:
            self._waiters.setdefault(congress_id, set()).add(waiter)
        return waiter

    def unsubscribe(self, congress_id: int, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(congress_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[congress_id]

    def wake(self, congress_id: int) -> None:
        with self._lock:
            waiters = list(self._waiters.get(congress_id, ()))
        for waiter in waiters:
            try:
                waiter.set()
            except RuntimeError:  # its loop is closed: the channel is gone
                self.unsubscribe(congress_id, waiter)

    def wake_all(self) -> None:
        with self._lock:
            congresses = list(self._waiters)
        for congress_id in congresses:
            self.wake(congress_id)


# SQLite: the hubs of the apps in this process, by database URL (weak: an app may just go away).
_local_hubs: dict[str, "weakref.WeakSet[Hub]"] = {}
_local_lock = threading.Lock()


def _url_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def register_local(url: str, hub: Hub) -> None:
    with _local_lock:
        _local_hubs.setdefault(url, weakref.WeakSet()).add(hub)


_NOTIFY = select(func.pg_notify(bindparam("channel"), bindparam("payload")))


def notify_payload(congress_id: int) -> str:
    """What ``pg_notify`` sends on ``CHANNEL`` (``app.live.listen`` reads it): the congress only,
    the same for all its events (the module docstring)."""
    return str(congress_id)


def appended(session: Session, *, congress_id: int) -> None:
    """Called by ``append_event`` inside the appending transaction (see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(
            _NOTIFY, {"channel": CHANNEL, "payload": notify_payload(congress_id)}
        )
    else:
        session.info.setdefault(_PENDING, set()).add(congress_id)


def wake_local(engine: Engine, congresses: set[int]) -> None:
    """SQLite: wake the channels of ``congresses`` in every app of this process over ``engine``'s
    database (call it after the COMMIT that made their events visible)."""
    with _local_lock:
        hubs = list(_local_hubs.get(_url_key(engine), ()))
    for hub in hubs:
        for congress_id in congresses:
            hub.wake(congress_id)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending: set[int] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    wake_local(session.get_bind().engine, pending)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
