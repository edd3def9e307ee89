"""Counting on tablets: batches, blind double entry, reconciliation, adjudication (RULES.md O3, P6,
I4, C1). Each use case runs in the request's transaction, appends its event and flushes.

* A **batch** is entered by pass A and, with double entry (profile ``double_entry``, default on),
  blind by pass B, a different teller (O3). The pass follows from who is logged in.
* A **record** is canonical: the marks in ballot order, the write-ins normalized (P7) and sorted,
  the whole-paper void rule. Its canonical JSON text is what the passes compare, as multisets.
* When both passes hold ``declared_count`` papers the batch is compared: equal → reconciled (or,
  if some agreed records carry an ``unclear`` mark, sent to adjudication, P6); different → a
  discrepancy listing the multiset difference on each side. A scrutineer then supplies the final
  records of the disputed papers (with a reason) or orders the batch re-entered. Entries are never
  edited: a resolution is a new row and a new event.

Secrecy: entries get a random id (uuid4) and a minute-coarse time; lists are sorted by the random
id (or by record), never in entry order; no teller ever receives the other pass's records.

Events: ``batch.created``, ``paper.entered``, ``batch.discrepancy``, ``batch.needs_adjudication``,
``batch.resolved``, ``batch.reconciled``, ``batch.reentry_ordered``.
"""

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

from pypinyin import Style, pinyin
from sqlalchemy import event, func, or_, select
from sqlalchemy.orm import Session, UOWTransaction

from app import models
from app.auth import Principal
from app.errors import Conflict, Forbidden, InvalidInput, not_found
from app.ledger import store
from app.ledger.chain import JsonValue, canonical_json
from app.ledger.replay import compare_passes, final_record_texts
from app.models import utcnow
from app.papers import service as papers_service
from app.rules.model import (
    Mark,
    PaperRecord,
    RoundDefinition,
    RoundInputError,
    VoidRule,
    WriteIn,
    normalize_name,
)
from app.rules.validity import judge_paper
from app.setup import service as setup_service

Pass = Literal["a", "b"]
PASS_A: Pass = "a"
PASS_B: Pass = "b"

ENTERING = "entering"
DISCREPANCY = "discrepancy"
ADJUDICATION = "adjudication"
RECONCILED = "reconciled"
DISPUTED = (DISCREPANCY, ADJUDICATION)

UNCLEAR = "unclear"


# ---------------------------------------------------------------- canonical records


@dataclass(frozen=True, slots=True)
class Record:
    """One paper as the passes compare it (the canonical record)."""

    marks: tuple[str, ...]  # ballot order; entered marks may be "unclear"
    write_ins: tuple[WriteIn, ...]  # normalized (P7), sorted, illegible (None) last
    void: VoidRule | None

    @property
    def unclear(self) -> bool:
        return UNCLEAR in self.marks

    def text(self) -> str:
        document: dict[str, JsonValue] = {
            "marks": list(self.marks),
            "void": self.void,
            "write_ins": list(self.write_ins),
        }
        return canonical_json(document).decode("utf-8")

    @classmethod
    def from_text(cls, text: str) -> "Record":
        data = json.loads(text)
        return cls(tuple(data["marks"]), tuple(data["write_ins"]), data["void"])

    def to_paper(self) -> PaperRecord:
        assert not self.unclear
        return PaperRecord(
            marks=cast(tuple[Mark, ...], self.marks), write_ins=self.write_ins, void=self.void
        )

    def shown(self, candidates: Sequence[str]) -> dict[str, Any]:
        """The record as the API shows it: marks by candidate name, in ballot order."""
        return {
            "marks": dict(zip(candidates, self.marks, strict=True)),
            "write_ins": list(self.write_ins),
            "void": self.void,
        }


def _write_in_key(name: WriteIn) -> tuple[bool, str]:
    return (name is None, name or "")


