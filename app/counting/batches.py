"""Batches of collected papers and who enters them (RULES.md O3, I4). Each use case runs in the
request's transaction, appends its event and flushes.

A batch is entered by pass A and, with double entry (profile ``double_entry``, default on), blind
by pass B, a different teller (O3); the pass follows from who is logged in. Secrecy: entries get a
random id (uuid4) and a minute-coarse time; lists are sorted by the random id, never in entry
order; no teller ever receives the other pass's records. The entries themselves are written by
``app.counting.entry``.

Events: ``batch.created``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session

from app import models
from app.auth.roles import Principal
from app.errors import Conflict, Forbidden, InvalidInput, not_found
from app.ledger import store
from app.ledger.chain import JsonValue
from app.papers import service as papers_service

Pass = Literal["a", "b"]


PASS_A: Pass = "a"


PASS_B: Pass = "b"


ENTERING = "entering"


DISCREPANCY = "discrepancy"


ADJUDICATION = "adjudication"


RECONCILED = "reconciled"


DISPUTED = (DISCREPANCY, ADJUDICATION)


# What people in the hall call each state of a batch (the one place: messages use these words).
BATCH_STATUS_ZH: dict[str, str] = {
    ENTERING: "录入中",
    DISCREPANCY: "两遍录入有差异，待裁定",
    ADJUDICATION: "有无法辨认的符号，待裁定",
    RECONCILED: "已核对",
}


def batch_status_zh(status: str) -> str:
    return BATCH_STATUS_ZH.get(status, status)


def get_batch(session: Session, *, batch_id: int) -> models.Batch:
    batch = session.get(models.Batch, batch_id)
    if batch is None:
        raise not_found("批次", "batch", batch_id)
    return batch


def _teller(session: Session, *, congress_id: int, official_id: int, field: str) -> None:
    official = session.get(models.Official, official_id)
    if official is None or official.congress_id != congress_id or official.role != "teller":
        raise InvalidInput(
            "not_a_teller",
            f"编号 {official_id} 不是本次大会的计票人",
            f"official {official_id} is not a teller of this congress",
            field=field,
        )


def declared_total(session: Session, *, round_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(models.Batch.declared_count), 0)).where(
            models.Batch.round_id == round_id
        )
    )
    return int(total or 0)


def _check_tellers(
    session: Session,
    *,
    congress_id: int,
    double_entry: bool,
    teller_a_id: int,
    teller_b_id: int | None,
) -> None:
    """Pass A's teller, and with double entry a different teller for pass B (O3)."""
    _teller(session, congress_id=congress_id, official_id=teller_a_id, field="body.teller_a_id")
    if double_entry:
        if teller_b_id is None:
            raise InvalidInput(
                "second_teller_required",
                "双人录入：请指定第二遍录入的计票人（O3）",
                "double entry: name the teller of pass B (O3)",
                field="body.teller_b_id",
            )
        if teller_b_id == teller_a_id:
            raise InvalidInput(
                "same_teller_both_passes",
                "同一批次的两遍录入须由不同的计票人完成（O3）",
                "the two passes of a batch must be entered by different tellers (O3)",
                field="body.teller_b_id",
            )
        _teller(session, congress_id=congress_id, official_id=teller_b_id, field="body.teller_b_id")
    elif teller_b_id is not None:
        raise InvalidInput(
            "no_second_pass",
            "本选举不采用双人录入，不需要第二位计票人",
            "this election does not use double entry: no pass B teller",
            field="body.teller_b_id",
        )


def _collected_round(
    session: Session, *, actor: Principal, round_id: int
) -> tuple[models.Round, int, int]:
    """The round, its congress (chain locked) and its collected papers: batches follow the
    collection."""
    round_ = papers_service.get_round(session, round_id=round_id)
    congress_id = papers_service.congress_of(session, round_)
    actor.ensure_congress(congress_id)
    store.lock_chain(session, congress_id=congress_id)
    session.refresh(round_)
    if round_.status not in (papers_service.ROUND_COLLECTED, papers_service.ROUND_COUNTING):
        raise Conflict(
            "round_state",
            f"第 {round_.number} 轮当前为“{papers_service.round_status_zh(round_.status)}”，"
            "收回选票后才能分批录入",
            f"round {round_.number} is {round_.status}: batches follow the collection",
        )
    assert round_.collected is not None
    return round_, congress_id, round_.collected


def _check_declared(
    session: Session, *, round_id: int, declared_count: int, collected: int
) -> None:
    """The batches of a round may not hold more papers than were collected (I4)."""
    already = declared_total(session, round_id=round_id)
    if already + declared_count > collected:
        raise InvalidInput(
            "batches_exceed_collected",
            f"各批次张数合计 {already + declared_count} 多于收回选票 {collected} 张（I4）",
            f"batches would hold {already + declared_count} papers, more than the "
            f"{collected} collected (I4)",
            field="body.declared_count",
        )


