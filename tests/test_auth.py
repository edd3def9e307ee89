"""Admin token, one-time login codes, sessions, QR codes."""

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import update

from app import models
from app.auth import service as auth_service
from app.models import utcnow
from tests.builders import Api, expect, issue_code, login_as, make_congress, make_official


def test_admin_token_is_created_once(app: FastAPI, admin_token: str) -> None:
    assert len(admin_token) >= 40
    with app.state.sessionmaker.begin() as session:
        assert auth_service.ensure_admin_token(session) is None


def test_login_with_one_time_code(api: Api) -> None:
    congress = make_congress(api)
    official = make_official(api, congress.id, role="teller", name="郑五")
    code = issue_code(api, congress.id, official.id).code
    anonymous = api.as_token(None)
    session = expect(anonymous.post("/api/auth/login", json={"code": code.lower()}), 200)
    assert session["role"] == "teller"
    assert session["role_zh"] == "计票人"
    assert session["name"] == "郑五"
    assert session["congress_id"] == congress.id
    teller = api.as_token(session["token"])
    me = expect(teller.get("/api/auth/me"), 200)
    assert me["role"] == "teller"
    assert me["official_id"] == official.id
    assert "enter_papers" in me["permissions"]
    again = expect(anonymous.post("/api/auth/login", json={"code": code}), 401)
    assert again["code"] == "invalid_login_code"
    assert again["field"] == "body.code"
    events = expect(api.get(f"/api/congresses/{congress.id}/events"), 200)
    assert events[-1]["type"] == "official.logged_in"
    assert events[-1]["actor_role"] == "teller"
    expect(teller.post("/api/auth/logout"), 204)
    assert expect(teller.get("/api/auth/me"), 401)["code"] == "invalid_session"


def test_new_code_replaces_the_old_one(api: Api) -> None:
    congress = make_congress(api)
    official = make_official(api, congress.id, role="teller", name="郑五")
    old = issue_code(api, congress.id, official.id).code
    issue_code(api, congress.id, official.id)
    expect(api.as_token(None).post("/api/auth/login", json={"code": old}), 401)


def test_expired_code_and_expired_session(app: FastAPI, api: Api) -> None:
    congress = make_congress(api)
    official = make_official(api, congress.id, role="teller", name="郑五")
    code = issue_code(api, congress.id, official.id).code
    past = utcnow() - timedelta(minutes=1)
    with app.state.sessionmaker.begin() as session:
        session.execute(update(models.Official).values(login_code_expires_at=past))
    expect(api.as_token(None).post("/api/auth/login", json={"code": code}), 401)
    expect(api.as_token(None).get("/api/auth/login-qr.svg", params={"code": code}), 404)

    teller = login_as(api, congress.id, "teller", name="冯六")
    expect(teller.get("/api/auth/me"), 200)
    with app.state.sessionmaker.begin() as session:
        session.execute(
            update(models.AuthSession)
            .where(models.AuthSession.official_id.is_not(None))
            .values(expires_at=past)
        )
    assert expect(teller.get("/api/auth/me"), 401)["code"] == "invalid_session"


def test_missing_or_unknown_token(api: Api) -> None:
    error = expect(api.as_token(None).get("/api/congresses"), 401)
    assert error["code"] == "not_authenticated"
    assert error["message_zh"].startswith("请先登录")
    assert expect(api.as_token("nonsense").get("/api/congresses"), 401)["code"] == (
        "invalid_session"
    )


def test_admin_token_cannot_log_out(api: Api) -> None:
    assert expect(api.post("/api/auth/logout"), 403)["code"] == "admin_token_is_permanent"


def test_login_qr_codes(api: Api) -> None:
    congress = make_congress(api)
    official = make_official(api, congress.id, role="teller", name="郑五")
    issued = issue_code(api, congress.id, official.id)
    anonymous = api.as_token(None)
    svg = anonymous.get(issued.qr_svg_url)
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.lstrip().startswith("<?xml") or svg.text.lstrip().startswith("<svg")
    png = anonymous.get(issued.qr_png_url)
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    unknown = expect(anonymous.get("/api/auth/login-qr.svg", params={"code": "AAAA"}), 404)
    assert unknown["code"] == "login_code_not_found"


def test_official_is_limited_to_their_congress(api: Api) -> None:
    mine = make_congress(api)
    other = make_congress(api, name="另一大会")
    auditor = login_as(api, mine.id, "auditor")
    expect(auditor.get(f"/api/congresses/{mine.id}"), 200)
    assert expect(auditor.get(f"/api/congresses/{other.id}"), 403)["code"] == "other_congress"
    assert [c["id"] for c in expect(auditor.get("/api/congresses"), 200)] == [mine.id]


def test_admin_official_manages_only_their_congress(api: Api) -> None:
    mine = make_congress(api)
    secretary = login_as(api, mine.id, "admin", name="秘书甲")
    body = {"title": "委员", "seats": 3}
    expect(secretary.post(f"/api/congresses/{mine.id}/elections", json=body), 201)
    body = {"name": "新大会", "delegates_total": 10}
    error = expect(secretary.post("/api/congresses", json=body), 403)
    assert error["code"] == "admin_token_required"