def make_record(
    definition: RoundDefinition,
    *,
    marks: Mapping[str, str],
    write_ins: Sequence[str | None],
    void: VoidRule | None,
    field_prefix: str = "body",
) -> Record:
    """Check a paper as entered against the round's paper and make its canonical record.

    A candidate missing from ``marks`` is blank (P5); names are matched after P7 normalization.
    """
    index = {normalize_name(name): i for i, name in enumerate(definition.candidates)}
    ordered = ["blank"] * len(definition.candidates)
    seen: set[int] = set()
    for name, mark in marks.items():
        position = index.get(normalize_name(name))
        if position is None:
            raise InvalidInput(
                "unknown_candidate",
                f"{name} 不是本轮选票上的候选人",
                f"{name} is not a candidate on this round's paper",
                field=f"{field_prefix}.marks.{name}",
            )
        if position in seen:
            raise InvalidInput(
                "duplicate_candidate_mark",
                f"{name} 的符号重复填写",
                f"{name} is marked twice",
                field=f"{field_prefix}.marks.{name}",
            )
        seen.add(position)
        ordered[position] = mark
    if write_ins and not definition.has_write_ins:
        raise InvalidInput(
            "tie_round_has_no_write_ins",
            "票数相等重新投票的选票没有“另选他人”栏（M7）",
            "a tie-round paper has no write-in boxes (M7)",
            field=f"{field_prefix}.write_ins",
        )
    if len(write_ins) > definition.seats:
        raise InvalidInput(
            "too_many_write_in_boxes",
            f"选票只有 {definition.seats} 个“另选他人”栏",
            f"the paper has only {definition.seats} write-in boxes",
            field=f"{field_prefix}.write_ins",
        )
    normalized: list[WriteIn] = []
    for position, written in enumerate(write_ins):
        if written is None:
            normalized.append(None)
            continue
        name = normalize_name(written)
        if not name:
            raise InvalidInput(
                "empty_write_in",
                "另选他人姓名为空；无法辨认的姓名请填 null",
                "an empty write-in; send null for a name that cannot be read",
                field=f"{field_prefix}.write_ins.{position}",
            )
        normalized.append(name)
    return Record(tuple(ordered), tuple(sorted(normalized, key=_write_in_key)), void)


@dataclass(frozen=True, slots=True)
class Judgement:
    status: Literal["valid", "invalid", "pending"]
    rule: str | None
    violations: tuple[str, ...]


def judge(record: Record, definition: RoundDefinition) -> Judgement:
    """P1–P9 through the engine; an unclear mark leaves the paper pending (P6) unless the whole
    paper is void anyway."""
    if record.unclear and record.void is None:
        return Judgement("pending", None, ())
    marks = tuple("illegible" if mark == UNCLEAR else mark for mark in record.marks)
    paper = PaperRecord(cast(tuple[Mark, ...], marks), record.write_ins, record.void)
    try:
        verdict = judge_paper(paper, definition)
    except RoundInputError as exc:  # checked in make_record; kept as a 422 should it change
        raise InvalidInput("invalid_paper", exc.message_zh, exc.message_en, field="body") from None
    if verdict.valid:
        return Judgement("valid", None, ())
    return Judgement("invalid", verdict.reason, verdict.violations)


# ---------------------------------------------------------------- batches


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


def _refuse_removing_assigned_tellers(
    session: Session, _flush_context: UOWTransaction, _instances: object
) -> None:
    """A teller named on a batch stays (the batch's passes are theirs): 409, not a failed key."""
    for obj in session.deleted:
        if not isinstance(obj, models.Official):
            continue
        assigned = session.scalar(
            select(func.count(models.Batch.id)).where(
                or_(models.Batch.teller_a_id == obj.id, models.Batch.teller_b_id == obj.id)
            )
        )
        if assigned:
            raise Conflict(
                "official_assigned_to_batch",
                f"{obj.name} 已被指定录入选票批次，不能删除",
                f"{obj.name} is assigned to a batch of papers and cannot be removed",
            )


event.listen(Session, "before_flush", _refuse_removing_assigned_tellers)


