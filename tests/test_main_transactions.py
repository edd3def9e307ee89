"""One transaction per request, committed BEFORE the response is sent."""

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.builders import Api, expect


def test_a_failed_commit_is_never_a_success_response(app: FastAPI, admin_token: str) -> None:
    def refuse_commit(_session: Session) -> None:
        raise RuntimeError("the disk is full")

    factory: Any = app.state.sessionmaker
    with TestClient(app, raise_server_exceptions=False) as client:
        # After the start, which commits the installation's keys through the same sessionmaker.
        event.listen(factory, "before_commit", refuse_commit)
        api = Api(client, admin_token)
        response = api.post("/api/congresses", json={"name": "大会", "delegates_total": 3})
        # Had the commit run after the response (scope="request"), this would be a 201.
        assert response.status_code == 500
        assert response.json()["code"] == "internal_error"
        event.remove(factory, "before_commit", refuse_commit)
        assert expect(api.get("/api/congresses"), 200) == []


def test_database_failure_at_commit_is_503_in_the_error_model(
    app: FastAPI, admin_token: str
) -> None:
    def locked(_session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    factory: Any = app.state.sessionmaker
    with TestClient(app) as client:
        event.listen(factory, "before_commit", locked)  # after the start (see above)
        api = Api(client, admin_token)
        response = api.post("/api/congresses", json={"name": "大会", "delegates_total": 3})
        error = expect(response, 503)
        assert error["code"] == "database_unavailable"
        event.remove(factory, "before_commit", locked)
        assert expect(api.get("/api/congresses"), 200) == []
