"""The presidium's decisions that the procedure foresees (六.8, P7, C2, M10), over HTTP on both
databases, round after round: cancel a follow-up round before issuance, rule a written-in person
ineligible, void a round for an irregularity, and a correction that recounts. Each is a recorded
event with a reason and an author, refused when it does not apply, and the exported record
replays to the same decisions (``jipiao audit verify``) and agrees with the tables."""

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.audit.consistency import check_congress
from app.audit.record import check_record
from app.cli import main
from app.ledger.replay import replay_rounds
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.settings import Settings
from tests.builders import (
    FILLED,
    LI,
    LIU,
    OUYANG,
    SEED_BALLOT_ORDER,
    SHORT,
    WANG,
    WRITTEN_IN,
    ZHANG,
    ZHAO,
    Api,
    Hall,
    certify,
    enter,
    expect,
    export,
    hall,
    issue_and_collect,
    make_official,
    new_batch,
    tie_round_opened,
)


def payload_for(h: Hall, settings: Settings, round_: dict[str, Any]) -> str:
    return encode_payload(
        key=load_or_create_qr_key(settings.data_dir),
        election_id=h.ready.election.id,
        round_number=round_["number"],
        definition_hash=round_["definition_hash"],
    )


def batch_progress(api: Api, round_id: int, batch_id: int) -> dict[str, Any]:
    listed = expect(api.get(f"/api/rounds/{round_id}/batches"), 200)["batches"]
    progress: dict[str, Any] = next(b for b in listed if b["id"] == batch_id)["progress"]
    return progress


def events_of(api: Api, congress_id: int, kind: str) -> list[dict[str, Any]]:
    events = expect(api.get(f"/api/congresses/{congress_id}/events"), 200)
    return [e for e in events if e["type"] == kind]


def audited(app: FastAPI, settings: Settings, h: Hall, directory: Path) -> Any:
    """The exported record verifies (chain, signature, recount: fast and reference paths) and
    the tables agree with the log; returns the reference replay."""
    record = export(app, settings, h.ready.election.id, directory)
    assert main(["audit", "verify", str(record)]) == 0
    replay = replay_rounds(check_record(record).events)
    assert replay.problem is None, replay.problem
    with app.state.sessionmaker.begin() as session:
        consistency = check_congress(session, congress_id=h.ready.congress.id)
    assert consistency.ok, (consistency.chain_problems, consistency.mismatches)
    return replay


def pdf_text(api: Api, round_id: int) -> str:
    response = api.get(f"/api/rounds/{round_id}/report.pdf")
    assert response.status_code == 200, response.text
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True,
        check=True, timeout=60,
    ).stdout.decode("utf-8")  # fmt: skip


# ---------------------------------------------------------------- d. a correction that recounts


