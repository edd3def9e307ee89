"""Rounds chained through a whole election over HTTP, on both databases: no round gets stuck
(paper records are totally ordered), attendance frozen at issuance (Q1, Q3), reruns (I2, M7),
follow-up lists (M6-M10, O1). The offline tally and the audit replay agree with the service."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.audit.record import check_record
from app.cli import main
from app.ledger.replay import replay_rounds
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.settings import Settings
from tests.builders import (
    LI,
    LIU,
    SEED_BALLOT_ORDER,
    WANG,
    ZHANG,
    Api,
    Hall,
    ReadyElection,
    expect,
    export,
    hall,
    login_as,
    login_official,
    make_ready_election,
    open_round,
)


def opened(api: Api, settings: Settings, ready: ReadyElection) -> Hall:
    """The election's first round opened (not issued), with its officials logged in."""
    round_ = open_round(api, ready.election.id)
    return at_round(api, settings, ready, round_.id, presidium=login_as(api, ready.congress.id,
                                                                      "presidium"))  # fmt: skip


def at_round(api: Api, settings: Settings, ready: ReadyElection, round_id: int,
             presidium: Api) -> Hall:  # fmt: skip
    round_ = expect(api.get(f"/api/rounds/{round_id}"), 200)
    congress = ready.congress.id
    teller_ids = [o.id for o in ready.officials["teller"][:2]]
    return Hall(
        api=api,
        ready=ready,
        round_id=round_id,
        payload=encode_payload(
            key=load_or_create_qr_key(settings.data_dir),
            election_id=ready.election.id,
            round_number=round_["number"],
            definition_hash=round_["definition_hash"],
        ),
        tellers=[login_official(api, congress, i) for i in teller_ids],
        teller_ids=teller_ids,
        chief=login_official(api, congress, ready.officials["chief_scrutineer"][0].id),
        scrutineer=login_official(api, congress, ready.officials["scrutineer"][0].id),
        presidium=presidium,
    )


def issue(h: Hall, issued: int, collected: int) -> dict[str, Any]:
    path = f"/api/rounds/{h.round_id}"
    expect(h.api.post(f"{path}/issuance", json={"printed": issued, "issued": issued}), 200)
    collection: dict[str, Any] = expect(
        h.api.post(f"{path}/collection", json={"collected": collected}), 200
    )
    return collection


def certify(h: Hall) -> None:
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    assert expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)["certified"]


def paper(
    marks: list[str], write_ins: list[str | None] | None = None, void: str | None = None
) -> dict[str, Any]:
    return {"marks": marks, "write_ins": write_ins or [], "void": void}


def enter_papers(
    h: Hall, papers: list[dict[str, Any]], *, round_id: int | None = None,
    payload: str | None = None, candidates: list[str] | None = None,
    refused: dict[str, Any] | None = None,
) -> int:  # fmt: skip
    """One batch, both passes entering the same papers (pass B in reverse order). ``refused``:
    a paper body the batch refuses with 422 ``tie_round_has_no_write_ins`` first."""
    round_id = h.round_id if round_id is None else round_id
    names = SEED_BALLOT_ORDER if candidates is None else candidates
    body = {"declared_count": len(papers), "teller_a_id": h.teller_ids[0],
            "teller_b_id": h.teller_ids[1]}  # fmt: skip
    batch = expect(h.api.post(f"/api/rounds/{round_id}/batches", json=body), 201)
    if refused is not None:
        entry = refused | {"idempotency_key": "refused", "qr_payload": h.payload}
        answer = expect(h.tellers[0].post(f"/api/batches/{batch['id']}/papers", json=entry), 422)
        assert answer["code"] == "tie_round_has_no_write_ins"
    for tag, teller in zip("ab", h.tellers, strict=True):
        order = list(enumerate(papers))
        for n, p in order if tag == "a" else reversed(order):
            entry = {
                "idempotency_key": f"{round_id}-{batch['id']}-{tag}-{n}",
                "qr_payload": h.payload if payload is None else payload,
                "marks": dict(zip(names, p["marks"], strict=True)),
                "write_ins": p["write_ins"],
                "void": p["void"],
            }
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=entry), 201)
    batch_id: int = batch["id"]
    return batch_id


def cli_tally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: dict[str, Any]
) -> dict[str, Any]:
    path = tmp_path / "round.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    assert main(["tally", str(path)]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def replayed(app: FastAPI, settings: Settings, h: Hall, tmp_path: Path) -> Any:
    record = export(app, settings, h.ready.election.id, tmp_path / "record")
    replay = replay_rounds(check_record(record).events)
    assert replay.problem is None, replay.problem
    return replay


# ---------------------------------------------------------------- 1. no round gets stuck

