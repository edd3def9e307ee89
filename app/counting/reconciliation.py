"""Comparing a batch's passes and adjudicating what differs (RULES.md P6, C2).

When both passes hold ``declared_count`` papers the batch is compared (``compared``, by the entry
that completes it): equal → reconciled (or, if agreed records carry an ``unclear`` mark, sent to
adjudication, P6); different → a discrepancy listing the multiset difference on each side. A
scrutineer then gives the final records of the disputed papers (with a reason) or orders the
batch entered again. Entries are never edited: a resolution is a new row and a new event.

Events: ``batch.discrepancy``, ``batch.needs_adjudication``, ``batch.resolved``,
``batch.reconciled``, ``batch.reentry_ordered``.
"""

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from app import models
from app.auth.roles import Principal
from app.counting.batches import (
    ADJUDICATION,
    DISCREPANCY,
    DISPUTED,
    ENTERING,
    PASS_A,
    PASS_B,
    RECONCILED,
    Pass,
    batch_status_zh,
    get_batch,
    list_batches,
)
from app.counting.records import (
    Record,
    check_names,
    make_record,
    not_on_roster,
    roster_names,
)
from app.errors import Conflict, InvalidInput
from app.ledger import store
from app.ledger.chain import JsonValue
from app.ledger.replay import compare_passes, final_record_texts
from app.papers import service as papers_service
from app.rules.model import (
    PaperRecord,
    VoidRule,
    paper_order,
)


def _pass_records(session: Session, batch: models.Batch, entry_pass: Pass) -> Counter[str]:
    return Counter(
        session.scalars(
            select(models.PaperEntry.record).where(
                models.PaperEntry.batch_id == batch.id,
                models.PaperEntry.entry_pass == entry_pass,
                models.PaperEntry.generation == batch.generation,
            )
        )
    )


@dataclass(frozen=True, slots=True)
class OpenItems:
    """What a scrutineer must decide for a batch: the multiset difference of the passes and the
    agreed records with unclear marks. ``needed`` = how many final records a resolution gives."""

    only_in_pass_a: list[Record] = field(default_factory=list)
    only_in_pass_b: list[Record] = field(default_factory=list)
    unclear: list[Record] = field(default_factory=list)

    @property
    def needed(self) -> int:
        return max(len(self.only_in_pass_a), len(self.only_in_pass_b)) + len(self.unclear)


def _sorted(records: Counter[str]) -> list[Record]:
    return [Record.from_text(text) for text in sorted(records.elements())]


def _agreed(session: Session, batch: models.Batch) -> tuple[Counter[str], OpenItems]:
    a = _pass_records(session, batch, PASS_A)
    b = None if batch.teller_b_id is None else _pass_records(session, batch, PASS_B)
    c = compare_passes(a, b)  # shared with the offline replay (app.ledger.replay)
    return c.agreed, OpenItems(
        _sorted(c.only_in_pass_a), _sorted(c.only_in_pass_b), _sorted(c.unclear)
    )


def open_items(session: Session, batch: models.Batch) -> OpenItems:
    if batch.status not in DISPUTED:
        return OpenItems()
    return _agreed(session, batch)[1]


def _records_json(records: Sequence[Record]) -> list[JsonValue]:
    return [json.loads(r.text()) for r in records]


def compared(
    *,
    batch_id: int,
    generation: int,
    declared: int,
    a: Counter[str],
    b: Counter[str] | None,
    congress_id: int,
    head: tuple[int, str] | None,
    actor_role: str,
    now: datetime,
) -> tuple[str, dict[str, Any]]:
    """Both passes of a batch are complete (records ``a``, ``b`` as multisets): its new status —
    reconciled, or a discrepancy / unclear marks to adjudicate — and the event saying so, chained
    after ``head`` (``store.chained``)."""
    c = compare_passes(a, b)  # shared with the offline replay (app.ledger.replay)
    items = OpenItems(_sorted(c.only_in_pass_a), _sorted(c.only_in_pass_b), _sorted(c.unclear))
    base: dict[str, JsonValue] = {"batch_id": batch_id, "generation": generation}
    if items.only_in_pass_a or items.only_in_pass_b:
        status = DISCREPANCY
        payload = base | {
            "only_in_pass_a": _records_json(items.only_in_pass_a),
            "only_in_pass_b": _records_json(items.only_in_pass_b),
            "unclear": _records_json(items.unclear),
        }
        event_type = "batch.discrepancy"
    elif items.unclear:
        status = ADJUDICATION
        payload = base | {"unclear": _records_json(items.unclear)}
        event_type = "batch.needs_adjudication"
    else:
        status = RECONCILED
        payload = base | {"papers": declared}
        event_type = "batch.reconciled"
    return status, store.chained(congress_id, head, event_type, payload, actor_role, now)


