"""Setup use cases. Each runs inside the request's transaction, appends its event, and flushes.

Writers call ``store.lock_chain`` before reading what they are about to change, so that on
PostgreSQL two requests for one congress queue (SQLite already holds the write lock).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.orm import Session

from app import models
from app.auth.roles import COUNTING_ROLES, ROLE_NAMES_ZH, Principal, Role
from app.errors import Conflict, ErrorItem, InvalidInput, NotFound, not_found
from app.ledger import store
from app.ledger.chain import JsonValue
from app.names import SortedNames, UnknownCharacterError, sort_names
from app.rules.decide import required_present
from app.rules.model import normalize_name
from app.rules.profiles import Profile, ProfileError, parse_profile, profile_options
from app.setup import roster as roster_file
from app.setup.search import name_matches

# The fields a change may not set to null, as a message names them (大会名称不能为空).
REQUIRED_ZH: dict[str, str] = {
    "name": "大会名称",
    "delegates_total": "应到人数",
    "title": "选举名称",
    "seats": "应选名额",
    "profile": "规则选项",
}

# ---------------------------------------------------------------- congress


def get_congress(session: Session, *, congress_id: int) -> models.Congress:
    congress = session.get(models.Congress, congress_id)
    if congress is None:
        raise not_found("大会", "congress", congress_id)
    return congress


def list_congresses(session: Session, *, only_id: int | None = None) -> Sequence[models.Congress]:
    query = select(models.Congress).order_by(models.Congress.id)
    if only_id is not None:
        query = query.where(models.Congress.id == only_id)
    return session.scalars(query).all()


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise InvalidInput(
            "dates_reversed",
            "闭幕日期不能早于开幕日期",
            "ends_on must not be before starts_on",
            field="body.ends_on",
        )


def _congress_payload(congress: models.Congress) -> dict[str, JsonValue]:
    return {
        "congress_id": congress.id,
        "name": congress.name,
        "delegates_total": congress.delegates_total,
        "starts_on": None if congress.starts_on is None else congress.starts_on.isoformat(),
        "ends_on": None if congress.ends_on is None else congress.ends_on.isoformat(),
    }


def create_congress(
    session: Session,
    *,
    actor: Principal,
    name: str,
    delegates_total: int,
    starts_on: date | None,
    ends_on: date | None,
) -> models.Congress:
    _check_dates(starts_on, ends_on)
    congress = models.Congress(
        name=name, delegates_total=delegates_total, starts_on=starts_on, ends_on=ends_on
    )
    session.add(congress)
    session.flush()
    store.append_event(
        session,
        congress_id=congress.id,
        type="congress.created",
        payload=_congress_payload(congress),
        actor_role=actor.role,
    )
    return congress


def update_congress(
    session: Session, *, actor: Principal, congress_id: int, changes: Mapping[str, object]
) -> models.Congress:
    store.lock_chain(session, congress_id=congress_id)
    congress = get_congress(session, congress_id=congress_id)
    for key, value in changes.items():
        if value is None and key in ("name", "delegates_total"):
            raise InvalidInput(
                "required",
                f"{REQUIRED_ZH.get(key, key)}不能为空",
                f"{key} cannot be null",
                field=f"body.{key}",
            )
        setattr(congress, key, value)
    _check_dates(congress.starts_on, congress.ends_on)
    roster_count = count_delegates(session, congress_id=congress_id)
    if congress.delegates_total < roster_count:
        raise Conflict(
            "delegates_total_below_roster",
            f"应到人数 {congress.delegates_total} 少于名单中的代表数 {roster_count}",
            f"delegates_total {congress.delegates_total} is below the roster's {roster_count}",
            field="body.delegates_total",
        )
    session.flush()
    store.append_event(
        session,
        congress_id=congress.id,
        type="congress.updated",
        payload=_congress_payload(congress),
        actor_role=actor.role,
    )
    return congress


# ---------------------------------------------------------------- roster and check-in


def count_delegates(session: Session, *, congress_id: int, present: bool | None = None) -> int:
    query = select(func.count(models.Delegate.id)).where(models.Delegate.congress_id == congress_id)
    if present is not None:
        query = query.where(models.Delegate.present.is_(present))
    return session.scalar(query) or 0


def list_delegates(
    session: Session, *, congress_id: int, present: bool | None, search: str | None
) -> Sequence[models.Delegate]:
    query = (
        select(models.Delegate)
        .where(models.Delegate.congress_id == congress_id)
        .order_by(models.Delegate.id)
    )
    if present is not None:
        query = query.where(models.Delegate.present.is_(present))
    delegates = session.scalars(query).all()
    needle = normalize_name(search or "").casefold()
    if not needle:
        return delegates
    # Part of the name, 学号 or 代表团, or the name's pinyin initials (wxm → 王小明), matched here
    # rather than in SQL: the initials come from pypinyin, and LIKE would read % and _ as wildcards.
    return [
        d
        for d in delegates
        if needle in normalize_name(d.name).casefold()
        or needle in d.student_id.casefold()
        or needle in normalize_name(d.delegation).casefold()
        or name_matches(d.name, needle)
    ]


def import_roster(
    session: Session, *, actor: Principal, congress_id: int, data: bytes, filename: str
) -> tuple[roster_file.RosterFile, int]:
    """Add the file's delegates to the roster: all rows or none. Returns the file and the count.
    The file is parsed before the chain lock is taken (``add_roster``)."""
    parsed = roster_file.parse_roster(data, filename=filename)
    return parsed, add_roster(session, actor=actor, congress_id=congress_id, parsed=parsed)


@dataclass(frozen=True, slots=True)
class RosterCheck:
    """What the roster already holds against a file's rows: the rows whose student id is on it
    already, and the roster's size after the import."""

    duplicates: list[ErrorItem]
    roster_count: int
    roster_count_after: int
    delegates_total: int

    def over_total(self) -> Conflict | None:
        if self.roster_count_after <= self.delegates_total:
            return None
        return Conflict(
            "roster_exceeds_delegates_total",
            f"导入后名单共 {self.roster_count_after} 人，超过应到人数 {self.delegates_total}；"
            "请先修改大会的应到人数",
            f"the roster would hold {self.roster_count_after} delegates, more than "
            f"delegates_total {self.delegates_total}; change the congress first",
            field="file",
        )


