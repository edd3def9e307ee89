"""Check-in (签到): a delegate counts once (Q3); the record holds who is present, no paper."""

from tests.builders import (
    Api,
    expect,
    make_congress,
    make_election,
    make_roster,
    roster_csv,
    upload_roster,
)


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
        "elections": [],
        "delegations": [
            {"delegation": "第1代表团", "present": 1, "roster_count": 2},
            {"delegation": "第2代表团", "present": 0, "roster_count": 2},
            {"delegation": "第3代表团", "present": 0, "roster_count": 1},
            {"delegation": "第4代表团", "present": 0, "roster_count": 1},
        ],
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


def test_attendance_gives_each_elections_quorum_line_and_each_delegation(api: Api) -> None:
    """Q1 per election from its own profile, computed by the rules engine: 4/5 of 189 is 151.2,
    so 152 (以上 includes the figure); 2/3 of 189 is exactly 126, and 超过 (strict) needs 127."""
    congress = make_congress(api, delegates_total=189)
    rows = [("王小明", "计算机系代表团", "2023001"), ("李华", "外语系代表团", "2023002")]
    rows += [(f"代表{i}", "计算机系代表团", f"20231{i:02d}") for i in range(3)]
    expect(upload_roster(api, congress.id, roster_csv(rows)), 201)
    first = make_election(api, congress.id, title="主席团成员")
    make_election(api, congress.id, title="委员", profile={"quorum": "2/3"})
    make_election(api, congress.id, title="常委", profile={"quorum": "2/3", "quorum_strict": True})
    expect(api.post(f"/api/congresses/{congress.id}/check-in", json={"student_id": "2023002"}), 200)
    attendance = expect(api.get(f"/api/congresses/{congress.id}/attendance"), 200)
    lines = [(e["title"], e["quorum"], e["strict"], e["required"]) for e in attendance["elections"]]
    assert lines == [
        ("主席团成员", "4/5", False, 152),
        ("委员", "2/3", False, 126),
        ("常委", "2/3", True, 127),
    ]
    assert attendance["elections"][0]["election_id"] == first.id
    assert {e["met"] for e in attendance["elections"]} == {False}
    assert attendance["delegations"] == [
        {"delegation": "计算机系代表团", "present": 0, "roster_count": 4},
        {"delegation": "外语系代表团", "present": 1, "roster_count": 1},
    ]


def test_quorum_line_is_met_at_the_required_count(api: Api) -> None:
    congress = make_congress(api, delegates_total=10)
    delegates = make_roster(api, congress.id, 10)
    make_election(api, congress.id)
    base = f"/api/congresses/{congress.id}/delegates"
    for delegate in delegates[:7]:
        expect(api.post(f"{base}/{delegate.id}/check-in"), 200)
    answer = expect(api.post(f"{base}/{delegates[7].id}/check-in"), 200)
    line = answer["attendance"]["elections"][0]
    assert (line["required"], line["met"]) == (8, True)
    answer = expect(api.post(f"{base}/{delegates[7].id}/check-out"), 200)
    assert answer["attendance"]["elections"][0]["met"] is False


def test_search_the_roster_by_pinyin_initials_and_normalised_name(api: Api) -> None:
    """The desk's search: ``wxm`` finds 王小明 (the write-in suggestions' matcher), a heteronym's
    every reading counts (单 → d, s, c), ``%`` and ``_`` are no wildcards, whitespace is ignored."""
    congress = make_congress(api, delegates_total=6)
    rows = [
        ("王小明", "计算机系代表团", "2023001"),
        ("王晓梅", "外语系代表团", "2023002"),
        ("单田芳", "外语系代表团", "2023003"),
        ("李华", "计算机系代表团", "2023004"),
    ]
    expect(upload_roster(api, congress.id, roster_csv(rows)), 201)
    path = f"/api/congresses/{congress.id}/delegates"

    def names(q: str, **params: object) -> list[str]:
        return [d["name"] for d in expect(api.get(path, params={"q": q, **params}), 200)]

    assert names("wxm") == ["王小明", "王晓梅"]
    assert names("WXM") == ["王小明", "王晓梅"]
    assert names("wxmx") == []
    assert names("stf") == ["单田芳"]
    assert names("dtf") == ["单田芳"]
    assert names("小明") == ["王小明"]
    assert names("王 小") == ["王小明"]
    assert names("外语") == ["王晓梅", "单田芳"]
    assert names("2023004") == ["李华"]
    assert names("%") == []
    assert names("_") == []
    expect(api.post(f"/api/congresses/{congress.id}/check-in", json={"student_id": "2023001"}), 200)
    assert names("wxm", present=True) == ["王小明"]
    assert names("wxm", present=False) == ["王晓梅"]
