"""Paper entry, the hot path of a count: the papers waiting are entered together, as a group.

``EntryQueue.enter`` hands a paper to the one writer thread, which takes every paper waiting and
enters them with ``enter_papers`` in one transaction, in a handful of statements: the callers'
sessions; on PostgreSQL the chain locks of the batches' congresses, ascending, before anything
they guard is read (two writers sharing congresses queue instead of deadlocking); then the
batches with their progress, chain heads and the entries already made under the papers' keys.
It **decides every paper in memory**, in order, as one at a time would (a refused paper is
answered with its refusal and changes nothing; a batch's records are read when its last paper
comes), **writes once** (one statement per table) and **commits once**; then every paper is
answered.

One fallback: if the group fails as a whole, nothing of it is stored and each paper is entered
again alone. A retry under a stored key is answered as the first time, so a COMMIT of unknown
outcome is safe to repeat: a paper alone ended by a deadlock, a serialization failure or a lost
connection is tried again a few times, then answered 503.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, cast

from fastapi.exceptions import RequestValidationError
from sqlalchemy import Connection, Engine, Integer, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app import models
from app.auth import service as auth_service
from app.auth.roles import Permission, Principal, ensure_permission
from app.counting.batches import (
    ENTERING,
    PASS_A,
    PASS_B,
    Pass,
    Progress,
    batch_status_zh,
    pass_for,
    progress_json,
)
from app.counting.reconciliation import compared
from app.counting.records import check_names, judge, make_record, not_on_roster, roster_names
from app.counting.schemas import PaperEntryCreate
from app.errors import AppError, Conflict, InvalidInput, not_found
from app.ledger import notify, store
from app.ledger.chain import JsonValue, canonical_json
from app.models import utcnow
from app.papers import service as papers_service
from app.papers.qr import ThisRound, verify_payload
from app.rules.model import RoundDefinition

log = logging.getLogger(__name__)


def _request_hash(paper: PaperEntryCreate) -> str:
    """What a retry must repeat exactly to be answered as the first request was."""
    body: dict[str, JsonValue] = {
        "qr_payload": paper.qr_payload,
        "marks": dict(paper.marks),
        "write_ins": list(paper.write_ins),
        "void": paper.void,
    }
    if paper.write_ins_latin_confirmed:  # absent when false: earlier keys hash as they did
        body["write_ins_latin_confirmed"] = True
    return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class EntryRequest:
    """One paper to enter: the caller's session token, the batch, and the body, read (or refused
    with 422) only once the caller is admitted — an anonymous body costs no parsing."""

    token: str
    batch_id: int
    paper: Callable[[], PaperEntryCreate]


Outcome = str | Exception  # the answer (PaperEntryRead as JSON text) or the refusal

_BATCH = cast(Table, models.Batch.__table__)
_ROUND = cast(Table, models.Round.__table__)
_ELECTION = cast(Table, models.Election.__table__)
_ENTRY = cast(Table, models.PaperEntry.__table__)
_JOINED = _BATCH.join(_ROUND, _ROUND.c.id == _BATCH.c.round_id).join(
    _ELECTION, _ELECTION.c.id == _ROUND.c.election_id
)
_BATCH_IDS = bindparam("batch_ids", type_=Integer, expanding=True)


def _entered(entry_pass: Pass) -> Any:
    """How many papers the batch's pass holds (of its current generation)."""
    entries = select(func.count()).where(_ENTRY.c.batch_id == _BATCH.c.id)
    current = (_ENTRY.c.generation == _BATCH.c.generation) & (_ENTRY.c.entry_pass == entry_pass)
    return entries.where(current).scalar_subquery()