def check_roster_rows(
    session: Session, *, congress_id: int, rows: Sequence[roster_file.RosterRow]
) -> RosterCheck:
    """The checks of an import against the roster as it is (the import and its preview)."""
    congress = get_congress(session, congress_id=congress_id)
    existing = set(
        session.scalars(
            select(models.Delegate.student_id).where(models.Delegate.congress_id == congress_id)
        )
    )
    duplicates = [
        ErrorItem(
            code="duplicate_student_id",
            message_zh=f"第 {row.row} 行学号 {row.student_id} 已在代表名单中",
            message_en=f"row {row.row}: student id {row.student_id} is already on the roster",
            field="student_id",
            row=row.row,
        )
        for row in rows
        if row.student_id in existing
    ]
    return RosterCheck(
        duplicates=duplicates,
        roster_count=len(existing),
        roster_count_after=len(existing) + len(rows) - len(duplicates),
        delegates_total=congress.delegates_total,
    )


@dataclass(frozen=True, slots=True)
class RosterPreview:
    rows: list[roster_file.RosterRow]  # what the import would add once there is no error
    errors: list[ErrorItem]  # every refused row in row order, then a problem of the whole roster
    check: RosterCheck


def preview_roster(
    session: Session, *, congress_id: int, reading: roster_file.RosterReading
) -> RosterPreview:
    """What importing the file would do, with the import's own checks (``read_roster``, then
    ``check_roster_rows``); reads only, appends no event."""
    check = check_roster_rows(session, congress_id=congress_id, rows=reading.rows)
    refused = {item.row for item in check.duplicates}
    errors = sorted([*reading.errors, *check.duplicates], key=lambda item: item.row or 0)
    over = check.over_total()
    if over is not None:
        errors.append(
            ErrorItem(
                code=over.code,
                message_zh=over.message_zh,
                message_en=over.message_en,
                field=over.field,
            )
        )
    rows = [row for row in reading.rows if row.row not in refused]
    return RosterPreview(rows=rows, errors=errors, check=check)


