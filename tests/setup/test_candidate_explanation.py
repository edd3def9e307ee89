"""The candidates list says why each name stands where it does (issue 18 item 2)."""

from app.names.reasons import explain_places_zh
from tests.builders import (
    SEED_BALLOT_ORDER,
    SEED_CANDIDATES,
    Api,
    add_candidate,
    expect,
    make_congress,
    make_election,
)


def test_each_candidate_comes_with_the_reason_for_its_place(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id)
    for name in SEED_CANDIDATES:
        listed = add_candidate(api, election.id, name)
    assert [c.name for c in listed.candidates] == SEED_BALLOT_ORDER
    read = expect(api.get(f"/api/elections/{election.id}/candidates"), 200)["candidates"]
    reasons = [c["stroke_explanation"] for c in read]
    assert reasons == explain_places_zh(SEED_BALLOT_ORDER)
    assert reasons[1] == (
        "“刘”6 画（点横撇点竖竖）；“洋”9 画（点点横点撇横横横竖）；单名（名只有一个字）。"
        "排在“王宁”之后：首字“王”4 画，少于“刘”的 6 画，笔画少的在前。"
    )

    # The convention of the election's profile is the one explained (王长河 before 王刚 here).
    other = make_election(
        api, congress.id, title="委员", profile={"name_order": "character_by_character"}
    )
    add_candidate(api, other.id, "王刚")
    listed = add_candidate(api, other.id, "王长河")
    assert [c.name for c in listed.candidates] == ["王长河", "王刚"]
    assert listed.candidates[1].stroke_explanation.endswith(
        "排在“王长河”之后：第二个字“长”4 画，少于“刚”的 6 画，笔画少的在前。"
    )
