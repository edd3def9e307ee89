"""Counting over HTTP: batches, blind double entry, reconciliation, adjudication."""

import json
from typing import Any

from fastapi import FastAPI
from pypinyin import Style, lazy_pinyin

from app.counting import reconciliation as counting_reconciliation
from app.rules.model import PaperRecord
from app.settings import Settings
from tests.builders import (
    PAPERS,
    SEED_BALLOT_ORDER,
    Api,
    counting,
    enter_all,
    expect,
    login_official,
    make_batch,
    paper,
    presidium_of,
    run_coroutine,
)


def reconciled(app: FastAPI, round_id: int) -> list[PaperRecord]:
    with app.state.sessionmaker.begin() as session:
        return counting_reconciliation.reconciled_papers(session, round_id=round_id)


def test_one_difference_is_listed_and_resolved(api: Api, settings: Settings, app: FastAPI) -> None:
    c = counting(api, settings, collected=4)
    batch = make_batch(c, 4)
    assert batch["progress"] == {
        "batch_id": batch["id"],
        "declared": 4,
        "pass_a": 0,
        "pass_b": 0,
        "status": "entering",
        "generation": 1,
    }
    last_a = enter_all(c, c.tellers[0], batch["id"], PAPERS, "a")
    assert last_a["pass"] == "a"
    assert last_a["progress"]["pass_a"] == 4
    assert last_a["progress"]["status"] == "entering"
    different = [*PAPERS[:3], ["yes", "yes", "no", "no", "no"]]  # pass B misreads 李娜 on one
    last_b = enter_all(c, c.tellers[1], batch["id"], different, "b")
    assert last_b["progress"] == {
        "batch_id": batch["id"],
        "declared": 4,
        "pass_a": 4,
        "pass_b": 4,
        "status": "discrepancy",
        "generation": 1,
    }
    queue = expect(c.scrutineer.get(f"/api/rounds/{c.round_id}/adjudication"), 200)
    assert queue["batches"] == [
        {
            "batch_id": batch["id"],
            "batch_number": 1,
            "status": "discrepancy",
            "only_in_pass_a": [
                {
                    "marks": dict(zip(SEED_BALLOT_ORDER, PAPERS[3], strict=True)),
                    "write_ins": [],
                    "void": None,
                }
            ],
            "only_in_pass_b": [
                {
                    "marks": dict(zip(SEED_BALLOT_ORDER, different[3], strict=True)),
                    "write_ins": [],
                    "void": None,
                }
            ],
            "unclear": [],
            "records_needed": 1,
        }
    ]
    status = expect(api.get(f"/api/rounds/{c.round_id}/count-status"), 200)
    assert (status["discrepancies_open"], status["ready"]) == (1, False)
    resolution = {"records": [queue["batches"][0]["only_in_pass_a"][0]], "reason": "核对原票"}
    path = f"/api/batches/{batch['id']}/resolution"
    assert expect(c.tellers[0].post(path, json=resolution), 403)["code"] == "forbidden"
    resolved = expect(c.scrutineer.post(path, json=resolution), 200)
    assert resolved["progress"]["status"] == "reconciled"
    assert expect(c.scrutineer.post(path, json=resolution), 409)["code"] == "batch_not_disputed"
    status = expect(api.get(f"/api/rounds/{c.round_id}/count-status"), 200)
    assert status == {
        "round_id": c.round_id,
        "collected": 4,
        "declared": 4,
        "all_declared": True,
        "batches": 1,
        "batches_open": 0,
        "discrepancies_open": 0,
        "adjudications_open": 0,
        "papers_entered": 4,
        "papers_reconciled": 4,
        "ready": True,
    }
    papers = reconciled(app, c.round_id)
    assert sorted(papers) == sorted(PaperRecord(tuple(m)) for m in PAPERS)  # type: ignore[arg-type]
    events = expect(c.scrutineer.get(f"/api/congresses/{c.ready.congress.id}/events"), 200)
    types = [e["type"] for e in events]
    assert types.count("paper.entered") == 8
    assert types[-2:] == ["batch.resolved", "batch.reconciled"]
    resolved_event = events[-2]["payload"]
    assert resolved_event["reason"] == "核对原票"
    assert resolved_event["author_role"] == "scrutineer"
    assert resolved_event["author_official_id"] == c.ready.officials["scrutineer"][0].id
    entered = [e["payload"] for e in events if e["type"] == "paper.entered"]
    assert set(entered[0]) == {
        "round_id", "round_number", "batch_id", "pass", "generation", "paper_id", "record",
        "status", "rule",
    }  # fmt: skip
    assert all(e["at"].endswith("Z") and len(e["at"]) == 17 for e in events)  # the minute only


