"""The live stream: snapshots by role, release (C3), and wake-ups across app instances."""

import logging
import time

import httpx
import pytest

from app.live import router as live_router
from app.live.listen import RedactToken
from app.settings import Settings
from tests.builders import (
    FILLED,
    LI,
    LIU,
    OUYANG,
    WANG,
    ZHANG,
    Api,
    enter_batch,
    expect,
    hall,
    live_paper,
)
from tests.live.conftest import Stream, serve


def _live(api: Api, election_id: int, **params: str) -> dict:  # type: ignore[type-arg]
    return expect(api.get(f"/api/elections/{election_id}/live", params=params), 200)


def test_snapshot_by_role_and_release(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    election_id = h.ready.election.id
    enter_batch(h, FILLED)

    full = _live(h.presidium, election_id)
    [round_] = full["rounds"]
    assert round_["progress"] | {"batches": None} == {
        "collected": 8, "declared": 8, "entered": 8, "reconciled": 8, "batches_open": 0,
        "discrepancies_open": 0, "adjudications_open": 0, "batches": None,
    }  # fmt: skip
    assert round_["progress"]["batches"] == [
        {"number": 1, "declared": 8, "pass_a": 8, "pass_b": 8, "status": "reconciled"}
    ]
    provisional = round_["provisional"]
    assert provisional["provisional"] is True
    assert provisional["majority"]["threshold"] == 5
    assert [(t["name"], t["yes"], t["standing"]) for t in provisional["tallies"]] == [
        (WANG, 8, "elected"), (LIU, 7, "elected"), (LI, 5, "elected"),
        (ZHANG, 2, "short"), (OUYANG, 2, "short"),
    ]  # fmt: skip
    assert full["height"] >= 0

    teller = _live(h.tellers[0], election_id)
    assert teller["view"] == "progress"
    assert teller["rounds"][0]["provisional"] is None
    assert teller["rounds"][0]["progress"]["entered"] == 8
    projector = _live(h.presidium, election_id, view="projector")
    assert projector["rounds"][0]["provisional"] is None
    assert projector["rounds"][0]["released"] is None

    release = f"/api/rounds/{h.round_id}/release"
    assert expect(h.presidium.post(release), 409)["code"] == "round_not_certified"
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.chief.post(release), 403)  # the presidium releases (C3)
    expect(h.presidium.post(release), 200)
    assert expect(h.presidium.post(release), 409)["code"] == "already_released"

    released = _live(h.tellers[0], election_id, view="projector")["rounds"][0]["released"]
    assert released["elected"] == [WANG, LIU, LI]
    assert released["outcome"] == "seats_filled"
    events = expect(api.get(f"/api/congresses/{h.ready.congress.id}/events"), 200)
    assert any(e["type"] == "round.released" for e in events)


def test_paper_on_instance_1_reaches_stream_on_instance_2(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: in-process wake-up; PostgreSQL: NOTIFY at commit, LISTEN on each instance."""
    monkeypatch.setattr(live_router, "KEEPALIVE_SECONDS", 0.5)
    h = hall(api, settings, seats=3)
    body = {"declared_count": 8, "teller_a_id": h.teller_ids[0], "teller_b_id": h.teller_ids[1]}
    batch = expect(h.api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    election_id = h.ready.election.id
    with serve(settings) as one, serve(settings) as two:
        url = f"{two}/api/elections/{election_id}/live?token={h.presidium.token}"
        stream = Stream(url)
        try:
            assert stream.status == 200
            first = stream.next()
            assert first["event"] == "snapshot"
            assert first["data"]["rounds"][0]["progress"]["entered"] == 0
            height = int(first["id"])

            started = time.monotonic()
            response = httpx.post(
                f"{one}/api/batches/{batch['id']}/papers",
                json=live_paper(h, 1),
                headers={"Authorization": f"Bearer {h.tellers[0].token}"},
            )
            assert response.status_code == 201, response.text
            message = stream.next()
            while "comment" in message and "event" not in message:
                message = stream.next()
            latency = time.monotonic() - started
            assert int(message["id"]) > height
            round_ = message["data"]["rounds"][0]
            assert round_["progress"]["entered"] == 1
            tallies = {t["name"]: t for t in round_["provisional"]["tallies"]}
            assert (tallies[WANG]["yes"], tallies[LIU]["abstain"]) == (1, 1)  # unclear: abstain
            assert latency < 1.0, latency
        finally:
            stream.close()

        # Reconnecting with the current height: nothing new, only a keep-alive.
        current = message["id"]
        again = Stream(url, headers={"Last-Event-ID": current})
        try:
            assert again.next() == {"comment": "keep-alive"}
        finally:
            again.close()
        behind = Stream(url, headers={"Last-Event-ID": str(height)})
        try:
            assert behind.next()["id"] == current
        finally:
            behind.close()


def test_stream_needs_a_token(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    path = f"/api/elections/{h.ready.election.id}/live"
    assert expect(api.as_token(None).get(path), 401)["code"] == "not_authenticated"
    assert expect(api.as_token(None).get(path, params={"token": "nope"}), 401)["code"] == (
        "invalid_session"
    )
    snapshot = expect(api.as_token(None).get(path, params={"token": h.presidium.token}), 200)
    assert snapshot["view"] == "full"


def test_access_log_hides_the_stream_token() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/elections/1/live?view=projector&token=s3cret&x=1", "1.1", 200),
        None,
    )  # fmt: skip
    assert RedactToken().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "token=***&x=1" in record.getMessage()
