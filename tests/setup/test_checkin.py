"""Check-in (签到): a delegate counts once (Q3); the record holds who is present, no paper."""

from tests.builders import Api, expect, make_congress, make_roster


def test_check_in_and_out_keep_a_live_present_count(api: Api) -> None:
    congress = make_congress(api, delegates_total=6)
    delegates = make_roster(api, congress.id, 6)
    base = f"/api/congresses/{congress.id}/delegates"
    first = expect(api.post(f"{base}/{delegates[0].id}/check-in"), 200)
    assert first["delegate"]["present"] is True
    assert first["attendance"] == {
        "congress_id": congress.id,
        "delegates_total": 6,
        "roster_count": 6,
        "present": 1,
        "congress_quorum": {"required": 4, "met": False},
    }
    for delegate in delegates[1:4]:
        expect(api.post(f"{base}/{delegate.id}/check-in"), 200)
    attendance = expect(api.get(f"/api/congresses/{congress.id}/attendance"), 200)
    assert attendance["present"] == 4
    assert attendance["congress_quorum"] == {"required": 4, "met": True}
    out = expect(api.post(f"{base}/{delegates[0].id}/check-out"), 200)
    assert out["delegate"]["present"] is False
    assert out["attendance"]["present"] == 3
    present = expect(api.get(base, params={"present": True}), 200)
    assert sorted(d["id"] for d in present) == sorted(d.id for d in delegates[1:4])
    assert expect(api.get(f"/api/congresses/{congress.id}"), 200)["present"] == 3


def test_a_delegate_counts_once(api: Api) -> None:
    congress = make_congress(api, delegates_total=3)
    delegate = make_roster(api, congress.id, 3)[0]
    path = f"/api/congresses/{congress.id}/delegates/{delegate.id}"
    expect(api.post(f"{path}/check-in"), 200)
    error = expect(api.post(f"{path}/check-in"), 409)
    assert error["code"] == "already_checked_in"
    assert error["message_zh"] == f"{delegate.name} 已经签到，不重复计数"
    assert expect(api.get(f"/api/congresses/{congress.id}/attendance"), 200)["present"] == 1
    expect(api.post(f"{path}/check-out"), 200)
    assert expect(api.post(f"{path}/check-out"), 409)["code"] == "not_checked_in"


def test_check_in_event_records_the_count_and_nothing_about_papers(api: Api) -> None:
    congress = make_congress(api, delegates_total=3)
    delegate = make_roster(api, congress.id, 3)[1]
    expect(api.post(f"/api/congresses/{congress.id}/delegates/{delegate.id}/check-in"), 200)
    events = expect(api.get(f"/api/congresses/{congress.id}/events"), 200)
    assert events[-1]["type"] == "delegate.checked_in"
    assert events[-1]["payload"] == {"delegate_id": delegate.id, "present": 1}
    assert len(events[-1]["at"]) == len("2026-11-14T11:05Z")
    verify = expect(api.get(f"/api/congresses/{congress.id}/events/verify"), 200)
    assert verify["ok"] is True
    assert verify["length"] == len(events)
    assert verify["head"] == events[-1]["hash"]


def test_check_in_of_a_delegate_of_another_congress_is_404(api: Api) -> None:
    first = make_congress(api, delegates_total=2)
    second = make_congress(api, name="另一大会", delegates_total=2)
    delegate = make_roster(api, first.id, 2)[0]
    error = expect(api.post(f"/api/congresses/{second.id}/delegates/{delegate.id}/check-in"), 404)
    assert error["code"] == "delegate_not_found"


def test_present_delegate_cannot_be_removed(api: Api) -> None:
    congress = make_congress(api, delegates_total=2)
    delegate = make_roster(api, congress.id, 2)[0]
    path = f"/api/congresses/{congress.id}/delegates/{delegate.id}"
    expect(api.post(f"{path}/check-in"), 200)
    assert expect(api.delete(path), 409)["code"] == "delegate_present"


def test_search_the_roster(api: Api) -> None:
    congress = make_congress(api, delegates_total=4)
    delegates = make_roster(api, congress.id, 4)
    found = expect(
        api.get(f"/api/congresses/{congress.id}/delegates", params={"q": delegates[2].student_id}),
        200,
    )
    assert [d["id"] for d in found] == [delegates[2].id]


def test_check_in_by_student_id(api: Api) -> None:
    congress = make_congress(api, delegates_total=3)
    delegate = make_roster(api, congress.id, 3)[2]
    path = f"/api/congresses/{congress.id}/check-in"
    result = expect(api.post(path, json={"student_id": delegate.student_id}), 200)
    assert result["delegate"]["id"] == delegate.id
    assert result["attendance"]["present"] == 1
    again = expect(api.post(path, json={"student_id": delegate.student_id}), 409)
    assert again["code"] == "already_checked_in"
    unknown = expect(api.post(path, json={"student_id": "nobody"}), 404)
    assert unknown["code"] == "delegate_not_found"
    assert unknown["field"] == "body.student_id"