def add_roster(
    session: Session, *, actor: Principal, congress_id: int, parsed: roster_file.RosterFile
) -> int:
    """``import_roster`` of a file parsed already (outside the transaction, which holds the
    database's write lock): all rows or none. Returns the roster's new count."""
    store.lock_chain(session, congress_id=congress_id)
    check = check_roster_rows(session, congress_id=congress_id, rows=parsed.rows)
    if check.duplicates:
        raise roster_file.rows_rejected(check.duplicates)
    over = check.over_total()
    if over is not None:
        raise over
    total = check.roster_count_after
    delegates = [
        models.Delegate(
            congress_id=congress_id,
            name=row.name,
            delegation=row.delegation,
            student_id=row.student_id,
            present=False,
        )
        for row in parsed.rows
    ]
    session.add_all(delegates)
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="roster.imported",
        payload={
            "delegates": [
                {
                    "delegate_id": d.id,
                    "name": d.name,
                    "delegation": d.delegation,
                    "student_id": d.student_id,
                }
                for d in delegates
            ]
        },
        actor_role=actor.role,
    )
    return total


def get_delegate(session: Session, *, congress_id: int, delegate_id: int) -> models.Delegate:
    delegate = session.get(models.Delegate, delegate_id)
    if delegate is None or delegate.congress_id != congress_id:
        raise not_found("代表", "delegate", delegate_id)
    return delegate


def remove_delegate(
    session: Session, *, actor: Principal, congress_id: int, delegate_id: int
) -> None:
    store.lock_chain(session, congress_id=congress_id)
    delegate = get_delegate(session, congress_id=congress_id, delegate_id=delegate_id)
    if delegate.present:
        raise Conflict(
            "delegate_present",
            f"{delegate.name} 已签到，请先办理签退再从名单中删除",
            f"{delegate.name} is checked in; check them out before removing them",
        )
    session.delete(delegate)
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="delegate.removed",
        payload={"delegate_id": delegate_id},
        actor_role=actor.role,
    )


def check_in_by_student_id(
    session: Session, *, actor: Principal, congress_id: int, student_id: str
) -> models.Delegate:
    """签到 by student id (the desk scans a card); otherwise as ``set_present``."""
    store.lock_chain(session, congress_id=congress_id)
    get_congress(session, congress_id=congress_id)
    found = find_delegate_by_student_id(session, congress_id=congress_id, student_id=student_id)
    return set_present(
        session, actor=actor, congress_id=congress_id, delegate_id=found.id, present=True
    )


def find_delegate_by_student_id(
    session: Session, *, congress_id: int, student_id: str
) -> models.Delegate:
    delegate = session.scalars(
        select(models.Delegate).where(
            models.Delegate.congress_id == congress_id, models.Delegate.student_id == student_id
        )
    ).one_or_none()
    if delegate is None:
        raise NotFound(
            "delegate_not_found",
            f"代表名单中没有学号 {student_id}",
            f"no delegate with student id {student_id} on the roster",
            field="body.student_id",
        )
    return delegate


def set_present(
    session: Session, *, actor: Principal, congress_id: int, delegate_id: int, present: bool
) -> models.Delegate:
    """签到 / 签退: a delegate counts once (Q3). The record holds who is present, no paper."""
    store.lock_chain(session, congress_id=congress_id)
    delegate = get_delegate(session, congress_id=congress_id, delegate_id=delegate_id)
    if delegate.present == present:
        if present:
            raise Conflict(
                "already_checked_in",
                f"{delegate.name} 已经签到，不重复计数",
                f"{delegate.name} is already checked in; counted once",
            )
        raise Conflict(
            "not_checked_in",
            f"{delegate.name} 尚未签到，无法签退",
            f"{delegate.name} is not checked in",
        )
    delegate.present = present
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="delegate.checked_in" if present else "delegate.checked_out",
        payload={
            "delegate_id": delegate.id,
            "present": count_delegates(session, congress_id=congress_id, present=True),
        },
        actor_role=actor.role,
    )
    return delegate


