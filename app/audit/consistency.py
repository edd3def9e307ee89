"""Do the database tables say what the event log says? Rebuild them from the log and compare.

The log is the record; the tables are a projection of it kept for fast reads. Someone with write
access to the database could change a table behind the log's back (a candidate's name, a paper's
marks, a batch's status, a round's collected count, a deleted delegate…). ``check_congress``
folds the congress's verified event chain into the rows the tables must hold and compares them
column by column, naming every row that differs, is missing or is not explained by the log.

``_Projection`` is the one statement of which rows each event type produces (its status values
are the services' own constants). The services write their rows in the other direction (row
first, its id into the payload), so they cannot share a function with it; instead a whole election
that reaches every event type the code appends ends with this check passing
(``tests/test_docs.py``), and ``tests/audit/test_db_consistency.py`` shows it catches a changed row.

Columns that are deliberately *not* in the log, so not covered: creation times finer than the
log's minute, the login-code hashes and sessions (secrets, ``auth_session``; a pending code's
``login_code_event`` moves to its session at login), and a paper entry's
idempotency key, request hash and replayed answer (transport details of the tablet's request).
A changed event row is caught by the chain verification, which runs first.
"""

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import models
from app.counting.batches import ADJUDICATION, DISCREPANCY, ENTERING, RECONCILED
from app.ledger import chain, store
from app.papers import service as papers_service
from app.papers.service import (
    ROUND_CANCELLED,
    ROUND_COLLECTED,
    ROUND_COUNTING,
    ROUND_ISSUED,
    ROUND_OPEN,
    ROUND_VOID,
)
from app.results.service import ROUND_CERTIFIED, ROUND_DECIDED
from app.rules import ProfileError, parse_profile, profile_options

Row = dict[str, Any]
Table = dict[str, Row]

TABLES = (
    "congress",
    "delegate",
    "election",
    "candidate",
    "official",
    "round",
    "batch",
    "paper_entry",
    "batch_resolution",
)

