"""Separation of duties (issue 20 item 3): once voting has begun, the secretariat alone cannot
change who counts and who signs.

**The rule.** Once a round of a congress is open (any round whose status is not ``cancelled``),
these need a presidium member's confirmation:

* adding or removing an official of the congress (any role: a new presidium member could confirm
  the secretariat's own requests);
* issuing a login code for a counting or signing role (chief scrutineer, scrutineer, chief teller,
  teller), and for a presidium member (the people who confirm).

The admin's direct request is refused (409 ``presidium_confirmation_required``, nothing changes).
The admin files the same change as a request (``POST /api/congresses/{id}/official-changes``,
event ``official.change_requested``); a presidium member logged in with their own session confirms
it (``POST /api/official-changes/{id}/confirm``, event ``official.change_confirmed`` naming the
presidium official and their session), which performs the change. A login code issued that way is
shown to the confirming presidium member only, who hands it to the person: the secretariat never
holds a code for a counting or signing role once voting has begun.

**The presidium's own codes.** A presidium member cannot confirm a change about themselves. When
the congress has no other presidium member, nobody could confirm; then the secretariat acts alone
(issuing the only presidium member's code, or adding a first presidium member), so that it never
becomes impossible. That issuance is recorded with ``confirmation: null`` and listed by the audit
answer (``GET /api/audit/congresses/{id}/duties``) as issued by the secretariat alone, where the
auditor sees it next to every confirmation that presidium session made.

**Sessions.** A new login code ends the person's earlier sessions (their old tokens answer 401).
A session keeps the ``official.login_code_issued`` event of its code; a signature (``round.signed``)
records the session's id and that issuance (when, by whom, confirmed by whom).
"""

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from app import models
from app.auth import service as auth_service
from app.auth.roles import COUNTING_ROLES, ROLE_NAMES_ZH, Principal, Role
from app.errors import Conflict, Forbidden, NotFound
from app.ledger import store
from app.ledger.chain import JsonValue
from app.settings import Settings
from app.setup import schemas
from app.setup import service as setup_service

CHANGE_REQUESTED = "official.change_requested"
CHANGE_CONFIRMED = "official.change_confirmed"
CODE_ISSUED = "official.login_code_issued"
# Roles whose login code needs a confirmation once voting has begun.
GUARDED_CODE_ROLES: frozenset[Role] = COUNTING_ROLES | {Role.presidium}

Action = Literal["add", "remove", "login_code"]
ACTION_ZH: dict[str, str] = {"add": "添加", "remove": "删除", "login_code": "签发登录码"}


def voting_begun(session: Session, *, congress_id: int) -> bool:
    """Is a round of the congress open (any round not ``cancelled``)?"""
    return bool(
        session.scalar(
            select(
                exists()
                .where(models.Round.election_id == models.Election.id)
                .where(models.Election.congress_id == congress_id)
                .where(models.Round.status != "cancelled")
            )
        )
    )


def _other_presidium(session: Session, *, congress_id: int, official_id: int | None) -> bool:
    query = select(models.Official.id).where(
        models.Official.congress_id == congress_id, models.Official.role == Role.presidium
    )
    if official_id is not None:
        query = query.where(models.Official.id != official_id)
    return session.scalars(query).first() is not None


def needs_confirmation(
    session: Session, *, congress_id: int, action: Action, role: Role, official_id: int | None
) -> bool:
    """Does this change of the congress's officials need a presidium member's confirmation?"""
    if not voting_begun(session, congress_id=congress_id):
        return False
    if action == "login_code" and role not in GUARDED_CODE_ROLES:
        return False
    if role == Role.presidium:
        # Nobody could confirm without another presidium member: the secretariat acts alone,
        # recorded with ``confirmation: null`` (the module's docstring says why).
        return _other_presidium(session, congress_id=congress_id, official_id=official_id)
    return True