@dataclass(frozen=True, slots=True)
class Attendance:
    congress_id: int
    delegates_total: int
    roster_count: int
    present: int
    congress_quorum_required: int

    @property
    def congress_quorum_met(self) -> bool:
        return self.present >= self.congress_quorum_required


def get_attendance(session: Session, *, congress_id: int) -> Attendance:
    congress = get_congress(session, congress_id=congress_id)
    rows = session.execute(
        select(models.Delegate.present, func.count(models.Delegate.id))
        .where(models.Delegate.congress_id == congress_id)
        .group_by(models.Delegate.present)
    )
    counts: dict[bool, int] = {bool(row[0]): int(row[1]) for row in rows}
    present = counts.get(True, 0)
    # Q2: the congress sits with ≥ 2/3 of its delegates (以上 includes the number): ⌈2n/3⌉.
    required = -(-2 * congress.delegates_total // 3)
    return Attendance(
        congress_id=congress_id,
        delegates_total=congress.delegates_total,
        roster_count=present + counts.get(False, 0),
        present=present,
        congress_quorum_required=required,
    )


@dataclass(frozen=True, slots=True)
class DelegationAttendance:
    """实到 and 应到 of one 代表团 (its delegates on the roster)."""

    delegation: str
    present: int
    roster_count: int


def attendance_by_delegation(session: Session, *, congress_id: int) -> list[DelegationAttendance]:
    """Each 代表团 of the roster, in the order the roster first lists it."""
    present = func.sum(case((models.Delegate.present.is_(True), 1), else_=0))
    rows = session.execute(
        select(models.Delegate.delegation, present, func.count(models.Delegate.id))
        .where(models.Delegate.congress_id == congress_id)
        .group_by(models.Delegate.delegation)
        .order_by(func.min(models.Delegate.id))
    )
    return [
        DelegationAttendance(delegation=str(row[0]), present=int(row[1] or 0), roster_count=row[2])
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class QuorumLine:
    """Q1 of one election against the present count now: its profile's fraction and the fewest
    present that reach it (the rules engine's ``required_present``, exact)."""

    election_id: int
    title: str
    quorum: str  # "4/5", as RULES.md spells the option
    strict: bool  # 超过 (the figure itself not enough) rather than 以上
    required: int
    present: int

    @property
    def met(self) -> bool:
        return self.present >= self.required


def quorum_lines(session: Session, *, attendance: Attendance) -> list[QuorumLine]:
    lines = []
    total = attendance.delegates_total
    for election in list_elections(session, congress_id=attendance.congress_id):
        profile = election_profile(election)
        lines.append(
            QuorumLine(
                election_id=election.id,
                title=election.title,
                quorum=f"{profile.quorum.numerator}/{profile.quorum.denominator}",
                strict=profile.quorum_strict,
                required=required_present(total, profile.quorum, profile.quorum_strict),
                present=attendance.present,
            )
        )
    return lines


# ---------------------------------------------------------------- elections


def _parse_election_profile(options: Mapping[str, object]) -> Profile:
    try:
        return parse_profile(options)
    except ProfileError as exc:
        raise InvalidInput(
            "invalid_profile", exc.message_zh, exc.message_en, field=f"body.profile.{exc.option}"
        ) from None


def election_profile(election: models.Election) -> Profile:
    return parse_profile(election.profile)


def get_election(session: Session, *, election_id: int) -> models.Election:
    election = session.get(models.Election, election_id)
    if election is None:
        raise not_found("选举", "election", election_id)
    return election


def list_elections(session: Session, *, congress_id: int) -> Sequence[models.Election]:
    return session.scalars(
        select(models.Election)
        .where(models.Election.congress_id == congress_id)
        .order_by(models.Election.id)
    ).all()


def _title_taken(session: Session, *, congress_id: int, title: str, except_id: int | None) -> None:
    query = select(models.Election.id).where(
        models.Election.congress_id == congress_id, models.Election.title == title
    )
    other = session.scalars(query).first()
    if other is not None and other != except_id:
        raise Conflict(
            "duplicate_election_title",
            f"本次大会已有名为“{title}”的选举",
            f"this congress already has an election titled {title!r}",
            field="body.title",
        )


def _election_payload(election: models.Election) -> dict[str, JsonValue]:
    return {
        "election_id": election.id,
        "title": election.title,
        "seats": election.seats,
        "profile": dict(profile_options(election_profile(election))),
    }


def create_election(
    session: Session,
    *,
    actor: Principal,
    congress_id: int,
    title: str,
    seats: int,
    profile: Mapping[str, str | bool],
) -> models.Election:
    store.lock_chain(session, congress_id=congress_id)
    get_congress(session, congress_id=congress_id)
    _parse_election_profile(profile)
    _title_taken(session, congress_id=congress_id, title=title, except_id=None)
    election = models.Election(
        congress_id=congress_id, title=title, seats=seats, profile=dict(profile)
    )
    session.add(election)
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="election.created",
        payload=_election_payload(election),
        actor_role=actor.role,
    )
    return election


def update_election(
    session: Session, *, actor: Principal, election_id: int, changes: Mapping[str, object]
) -> models.Election:
    election = get_election(session, election_id=election_id)
    store.lock_chain(session, congress_id=election.congress_id)
    session.refresh(election)
    for key, value in changes.items():
        if value is None:
            raise InvalidInput(
                "required",
                f"{REQUIRED_ZH.get(key, key)}不能为空",
                f"{key} cannot be null",
                field=f"body.{key}",
            )
    seats_before, profile_before = election.seats, election.profile
    if "profile" in changes:
        profile = changes["profile"]
        assert isinstance(profile, dict)
        _parse_election_profile(profile)
        election.profile = dict(profile)
    if "title" in changes:
        title = changes["title"]
        assert isinstance(title, str)
        _title_taken(session, congress_id=election.congress_id, title=title, except_id=election.id)
        election.title = title
    if "seats" in changes:
        seats = changes["seats"]
        assert isinstance(seats, int)
        election.seats = seats
    if election.seats != seats_before:
        refuse_if_frozen(session, election_id=election.id, what=FROZEN_SEATS)
    if election.profile != profile_before:
        refuse_if_frozen(session, election_id=election.id, what=FROZEN_PROFILE)
    session.flush()
    store.append_event(
        session,
        congress_id=election.congress_id,
        type="election.updated",
        payload=_election_payload(election),
        actor_role=actor.role,
    )
    return election


@dataclass(frozen=True, slots=True)
class SlateCheck:
    ok: bool
    candidates: int
    seats: int
    allow_uncontested: bool
    code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None


def check_slate(session: Session, *, election: models.Election) -> SlateCheck:
    """六.4 差额选举: candidates > seats; = seats only if the profile allows uncontested."""
    count = (
        session.scalar(
            select(func.count(models.Candidate.id)).where(
                models.Candidate.election_id == election.id
            )
        )
        or 0
    )
    allow = election_profile(election).allow_uncontested
    seats = election.seats
    if count > seats or (allow and count == seats):
        return SlateCheck(True, count, seats, allow)
    if count == seats:
        return SlateCheck(
            False,
            count,
            seats,
            allow,
            "not_competitive",
            f"差额选举要求候选人多于应选名额：应选 {seats} 名，现有候选人 {count} 名",
            f"a competitive election needs more candidates than seats: {seats} seats, "
            f"{count} candidates",
        )
    return SlateCheck(
        False,
        count,
        seats,
        allow,
        "too_few_candidates",
        f"候选人不足：应选 {seats} 名，现有候选人 {count} 名",
        f"too few candidates: {seats} seats, {count} candidates",
    )


def require_slate(session: Session, *, election_id: int) -> None:
    """Raise Conflict unless the slate is ready (counting/printing code calls this)."""
    check = check_slate(session, election=get_election(session, election_id=election_id))
    if not check.ok:
        raise Conflict(check.code or "", check.message_zh or "", check.message_en or "")


# ---------------------------------------------------------------- candidates and officials (O1)


def _key(name: str) -> str:
    return normalize_name(name)  # a person's identity, as the engine has it (P7)


def same_person(
    name_a: str, student_id_a: str | None, name_b: str, student_id_b: str | None
) -> bool:
    """Student ids decide when both are known; otherwise the normalized names do (O1)."""
    if student_id_a and student_id_b:
        return student_id_a == student_id_b
    return _key(name_a) == _key(name_b)


def sorted_candidates(
    session: Session, *, election: models.Election
) -> tuple[list[models.Candidate], SortedNames]:
    """The election's candidates in stroke order (B1, with the profile's ``name_order``)."""
    candidates = list(
        session.scalars(select(models.Candidate).where(models.Candidate.election_id == election.id))
    )
    order = election_profile(election).name_order
    result = sort_names([c.name for c in candidates], order)
    by_name: dict[str, list[models.Candidate]] = {}
    for candidate in sorted(candidates, key=lambda c: c.id):
        by_name.setdefault(candidate.name, []).append(candidate)
    ordered = [by_name[name].pop(0) for name in result.names]
    return ordered, result


def _refuse_official_as_candidate(
    session: Session, election: models.Election, name: str, student_id: str | None
) -> None:
    """O1: an official who counts, scrutinizes or presides is not a candidate (409)."""
    officials = session.scalars(
        select(models.Official).where(
            models.Official.congress_id == election.congress_id,
            models.Official.role.in_([r.value for r in COUNTING_ROLES]),
        )
    ).all()
    for official in officials:
        if same_person(name, student_id, official.name, official.student_id):
            role_zh = ROLE_NAMES_ZH[Role(official.role)]
            raise Conflict(
                "candidate_is_official",
                f"{name} 是本次大会的{role_zh}，选举工作人员不得为候选人（O1）",
                f"{name} is a {official.role} of this congress; officials cannot be "
                "candidates (O1)",
                field="body.name",
            )


def add_candidate(
    session: Session,
    *,
    actor: Principal,
    election_id: int,
    name: str,
    student_id: str | None,
) -> models.Candidate:
    election = get_election(session, election_id=election_id)
    store.lock_chain(session, congress_id=election.congress_id)
    order = election_profile(election).name_order
    try:
        sort_names([name], order)
    except UnknownCharacterError as exc:
        raise InvalidInput(
            "unknown_character",
            f"无法确定“{exc.char}”的笔画数，不能按姓氏笔画排序（{name}）",
            f"no stroke data for {exc.char!r} in {name!r}; the name cannot be placed in "
            "stroke order",
            field="body.name",
        ) from None
    existing = session.scalars(
        select(models.Candidate).where(models.Candidate.election_id == election_id)
    ).all()
    for other in existing:
        if _key(other.name) == _key(name) or (student_id and other.student_id == student_id):
            raise Conflict(
                "duplicate_candidate",
                f"{name} 已是本选举的候选人",
                f"{name} is already a candidate in this election",
                field="body.name",
            )
    _refuse_official_as_candidate(session, election, name, student_id)
    refuse_if_frozen(session, election_id=election_id, what=FROZEN_CANDIDATES)
    candidate = models.Candidate(election_id=election_id, name=name, student_id=student_id)
    session.add(candidate)
    session.flush()
    store.append_event(
        session,
        congress_id=election.congress_id,
        type="candidate.added",
        payload={
            "election_id": election_id,
            "candidate_id": candidate.id,
            "name": name,
            "student_id": student_id,
        },
        actor_role=actor.role,
    )
    return candidate


def remove_candidate(
    session: Session, *, actor: Principal, election_id: int, candidate_id: int
) -> None:
    election = get_election(session, election_id=election_id)
    store.lock_chain(session, congress_id=election.congress_id)
    candidate = session.get(models.Candidate, candidate_id)
    if candidate is None or candidate.election_id != election_id:
        raise not_found("候选人", "candidate", candidate_id)
    refuse_if_frozen(session, election_id=election_id, what=FROZEN_CANDIDATES)
    session.delete(candidate)
    session.flush()
    store.append_event(
        session,
        congress_id=election.congress_id,
        type="candidate.removed",
        payload={"election_id": election_id, "candidate_id": candidate_id},
        actor_role=actor.role,
    )


def get_official(session: Session, *, congress_id: int, official_id: int) -> models.Official:
    official = session.get(models.Official, official_id)
    if official is None or official.congress_id != congress_id:
        raise not_found("工作人员", "official", official_id)
    return official


def list_officials(session: Session, *, congress_id: int) -> Sequence[models.Official]:
    return session.scalars(
        select(models.Official)
        .where(models.Official.congress_id == congress_id)
        .order_by(models.Official.id)
    ).all()


def add_official(
    session: Session,
    *,
    actor: Principal,
    congress_id: int,
    name: str,
    role: Role,
    student_id: str | None,
) -> models.Official:
    store.lock_chain(session, congress_id=congress_id)
    get_congress(session, congress_id=congress_id)
    for other in list_officials(session, congress_id=congress_id):
        if other.role == role and same_person(name, student_id, other.name, other.student_id):
            raise Conflict(
                "duplicate_official",
                f"{name} 已是{ROLE_NAMES_ZH[role]}",
                f"{name} is already a {role}",
                field="body.name",
            )
    if role in COUNTING_ROLES:
        rows = session.execute(
            select(models.Candidate.name, models.Candidate.student_id, models.Election.title)
            .join(models.Election, models.Candidate.election_id == models.Election.id)
            .where(models.Election.congress_id == congress_id)
        ).all()
        for row in rows:
            if same_person(name, student_id, row.name, row.student_id):
                raise Conflict(
                    "official_is_candidate",
                    f"{name} 是“{row.title}”的候选人，不得担任{ROLE_NAMES_ZH[role]}（O1）",
                    f"{name} is a candidate in {row.title!r} and cannot be a {role} (O1)",
                    field="body.name",
                )
    official = models.Official(
        congress_id=congress_id, name=name, role=role.value, student_id=student_id
    )
    session.add(official)
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="official.added",
        payload={
            "official_id": official.id,
            "name": name,
            "role": role.value,
            "student_id": student_id,
        },
        actor_role=actor.role,
    )
    return official