# Events that change no projected column (their effect lives in the log alone: signatures,
# logins, releases, refusals, and the seat reduction that the election result reads from the log).
NO_TABLE_CHANGE = frozenset(
    {
        "official.logged_in",
        "official.logged_out",
        "official.login_code_issued",
        "official.change_requested",  # its confirmation's effect is official.added/removed
        "official.change_confirmed",
        "round.signed",
        "round.released",
        "round.rerun_not_opened",
        "election.seats_reduced",
    }
)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One row (``column`` None: the whole row) where the database differs from the log."""

    table: str
    key: str
    column: str | None
    in_database: Any
    from_log: Any

    @property
    def message_en(self) -> str:
        if self.column is None:
            if self.from_log is None:
                return f"{self.table} {self.key}: in the database but not in the event log"
            return f"{self.table} {self.key}: in the event log but missing from the database"
        return (
            f"{self.table} {self.key}: {self.column} is {self.in_database!r} in the database, "
            f"{self.from_log!r} in the event log"
        )

    @property
    def message_zh(self) -> str:
        if self.column is None:
            if self.from_log is None:
                return f"{self.table} {self.key}：数据库中有此行，事件日志中没有"
            return f"{self.table} {self.key}：事件日志中有此行，数据库中缺失"
        return (
            f"{self.table} {self.key}：{self.column} 在数据库中为 {self.in_database!r}，"
            f"在事件日志中为 {self.from_log!r}"
        )


@dataclass(slots=True)
class Consistency:
    events: int
    rows: int
    chain_problems: list[chain.ChainProblem] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.chain_problems and not self.mismatches


class UnknownEventError(ValueError):
    """An event type this projection does not know: the check must be taught it, not skip it."""


# ---------------------------------------------------------------- the log's projection


def _canonical(value: chain.JsonValue) -> str:
    """A paper record as the tables store it (``Record.text``: canonical JSON)."""
    return chain.canonical_json(value).decode("utf-8")


def _profile(options: Mapping[str, Any]) -> dict[str, Any]:
    return dict(profile_options(parse_profile(dict(options))))


class _Projection:
    def __init__(self) -> None:
        self.tables: dict[str, Table] = {name: {} for name in TABLES}
        self.handlers: dict[str, Callable[[Mapping[str, Any], chain.Event], None]] = {
            "congress.created": self._congress,
            "congress.updated": self._congress,
            "roster.imported": self._roster,
            "delegate.removed": lambda p, _e: self._drop("delegate", p["delegate_id"]),
            "delegate.checked_in": lambda p, _e: self._set(
                "delegate", p["delegate_id"], present=True
            ),
            "delegate.checked_out": lambda p, _e: self._set(
                "delegate", p["delegate_id"], present=False
            ),
            "election.created": self._election,
            "election.updated": self._election,
            "candidate.added": self._candidate,
            "candidate.removed": lambda p, _e: self._drop("candidate", p["candidate_id"]),
            "official.added": self._official,
            "official.removed": lambda p, _e: self._drop("official", p["official_id"]),
            "round.opened": self._round_opened,
            "round.papers_issued": self._papers_issued,
            "round.papers_collected": lambda p, _e: self._set(
                "round", p["round_id"], collected=p["collected"], status=ROUND_COLLECTED
            ),
            "round.void": lambda p, _e: self._set(
                "round", p["round_id"], collected=p["collected"], status=ROUND_VOID
            ),
            "round.decided": lambda p, _e: self._set("round", p["round_id"], status=ROUND_DECIDED),
            "round.certified": lambda p, _e: self._set(
                "round", p["round_id"], status=ROUND_CERTIFIED
            ),
            "round.correction_ordered": lambda p, _e: self._set(
                "round", p["round_id"], status=ROUND_COUNTING
            ),
            "round.ineligible_ruled": lambda p, _e: self._set(
                "round", p["round_id"], status=ROUND_COUNTING
            ),
            "round.follow_up_cancelled": lambda p, _e: self._set(
                "round", p["round_id"], status=ROUND_CANCELLED
            ),
            "batch.created": self._batch_created,
            "paper.entered": self._paper_entered,
            "batch.discrepancy": lambda p, _e: self._set(
                "batch", p["batch_id"], status=DISCREPANCY
            ),
            "batch.needs_adjudication": lambda p, _e: self._set(
                "batch", p["batch_id"], status=ADJUDICATION
            ),
            "batch.reconciled": lambda p, _e: self._set("batch", p["batch_id"], status=RECONCILED),
            "batch.resolved": self._resolved,
            "batch.reentry_ordered": self._reentry,
        }

    def apply(self, event: chain.Event) -> None:
        if event.type in NO_TABLE_CHANGE:
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            raise UnknownEventError(event.type)
        handler(event.payload, event)

    def _set(self, table: str, key: object, **values: Any) -> None:
        row = self.tables[table].setdefault(str(key), {})
        row.update(values)

    def _drop(self, table: str, key: object) -> None:
        self.tables[table].pop(str(key), None)

    def _congress(self, p: Mapping[str, Any], _e: chain.Event) -> None:
        self._set(
            "congress",
            p["congress_id"],
            name=p["name"],
            delegates_total=p["delegates_total"],
            starts_on=p["starts_on"],
            ends_on=p["ends_on"],
        )

    def _roster(self, p: Mapping[str, Any], e: chain.Event) -> None:
        for d in p["delegates"]:
            self._set(
                "delegate",
                d["delegate_id"],
                congress_id=e.chain,
                name=d["name"],
                delegation=d["delegation"],
                student_id=d["student_id"],
                present=False,
            )

    def _election(self, p: Mapping[str, Any], e: chain.Event) -> None:
        self._set(
            "election",
            p["election_id"],
            congress_id=e.chain,
            title=p["title"],
            seats=p["seats"],
            profile=_profile(p["profile"]),
        )

    def _candidate(self, p: Mapping[str, Any], _e: chain.Event) -> None:
        self._set(
            "candidate",
            p["candidate_id"],
            election_id=p["election_id"],
            name=p["name"],
            student_id=p["student_id"],
        )

    def _official(self, p: Mapping[str, Any], e: chain.Event) -> None:
        self._set(
            "official",
            p["official_id"],
            congress_id=e.chain,
            name=p["name"],
            role=p["role"],
            student_id=p["student_id"],
        )

    def _round_opened(self, p: Mapping[str, Any], _e: chain.Event) -> None:
        definition = p["definition"]
        self._set(
            "round",
            p["round_id"],
            election_id=p["election_id"],
            number=p["number"],
            kind=p["kind"],
            follows_round_id=p["follows_round_id"],
            seats=definition["seats"],
            candidates=list(definition["candidates"]),
            definition=papers_service.definition_text(definition),
            definition_hash=p["definition_hash"],
            present=p["present"] if "present" in p else definition["present"],
            printed=None,
            issued=None,
            destroyed=None,
            collected=None,
            status=ROUND_OPEN,
        )

    def _papers_issued(self, p: Mapping[str, Any], _e: chain.Event) -> None:
        self._set(
            "round",
            p["round_id"],
            present=p["present"],
            printed=p["printed"],
            issued=p["issued"],
            destroyed=p["destroyed"],
            status=ROUND_ISSUED,
        )

    def _batch_created(self, p: Mapping[str, Any], _e: chain.Event) -> None:
        self._set(
            "batch",
            p["batch_id"],
            round_id=p["round_id"],
            number=p["number"],
            declared_count=p["declared_count"],
            teller_a_id=p["teller_a_id"],
            teller_b_id=p["teller_b_id"],
            generation=1,
            status=ENTERING,
        )
        self._set("round", p["round_id"], status=ROUND_COUNTING)

    def _paper_entered(self, p: Mapping[str, Any], e: chain.Event) -> None:
        self._set(
            "paper_entry",
            p["paper_id"],
            batch_id=p["batch_id"],
            entry_pass=p["pass"],
            generation=p["generation"],
            record=_canonical(p["record"]),
            status=p["status"],
            rule=p["rule"],
            entered_at=e.at,
        )

    def _resolution(self, batch_id: object, row: Row) -> None:
        resolutions = self.tables["batch_resolution"].setdefault(str(batch_id), {"rows": []})
        resolutions["rows"].append(row)

    def _resolved(self, p: Mapping[str, Any], _e: chain.Event) -> None:
        self._resolution(
            p["batch_id"],
            {
                "generation": p["generation"],
                "action": "records",
                "records": [_canonical(r) for r in p["records"]],
                "reason": p["reason"],
                "author_role": p["author_role"],
                "author_official_id": p["author_official_id"],
            },
        )
        self._set("batch", p["batch_id"], status=RECONCILED)

    def _reentry(self, p: Mapping[str, Any], _e: chain.Event) -> None:
        discarded = p["discarded_generation"]
        self._resolution(
            p["batch_id"],
            {
                "generation": discarded,
                "action": "reentry",
                "records": [],
                "reason": p["reason"],
                "author_role": p["author_role"],
                "author_official_id": p["author_official_id"],
            },
        )
        self._set("batch", p["batch_id"], generation=discarded + 1, status=ENTERING)


def project(events: Iterable[chain.Event]) -> dict[str, Table]:
    """The rows the tables must hold after these events (raises ``UnknownEventError``)."""
    projection = _Projection()
    for event in events:
        projection.apply(event)
    for resolutions in projection.tables["batch_resolution"].values():
        resolutions["rows"].sort(key=_resolution_order)
    return projection.tables


def _resolution_order(row: Row) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------- the database's rows


def _db_profile(options: dict[str, Any]) -> Any:
    try:
        return _profile(options)
    except (ProfileError, TypeError, ValueError):
        return options


def _minute(value: Any) -> str:
    return chain.coarse_minute(value)


def database_rows(session: Session, *, congress_id: int) -> dict[str, Table]:
    """The congress's rows, in the projection's shape."""
    tables: dict[str, Table] = {name: {} for name in TABLES}
    _congress_rows(session, tables, congress_id)
    election_ids = _election_rows(session, tables, congress_id)
    round_ids = _round_rows(session, tables, election_ids)
    batch_ids = _batch_rows(session, tables, round_ids)
    _paper_rows(session, tables, batch_ids)
    for resolutions in tables["batch_resolution"].values():
        resolutions["rows"].sort(key=_resolution_order)
    return tables


def _congress_rows(session: Session, tables: dict[str, Table], congress_id: int) -> None:
    """The congress, its delegates and its officials."""
    for c in session.scalars(select(models.Congress).where(models.Congress.id == congress_id)):
        tables["congress"][str(c.id)] = {
            "name": c.name,
            "delegates_total": c.delegates_total,
            "starts_on": None if c.starts_on is None else c.starts_on.isoformat(),
            "ends_on": None if c.ends_on is None else c.ends_on.isoformat(),
        }
    for d in session.scalars(
        select(models.Delegate).where(models.Delegate.congress_id == congress_id)
    ):
        tables["delegate"][str(d.id)] = {
            "congress_id": d.congress_id,
            "name": d.name,
            "delegation": d.delegation,
            "student_id": d.student_id,
            "present": d.present,
        }
    for o in session.scalars(
        select(models.Official).where(models.Official.congress_id == congress_id)
    ):
        tables["official"][str(o.id)] = {
            "congress_id": o.congress_id,
            "name": o.name,
            "role": o.role,
            "student_id": o.student_id,
        }


def _election_rows(session: Session, tables: dict[str, Table], congress_id: int) -> list[int]:
    """The congress's elections and their candidates; returns the elections' ids."""
    elections = session.scalars(
        select(models.Election).where(models.Election.congress_id == congress_id)
    ).all()
    election_ids = [e.id for e in elections]
    for e in elections:
        tables["election"][str(e.id)] = {
            "congress_id": e.congress_id,
            "title": e.title,
            "seats": e.seats,
            "profile": _db_profile(e.profile),
        }
    for candidate in session.scalars(
        select(models.Candidate).where(models.Candidate.election_id.in_(election_ids))
    ):
        tables["candidate"][str(candidate.id)] = {
            "election_id": candidate.election_id,
            "name": candidate.name,
            "student_id": candidate.student_id,
        }
    return election_ids


def _round_rows(session: Session, tables: dict[str, Table], election_ids: list[int]) -> list[int]:
    rounds = session.scalars(
        select(models.Round).where(models.Round.election_id.in_(election_ids))
    ).all()
    for r in rounds:
        tables["round"][str(r.id)] = {
            "election_id": r.election_id,
            "number": r.number,
            "kind": r.kind,
            "follows_round_id": r.follows_round_id,
            "seats": r.seats,
            "candidates": r.candidates,
            "definition": r.definition,
            "definition_hash": r.definition_hash,
            "present": r.present,
            "printed": r.printed,
            "issued": r.issued,
            "destroyed": r.destroyed,
            "collected": r.collected,
            "status": r.status,
        }
    return [r.id for r in rounds]


def _batch_rows(session: Session, tables: dict[str, Table], round_ids: list[int]) -> list[int]:
    batches = session.scalars(
        select(models.Batch).where(models.Batch.round_id.in_(round_ids))
    ).all()
    for b in batches:
        tables["batch"][str(b.id)] = {
            "round_id": b.round_id,
            "number": b.number,
            "declared_count": b.declared_count,
            "teller_a_id": b.teller_a_id,
            "teller_b_id": b.teller_b_id,
            "generation": b.generation,
            "status": b.status,
        }
    return [b.id for b in batches]


def _paper_rows(session: Session, tables: dict[str, Table], batch_ids: list[int]) -> None:
    """The batches' paper entries and resolutions."""
    entries = session.execute(
        select(
            models.PaperEntry.id,
            models.PaperEntry.batch_id,
            models.PaperEntry.entry_pass,
            models.PaperEntry.generation,
            models.PaperEntry.record,
            models.PaperEntry.status,
            models.PaperEntry.rule,
            models.PaperEntry.entered_at,
        ).where(models.PaperEntry.batch_id.in_(batch_ids))
    )
    for p in entries:
        tables["paper_entry"][p.id] = {
            "batch_id": p.batch_id,
            "entry_pass": p.entry_pass,
            "generation": p.generation,
            "record": p.record,
            "status": p.status,
            "rule": p.rule,
            "entered_at": _minute(p.entered_at),
        }
    for res in session.scalars(
        select(models.BatchResolution).where(models.BatchResolution.batch_id.in_(batch_ids))
    ):
        rows = tables["batch_resolution"].setdefault(str(res.batch_id), {"rows": []})["rows"]
        rows.append(
            {
                "generation": res.generation,
                "action": res.action,
                "records": list(res.records),
                "reason": res.reason,
                "author_role": res.author_role,
                "author_official_id": res.author_official_id,
            }
        )


