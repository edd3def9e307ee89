"""Who is asking, and may they: admin token, one-time login codes, sessions, role checks.

* The **admin token** is created at the first start and printed once (``ensure_admin_token``);
  only its SHA-256 is stored. It acts as role ``admin`` for every congress.
* An **official** logs in once with a one-time **login code** (also shown as a QR code a tablet
  scans); the code is consumed and yields a **session token** that expires after
  ``Settings.session_hours``. An official's session is limited to their own congress.
* Every endpoint declares one ``Permission`` through an ``Annotated`` dependency;
  ``ROLE_PERMISSIONS`` is the role matrix (tests/test_auth_matrix.py proves it, endpoint by
  endpoint).

Send the token as ``Authorization: Bearer <token>``.
"""

import hashlib
import io
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import quote

import segno
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Table, delete, select
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from app import loginguard, models
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, ErrorRead, Forbidden, NotAuthenticated, NotFound
from app.ledger import store
from app.models import utcnow
from app.settings import Settings


class Role(StrEnum):
    admin = "admin"  # 大会秘书处
    chief_scrutineer = "chief_scrutineer"  # 总监票人
    scrutineer = "scrutineer"  # 监票人
    chief_teller = "chief_teller"  # 总计票人
    teller = "teller"  # 计票人
    presidium = "presidium"  # 大会主席团
    auditor = "auditor"  # 审计人员


ROLE_NAMES_ZH: dict[Role, str] = {
    Role.admin: "大会秘书处",
    Role.chief_scrutineer: "总监票人",
    Role.scrutineer: "监票人",
    Role.chief_teller: "总计票人",
    Role.teller: "计票人",
    Role.presidium: "大会主席团",
    Role.auditor: "审计人员",
}

# O1: 所有选举工作人员必须是非候选人 — these roles can never be candidates, nor candidates them.
COUNTING_ROLES: frozenset[Role] = frozenset(
    {Role.chief_scrutineer, Role.scrutineer, Role.chief_teller, Role.teller}
)


class Permission(StrEnum):
    read_setup = "read_setup"  # congress, elections, candidates, officials, attendance count
    read_roster = "read_roster"  # delegates' names and student ids
    manage_setup = "manage_setup"  # congress, roster, elections, candidates, officials
    check_in = "check_in"  # 签到 desk: check delegates in and out
    read_ledger = "read_ledger"  # the event chain and its verification
    # Used by the counting features (papers, batches, adjudication, results):
    enter_papers = "enter_papers"
    manage_batches = "manage_batches"
    adjudicate = "adjudicate"
    certify = "certify"
    release_results = "release_results"
    # Check a paper's QR code, look up roster names for write-ins (tablets, scrutineers, admin):
    check_papers = "check_papers"
    # Per-paper records (the marks of each paper: the record bundle, the CVR, the records in the
    # event chain): the auditor and the scrutineers only. A rare pattern of marks can serve as a
    # signature that shows how one delegate voted (docs/service.md, "Per-paper records").
    read_papers = "read_papers"
    # Confirm a change of officials once voting has begun (app/setup/duties.py): the presidium.
    confirm_changes = "confirm_changes"


# What each permission lets a person do, as a 403 names it (计票人无权签字确认).
PERMISSION_ZH: dict[Permission, str] = {
    Permission.read_setup: "查看大会设置",
    Permission.read_roster: "查看代表名单",
    Permission.manage_setup: "管理大会设置",
    Permission.check_in: "办理签到",
    Permission.read_ledger: "查看事件记录",
    Permission.enter_papers: "录入选票",
    Permission.manage_batches: "管理批次",
    Permission.adjudicate: "裁定",
    Permission.certify: "签字确认",
    Permission.release_results: "公布选举结果",
    Permission.check_papers: "核验选票",
    Permission.read_papers: "查看逐张选票记录",
    Permission.confirm_changes: "确认工作人员变更",
}


