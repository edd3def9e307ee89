"""HTTP: /api/auth — log in with a one-time code, log out, who am I, the login QR codes."""

import io
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import segno
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app import loginguard
from app.auth.deps import PrincipalDep, SettingsDep, TokenDep
from app.auth.roles import ROLE_NAMES_ZH, ROLE_PERMISSIONS, Permission, Role
from app.auth.service import is_pending_code, log_in, log_out, login_url
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, ErrorRead, NotFound
from app.settings import Settings


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
