"""One error model for everything rejected, including FastAPI's own 404/405/422."""

from tests.builders import Api, expect, make_congress

KEYS = {"code", "message_zh", "message_en", "field", "errors"}


def test_unknown_path_is_404_in_the_error_model(api: Api) -> None:
    error = expect(api.get("/api/nowhere"), 404)
    assert set(error) == KEYS
    assert error["code"] == "not_found"
    assert error["message_zh"] == "找不到该地址"


def test_wrong_method_is_405_in_the_error_model(api: Api) -> None:
    error = expect(api.request("PUT", "/api/congresses"), 405)
    assert set(error) == KEYS
    assert error["code"] == "method_not_allowed"


def test_bad_path_parameter(api: Api) -> None:
    error = expect(api.get("/api/congresses/abc"), 422)
    assert error["code"] == "invalid_request"
    assert error["field"] == "path.congress_id"
    assert error["errors"][0]["code"] == "invalid_int_parsing"


def test_malformed_json_body(api: Api) -> None:
    response = api.post(
        "/api/congresses", content=b"{not json", headers={"content-type": "application/json"}
    )
    error = expect(response, 422)
    assert error["code"] == "invalid_request"
    assert set(error) == KEYS
    assert expect(api.get("/api/congresses"), 200) == []


def test_every_validation_problem_is_listed(api: Api) -> None:
    error = expect(api.post("/api/congresses", json={"delegates_total": 0}), 422)
    fields = sorted(item["field"] for item in error["errors"])
    assert fields == ["body.delegates_total", "body.name"]
    assert error["message_en"].startswith("invalid request: ")


def test_rejected_request_changes_nothing(api: Api) -> None:
    congress = make_congress(api)
    before = expect(api.get(f"/api/congresses/{congress.id}/events"), 200)
    body = {"title": "x", "seats": 3, "profile": {"tie_policy": "coin"}}
    expect(api.post(f"/api/congresses/{congress.id}/elections", json=body), 422)
    assert expect(api.get(f"/api/congresses/{congress.id}/events"), 200) == before
    assert expect(api.get(f"/api/congresses/{congress.id}/elections"), 200) == []


def test_health(api: Api) -> None:
    assert expect(api.as_token(None).get("/api/health"), 200) == {"status": "ok"}