_READ = {Permission.read_setup}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(
        {
            Permission.read_setup,
            Permission.read_roster,
            Permission.manage_setup,
            Permission.check_in,
            Permission.read_ledger,
            Permission.check_papers,
            Permission.manage_batches,
        }
    ),
    Role.chief_scrutineer: frozenset(
        _READ
        | {
            Permission.read_ledger,
            Permission.read_papers,
            Permission.adjudicate,
            Permission.certify,
            Permission.check_papers,
        }
    ),
    Role.scrutineer: frozenset(
        _READ
        | {
            Permission.read_ledger,
            Permission.read_papers,
            Permission.adjudicate,
            Permission.certify,
            Permission.check_papers,
        }
    ),
    Role.chief_teller: frozenset(
        _READ | {Permission.enter_papers, Permission.manage_batches, Permission.check_papers}
    ),
    Role.teller: frozenset(_READ | {Permission.enter_papers, Permission.check_papers}),
    Role.presidium: frozenset(
        _READ
        | {
            Permission.read_roster,
            Permission.read_ledger,
            Permission.release_results,
            Permission.confirm_changes,
        }
    ),
    Role.auditor: frozenset(
        _READ | {Permission.read_roster, Permission.read_ledger, Permission.read_papers}
    ),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a role, and (for officials) their id and congress."""

    role: Role
    official_id: int | None
    congress_id: int | None  # None: the admin token, valid for every congress

    def ensure_congress(self, congress_id: int) -> None:
        """An official may act only within their own congress."""
        if self.congress_id is not None and self.congress_id != congress_id:
            raise Forbidden(
                "other_congress",
                "您的登录仅适用于本人所在的大会",
                "your session is valid only for your own congress",
            )


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# Login codes avoid look-alike characters (0/O, 1/I/L) so they can be typed from paper.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LOGIN_CODE_DAYS = 7


def new_login_code() -> str:
    """A random code like ``K7QM-2XHP-R9TB`` (≈ 59 bits)."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_login_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def set_login_code(official: models.Official, *, now: datetime | None = None) -> str:
    """Give ``official`` a fresh one-time code (any earlier pending code stops working)."""
    code = new_login_code()
    official.login_code_hash = hash_secret(normalize_login_code(code))
    official.login_code_expires_at = (now or utcnow()) + timedelta(days=LOGIN_CODE_DAYS)
    return code


def find_pending_code(session: Session, *, code: str) -> models.Official | None:
    normalized = normalize_login_code(code)
    if not normalized:
        return None
    official = session.scalars(
        select(models.Official).where(models.Official.login_code_hash == hash_secret(normalized))
    ).one_or_none()
    if official is None or official.login_code_expires_at is None:
        return None
    if official.login_code_expires_at <= utcnow():
        return None
    return official


# The secretariat's code is printed at the service's start, on the operator's own terminal.
ADMIN_CODE_HOURS = 24


def issue_admin_login_code(session: Session, *, now: datetime | None = None) -> str:
    """A one-time code for the secretariat (``models.AdminLoginCode``); expired ones are dropped."""
    now = now or utcnow()
    session.execute(delete(models.AdminLoginCode).where(models.AdminLoginCode.expires_at <= now))
    code = new_login_code()
    session.add(
        models.AdminLoginCode(
            code_hash=hash_secret(normalize_login_code(code)),
            expires_at=now + timedelta(hours=ADMIN_CODE_HOURS),
        )
    )
    session.flush()
    return code


def find_pending_admin_code(session: Session, *, code: str) -> models.AdminLoginCode | None:
    normalized = normalize_login_code(code)
    if not normalized:
        return None
    row = session.scalars(
        select(models.AdminLoginCode).where(
            models.AdminLoginCode.code_hash == hash_secret(normalized)
        )
    ).one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    return row


def is_pending_code(session: Session, *, code: str) -> bool:
    """Whether ``code`` would log someone in now (an official's or the secretariat's)."""
    return (
        find_pending_code(session, code=code) is not None
        or find_pending_admin_code(session, code=code) is not None
    )


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    official: models.Official | None  # None: the secretariat (an admin code)
    expires_at: datetime


