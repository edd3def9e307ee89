"""Deciding, certifying and following up rounds over HTTP (C1, C2, C4, M5–M9), on both databases."""

import json
import subprocess

from app.settings import Settings
from tests.builders import (
    FILLED,
    LI,
    LIU,
    OUYANG,
    SHORT,
    TIED,
    WANG,
    ZHANG,
    Api,
    enter_batch,
    expect,
    hall,
)
from tests.results.nist import assert_valid


def test_decide_certify_report_and_export(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    refused = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 409)
    assert refused["code"] == "count_incomplete"
    assert "8 collected" in refused["message_en"]

    enter_batch(h, FILLED)
    expect(h.tellers[0].post(f"/api/rounds/{h.round_id}/decide"), 403)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 409)  # nothing decided yet
    decided = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    result = decided["result"]
    assert decided["status"] == "decided"
    assert result["majority"] == {"base": 8, "base_kind": "present", "threshold": 5}
    assert result["elected"] == [WANG, LIU, LI]
    assert [(t["name"], t["yes"]) for t in result["tallies"]] == [
        (WANG, 8), (LIU, 7), (LI, 5), (ZHANG, 2), (OUYANG, 2),
    ]  # fmt: skip
    assert expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 409)["code"] == (
        "round_already_decided"
    )

    expect(h.presidium.post(f"/api/rounds/{h.round_id}/sign"), 403)
    first = expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    assert not first["certified"]
    assert expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 409)["code"] == "already_signed"
    second = expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    assert second["certified"]
    assert second["status"] == "certified"
    assert len(second["signatures"]) == 2

    outcome = expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert outcome["complete"]
    assert [(e["name"], e["round"]) for e in outcome["elected"]] == [
        (WANG, 1), (LIU, 1), (LI, 1),
    ]  # fmt: skip
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 409)

    response = h.presidium.get(f"/api/rounds/{h.round_id}/report.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True,
        check=True, timeout=60,
    ).stdout.decode("utf-8")  # fmt: skip
    assert "捌" in text  # 8 present, in capital numerals
    assert "拾" in text  # 10 delegates / printed
    for name in (WANG, LIU, LI, ZHANG, OUYANG):
        assert name in text
    events = expect(api.get(f"/api/congresses/{h.ready.congress.id}/events"), 200)
    head = events[-1]["hash"]
    assert head[:16] in text.replace("\n", "").replace(" ", "")

    exported = expect(api.get(f"/api/elections/{h.ready.election.id}/results.json"), 200)
    assert exported["rounds"][0]["round"] == 1
    cvr_path = f"/api/elections/{h.ready.election.id}/results.nist-cvr.json"
    cvr = expect(h.chief.get(cvr_path), 200)  # per-paper: scrutineers and the auditor only
    assert len(cvr["CVR"]) == 8
    assert_valid("cvr", cvr)
    err = expect(api.get(f"/api/elections/{h.ready.election.id}/results.nist-err.json"), 200)
    assert_valid("err", err)
    assert err["Status"] == "certified"
    csv = api.get(f"/api/elections/{h.ready.election.id}/results.csv")
    assert csv.status_code == 200
    assert WANG in csv.content.decode("utf-8-sig")
    expect(h.tellers[0].get(f"/api/elections/{h.ready.election.id}/results.json"), 403)


def test_tie_goes_to_a_tie_round_opened_by_the_presidium(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=2)
    enter_batch(h, TIED)
    decided = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["result"]
    assert decided["elected"] == [WANG]
    assert decided["next_round"] == {"kind": "tie", "seats": 1, "candidates": [LIU, LI]}

    # Not before certification (C2).
    refused = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 409)
    assert refused["code"] == "round_not_certified"
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    # Not before the presidium has announced the result to the hall (C3): the tied persons would
    # reach the tablets first.
    unreleased = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 409)
    assert unreleased["code"] == "round_not_released"
    assert expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)["rounds"] == [
        {"round_id": h.round_id, "number": 1, "kind": "regular", "status": "certified",
         "outcome": "tie_round"}
    ]  # fmt: skip
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)

    expect(h.chief.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 403)
    wrong = {"candidates": [LIU, ZHANG]}
    bad = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json=wrong), 422)
    assert bad["code"] == "tie_round_candidates"
    tie = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 201)
    assert (tie["number"], tie["kind"], tie["seats"]) == (2, "tie", 1)
    assert tie["candidates"] == [LIU, LI]
    assert tie["follows_round_id"] == h.round_id
    again = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 409)
    assert again["code"] == "follow_up_exists"

    outcome = expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert [e["name"] for e in outcome["elected"]] == [WANG]
    assert (outcome["seats_open"], outcome["complete"]) == (1, False)
    assert [r["number"] for r in outcome["rounds"]] == [1, 2]