def test_agreeing_passes_reconcile_directly(api: Api, settings: Settings, app: FastAPI) -> None:
    c = counting(api, settings)
    first = make_batch(c, 4)
    second = make_batch(c, 4, a=2, b=0)
    enter_all(c, c.tellers[0], first["id"], PAPERS, "a")
    done = enter_all(c, c.tellers[1], first["id"], list(reversed(PAPERS)), "b")  # order differs
    assert done["progress"]["status"] == "reconciled"
    status = expect(api.get(f"/api/rounds/{c.round_id}/count-status"), 200)
    assert (status["batches_open"], status["papers_reconciled"], status["ready"]) == (1, 4, False)
    enter_all(c, c.tellers[2], second["id"], PAPERS, "a")
    enter_all(c, c.tellers[0], second["id"], PAPERS, "b")
    assert expect(api.get(f"/api/rounds/{c.round_id}/count-status"), 200)["ready"] is True
    assert len(reconciled(app, c.round_id)) == 8
    listed = expect(api.get(f"/api/rounds/{c.round_id}/batches"), 200)
    assert [b["progress"]["status"] for b in listed["batches"]] == ["reconciled", "reconciled"]
    assert (listed["collected"], listed["declared"]) == (8, 8)


def test_idempotent_retry_is_recorded_once(api: Api, settings: Settings) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)
    path = f"/api/batches/{batch['id']}/papers"
    body = paper(c, "tablet1-0001", PAPERS[0])
    first = expect(c.tellers[0].post(path, json=body), 201)
    again = expect(c.tellers[0].post(path, json=body), 201)
    assert again == first
    assert first["progress"]["pass_a"] == 1
    other = paper(c, "tablet1-0001", PAPERS[1])
    assert expect(c.tellers[0].post(path, json=other), 409)["code"] == "idempotency_key_reused"
    # The same key from pass B is pass B's own key.
    expect(c.tellers[1].post(path, json=body), 201)
    progress = expect(api.get(f"/api/rounds/{c.round_id}/batches"), 200)["batches"][0]["progress"]
    assert (progress["pass_a"], progress["pass_b"]) == (1, 1)
    events = expect(api.get(f"/api/congresses/{c.ready.congress.id}/events"), 200)
    assert [e["type"] for e in events].count("paper.entered") == 2


def test_pass_b_cannot_read_pass_a(api: Api, settings: Settings) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)
    path = f"/api/batches/{batch['id']}/papers"
    a_answer = expect(c.tellers[0].post(path, json=paper(c, "k1", PAPERS[0])), 201)
    expect(c.tellers[0].post(path, json=paper(c, "k2", PAPERS[2])), 201)
    b_answer = expect(c.tellers[1].post(path, json=paper(c, "k1", PAPERS[1])), 201)
    own_a = expect(c.tellers[0].get(path), 200)
    own_b = expect(c.tellers[1].get(path), 200)
    assert own_a["pass"] == "a"
    assert len(own_a["papers"]) == 2
    assert own_b == {
        "batch_id": batch["id"],
        "pass": "b",
        "papers": [
            {
                "paper_id": b_answer["paper_id"],
                "record": {
                    "marks": dict(zip(SEED_BALLOT_ORDER, PAPERS[1], strict=True)),
                    "write_ins": [],
                    "void": None,
                },
                "status": "valid",
                "rule": None,
            }
        ],
    }
    ids_a = [p["paper_id"] for p in own_a["papers"]]
    assert a_answer["paper_id"] in ids_a
    assert ids_a == sorted(ids_a)
    # Nobody else of the tellers sees a pass; tellers cannot read the log or the queue.
    assert expect(c.tellers[2].get(path), 403)["code"] == "not_assigned_to_batch"
    assert expect(c.tellers[2].post(path, json=paper(c, "k9", PAPERS[0])), 403)["code"] == (
        "not_assigned_to_batch"
    )
    assert c.tellers[1].get(f"/api/congresses/{c.ready.congress.id}/events").status_code == 403
    assert c.tellers[1].get(f"/api/rounds/{c.round_id}/adjudication").status_code == 403