# The congresses' chain locks, ascending: the subquery's order is the order they are taken in.
_CONGRESSES = (
    select(_ELECTION.c.congress_id)
    .select_from(_JOINED)
    .where(_BATCH.c.id.in_(_BATCH_IDS))
    .distinct()
    .order_by(_ELECTION.c.congress_id)
    .subquery()
)
# Announced to the live streams here too (delivered at the COMMIT): one round trip, not two.
_LOCK_CHAINS = select(
    store.chain_lock(_CONGRESSES.c.congress_id), notify.announcement(_CONGRESSES.c.congress_id)
)
_EARLIER = _ENTRY.alias("earlier")  # the entries already made under the group's keys
# The batches, each with its chain head and its entries under the group's keys (a row for each,
# or one row with NULLs): one statement, after the chain locks.
_READ = (
    select(
        _BATCH,
        *(_ROUND.c[name] for name in ("election_id", "definition_hash")),
        _ROUND.c.number.label("round_number"),
        _ELECTION.c.congress_id,
        _entered(PASS_A).label("pass_a"),
        _entered(PASS_B).label("pass_b"),
        *store.head_of(_ELECTION.c.congress_id),
        *(
            _EARLIER.c[name].label(f"earlier_{name}")
            for name in ("entry_pass", "idempotency_key", "request_hash", "answer")
        ),
    )
    .select_from(
        _JOINED.outerjoin(
            _EARLIER,
            (_EARLIER.c.batch_id == _BATCH.c.id)
            & _EARLIER.c.idempotency_key.in_(bindparam("keys", expanding=True)),
        )
    )
    .where(_BATCH.c.id.in_(_BATCH_IDS))
)
_RECORDS = select(_ENTRY.c.entry_pass, _ENTRY.c.record).where(
    _ENTRY.c.batch_id == bindparam("b_id"), _ENTRY.c.generation == bindparam("generation")
)
_SET_STATUS = (
    update(_BATCH).where(_BATCH.c.id == bindparam("b_id")).values(status=bindparam("b_status"))
)

# Content-addressed (a round's definition never changes once it is opened): never stale.
_DEFINITIONS: dict[str, RoundDefinition] = {}
_qr_key = lru_cache(maxsize=8)(papers_service.qr_key)
# Every paper of a round carries the same code: its verdict is worked out once, not per paper.
_verdict = lru_cache(maxsize=64)(verify_payload)


@dataclass(slots=True)
class _Batch:
    """A batch as the group finds it, counting the group's own entries into it as it goes."""

    row: Any
    status: str
    pass_a: int
    pass_b: int

    def progress(self) -> Progress:
        return Progress(
            batch_id=self.row.id,
            declared=self.row.declared_count,
            pass_a=self.pass_a,
            pass_b=None if self.row.teller_b_id is None else self.pass_b,
            status=self.status,
            generation=self.row.generation,
        )

    def complete(self) -> bool:
        declared = self.row.declared_count
        return self.pass_a == declared and (self.row.teller_b_id is None or self.pass_b == declared)


