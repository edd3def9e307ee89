"""Rounds over HTTP: the Q1 gate, the frozen definition, QR verification, printing, I1 and I2."""

import json
import re
import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image

from app.papers.definition import definition_hash
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.papers.schemas import CollectionRead
from app.settings import Settings
from tests.builders import (
    SEED_BALLOT_ORDER,
    Api,
    add_candidate,
    check_in,
    expect,
    issue_and_collect,
    login_official,
    make_ready_election,
    open_round,
)


def _events(api: Api, congress_id: int, type_: str) -> list[dict[str, object]]:
    events = expect(api.get(f"/api/congresses/{congress_id}/events"), 200)
    rows = events["events"] if isinstance(events, dict) else events
    return [json.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"]
            for e in rows if e["type"] == type_]  # fmt: skip


def test_quorum_gate_151_refused_152_opens(api: Api) -> None:
    ready = make_ready_election(api, delegates_total=189, present=151)
    refused = api.post(f"/api/elections/{ready.election.id}/rounds")
    body = expect(refused, 409)
    assert body["code"] == "quorum_not_met"
    assert "151" in body["message_zh"]
    assert "152" in body["message_zh"]
    assert "189" in body["message_en"]
    assert "(Q1)" in body["message_en"]
    assert expect(api.get(f"/api/elections/{ready.election.id}/rounds"), 200)["rounds"] == []

    check_in(api, ready.congress.id, ready.delegates[151:152])
    round_ = open_round(api, ready.election.id)
    assert (round_.number, round_.kind, round_.status, round_.present) == (
        1,
        "regular",
        "open",
        152,
    )
    assert round_.candidates == SEED_BALLOT_ORDER
    assert round_.printed is None
    assert round_.issued is None
    assert round_.collected is None


def test_definition_is_frozen_and_recorded(api: Api) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    document = round_.definition
    assert document["candidates"] == SEED_BALLOT_ORDER
    assert (document["round"], document["seats"], round_.present) == (1, 3, 8)
    assert "present" not in document  # frozen at issuance, after printing (Q3)
    assert round_.definition_hash == definition_hash(document)
    events = _events(api, ready.congress.id, "round.opened")
    assert len(events) == 1
    assert events[0]["definition_hash"] == round_.definition_hash
    assert events[0]["definition"] == document
    assert (
        expect(api.get(f"/api/rounds/{round_.id}"), 200)["definition_hash"]
        == round_.definition_hash
    )
    listed = expect(api.get(f"/api/elections/{ready.election.id}/rounds"), 200)
    assert [r["id"] for r in listed["rounds"]] == [round_.id]

    # A second first round is refused; the election is frozen.
    assert expect(api.post(f"/api/elections/{ready.election.id}/rounds"), 409)["code"] == (
        "round_exists"
    )
    path = f"/api/elections/{ready.election.id}"
    frozen = expect(api.patch(path, json={"seats": 2}), 409)
    assert (frozen["code"], frozen["field"]) == ("election_frozen", "body.seats")
    profile = {"quorum": "2/3"}
    frozen = expect(api.patch(path, json={"profile": profile}), 409)
    assert (frozen["code"], frozen["field"]) == ("election_frozen", "body.profile")
    added = api.post(f"{path}/candidates", json={"name": "赵敏", "student_id": None})
    assert expect(added, 409)["code"] == "election_frozen"
    candidates = expect(api.get(f"{path}/candidates"), 200)["candidates"]
    removed = api.delete(f"{path}/candidates/{candidates[0]['id']}")
    assert expect(removed, 409)["code"] == "election_frozen"
    # The title may still change (seats given unchanged are no change); nothing else did.
    renamed = {"title": "主席团成员（第二次）", "seats": 3}
    assert expect(api.patch(path, json=renamed), 200)["seats"] == 3
    assert len(expect(api.get(f"{path}/candidates"), 200)["candidates"]) == 5


