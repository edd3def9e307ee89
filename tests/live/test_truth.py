"""What the live snapshot and the result endpoint show once a round is decided, certified and
released: the recorded decision on the reconciled papers, never pass A's entries (C1, C2), no
verdict before any paper is entered, and nothing of an unreleased result for a teller (C3)."""

from collections.abc import Callable
from typing import Any

from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.settings import Settings
from tests.builders import (
    FILLED,
    LI,
    LIU,
    OUYANG,
    SEED_BALLOT_ORDER,
    TIED,
    WANG,
    ZHANG,
    Api,
    Hall,
    enter_batch,
    expect,
    hall,
    issue_and_collect,
    login_official,
)

# On the last paper pass A typed ✓ for 欧阳晓东 and pass B ×; the scrutineer looks at the paper
# and finds ×: 欧阳晓东 has 1 yes, where pass A's entries say 2.
PASS_B = [*FILLED[:7], ["yes", "abstain", "blank", "yes", "no"]]


def paper(h: Hall, tag: str, n: int, marks: list[str]) -> dict[str, Any]:
    return {
        "idempotency_key": f"{tag}-{n}",
        "qr_payload": h.payload,
        "marks": dict(zip(SEED_BALLOT_ORDER, marks, strict=True)),
        "write_ins": [],
        "void": None,
    }


def enter_differing_batch(h: Hall, after_pass_a: Callable[[], None] = lambda: None) -> int:
    """Pass A enters FILLED, pass B PASS_B; a scrutineer resolves the one difference for B."""
    body = {"declared_count": 8, "teller_a_id": h.teller_ids[0], "teller_b_id": h.teller_ids[1]}
    batch = expect(h.api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    path = f"/api/batches/{batch['id']}/papers"
    for tag, teller, papers in (("a", h.tellers[0], FILLED), ("b", h.tellers[1], PASS_B)):
        for n, marks in enumerate(papers):
            expect(teller.post(path, json=paper(h, tag, n, marks)), 201)
        if tag == "a":
            after_pass_a()
    queue = expect(h.scrutineer.get(f"/api/rounds/{h.round_id}/adjudication"), 200)
    [disputed] = queue["batches"]
    [from_b] = disputed["only_in_pass_b"]
    resolution = {"records": [from_b], "reason": "核对原票：欧阳晓东一栏为×"}
    resolved = expect(h.scrutineer.post(f"/api/batches/{batch['id']}/resolution", json=resolution),
                      200)  # fmt: skip
    assert resolved["progress"]["status"] == "reconciled"
    return int(batch["id"])


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


def certify(h: Hall, round_id: int) -> None:
    expect(h.chief.post(f"/api/rounds/{round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{round_id}/sign"), 200)


def enter_round(
    h: Hall, settings: Settings, round_: dict[str, Any], papers: list[dict[str, str]]
) -> None:
    """Both passes enter the same ``papers`` (marks by name) as one batch of ``round_``."""
    payload = encode_payload(
        key=load_or_create_qr_key(settings.data_dir),
        election_id=h.ready.election.id,
        round_number=round_["number"],
        definition_hash=round_["definition_hash"],
    )
    body = {"declared_count": len(papers), "teller_a_id": h.teller_ids[0],
            "teller_b_id": h.teller_ids[1]}  # fmt: skip
    batch = expect(h.api.post(f"/api/rounds/{round_['id']}/batches", json=body), 201)
    for tag, teller in zip("ab", h.tellers, strict=True):
        for n, marks in enumerate(papers):
            paper = {"idempotency_key": f"r{round_['number']}-{tag}-{n}", "qr_payload": payload,
                     "marks": marks, "write_ins": [], "void": None}  # fmt: skip
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=paper), 201)


# The tie round between 刘洋 and 李娜 for the last seat (M7): 刘洋 5, 李娜 3 of 8 papers.
TIE_PAPERS = [{LIU: "yes", LI: "no"}] * 5 + [{LIU: "no", LI: "yes"}] * 3


def tie_round(h: Hall, settings: Settings) -> dict[str, Any]:
    """Round 1 (TIED, 2 seats) certified and released, its tie round opened, counted and
    certified; returns the tie round."""
    enter_batch(h, TIED)
    certify(h, h.round_id)
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)
    tie: dict[str, Any] = expect(
        h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 201
    )
    issue_and_collect(h.api, tie["id"], printed=10, issued=8, collected=8)
    enter_round(h, settings, tie, TIE_PAPERS)
    certify(h, tie["id"])
    return tie


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