FILLER = paper(["yes", "yes", "yes", "no", "no"])
# Records that did not compare: an all-blank paper and a void one (void None against "P4"); the
# same marks with an illegible write-in (None) and a name.
UNORDERED = [
    FILLER,
    paper(["blank"] * 5),
    FILLER,
    paper(["blank"] * 5, void="P4"),
    paper(["yes", "no", "yes", "no", "no"], [None]),
    FILLER,
    paper(["yes", "no", "yes", "no", "no"], ["赵六"]),
    FILLER,
]


def test_a_round_with_blank_void_and_illegible_write_in_papers_is_decided(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    h = hall(api, settings, seats=3)  # 10 delegates, 8 present, 8 issued and collected
    enter_papers(h, UNORDERED)
    decided = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    result = decided["result"]
    assert result["papers"]["invalid_by_rule"] == {"P4": 1}
    assert result["elected"] == [WANG, LI]  # 6 yes each of 8 present (threshold 5)

    offline = cli_tally(tmp_path, capsys, {
        "seats": 3, "candidates": SEED_BALLOT_ORDER, "delegates_total": 10, "present": 8,
        "issued": 8, "collected": 8,
        "papers": [
            {"marks": dict(zip(SEED_BALLOT_ORDER, p["marks"], strict=True)),
             "write_ins": p["write_ins"], "void": p["void"]}
            for p in reversed(UNORDERED)
        ],
    })  # fmt: skip
    assert offline["papers"].pop("invalid_papers") == [{"index": 4, "rules": ["P4"]}]
    for key in ("papers", "majority", "tallies", "elected", "next_round", "trace"):
        assert offline[key] == result[key], key

    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    replay = replayed(app, settings, h, tmp_path)
    assert [(r.round_number, r.elected) for r in replay.certified] == [(1, [WANG, LI])]


def test_a_round_with_no_paper_collected_is_decided(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    """A way out of ``collected`` (docs/rounds.md): nothing to enter, so no batch is needed."""
    h = opened(api, settings, make_ready_election(api))
    issue(h, issued=8, collected=0)
    status = expect(api.get(f"/api/rounds/{h.round_id}/count-status"), 200)
    assert status["ready"]
    result = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["result"]
    assert result["elected"] == []
    assert result["next_round"] == {
        "kind": "supplementary", "seats": 3, "candidates": SEED_BALLOT_ORDER,
    }  # fmt: skip
    certify(h)
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)  # C3 first
    follow_up = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 201)
    assert (follow_up["number"], follow_up["kind"]) == (2, "supplementary")
    replay = replayed(app, settings, h, tmp_path)
    assert [(r.round_number, r.elected) for r in replay.certified] == [(1, [])]


# ---------------------------------------------------------------- 2. attendance frozen at issuance


def test_the_decision_uses_the_present_count_at_issuance(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    ready = make_ready_election(api, present=10)  # 10 of 10 checked in when the round opens
    h = opened(api, settings, ready)
    assert expect(api.get(f"/api/rounds/{h.round_id}"), 200)["present"] == 10
    leaving = ready.delegates[0]  # one leaves before the papers are issued: 9, quorum 8 still met
    expect(api.post(f"/api/congresses/{ready.congress.id}/delegates/{leaving.id}/check-out"), 200)
    issue(h, issued=9, collected=9)
    # 王宁 9, 刘洋 5, 李娜 4: of 9 present the threshold is 5 (of a stale 10 it would be 6).
    enter_papers(h, [paper(["yes", "yes", "no", "no", "no"])] * 5
                 + [paper(["yes", "no", "yes", "no", "no"])] * 4)  # fmt: skip
    result = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["result"]
    assert result["majority"] == {"base": 9, "base_kind": "present", "threshold": 5}
    assert result["elected"] == [WANG, LIU]
    certify(h)
    replay = replayed(app, settings, h, tmp_path)
    assert [(r.round_number, r.elected) for r in replay.certified] == [(1, [WANG, LIU])]
    assert replay.certified[0].result["majority"]["base"] == 9


# ---------------------------------------------------------------- 3. a void round's rerun


# Two seats: 王宁 6, 刘洋 5, 李娜 5 — 刘洋 and 李娜 tie for the last seat (M5).
TIED = (
    [paper(["yes", "yes", "no", "no", "no"])] * 3
    + [paper(["yes", "no", "yes", "no", "no"])] * 3
    + [paper(["no", "yes", "yes", "no", "no"])] * 2
)


def void_and_rerun(h: Hall, settings: Settings, follow_up: dict[str, Any]) -> Hall:
    """The follow-up round's papers: 9 collected of 8 issued voids it (I2); its rerun opens."""
    collection = issue(h, issued=8, collected=9)
    assert (collection["void"], collection["round"]["status"]) == (True, "void")
    rerun = collection["rerun"]
    assert (rerun["kind"], rerun["follows_round_id"]) == ("rerun", h.round_id)
    assert (rerun["seats"], rerun["candidates"]) == (follow_up["seats"], follow_up["candidates"])
    assert rerun["definition"]["kind"] == follow_up["kind"]  # counted as the round it reruns
    return at_round(h.api, settings, h.ready, rerun["id"], h.presidium)


def pdf_text(api: Api, round_id: int) -> str:
    pdf = api.get(f"/api/rounds/{round_id}/papers.pdf", params={"copies": 1})
    assert pdf.status_code == 200, pdf.text
    return subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True,
                          check=True, timeout=60).stdout.decode("utf-8")  # fmt: skip