def _disputed_batch(
    session: Session, *, actor: Principal, batch_id: int
) -> tuple[models.Batch, models.Round, int]:
    batch = get_batch(session, batch_id=batch_id)
    round_ = papers_service.get_round(session, round_id=batch.round_id)
    congress_id = papers_service.congress_of(session, round_)
    actor.ensure_congress(congress_id)
    store.lock_chain(session, congress_id=congress_id)
    session.refresh(batch)
    if batch.status not in DISPUTED:
        raise Conflict(
            "batch_not_disputed",
            f"该批次当前为“{batch_status_zh(batch.status)}”，没有待裁定的差异",
            f"the batch is {batch.status}: nothing to resolve",
        )
    return batch, round_, congress_id


@dataclass(frozen=True, slots=True)
class RecordInput:
    marks: Mapping[str, str]
    write_ins: Sequence[str | None]
    void: VoidRule | None
    write_ins_latin_confirmed: bool = False


def _final_records(
    session: Session, *, round_: models.Round, congress_id: int, records: Sequence[RecordInput]
) -> list[Record]:
    """The scrutineer's final records, each checked as an entry is (its write-ins included)."""
    definition = papers_service.round_definition(round_)
    final = [
        make_record(
            definition,
            marks=r.marks,
            write_ins=r.write_ins,
            void=r.void,
            field_prefix=f"body.records.{i}",
        )
        for i, r in enumerate(records)
    ]
    roster = roster_names(session, congress_id=congress_id)
    for i, (given, record) in enumerate(zip(records, final, strict=True)):
        check_names(
            given.write_ins,
            not_on_roster=not_on_roster(record, roster),
            latin_confirmed=given.write_ins_latin_confirmed,
            field_prefix=f"body.records.{i}",
        )
    return final


def resolve_batch(
    session: Session,
    *,
    actor: Principal,
    batch_id: int,
    records: Sequence[RecordInput],
    reason: str,
) -> models.Batch:
    """A scrutineer gives the final records of the disputed papers (P6: unclear marks decided as
    yes/no/abstain or illegible) → the batch is reconciled."""
    batch, round_, congress_id = _disputed_batch(session, actor=actor, batch_id=batch_id)
    items = open_items(session, batch)
    if len(records) != items.needed:
        raise InvalidInput(
            "resolution_count",
            f"需要给出 {items.needed} 张有争议选票的最终记录，收到 {len(records)} 张",
            f"give the final records of the {items.needed} disputed papers, got {len(records)}",
            field="body.records",
        )
    final = _final_records(session, round_=round_, congress_id=congress_id, records=records)
    texts = sorted(r.text() for r in final)
    session.add(
        models.BatchResolution(
            batch_id=batch.id,
            generation=batch.generation,
            action="records",
            records=texts,
            reason=reason,
            author_role=actor.role,
            author_official_id=actor.official_id,
        )
    )
    batch.status = RECONCILED
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="batch.resolved",
        payload={
            "batch_id": batch.id,
            "generation": batch.generation,
            "records": [json.loads(t) for t in texts],
            "reason": reason,
            "author_role": actor.role,
            "author_official_id": actor.official_id,
        },
        actor_role=actor.role,
    )
    store.append_event(
        session,
        congress_id=congress_id,
        type="batch.reconciled",
        payload={
            "batch_id": batch.id,
            "generation": batch.generation,
            "papers": batch.declared_count,
        },
        actor_role=actor.role,
    )
    return batch