def test_correction_reenters_a_batch_and_the_round_is_decided_and_certified_anew(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = hall(api, settings, seats=3)
    plain = [(marks, []) for marks in FILLED]
    first_batch = new_batch(h, h.round_id, 5)
    enter(h, first_batch, plain[:5], payload=h.payload, candidates=SEED_BALLOT_ORDER, tag="1")
    second_batch = new_batch(h, h.round_id, 3)
    enter(h, second_batch, plain[5:], payload=h.payload, candidates=SEED_BALLOT_ORDER, tag="2")
    path = f"/api/rounds/{h.round_id}/correction"
    order = {"reason": "复核原票：第 2 批第 1 张李娜为赞成", "batches": [second_batch]}
    early = expect(h.presidium.post(path, json=order), 409)
    assert early["code"] == "round_not_decided"
    first = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    assert [(t["name"], t["yes"]) for t in first["result"]["tallies"]][:3] == [
        (WANG, 8), (LIU, 7), (LI, 5),
    ]  # fmt: skip
    certify(h, h.round_id)

    # Refusals change nothing.
    expect(h.chief.post(path, json=order), 403)
    for body, code in (
        ({"reason": " ", "batches": [second_batch]}, "reason_required"),
        ({"reason": "复核", "batches": []}, "batches_required"),
        ({"reason": "复核", "batches": [second_batch, second_batch]}, "batches_repeated"),
        ({"reason": "复核", "batches": [second_batch + 1000]}, "batch_not_in_round"),
    ):
        assert expect(h.presidium.post(path, json=body), 422)["code"] == code
    assert expect(api.get(f"/api/rounds/{h.round_id}/decision"), 200)["certified"]

    reopened = expect(h.presidium.post(path, json=order), 200)
    assert reopened["status"] == "counting"
    [ordered] = events_of(api, h.ready.congress.id, "round.correction_ordered")
    assert ordered["payload"]["reason"] == order["reason"]
    assert ordered["payload"]["batches"] == [second_batch]
    assert ordered["payload"]["author_role"] == "presidium"
    assert isinstance(ordered["payload"]["author_official_id"], int)
    again = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 409)
    assert again["code"] == "count_incomplete"  # the batch must be entered again first
    assert expect(h.presidium.post(path, json=order), 409)["code"] == "round_not_decided"

    # Both passes enter the batch again; this time the first paper has 李娜 yes.
    corrected = [(["yes", "yes", "yes", "no", "no"], []), *plain[6:]]
    enter(h, second_batch, corrected, payload=h.payload, candidates=SEED_BALLOT_ORDER, tag="2c")
    assert batch_progress(api, h.round_id, second_batch)["status"] == "reconciled"
    second = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    assert second["decision_hash"] != first["decision_hash"]
    assert [(t["name"], t["yes"]) for t in second["result"]["tallies"]][:3] == [
        (WANG, 8), (LIU, 7), (LI, 6),
    ]  # fmt: skip
    assert second["signatures"] == []
    assert not second["certified"]
    final = certify(h, h.round_id)
    assert [e["type"] for e in final["history"]] == [
        "round.decided", "round.correction_ordered", "round.decided",
    ]  # fmt: skip
    assert [e.get("certified") for e in final["history"]] == [True, None, True]
    assert final["history"][1]["reason"] == order["reason"]
    assert final["history"][1]["batches"] == [2]  # the batch's number

    text = pdf_text(h.presidium, h.round_id)
    flat = text.replace(" ", "").replace("\n", "")
    assert "本轮经过" in flat
    assert "第1次决定（已认证，已被取代）" in flat
    assert "大会主席团下令更正，重新录入第2批" in flat
    assert "复核原票：第2批第1张李娜为赞成" in flat
    assert re.search(rf"{LI}\s+6 陆\s+0 零", text)  # 李娜: 6 yes now, in capital numerals
    assert "赞成票王宁8、刘洋7、李娜5、" in flat  # the superseded decision's numbers

    replay = audited(app, settings, h, tmp_path / "record")
    assert replay.decisions_checked == 2
    assert [(r.round_number, r.elected) for r in replay.certified] == [(1, [WANG, LIU, LI])]
    assert replay.certified[0].result["tallies"][2]["yes"] == 6
    assert "recount agrees: 2 decision(s) recomputed" in capsys.readouterr().out


def test_correction_of_the_whole_round_reopens_every_batch(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    batch = new_batch(h, h.round_id, 8)
    papers = [(marks, []) for marks in FILLED]
    enter(h, batch, papers, payload=h.payload, candidates=SEED_BALLOT_ORDER, tag="1")
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)  # decided, not yet certified
    order = {"reason": "重新清点全部选票"}
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/correction", json=order), 200)
    reopened = batch_progress(api, h.round_id, batch)
    assert (reopened["generation"], reopened["status"]) == (2, "entering")
    enter(h, batch, papers, payload=h.payload, candidates=SEED_BALLOT_ORDER, tag="1c")
    decided = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    assert decided["result"]["elected"] == [WANG, LIU, LI]
    assert [e.get("certified") for e in decided["history"]] == [False, None, False]


