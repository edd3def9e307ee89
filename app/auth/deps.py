"""The FastAPI dependencies of authentication: the bearer token, the caller, one
``Annotated`` alias per permission (``ReadSetup``, ``EnterPapers``, …), the app's settings.

Every endpoint declares one ``Permission`` through these aliases. Send the token as
``Authorization: Bearer <token>``.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import HTTPConnection

from app.auth.roles import Permission, Principal, ensure_permission
from app.auth.service import session_principal
from app.db import SessionDep
from app.errors import NotAuthenticated
from app.settings import Settings

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


def current_principal(session: SessionDep, token: TokenDep) -> Principal:
    return session_principal(session, token=token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


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
