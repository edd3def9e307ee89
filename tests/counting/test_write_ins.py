"""Write-ins (另选他人) as the entry API takes them, the QR payload an entry must carry, and the
name suggestions of the tablet (issue 17, items 7 and 11b)."""

from typing import Any

import pytest
from fastapi import FastAPI
from pypinyin import Style, lazy_pinyin

from app.counting import writein
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.settings import Settings
from tests.builders import (
    PAPERS,
    Api,
    Counting,
    add_candidate,
    batch_progress,
    chain_problems,
    code,
    counting,
    enter_as_one_group,
    entry,
    expect,
    issue_and_collect,
    login_official,
    make_batch,
    make_ready_election,
    open_round,
    paper,
    roster_csv,
    upload_roster,
)

NO_MARKS = ["no", "no", "blank", "blank", "blank"]  # two ×: room for two write-ins (P2)


def _own(teller: Api, batch_id: int) -> list[dict[str, Any]]:
    papers: list[dict[str, Any]] = expect(teller.get(f"/api/batches/{batch_id}/papers"), 200)[
        "papers"
    ]
    return papers


def _pass_a(api: Api, round_id: int, batch_id: int) -> int:
    listed = expect(api.get(f"/api/rounds/{round_id}/batches"), 200)["batches"]
    (batch,) = [b for b in listed if b["id"] == batch_id]
    entered: int = batch["progress"]["pass_a"]
    return entered


def test_a_write_in_is_a_name_in_chinese_characters(api: Api, settings: Settings) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 8)
    path = f"/api/batches/{batch['id']}/papers"
    teller = c.tellers[0]
    refused = [
        (["zqg"], "write_in_latin_unconfirmed", 0),  # pinyin initials typed as a search
        (["王宁", "Zhang San"], "write_in_latin_unconfirmed", 1),
        (["张Q刚"], "write_in_latin_unconfirmed", 0),
        (["123"], "write_in_not_a_name", 0),
        (["张三3"], "write_in_not_a_name", 0),
        (["艾力更.依明巴海"], "write_in_not_a_name", 0),  # Chinese parts take ·, not .
        (["·张三"], "write_in_not_a_name", 0),
        (["张三··李四"], "write_in_not_a_name", 0),
        (["？？"], "write_in_not_a_name", 0),
    ]
    for n, (write_ins, wanted, position) in enumerate(refused):
        body = paper(c, f"bad-{n}", NO_MARKS, list(write_ins))
        error = expect(teller.post(path, json=body), 422)
        assert (error["code"], error["field"]) == (wanted, f"body.write_ins.{position}"), write_ins
        assert error["message_zh"]
        assert error["message_en"]
        if wanted == "write_in_latin_unconfirmed":
            assert "拼音" in error["message_zh"]
    assert _own(teller, batch["id"]) == []  # nothing was stored
    assert _pass_a(api, c.round_id, batch["id"]) == 0

    compound = expect(teller.post(path, json=paper(c, "ok-1", NO_MARKS, ["艾力更·依明巴海"])), 201)
    assert compound["status"] == "valid"
    dots = expect(teller.post(path, json=paper(c, "ok-2", NO_MARKS, ["玛丽・居里", None])), 201)
    assert dots["status"] == "valid"
    records = sorted(tuple(p["record"]["write_ins"]) for p in _own(teller, batch["id"]))
    assert records == [("玛丽・居里", None), ("艾力更·依明巴海",)]


def test_a_name_in_latin_letters_needs_the_tellers_confirmation(
    api: Api, settings: Settings
) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)
    path = f"/api/batches/{batch['id']}/papers"
    teller = c.tellers[0]
    body = paper(c, "latin-1", NO_MARKS, ["John Smith", "O'Neil-Brown"])
    error = expect(teller.post(path, json=body), 422)
    assert (error["code"], error["field"]) == ("write_in_latin_unconfirmed", "body.write_ins.0")
    assert _own(teller, batch["id"]) == []
    # The refused key stored nothing: the same key, now confirmed, is entered once.
    confirmed = body | {"write_ins_latin_confirmed": True}
    first = expect(teller.post(path, json=confirmed), 201)
    assert first["status"] == "valid"
    assert first["write_ins_not_on_roster"] == ["JohnSmith", "O'Neil-Brown"]
    again = expect(teller.post(path, json=confirmed), 201)  # a retry: the very same answer
    assert again == first
    # The key is now taken by the confirmed paper: the unconfirmed body is another request.
    assert expect(teller.post(path, json=body), 409)["code"] == "idempotency_key_reused"
    (stored,) = _own(teller, batch["id"])
    assert stored["record"]["write_ins"] == ["JohnSmith", "O'Neil-Brown"]
    # A confirmation is true, not a word that might mean it.
    loose = paper(c, "latin-4", NO_MARKS, ["Smith"]) | {"write_ins_latin_confirmed": "yes"}
    error = expect(teller.post(path, json=loose), 422)
    assert error["code"] == "invalid_request"
    assert [e["field"] for e in error["errors"]] == ["body.write_ins_latin_confirmed"]
    # Confirmation lets Latin letters through, not digits or other marks.
    digits = paper(c, "latin-2", NO_MARKS, ["R2D2"]) | {"write_ins_latin_confirmed": True}
    assert expect(teller.post(path, json=digits), 422)["code"] == "write_in_not_a_name"
    # A Chinese name needs no confirmation, and a confirmation changes nothing for it.
    chinese = paper(c, "latin-3", NO_MARKS, ["赵敏"]) | {"write_ins_latin_confirmed": True}
    assert expect(teller.post(path, json=chinese), 201)["status"] == "valid"
    assert _pass_a(api, c.round_id, batch["id"]) == 2