def ensure_alone_allowed(
    session: Session,
    *,
    actor: Principal,
    congress_id: int,
    action: Action,
    role: Role,
    official_id: int | None,
) -> None:
    """409 ``presidium_confirmation_required`` when the admin may not do this alone now."""
    if not needs_confirmation(
        session, congress_id=congress_id, action=action, role=role, official_id=official_id
    ):
        return
    raise Conflict(
        "presidium_confirmation_required",
        f"投票已经开始，{ACTION_ZH[action]}（{ROLE_NAMES_ZH[role]}）须经大会主席团成员确认："
        "请在秘书处页面提交工作人员变更申请，再由一名大会主席团成员用本人的登录确认；"
        "确认后变更生效，登录码只显示给确认的主席团成员",
        f"a round is open: this change ({action}, {role}) needs a presidium member's "
        "confirmation. File it with POST /api/congresses/{congress_id}/official-changes "
        f"(as {actor.role}); a presidium member then confirms it with their own session, "
        "POST /api/official-changes/{change_id}/confirm, which performs it (a login code is "
        "shown to that presidium member only)",
    )


def end_sessions(session: Session, *, official_id: int) -> int:
    """End every session of an official (their tokens answer 401); how many there were."""
    ended = session.execute(
        delete(models.AuthSession).where(models.AuthSession.official_id == official_id)
    )
    return int(getattr(ended, "rowcount", 0) or 0)


def issue_login_code(
    session: Session,
    *,
    actor: Principal,
    official: models.Official,
    confirmation: dict[str, JsonValue] | None = None,
) -> str:
    """A new one-time code for ``official``: the earlier code and sessions stop working; recorded
    as ``official.login_code_issued`` (never the code) with who issued it and the confirmation."""
    store.lock_chain(session, congress_id=official.congress_id)
    code = auth_service.set_login_code(official)
    ended = end_sessions(session, official_id=official.id)
    event = store.append_event(
        session,
        congress_id=official.congress_id,
        type=CODE_ISSUED,
        payload={
            "official_id": official.id,
            "role": official.role,
            "issued_by": str(Role.admin),  # only the secretariat issues codes
            "voting_begun": voting_begun(session, congress_id=official.congress_id),
            "confirmation": confirmation,
            "sessions_ended": ended,
        },
        actor_role=str(actor.role),  # the presidium member, when it is their confirmation
    )
    official.login_code_event = event.hash
    session.flush()
    return code


# ---------------------------------------------------------------- requests and confirmations


@dataclass(frozen=True, slots=True)
class Change:
    id: int  # the id of its ``official.change_requested`` event
    at: str
    action: str
    official_id: int | None
    name: str
    role: str
    student_id: str | None
    confirmed: dict[str, Any] | None


def list_changes(session: Session, *, congress_id: int) -> list[Change]:
    rows = session.scalars(
        select(models.Event)
        .where(
            models.Event.congress_id == congress_id,
            models.Event.type.in_((CHANGE_REQUESTED, CHANGE_CONFIRMED)),
        )
        .order_by(models.Event.height)
    ).all()
    confirmed = {}
    for row in rows:
        if row.type == CHANGE_CONFIRMED:
            payload = json.loads(row.payload)
            confirmed[payload["change_id"]] = payload | {"at": row.at}
    found = []
    for row in rows:
        if row.type != CHANGE_REQUESTED:
            continue
        p = json.loads(row.payload)
        found.append(
            Change(
                id=row.id,
                at=row.at,
                action=p["action"],
                official_id=p["official_id"],
                name=p["name"],
                role=p["role"],
                student_id=p["student_id"],
                confirmed=confirmed.get(row.id),
            )
        )
    return found


def request_change(
    session: Session,
    *,
    actor: Principal,
    congress_id: int,
    action: Action,
    official_id: int | None,
    name: str | None,
    role: Role | None,
    student_id: str | None,
) -> Change:
    store.lock_chain(session, congress_id=congress_id)
    setup_service.get_congress(session, congress_id=congress_id)
    if action == "add":
        if name is None or role is None:
            raise Conflict(
                "change_incomplete",
                "添加工作人员须写明姓名和职务",
                "adding an official needs a name and a role",
                field="body.name",
            )
        official_id = None
    else:
        if official_id is None:
            raise Conflict(
                "change_incomplete",
                "请写明是哪一位工作人员",
                "name the official (official_id)",
                field="body.official_id",
            )
        official = setup_service.get_official(
            session, congress_id=congress_id, official_id=official_id
        )
        name, role, student_id = official.name, Role(official.role), official.student_id
    event = store.append_event(
        session,
        congress_id=congress_id,
        type=CHANGE_REQUESTED,
        payload={
            "action": action,
            "official_id": official_id,
            "name": name,
            "role": str(role),
            "student_id": student_id,
        },
        actor_role=str(actor.role),
    )
    return Change(
        event.id, event.at, action, official_id, name, str(role), student_id, confirmed=None
    )