def log_in(session: Session, *, code: str, settings: Settings) -> LoginResult:
    """Consume a one-time login code and open a session for its official."""
    official = find_pending_code(session, code=code)
    if official is None:
        admin_code = find_pending_admin_code(session, code=code)
        if admin_code is not None:
            return _log_in_admin(session, admin_code, settings=settings)
        raise NotAuthenticated(
            "invalid_login_code",
            "登录码无效、已使用或已过期，请向大会秘书处索取新的登录码",
            "the login code is unknown, used or expired; ask the secretariat for a new one",
            field="body.code",
        )
    store.lock_chain(session, congress_id=official.congress_id)
    official.login_code_hash = None
    official.login_code_expires_at = None
    code_event, official.login_code_event = official.login_code_event, None
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=settings.session_hours)
    session.add(
        models.AuthSession(
            token_hash=hash_secret(token),
            role=official.role,
            official_id=official.id,
            congress_id=official.congress_id,
            expires_at=expires_at,
            code_event=code_event,  # how its code was issued (app/setup/duties.py)
        )
    )
    store.append_event(
        session,
        congress_id=official.congress_id,
        type="official.logged_in",
        payload={"official_id": official.id, "role": official.role},
        actor_role=official.role,
    )
    return LoginResult(token=token, official=official, expires_at=expires_at)


def _log_in_admin(
    session: Session, admin_code: models.AdminLoginCode, *, settings: Settings
) -> LoginResult:
    # No congress's chain records it: the secretariat works across congresses, like its token.
    session.delete(admin_code)
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=settings.session_hours)
    session.add(
        models.AuthSession(
            token_hash=hash_secret(token),
            role=Role.admin,
            official_id=None,
            congress_id=None,
            expires_at=expires_at,
        )
    )
    session.flush()
    return LoginResult(token=token, official=None, expires_at=expires_at)


def permanent_admin_token() -> ColumnElement[bool]:
    """The rows of the admin token (no expiry), as opposed to sessions opened with admin codes."""
    return (
        (models.AuthSession.role == Role.admin)
        & models.AuthSession.official_id.is_(None)
        & models.AuthSession.expires_at.is_(None)
    )


def ensure_admin_token(session: Session) -> str | None:
    """Create the admin token if there is none; return it (to print once) or None."""
    existing = session.scalars(select(models.AuthSession.id).where(permanent_admin_token())).first()
    if existing is not None:
        return None
    return create_admin_token(session)


def create_admin_token(session: Session) -> str:
    """A new admin token (the demo uses it to print a token on every start)."""
    token = secrets.token_urlsafe(32)
    session.add(
        models.AuthSession(
            token_hash=hash_secret(token), role=Role.admin, official_id=None, congress_id=None
        )
    )
    session.flush()
    return token


def log_out(session: Session, *, token: str) -> None:
    """End a session opened with a login code (the permanent admin token is refused)."""
    row = session.scalars(
        select(models.AuthSession).where(models.AuthSession.token_hash == hash_secret(token))
    ).one_or_none()
    if row is None:
        return
    if row.expires_at is None:
        raise Forbidden(
            "admin_token_is_permanent",
            "管理员令牌不能退出登录",
            "the admin token cannot be logged out",
        )
    session.delete(row)
    session.flush()
    if row.congress_id is None:
        return
    store.append_event(
        session,
        congress_id=row.congress_id,
        type="official.logged_out",
        payload={"official_id": row.official_id, "role": row.role},
        actor_role=row.role,
    )


_bearer = HTTPBearer(
    auto_error=False, description="管理员令牌或登录会话令牌 / admin or session token"
)


def _required(token: str | None) -> str:
    if not token:
        raise NotAuthenticated(
            "not_authenticated",
            "请先登录（请求没有带会话令牌）",
            "log in first (Authorization: Bearer <token>)",
        )
    return token


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    # async: no I/O here, and a sync dependency would cost every request a thread hop
    return _required(credentials.credentials if credentials is not None else None)