def test_batch_rules_o3_and_declared_counts(api: Api, settings: Settings) -> None:
    c = counting(api, settings, collected=6)
    path = f"/api/rounds/{c.round_id}/batches"
    same = {"declared_count": 3, "teller_a_id": c.teller_ids[0], "teller_b_id": c.teller_ids[0]}
    body = expect(api.post(path, json=same), 422)
    assert (body["code"], body["field"]) == ("same_teller_both_passes", "body.teller_b_id")
    assert "O3" in body["message_en"]
    missing = {"declared_count": 3, "teller_a_id": c.teller_ids[0]}
    assert expect(api.post(path, json=missing), 422)["code"] == "second_teller_required"
    scrutineer_id = c.ready.officials["scrutineer"][0].id
    not_teller = {"declared_count": 3, "teller_a_id": scrutineer_id, "teller_b_id": c.teller_ids[1]}
    assert expect(api.post(path, json=not_teller), 422)["code"] == "not_a_teller"
    too_many = {"declared_count": 7, "teller_a_id": c.teller_ids[0], "teller_b_id": c.teller_ids[1]}
    body = expect(api.post(path, json=too_many), 422)
    assert (body["code"], body["field"]) == ("batches_exceed_collected", "body.declared_count")
    batch = make_batch(c, 3)
    remove = f"/api/congresses/{c.ready.congress.id}/officials/{c.teller_ids[1]}"
    # A round is open: the removal needs the presidium (app/setup/duties.py), and even confirmed
    # it is refused while the teller is assigned to a batch.
    assert expect(api.delete(remove), 409)["code"] == "presidium_confirmation_required"
    changes = f"/api/congresses/{c.ready.congress.id}/official-changes"
    change = expect(
        api.post(changes, json={"action": "remove", "official_id": c.teller_ids[1]}), 201
    )
    confirm = f"/api/official-changes/{change['id']}/confirm"
    presidium = presidium_of(api, c.ready.congress.id)
    assert expect(presidium.post(confirm), 409)["code"] == "official_assigned_to_batch"
    chief = login_official(api, c.ready.congress.id, c.ready.officials["chief_teller"][0].id)
    body4 = {"declared_count": 4, "teller_a_id": c.teller_ids[0], "teller_b_id": c.teller_ids[1]}
    assert expect(chief.post(path, json=body4), 422)["code"] == "batches_exceed_collected"
    body3 = body4 | {"declared_count": 3}
    assert expect(chief.post(path, json=body3), 201)["number"] == 2
    status = expect(api.get(f"/api/rounds/{c.round_id}/count-status"), 200)
    assert (status["declared"], status["all_declared"]) == (6, True)
    # Entries beyond the declared count are refused.
    enter_all(c, c.tellers[0], batch["id"], PAPERS[:3], "a")
    extra = c.tellers[0].post(f"/api/batches/{batch['id']}/papers", json=paper(c, "x", PAPERS[3]))
    assert expect(extra, 409)["code"] == "batch_full"


def test_unclear_marks_go_to_adjudication(api: Api, settings: Settings, app: FastAPI) -> None:
    c = counting(api, settings, collected=2)
    batch = make_batch(c, 2)
    papers = [["yes", "unclear", "yes", "no", "no"], PAPERS[1]]
    answer = expect(
        c.tellers[0].post(f"/api/batches/{batch['id']}/papers", json=paper(c, "u", papers[0])), 201
    )
    assert (answer["status"], answer["valid"], answer["rule"]) == ("pending", None, None)
    enter_all(c, c.tellers[0], batch["id"], papers[1:], "a")
    done = enter_all(c, c.tellers[1], batch["id"], papers, "b")
    assert done["progress"]["status"] == "adjudication"
    queue = expect(c.scrutineer.get(f"/api/rounds/{c.round_id}/adjudication"), 200)
    item = queue["batches"][0]
    assert (item["only_in_pass_a"], item["only_in_pass_b"], item["records_needed"]) == ([], [], 1)
    assert item["unclear"][0]["marks"]["刘洋"] == "unclear"
    path = f"/api/batches/{batch['id']}/resolution"
    assert expect(c.scrutineer.post(path, json={"records": [], "reason": "x"}), 422)["code"] == (
        "resolution_count"
    )
    decided = {"marks": dict(zip(SEED_BALLOT_ORDER, ["yes", "illegible", "yes", "no", "no"],
                                 strict=True)), "write_ins": [], "void": None}  # fmt: skip
    unclear_again = {"marks": item["unclear"][0]["marks"], "write_ins": [], "void": None}
    body = expect(c.scrutineer.post(path, json={"records": [unclear_again], "reason": "x"}), 422)
    assert body["field"].startswith("body.records.0.marks")
    chief = login_official(api, c.ready.congress.id, c.ready.officials["chief_scrutineer"][0].id)
    resolved = chief.post(path, json={"records": [decided], "reason": "无法辨认（P6）"})
    assert expect(resolved, 200)["progress"]["status"] == "reconciled"
    assert PaperRecord(("yes", "illegible", "yes", "no", "no")) in reconciled(app, c.round_id)


