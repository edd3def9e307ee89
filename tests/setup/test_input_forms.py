"""Inputs that arrive in another form than the one stored (issue 20 item 9): a date as a number,
a student id typed in full width."""

import pytest

from tests.builders import Api, expect, make_congress, roster_csv, upload_roster


@pytest.mark.parametrize("value", [0, 1_700_000_000, 20261114, 1.5, True])
def test_a_date_given_as_a_number_is_refused(api: Api, value: object) -> None:
    for field in ("starts_on", "ends_on"):
        body = {"name": "第五次学生代表大会", "delegates_total": 10, field: value}
        answer = expect(api.post("/api/congresses", json=body), 422)
        assert answer["field"] == f"body.{field}"
        assert "日期格式应为“年-月-日”" in answer["message_zh"]
    congress = make_congress(api)
    answer = expect(api.patch(f"/api/congresses/{congress.id}", json={"starts_on": value}), 422)
    assert answer["field"] == "body.starts_on"
    assert expect(api.get(f"/api/congresses/{congress.id}"), 200)["starts_on"] is None
    assert expect(api.get("/api/congresses"), 200)[-1]["starts_on"] is None


def test_a_date_as_text_is_still_accepted(api: Api) -> None:
    body = {"name": "第五次学生代表大会", "delegates_total": 10, "starts_on": "2026-11-14"}
    assert expect(api.post("/api/congresses", json=body), 201)["starts_on"] == "2026-11-14"


def test_check_in_by_a_full_width_student_id(api: Api) -> None:
    congress = make_congress(api, delegates_total=3)
    rows = [
        ("王芳", "一团", "２０２３００１"),
        ("李明", "一团", "2023002"),
        ("张伟", "二团", "2023003"),
    ]
    expect(upload_roster(api, congress.id, roster_csv(rows)), 201)
    path = f"/api/congresses/{congress.id}/check-in"
    answer = expect(api.post(path, json={"student_id": "２０２３００１"}), 200)
    assert answer["delegate"]["name"] == "王芳"
    assert answer["delegate"]["student_id"] == "2023001"
    answer = expect(api.post(path, json={"student_id": "　２０２３００２　"}), 200)
    assert answer["delegate"]["name"] == "李明"
    assert answer["attendance"]["present"] == 2
    assert expect(api.post(path, json={"student_id": "　"}), 422)["field"] == "body.student_id"
