"""Login codes, sessions and the admin token: who holds a token (``session_principal``).

* The **admin token** is created at the first start and printed once (``ensure_admin_token``);
  only its SHA-256 is stored. It acts as role ``admin`` for every congress.
* An **official** logs in once with a one-time **login code** (also shown as a QR code a tablet
  scans); the code is consumed and yields a **session token** that expires after
  ``Settings.session_hours``. An official's session is limited to their own congress; logging in
  and out are events of the congress's chain.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import quote

from sqlalchemy import ColumnElement, Table, bindparam, delete, select
from sqlalchemy.orm import Session

from app import models
from app.auth.roles import Principal, Role
from app.errors import Forbidden, NotAuthenticated
from app.ledger import store
from app.models import utcnow
from app.settings import Settings


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


_AUTH_SESSION = cast(Table, models.AuthSession.__table__)
_SESSION_COLUMNS = (
    _AUTH_SESSION.c.role,
    _AUTH_SESSION.c.official_id,
    _AUTH_SESSION.c.congress_id,
    _AUTH_SESSION.c.expires_at,
)
_SESSIONS = select(*_SESSION_COLUMNS, _AUTH_SESSION.c.token_hash)
# Built once: paper entry reads its group's sessions with it.
_SESSIONS_IN = _SESSIONS.where(_AUTH_SESSION.c.token_hash.in_(bindparam("hashes", expanding=True)))


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
    rows = session.connection().execute(_SESSIONS_IN, {"hashes": sorted(set(hashes.values()))})
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


def login_url(settings: Settings, code: str) -> str:
    """What a login QR code encodes: the tablet's login page with the code filled in."""
    return f"{settings.resolved_public_url()}/login?code={quote(code)}"
