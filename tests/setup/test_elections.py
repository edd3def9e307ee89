"""Elections (profile, 差额 check) and candidates (stroke order; O1)."""

from tests.builders import (
    Api,
    add_candidate,
    expect,
    make_congress,
    make_election,
    make_official,
    make_roster,
)


def test_create_election_with_profile(api: Api) -> None:
    congress = make_congress(api)
    election = expect(
        api.post(
            f"/api/congresses/{congress.id}/elections",
            json={"title": "委员", "seats": 7, "profile": {"quorum": "2/3"}},
        ),
        201,
    )
    assert election["title"] == "委员"
    assert election["seats"] == 7
    assert election["profile"]["quorum"] == "2/3"
    assert election["profile"]["majority_base"] == "present"
    assert election["slate"]["ok"] is False
    assert election["slate"]["code"] == "too_few_candidates"
    listed = expect(api.get(f"/api/congresses/{congress.id}/elections"), 200)
    assert listed == [election]


def test_bad_profile_option_names_the_field(api: Api) -> None:
    congress = make_congress(api)
    body = {"title": "委员", "seats": 3, "profile": {"quorum": "0.8"}}
    error = expect(api.post(f"/api/congresses/{congress.id}/elections", json=body), 422)
    assert error["code"] == "invalid_profile"
    assert error["field"] == "body.profile.quorum"
    assert error["message_zh"].startswith("法定人数比例应写成分数")
    assert expect(api.get(f"/api/congresses/{congress.id}/elections"), 200) == []


def test_duplicate_title_and_bad_seats(api: Api) -> None:
    congress = make_congress(api)
    make_election(api, congress.id, title="主席团成员")
    body = {"title": "主席团成员", "seats": 3}
    error = expect(api.post(f"/api/congresses/{congress.id}/elections", json=body), 409)
    assert error["code"] == "duplicate_election_title"
    body = {"title": "x", "seats": 0}
    error = expect(api.post(f"/api/congresses/{congress.id}/elections", json=body), 422)
    assert error["code"] == "invalid_request"
    assert error["field"] == "body.seats"


def test_update_election(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id, seats=3)
    changed = expect(
        api.patch(
            f"/api/elections/{election.id}",
            json={"seats": 2, "title": "常委", "profile": {"allow_uncontested": True}},
        ),
        200,
    )
    assert (changed["seats"], changed["title"]) == (2, "常委")
    assert changed["profile"]["allow_uncontested"] is True
    error = expect(api.patch(f"/api/elections/{election.id}", json={"seats": None}), 422)
    assert error["field"] == "body.seats"
    error = expect(api.patch(f"/api/elections/{election.id}", json={"profile": {"x": 1}}), 422)
    assert error["field"] == "body.profile.x"


def test_candidates_come_back_in_stroke_order(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id, seats=3)
    for name in ["赵九", "周八", "丁二", "李七", "王四"]:
        listed = add_candidate(api, election.id, name)
    assert [c.name for c in listed.candidates] == ["丁二", "王四", "李七", "周八", "赵九"]
    assert [c.position for c in listed.candidates] == [1, 2, 3, 4, 5]
    again = expect(api.get(f"/api/elections/{election.id}/candidates"), 200)
    assert [c["name"] for c in again["candidates"]] == ["丁二", "王四", "李七", "周八", "赵九"]
    assert again["name_order"] == "single_given_name_first"


def test_competitive_check(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id, seats=2)
    add_candidate(api, election.id, "王四")
    add_candidate(api, election.id, "李七")
    slate = expect(api.get(f"/api/elections/{election.id}"), 200)["slate"]
    assert slate["ok"] is False
    assert slate["code"] == "not_competitive"
    assert slate["message_zh"] == "差额选举要求候选人多于应选名额：应选 2 名，现有候选人 2 名"
    add_candidate(api, election.id, "周八")
    assert expect(api.get(f"/api/elections/{election.id}"), 200)["slate"]["ok"] is True
    uncontested = make_election(
        api, congress.id, title="等额", seats=1, profile={"allow_uncontested": True}
    )
    add_candidate(api, uncontested.id, "赵九")
    assert expect(api.get(f"/api/elections/{uncontested.id}"), 200)["slate"]["ok"] is True


