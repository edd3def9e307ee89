"""Typed builders: make_*() create things through the HTTP API, as a user would, and return the
parsed response models. Each asserts its own status so a failing setup points at itself."""

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient

from app.auth import SessionRead
from app.setup import schemas
from app.setup.demo import demo_names


@dataclass(frozen=True)
class Api:
    client: TestClient
    token: str | None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        base = {} if self.token is None else {"Authorization": f"Bearer {self.token}"}
        return base | (extra or {})

    def as_token(self, token: str | None) -> "Api":
        return Api(self.client, token)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.patch(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = self.headers(kwargs.pop("headers", None))
        return self.client.request(method, path, headers=headers, **kwargs)


def expect(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


def make_congress(
    api: Api, *, name: str = "第五次学生代表大会", delegates_total: int = 20
) -> schemas.CongressRead:
    body = {"name": name, "delegates_total": delegates_total}
    return schemas.CongressRead.model_validate(expect(api.post("/api/congresses", json=body), 201))


def roster_csv(rows: list[tuple[str, str, str]], *, encoding: str = "utf-8") -> bytes:
    """A CSV: header 姓名,代表团,学号, then ``rows`` (name, delegation, student id)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["姓名", "代表团", "学号"])
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload_roster(
    api: Api, congress_id: int, data: bytes, *, filename: str = "roster.csv"
) -> httpx.Response:
    return api.post(f"/api/congresses/{congress_id}/roster", files={"file": (filename, data)})


def make_roster(api: Api, congress_id: int, count: int) -> list[schemas.DelegateRead]:
    names = demo_names(count, seed=congress_id)
    rows = [(name, f"第{i % 4 + 1}代表团", f"2026{i:05d}") for i, name in enumerate(names)]
    expect(upload_roster(api, congress_id, roster_csv(rows)), 201)
    listed = expect(api.get(f"/api/congresses/{congress_id}/delegates"), 200)
    return [schemas.DelegateRead.model_validate(d) for d in listed]


def make_election(
    api: Api,
    congress_id: int,
    *,
    title: str = "主席团成员",
    seats: int = 3,
    profile: dict[str, str | bool] | None = None,
) -> schemas.ElectionRead:
    body = {"title": title, "seats": seats, "profile": profile or {}}
    response = api.post(f"/api/congresses/{congress_id}/elections", json=body)
    return schemas.ElectionRead.model_validate(expect(response, 201))


def add_candidate(
    api: Api, election_id: int, name: str, *, student_id: str | None = None
) -> schemas.CandidateListRead:
    body = {"name": name, "student_id": student_id}
    response = api.post(f"/api/elections/{election_id}/candidates", json=body)
    return schemas.CandidateListRead.model_validate(expect(response, 201))


def make_official(
    api: Api, congress_id: int, *, role: str, name: str, student_id: str | None = None
) -> schemas.OfficialRead:
    body = {"name": name, "role": role, "student_id": student_id}
    response = api.post(f"/api/congresses/{congress_id}/officials", json=body)
    return schemas.OfficialRead.model_validate(expect(response, 201))


def issue_code(api: Api, congress_id: int, official_id: int) -> schemas.LoginCodeRead:
    response = api.post(f"/api/congresses/{congress_id}/officials/{official_id}/login-code")
    return schemas.LoginCodeRead.model_validate(expect(response, 200))


def login_as(api: Api, congress_id: int, role: str, *, name: str | None = None) -> Api:
    """A new official with ``role`` in the congress, logged in: the Api acting as them."""
    official = make_official(api, congress_id, role=role, name=name or f"{role}甲")
    code = issue_code(api, congress_id, official.id).code
    response = api.as_token(None).post("/api/auth/login", json={"code": code})
    return api.as_token(SessionRead.model_validate(expect(response, 200)).token)