def _session_id(session: Session, token: str) -> int | None:
    return session.scalar(
        select(models.AuthSession.id).where(
            models.AuthSession.token_hash == auth_service.hash_secret(token)
        )
    )


@dataclass(frozen=True, slots=True)
class Confirmed:
    change: Change
    official: models.Official | None
    code: str | None


def confirm_change(session: Session, *, actor: Principal, token: str, change_id: int) -> Confirmed:
    """A presidium member confirms a pending change, which is then performed."""
    if actor.role != Role.presidium or actor.official_id is None:
        raise Forbidden(
            "presidium_only",
            "只有大会主席团成员本人可以确认工作人员变更",
            "only a presidium member, with their own session, confirms a change of officials",
        )
    row = session.get(models.Event, change_id)
    if row is None or row.type != CHANGE_REQUESTED:
        raise NotFound(
            "official_change_not_found",
            f"没有编号为 {change_id} 的工作人员变更申请",
            f"no official change request {change_id}",
        )
    actor.ensure_congress(row.congress_id)
    store.lock_chain(session, congress_id=row.congress_id)
    change = next(c for c in list_changes(session, congress_id=row.congress_id) if c.id == row.id)
    if change.confirmed is not None:
        raise Conflict(
            "official_change_confirmed",
            "这项变更已经确认过",
            "this change has already been confirmed",
        )
    if change.official_id is not None and change.official_id == actor.official_id:
        raise Forbidden(
            "confirm_own_change",
            "主席团成员不能确认关于本人的变更，请由另一名主席团成员确认",
            "a presidium member cannot confirm a change about themselves; another one must",
        )
    presidium = session.get(models.Official, actor.official_id)
    assert presidium is not None  # a live session's official exists
    confirmation: dict[str, JsonValue] = {
        "change_id": change.id,
        "official_id": presidium.id,
        "name": presidium.name,
        "session_id": _session_id(session, token),
    }
    store.append_event(
        session,
        congress_id=row.congress_id,
        type=CHANGE_CONFIRMED,
        payload=confirmation,
        actor_role=str(Role.presidium),
    )
    official, code = _perform(session, actor, row.congress_id, change, confirmation)
    done = next(c for c in list_changes(session, congress_id=row.congress_id) if c.id == row.id)
    return Confirmed(done, official, code)


def _perform(
    session: Session,
    actor: Principal,
    congress_id: int,
    change: Change,
    confirmation: dict[str, JsonValue],
) -> tuple[models.Official | None, str | None]:
    """Do the confirmed change: (the official added or given a code, the code)."""
    if change.action == "add":
        official = setup_service.add_official(
            session,
            actor=actor,
            congress_id=congress_id,
            name=change.name,
            role=Role(change.role),
            student_id=change.student_id,
        )
        return official, None
    assert change.official_id is not None
    if change.action == "remove":
        setup_service.remove_official(
            session, actor=actor, congress_id=congress_id, official_id=change.official_id
        )
        return None, None
    official = setup_service.get_official(
        session, congress_id=congress_id, official_id=change.official_id
    )
    code = issue_login_code(session, actor=actor, official=official, confirmation=confirmation)
    return official, code


# ---------------------------------------------------------------- who signed with what


def code_issuance(session: Session, *, event_hash: str | None) -> dict[str, JsonValue] | None:
    """The facts of a code's ``official.login_code_issued`` event: when, by whom, confirmed by."""
    if event_hash is None:
        return None
    row = session.scalars(select(models.Event).where(models.Event.hash == event_hash)).first()
    if row is None:
        return None
    payload = json.loads(row.payload)
    return {
        "event": row.hash,
        "issued_at": row.at,
        "issued_by": payload.get("issued_by", row.actor_role),
        "confirmation": payload.get("confirmation"),
    }


def signer_session(session: Session, *, token: str) -> dict[str, JsonValue]:
    """What a signature records about its session: the id (never the token) and its code."""
    row = session.scalars(
        select(models.AuthSession).where(
            models.AuthSession.token_hash == auth_service.hash_secret(token)
        )
    ).one()
    return {"id": row.id, "code": code_issuance(session, event_hash=row.code_event)}