@dataclass
class _Group:
    """What a group read, and what it decided to write."""

    session: Session
    data_dir: Path
    batches: dict[int, _Batch] = field(default_factory=dict)
    heads: dict[int, tuple[int, str] | None] = field(default_factory=dict)
    # (batch, pass, key) → (request hash, answer)
    earlier: dict[tuple[int, str, str], tuple[str, str]] = field(default_factory=dict)
    rosters: dict[int, set[str]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)

    def chain(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.heads[event["congress_id"]] = (event["height"], event["hash"])

    def roster(self, congress_id: int) -> set[str]:
        if congress_id not in self.rosters:
            self.rosters[congress_id] = roster_names(self.session, congress_id=congress_id)
        return self.rosters[congress_id]


def enter_papers(
    session: Session, requests: Sequence[EntryRequest], *, data_dir: Path
) -> list[Outcome]:
    """Enter ``requests`` in the session's transaction (the module docstring): each one's answer
    (a key already used by its pass: the first answer again) or refusal. Raises, having written
    nothing it would keep, if a statement fails: the caller rolls back."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    admitted: list[tuple[int, Principal, PaperEntryCreate]] = []
    principals = auth_service.principals(session, tokens={r.token for r in requests})
    for i, request in enumerate(requests):
        try:
            found = principals[request.token]
            if isinstance(found, Exception):
                raise found
            ensure_permission(found, Permission.enter_papers)
            admitted.append((i, found, request.paper()))
        except (AppError, RequestValidationError) as refused:
            outcomes[i] = refused
    if admitted:
        group = _read(session, [(requests[i].batch_id, p) for i, _, p in admitted], data_dir)
        for i, actor, paper in admitted:
            try:
                outcomes[i] = _decide(group, actor, requests[i].batch_id, paper)
            except (AppError, RequestValidationError) as refused:
                outcomes[i] = refused
        _write(group)
    assert all(outcome is not None for outcome in outcomes)
    return cast(list[Outcome], outcomes)


def _read(session: Session, papers: list[tuple[int, PaperEntryCreate]], data_dir: Path) -> _Group:
    connection = session.connection()
    batch_ids = {"batch_ids": sorted({batch_id for batch_id, _ in papers})}
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK_CHAINS, batch_ids)
    keys = {"keys": sorted({paper.idempotency_key for _, paper in papers})}
    group = _Group(session, data_dir)
    for row in connection.execute(_READ, batch_ids | keys):
        if row.id not in group.batches:
            group.batches[row.id] = _Batch(row, row.status, row.pass_a, row.pass_b)
            head = None if row.head_height is None else (row.head_height, row.head_hash)
            group.heads[row.congress_id] = head
        if row.earlier_idempotency_key is not None:
            key = (row.id, row.earlier_entry_pass, row.earlier_idempotency_key)
            group.earlier[key] = (row.earlier_request_hash, row.earlier_answer)
    return group


def _decide(group: _Group, actor: Principal, batch_id: int, paper: PaperEntryCreate) -> str:
    """One paper, given what the group read and decided before it: its answer, or its refusal
    (raised before anything of it is kept: it changes nothing)."""
    batch = group.batches.get(batch_id)
    if batch is None:
        raise not_found("批次", "batch", batch_id)
    row = batch.row
    actor.ensure_congress(row.congress_id)
    entry_pass = pass_for(row.teller_a_id, row.teller_b_id, actor)
    request_hash = _request_hash(paper)
    earlier = group.earlier.get((batch_id, entry_pass, paper.idempotency_key))
    if earlier is not None:
        if earlier[0] != request_hash:
            raise Conflict(
                "idempotency_key_reused",
                "该录入编号已用于另一张不同的选票记录",
                "this idempotency key was already used for a different paper",
                field="body.idempotency_key",
            )
        return earlier[1]
    _check_open(batch, entry_pass)
    definition = _definition(group.session, row.round_id, row.definition_hash)
    record = make_record(definition, marks=paper.marks, write_ins=paper.write_ins, void=paper.void)
    roster = group.roster(row.congress_id) if any(record.write_ins) else set()
    unknown_names = not_on_roster(record, roster)
    check_names(
        paper.write_ins,
        not_on_roster=unknown_names,
        latin_confirmed=paper.write_ins_latin_confirmed,
    )
    _check_code(group, row, paper)
    judgement = judge(record, definition)
    entry = {
        "id": str(uuid.uuid4()),
        "batch_id": batch_id,
        "entry_pass": entry_pass,
        "generation": row.generation,
        "idempotency_key": paper.idempotency_key,
        "request_hash": request_hash,
        "record": record.text(),
        "status": judgement.status,
        "rule": judgement.rule,
    }
    answer = {
        "paper_id": entry["id"],
        "pass": entry_pass,
        "status": judgement.status,
        "valid": None if judgement.status == "pending" else judgement.status == "valid",
        "rule": judgement.rule,
        "violations": list(judgement.violations),
        "write_ins_not_on_roster": unknown_names,
    }
    return _accept(group, batch, actor, entry, answer, record.document())


def _accept(
    group: _Group,
    batch: _Batch,
    actor: Principal,
    entry: dict[str, Any],
    answer: dict[str, Any],
    document: dict[str, JsonValue],
) -> str:
    """Keep a decided paper: counted into its batch, its event chained, its batch compared if it
    is the last paper; its answer (with the progress after it) to store and send."""
    row, entry_pass, now = batch.row, entry["entry_pass"], utcnow()
    if entry_pass == PASS_A:
        batch.pass_a += 1
    else:
        batch.pass_b += 1
    payload: dict[str, JsonValue] = {
        "round_id": row.round_id,
        "round_number": row.round_number,
        "batch_id": row.id,
        "pass": entry_pass,
        "generation": row.generation,
        "paper_id": entry["id"],
        "record": document,
        "status": entry["status"],
        "rule": entry["rule"],
    }
    head = group.heads[row.congress_id]
    group.chain(store.chained(row.congress_id, head, "paper.entered", payload, actor.role, now))
    entry["entered_at"] = now.replace(second=0, microsecond=0)
    group.entries.append(entry)
    if batch.complete():  # the batch's last paper: its passes are compared now
        _compare(group, batch, actor.role, now)
    text = json.dumps(answer | {"progress": progress_json(batch.progress())}, ensure_ascii=False)
    entry["answer"] = text
    group.earlier[(row.id, entry_pass, entry["idempotency_key"])] = (entry["request_hash"], text)
    return text


def _check_open(batch: _Batch, entry_pass: Pass) -> None:
    if batch.status != ENTERING:
        raise Conflict(
            "batch_not_entering",
            f"该批次当前为“{batch_status_zh(batch.status)}”，不再接受录入",
            f"the batch is {batch.status}: no more entries",
        )
    entered = batch.pass_a if entry_pass == PASS_A else batch.pass_b
    if entered >= batch.row.declared_count:
        raise Conflict(
            "batch_full",
            f"本遍已录入 {entered} 张，已达该批次申报的 {batch.row.declared_count} 张",
            f"this pass already holds {entered} papers, the batch's declared count",
        )


def _check_code(group: _Group, row: Any, paper: PaperEntryCreate) -> None:
    """The paper's QR code is this round's (a paper declared not authentic, P1, is entered
    whatever its code says)."""
    if paper.void == "P1":
        return
    if not paper.qr_payload:
        raise InvalidInput(
            "qr_missing",
            "没有选票二维码：请扫描这张选票的二维码；不是本轮的正式选票的，请按 P1 宣告无效",
            "no QR payload: scan the paper's code, or declare the paper not authentic (P1)",
            field="body.qr_payload",
        )
    verdict = _verdict(
        paper.qr_payload,
        key=_qr_key(group.data_dir),
        election_id=row.election_id,
        round_number=row.round_number,
        definition_hash=row.definition_hash,
    )
    if not isinstance(verdict, ThisRound):  # the one place that words every refusal
        papers_service.verify_scan(
            group.session,
            round_=papers_service.get_round(group.session, round_id=row.round_id),
            payload=paper.qr_payload,
            data_dir=group.data_dir,
            field="body.qr_payload",
        )


def _compare(group: _Group, batch: _Batch, actor_role: str, now: Any) -> None:
    """The batch's passes, stored and the group's own, compared."""
    row = batch.row
    records: dict[str, Counter[str]] = {PASS_A: Counter(), PASS_B: Counter()}
    params = {"b_id": row.id, "generation": row.generation}
    stored = group.session.connection().execute(_RECORDS, params).mappings()
    for entry in [*stored, *(e for e in group.entries if e["batch_id"] == row.id)]:
        records[entry["entry_pass"]][entry["record"]] += 1
    status, event = compared(
        batch_id=row.id,
        generation=row.generation,
        declared=row.declared_count,
        a=records[PASS_A],
        b=None if row.teller_b_id is None else records[PASS_B],
        congress_id=row.congress_id,
        head=group.heads[row.congress_id],
        actor_role=actor_role,
        now=now,
    )
    batch.status = status
    group.statuses.append({"b_id": row.id, "b_status": status})
    group.chain(event)


def _definition(session: Session, round_id: int, definition_hash: str) -> RoundDefinition:
    found = _DEFINITIONS.get(definition_hash)
    if found is None:
        round_ = papers_service.get_round(session, round_id=round_id)
        found = papers_service.round_definition(round_)
        if len(_DEFINITIONS) >= 256:
            _DEFINITIONS.clear()
        _DEFINITIONS[definition_hash] = found
    return found


def _write(group: _Group) -> None:
    connection = group.session.connection()
    if group.entries:
        connection.execute(insert(_ENTRY), group.entries)
    if group.statuses:
        connection.execute(_SET_STATUS, group.statuses)
    announced = connection.dialect.name == "postgresql"  # by _LOCK_CHAINS
    store.append_chained(group.session, group.events, announced=announced)


# ---------------------------------------------------------------- the queue and its writer


TRIES = 3  # a paper alone, when a deadlock, serialization failure or lost connection ends it


def enter_group(
    sessions: Callable[[], Session],
    requests: Sequence[EntryRequest],
    *,
    data_dir: Path,
    tries: int = TRIES,
) -> list[Outcome]:
    """``enter_papers`` in a transaction of its own, committed; if the group fails, each paper
    alone (the module docstring)."""
    try:
        with sessions() as session, session.begin():
            return enter_papers(session, requests, data_dir=data_dir)
    except Exception as exc:
        if len(requests) == 1:
            if tries == 1 or not _transient(exc):
                return [exc]
            log.info("a paper's transaction was ended by the database (%r): again", exc)
            return enter_group(sessions, requests, data_dir=data_dir, tries=tries - 1)
        log.warning("a group of %d papers failed (%r): each is entered alone", len(requests), exc)
    return [enter_group(sessions, [request], data_dir=data_dir)[0] for request in requests]


def _transient(exc: Exception) -> bool:
    """A deadlock (40P01), a serialization failure (40001) or a lost connection (the database
    restarted while the writer held it; the next transaction reconnects): try again. Safe even
    if a lost COMMIT took effect: the retry finds its key and answers as the first time."""
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or getattr(exc.orig, "sqlstate", None) in ("40001", "40P01")


@dataclass(eq=False)
class EntryQueue:
    """Papers waiting for the writer thread. The thread starts with the first paper and ends
    after ``idle_seconds`` without one (an app never shut down, a test, leaves none behind) or
    at ``close``; each group is one hop to the thread and one back to each caller's loop."""

    sessions: sessionmaker[Session]
    data_dir: Path
    max_group: int = 64
    idle_seconds: float = 5.0
    gather_seconds: float = 0.001  # bench_entry, PostgreSQL: ratio 0.41-0.44 (2 ms: 0.35-0.36)
    groups: int = 0  # committed or failed, for tests
    _waiting: list[tuple[EntryRequest, "asyncio.Future[str]"]] = field(default_factory=list)
    _wake: threading.Condition = field(default_factory=threading.Condition)
    _thread: threading.Thread | None = None
    _closing: bool = False

    async def enter(self, request: EntryRequest) -> str:
        """The paper's answer once its group is committed, or its refusal raised here."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        with self._wake:
            self._waiting.append((request, future))
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(
                    target=self._serve, name="jipiao-entry", daemon=True
                )
                self._thread.start()
            self._wake.notify()
        return await future

    def close(self, timeout: float = 10.0) -> None:
        """End the thread once the papers waiting are entered (the app's shutdown)."""
        with self._wake:
            self._closing = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _take(self) -> list[tuple[EntryRequest, "asyncio.Future[str]"]]:
        with self._wake:
            while not self._waiting:
                idle = self._closing or not self._wake.wait(self.idle_seconds)
                if idle and not self._waiting:
                    self._thread = None
                    return []
        # Papers come in waves: the tablets answered together send again together, a moment
        # after the first of them. Waiting for them halves the groups' count, and a group's
        # fixed cost (its statements) is most of a paper's.
        time.sleep(self.gather_seconds)
        with self._wake:
            group = self._waiting[: self.max_group]
            del self._waiting[: self.max_group]
            return group

    def _serve(self) -> None:
        # One connection while the thread lives, not a checkout (and its pre-ping) per group; a
        # lost one reconnects at its next transaction.
        connection: Connection | None = None
        while group := self._take():
            try:
                connection = connection or cast(Engine, self.sessions.kw["bind"]).connect()
                sessions = partial(self.sessions, bind=connection)
                outcomes = enter_group(sessions, [r for r, _ in group], data_dir=self.data_dir)
            except Exception as exc:  # no connection, or a bug of ours: every paper says so
                log.exception("entering a group failed")
                outcomes = [exc] * len(group)
            self.groups += 1
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Outcome]]] = {}
            for (_, future), outcome in zip(group, outcomes, strict=True):
                by_loop.setdefault(future.get_loop(), []).append((future, outcome))
            for loop, answers in by_loop.items():
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                    loop.call_soon_threadsafe(_settle, answers)
        if connection is not None:
            connection.close()


def _settle(answers: list[tuple["asyncio.Future[str]", Outcome]]) -> None:
    for future, outcome in answers:
        if future.done():  # the request was cancelled (the tablet went away)
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