def bearer_token_of(request: HTTPConnection) -> str:
    """``bearer_token`` read from the request itself, as ``HTTPBearer`` reads it, without
    FastAPI's dependency machinery: for paper entry, where solving the dependencies took a fifth
    of the event loop's time."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("Authorization"))
    return _required(credentials if scheme.lower() == "bearer" else None)


TokenDep = Annotated[str, Depends(bearer_token)]

_AUTH_SESSION = cast(Table, models.AuthSession.__table__)
_SESSION_COLUMNS = (
    _AUTH_SESSION.c.role,
    _AUTH_SESSION.c.official_id,
    _AUTH_SESSION.c.congress_id,
    _AUTH_SESSION.c.expires_at,
)
_SESSIONS = select(*_SESSION_COLUMNS, _AUTH_SESSION.c.token_hash)


def session_principal(session: Session, *, token: str) -> Principal:
    """Who holds ``token`` (401 if unknown or expired): one indexed read of four columns, no ORM
    object — every authenticated request pays for it."""
    row = session.execute(_SESSIONS.where(_AUTH_SESSION.c.token_hash == hash_secret(token))).first()
    return _principal(row)


def principals(
    session: Session, *, tokens: Iterable[str]
) -> dict[str, Principal | NotAuthenticated]:
    """``session_principal`` for several tokens in one read: each token's principal, or the
    refusal ``session_principal`` would raise."""
    hashes = {token: hash_secret(token) for token in tokens}
    where = _AUTH_SESSION.c.token_hash.in_(set(hashes.values()))
    rows = session.connection().execute(_SESSIONS.where(where))
    by_hash = {row.token_hash: row for row in rows}
    found: dict[str, Principal | NotAuthenticated] = {}
    for token, token_hash in hashes.items():
        try:
            found[token] = _principal(by_hash.get(token_hash))
        except NotAuthenticated as refused:
            found[token] = refused
    return found


def _principal(row: Any) -> Principal:
    if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
        raise NotAuthenticated(
            "invalid_session",
            "登录已失效，请重新登录",
            "the session token is unknown or expired; log in again",
        )
    return Principal(role=Role(row.role), official_id=row.official_id, congress_id=row.congress_id)


def current_principal(session: SessionDep, token: TokenDep) -> Principal:
    return session_principal(session, token=token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def ensure_permission(principal: Principal, permission: Permission) -> None:
    """403 unless the principal's role holds ``permission``."""
    if permission not in ROLE_PERMISSIONS[principal.role]:
        raise Forbidden(
            "forbidden",
            f"{ROLE_NAMES_ZH[principal.role]}无权{PERMISSION_ZH[permission]}",
            f"the role {principal.role} may not do this ({permission})",
        )


def require(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency that admits only roles holding ``permission`` (403 otherwise)."""

    def dependency(principal: PrincipalDep) -> Principal:
        ensure_permission(principal, permission)
        return principal

    return dependency


ReadSetup = Annotated[Principal, Depends(require(Permission.read_setup))]
ReadRoster = Annotated[Principal, Depends(require(Permission.read_roster))]
ManageSetup = Annotated[Principal, Depends(require(Permission.manage_setup))]
CheckIn = Annotated[Principal, Depends(require(Permission.check_in))]
ReadLedger = Annotated[Principal, Depends(require(Permission.read_ledger))]
ReadPapers = Annotated[Principal, Depends(require(Permission.read_papers))]
CheckPapers = Annotated[Principal, Depends(require(Permission.check_papers))]
EnterPapers = Annotated[Principal, Depends(require(Permission.enter_papers))]
ManageBatches = Annotated[Principal, Depends(require(Permission.manage_batches))]
Adjudicate = Annotated[Principal, Depends(require(Permission.adjudicate))]
Certify = Annotated[Principal, Depends(require(Permission.certify))]
ReleaseResults = Annotated[Principal, Depends(require(Permission.release_results))]
ConfirmChanges = Annotated[Principal, Depends(require(Permission.confirm_changes))]


def request_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(request_settings)]


# ---------------------------------------------------------------- HTTP: /api/auth


def login_url(settings: Settings, code: str) -> str:
    """What a login QR code encodes: the tablet's login page with the code filled in."""
    return f"{settings.resolved_public_url()}/login?code={quote(code)}"


class LoginRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "K7QM-2XHP-R9TB"}]})

    code: str = Field(min_length=1, max_length=40, description="一次性登录码 / one-time code")


class SessionRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "q2d9…",
                    "role": "teller",
                    "role_zh": "计票人",
                    "official_id": 5,
                    "name": "赵磊",
                    "congress_id": 1,
                    "expires_at": "2026-11-15T08:00:00Z",
                }
            ]
        }
    )

    token: str
    role: Role
    role_zh: str
    official_id: int | None  # None: the secretariat, logged in with an admin code
    name: str
    congress_id: int | None  # None: the secretariat, for every congress
    expires_at: datetime


class MeRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "role": "teller",
                    "role_zh": "计票人",
                    "official_id": 5,
                    "congress_id": 1,
                    "permissions": ["enter_papers", "read_setup"],
                }
            ]
        }
    )

    role: Role
    role_zh: str
    official_id: int | None
    congress_id: int | None
    permissions: list[Permission]


_T = TypeVar("_T")
# The refusals of a code that is not pending: failed logins (app.loginguard).
_WRONG_CODE = frozenset({"invalid_login_code", "login_code_not_found"})
_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorRead, "description": "登录码错误次数过多 / too many failures"}
}


router = APIRouter(prefix="/api/auth", tags=["auth 登录"], responses=ERROR_RESPONSES)


@router.post(
    "/login",
    summary="用一次性登录码登录 / log in with a one-time code",
    responses=_LIMITED,
)
def login(body: LoginRequest, request: Request, settings: SettingsDep) -> SessionRead:
    def attempt(session: Session) -> SessionRead:
        result = log_in(session, code=body.code, settings=settings)
        official = result.official
        role = Role(official.role) if official is not None else Role.admin
        return SessionRead(
            token=result.token,
            role=role,
            role_zh=ROLE_NAMES_ZH[role],
            official_id=official.id if official is not None else None,
            name=official.name if official is not None else ROLE_NAMES_ZH[Role.admin],
            congress_id=official.congress_id if official is not None else None,
            expires_at=result.expires_at,
        )

    return _guarded(request, settings, attempt)


def _guarded(request: Request, settings: Settings, attempt: Callable[[Session], _T]) -> _T:
    """``attempt`` (which checks a login code) under the limit of failed logins: its own
    transaction, not ``SessionDep``'s, so that a wrong code answers 401/404 AND is recorded."""
    return loginguard.guarded(
        request.app.state.sessionmaker,
        host=request.client.host if request.client else None,
        settings=settings,
        attempt=attempt,
        wrong_codes=_WRONG_CODE,
    )


@router.post("/logout", status_code=204, summary="退出登录 / log out")
def logout(session: SessionDep, token: TokenDep, _principal: PrincipalDep) -> None:
    # _principal: an unknown or expired token answers 401 like every other endpoint
    log_out(session, token=token)


@router.get("/me", summary="当前登录身份 / who am I")
def me(principal: PrincipalDep) -> MeRead:
    return MeRead(
        role=principal.role,
        role_zh=ROLE_NAMES_ZH[principal.role],
        official_id=principal.official_id,
        congress_id=principal.congress_id,
        permissions=sorted(ROLE_PERMISSIONS[principal.role]),
    )


def _qr_for(session: Session, settings: Settings, code: str) -> segno.QRCode:
    if not is_pending_code(session, code=code):
        raise NotFound(
            "login_code_not_found",
            "登录码无效、已使用或已过期",
            "the login code is unknown, used or expired",
            field="query.code",
        )
    return segno.make_qr(login_url(settings, code), error="m")


CodeQuery = Annotated[str, Query(min_length=1, max_length=40, description="一次性登录码")]


@router.get(
    "/login-qr.svg",
    summary="登录二维码（SVG）/ login QR code (SVG)",
    description="只为尚未使用的登录码生成。Only for a pending login code; the code is the key.",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **_LIMITED},
)
def login_qr_svg(code: CodeQuery, request: Request, settings: SettingsDep) -> Response:
    qr = _guarded(request, settings, lambda session: _qr_for(session, settings, code))
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=6, border=2)
    return Response(buffer.getvalue(), media_type="image/svg+xml")


@router.get(
    "/login-qr.png",
    summary="登录二维码（PNG）/ login QR code (PNG)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **_LIMITED},
)
def login_qr_png(code: CodeQuery, request: Request, settings: SettingsDep) -> Response:
    qr = _guarded(request, settings, lambda session: _qr_for(session, settings, code))
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=2)
    return Response(buffer.getvalue(), media_type="image/png")