# ---------------------------------------------------------------- a. cancel a follow-up round


def test_cancel_a_supplementary_round_and_open_it_again_with_another_list(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    h = hall(api, settings, seats=3)
    batch = new_batch(h, h.round_id, 8)
    enter(h, batch, [(m, []) for m in SHORT], payload=h.payload, candidates=SEED_BALLOT_ORDER,
          tag="1")  # fmt: skip
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    certify(h, h.round_id)
    listed = {"candidates": [LI, ZHANG, OUYANG]}
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)  # C3 first
    second = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json=listed), 201)
    cancel = {"reason": "名单有误，大会主席团重新确定另行选举候选人"}

    expect(h.chief.post(f"/api/rounds/{second['id']}/cancel", json=cancel), 403)
    blank = expect(h.presidium.post(f"/api/rounds/{second['id']}/cancel", json={"reason": " "}),
                   422)  # fmt: skip
    assert blank["code"] == "reason_required"
    first = expect(h.presidium.post(f"/api/rounds/{h.round_id}/cancel", json=cancel), 409)
    assert first["code"] == "not_a_follow_up"

    cancelled = expect(h.presidium.post(f"/api/rounds/{second['id']}/cancel", json=cancel), 200)
    assert cancelled["status"] == "cancelled"
    [event] = events_of(api, h.ready.congress.id, "round.follow_up_cancelled")
    assert event["payload"]["reason"] == cancel["reason"]
    assert event["payload"]["author_role"] == "presidium"
    twice = expect(h.presidium.post(f"/api/rounds/{second['id']}/cancel", json=cancel), 409)
    assert twice["code"] == "round_cancelled"
    issuance = {"printed": 10, "issued": 8}
    expect(api.post(f"/api/rounds/{second['id']}/issuance", json=issuance), 409)

    # Opened again with another list: the next round number, the cancelled one stays recorded.
    third = expect(
        h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={"candidates": [LI, ZHANG]}),
        201,
    )
    assert (third["number"], third["kind"], third["candidates"]) == (3, "supplementary",
                                                                     [LI, ZHANG])  # fmt: skip
    outcome = expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert [(r["number"], r["status"]) for r in outcome["rounds"]] == [
        (1, "certified"), (2, "cancelled"), (3, "open"),
    ]  # fmt: skip

    # Once its papers are issued, a round is not cancelled (it may be declared void).
    issue_and_collect(api, third["id"], printed=10, issued=8, collected=8)
    late = expect(h.presidium.post(f"/api/rounds/{third['id']}/cancel", json=cancel), 409)
    assert late["code"] == "papers_already_issued"
    batch = new_batch(h, third["id"], 8)
    papers = [(["yes", "no"], [])] * 6 + [(["no", "yes"], [])] * 2
    enter(h, batch, papers, payload=payload_for(h, settings, third), candidates=[LI, ZHANG],
          tag="3")  # fmt: skip
    decided = expect(h.chief.post(f"/api/rounds/{third['id']}/decide"), 200)
    assert decided["result"]["elected"] == [LI]
    certify(h, third["id"])
    outcome = expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert outcome["complete"]
    assert [(e["name"], e["round"]) for e in outcome["elected"]] == [(WANG, 1), (LIU, 1), (LI, 3)]

    replay = audited(app, settings, h, tmp_path / "record")
    assert [(r.round_number, r.elected) for r in replay.certified] == [
        (1, [WANG, LIU]), (3, [LI]),
    ]  # fmt: skip


def test_cancel_a_tie_round_then_reduce_the_seats(api: Api, settings: Settings) -> None:
    h, tie = tie_round_opened(api, settings)
    reduce = {"reason": "大会主席团决定减少名额，不再选举"}
    path = f"/api/elections/{h.ready.election.id}/reduce-seats"
    assert expect(h.presidium.post(path, json=reduce), 409)["code"] == "rounds_unfinished"
    expect(h.presidium.post(f"/api/rounds/{tie['id']}/cancel", json={"reason": "不再选举"}), 200)
    reduced = expect(h.presidium.post(path, json=reduce), 200)
    assert (reduced["seats"], reduced["complete"]) == (1, True)
    assert [e["name"] for e in reduced["elected"]] == [WANG]