def test_a_void_tie_round_is_rerun_as_a_tie_round(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    first = hall(api, settings, seats=2)
    enter_papers(first, TIED)
    decided = expect(first.chief.post(f"/api/rounds/{first.round_id}/decide"), 200)["result"]
    assert decided["next_round"] == {"kind": "tie", "seats": 1, "candidates": [LIU, LI]}
    certify(first)
    expect(first.presidium.post(f"/api/rounds/{first.round_id}/release"), 200)  # C3 first
    tie = expect(first.presidium.post(f"/api/rounds/{first.round_id}/follow-up", json={}), 201)
    h = void_and_rerun(at_round(api, settings, first.ready, tie["id"], first.presidium),
                       settings, tie)  # fmt: skip

    text = pdf_text(api, h.round_id)
    assert LIU in text
    assert LI in text
    assert "不设“另选他人”栏" in text  # M7: a tie-round paper, no write-in boxes
    issue(h, issued=8, collected=8)
    # 刘洋 4, 李娜 3 of 8 present: no majority (5); the most yes votes win (M7, plurality).
    papers = [paper(["yes", "no"])] * 4 + [paper(["no", "yes"])] * 3 + [paper(["blank"] * 2)]
    written = {"marks": {LIU: "no"}, "write_ins": ["赵六"], "void": None}
    enter_papers(h, papers, candidates=[LIU, LI], refused=written)
    result = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["result"]
    assert result["round"]["kind"] == "tie"
    assert result["elected"] == [LIU]
    assert "M7" in [entry["rule"] for entry in result["trace"]]
    certify(h)
    outcome = expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert [(e["name"], e["round"]) for e in outcome["elected"]] == [(WANG, 1), (LIU, 3)]
    assert outcome["complete"]
    replay = replayed(app, settings, h, tmp_path)
    assert [(r.round_number, r.elected) for r in replay.certified] == [(1, [WANG]), (3, [LIU])]


# Three seats: 王宁 8, 刘洋 5, 李娜 4, 张伟 3, 欧阳晓东 2 — one seat short (M6).
SHORT = (
    [paper(["yes", "yes", "yes", "no", "no"])] * 3
    + [paper(["yes", "yes", "no", "yes", "no"])] * 2
    + [paper(["yes", "no", "yes", "yes", "no"])]
    + [paper(["yes", "no", "no", "no", "yes"])] * 2
)


def test_a_void_supplementary_round_is_rerun_as_a_supplementary_round(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    first = hall(api, settings, seats=3)
    enter_papers(first, SHORT)
    decided = expect(first.chief.post(f"/api/rounds/{first.round_id}/decide"), 200)["result"]
    assert decided["next_round"] == {"kind": "supplementary", "seats": 1, "candidates": [LI, ZHANG]}
    certify(first)
    expect(first.presidium.post(f"/api/rounds/{first.round_id}/release"), 200)  # C3 first
    supplementary = expect(
        first.presidium.post(f"/api/rounds/{first.round_id}/follow-up", json={}), 201
    )
    h = void_and_rerun(at_round(api, settings, first.ready, supplementary["id"], first.presidium),
                       settings, supplementary)  # fmt: skip
    text = pdf_text(api, h.round_id)
    assert "另选他人" in text
    assert "不设“另选他人”栏" not in text
    issue(h, issued=8, collected=8)
    # 李娜 4, 张伟 3 of 8: nobody has a majority (5) — a new shortfall (M8): the presidium decides.
    enter_papers(h, [paper(["yes", "no"])] * 4 + [paper(["no", "yes"])] * 3
                 + [paper(["no", "no"], ["赵六"])], candidates=[LI, ZHANG])  # fmt: skip
    result = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["result"]
    assert result["round"]["kind"] == "supplementary"
    assert result["elected"] == []
    rules = [entry["rule"] for entry in result["trace"]]
    assert "M8" in rules
    assert "M10" in rules
    assert result["next_round"]["kind"] == "supplementary"
    certify(h)
    order = {"reason": "大会主席团决定减少名额，不再选举"}
    reduced = expect(h.presidium.post(
        f"/api/elections/{h.ready.election.id}/reduce-seats", json=order), 200)  # fmt: skip
    assert (reduced["seats"], reduced["complete"]) == (2, True)
    replay = replayed(app, settings, h, tmp_path)
    assert [(r.round_number, r.elected) for r in replay.certified] == [
        (1, [WANG, LIU]), (3, []),
    ]  # fmt: skip


# ---------------------------------------------------------------- 4. follow-up lists


def short_round_certified(api: Api, settings: Settings) -> Hall:
    """Round 1 elects 王宁 and 刘洋 of 3 seats; the engine proposes 李娜, 张伟 for the last."""
    h = hall(api, settings, seats=3)
    enter_papers(h, SHORT)
    decided = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["result"]
    assert decided["next_round"] == {"kind": "supplementary", "seats": 1, "candidates": [LI, ZHANG]}
    certify(h)
    return h


def test_a_supplementary_list_is_checked(api: Api, settings: Settings) -> None:
    h = short_round_certified(api, settings)
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)  # C3 first
    path = f"/api/rounds/{h.round_id}/follow-up"

    def refused(candidates: list[str]) -> dict[str, Any]:
        answer: dict[str, Any] = expect(
            h.presidium.post(path, json={"candidates": candidates}), 422
        )
        return answer

    elected = refused([LI, "王 宁"])
    assert (elected["code"], elected["field"]) == ("candidate_already_elected", "candidates.1")
    assert "第 1 轮" in elected["message_zh"]
    official = h.ready.officials["teller"][0].name
    assert refused([LI, official])["code"] == "candidate_is_official"  # O1
    alone = refused([LI])  # 1 seat: 差额 needs 2 (plus_one)
    assert alone["code"] == "follow_up_not_competitive"
    assert "至少 2 名" in alone["message_zh"]
    assert (
        expect(api.get(f"/api/elections/{h.ready.election.id}/rounds"), 200)["rounds"][-1]["number"]
        == 1
    )  # nothing opened
    opened = expect(h.presidium.post(path, json={"candidates": ["张　伟", " 李 娜 "]}), 201)
    assert opened["candidates"] == [LI, ZHANG]  # normalized like roster names, in stroke order


def test_no_follow_up_after_the_seats_were_reduced(api: Api, settings: Settings) -> None:
    h = short_round_certified(api, settings)
    order = {"reason": "大会主席团决定减少名额，不再选举"}
    expect(h.presidium.post(f"/api/elections/{h.ready.election.id}/reduce-seats", json=order), 200)
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)  # C3 first
    refused = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 409)
    assert refused["code"] == "seats_reduced"
    assert "M10" in refused["message_zh"]