def test_reentry_discards_both_passes(api: Api, settings: Settings) -> None:
    c = counting(api, settings, collected=2)
    batch = make_batch(c, 2)
    enter_all(c, c.tellers[0], batch["id"], PAPERS[:2], "a")
    enter_all(c, c.tellers[1], batch["id"], PAPERS[2:], "b")
    path = f"/api/batches/{batch['id']}/reentry"
    assert expect(c.tellers[0].post(path, json={"reason": "x"}), 403)["code"] == "forbidden"
    again = expect(c.scrutineer.post(path, json={"reason": "两遍差异过多，重新录入"}), 200)
    assert again["progress"] == {
        "batch_id": batch["id"],
        "declared": 2,
        "pass_a": 0,
        "pass_b": 0,
        "status": "entering",
        "generation": 2,
    }
    assert expect(c.tellers[0].get(f"/api/batches/{batch['id']}/papers"), 200)["papers"] == []
    enter_all(c, c.tellers[0], batch["id"], PAPERS[:2], "a2")
    done = enter_all(c, c.tellers[1], batch["id"], PAPERS[:2], "b2")
    assert done["progress"]["status"] == "reconciled"


def test_single_entry_profile(api: Api, settings: Settings) -> None:
    c = counting(api, settings, collected=2, profile={"double_entry": False})
    path = f"/api/rounds/{c.round_id}/batches"
    both = {"declared_count": 2, "teller_a_id": c.teller_ids[0], "teller_b_id": c.teller_ids[1]}
    assert expect(api.post(path, json=both), 422)["code"] == "no_second_pass"
    batch = make_batch(c, 2, b=None)
    assert batch["progress"]["pass_b"] is None
    done = enter_all(c, c.tellers[0], batch["id"], PAPERS[:2], "a")
    assert done["progress"]["status"] == "reconciled"
    assert expect(api.get(f"/api/rounds/{c.round_id}/count-status"), 200)["ready"] is True


def test_entry_checks_the_paper(api: Api, settings: Settings) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 8)
    path = f"/api/batches/{batch['id']}/papers"
    teller = c.tellers[0]
    forged = paper(c, "f", PAPERS[0]) | {"qr_payload": "JP1.1.1.AAAAAAAA.AAAAAAAAAAAAAAAA"}
    assert expect(teller.post(path, json=forged), 422)["code"] == "qr_forged"
    unknown = paper(c, "u", PAPERS[0]) | {"marks": {"赵敏": "yes"}}
    body = expect(teller.post(path, json=unknown), 422)
    assert (body["code"], body["field"]) == ("unknown_candidate", "body.marks.赵敏")
    bad_mark = paper(c, "m", PAPERS[0]) | {"marks": {"王宁": "maybe"}}
    assert expect(teller.post(path, json=bad_mark), 422)["code"] == "invalid_request"
    boxes = paper(c, "w", PAPERS[0], ["甲", "乙", "丙", "丁"])
    assert expect(teller.post(path, json=boxes), 422)["code"] == "too_many_write_in_boxes"
    assert expect(teller.get(path), 200)["papers"] == []  # nothing was recorded
    # P2: more write-ins than × marks; the write-in is not on the roster.
    p2 = expect(teller.post(path, json=paper(c, "p2", PAPERS[1], ["某 某某", None])), 201)
    assert (p2["status"], p2["valid"], p2["rule"]) == ("invalid", False, "P2")
    assert p2["write_ins_not_on_roster"] == ["某某某"]
    roster_name = c.ready.delegates[0].name
    ok = expect(teller.post(path, json=paper(c, "ok", PAPERS[0], [roster_name])), 201)
    assert (ok["status"], ok["write_ins_not_on_roster"]) == ("invalid", [])  # P3: 3 yes + 1
    assert ok["rule"] == "P3"
    # A paper declared not authentic (P1) is entered whatever its code.
    p1 = paper(c, "p1", ["blank"] * 5, void="P1") | {"qr_payload": "copied?"}
    assert expect(teller.post(path, json=p1), 201)["rule"] == "P1"
    valid = expect(teller.post(path, json=paper(c, "v", PAPERS[1])), 201)
    assert (valid["status"], valid["valid"], valid["violations"]) == ("valid", True, [])


