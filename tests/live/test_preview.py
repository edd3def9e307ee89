"""The presidium's preview of the hall's screen (C3): ``view=projector&preview=ROUND`` is the
projector view as it will be once that certified round is released — the same figures as the
projector shows after the release — and refused to anyone else, for a round not certified, for
another election's round, and without ``view=projector``; on both databases."""

from typing import Any

from app.settings import Settings
from tests.builders import FILLED, Api, enter_batch, expect, hall


def _live(api: Api, election_id: int, status: int = 200, **params: Any) -> Any:
    return expect(api.get(f"/api/elections/{election_id}/live", params=params), status)


def test_preview_is_the_projector_after_the_release(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    election_id = h.ready.election.id
    enter_batch(h, FILLED)
    preview = {"view": "projector", "preview": h.round_id}

    not_yet = _live(h.presidium, election_id, 409, **preview)
    assert not_yet["code"] == "round_not_certified"  # counted, not decided: nothing to preview
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    assert _live(h.presidium, election_id, 409, **preview)["code"] == "round_not_certified"
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)

    hall_now = _live(h.presidium, election_id, view="projector")
    assert hall_now["rounds"][0]["released"] is None  # the hall sees nothing yet (C3)
    shown = _live(h.presidium, election_id, **preview)
    assert shown["view"] == "projector"
    assert shown["rounds"][0]["provisional"] is None
    assert shown["rounds"][0]["decided"] is None
    assert shown["rounds"][0]["released"]["elected"] == ["王宁", "刘洋", "李娜"]

    # Refused: who does not release results, another election's round, the dashboard's view.
    for person in (h.scrutineer, h.tellers[0]):
        assert _live(person, election_id, 403, **preview)["code"] == "forbidden"
    other = hall(api, settings, seats=3)
    missing = _live(other.presidium, other.ready.election.id, 404, view="projector",
                    preview=h.round_id)  # fmt: skip
    assert missing["code"] == "round_not_in_election"
    stranger = _live(h.presidium, election_id, 404, view="projector", preview=other.round_id)
    assert stranger["code"] == "round_not_in_election"
    assert "没有编号为" in stranger["message_zh"]
    wrong_view = _live(h.presidium, election_id, 422, preview=h.round_id)
    assert wrong_view["code"] == "preview_needs_projector"

    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)
    after = _live(h.tellers[0], election_id, view="projector")
    assert after["rounds"] == shown["rounds"]  # what the hall sees is what was previewed
    assert _live(h.presidium, election_id, **preview)["rounds"] == after["rounds"]