def remove_official(
    session: Session, *, actor: Principal, congress_id: int, official_id: int
) -> None:
    store.lock_chain(session, congress_id=congress_id)
    official = get_official(session, congress_id=congress_id, official_id=official_id)
    refuse_if_assigned_to_batch(session, official=official)
    session.execute(delete(models.AuthSession).where(models.AuthSession.official_id == official_id))
    session.delete(official)
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="official.removed",
        payload={"official_id": official_id},
        actor_role=actor.role,
    )


# ---------------------------------------------------------------- O2 staffing

# O2, seed procedure 六.7: 总监票人1人，总计票人1人，监票人2人，计票人5人.
SEED_STAFFING: dict[Role, int] = {
    Role.chief_scrutineer: 1,
    Role.chief_teller: 1,
    Role.scrutineer: 2,
    Role.teller: 5,
}


@dataclass(frozen=True, slots=True)
class Staffing:
    required: dict[Role, int]
    actual: dict[Role, int]
    problems: list[ErrorItem]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_staffing(session: Session, *, congress_id: int) -> Staffing:
    """O2: exactly the seed's officials for the count (a missing or extra official is named)."""
    get_congress(session, congress_id=congress_id)
    counts = Counter(
        session.scalars(
            select(models.Official.role).where(models.Official.congress_id == congress_id)
        )
    )
    actual = {role: counts.get(role.value, 0) for role in SEED_STAFFING}
    problems = [
        ErrorItem(
            code=f"staffing_{role.value}",
            message_zh=f"{ROLE_NAMES_ZH[role]}应为 {need} 人，现有 {actual[role]} 人（O2）",
            message_en=f"{role.value}: {need} required, {actual[role]} assigned (O2)",
            field=role.value,
        )
        for role, need in SEED_STAFFING.items()
        if actual[role] != need
    ]
    return Staffing(required=dict(SEED_STAFFING), actual=actual, problems=problems)


