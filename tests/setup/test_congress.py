"""Congress: create, read, change; events appended with every change."""

from tests.builders import Api, expect, make_congress


def test_create_and_read_congress(api: Api) -> None:
    body = {
        "name": "第五次学生代表大会",
        "delegates_total": 189,
        "starts_on": "2026-11-14",
        "ends_on": "2026-11-15",
    }
    created = expect(api.post("/api/congresses", json=body), 201)
    assert created["name"] == "第五次学生代表大会"
    assert created["delegates_total"] == 189
    assert created["roster_count"] == 0
    assert created["present"] == 0
    read = expect(api.get(f"/api/congresses/{created['id']}"), 200)
    assert read == created
    assert [c["id"] for c in expect(api.get("/api/congresses"), 200)] == [created["id"]]


def test_update_congress_appends_event(api: Api) -> None:
    congress = make_congress(api)
    updated = expect(api.patch(f"/api/congresses/{congress.id}", json={"delegates_total": 30}), 200)
    assert updated["delegates_total"] == 30
    events = expect(api.get(f"/api/congresses/{congress.id}/events"), 200)
    assert [e["type"] for e in events] == ["congress.created", "congress.updated"]
    assert events[1]["payload"]["delegates_total"] == 30
    assert events[1]["parent"] == events[0]["hash"]


def test_reversed_dates_rejected(api: Api) -> None:
    body = {
        "name": "大会",
        "delegates_total": 10,
        "starts_on": "2026-11-15",
        "ends_on": "2026-11-14",
    }
    error = expect(api.post("/api/congresses", json=body), 422)
    assert error["code"] == "dates_reversed"
    assert error["field"] == "body.ends_on"
    assert expect(api.get("/api/congresses"), 200) == []


def test_null_name_in_update_rejected(api: Api) -> None:
    congress = make_congress(api)
    error = expect(api.patch(f"/api/congresses/{congress.id}", json={"name": None}), 422)
    assert error["code"] == "required"
    assert error["field"] == "body.name"


def test_unknown_congress_is_404(api: Api) -> None:
    error = expect(api.get("/api/congresses/999"), 404)
    assert error == {
        "code": "congress_not_found",
        "message_zh": "找不到大会 999",
        "message_en": "no congress 999",
        "field": None,
        "errors": [],
    }
