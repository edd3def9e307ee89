"""The server errors found by schemathesis and by editing the database (issue 20, item 7): each
answers the one error model with a 4xx, never a 500, on both databases."""

import json
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app.counting import router as counting_router
from app.settings import Settings
from tests.builders import (
    FILLED,
    Api,
    enter_batch,
    expect,
    hall,
    login_as,
    make_congress,
    upload_roster,
)


def test_an_id_past_the_database_integer_is_a_422(api: Api) -> None:
    for path in ("/api/elections/2147483648/live", "/api/elections/0/live"):
        refused = expect(api.get(path), 422)
        assert refused["field"] == "path.election_id", refused
    presidium = login_as(api, make_congress(api).id, "presidium")
    refused = expect(presidium.post("/api/rounds/2147483648/release"), 422)
    assert refused["field"] == "path.round_id", refused


def test_a_paper_body_that_is_not_utf8_is_refused_not_crashed(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    body = {"declared_count": 1, "teller_a_id": h.teller_ids[0], "teller_b_id": h.teller_ids[1]}
    batch = expect(h.api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    path = f"/api/batches/{batch['id']}/papers"
    headers = {"Content-Type": "application/json"}
    nested = (b"[" * 60_000, b'{"a":' * 12_000)  # Python's JSON parser recurses: too deep
    for raw in (b"{not json", b'{"marks": "\xff\xfe\xfa"}', b"\xff\xfe\x00{", b"\xc3\x28", *nested):
        refused = expect(
            api.as_token("no-such-token").post(path, content=raw, headers=headers), 401
        )
        assert refused["code"] == "invalid_session"
        refused = expect(h.tellers[0].post(path, content=raw, headers=headers), 422)
        assert refused["code"] == "invalid_request"
        assert refused["errors"][0]["code"] == "invalid_json_invalid", refused


def test_a_roster_csv_with_a_bare_cr_inside_a_field_is_not_a_500(api: Api) -> None:
    congress = make_congress(api)
    data = "姓名,代表团,学号\n王芳,计算机系\r代表团,2023001\n李明,数学系,2023002\n".encode()
    refused = expect(upload_roster(api, congress.id, data, filename="roster.csv"), 422)
    assert refused["code"] == "roster_rows_rejected"
    assert {e["row"] for e in refused["errors"]} == {2, 3}, refused  # the CR ended row 2
    quoted = '姓名,代表团,学号\n王芳,"计算机系\r代表团",2023001\n'.encode()
    expect(upload_roster(api, congress.id, quoted, filename="roster.csv"), 201)
    mac = "姓名,代表团,学号\r李明,数学系,2023002\r赵敏,物理系,2023003\r".encode()
    assert expect(upload_roster(api, congress.id, mac, filename="roster.csv"), 201)["imported"] == 2
    names = {
        d["delegation"] for d in expect(api.get(f"/api/congresses/{congress.id}/delegates"), 200)
    }
    assert names == {"计算机系 代表团", "数学系", "物理系"}


def test_exports_after_one_pass_row_was_edited_are_a_409(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    enter_batch(h, FILLED)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    election_id = h.ready.election.id
    for format in ("json", "csv", "xlsx", "nist-err.json", "nist-cvr.json"):
        response = h.chief.get(f"/api/elections/{election_id}/results.{format}")
        assert response.status_code == 200, (format, response.text)
    engine = create_engine(settings.resolved_database_url().replace(
        "postgresql://", "postgresql+psycopg://"))  # fmt: skip
    with engine.begin() as connection:
        row = connection.execute(
            text("SELECT id, record FROM paper_entry WHERE entry_pass = 'b' ORDER BY id LIMIT 1")
        ).one()
        record = json.loads(row.record)
        record["marks"] = ["no"] * len(record["marks"])
        connection.execute(
            text("UPDATE paper_entry SET record = :record WHERE id = :id"),
            {"record": json.dumps(record), "id": row.id},
        )
    engine.dispose()
    for format in ("json", "csv", "xlsx", "nist-err.json", "nist-cvr.json"):
        refused = expect(h.chief.get(f"/api/elections/{election_id}/results.{format}"), 409)
        assert refused["code"] == "record_mismatch", refused


def test_a_paper_body_is_read_only_once_its_caller_is_admitted(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token before the body (issue 20): an anonymous or wrong caller's paper costs no
    parsing; an admitted teller's is parsed once."""
    h = hall(api, settings, seats=3)
    body = {"declared_count": 1, "teller_a_id": h.teller_ids[0], "teller_b_id": h.teller_ids[1]}
    batch = expect(h.api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    path = f"/api/batches/{batch['id']}/papers"
    parsed: list[bytes] = []
    read = counting_router._paper_from

    def spy(raw: bytes) -> Any:
        parsed.append(raw)
        return read(raw)

    monkeypatch.setattr(counting_router, "_paper_from", spy)
    headers = {"Content-Type": "application/json"}
    for caller, status in ((api.as_token("no-such-token"), 401), (h.api, 403)):
        expect(caller.post(path, content=b'{"marks": {}}', headers=headers), status)
    assert parsed == []
    expect(h.tellers[0].post(path, content=b'{"marks": {}}', headers=headers), 422)
    assert parsed == [b'{"marks": {}}']