# ---------------------------------------------------------------- HTTP


class OfficialChangeCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"action": "login_code", "official_id": 3},
                {"action": "add", "name": "周明", "role": "scrutineer"},
            ]
        },
    )

    action: Action = Field(description="add 添加 | remove 删除 | login_code 签发登录码")
    official_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    name: schemas.PersonName | None = None
    role: Role | None = None
    student_id: schemas.StudentId | None = None


_CHANGE_EXAMPLE: dict[str, Any] = {
    "id": 31,
    "requested_at": "2026-11-14T09:40Z",
    "action": "login_code",
    "official_id": 3,
    "name": "孙丽",
    "role": "chief_scrutineer",
    "role_zh": "总监票人",
    "confirmed": True,
    "confirmed_at": "2026-11-14T09:42Z",
    "confirmed_by": 11,
    "confirmed_by_name": "陈刚",
    "confirmed_session_id": 27,
}


class OfficialChangeRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CHANGE_EXAMPLE]})

    id: int
    requested_at: str
    action: Action
    official_id: int | None
    name: str
    role: Role
    role_zh: str
    confirmed: bool
    confirmed_at: str | None
    confirmed_by: int | None
    confirmed_by_name: str | None
    confirmed_session_id: int | None


class OfficialChangeConfirmed(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "change": _CHANGE_EXAMPLE,
                    "official": None,
                    "login_code": {
                        "official_id": 3,
                        "code": "K7QM-2XHP-R9TB",
                        "expires_at": "2026-11-21T09:42:00Z",
                        "login_url": "http://127.0.0.1:8000/login?code=K7QM-2XHP-R9TB",
                        "qr_svg_url": "/api/auth/login-qr.svg?code=K7QM-2XHP-R9TB",
                        "qr_png_url": "/api/auth/login-qr.png?code=K7QM-2XHP-R9TB",
                    },
                }
            ]
        }
    )

    change: OfficialChangeRead
    official: schemas.OfficialRead | None
    login_code: schemas.LoginCodeRead | None = Field(
        description="签发登录码时：只显示给确认的主席团成员这一次 / shown to the confirming "
        "presidium member only, once"
    )


def official_read(official: models.Official) -> schemas.OfficialRead:
    role = Role(official.role)
    return schemas.OfficialRead(
        id=official.id,
        congress_id=official.congress_id,
        name=official.name,
        role=role,
        role_zh=ROLE_NAMES_ZH[role],
        student_id=official.student_id,
        login_pending=official.login_code_hash is not None,
    )


def login_code_read(
    settings: Settings, official: models.Official, code: str
) -> schemas.LoginCodeRead:
    assert official.login_code_expires_at is not None
    return schemas.LoginCodeRead(
        official_id=official.id,
        code=code,
        expires_at=official.login_code_expires_at,
        login_url=auth_service.login_url(settings, code),
        qr_svg_url=f"/api/auth/login-qr.svg?code={quote(code)}",
        qr_png_url=f"/api/auth/login-qr.png?code={quote(code)}",
    )


def change_read(change: Change) -> OfficialChangeRead:
    confirmed = change.confirmed or {}
    return OfficialChangeRead(
        id=change.id,
        requested_at=change.at,
        action=change.action,
        official_id=change.official_id,
        name=change.name,
        role=Role(change.role),
        role_zh=ROLE_NAMES_ZH[Role(change.role)],
        confirmed=change.confirmed is not None,
        confirmed_at=confirmed.get("at"),
        confirmed_by=confirmed.get("official_id"),
        confirmed_by_name=confirmed.get("name"),
        confirmed_session_id=confirmed.get("session_id"),
    )


# ---------------------------------------------------------------- the audit's view


class CodeIssuanceRead(BaseModel):
    official_id: int
    role: Role
    issued_at: str
    issued_by: str
    voting_begun: bool | None
    confirmation: dict[str, Any] | None
    alone_after_voting_begun: bool = Field(
        description="投票开始后由秘书处单独签发（只可能是唯一的主席团成员）/ issued by the "
        "secretariat alone after a round opened (only the sole presidium member's code can be)"
    )
    sessions_ended: int | None


