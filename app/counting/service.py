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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import (
    Integer,
    ScalarSelect,
    Table,
    and_,
    any_,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from app import models
from app.auth import service as auth_service
from app.auth.roles import Principal
from app.counting.writein import check_write_ins
from app.db import Prepared, rows_together
from app.errors import Conflict, Forbidden, InvalidInput, not_found
from app.ledger import store
from app.ledger.chain import JsonValue, canonical_json
from app.ledger.replay import compare_passes, final_record_texts
from app.models import utcnow
from app.papers import service as papers_service
from app.papers.qr import ThisRound, verify_payload
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

# Every paper of a round carries the same code: its verdict is worked out once, not per paper.
_verdict = lru_cache(maxsize=64)(verify_payload)


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


def _pass_for(teller_a_id: int, teller_b_id: int | None, actor: Principal) -> Pass:
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
    return _pass_for(batch.teller_a_id, batch.teller_b_id, actor)


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


@dataclass(frozen=True, slots=True)
class PaperInput:
    """One paper as a tablet sends it."""

    idempotency_key: str
    qr_payload: str
    marks: Mapping[str, str]
    write_ins: Sequence[str | None]
    void: VoidRule | None
    write_ins_latin_confirmed: bool = False  # the teller confirmed names in Latin letters

    def request_hash(self) -> str:
        """What a retry must repeat exactly to be answered as the first request was."""
        body: dict[str, JsonValue] = {
            "qr_payload": self.qr_payload,
            "marks": dict(self.marks),
            "write_ins": list(self.write_ins),
            "void": self.void,
        }
        if self.write_ins_latin_confirmed:  # absent when false: earlier keys hash as they did
            body["write_ins_latin_confirmed"] = True
        return _request_hash(body)


# The hot path of a count reads with core statements built once (no ORM objects, compiled once):
# per paper, besides the session lookup, one read, two inserts (the entry and its event) and, on
# PostgreSQL, the chain lock; tests/counting/test_entry_statements.py pins the count.
_BATCH = cast(Table, models.Batch.__table__)
_ROUND = cast(Table, models.Round.__table__)
_ELECTION = cast(Table, models.Election.__table__)
_ENTRY = cast(Table, models.PaperEntry.__table__)
_EARLIER = _ENTRY.alias("earlier")
_BATCH_ROUND_ELECTION = _BATCH.join(_ROUND, _ROUND.c.id == _BATCH.c.round_id).join(
    _ELECTION, _ELECTION.c.id == _ROUND.c.election_id
)


def _entered(entry_pass: Pass) -> ScalarSelect[int]:
    return (
        select(func.count())
        .select_from(_ENTRY)
        .where(
            _ENTRY.c.batch_id == _BATCH.c.id,
            _ENTRY.c.entry_pass == entry_pass,
            _ENTRY.c.generation == _BATCH.c.generation,
        )
        .scalar_subquery()
    )


_HEAD_HEIGHT, _HEAD_HASH = store.head_columns(_ELECTION.c.congress_id)
# What an entry reads before deciding: batch, round, congress, both passes' progress, chain head.
_CONTEXT_COLUMNS = (
    _BATCH.c.teller_a_id,
    _BATCH.c.teller_b_id,
    _BATCH.c.generation,
    _BATCH.c.status,
    _BATCH.c.declared_count,
    _ROUND.c.id.label("round_id"),
    _ROUND.c.number.label("round_number"),
    _ROUND.c.election_id,
    _ROUND.c.definition_hash,
    _ELECTION.c.congress_id,
    _entered(PASS_A).label("pass_a"),
    _entered(PASS_B).label("pass_b"),
    _HEAD_HEIGHT.label("head_height"),
    _HEAD_HASH.label("head_hash"),
)
# The context and the entries (of either pass) already recorded under this idempotency key: one
# row, or one per such entry.
_ENTRY_CONTEXT = Prepared(
    select(
        *_CONTEXT_COLUMNS,
        _EARLIER.c.entry_pass.label("earlier_pass"),
        _EARLIER.c.request_hash.label("earlier_hash"),
        _EARLIER.c.answer.label("earlier_answer"),
    )
    .select_from(
        _BATCH_ROUND_ELECTION.outerjoin(
            _EARLIER,
            and_(
                _EARLIER.c.batch_id == _BATCH.c.id,
                _EARLIER.c.entry_pass.in_(
                    [bindparam("pass_a", PASS_A), bindparam("pass_b", PASS_B)]
                ),
                _EARLIER.c.idempotency_key == bindparam("idempotency_key"),
            ),
        )
    )
    .where(_BATCH.c.id == bindparam("batch_id"))
)
# PostgreSQL, for a group's entries at once (``enter_papers``): the batches as arrays.
_BATCH_IDS = bindparam("batch_ids", type_=postgresql.ARRAY(Integer))
_CONGRESSES = (
    select(_ELECTION.c.congress_id)
    .select_from(_BATCH_ROUND_ELECTION)
    .where(_BATCH.c.id == any_(_BATCH_IDS))
    .distinct()
    .order_by(_ELECTION.c.congress_id)  # two writers lock the congresses they share in one order
    .subquery()
)
# The chain locks of the batches' congresses before anything is read (READ COMMITTED: the reads
# after it see every earlier writer of those congresses).
_LOCK_CHAINS = Prepared(select(store.chain_lock(_CONGRESSES.c.congress_id)))
_CONTEXTS = Prepared(
    select(_BATCH.c.id.label("batch_id"), *_CONTEXT_COLUMNS)
    .select_from(_BATCH_ROUND_ELECTION)
    .where(_BATCH.c.id == any_(_BATCH_IDS))
)
_ENTRY_COLUMNS = (
    "id",
    "batch_id",
    "entry_pass",
    "generation",
    "idempotency_key",
    "request_hash",
    "record",
    "status",
    "rule",
    "answer",
    "entered_at",
)
_INSERT_ENTRY = insert(_ENTRY).values({name: bindparam(name) for name in _ENTRY_COLUMNS})
_UPDATE_ANSWER = Prepared(
    update(_ENTRY).where(_ENTRY.c.id == bindparam("entry_id")).values(answer=bindparam("answer"))
)

# The frozen round definitions, by their hash: content-addressed, so one cache serves every
# database and never goes stale (a round's definition never changes once the round is opened).
_DEFINITIONS: dict[str, RoundDefinition] = {}


def _definition(session: Session, *, round_id: int, definition_hash: str) -> RoundDefinition:
    found = _DEFINITIONS.get(definition_hash)
    if found is None:
        found = papers_service.round_definition(
            papers_service.get_round(session, round_id=round_id)
        )
        if len(_DEFINITIONS) >= 256:
            _DEFINITIONS.clear()
        _DEFINITIONS[definition_hash] = found
    return found


_QR_KEYS: dict[Path, bytes] = {}


def _qr_key(data_dir: Path) -> bytes:
    """``papers_service.qr_key`` without resolving the path (a few system calls) per paper."""
    key = _QR_KEYS.get(data_dir)
    if key is None:
        key = _QR_KEYS[data_dir] = papers_service.qr_key(data_dir)
    return key


def _answer_text(answer: Mapping[str, Any]) -> str:
    return json.dumps(answer, ensure_ascii=False)


@dataclass(slots=True)
class _Context:
    """A batch as an entry finds it. ``enter_papers`` counts its own entries into it as it goes."""

    batch_id: int
    teller_a_id: int
    teller_b_id: int | None
    generation: int
    status: str
    declared_count: int
    round_id: int
    round_number: int
    election_id: int
    definition_hash: str
    congress_id: int
    pass_a: int
    pass_b: int

    @classmethod
    def of(cls, batch_id: int, row: Any) -> "_Context":
        return cls(
            batch_id,
            row.teller_a_id,
            row.teller_b_id,
            row.generation,
            row.status,
            row.declared_count,
            row.round_id,
            row.round_number,
            row.election_id,
            row.definition_hash,
            row.congress_id,
            row.pass_a,
            row.pass_b,
        )

    def progress(self) -> Progress:
        return Progress(
            batch_id=self.batch_id,
            declared=self.declared_count,
            pass_a=self.pass_a,
            pass_b=None if self.teller_b_id is None else self.pass_b,
            status=self.status,
            generation=self.generation,
        )

    def pass_of(self, actor: Principal) -> Pass:
        actor.ensure_congress(self.congress_id)
        return _pass_for(self.teller_a_id, self.teller_b_id, actor)


def _head(row: Any) -> tuple[int, str] | None:
    return None if row.head_height is None else (row.head_height, row.head_hash)


@dataclass(frozen=True, slots=True)
class _NewEntry:
    """An entry decided and not yet written: its row, its event's payload, its answer."""

    row: dict[str, Any]
    payload: dict[str, JsonValue]
    now: datetime
    after: Progress
    answer: str
    answer_for: Callable[[Progress], str]  # the answer again, with another progress


def _decide(
    session: Session,
    *,
    context: _Context,
    entry_pass: Pass,
    paper: PaperInput,
    request_hash: str,
    earlier: tuple[str, str] | None,  # (request hash, answer) already recorded under the key
    data_dir: Path,
) -> str | _NewEntry:
    """Everything an entry decides, given what it read: the answer again for a retried key, a
    refusal (raised), or the new entry."""
    if earlier is not None:
        if earlier[0] != request_hash:
            raise Conflict(
                "idempotency_key_reused",
                "该录入编号已用于另一张不同的选票记录",
                "this idempotency key was already used for a different paper",
                field="body.idempotency_key",
            )
        return earlier[1]
    if context.status != ENTERING:
        raise Conflict(
            "batch_not_entering",
            f"该批次当前为“{batch_status_zh(context.status)}”，不再接受录入",
            f"the batch is {context.status}: no more entries",
        )
    before = context.progress()
    entered = before.pass_a if entry_pass == PASS_A else (before.pass_b or 0)
    if entered >= context.declared_count:
        raise Conflict(
            "batch_full",
            f"本遍已录入 {entered} 张，已达该批次申报的 {context.declared_count} 张",
            f"this pass already holds {entered} papers, the batch's declared count",
        )
    definition = _definition(
        session, round_id=context.round_id, definition_hash=context.definition_hash
    )
    record = make_record(definition, marks=paper.marks, write_ins=paper.write_ins, void=paper.void)
    unknown_names = not_on_roster(session, congress_id=context.congress_id, record=record)
    check_names(
        paper.write_ins,
        not_on_roster=unknown_names,
        latin_confirmed=paper.write_ins_latin_confirmed,
    )
    if paper.void != "P1":  # a paper declared not authentic (P1) is entered whatever its code says
        if not paper.qr_payload:
            raise InvalidInput(
                "qr_missing",
                "没有选票二维码：请扫描这张选票的二维码；不是本轮的正式选票的，请按 P1 宣告无效",
                "no QR payload: scan the paper's code, or declare the paper not authentic (P1)",
                field="body.qr_payload",
            )
        verdict = _verdict(
            paper.qr_payload,
            key=_qr_key(data_dir),
            election_id=context.election_id,
            round_number=context.round_number,
            definition_hash=context.definition_hash,
        )
        if not isinstance(verdict, ThisRound):  # the one place that words every refusal
            round_ = papers_service.get_round(session, round_id=context.round_id)
            papers_service.verify_scan(
                session,
                round_=round_,
                payload=paper.qr_payload,
                data_dir=data_dir,
                field="body.qr_payload",
            )
    judgement = judge(record, definition)
    paper_id = str(uuid.uuid4())
    now = utcnow()
    after = Progress(
        batch_id=context.batch_id,
        declared=context.declared_count,
        pass_a=before.pass_a + (entry_pass == PASS_A),
        pass_b=None if before.pass_b is None else before.pass_b + (entry_pass == PASS_B),
        status=context.status,
        generation=context.generation,
    )

    def answer_for(progress_now: Progress) -> str:
        return _answer_text(
            {
                "paper_id": paper_id,
                "pass": entry_pass,
                "status": judgement.status,
                "valid": None if judgement.status == "pending" else judgement.status == "valid",
                "rule": judgement.rule,
                "violations": list(judgement.violations),
                "write_ins_not_on_roster": unknown_names,
                "progress": progress_json(progress_now),
            }
        )

    answer = answer_for(after)
    row = {
        "id": paper_id,
        "batch_id": context.batch_id,
        "entry_pass": entry_pass,
        "generation": context.generation,
        "idempotency_key": paper.idempotency_key,
        "request_hash": request_hash,
        "record": record.text(),
        "status": judgement.status,
        "rule": judgement.rule,
        "answer": answer,
        "entered_at": now.replace(second=0, microsecond=0),
    }
    payload: dict[str, JsonValue] = {
        "round_id": context.round_id,
        "round_number": context.round_number,
        "batch_id": context.batch_id,
        "pass": entry_pass,
        "generation": context.generation,
        "paper_id": paper_id,
        "record": record.document(),
        "status": judgement.status,
        "rule": judgement.rule,
    }
    return _NewEntry(row, payload, now, after, answer, answer_for)


def enter_paper(
    session: Session, *, actor: Principal, batch_id: int, paper: PaperInput, data_dir: Path
) -> str:
    """Enter one paper for the caller's pass; returns the answer as JSON text (``PaperEntryRead``),
    which a retried key gets again unchanged."""
    request_hash = paper.request_hash()
    params = {"batch_id": batch_id, "idempotency_key": paper.idempotency_key}
    if session.get_bind().dialect.name == "postgresql":
        _LOCK_CHAINS.rows(session, {"batch_ids": [batch_id]})
    rows = _ENTRY_CONTEXT.rows(session, params)
    if not rows:
        raise not_found("批次", "batch", batch_id)
    context = _Context.of(batch_id, rows[0])
    entry_pass = context.pass_of(actor)
    decided = _decide(
        session,
        context=context,
        entry_pass=entry_pass,
        paper=paper,
        request_hash=request_hash,
        earlier=next(
            ((r.earlier_hash, r.earlier_answer) for r in rows if r.earlier_pass == entry_pass),
            None,
        ),
        data_dir=data_dir,
    )
    if isinstance(decided, str):
        return decided
    store.append_after(
        session,
        congress_id=context.congress_id,
        head=_head(rows[0]),
        type="paper.entered",
        payload=decided.payload,
        actor_role=actor.role,
        now=decided.now,
        along=(_INSERT_ENTRY, decided.row),
    )
    if not _complete(decided.after):
        return decided.answer
    # The batch's last paper: compare the passes, answer the new status.
    batch = get_batch(session, batch_id=batch_id)
    _compare(session, batch=batch, congress_id=context.congress_id, actor_role=actor.role)
    answer = decided.answer_for(progress(session, batch))
    _UPDATE_ANSWER.run(session, {"entry_id": decided.row["id"], "answer": answer})
    return answer


# Refusals that a retry of an entry made before ``enter_papers`` would not get (it is answered as
# the first time), and that ``enter_papers``, which does not look such entries up, leaves to
# ``enter_paper``.
_PERHAPS_A_RETRY = ("batch_not_entering", "batch_full")


def enter_papers(
    session: Session,
    *,
    entries: Sequence[tuple[str, int, Callable[[], PaperInput]]],
    admit: Callable[[Principal], Principal],
    data_dir: Path,
) -> list[str | Exception | None]:
    """``enter_paper`` for a group's entries at once (PostgreSQL), each given as the caller's
    session token, the batch and its paper, read (or its body refused) only once the caller is
    known and ``admit``-ted: the callers, the chain locks and the batches read in one
    round trip, then every new entry and its event written in one — instead of four round trips a
    paper, which is what a paper cost on PostgreSQL (the committer's Python, and the chain lock
    held meanwhile).

    The entries are decided in order, as one at a time would be, counting each into its batch and
    chaining each event after the one before. Each outcome is the answer, the refusal (the
    caller's 401 or 403, the body's 422, or what ``enter_paper`` would have raised; nothing of it
    is stored), or None: not done here, to be entered with ``enter_paper`` after this call — the
    entry that completes its batch (its comparison is the ORM's) and every entry after it, and an
    entry refused because its batch is full or no longer entering (it may be a retry of an entry
    made before this call, which ``enter_paper`` answers as it did the first time). Raises if a
    statement fails (also when an idempotency key was used before this call); then nothing of it
    may be kept: the caller rolls back and enters each paper alone."""
    outcomes: list[str | Exception | None] = [None] * len(entries)
    if not entries or session.get_bind().dialect.name != "postgresql":
        return outcomes
    hashes = auth_service.token_hashes(token for token, _, _ in entries)
    batch_ids = sorted({batch_id for _, batch_id, _ in entries})
    sessions, _locked, batches = rows_together(
        session,
        [
            auth_service.sessions_read(hashes),
            (_LOCK_CHAINS, {"batch_ids": batch_ids}),
            (_CONTEXTS, {"batch_ids": batch_ids}),
        ],
    )
    principals = auth_service.principals_of(hashes, sessions)
    contexts: dict[int, _Context] = {}
    heads: dict[int, tuple[int, str] | None] = {}
    for row in batches:
        contexts[row.batch_id] = _Context.of(row.batch_id, row)
        heads[row.congress_id] = _head(row)
    # A key entered before this call is not looked for: its entry's UNIQUE(batch, pass, key) makes
    # the insert below fail, and the caller enters every paper alone again, answering the retry
    # as enter_paper does. Retries are few; a read of every key cost more than the insert.
    earlier: dict[tuple[int, str, str], tuple[str, str]] = {}  # keys entered in this call
    written: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    for i, (token, batch_id, asked) in enumerate(entries):
        try:
            found = principals[token]
            if isinstance(found, Exception):
                raise found
            actor = admit(found)
            paper = asked()
        except Exception as refused:
            outcomes[i] = refused
            continue
        request_hash = paper.request_hash()
        try:
            context = contexts.get(batch_id)
            if context is None:
                raise not_found("批次", "batch", batch_id)
            entry_pass = context.pass_of(actor)
            key = (batch_id, entry_pass, paper.idempotency_key)
            decided = _decide(
                session,
                context=context,
                entry_pass=entry_pass,
                paper=paper,
                request_hash=request_hash,
                earlier=earlier.get(key),
                data_dir=data_dir,
            )
        except Conflict as refused:
            if refused.code not in _PERHAPS_A_RETRY:
                outcomes[i] = refused
            continue
        except InvalidInput:
            # Perhaps a retry of a paper stored before this call (before a rule on its body was
            # added, or with its key reused): enter_paper looks its key up first, as on SQLite.
            continue
        except Exception as refused:  # as enter_paper would raise it: this entry only
            outcomes[i] = refused
            continue
        if isinstance(decided, str):
            outcomes[i] = decided
            continue
        if _complete(decided.after):
            break  # this one and the rest: None
        event = store.chained(
            context.congress_id,
            heads[context.congress_id],
            "paper.entered",
            decided.payload,
            actor.role,
            decided.now,
        )
        written.append((decided.row, event))
        heads[context.congress_id] = (event["height"], event["hash"])
        context.pass_a, context.pass_b = decided.after.pass_a, decided.after.pass_b or 0
        earlier[key] = (request_hash, decided.answer)
        outcomes[i] = decided.answer
    store.append_along(session, _INSERT_ENTRY, written)
    return outcomes


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
    for i, (given, record) in enumerate(zip(records, final, strict=True)):
        check_names(
            given.write_ins,
            not_on_roster=not_on_roster(session, congress_id=congress_id, record=record),
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