# ---------------------------------------------------------------- comparing


def compare(database: Mapping[str, Table], log: Mapping[str, Table]) -> list[Mismatch]:
    mismatches: list[Mismatch] = []
    for table in TABLES:
        db_rows, log_rows = database[table], log[table]
        for key in sorted(db_rows.keys() | log_rows.keys(), key=_key_order):
            db_row, log_row = db_rows.get(key), log_rows.get(key)
            if db_row is None or log_row is None:
                mismatches.append(Mismatch(table, key, None, db_row, log_row))
                continue
            for column in sorted(db_row.keys() | log_row.keys()):
                if db_row.get(column) != log_row.get(column):
                    mismatches.append(
                        Mismatch(table, key, column, db_row.get(column), log_row.get(column))
                    )
    return mismatches


def _key_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (0, key)


def _readable(row: models.Event) -> chain.Event | None:
    """The row as a chain event, or None when its payload cannot even be hashed."""
    try:
        payload = json.loads(row.payload)
        if not isinstance(payload, dict):
            return None
        event = chain.Event(
            chain=row.congress_id,
            height=row.height,
            parent=row.parent,
            type=row.type,
            payload=payload,
            at=row.at,
            actor_role=row.actor_role,
        )
        chain.event_hash(event)
    except ValueError:  # JSON syntax, or a value canonical JSON refuses (a float…)
        return None
    return event