def require_staffing(session: Session, *, congress_id: int) -> None:
    """Raise Conflict unless O2 holds; counting code calls this before a count starts."""
    staffing = check_staffing(session, congress_id=congress_id)
    if staffing.problems:
        first = staffing.problems[0]
        raise Conflict(
            "staffing_incomplete",
            "选举工作人员配备不符合要求：" + "；".join(p.message_zh for p in staffing.problems),
            "officials are not staffed as required: "
            + "; ".join(p.message_en for p in staffing.problems),
            field=first.field,
            errors=staffing.problems,
        )


# ---------------------------------------------------------------- readiness of one election


@dataclass(frozen=True, slots=True)
class ElectionQuorum:
    """Q1 now (the round freezes ``present`` when papers are issued)."""

    delegates_total: int
    present: int
    required: int

    @property
    def met(self) -> bool:
        return self.present >= self.required


@dataclass(frozen=True, slots=True)
class Readiness:
    slate: SlateCheck
    staffing: Staffing
    quorum: ElectionQuorum

    @property
    def ready(self) -> bool:
        return self.slate.ok and self.staffing.ok and self.quorum.met


def check_readiness(session: Session, *, election_id: int) -> Readiness:
    """May papers be issued now? 差额 slate (六.4), O2 staffing, Q1 quorum of those present."""
    election = get_election(session, election_id=election_id)
    profile = election_profile(election)
    attendance = get_attendance(session, congress_id=election.congress_id)
    quorum = ElectionQuorum(
        delegates_total=attendance.delegates_total,
        present=attendance.present,
        required=required_present(
            attendance.delegates_total, profile.quorum, profile.quorum_strict
        ),
    )
    return Readiness(
        slate=check_slate(session, election=election),
        staffing=check_staffing(session, congress_id=election.congress_id),
        quorum=quorum,
    )


