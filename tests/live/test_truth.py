"""What the live snapshot and the result endpoint show once a round is decided, certified and
released: the recorded decision on the reconciled papers, never pass A's entries (C1, C2), no
verdict before any paper is entered, and nothing of an unreleased result for a teller (C3)."""

from typing import Any

from app.settings import Settings
from tests.builders import (
    LI,
    LIU,
    OUYANG,
    SEED_BALLOT_ORDER,
    WANG,
    ZHANG,
    Api,
    enter_differing_batch,
    expect,
    hall,
    login_official,
    tie_round,
)


def live(api: Api, election_id: int, **params: str) -> dict[str, Any]:
    snapshot: dict[str, Any] = expect(
        api.get(f"/api/elections/{election_id}/live", params=params), 200
    )
    return snapshot


def yes_votes(document: dict[str, Any]) -> dict[str, int]:
    return {t["name"]: t["yes"] for t in document["tallies"]}


def test_no_verdict_before_any_paper_is_entered(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    [round_] = live(h.presidium, h.ready.election.id)["rounds"]
    assert round_["progress"]["entered"] == 0
    assert round_["provisional"] is None  # nobody is "not elected" on no paper at all
    assert round_["decided"] is None


def test_certified_round_shows_the_reconciled_numbers_not_pass_a(
    api: Api, settings: Settings
) -> None:
    h = hall(api, settings, seats=3)
    election_id = h.ready.election.id

    def pass_a_only() -> None:
        [counting] = live(h.presidium, election_id)["rounds"]
        assert yes_votes(counting["provisional"])[OUYANG] == 2  # pass A's entries, provisional
        assert counting["provisional"]["provisional"] is True

    enter_differing_batch(h, pass_a_only)
    [reconciled] = live(h.presidium, election_id)["rounds"]
    # The batch is reconciled: its final records count, not pass A's entries (not decided yet).
    assert yes_votes(reconciled["provisional"])[OUYANG] == 1
    assert reconciled["decided"] is None

    decided = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["result"]
    assert yes_votes(decided)[OUYANG] == 1
    expected = {WANG: 8, LIU: 7, LI: 5, ZHANG: 2, OUYANG: 1}
    [round_] = live(h.presidium, election_id)["rounds"]
    assert round_["provisional"] is None
    assert yes_votes(round_["decided"]) == expected
    assert round_["decided"]["certified"] is False
    assert round_["decided"]["elected"] == [WANG, LIU, LI]
    assert [t["standing"] for t in round_["decided"]["tallies"]] == ["elected"] * 3 + ["short"] * 2

    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    [round_] = live(h.presidium, election_id)["rounds"]
    assert round_["provisional"] is None
    assert round_["decided"]["certified"] is True
    assert yes_votes(round_["decided"]) == expected
    assert round_["decided"]["attendance"] == {
        "delegates_total": 10, "present": 8, "issued": 8, "collected": 8,
    }  # fmt: skip
    assert round_["decided"]["papers"]["valid"] == 8
    assert round_["decided"]["majority"]["threshold"] == 5

    # The hall sees the same figures once released, and a teller's stream no decision.
    assert live(h.tellers[0], election_id)["rounds"][0]["decided"] is None
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)
    released = live(h.presidium, election_id, view="projector")["rounds"][0]["released"]
    assert yes_votes(released) == expected
    assert released["attendance"] == round_["decided"]["attendance"]


def test_result_is_hidden_from_tellers_until_released(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    election_id = h.ready.election.id
    enter_differing_batch(h)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    path = f"/api/elections/{election_id}/result"
    chief_teller = login_official(h.api, h.ready.congress.id,
                                  h.ready.officials["chief_teller"][0].id)  # fmt: skip

    for who in (h.tellers[0], chief_teller):
        hidden = expect(who.get(path), 200)
        assert hidden["elected"] == []
        assert (hidden["seats_filled"], hidden["seats_open"], hidden["complete"]) == (0, 3, False)
        assert hidden["next_round"] is None
        assert [(r["status"], r["outcome"]) for r in hidden["rounds"]] == [("certified", None)]
        for name in SEED_BALLOT_ORDER:
            assert name not in str(hidden)
    for who in (h.presidium, h.chief, h.scrutineer, h.api):  # they decide, certify, release
        seen = expect(who.get(path), 200)
        assert [e["name"] for e in seen["elected"]] == [WANG, LIU, LI]

    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)
    for who in (h.tellers[0], chief_teller):
        shown = expect(who.get(path), 200)
        assert [e["name"] for e in shown["elected"]] == [WANG, LIU, LI]
        assert shown["complete"] is True
        assert shown["rounds"][0]["outcome"] == "seats_filled"


def test_tie_round_is_decided_by_plurality_in_the_snapshot(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=2)
    tie = tie_round(h, settings)
    rounds = live(h.presidium, h.ready.election.id)["rounds"]
    decided = rounds[1]["decided"]
    assert (decided["kind"], decided["outcome"], decided["elected"]) == ("tie", "seats_filled",
                                                                         [LIU])  # fmt: skip
    assert [(t["name"], t["yes"], t["standing"]) for t in decided["tallies"]] == [
        (LIU, 5, "elected"), (LI, 3, "short"),
    ]  # fmt: skip
    expect(h.presidium.post(f"/api/rounds/{tie['id']}/release"), 200)
    released = live(h.tellers[0], h.ready.election.id, view="projector")["rounds"]
    assert released[1]["released"]["kind"] == "tie"
    result = expect(h.tellers[0].get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert [(e["name"], e["round"]) for e in result["elected"]] == [(WANG, 1), (LIU, 2)]