def declared_total(session: Session, *, round_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(models.Batch.declared_count), 0)).where(
            models.Batch.round_id == round_id
        )
    )
    return int(total or 0)


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
    round_ = papers_service.get_round(session, round_id=round_id)
    congress_id = papers_service.congress_of(session, round_)
    actor.ensure_congress(congress_id)
    store.lock_chain(session, congress_id=congress_id)
    session.refresh(round_)
    if round_.status not in (papers_service.ROUND_COLLECTED, papers_service.ROUND_COUNTING):
        raise Conflict(
            "round_state",
            f"第 {round_.number} 轮当前状态为 {round_.status}，收回选票后才能分批录入",
            f"round {round_.number} is {round_.status}: batches follow the collection",
        )
    assert round_.collected is not None
    double_entry = papers_service.round_definition(round_).profile.double_entry
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
    already = declared_total(session, round_id=round_id)
    if already + declared_count > round_.collected:
        raise InvalidInput(
            "batches_exceed_collected",
            f"各批次张数合计 {already + declared_count} 多于收回选票 {round_.collected} 张（I4）",
            f"batches would hold {already + declared_count} papers, more than the "
            f"{round_.collected} collected (I4)",
            field="body.declared_count",
        )
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
    rows = session.execute(
        select(models.PaperEntry.entry_pass, func.count(models.PaperEntry.id))
        .where(
            models.PaperEntry.batch_id == batch.id,
            models.PaperEntry.generation == batch.generation,
        )
        .group_by(models.PaperEntry.entry_pass)
    )
    counts: dict[str, int] = {str(row[0]): int(row[1]) for row in rows}
    return Progress(
        batch_id=batch.id,
        declared=batch.declared_count,
        pass_a=counts.get(PASS_A, 0),
        pass_b=None if batch.teller_b_id is None else counts.get(PASS_B, 0),
        status=batch.status,
        generation=batch.generation,
    )


def progress_json(p: Progress) -> dict[str, JsonValue]:
    return {
        "batch_id": p.batch_id,
        "declared": p.declared,
        "pass_a": p.pass_a,
        "pass_b": p.pass_b,
        "status": p.status,
        "generation": p.generation,
    }


# ---------------------------------------------------------------- paper entry


def pass_of(batch: models.Batch, actor: Principal) -> Pass:
    if actor.official_id is not None and actor.official_id == batch.teller_a_id:
        return PASS_A
    if actor.official_id is not None and actor.official_id == batch.teller_b_id:
        return PASS_B
    raise Forbidden(
        "not_assigned_to_batch",
        "您不是该批次指定的计票人",
        "you are not a teller assigned to this batch",
    )


def _request_hash(body: Mapping[str, JsonValue]) -> str:
    return hashlib.sha256(canonical_json(body)).hexdigest()


@lru_cache(maxsize=4096)
def _roster_key(name: str) -> str:
    return normalize_name(name)


def not_on_roster(session: Session, *, congress_id: int, record: Record) -> list[str]:
    written = [name for name in record.write_ins if name is not None]
    if not written:
        return []
    roster = {
        _roster_key(name)
        for name in session.scalars(
            select(models.Delegate.name).where(models.Delegate.congress_id == congress_id)
        )
    }
    return [name for name in dict.fromkeys(written) if name not in roster]