# ---------------------------------------------------------------- b. rule a write-in ineligible


def test_a_written_in_official_is_flagged_and_ruled_ineligible(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    h = hall(api, settings, seats=3)
    make_official(api, h.ready.congress.id, role="teller", name=ZHAO)
    batch = new_batch(h, h.round_id, 8)
    enter(h, batch, WRITTEN_IN, payload=h.payload, candidates=SEED_BALLOT_ORDER, tag="1")
    path = f"/api/rounds/{h.round_id}/ineligible"
    ruling = {"name": ZHAO, "reason": "赵六是本次大会的计票人（O1）"}
    early = expect(h.presidium.post(path, json=ruling), 409)
    assert early["code"] == "round_not_decided"

    first = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    assert first["result"]["elected"] == [WANG, LIU, ZHAO]
    [flag] = first["write_in_flags"]
    assert (flag["name"], flag["official_roles"]) == (ZHAO, ["teller"])
    assert "计票人" in flag["message_zh"]
    certify(h, h.round_id)

    expect(h.chief.post(path, json=ruling), 403)
    blank = expect(h.presidium.post(path, json={"name": ZHAO, "reason": " "}), 422)
    assert blank["code"] == "reason_required"
    printed = expect(h.presidium.post(path, json={"name": LI, "reason": "不符合条件"}), 422)
    assert printed["code"] == "not_written_in"

    ruled = expect(h.presidium.post(path, json={"name": "赵 六", "reason": ruling["reason"]}),
                   200)  # fmt: skip
    assert ruled["status"] == "counting"
    [event] = events_of(api, h.ready.congress.id, "round.ineligible_ruled")
    assert (event["payload"]["name"], event["payload"]["status_was"]) == (ZHAO, "certified")
    assert event["payload"]["author_role"] == "presidium"
    again = expect(h.presidium.post(path, json=ruling), 409)
    assert again["code"] == "round_not_decided"
    outcome = expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert outcome["elected"] == []  # nothing certified until the round is decided anew

    second = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    result = second["result"]
    assert result["elected"] == [WANG, LIU]
    assert result["papers"]["invalid"] == 0  # the papers stay valid
    assert any(t["rule"] == "P7" and ZHAO in t["message"] for t in result["trace"])
    assert result["next_round"]["kind"] == "supplementary"
    assert ZHAO not in result["next_round"]["candidates"]
    assert (second["ineligible"], second["write_in_flags"]) == ([ZHAO], [])
    certify(h, h.round_id)
    repeated = expect(h.presidium.post(path, json=ruling), 409)
    assert repeated["code"] == "already_ruled_ineligible"
    text = pdf_text(h.presidium, h.round_id).replace(" ", "").replace("\n", "")
    assert "大会主席团裁定赵六不具备被选举资格（P7）" in text
    struck = {"candidates": [LI, ZHAO]}
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)  # C3 first
    refused = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json=struck), 422)
    assert refused["code"] == "follow_up_ineligible"
    supplementary = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 201)
    assert ZHAO not in supplementary["candidates"]

    replay = audited(app, settings, h, tmp_path / "record")
    assert replay.decisions_checked == 2
    assert [(r.round_number, r.elected) for r in replay.certified] == [(1, [WANG, LIU])]


# ---------------------------------------------------------------- c. void for an irregularity