def test_name_suggestions(api: Api, settings: Settings) -> None:
    c = counting(api, settings)
    name = c.ready.delegates[0].name
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()
    path = f"/api/congresses/{c.ready.congress.id}/name-suggestions"
    found = expect(c.tellers[0].get(path, params={"q": initials}), 200)
    assert name in found["names"]
    assert found["q"] == initials
    by_prefix = expect(c.tellers[0].get(path, params={"q": name[:2]}), 200)["names"]
    assert name in by_prefix
    assert all(n.startswith(name[:2]) for n in by_prefix)
    assert expect(c.tellers[0].get(path, params={"q": "zzzzzzzz"}), 200)["names"] == []
    assert expect(c.tellers[0].get(path, params={"q": ""}), 200)["names"] == []
    presidium = api  # admin may look names up too; the presidium may not (auth matrix)
    assert presidium.get(path, params={"q": initials}).status_code == 200


def test_a_bad_body_is_refused_after_the_caller_is_checked(api: Api, settings: Settings) -> None:
    # The entry endpoint reads its body itself (not through FastAPI): 401 and 403 still come
    # before the body's 422, which has FastAPI's details, and nothing is stored.
    c = counting(api, settings)
    batch = make_batch(c, 4)
    path = f"/api/batches/{batch['id']}/papers"
    bad = {"content": b"{not json", "headers": {"content-type": "application/json"}}
    assert expect(c.tellers[0].as_token(None).post(path, **bad), 401)["code"] == (
        "not_authenticated"
    )
    assert expect(c.scrutineer.post(path, **bad), 403)["code"] == "forbidden"
    error = expect(c.tellers[0].post(path, **bad), 422)
    assert error["code"] == "invalid_request"
    assert error["errors"][0]["code"] == "invalid_json_invalid"
    missing = {k: v for k, v in paper(c, "k1", PAPERS[0]).items() if k != "marks"}
    error = expect(c.tellers[0].post(path, json=missing), 422)
    assert [e["field"] for e in error["errors"]] == ["body.marks"]
    assert expect(c.tellers[0].get(path), 200)["papers"] == []


def test_the_token_and_batch_id_are_checked_as_fastapi_checks_them(
    api: Api, settings: Settings
) -> None:
    # The entry endpoint reads its bearer token and batch id itself (not through FastAPI's
    # dependencies): the same refusals as an endpoint that declares them, in the same order.
    c = counting(api, settings)
    batch = make_batch(c, 4)
    teller = c.tellers[0]
    body = {"json": paper(c, "k1", PAPERS[0])}
    token = teller.token
    assert token is not None
    for header in (None, "Basic " + token, "Bearer", "Bearer ", token):
        headers = {} if header is None else {"Authorization": header}
        for path in (f"/api/batches/{batch['id']}/papers", "/api/batches/0/papers"):
            entry = teller.as_token(None).post(path, headers=headers, **body)
            declared = teller.as_token(None).get(path, headers=headers)  # FastAPI's own check
            assert (entry.status_code, entry.json()) == (declared.status_code, declared.json())
            assert expect(entry, 401)["code"] == "not_authenticated"
    for bad in ("0", "-1", "2147483648", "abc", "1.5"):
        path = f"/api/batches/{bad}/papers"
        entry, declared = teller.post(path, **body), teller.get(path)
        assert (entry.status_code, entry.json()) == (declared.status_code, declared.json())
        assert [e["field"] for e in expect(entry, 422)["errors"]] == ["path.batch_id"]
    # The scheme's case does not matter, as with HTTPBearer; nothing was stored before.
    assert expect(teller.get(f"/api/batches/{batch['id']}/papers"), 200)["papers"] == []
    lower = teller.as_token(None).post(
        f"/api/batches/{batch['id']}/papers", headers={"Authorization": "bearer " + token}, **body
    )
    assert expect(lower, 201)["progress"]["pass_a"] == 1


def test_a_tablet_gone_before_its_body_arrived_is_answered_4xx_not_500(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    # The tablet's connection drops while it sends the body: reading it raises ClientDisconnect.
    # Nothing is entered; the answer (which nobody may read) is a 4xx of the one error model.
    c = counting(api, settings)
    batch = make_batch(c, 4)
    token = c.tellers[0].token
    assert token is not None
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/api/batches/{batch['id']}/papers",
        "raw_path": f"/api/batches/{batch['id']}/papers".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    arrived = [{"type": "http.request", "body": b'{"idempotency_key": "k', "more_body": True}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return arrived.pop(0) if arrived else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    run_coroutine(app(scope, receive, send))
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    assert start["status"] == 400
    assert json.loads(body)["code"] == "request_incomplete"
    assert expect(c.tellers[0].get(f"/api/batches/{batch['id']}/papers"), 200)["papers"] == []