def order_reentry(
    session: Session, *, actor: Principal, batch_id: int, reason: str
) -> models.Batch:
    """A scrutineer orders the batch entered again: both passes start over (entries are kept)."""
    batch, _, congress_id = _disputed_batch(session, actor=actor, batch_id=batch_id)
    return reopen_batch(session, actor=actor, batch=batch, congress_id=congress_id, reason=reason)


def reopen_batch(
    session: Session, *, actor: Principal, batch: models.Batch, congress_id: int, reason: str
) -> models.Batch:
    """The batch's current generation is discarded and both passes enter it again (entries are
    kept): a scrutineer's order on a disputed batch, or the presidium's correction (C2) of a
    reconciled one. Records ``batch.reentry_ordered`` with the reason and its author."""
    session.add(
        models.BatchResolution(
            batch_id=batch.id,
            generation=batch.generation,
            action="reentry",
            records=[],
            reason=reason,
            author_role=actor.role,
            author_official_id=actor.official_id,
        )
    )
    discarded = batch.generation
    batch.generation = discarded + 1
    batch.status = ENTERING
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="batch.reentry_ordered",
        payload={
            "batch_id": batch.id,
            "discarded_generation": discarded,
            "reason": reason,
            "author_role": actor.role,
            "author_official_id": actor.official_id,
        },
        actor_role=actor.role,
    )
    return batch


@dataclass(frozen=True, slots=True)
class ReentryOrder:
    """An order to enter a batch again (``batch.reentry_ordered``), for the chief teller's page:
    which generation it discarded, why, and who ordered it."""

    discarded_generation: int
    reason: str
    author_role: str
    author_name: str | None
    ordered_at: datetime


def reentry_orders(session: Session, *, batch_ids: Sequence[int]) -> dict[int, list[ReentryOrder]]:
    """The re-entry orders of these batches, oldest first (none for a batch never re-entered)."""
    orders: dict[int, list[ReentryOrder]] = {batch_id: [] for batch_id in batch_ids}
    if not batch_ids:
        return orders
    rows = session.execute(
        select(models.BatchResolution, models.Official.name)
        .outerjoin(models.Official, models.Official.id == models.BatchResolution.author_official_id)
        .where(
            models.BatchResolution.batch_id.in_(batch_ids),
            models.BatchResolution.action == "reentry",
        )
        .order_by(models.BatchResolution.id)
    ).all()
    for resolution, name in rows:
        orders[resolution.batch_id].append(
            ReentryOrder(
                discarded_generation=resolution.generation,
                reason=resolution.reason,
                author_role=resolution.author_role,
                author_name=name,
                ordered_at=resolution.created_at,
            )
        )
    return orders


def final_records(session: Session, batch: models.Batch) -> list[Record]:
    """The final records of a reconciled batch (empty otherwise)."""
    if batch.status != RECONCILED:
        return []
    resolution = session.scalars(
        select(models.BatchResolution)
        .where(
            models.BatchResolution.batch_id == batch.id,
            models.BatchResolution.generation == batch.generation,
            models.BatchResolution.action == "records",
        )
        .order_by(models.BatchResolution.id.desc())
        .limit(1)
    ).one_or_none()
    a = _pass_records(session, batch, PASS_A)
    b = None if batch.teller_b_id is None else _pass_records(session, batch, PASS_B)
    texts = final_record_texts(a, b, None if resolution is None else list(resolution.records))
    return [Record.from_text(text) for text in texts]


def reconciled_papers(session: Session, *, round_id: int) -> list[PaperRecord]:
    """Every reconciled batch's final records, as the engine reads them (sorted, not in entry
    order). C1/I4 — whether every paper is in — is ``round_count_status(...).ready``."""
    papers: list[PaperRecord] = []
    for batch in list_batches(session, round_id=round_id):
        papers.extend(record.to_paper() for record in final_records(session, batch))
    return sorted(papers, key=paper_order)