class SignatureRead(BaseModel):
    round_id: int
    election_id: int | None
    round_number: int | None
    official_id: int
    name: str | None
    role: Role
    signed_at: str
    decision: str
    session_id: int | None
    code: dict[str, Any] | None = Field(
        description="该会话登录码的签发：时间、签发人、确认的主席团成员 / the session's login "
        "code: issued when, by whom, confirmed by which presidium member"
    )


_CONFIRMATION_EXAMPLE: dict[str, Any] = {
    "change_id": 31,
    "official_id": 11,
    "name": "陈刚",
    "session_id": 27,
}


class DutiesRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "congress_id": 1,
                    "signatures": [
                        {
                            "round_id": 1,
                            "election_id": 1,
                            "round_number": 1,
                            "official_id": 3,
                            "name": "孙丽",
                            "role": "chief_scrutineer",
                            "signed_at": "2026-11-14T11:05Z",
                            "decision": "9f2c…",
                            "session_id": 29,
                            "code": {
                                "event": "4b1e…",
                                "issued_at": "2026-11-14T09:42Z",
                                "issued_by": "admin",
                                "confirmation": _CONFIRMATION_EXAMPLE,
                            },
                        }
                    ],
                    "code_issuances": [
                        {
                            "official_id": 3,
                            "role": "chief_scrutineer",
                            "issued_at": "2026-11-14T09:42Z",
                            "issued_by": "admin",
                            "voting_begun": True,
                            "confirmation": _CONFIRMATION_EXAMPLE,
                            "alone_after_voting_begun": False,
                            "sessions_ended": 1,
                        }
                    ],
                    "changes": [_CHANGE_EXAMPLE],
                }
            ]
        }
    )

    congress_id: int
    signatures: list[SignatureRead]
    code_issuances: list[CodeIssuanceRead]
    changes: list[OfficialChangeRead]


def _issuance_read(session: Session, row: models.Event, p: dict[str, Any]) -> CodeIssuanceRead:
    """An ``official.login_code_issued`` event as the duties view shows it."""
    role = Role(p["role"]) if "role" in p else None
    if role is None:  # recorded before issue 20 (the official's role, if still there)
        official = session.get(models.Official, p["official_id"])
        role = Role(official.role) if official is not None else Role.auditor
    return CodeIssuanceRead(
        official_id=p["official_id"],
        role=role,
        issued_at=row.at,
        issued_by=p.get("issued_by", row.actor_role),
        voting_begun=p.get("voting_begun"),
        confirmation=p.get("confirmation"),
        alone_after_voting_begun=bool(p.get("voting_begun"))
        and p.get("confirmation") is None
        and role in GUARDED_CODE_ROLES,
        sessions_ended=p.get("sessions_ended"),
    )


def duties_read(session: Session, *, congress_id: int) -> DutiesRead:
    """Who signed with which session and how its code was issued; every code issued; every
    requested change of officials and its confirmation."""
    setup_service.get_congress(session, congress_id=congress_id)
    rows = session.scalars(
        select(models.Event)
        .where(
            models.Event.congress_id == congress_id,
            models.Event.type.in_((CODE_ISSUED, "round.signed", "official.added")),
        )
        .order_by(models.Event.height)
    ).all()
    names: dict[int, str] = {}
    signatures: list[SignatureRead] = []
    issuances: list[CodeIssuanceRead] = []
    for row in rows:
        p = json.loads(row.payload)
        if row.type == "official.added":
            names[p["official_id"]] = p["name"]
        elif row.type == CODE_ISSUED:
            issuances.append(_issuance_read(session, row, p))
        else:
            round_ = session.get(models.Round, p["round_id"])
            signed_with = p.get("session") or {}
            signatures.append(
                SignatureRead(
                    round_id=p["round_id"],
                    election_id=None if round_ is None else round_.election_id,
                    round_number=None if round_ is None else round_.number,
                    official_id=p["official_id"],
                    name=names.get(p["official_id"]),
                    role=Role(p["role"]),
                    signed_at=row.at,
                    decision=p["decision"],
                    session_id=signed_with.get("id"),
                    code=signed_with.get("code"),
                )
            )
    return DutiesRead(
        congress_id=congress_id,
        signatures=signatures,
        code_issuances=issuances,
        changes=[change_read(c) for c in list_changes(session, congress_id=congress_id)],
    )