def enter_paper(
    session: Session,
    *,
    actor: Principal,
    batch_id: int,
    idempotency_key: str,
    qr_payload: str,
    marks: Mapping[str, str],
    write_ins: Sequence[str | None],
    void: VoidRule | None,
    data_dir: Path,
) -> dict[str, Any]:
    """Enter one paper for the caller's pass; a retried key returns the first answer unchanged.

    The hot path of a count: batch, round and congress come in one query; the batch is re-read
    after the chain lock only on PostgreSQL (SQLite's BEGIN IMMEDIATE already read it locked).
    """
    found = session.execute(
        select(models.Batch, models.Round, models.Election.congress_id)
        .join(models.Round, models.Round.id == models.Batch.round_id)
        .join(models.Election, models.Election.id == models.Round.election_id)
        .where(models.Batch.id == batch_id)
    ).one_or_none()
    if found is None:
        raise not_found("批次", "batch", batch_id)
    batch, round_, congress_id = found[0], found[1], int(found[2])
    actor.ensure_congress(congress_id)
    entry_pass = pass_of(batch, actor)
    if session.get_bind().dialect.name == "postgresql":
        store.lock_chain(session, congress_id=congress_id)
        session.refresh(batch)
    request_hash = _request_hash(
        {"qr_payload": qr_payload, "marks": dict(marks), "write_ins": list(write_ins), "void": void}
    )
    earlier = session.scalars(
        select(models.PaperEntry).where(
            models.PaperEntry.batch_id == batch.id,
            models.PaperEntry.entry_pass == entry_pass,
            models.PaperEntry.idempotency_key == idempotency_key,
        )
    ).one_or_none()
    if earlier is not None:
        if earlier.request_hash != request_hash:
            raise Conflict(
                "idempotency_key_reused",
                "该录入编号已用于另一张不同的选票记录",
                "this idempotency key was already used for a different paper",
                field="body.idempotency_key",
            )
        replayed: dict[str, Any] = json.loads(earlier.answer)
        return replayed
    if batch.status != ENTERING:
        raise Conflict(
            "batch_not_entering",
            f"该批次当前状态为 {batch.status}，不再接受录入",
            f"the batch is {batch.status}: no more entries",
        )
    before = progress(session, batch)
    entered = before.pass_a if entry_pass == PASS_A else (before.pass_b or 0)
    if entered >= batch.declared_count:
        raise Conflict(
            "batch_full",
            f"本遍已录入 {entered} 张，已达该批次申报的 {batch.declared_count} 张",
            f"this pass already holds {entered} papers, the batch's declared count",
        )
    definition = papers_service.round_definition(round_)
    record = make_record(definition, marks=marks, write_ins=write_ins, void=void)
    if void != "P1":  # a paper declared not authentic (P1) is entered whatever its code says
        papers_service.verify_scan(session, round_=round_, payload=qr_payload, data_dir=data_dir)
    judgement = judge(record, definition)
    unknown_names = not_on_roster(session, congress_id=congress_id, record=record)
    paper_id = str(uuid.uuid4())
    now = utcnow()
    after = Progress(
        batch_id=batch.id,
        declared=batch.declared_count,
        pass_a=before.pass_a + (entry_pass == PASS_A),
        pass_b=None if before.pass_b is None else before.pass_b + (entry_pass == PASS_B),
        status=batch.status,
        generation=batch.generation,
    )

    def answer_for(progress_now: Progress) -> dict[str, Any]:
        return {
            "paper_id": paper_id,
            "pass": entry_pass,
            "status": judgement.status,
            "valid": None if judgement.status == "pending" else judgement.status == "valid",
            "rule": judgement.rule,
            "violations": list(judgement.violations),
            "write_ins_not_on_roster": unknown_names,
            "progress": progress_json(progress_now),
        }

    answer = answer_for(after)
    entry = models.PaperEntry(
        id=paper_id,
        batch_id=batch.id,
        entry_pass=entry_pass,
        generation=batch.generation,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        record=record.text(),
        status=judgement.status,
        rule=judgement.rule,
        answer=json.dumps(answer, ensure_ascii=False),
        entered_at=now.replace(second=0, microsecond=0),
    )
    session.add(entry)
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="paper.entered",
        payload={
            "round_id": round_.id,
            "round_number": round_.number,
            "batch_id": batch.id,
            "pass": entry_pass,
            "generation": batch.generation,
            "paper_id": paper_id,
            "record": json.loads(entry.record),
            "status": judgement.status,
            "rule": judgement.rule,
        },
        actor_role=actor.role,
        now=now,
    )
    if _complete(after):  # the batch's last paper: compare the passes, answer the new status
        _compare(session, batch=batch, congress_id=congress_id, actor_role=actor.role)
        answer = answer_for(progress(session, batch))
        entry.answer = json.dumps(answer, ensure_ascii=False)
        session.flush()
    return answer


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


# ---------------------------------------------------------------- reconciliation


def _complete(p: Progress) -> bool:
    return p.pass_a == p.declared and (p.pass_b is None or p.pass_b == p.declared)


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


