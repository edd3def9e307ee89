"""Officials: roles, login codes, O2 staffing."""

import pytest

from app.errors import Conflict
from app.setup import service as setup_service
from tests.builders import Api, expect, issue_code, make_congress, make_official

SEED_STAFF = [
    ("chief_scrutineer", "钱一"),
    ("chief_teller", "孙二"),
    ("scrutineer", "周三"),
    ("scrutineer", "吴四"),
    ("teller", "郑五"),
    ("teller", "冯六"),
    ("teller", "陈七"),
    ("teller", "褚八"),
    ("teller", "卫九"),
]


def test_add_list_and_remove_officials(api: Api) -> None:
    congress = make_congress(api)
    official = make_official(api, congress.id, role="chief_teller", name="孙二", student_id="7")
    assert official.role_zh == "总计票人"
    assert official.login_pending is False
    listed = expect(api.get(f"/api/congresses/{congress.id}/officials"), 200)
    assert listed == [official.model_dump(mode="json")]
    body = {"name": "孙二", "role": "chief_teller"}
    error = expect(api.post(f"/api/congresses/{congress.id}/officials", json=body), 409)
    assert error["code"] == "duplicate_official"
    expect(api.delete(f"/api/congresses/{congress.id}/officials/{official.id}"), 204)
    assert expect(api.get(f"/api/congresses/{congress.id}/officials"), 200) == []


def test_unknown_role_is_a_validation_error(api: Api) -> None:
    congress = make_congress(api)
    body = {"name": "孙二", "role": "janitor"}
    error = expect(api.post(f"/api/congresses/{congress.id}/officials", json=body), 422)
    assert error["code"] == "invalid_request"
    assert error["field"] == "body.role"


def test_o2_staffing_check(api: Api) -> None:
    congress = make_congress(api)
    empty = expect(api.get(f"/api/congresses/{congress.id}/staffing"), 200)
    assert empty["ok"] is False
    assert empty["required"] == {
        "chief_scrutineer": 1,
        "chief_teller": 1,
        "scrutineer": 2,
        "teller": 5,
    }
    assert [p["code"] for p in empty["problems"]] == [
        "staffing_chief_scrutineer",
        "staffing_chief_teller",
        "staffing_scrutineer",
        "staffing_teller",
    ]
    for role, name in SEED_STAFF[:-1]:
        make_official(api, congress.id, role=role, name=name)
    short = expect(api.get(f"/api/congresses/{congress.id}/staffing"), 200)
    assert short["problems"] == [
        {
            "code": "staffing_teller",
            "message_zh": "计票人应为 5 人，现有 4 人（O2）",
            "message_en": "teller: 5 required, 4 assigned (O2)",
            "field": "teller",
            "row": None,
        }
    ]
    make_official(api, congress.id, role=SEED_STAFF[-1][0], name=SEED_STAFF[-1][1])
    make_official(api, congress.id, role="presidium", name="主席甲")
    full = expect(api.get(f"/api/congresses/{congress.id}/staffing"), 200)
    assert full["ok"] is True
    assert full["actual"] == full["required"]


def test_require_staffing_for_counting_code(api: Api) -> None:
    congress = make_congress(api)
    factory = api.client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory.begin() as session, pytest.raises(Conflict) as info:
        setup_service.require_staffing(session, congress_id=congress.id)
    assert info.value.code == "staffing_incomplete"
    assert len(info.value.errors) == 4
    for role, name in SEED_STAFF:
        make_official(api, congress.id, role=role, name=name)
    with factory.begin() as session:
        setup_service.require_staffing(session, congress_id=congress.id)


def test_login_code_is_issued_and_logged_without_the_code(api: Api) -> None:
    congress = make_congress(api)
    official = make_official(api, congress.id, role="teller", name="郑五")
    issued = issue_code(api, congress.id, official.id)
    assert len(issued.code) == 14
    assert issued.login_url == f"http://hall.example:8000/login?code={issued.code}"
    assert issued.qr_svg_url == f"/api/auth/login-qr.svg?code={issued.code}"
    listed = expect(api.get(f"/api/congresses/{congress.id}/officials"), 200)
    assert listed[0]["login_pending"] is True
    events = expect(api.get(f"/api/congresses/{congress.id}/events"), 200)
    assert events[-1]["type"] == "official.login_code_issued"
    assert issued.code not in str(events)
