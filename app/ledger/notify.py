"""Telling whoever listens that a congress's chain grew: the ledger's side of the live wake-up.

``app.ledger.store`` calls ``appended`` in the appending transaction:

* **PostgreSQL**: ``pg_notify('jipiao_events', '<congress_id>')`` — delivered at commit (never
  for a rolled-back transaction) to every app worker's LISTEN connection (``app.live.listen``).
  PostgreSQL delivers a transaction's identical notifications once, so a group of paper entries
  for one congress is announced once.
* **SQLite** (one process): the congress is remembered in ``session.info`` and, after the commit,
  every listener registered for the same database file in this process (``listen_locally``) is
  woken. The sessions of an app's ``sessionmaker`` deliver it once the app asked for it
  (``wake_after_commit``, called by ``app.main.create_app``), paper entry's writer included
  (``app.counting.entry``).

The ledger imports no feature: the live streams register their hub here (``listen_locally``), and
only ``app.live`` knows what a wake-up does. A wake-up is only a hint (``app.live.fanout``).
"""

import threading
import weakref
from typing import Protocol

from sqlalchemy import ColumnElement, Engine, String, bindparam, cast, event, func, select
from sqlalchemy.orm import Session, sessionmaker

CHANNEL = "jipiao_events"
_PENDING = "jipiao_live_appended"


class Listener(Protocol):
    """What ``listen_locally`` registers (``app.live.signal.Hub``); ``wake`` is thread-safe."""

    def wake(self, congress_id: int) -> None: ...


# SQLite: the listeners in this process, by database URL (weak: an app may just go away).
_local: dict[str, "weakref.WeakSet[Listener]"] = {}
_local_lock = threading.Lock()


def database_key(engine: Engine) -> str:
    """The key ``listen_locally`` and ``wake_local`` agree on: the database's URL."""
    return engine.url.render_as_string(hide_password=True)


def listen_locally(engine: Engine, listener: Listener) -> None:
    """SQLite: wake ``listener`` after each commit of events into ``engine``'s database in this
    process (held weakly)."""
    with _local_lock:
        _local.setdefault(database_key(engine), weakref.WeakSet()).add(listener)


# A prepared statement on the transaction's own connection: paper entry appends on every request.
_NOTIFY = select(func.pg_notify(bindparam("channel"), bindparam("payload")))


def notify_payload(congress_id: int) -> str:
    """What ``pg_notify`` sends on ``CHANNEL`` (``app.live.listen`` reads it): the congress only,
    the same for all its events (the module docstring)."""
    return str(congress_id)


def announcement(congress_id: ColumnElement[int]) -> ColumnElement[None]:
    """``pg_notify`` of ``appended`` as a column, for a statement of the appending transaction
    that already visits its congresses (paper entry's chain locks): one round trip fewer."""
    return func.pg_notify(CHANNEL, cast(congress_id, String))


def appended(session: Session, *, congress_id: int, announced: bool = False) -> None:
    """Called by the store inside the appending transaction (see the module docstring);
    ``announced``: a statement of it selected the congress's ``announcement`` (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        session.info.setdefault(_PENDING, set()).add(congress_id)
    elif not announced:
        session.connection().execute(
            _NOTIFY, {"channel": CHANNEL, "payload": notify_payload(congress_id)}
        )


def wake_local(engine: Engine, congresses: set[int]) -> None:
    """SQLite: wake the listeners of ``congresses`` registered for ``engine``'s database in this
    process (call it after the COMMIT that made their events visible)."""
    with _local_lock:
        listeners = list(_local.get(database_key(engine), ()))
    for listener in listeners:
        for congress_id in congresses:
            listener.wake(congress_id)


def _after_commit(session: Session) -> None:
    pending: set[int] | None = session.info.pop(_PENDING, None)
    if pending:
        wake_local(session.get_bind().engine, pending)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def wake_after_commit(factory: "sessionmaker[Session]") -> None:
    """SQLite: the sessions of ``factory`` wake the local listeners of the congresses whose
    chains they appended to, after their COMMIT (and forget them at a rollback). Attached to one
    sessionmaker, not to every Session: no global listener is installed by importing a module."""
    event.listen(factory, "after_commit", _after_commit)
    event.listen(factory, "after_rollback", _after_rollback)
