"""The secretariat's one-time login code (issue 18 item 1): printed by serve/demo, exchanged at
/api/auth/login for an admin session that expires, once only; the admin token stays for scripts."""

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import func, select, update

from app import models
from app.auth import service as auth_service
from app.models import utcnow
from tests.builders import Api, expect


def _code(app: FastAPI) -> str:
    with app.state.sessionmaker.begin() as session:
        return auth_service.issue_admin_login_code(session)


def test_admin_code_opens_an_expiring_admin_session_once(app: FastAPI, api: Api) -> None:
    code = _code(app)
    anonymous = api.as_token(None)
    body = expect(anonymous.post("/api/auth/login", json={"code": code.lower()}), 200)
    assert body["role"] == "admin"
    assert body["role_zh"] == "大会秘书处"
    assert body["name"] == "大会秘书处"
    assert body["official_id"] is None
    assert body["congress_id"] is None
    assert body["expires_at"] is not None
    secretariat = api.as_token(body["token"])
    me = expect(secretariat.get("/api/auth/me"), 200)
    assert me["role"] == "admin"
    assert "manage_setup" in me["permissions"]
    congress = expect(
        secretariat.post("/api/congresses", json={"name": "第一次学代会", "delegates_total": 189}),
        201,
    )
    assert congress["name"] == "第一次学代会"
    again = expect(anonymous.post("/api/auth/login", json={"code": code}), 401)
    assert again["code"] == "invalid_login_code"
    expect(secretariat.post("/api/auth/logout"), 204)
    assert expect(secretariat.get("/api/auth/me"), 401)["code"] == "invalid_session"


def test_admin_token_is_still_permanent(api: Api) -> None:
    refused = expect(api.post("/api/auth/logout"), 403)
    assert refused["code"] == "admin_token_is_permanent"
    expect(api.get("/api/auth/me"), 200)


def test_sessions_from_codes_are_not_the_admin_token(app: FastAPI, api: Api) -> None:
    """Logging in with a code must not count as "an admin token exists", nor be replaced by a
    token rotation (which replaces the permanent token only)."""
    body = expect(api.as_token(None).post("/api/auth/login", json={"code": _code(app)}), 200)
    with app.state.sessionmaker.begin() as session:
        session.execute(
            models.AuthSession.__table__.delete().where(auth_service.permanent_admin_token())
        )
    with app.state.sessionmaker.begin() as session:
        token = auth_service.ensure_admin_token(session)
    assert token is not None
    expect(api.as_token(token).get("/api/auth/me"), 200)
    expect(api.as_token(body["token"]).get("/api/auth/me"), 200)


def test_expired_admin_code_is_refused_and_dropped(app: FastAPI, api: Api) -> None:
    code = _code(app)
    with app.state.sessionmaker.begin() as session:
        session.execute(
            update(models.AdminLoginCode).values(expires_at=utcnow() - timedelta(minutes=1))
        )
    anonymous = api.as_token(None)
    expect(anonymous.post("/api/auth/login", json={"code": code}), 401)
    expect(anonymous.get("/api/auth/login-qr.svg", params={"code": code}), 404)
    _code(app)  # issuing a new one drops the expired one
    with app.state.sessionmaker.begin() as session:
        assert session.scalar(select(func.count()).select_from(models.AdminLoginCode)) == 1


def test_admin_code_has_a_login_qr(app: FastAPI, api: Api) -> None:
    code = _code(app)
    response = api.as_token(None).get("/api/auth/login-qr.svg", params={"code": code})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