def test_a_name_on_the_roster_is_taken_as_the_roster_spells_it(
    api: Api, settings: Settings
) -> None:
    """A roster may tell namesakes apart (张伟（女）) or hold a foreign delegate's name: a
    suggestion picked from it is a name, with no confirmation."""
    ready = make_ready_election(api, present=10)  # 10 of 12 once the two are added (Q1)
    congress = ready.congress.id
    expect(api.patch(f"/api/congresses/{congress}", json={"delegates_total": 12}), 200)
    rows = [("张伟（女）", "第1代表团", "202699001"), ("John Smith", "第2代表团", "202699002")]
    expect(upload_roster(api, congress, roster_csv(rows)), 201)
    round_ = open_round(api, ready.election.id)
    issue_and_collect(api, round_.id, printed=8, issued=8, collected=8)
    payload = encode_payload(
        key=load_or_create_qr_key(settings.data_dir),
        election_id=ready.election.id,
        round_number=1,
        definition_hash=round_.definition_hash,
    )
    ids = [o.id for o in ready.officials["teller"]]
    tellers = [login_official(api, congress, i) for i in ids[:2]]
    scrutineer = login_official(api, congress, ready.officials["scrutineer"][0].id)
    c = Counting(api, ready, round_.id, payload, ids, tellers, scrutineer)
    batch = make_batch(c, 4)
    path = f"/api/batches/{batch['id']}/papers"
    teller = tellers[0]
    suggested = expect(
        teller.get(f"/api/congresses/{congress}/name-suggestions", params={"q": "zw"}), 200
    )["names"]
    assert "张伟(女)" in suggested  # the roster keeps names NFKC-normalized
    for n, name in enumerate(["张伟（女）", "John Smith"]):
        entered = expect(teller.post(path, json=paper(c, f"r-{n}", NO_MARKS, [name])), 201)
        assert (entered["status"], entered["write_ins_not_on_roster"]) == ("valid", [])
    # Off the roster the rule holds.
    error = expect(teller.post(path, json=paper(c, "r-x", NO_MARKS, ["李四（男）"])), 422)
    assert (error["code"], error["field"]) == ("write_in_not_a_name", "body.write_ins.0")
    error = expect(teller.post(path, json=paper(c, "r-y", NO_MARKS, ["赵敏", "Jane Smith"])), 422)
    assert (error["code"], error["field"]) == ("write_in_latin_unconfirmed", "body.write_ins.1")
    records = sorted(p["record"]["write_ins"][0] for p in _own(teller, batch["id"]))
    assert records == ["JohnSmith", "张伟(女)"]


def test_a_scrutineers_final_record_follows_the_same_rule(api: Api, settings: Settings) -> None:
    c = counting(api, settings, collected=1)
    batch = make_batch(c, 1)
    path = f"/api/batches/{batch['id']}/papers"
    expect(c.tellers[0].post(path, json=paper(c, "a", NO_MARKS, ["赵敏"])), 201)
    expect(c.tellers[1].post(path, json=paper(c, "b", NO_MARKS, ["赵明"])), 201)
    resolution = f"/api/batches/{batch['id']}/resolution"
    marks = dict(zip(["王宁", "刘洋"], ["no", "no"], strict=True))
    record = {"marks": marks, "write_ins": ["zm"], "void": None}
    body = {"records": [record], "reason": "核对原票"}
    error = expect(c.scrutineer.post(resolution, json=body), 422)
    assert (error["code"], error["field"]) == (
        "write_in_latin_unconfirmed",
        "body.records.0.write_ins.0",
    )
    assert (
        expect(c.scrutineer.get(f"/api/rounds/{c.round_id}/batches"), 200)["batches"][0][
            "progress"
        ]["status"]
        == "discrepancy"
    )
    record["write_ins"] = ["赵敏"]
    done = expect(c.scrutineer.post(resolution, json=body), 200)
    assert done["progress"]["status"] == "reconciled"