def test_duplicate_candidate_and_names_normalized(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id)
    listed = add_candidate(api, election.id, " 王  芳 ")
    assert [c.name for c in listed.candidates] == ["王芳"]
    error = expect(api.post(f"/api/elections/{election.id}/candidates", json={"name": "王芳"}), 409)
    assert error["code"] == "duplicate_candidate"
    error = expect(api.post(f"/api/elections/{election.id}/candidates", json={"name": "  "}), 422)
    assert error["field"] == "body.name"


def test_unknown_character_is_refused(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id)
    body = {"name": "王@"}  # an ordinary character with no stroke data
    error = expect(api.post(f"/api/elections/{election.id}/candidates", json=body), 422)
    assert error["code"] == "unknown_character"
    assert error["field"] == "body.name"
    # A private-use character is refused before, by the names' one refusal list (app.rules.text).
    body = {"name": "王\U000f0000"}
    error = expect(api.post(f"/api/elections/{election.id}/candidates", json=body), 422)
    assert error["code"] == "invalid_request"
    assert error["field"] == "body.name"
    assert "U+F0000" in error["message_zh"]


def test_remove_candidate(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id)
    listed = add_candidate(api, election.id, "王四")
    candidate_id = listed.candidates[0].id
    expect(api.delete(f"/api/elections/{election.id}/candidates/{candidate_id}"), 204)
    assert expect(api.get(f"/api/elections/{election.id}/candidates"), 200)["candidates"] == []
    error = expect(api.delete(f"/api/elections/{election.id}/candidates/{candidate_id}"), 404)
    assert error["code"] == "candidate_not_found"


def test_o1_official_cannot_become_candidate(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id)
    make_official(api, congress.id, role="teller", name="王芳")
    error = expect(api.post(f"/api/elections/{election.id}/candidates", json={"name": "王芳"}), 409)
    assert error["code"] == "candidate_is_official"
    assert error["message_zh"] == "王芳 是本次大会的计票人，选举工作人员不得为候选人（O1）"
    assert expect(api.get(f"/api/elections/{election.id}/candidates"), 200)["candidates"] == []


def test_o1_candidate_cannot_become_official(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id)
    add_candidate(api, election.id, "李明", student_id="2023002")
    for role in ["chief_scrutineer", "scrutineer", "chief_teller", "teller"]:
        body = {"name": "李明", "role": role}
        error = expect(api.post(f"/api/congresses/{congress.id}/officials", json=body), 409)
        assert error["code"] == "official_is_candidate"
    # the presidium and auditors are not officials of the count (O1 names the four roles)
    make_official(api, congress.id, role="presidium", name="李明")
    # a namesake with another student id is another person
    make_official(api, congress.id, role="teller", name="李明", student_id="2023999")


def test_readiness_combines_slate_staffing_and_quorum(api: Api) -> None:
    congress = make_congress(api, delegates_total=5)
    delegates = make_roster(api, congress.id, 5)
    election = make_election(api, congress.id, seats=1)
    for name in ["王四", "李七"]:
        add_candidate(api, election.id, name)
    staff = [("chief_scrutineer", 1), ("chief_teller", 1), ("scrutineer", 2), ("teller", 5)]
    for role, count in staff:
        for n in range(count):
            make_official(api, congress.id, role=role, name=f"{role}{n}")
    for delegate in delegates[:3]:
        expect(api.post(f"/api/congresses/{congress.id}/delegates/{delegate.id}/check-in"), 200)
    readiness = expect(api.get(f"/api/elections/{election.id}/readiness"), 200)
    # Q1: 4/5 × 5 = 4 present needed (以上 includes the number)
    assert readiness["quorum"] == {"delegates_total": 5, "present": 3, "required": 4, "met": False}
    assert readiness["slate"]["ok"] is True
    assert readiness["staffing"]["ok"] is True
    assert readiness["ready"] is False
    expect(api.post(f"/api/congresses/{congress.id}/delegates/{delegates[3].id}/check-in"), 200)
    readiness = expect(api.get(f"/api/elections/{election.id}/readiness"), 200)
    assert readiness["quorum"]["met"] is True
    assert readiness["ready"] is True
