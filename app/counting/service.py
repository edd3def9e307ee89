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

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal, cast

from sqlalchemy import (
    event,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, UOWTransaction

from app import models
from app.auth import Principal
from app.counting.writein import check_write_ins
from app.errors import Conflict, Forbidden, InvalidInput, not_found
from app.ledger import store
from app.ledger.chain import JsonValue, canonical_json
from app.ledger.replay import compare_passes, final_record_texts
from app.papers import service as papers_service
from app.rules.model import (
    Mark,
    PaperRecord,
    RoundDefinition,
    RoundInputError,
    VoidRule,
    WriteIn,
    normalize_name,
    paper_order,
    write_in_order,
)
from app.rules.validity import judge_paper
from app.setup import service as setup_service
from app.setup.search import name_matches

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


UNCLEAR = "unclear"
# A candidate's mark in words: as entered (``unclear`` waits for a scrutineer, P6) and as final
# (``illegible``: the scrutineers could not read it; it counts as abstaining, P6).
MARK_ZH: dict[str, str] = {
    "yes": "赞成",
    "no": "不赞成",
    "abstain": "弃权",
    "blank": "未划（按弃权计）",
    UNCLEAR: "无法辨认（待裁定）",
    "illegible": "无效（按弃权计）",
}


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

    def document(self) -> dict[str, JsonValue]:
        return {"marks": list(self.marks), "void": self.void, "write_ins": list(self.write_ins)}

    def text(self) -> str:
        return canonical_json(self.document()).decode("utf-8")

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
    Whether each write-in is a name is ``check_names`` (it needs the roster).
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
                "另选他人姓名为空；字迹无法辨认的姓名请点“字迹无法辨认”",
                "an empty write-in; send null for a name that cannot be read",
                field=f"{field_prefix}.write_ins.{position}",
            )
        normalized.append(name)
    return Record(tuple(ordered), tuple(sorted(normalized, key=write_in_order)), void)


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
            f"第 {round_.number} 轮当前为“{papers_service.round_status_zh(round_.status)}”，"
            "收回选票后才能分批录入",
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


@lru_cache(maxsize=4096)
def _roster_key(name: str) -> str:
    return normalize_name(name)


def roster_names(session: Session, *, congress_id: int) -> set[str]:
    """The congress's roster, P7-normalized, as write-ins are compared with it."""
    names = session.scalars(
        select(models.Delegate.name).where(models.Delegate.congress_id == congress_id)
    )
    return {_roster_key(name) for name in names}


def not_on_roster(record: Record, roster: set[str]) -> list[str]:
    """The record's write-ins that are not on ``roster`` (``roster_names``), once each."""
    written = [name for name in record.write_ins if name is not None]
    return [name for name in dict.fromkeys(written) if name not in roster]


def check_names(
    write_ins: Sequence[str | None],
    *,
    not_on_roster: Sequence[str],
    latin_confirmed: bool,
    field_prefix: str = "body",
) -> None:
    """Refuse (422) a write-in off the roster that is not a name in Chinese characters, or one
    in Latin letters the teller did not confirm (app/counting/writein.py). A roster name is a
    person's name as the roster spells it (王芳（女）, a foreign delegate's): always taken.
    ``write_ins`` as entered, in their order; ``not_on_roster`` P7-normalized."""
    if not not_on_roster:
        return
    unknown = set(not_on_roster)
    check_write_ins(
        [
            None if name is None or normalize_name(name) not in unknown else normalize_name(name)
            for name in write_ins
        ],
        latin_confirmed=latin_confirmed,
        field_prefix=field_prefix,
    )


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
    roster = roster_names(session, congress_id=congress_id)
    for i, (given, record) in enumerate(zip(records, final, strict=True)):
        check_names(
            given.write_ins,
            not_on_roster=not_on_roster(record, roster),
            latin_confirmed=given.write_ins_latin_confirmed,
            field_prefix=f"body.records.{i}",
        )
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
    return sorted(papers, key=paper_order)


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


def suggest_names(
    session: Session, *, congress_id: int, q: str, limit: int, round_id: int | None = None
) -> list[str]:
    """Roster names starting with ``q`` (P7-normalized) or whose pinyin initials start with it
    (``wxm`` → 王小明); distinct, sorted by name. With ``round_id``, without the candidates
    printed on that round's paper (a write-in naming one is disregarded, P7)."""
    setup_service.get_congress(session, congress_id=congress_id)
    printed: set[str] = set()
    if round_id is not None:
        round_ = session.get(models.Round, round_id)
        election = None if round_ is None else session.get(models.Election, round_.election_id)
        if round_ is None or election is None or election.congress_id != congress_id:
            raise not_found("轮次", "round", round_id, field="query.round_id")
        definition = papers_service.round_definition(round_)
        printed = {normalize_name(name) for name in definition.candidates}
    if not normalize_name(q):
        return []
    names = sorted(
        set(
            session.scalars(
                select(models.Delegate.name).where(models.Delegate.congress_id == congress_id)
            )
        )
    )
    found = [
        name for name in names if normalize_name(name) not in printed and name_matches(name, q)
    ]
    return found[:limit]