def test_a_paper_without_its_qr_payload_is_missing_not_forged(api: Api, settings: Settings) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 8)
    path = f"/api/batches/{batch['id']}/papers"
    teller = c.tellers[0]
    for void in (None, "P4", "P9"):
        body = paper(c, f"no-qr-{void}", PAPERS[0], void=void) | {"qr_payload": ""}
        error = expect(teller.post(path, json=body), 422)
        assert (error["code"], error["field"]) == ("qr_missing", "body.qr_payload"), void
        assert "P1" in error["message_zh"]
        without = {k: v for k, v in body.items() if k != "qr_payload"}
        error = expect(teller.post(path, json=without), 422)
        assert (error["code"], error["field"]) == ("qr_missing", "body.qr_payload"), void
    forged = paper(c, "forged", PAPERS[0]) | {"qr_payload": "JP1.1.1.AAAAAAAA.AAAAAAAAAAAAAAAA"}
    error = expect(teller.post(path, json=forged), 422)
    assert (error["code"], error["field"]) == ("qr_forged", "body.qr_payload")
    assert _own(teller, batch["id"]) == []
    # Declared not authentic (P1), a paper needs no code.
    p1 = paper(c, "p1", ["blank"] * 5, void="P1") | {"qr_payload": ""}
    assert expect(teller.post(path, json=p1), 201)["rule"] == "P1"


def test_suggestions_leave_out_the_candidates_printed_on_the_rounds_paper(api: Api) -> None:
    ready = make_ready_election(api)
    printed, other = ready.delegates[0].name, ready.delegates[1].name
    add_candidate(api, ready.election.id, printed)  # a delegate on the ballot
    round_ = open_round(api, ready.election.id)
    issue_and_collect(api, round_.id, printed=8, issued=8, collected=8)
    teller = login_official(api, ready.congress.id, ready.officials["teller"][0].id)
    path = f"/api/congresses/{ready.congress.id}/name-suggestions"
    for name in (printed, other, *round_.candidates):
        initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
        for q in (initials, name[:1], name):
            everyone = expect(teller.get(path, params={"q": q}), 200)["names"]
            for_round = expect(teller.get(path, params={"q": q, "round_id": round_.id}), 200)
            on_paper = name in round_.candidates
            assert (name in for_round["names"]) is (not on_paper), (name, q)
            assert not set(for_round["names"]) & set(round_.candidates)
            assert [n for n in everyone if n not in round_.candidates] == for_round["names"]
            if name in (printed, other):
                assert name in everyone  # on the roster
    # A round of another congress is not this congress's round.
    elsewhere = make_ready_election(api)
    other_round = open_round(api, elsewhere.election.id)
    error = expect(teller.get(path, params={"q": "w", "round_id": other_round.id}), 404)
    assert (error["code"], error["field"]) == ("round_not_found", "query.round_id")
    error = expect(teller.get(path, params={"q": "w", "round_id": 999_999}), 404)
    assert error["code"] == "round_not_found"


def test_a_group_answers_write_ins_as_one_at_a_time_would(
    api: Api, settings: Settings, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting papers are entered as one group (enter_papers): a refused write-in is still
    answered as entering it alone answers it — its key looked up first."""
    c = counting(api, settings)
    batch = make_batch(c, 4)["id"]
    a = c.tellers[0]
    confirmed = paper(c, "a-0", NO_MARKS, ["Smith"]) | {"write_ins_latin_confirmed": True}
    first = expect(a.post(f"/api/batches/{batch}/papers", json=confirmed), 201)
    # A paper stored before the rule existed (an upgrade in the middle of a count): its retry,
    # still in a tablet's queue, gets the first answer, not a refusal of a paper that is stored.
    monkeypatch.setattr(writein, "name_kind", lambda _name: "chinese")
    old = paper(c, "a-1", NO_MARKS, ["zqg"])
    stored_before = expect(a.post(f"/api/batches/{batch}/papers", json=old), 201)
    monkeypatch.undo()
    results = enter_as_one_group(
        app,
        settings,
        [
            entry(a, batch, paper(c, "a-2", NO_MARKS, ["赵敏"])),
            entry(a, batch, paper(c, "a-0", NO_MARKS, ["Smith"])),  # its key, unconfirmed
            entry(a, batch, old),  # the retry
            entry(a, batch, paper(c, "a-3", NO_MARKS, ["wxm"])),
        ],
    )
    assert results[0]["progress"]["pass_a"] == 3
    assert code(results[1]) == "idempotency_key_reused"
    assert results[2] == stored_before
    assert code(results[3]) == "write_in_latin_unconfirmed"
    assert [p["pass_a"] for p in batch_progress(api, c)] == [3]
    assert first["status"] == "valid"
    assert chain_problems(app, c) == []
