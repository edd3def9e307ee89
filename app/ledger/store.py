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

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import models
from app.ledger import chain
from app.live import signal as live_signal  # wakes the live streams (NOTIFY at commit)
from app.models import utcnow

# First key of the two-key advisory lock: "jp" — keeps clear of other users of advisory locks.
CHAIN_LOCK_CLASS = 0x6A70


def lock_chain(session: Session, *, congress_id: int) -> None:
    """Serialize with every other writer of this congress until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:lock_class, :congress_id)"),
            {"lock_class": CHAIN_LOCK_CLASS, "congress_id": congress_id},
        )


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
    head = session.execute(
        select(models.Event.height, models.Event.hash)
        .where(models.Event.congress_id == congress_id)
        .order_by(models.Event.height.desc())
        .limit(1)
    ).one_or_none()
    event, digest = chain.next_event(
        chain=congress_id,
        head=None if head is None else (head.height, head.hash),
        type=type,
        payload=payload,
        at=chain.coarse_minute(now or utcnow()),
        actor_role=actor_role,
    )
    row = models.Event(
        congress_id=congress_id,
        height=event.height,
        parent=event.parent,
        hash=digest,
        type=event.type,
        payload=chain.canonical_json(event.payload).decode("utf-8"),
        at=event.at,
        actor_role=event.actor_role,
    )
    session.add(row)
    session.flush()
    live_signal.appended(session, congress_id=congress_id, height=event.height)
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
