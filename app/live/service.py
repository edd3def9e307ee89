"""Snapshots for the live stream, and releasing a certified result to the hall (C3).

A snapshot is read in one short transaction of its own and carries the congress's chain height
it reflects (the SSE ``id``). What it holds depends on who watches (``View``):

* ``full`` (presidium, chief scrutineer, scrutineers, admin): progress; while the round is
  counted, the provisional per-candidate numbers (``app.live.provisional``) from the reconciled
  batches' final records and pass A's entries of the batches not yet reconciled, marked
  ``provisional`` (none before the first paper is entered: no verdict on nothing); once the round
  is decided, ``decided``: the recorded decision on the reconciled papers (C1), with
  ``certified`` once signed (C2) — never pass A's figures again;
* ``progress`` (tellers, chief teller, auditors): progress only;
* ``projector`` (the hall display): progress, and per candidate only the results the presidium
  has released (C3) — never provisional numbers, whoever is logged in. The presidium's preview
  (``preview_round_id``) is the projector view as it will be once that certified round is
  released: the same figures, from the same decision, through the same ``_figures``.

``decided`` and ``released`` carry the same figures: outcome, elected, majority (the round's
``kind`` says whether it applies: a tie round is decided by plurality, M7), attendance
(应到/实到/发出/收回), papers (valid/invalid), tallies with each person's standing, next round.

Events: ``round.released``.
"""

from collections import Counter
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import models
from app.auth.roles import Principal, Role
from app.counting import batches as counting_batches
from app.counting import reconciliation as counting_reconciliation
from app.counting import records as counting_records
from app.counting import status as counting_status
from app.errors import Conflict, NotFound
from app.ledger import store
from app.live.provisional import provisional_paper, provisional_result, standings
from app.papers import service as papers_service
from app.results import service as results_service
from app.rules import PaperRecord
from app.setup import service as setup_service

View = Literal["full", "progress", "projector"]
FULL_ROLES = frozenset({Role.presidium, Role.chief_scrutineer, Role.scrutineer, Role.admin})
RELEASED = results_service.ROUND_RELEASED


def view_for(principal: Principal, *, projector: bool) -> View:
    if projector:
        return "projector"
    return "full" if principal.role in FULL_ROLES else "progress"


def chain_height(session: Session, *, congress_id: int) -> int:
    height = session.scalar(
        select(func.max(models.Event.height)).where(models.Event.congress_id == congress_id)
    )
    return -1 if height is None else int(height)


def _provisional_papers(session: Session, round_id: int) -> Counter[PaperRecord]:
    """The papers counted so far, each distinct paper with its count: a reconciled batch's final
    records (C1), and pass A's entries of a batch not yet reconciled (an unclear mark read as
    abstaining, provisionally).

    A batch reconciled without a scrutineer's resolution has final records equal to pass A's (the
    passes agreed): one query counts pass A's records of every batch but those resolved, grouped
    by the record's text, so each distinct record is read once however many papers carry it
    (every channel of every worker reads this after each paper entered); the final records of a
    resolved batch are read batch by batch (few: a resolution is the exception).
    """
    resolved_ids = set(
        session.scalars(
            select(models.BatchResolution.batch_id)
            .join(models.Batch, models.Batch.id == models.BatchResolution.batch_id)
            .where(
                models.Batch.round_id == round_id,
                models.Batch.status == counting_batches.RECONCILED,
                models.BatchResolution.generation == models.Batch.generation,
                models.BatchResolution.action == "records",
            )
        )
    )
    papers: Counter[PaperRecord] = Counter()
    for batch_id in sorted(resolved_ids):
        batch = session.get_one(models.Batch, batch_id)
        for record in counting_reconciliation.final_records(session, batch):
            papers[provisional_paper(record.marks, record.write_ins, record.void)] += 1
    rows = session.execute(
        select(models.PaperEntry.record, func.count())
        .join(models.Batch, models.Batch.id == models.PaperEntry.batch_id)
        .where(
            models.Batch.round_id == round_id,
            models.Batch.id.not_in(resolved_ids),
            models.PaperEntry.entry_pass == counting_batches.PASS_A,
            models.PaperEntry.generation == models.Batch.generation,
        )
        .group_by(models.PaperEntry.record)
    )
    for text, copies in rows:
        papers[_provisional_of(text)] += copies
    return papers


@lru_cache(maxsize=4096)
def _provisional_of(text: str) -> PaperRecord:
    """A stored record's text as the provisional tally reads it; texts repeat read after read."""
    record = counting_records.Record.from_text(text)
    return provisional_paper(record.marks, record.write_ins, record.void)


def released_decision(session: Session, round_: models.Round) -> dict[str, Any] | None:
    """The round's decision if it is certified and the presidium released that decision."""
    decision = results_service.released_decision(session, round_)
    return None if decision is None else decision.result


def _figures(round_: models.Round, result: dict[str, Any], delegates_total: int) -> dict[str, Any]:
    """The decided round's result as the dashboard and the projector show it (C4's figures)."""
    return {
        "kind": result["round"]["kind"],
        "outcome": result["round"]["outcome"],
        "elected": result["elected"],
        "vacant": result["vacant"],
        "majority": result["majority"],
        "attendance": {
            "delegates_total": delegates_total,
            "present": round_.present,
            "issued": round_.issued,
            "collected": round_.collected,
        },
        "papers": result["papers"],
        "tallies": standings(result),
        "next_round": result["next_round"],
    }


def _progress_figures(p: counting_batches.Progress) -> dict[str, Any]:
    return {"declared": p.declared, "pass_a": p.pass_a, "pass_b": p.pass_b, "status": p.status}


