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
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    ScalarSelect,
    Select,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from app import models
from app.db import Prepared
from app.ledger import chain, notify  # notify: announces each append (the live streams listen)
from app.models import utcnow

# First key of the two-key advisory lock: "jp" — keeps clear of other users of advisory locks.
CHAIN_LOCK_CLASS = 0x6A70


def chain_lock(congress_id: ColumnElement[int]) -> ColumnElement[None]:
    """``lock_chain`` as an expression, for a caller that finds the congress in the same statement
    (PostgreSQL only)."""
    return func.pg_advisory_xact_lock(CHAIN_LOCK_CLASS, congress_id)


_LOCK = select(chain_lock(bindparam("congress_id")))


def lock_chain(session: Session, *, congress_id: int) -> None:
    """Serialize with every other writer of this congress until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_LOCK, {"congress_id": congress_id})


_EVENT = cast(Table, models.Event.__table__)


def _latest(congress_id: ColumnElement[int]) -> Select[tuple[int, str]]:
    return (
        select(_EVENT.c.height, _EVENT.c.hash)
        .where(_EVENT.c.congress_id == congress_id)
        .order_by(_EVENT.c.height.desc())
        .limit(1)
    )


def head_columns(congress_id: ColumnElement[int]) -> tuple[ScalarSelect[int], ScalarSelect[str]]:
    """The chain head's height and hash (NULL for an empty chain) as scalar subqueries, for a caller
    that reads the head inside a larger statement. Read it under the chain lock (SQLite: in a
    write transaction), then append with ``append_after``."""
    latest = _latest(congress_id)
    return (
        latest.with_only_columns(_EVENT.c.height).scalar_subquery(),
        latest.with_only_columns(_EVENT.c.hash).scalar_subquery(),
    )


_HEAD = _latest(bindparam("congress_id"))
_COLUMNS = ("congress_id", "height", "parent", "hash", "type", "payload", "at", "actor_role")
# inline: no RETURNING of the new id on PostgreSQL (nobody reads it)
_INSERT = Prepared(insert(_EVENT).inline().values({name: bindparam(name) for name in _COLUMNS}))


def _head(session: Session, congress_id: int) -> tuple[int, str] | None:
    row = session.connection().execute(_HEAD, {"congress_id": congress_id}).one_or_none()
    return None if row is None else (row.height, row.hash)


def append_after(
    session: Session,
    *,
    congress_id: int,
    head: tuple[int, str] | None,
    type: str,
    payload: Mapping[str, chain.JsonValue],
    actor_role: str,
    now: datetime | None = None,
    along: tuple[Insert, Mapping[str, Any]] | None = None,
) -> int:
    """Append one event after ``head`` — the chain's head as the caller read it in this transaction,
    under the chain lock (``head_columns``) — and return its height. A core insert (no ORM object):
    the hot path of paper entry. A stale head cannot fork the chain: UNIQUE(congress_id, height)
    refuses it. ``along``: an insert (built once, every column a bind parameter) and its values,
    sent with the event; on PostgreSQL in the same statement."""
    values = chained(congress_id, head, type, payload, actor_role, now)
    if along is not None and session.get_bind().dialect.name == "postgresql":
        append_along(session, along[0], [(along[1], values)])
        return int(values["height"])
    if along is not None:
        alone = _ALONE.get(along[0])
        if alone is None:
            alone = _ALONE[along[0]] = Prepared(along[0])
        alone.run(session, along[1])
    _INSERT.run(session, values)
    notify.appended(session, congress_id=congress_id)
    return int(values["height"])


def append_along(
    session: Session,
    statement: Insert,
    rows: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
) -> None:
    """PostgreSQL: for each (values of ``statement``, an event from ``chained``), the row and the
    event, all of them in one statement that also signals the live streams (once per congress).
    One statement instead of three per event while the congress's chain lock is held: one round
    trip, and one short statement whatever the number of rows (the rows, and the events, as one
    JSON array each), which psycopg converts once and PostgreSQL prepares once. While the session
    keeps its writes (``app.db.keep_writes``), kept instead: the group committer sends it with the
    COMMIT, in one round trip."""
    if not rows:
        return
    names = tuple(rows[0][0])
    params: dict[str, Any] = {
        "channel": notify.CHANNEL,
        "notify": sorted({notify.notify_payload(event["congress_id"]) for _, event in rows}),
        "along_rows": _json_rows(along for along, _ in rows),
        "along_events": _json_rows(event for _, event in rows),
    }
    _along(statement, names).run_or_keep(session, params)


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # as UTCDateTime refuses it
            raise ValueError("naive datetime given to a UTC column")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a JSON row")


def _json_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    return json.dumps(list(rows), ensure_ascii=False, separators=(",", ":"), default=_json_value)


def chained(
    congress_id: int,
    head: tuple[int, str] | None,
    type: str,
    payload: Mapping[str, chain.JsonValue],
    actor_role: str,
    now: datetime | None,
) -> dict[str, Any]:
    """The event after ``head`` as the row to insert (its height and hash included): for a caller
    that chains several events in memory before writing them (``append_along``)."""
    event, digest = chain.next_event(
        chain=congress_id,
        head=head,
        type=type,
        payload=payload,
        at=chain.coarse_minute(now or utcnow()),
        actor_role=actor_role,
    )
    return {
        "congress_id": congress_id,
        "height": event.height,
        "parent": event.parent,
        "hash": digest,
        "type": event.type,
        "payload": chain.canonical_json(event.payload).decode("utf-8"),
        "at": event.at,
        "actor_role": event.actor_role,
    }


_ALONE: dict[Insert, Prepared] = {}
_ALONG: dict[tuple[Insert, tuple[str, ...]], Prepared] = {}


def _populated(table: Table, names: Sequence[str], param: str) -> Insert:
    """Rows into ``table`` (its columns ``names``) from the JSON array ``param``, one object a
    row. Each value is read as its column's type, length included: a value too long is refused,
    as a scalar parameter is, never cut short."""
    rows = func.json_populate_recordset(
        literal_column(f"NULL::{table.name}"), bindparam(param, type_=Text).cast(postgresql.JSON)
    ).table_valued(*names)
    return insert(table).from_select(list(names), select(*(rows.c[name] for name in names)))


def _along(statement: Insert, names: tuple[str, ...]) -> Prepared:
    """Rows of ``statement``'s table (its columns ``names``, from the JSON array ``along_rows``)
    and events (from ``along_events``), as data-modifying CTEs of the statement that signals the
    live streams, once per payload of the array ``notify``: in the caller's transaction, as
    separate statements would be."""
    found = _ALONG.get((statement, names))
    if found is None:
        payload = func.unnest(bindparam("notify", type_=postgresql.ARRAY(String))).column_valued(
            "payload"
        )
        found = Prepared(
            select(func.pg_notify(bindparam("channel"), payload))
            .add_cte(_populated(cast(Table, statement.table), names, "along_rows").cte("along_row"))
            .add_cte(_populated(_EVENT, _COLUMNS, "along_events").cte("along_event"))
        )
        _ALONG[(statement, names)] = found
    return found


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