def create_batch(
    session: Session,
    *,
    actor: Principal,
    round_id: int,
    declared_count: int,
    teller_a_id: int,
    teller_b_id: int | None,
) -> models.Batch:
    """A new batch of collected papers; the declared counts may not exceed ``collected`` (I4)."""
    round_, congress_id, collected = _collected_round(session, actor=actor, round_id=round_id)
    double_entry = papers_service.round_definition(round_).profile.double_entry
    _check_tellers(
        session,
        congress_id=congress_id,
        double_entry=double_entry,
        teller_a_id=teller_a_id,
        teller_b_id=teller_b_id,
    )
    _check_declared(session, round_id=round_id, declared_count=declared_count, collected=collected)
    number = (
        session.scalar(
            select(func.coalesce(func.max(models.Batch.number), 0)).where(
                models.Batch.round_id == round_id
            )
        )
        or 0
    ) + 1
    batch = models.Batch(
        round_id=round_id,
        number=number,
        declared_count=declared_count,
        teller_a_id=teller_a_id,
        teller_b_id=teller_b_id,
        generation=1,
        status=ENTERING,
    )
    session.add(batch)
    round_.status = papers_service.ROUND_COUNTING
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="batch.created",
        payload={
            "round_id": round_id,
            "batch_id": batch.id,
            "number": number,
            "declared_count": declared_count,
            "teller_a_id": teller_a_id,
            "teller_b_id": teller_b_id,
        },
        actor_role=actor.role,
    )
    return batch


def list_batches(session: Session, *, round_id: int) -> Sequence[models.Batch]:
    return session.scalars(
        select(models.Batch).where(models.Batch.round_id == round_id).order_by(models.Batch.number)
    ).all()


@dataclass(frozen=True, slots=True)
class Progress:
    batch_id: int
    declared: int
    pass_a: int
    pass_b: int | None  # None without double entry
    status: str
    generation: int


def progress(session: Session, batch: models.Batch) -> Progress:
    return progresses(session, [batch])[0]


def progresses(session: Session, batches: Sequence[models.Batch]) -> list[Progress]:
    """Each batch's progress (its current generation's entries per pass), in one query: the live
    snapshot reads a round's batches after every paper entered."""
    if not batches:
        return []
    rows = session.execute(
        select(models.PaperEntry.batch_id, models.PaperEntry.entry_pass, func.count())
        .join(models.Batch, models.Batch.id == models.PaperEntry.batch_id)
        .where(
            models.PaperEntry.batch_id.in_([batch.id for batch in batches]),
            models.PaperEntry.generation == models.Batch.generation,
        )
        .group_by(models.PaperEntry.batch_id, models.PaperEntry.entry_pass)
    )
    counts: dict[tuple[int, str], int] = {(int(b), str(p)): int(n) for b, p, n in rows}
    return [
        Progress(
            batch_id=batch.id,
            declared=batch.declared_count,
            pass_a=counts.get((batch.id, PASS_A), 0),
            pass_b=None if batch.teller_b_id is None else counts.get((batch.id, PASS_B), 0),
            status=batch.status,
            generation=batch.generation,
        )
        for batch in batches
    ]


def progress_json(p: Progress) -> dict[str, JsonValue]:
    return {
        "batch_id": p.batch_id,
        "declared": p.declared,
        "pass_a": p.pass_a,
        "pass_b": p.pass_b,
        "status": p.status,
        "generation": p.generation,
    }


def pass_for(teller_a_id: int, teller_b_id: int | None, actor: Principal) -> Pass:
    if actor.official_id is not None and actor.official_id == teller_a_id:
        return PASS_A
    if actor.official_id is not None and actor.official_id == teller_b_id:
        return PASS_B
    raise Forbidden(
        "not_assigned_to_batch",
        "您不是该批次指定的计票人",
        "you are not a teller assigned to this batch",
    )


def pass_of(batch: models.Batch, actor: Principal) -> Pass:
    return pass_for(batch.teller_a_id, batch.teller_b_id, actor)


def own_papers(
    session: Session, *, actor: Principal, batch_id: int
) -> tuple[models.Batch, Pass, list[models.PaperEntry]]:
    """The caller's own pass of a batch (current generation), sorted by random id — never the
    other pass."""
    batch = get_batch(session, batch_id=batch_id)
    round_ = papers_service.get_round(session, round_id=batch.round_id)
    actor.ensure_congress(papers_service.congress_of(session, round_))
    entry_pass = pass_of(batch, actor)
    rows = session.scalars(
        select(models.PaperEntry)
        .where(
            models.PaperEntry.batch_id == batch.id,
            models.PaperEntry.entry_pass == entry_pass,
            models.PaperEntry.generation == batch.generation,
        )
        .order_by(models.PaperEntry.id)
    ).all()
    return batch, entry_pass, list(rows)
