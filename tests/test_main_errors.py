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


def test_an_unreadable_body_says_so_in_chinese(api: Api) -> None:
    """FastAPI answers 400 for a body that is not UTF-8 or is nested past its parser: our error
    model with its own code, not Starlette's English detail."""
    headers = {"content-type": "application/json"}
    for raw in (b"\xff\xfe{", b"[" * 60_000):
        error = expect(api.post("/api/congresses", content=raw, headers=headers), 400)
        assert set(error) == KEYS
        assert error["code"] == "unreadable_body"
        assert error["message_zh"] == "请求内容无法读取：应为 UTF-8 编码、格式正确的 JSON 或表单"
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


def test_out_of_range_id_is_422_not_500(api: Api) -> None:
    error = expect(api.get("/api/congresses/99999999999999999999"), 422)
    assert error["field"] == "path.congress_id"
    error = expect(api.get("/api/elections/0"), 422)
    assert error["field"] == "path.election_id"


def test_control_characters_and_surrogates_are_refused(api: Api) -> None:
    error = expect(api.post("/api/congresses", json={"name": "a\x00b", "delegates_total": 3}), 422)
    assert error["field"] == "body.name"
    body = b'{"name": "\\ud800", "delegates_total": 3}'
    response = api.post(
        "/api/congresses", content=body, headers={"content-type": "application/json"}
    )
    assert expect(response, 422)["field"] == "body.name"
    congress = make_congress(api)
    search = api.get(f"/api/congresses/{congress.id}/delegates", params={"q": "\x00"})
    assert expect(search, 422)["field"] == "query.q"
    assert expect(api.get("/api/congresses"), 200) == [congress.model_dump(mode="json")]


def test_validation_messages_in_chinese(api: Api) -> None:
    error = expect(api.post("/api/congresses", json={"delegates_total": 0}), 422)
    messages = {item["field"]: item["message_zh"] for item in error["errors"]}
    assert messages == {
        "body.name": "字段 name 缺少必填项",
        "body.delegates_total": "字段 delegates_total 应大于 0",
    }
    body = {"name": "大会", "delegates_total": 3, "starts_on": "14/11/2026"}
    error = expect(api.post("/api/congresses", json=body), 422)
    assert error["message_zh"] == (
        "请求内容不符合要求：字段 starts_on 日期格式应为“年-月-日”，如 2026-11-14"
    )