def test_not_ready_elections_cannot_open(api: Api) -> None:
    ready = make_ready_election(api, candidates=["王宁", "刘洋", "李娜"])
    body = expect(api.post(f"/api/elections/{ready.election.id}/rounds"), 409)
    assert body["code"] == "not_competitive"
    add_candidate(api, ready.election.id, "张伟")
    official = ready.officials["teller"][0]
    expect(api.delete(f"/api/congresses/{ready.congress.id}/officials/{official.id}"), 204)
    body = expect(api.post(f"/api/elections/{ready.election.id}/rounds"), 409)
    assert body["code"] == "staffing_incomplete"
    assert expect(api.post("/api/elections/999/rounds"), 404)["code"] == "election_not_found"


def test_scan_verdicts(api: Api, settings: Settings) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    teller = login_official(api, ready.congress.id, ready.officials["teller"][0].id)
    key = load_or_create_qr_key(settings.data_dir)

    def code(election_id: int, number: int, digest: str, k: bytes = key) -> str:
        return encode_payload(
            key=k, election_id=election_id, round_number=number, definition_hash=digest
        )

    path = f"/api/rounds/{round_.id}/scan"
    ok = expect(
        teller.post(path, json={"payload": code(ready.election.id, 1, round_.definition_hash)}), 200
    )
    assert ok == {
        "verdict": "this_round",
        "round_id": round_.id,
        "round_number": 1,
        "message_zh": "本轮选票",
        "message_en": "a paper of this round",
    }
    other_round = expect(
        teller.post(path, json={"payload": code(ready.election.id, 2, round_.definition_hash)}), 422
    )
    assert other_round["code"] == "qr_other_round"
    assert "第 2 轮" in other_round["message_zh"]
    assert "round 2" in other_round["message_en"]
    other_election = code(ready.election.id + 1, 1, round_.definition_hash)
    assert expect(teller.post(path, json={"payload": other_election}), 422)["code"] == (
        "qr_other_election"
    )
    other_definition = code(ready.election.id, 1, "ab" * 32)
    assert expect(teller.post(path, json={"payload": other_definition}), 422)["code"] == (
        "qr_other_definition"
    )
    forged = code(ready.election.id, 1, round_.definition_hash, bytes(32))
    body = expect(teller.post(path, json={"payload": forged}), 422)
    assert (body["code"], body["field"]) == ("qr_forged", "body.payload")
    assert expect(teller.post(path, json={"payload": "hello"}), 422)["code"] == "qr_forged"
    assert expect(teller.post("/api/rounds/999/scan", json={"payload": "x"}), 404)["code"] == (
        "round_not_found"
    )


def _rasterize(pdf: Path) -> Image.Image:
    prefix = pdf.with_suffix("")
    command = ["pdftoppm", "-r", "100", "-png", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*command, str(pdf), str(prefix)], check=True)
    with Image.open(prefix.with_suffix(".png")) as image:
        return image.convert("RGB")


