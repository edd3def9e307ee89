"""Appending events in the caller's transaction, serialized per congress chain.

Why per congress: roster, check-in and officials belong to no single election, and an auditor
replays one congress as one chain. ``UNIQUE(congress_id, height)`` makes a fork impossible; the
lock makes concurrent appends queue instead of failing:

* PostgreSQL: ``pg_advisory_xact_lock(CHAIN_LOCK_CLASS, congress_id)`` before reading the head;
  released at commit/rollback. Services that read state before changing it call ``lock_chain``
  first, so their reads see every earlier change of the congress (READ COMMITTED).
* SQLite: every transaction starts with ``BEGIN IMMEDIATE`` (app.db), i.e. holds the database's
  write lock from its first statement; nothing else is needed.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Label,
    Table,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from app import models
from app.ledger import (
    chain,
    notify,  # announces each append (the live streams listen)
)
from app.models import utcnow

# First key of the two-key advisory lock: "jp" — keeps clear of other users of advisory locks.
CHAIN_LOCK_CLASS = 0x6A70


def chain_lock(congress_id: ColumnElement[int]) -> ColumnElement[None]:
    """``lock_chain`` as an expression, for a caller that locks the congresses it finds in a
    statement (PostgreSQL only). Whoever takes several takes them in ascending order."""
    return func.pg_advisory_xact_lock(CHAIN_LOCK_CLASS, congress_id)


_LOCK = select(chain_lock(bindparam("congress_id")))


def lock_chain(session: Session, *, congress_id: int) -> None:
    """Serialize with every other writer of this congress until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_LOCK, {"congress_id": congress_id})


_EVENT = cast(Table, models.Event.__table__)


def _head(session: Session, congress_id: int) -> tuple[int, str] | None:
    row = (
        session.connection()
        .execute(
            select(_EVENT.c.height, _EVENT.c.hash)
            .where(_EVENT.c.congress_id == congress_id)
            .order_by(_EVENT.c.height.desc())
            .limit(1)
        )
        .one_or_none()
    )
    return None if row is None else (row.height, row.hash)


def head_of(congress_id: ColumnElement[int]) -> tuple[Label[int], Label[str]]:
    """The congress's chain head as two columns, ``head_height`` and ``head_hash`` (NULL: an empty
    chain), for a caller that reads its heads together with what they go with, under chain locks
    taken by an earlier statement. It chains its events after them (``chained``) and appends
    them with ``append_chained``."""
    latest = select(_EVENT.c.height).where(_EVENT.c.congress_id == congress_id)
    latest = latest.order_by(_EVENT.c.height.desc()).limit(1)
    hash_ = latest.with_only_columns(_EVENT.c.hash)
    return latest.scalar_subquery().label("head_height"), hash_.scalar_subquery().label("head_hash")


def append_chained(
    session: Session, events: Sequence[Mapping[str, Any]], *, announced: bool = False
) -> None:
    """Append events made by ``chained`` (each after the one before, from ``head_of``), in the
    caller's transaction: one statement for all. A stale head cannot fork a chain:
    UNIQUE(congress_id, height) refuses it. ``announced``: the transaction selected
    ``notify.announcement`` of their congresses already."""
    if not events:
        return
    session.connection().execute(insert(_EVENT), list(events))
    for congress_id in sorted({event["congress_id"] for event in events}):
        notify.appended(session, congress_id=congress_id, announced=announced)


def chained(
    congress_id: int,
    head: tuple[int, str] | None,
    type: str,
    payload: Mapping[str, chain.JsonValue],
    actor_role: str,
    now: datetime | None,
) -> dict[str, Any]:
    """The event after ``head`` as the row to insert (its height and hash included): for a caller
    that chains several events in memory before writing them (``append_chained``)."""
    payload_json = chain.canonical_json(payload)  # stored, and hashed as it is stored
    event, digest = chain.next_event(
        chain=congress_id,
        head=head,
        type=type,
        payload=payload,
        at=chain.coarse_minute(now or utcnow()),
        actor_role=actor_role,
        payload_json=payload_json,
    )
    return {
        "congress_id": congress_id,
        "height": event.height,
        "parent": event.parent,
        "hash": digest,
        "type": event.type,
        "payload": payload_json.decode("utf-8"),
        "at": event.at,
        "actor_role": event.actor_role,
    }


def append_event(
    session: Session,
    *,
    congress_id: int,
    type: str,
    payload: Mapping[str, chain.JsonValue],
    actor_role: str,
    now: datetime | None = None,
) -> models.Event:
    """Append one event to the congress's chain, in the caller's transaction (flushed)."""
    lock_chain(session, congress_id=congress_id)
    head = _head(session, congress_id)
    row = models.Event(**chained(congress_id, head, type, payload, actor_role, now))
    session.add(row)
    session.flush()
    notify.appended(session, congress_id=congress_id)
    return row


def to_chain_event(row: models.Event) -> chain.Event:
    payload = json.loads(row.payload)
    assert isinstance(payload, dict)
    return chain.Event(
        chain=row.congress_id,
        height=row.height,
        parent=row.parent,
        type=row.type,
        payload=payload,
        at=row.at,
        actor_role=row.actor_role,
    )


def list_events(
    session: Session, *, congress_id: int, after_height: int = -1, limit: int | None = None
) -> Sequence[models.Event]:
    query = (
        select(models.Event)
        .where(models.Event.congress_id == congress_id, models.Event.height > after_height)
        .order_by(models.Event.height)
    )
    if limit is not None:
        query = query.limit(limit)
    return session.scalars(query).all()


def verify_congress_chain(session: Session, *, congress_id: int) -> list[chain.ChainProblem]:
    rows = list_events(session, congress_id=congress_id)
    return chain.verify_chain(congress_id, [(to_chain_event(row), row.hash) for row in rows])