def test_the_election_result_lists_a_person_once(api: Api, settings: Settings) -> None:
    first = short_round_certified(api, settings)
    expect(first.presidium.post(f"/api/rounds/{first.round_id}/release"), 200)  # C3 first
    opened = expect(first.presidium.post(f"/api/rounds/{first.round_id}/follow-up", json={}), 201)
    h = at_round(api, settings, first.ready, opened["id"], first.presidium)
    issue(h, issued=8, collected=8)
    # Five delegates write in 王宁, elected in round 1: 5 of 8 is a majority in round 2.
    enter_papers(h, [paper(["no", "no"], ["王宁"])] * 5 + [paper(["yes", "no"])] * 3,
                 candidates=[LI, ZHANG])  # fmt: skip
    result = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)["result"]
    assert result["elected"] == [WANG]
    certify(h)
    outcome = expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert [(e["name"], e["round"]) for e in outcome["elected"]] == [(WANG, 1), (LIU, 1)]
    assert outcome["disregarded"] == [{"name": WANG, "round": 2, "reason": "already_elected"}]
    assert (outcome["seats_filled"], outcome["seats_open"], outcome["complete"]) == (2, 1, False)


def test_an_uncontested_list_where_the_profile_allows_it(api: Api, settings: Settings) -> None:
    ready = make_ready_election(api, profile={"allow_uncontested": True, "slate_size": "ratio_20"})
    h = opened(api, settings, ready)
    issue(h, issued=8, collected=8)
    enter_papers(h, SHORT)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    certify(h)
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)  # C3 first
    opened_round = expect(
        h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={"candidates": [ZHANG]}), 201
    )
    assert (opened_round["kind"], opened_round["candidates"]) == ("supplementary", [ZHANG])