def _pdftotext(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_printed_papers_end_to_end(api: Api, tmp_path: Path) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    path = f"/api/rounds/{round_.id}/papers.pdf"
    response = api.get(path, params={"paper_size": "A5", "per_page": 1})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "papers.pdf"
    pdf.write_bytes(response.content)
    pages = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    assert re.search(r"^Pages:\s+8$", pages.stdout, re.M), (
        pages.stdout
    )  # copies default to the frozen present (8)
    text = _pdftotext(pdf)
    positions = [text.index(name) for name in SEED_BALLOT_ORDER]
    assert positions == sorted(positions)  # stroke order (B1)
    assert "另选他人" in text
    scanned = [r.text for r in zxingcpp.read_barcodes(_rasterize(pdf))]
    assert len(scanned) == 1
    teller = login_official(api, ready.congress.id, ready.officials["teller"][0].id)
    verified = teller.post(f"/api/rounds/{round_.id}/scan", json={"payload": scanned[0]})
    assert expect(verified, 200)["verdict"] == "this_round"

    two = api.get(f"/api/rounds/{round_.id}/papers.pdf", params={"per_page": 2, "copies": 3})
    assert two.status_code == 200
    assert two.content.startswith(b"%PDF")
    too_small = api.get(path, params={"paper_size": "A5", "per_page": 2})
    assert expect(too_small, 409)["code"] == "paper_layout"
    bad = api.get(path, params={"paper_size": "A3"})
    assert expect(bad, 422)["field"] == "query.paper_size"
    assert expect(api.get(f"/api/rounds/{round_.id}/papers.pdf?copies=0"), 422)["code"] == (
        "invalid_request"
    )


def test_issuance_i1(api: Api) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    path = f"/api/rounds/{round_.id}/issuance"
    over_present = expect(api.post(path, json={"printed": 10, "issued": 9}), 422)
    assert (over_present["code"], over_present["field"]) == (
        "issued_exceeds_present",
        "body.issued",
    )
    assert "I1" in over_present["message_en"]
    over_printed = expect(api.post(path, json={"printed": 7, "issued": 8}), 422)
    assert over_printed["code"] == "issued_exceeds_printed"
    assert expect(api.get(f"/api/rounds/{round_.id}"), 200)["status"] == "open"

    recorded = expect(api.post(path, json={"printed": 10, "issued": 8}), 200)
    assert (recorded["printed"], recorded["issued"], recorded["destroyed"]) == (10, 8, 2)
    assert recorded["status"] == "issued"
    assert expect(api.post(path, json={"printed": 10, "issued": 8}), 409)["code"] == "round_state"
    events = _events(api, ready.congress.id, "round.papers_issued")
    assert events == [
        {"round_id": round_.id, "printed": 10, "issued": 8, "destroyed": 2, "present": 8}
    ]


def test_issuance_checks_and_freezes_attendance(api: Api, tmp_path: Path) -> None:
    """Q1 and Q3 at issuance: the count that matters is the one when papers are issued."""
    ready = make_ready_election(api)  # 10 delegates, 8 present, quorum 4/5: 8
    round_ = open_round(api, ready.election.id)
    hash_at_opening = round_.definition_hash
    congress = ready.congress.id
    leaving = ready.delegates[0]
    expect(api.post(f"/api/congresses/{congress}/delegates/{leaving.id}/check-out"), 200)
    path = f"/api/rounds/{round_.id}/issuance"
    refused = expect(api.post(path, json={"printed": 10, "issued": 7}), 409)
    assert refused["code"] == "quorum_not_met"
    assert "7 present, 8 required of 10" in refused["message_en"]
    after = expect(api.get(f"/api/rounds/{round_.id}"), 200)
    assert (after["status"], after["issued"], after["present"]) == ("open", None, 8)
    assert _events(api, congress, "round.papers_issued") == []

    check_in(api, congress, [leaving, *ready.delegates[8:9]])  # 9 present now
    pdf = tmp_path / "papers.pdf"
    one_a_page = {"paper_size": "A5", "per_page": 1}
    pdf.write_bytes(api.get(f"/api/rounds/{round_.id}/papers.pdf", params=one_a_page).content)
    pages = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    assert re.search(r"^Pages:\s+9$", pages.stdout, re.M), pages.stdout  # checked in now
    issued = expect(api.post(path, json={"printed": 10, "issued": 9}), 200)  # I1 against 9
    assert (issued["present"], issued["issued"], issued["status"]) == (9, 9, "issued")
    assert issued["definition_hash"] == hash_at_opening  # the printed papers stay valid
    assert _events(api, congress, "round.papers_issued") == [
        {"round_id": round_.id, "printed": 10, "issued": 9, "destroyed": 1, "present": 9}
    ]


def test_collection_within_counts(api: Api) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    before = expect(api.post(f"/api/rounds/{round_.id}/collection", json={"collected": 8}), 409)
    assert before["code"] == "round_state"
    result = issue_and_collect(api, round_.id, printed=10, issued=8, collected=8)
    assert (result.void, result.rerun, result.round.status) == (False, None, "collected")
    assert result.round.collected == 8
    assert result.round.void_reason is None


def test_overcount_voids_and_opens_the_rerun(api: Api) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    expect(api.post(f"/api/rounds/{round_.id}/issuance", json={"printed": 10, "issued": 8}), 200)
    check_in(api, ready.congress.id, ready.delegates[8:9])  # after issuance: 9 now, 8 frozen
    response = api.post(f"/api/rounds/{round_.id}/collection", json={"collected": 9})
    result = CollectionRead.model_validate(expect(response, 200))
    assert result.void
    assert result.round.status == "void"
    assert result.rerun is not None
    assert result.rerun_refused is None
    rerun = result.rerun
    assert (rerun.number, rerun.kind, rerun.present, rerun.status) == (2, "rerun", 9, "open")
    assert (rerun.seats, rerun.candidates) == (3, SEED_BALLOT_ORDER)
    assert rerun.follows_round_id == round_.id
    assert rerun.void_reason is None
    # Why, in the rules engine's words (the decided round's I2 trace line), also when read later.
    reason = result.round.void_reason
    assert reason is not None
    assert (reason.rule, reason.message_zh) == (
        "I2",
        "收回选票 9 张，多于实到人数 8：选举无效，应重新选举",
    )
    listed = expect(api.get(f"/api/elections/{ready.election.id}/rounds"), 200)["rounds"]
    assert listed[0]["void_reason"] == reason.model_dump()
    voids = _events(api, ready.congress.id, "round.void")
    assert voids == [
        {
            "round_id": round_.id,
            "rule": "I2",
            "collected": 9,
            "present": 8,
            "issued": 8,
            "overcount_base": "present",
        }
    ]
    assert len(_events(api, ready.congress.id, "round.opened")) == 2


def test_overcount_without_quorum_does_not_open_the_rerun(api: Api) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    expect(api.post(f"/api/rounds/{round_.id}/issuance", json={"printed": 8, "issued": 8}), 200)
    for delegate in ready.delegates[:2]:  # after issuance, 6 of 10 present now: below 8
        path = f"/api/congresses/{ready.congress.id}/delegates/{delegate.id}/check-out"
        expect(api.post(path), 200)
    response = api.post(f"/api/rounds/{round_.id}/collection", json={"collected": 9})
    result = CollectionRead.model_validate(expect(response, 200))
    assert result.void
    assert result.rerun is None
    assert result.rerun_refused is not None
    assert result.rerun_refused.code == "quorum_not_met"
    assert len(_events(api, ready.congress.id, "round.rerun_not_opened")) == 1
    # Once the delegates are back, the secretariat opens the rerun.
    check_in(api, ready.congress.id, ready.delegates[:2])
    rerun = open_round(api, ready.election.id)
    assert (rerun.number, rerun.kind, rerun.follows_round_id) == (2, "rerun", round_.id)


def test_issued_base_profile(api: Api) -> None:
    ready = make_ready_election(api, profile={"overcount_base": "issued"})
    round_ = open_round(api, ready.election.id)
    result = issue_and_collect(api, round_.id, printed=8, issued=7, collected=8)
    assert result.void  # 8 > issued 7, though not more than present 8
    assert result.round.void_reason is not None
    assert result.round.void_reason.message_zh == (
        "收回选票 8 张，多于发出选票数 7：选举无效，应重新选举"
    )


def test_officials_of_another_congress_are_refused(api: Api) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    other = make_ready_election(api)
    teller = login_official(api, other.congress.id, other.officials["teller"][0].id)
    body = expect(teller.get(f"/api/rounds/{round_.id}"), 403)
    assert body["code"] == "other_congress"