# ---------------------------------------------------------------- what later steps hold fixed
# Checked here, by the services that change these rows, from the shared tables: setup imports no
# later feature (the layers contract in pyproject.toml), and no listener refuses a flush behind
# the caller's back.

# (what, 中文, the field a refusal names)
FROZEN_CANDIDATES = ("候选人名单", "candidates", "body.name")
FROZEN_SEATS = ("应选名额", "seats", "body.seats")
FROZEN_PROFILE = ("规则选项", "profile", "body.profile")


def refuse_if_frozen(session: Session, *, election_id: int, what: tuple[str, str, str]) -> None:
    """409 ``election_frozen`` once the election has a round (of any status): from its opening
    the candidates, seats and profile are those of the frozen round definition (RULES.md B1).
    The title may still change."""
    has_round = session.scalar(
        select(func.count(models.Round.id)).where(models.Round.election_id == election_id)
    )
    if has_round:
        what_zh, what_en, field = what
        raise Conflict(
            "election_frozen",
            f"本选举已开始投票，{what_zh}已冻结，不能更改",
            f"this election has an opened round: its {what_en} can no longer change",
            field=field,
        )


def refuse_if_assigned_to_batch(session: Session, *, official: models.Official) -> None:
    """409 ``official_assigned_to_batch``: a teller named on a batch stays (the batch's passes are
    theirs), rather than a failed foreign key."""
    assigned = session.scalar(
        select(func.count(models.Batch.id)).where(
            or_(models.Batch.teller_a_id == official.id, models.Batch.teller_b_id == official.id)
        )
    )
    if assigned:
        raise Conflict(
            "official_assigned_to_batch",
            f"{official.name} 已被指定录入选票批次，不能删除",
            f"{official.name} is assigned to a batch of papers and cannot be removed",
        )