def _compare(session: Session, *, batch: models.Batch, congress_id: int, actor_role: str) -> None:
    """Both passes are complete: reconcile, or name the discrepancy / the unclear marks."""
    _, items = _agreed(session, batch)
    base: dict[str, JsonValue] = {"batch_id": batch.id, "generation": batch.generation}
    if items.only_in_pass_a or items.only_in_pass_b:
        batch.status = DISCREPANCY
        payload = base | {
            "only_in_pass_a": _records_json(items.only_in_pass_a),
            "only_in_pass_b": _records_json(items.only_in_pass_b),
            "unclear": _records_json(items.unclear),
        }
        event_type = "batch.discrepancy"
    elif items.unclear:
        batch.status = ADJUDICATION
        payload = base | {"unclear": _records_json(items.unclear)}
        event_type = "batch.needs_adjudication"
    else:
        batch.status = RECONCILED
        payload = base | {"papers": batch.declared_count}
        event_type = "batch.reconciled"
    session.flush()
    store.append_event(
        session, congress_id=congress_id, type=event_type, payload=payload, actor_role=actor_role
    )


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
            f"该批次当前状态为 {batch.status}，没有待裁定的差异",
            f"the batch is {batch.status}: nothing to resolve",
        )
    return batch, round_, congress_id


@dataclass(frozen=True, slots=True)
class RecordInput:
    marks: Mapping[str, str]
    write_ins: Sequence[str | None]
    void: VoidRule | None


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


# ---------------------------------------------------------------- for deciding a round


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
    return sorted(papers)


@dataclass(frozen=True, slots=True)
class RoundCountStatus:
    round_id: int
    collected: int | None
    declared: int
    batches: int
    batches_open: int  # not yet reconciled
    discrepancies_open: int
    adjudications_open: int
    papers_entered: int  # pass A entries of the current generations
    papers_reconciled: int

    @property
    def all_declared(self) -> bool:
        """I4: the batches' declared counts add up to ``collected``."""
        return self.collected is not None and self.declared == self.collected

    @property
    def ready(self) -> bool:
        """C1 + I4: every batch reconciled and the reconciled papers equal ``collected``."""
        return (
            self.all_declared
            and self.batches_open == 0
            and self.papers_reconciled == self.collected
        )


def round_count_status(session: Session, *, round_id: int) -> RoundCountStatus:
    round_ = papers_service.get_round(session, round_id=round_id)
    batches = list_batches(session, round_id=round_id)
    entered = 0
    reconciled = 0
    for batch in batches:
        entered += progress(session, batch).pass_a
        if batch.status == RECONCILED:
            reconciled += batch.declared_count
    return RoundCountStatus(
        round_id=round_id,
        collected=round_.collected,
        declared=sum(b.declared_count for b in batches),
        batches=len(batches),
        batches_open=sum(b.status != RECONCILED for b in batches),
        discrepancies_open=sum(b.status == DISCREPANCY for b in batches),
        adjudications_open=sum(b.status == ADJUDICATION for b in batches),
        papers_entered=entered,
        papers_reconciled=reconciled,
    )


# ---------------------------------------------------------------- write-in suggestions


@lru_cache(maxsize=8192)
def _initials(name: str) -> tuple[frozenset[str], ...]:
    """Each character's possible pinyin initials (heteronyms included: 单 → d, s, c)."""
    readings = pinyin(name, style=Style.FIRST_LETTER, heteronym=True, errors="default")
    return tuple(frozenset(r.lower()[:1] for r in options if r) for options in readings)


def _matches_initials(name: str, query: str) -> bool:
    initials = _initials(name)
    if len(query) > len(initials):
        return False
    return all(ch in initials[i] for i, ch in enumerate(query))


def suggest_names(session: Session, *, congress_id: int, q: str, limit: int) -> list[str]:
    """Roster names starting with ``q`` (P7-normalized) or whose pinyin initials start with it
    (``wxm`` → 王小明); distinct, sorted by name."""
    setup_service.get_congress(session, congress_id=congress_id)
    query = normalize_name(q)
    if not query:
        return []
    lowered = query.lower()
    ascii_query = lowered.isascii() and lowered.isalpha()
    names = sorted(
        set(
            session.scalars(
                select(models.Delegate.name).where(models.Delegate.congress_id == congress_id)
            )
        )
    )
    found = [
        name
        for name in names
        if normalize_name(name).startswith(query)
        or (ascii_query and _matches_initials(normalize_name(name), lowered))
    ]
    return found[:limit]