def check_congress(session: Session, *, congress_id: int) -> Consistency:
    """Verify the chain, then compare every projected table with the log's projection."""
    rows = store.list_events(session, congress_id=congress_id)
    result = Consistency(events=len(rows), rows=0)
    events: list[chain.Event] = []
    for row in rows:
        event = _readable(row)
        if event is None:
            result.chain_problems.append(
                chain.ChainProblem(
                    height=row.height,
                    message_en="the payload is not a JSON object that can be hashed",
                    message_zh="事件内容不是可计算哈希的 JSON 对象",
                )
            )
            return result
        events.append(event)
    result.chain_problems = chain.verify_chain(
        congress_id, [(event, row.hash) for event, row in zip(events, rows, strict=True)]
    )
    if result.chain_problems:
        return result  # a broken log projects nothing trustworthy
    database = database_rows(session, congress_id=congress_id)
    result.rows = sum(len(table) for table in database.values())
    try:
        expected = project(events)
    except UnknownEventError as exc:
        result.chain_problems.append(
            chain.ChainProblem(
                height=next(e.height for e in events if e.type == str(exc)),
                message_en=f"event type {exc} is not known to the table check",
                message_zh="表格核对不认识此事件的类型",
            )
        )
        return result
    result.mismatches = compare(database, expected)
    return result