def _round_snapshot(
    session: Session,
    round_: models.Round,
    *,
    delegates_total: int,
    view: View,
    preview: bool = False,
) -> dict[str, Any]:
    """A round as the live stream shows it; ``view`` decides whether counts before the release
    (provisional, decided) are in it."""
    listed = counting_batches.list_batches(session, round_id=round_.id)
    progress = counting_batches.progresses(session, listed)
    status = counting_status.count_status_of(round_, listed, progress)
    batches = [
        {"number": batch.number} | _progress_figures(p)
        for batch, p in zip(listed, progress, strict=True)
    ]
    snapshot: dict[str, Any] = {
        "round_id": round_.id,
        "number": round_.number,
        "kind": round_.kind,
        "status": round_.status,
        "seats": round_.seats,
        "candidates": list(round_.candidates),
        "present": round_.present,
        "issued": round_.issued,
        "progress": {
            "collected": status.collected,
            "declared": status.declared,
            "entered": status.papers_entered,
            "reconciled": status.papers_reconciled,
            "batches_open": status.batches_open,
            "discrepancies_open": status.discrepancies_open,
            "adjudications_open": status.adjudications_open,
            "batches": batches,
        },
        "provisional": None,
        "decided": None,
        "released": None,
    }
    released = released_decision(session, round_)
    if released is None and preview:
        decision = results_service.decision_of(session, round_)
        assert decision is not None  # only a certified round is previewed (ensure_releasable)
        released = decision.result
    if released is not None:
        snapshot["released"] = _figures(round_, released, delegates_total)
    if view != "full" or round_.status == papers_service.ROUND_VOID:
        return snapshot
    if round_.status in (results_service.ROUND_DECIDED, results_service.ROUND_CERTIFIED):
        # Decided: the recorded decision on the reconciled papers (C1), never pass A's entries.
        decision = results_service.decision_of(session, round_)
        assert decision is not None  # decided implies a decision
        snapshot["decided"] = _figures(round_, decision.result, delegates_total) | {
            "certified": round_.status == results_service.ROUND_CERTIFIED
        }
    elif status.papers_entered > 0:  # no verdict before the first paper is entered
        snapshot["provisional"] = _provisional(session, round_, delegates_total)
    return snapshot


def _provisional(session: Session, round_: models.Round, delegates_total: int) -> dict[str, Any]:
    """The count so far of a round being counted, said to be provisional and on what basis."""
    document = provisional_result(
        papers_service.round_definition(round_),
        delegates_total=delegates_total,
        present=round_.present,
        issued=round_.issued,
        papers=_provisional_papers(session, round_.id),
    )
    document["provisional"] = True
    document["basis_zh"] = (
        "已核对的批次按核对后的记录计算，未核对的批次按第一遍录入计算；"
        "无法辨认的符号暂按弃权计；尚未作出决定"
    )
    document["basis_en"] = (
        "reconciled batches from their final records, the others from pass A's entries; "
        "unclear marks count as abstaining for now; not decided yet"
    )
    return document


def snapshot(
    session: Session, *, election_id: int, view: View, preview_round_id: int | None = None
) -> dict[str, Any]:
    """The election as the live page shows it, with the chain height it reflects.

    ``preview_round_id`` (view ``projector``): that certified round shown as released (C3
    preview); refused unless the round is this election's and certified."""
    election = setup_service.get_election(session, election_id=election_id)
    congress = setup_service.get_congress(session, congress_id=election.congress_id)
    rounds = papers_service.list_rounds(session, election_id=election_id)
    if preview_round_id is not None:
        previewed = next((r for r in rounds if r.id == preview_round_id), None)
        if previewed is None:
            raise NotFound(
                "round_not_in_election",
                f"本项选举没有编号为 {preview_round_id} 的轮次",
                f"election {election_id} has no round {preview_round_id}",
            )
        ensure_releasable(previewed)
    return {
        "height": chain_height(session, congress_id=election.congress_id),
        "view": view,
        "election_id": election.id,
        "congress_id": election.congress_id,
        "title": election.title,
        "seats": election.seats,
        "delegates_total": congress.delegates_total,
        "rounds": [
            _round_snapshot(
                session,
                r,
                delegates_total=congress.delegates_total,
                view=view,
                preview=r.id == preview_round_id,
            )
            for r in rounds
        ],
    }


def ensure_releasable(round_: models.Round) -> None:
    """C3 follows C2: only a certified round is released (or previewed)."""
    if round_.status != results_service.ROUND_CERTIFIED:
        raise Conflict(
            "round_not_certified",
            "只能公布已确认（总监票人、监票人签字）的结果（C2/C3）",
            "only a certified result can be released (C2/C3)",
        )


def release_round(session: Session, *, actor: Principal, round_id: int) -> models.Round:
    """C3: the presidium releases the certified result to the hall display."""
    round_ = papers_service.get_round(session, round_id=round_id)
    congress_id = papers_service.congress_of(session, round_)
    actor.ensure_congress(congress_id)
    store.lock_chain(session, congress_id=congress_id)
    session.refresh(round_)
    ensure_releasable(round_)
    if released_decision(session, round_) is not None:
        raise Conflict("already_released", "本轮结果已公布", "this result is already released")
    decision = results_service.decision_of(session, round_)
    assert decision is not None  # certified implies decided
    store.append_event(
        session,
        congress_id=congress_id,
        type=RELEASED,
        payload={
            "round_id": round_.id,
            "election_id": round_.election_id,
            "decision": decision.event_hash,
        },
        actor_role=actor.role,
    )
    return round_