def test_changed_rows_behind_the_log_are_refused(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    enter_batch(h, FILLED)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    from sqlalchemy import create_engine, text

    engine = create_engine(settings.resolved_database_url().replace(
        "postgresql://", "postgresql+psycopg://"))  # fmt: skip
    with engine.begin() as connection:
        row = connection.execute(text("SELECT id, record FROM paper_entry LIMIT 1")).one()
        record = json.loads(row.record)
        record["marks"] = ["no"] * len(record["marks"])
        connection.execute(
            text("UPDATE paper_entry SET record = :record"), {"record": json.dumps(record)}
        )
    engine.dispose()
    response = h.presidium.get(f"/api/rounds/{h.round_id}/report.pdf")
    assert response.status_code == 409
    assert response.json()["code"] == "record_mismatch"


def test_presidium_correction_reopens_a_certified_round(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    enter_batch(h, FILLED)
    first = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 409)  # frozen (C2)

    order = {"reason": "复核：重新清点"}
    expect(h.chief.post(f"/api/rounds/{h.round_id}/correction", json=order), 403)
    blank = expect(h.presidium.post(f"/api/rounds/{h.round_id}/correction", json={"reason": " "}),
                   422)  # fmt: skip
    assert blank["code"] == "reason_required"
    reopened = expect(h.presidium.post(f"/api/rounds/{h.round_id}/correction", json=order), 200)
    assert reopened["status"] == "counting"
    # Every batch is entered again first (tests/results/test_presidium_api.py goes on from here).
    refused = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 409)
    assert refused["code"] == "count_incomplete"
    decision = expect(h.chief.get(f"/api/rounds/{h.round_id}/decision"), 200)
    assert decision["decision_hash"] == first["decision_hash"]
    assert not decision["certified"]
    events = expect(api.get(f"/api/congresses/{h.ready.congress.id}/events"), 200)
    kinds = [event["type"] for event in events]
    assert kinds.count("round.decided") == 1
    assert kinds.count("round.correction_ordered") == kinds.count("batch.reentry_ordered") == 1


def test_presidium_reduces_the_seats_after_a_tie(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=2)
    enter_batch(h, TIED)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    order = {"reason": "大会主席团决定减少名额，不再选举"}
    early = expect(h.presidium.post(
        f"/api/elections/{h.ready.election.id}/reduce-seats", json=order), 409)  # fmt: skip
    assert early["code"] == "rounds_unfinished"
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    reduced = expect(
        h.presidium.post(f"/api/elections/{h.ready.election.id}/reduce-seats", json=order), 200
    )
    assert (reduced["seats"], reduced["seats_reduced_from"]) == (1, 2)
    assert reduced["complete"]
    assert reduced["next_round"] is None
    assert [e["name"] for e in reduced["elected"]] == [WANG]


def test_shortfall_supplementary_round_with_the_presidiums_list(
    api: Api, settings: Settings
) -> None:
    h = hall(api, settings, seats=3)
    enter_batch(h, SHORT)
    decided = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["result"]
    assert decided["elected"] == [WANG, LIU]
    assert decided["next_round"] == {"kind": "supplementary", "seats": 1, "candidates": [LI, ZHANG]}
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    duplicate = {"candidates": [LI, "李 娜"]}
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)  # C3 first
    refused = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json=duplicate), 422)
    assert refused["code"] == "follow_up_candidates"
    edited = {"candidates": [OUYANG, ZHANG, LI]}
    opened = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json=edited), 201)
    assert (opened["kind"], opened["seats"], opened["number"]) == ("supplementary", 1, 2)
    assert opened["candidates"] == [LI, ZHANG, OUYANG]  # ballot (stroke) order
    pdf = api.get(f"/api/rounds/{opened['id']}/papers.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