def test_void_for_an_irregularity_opens_the_rerun(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    h = hall(api, settings, seats=3)  # papers issued and collected
    path = f"/api/rounds/{h.round_id}/void"
    irregular = {"reason": "投票箱封条破损，大会主席团决定本轮无效"}
    expect(h.chief.post(path, json=irregular), 403)
    assert expect(h.presidium.post(path, json={"reason": ""}), 422)["code"] == "reason_required"
    assert expect(h.presidium.post(path, json={"reason": "  "}), 422)["code"] == "reason_required"

    voided = expect(h.presidium.post(path, json=irregular), 200)
    assert voided["void"]
    assert voided["round"]["status"] == "void"
    assert voided["round"]["void_reason"] == {
        "rule": None,
        "message_zh": "大会主席团宣布本轮选举无效，应重新选举",
        "message_en": "the presidium declared the round void; it is held again",
    }
    rerun = voided["rerun"]
    assert (rerun["number"], rerun["kind"], rerun["follows_round_id"]) == (2, "rerun", h.round_id)
    assert rerun["candidates"] == SEED_BALLOT_ORDER
    [event] = events_of(api, h.ready.congress.id, "round.void")
    assert event["payload"]["rule"] == "presidium"
    assert event["payload"]["reason"] == irregular["reason"]
    assert event["payload"]["author_role"] == "presidium"
    assert expect(h.presidium.post(path, json=irregular), 409)["code"] == "round_state"
    unissued = expect(h.presidium.post(f"/api/rounds/{rerun['id']}/void", json=irregular), 409)
    assert unissued["code"] == "papers_not_issued"

    issue_and_collect(api, rerun["id"], printed=10, issued=8, collected=8)
    batch = new_batch(h, rerun["id"], 8)
    enter(h, batch, [(m, []) for m in FILLED], payload=payload_for(h, settings, rerun),
          candidates=SEED_BALLOT_ORDER, tag="2")  # fmt: skip
    expect(h.chief.post(f"/api/rounds/{rerun['id']}/decide"), 200)
    certify(h, rerun["id"])
    outcome = expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert [(e["name"], e["round"]) for e in outcome["elected"]] == [(WANG, 2), (LIU, 2), (LI, 2)]

    replay = audited(app, settings, h, tmp_path / "record")
    assert [(r.round_number, r.elected) for r in replay.certified] == [(2, [WANG, LIU, LI])]


def test_void_of_a_certified_round_without_quorum_and_after_a_follow_up(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    h, tie = tie_round_opened(api, settings)
    irregular = {"reason": "发现有代表代投，大会主席团决定本轮无效"}
    path = f"/api/rounds/{h.round_id}/void"
    assert expect(h.presidium.post(path, json=irregular), 409)["code"] == "follow_up_exists"
    expect(h.presidium.post(f"/api/rounds/{tie['id']}/cancel", json={"reason": "先查明违规"}), 200)

    delegate = h.ready.delegates[0]  # 7 of 10 present now: below the quorum of 8
    expect(api.post(f"/api/congresses/{h.ready.congress.id}/delegates/{delegate.id}/check-out"),
           200)  # fmt: skip
    voided = expect(h.presidium.post(path, json=irregular), 200)
    assert voided["rerun"] is None
    assert voided["rerun_refused"]["code"] == "quorum_not_met"
    outcome = expect(api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
    assert outcome["elected"] == []  # the void round elects nobody
    history = expect(api.get(f"/api/rounds/{h.round_id}/decision"), 200)["history"]
    assert [e["type"] for e in history] == ["round.decided", "round.void"]
    assert history[1]["reason"] == irregular["reason"]

    check_in = f"/api/congresses/{h.ready.congress.id}/delegates/{delegate.id}/check-in"
    expect(api.post(check_in), 200)
    rerun = expect(api.post(f"/api/elections/{h.ready.election.id}/rounds"), 201)
    assert (rerun["number"], rerun["kind"], rerun["follows_round_id"]) == (3, "rerun", h.round_id)

    replay = audited(app, settings, h, tmp_path / "record")
    assert replay.certified == []  # round 1 was certified, then void
    assert replay.decisions_checked == 1
