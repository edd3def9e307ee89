"""Typed builders, all of them: make_*() and the others create things through the HTTP API, as a
user would, and return the parsed response models (or the JSON). Each asserts its own status so a
failing setup points at itself. Test files import them from here, never from one another
(tests/test_code_shape.py); one section per kind of thing built."""

import asyncio
import csv
import hashlib
import io
import json
import random
import shutil
import weakref
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx2 as httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.audit.record import check_record, export_record
from app.auth import service as auth_service
from app.auth.router import SessionRead
from app.counting import router as counting_router
from app.counting.entry import EntryRequest, enter_papers
from app.errors import AppError
from app.keys import public_key_hex, signing_key
from app.ledger import store
from app.ledger.chain import JsonValue, canonical_json, next_event
from app.ledger.replay import (
    EVENTS_FILE,
    MANIFEST_FILE,
    StoredEvent,
    event_line,
    final_record_texts,
    manifest_body,
    paper_of,
    parse_event_lines,
    signed_message,
)
from app.main import create_app
from app.papers import schemas as papers_schemas
from app.papers.definition import freeze_round
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.rules import Attendance, RoundDefinition, count_round
from app.rules.roundfile import round_result_json
from app.settings import Settings
from app.setup import schemas
from app.setup.demo import demo_names

# ---------------------------------------------------------------- the API, congresses, officials


@dataclass(frozen=True)
class Api:
    client: TestClient
    token: str | None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        base = {} if self.token is None else {"Authorization": f"Bearer {self.token}"}
        return base | (extra or {})

    def as_token(self, token: str | None) -> "Api":
        return Api(self.client, token)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.patch(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = self.headers(kwargs.pop("headers", None))
        return self.client.request(method, path, headers=headers, **kwargs)


T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own. A test process that has started Playwright's
    synchronous driver keeps an event loop marked running on its main thread, where
    ``asyncio.run`` refuses to start (with pytest-xdist, any test may follow a browser test)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def expect(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


def make_congress(
    api: Api, *, name: str = "第五次学生代表大会", delegates_total: int = 20
) -> schemas.CongressRead:
    body = {"name": name, "delegates_total": delegates_total}
    return schemas.CongressRead.model_validate(expect(api.post("/api/congresses", json=body), 201))


def roster_csv(rows: list[tuple[str, str, str]], *, encoding: str = "utf-8") -> bytes:
    """A CSV: header 姓名,代表团,学号, then ``rows`` (name, delegation, student id)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["姓名", "代表团", "学号"])
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload_roster(
    api: Api, congress_id: int, data: bytes, *, filename: str = "roster.csv"
) -> httpx.Response:
    return api.post(f"/api/congresses/{congress_id}/roster", files={"file": (filename, data)})


def make_roster(api: Api, congress_id: int, count: int) -> list[schemas.DelegateRead]:
    names = demo_names(count, seed=congress_id)
    rows = [(name, f"第{i % 4 + 1}代表团", f"2026{i:05d}") for i, name in enumerate(names)]
    expect(upload_roster(api, congress_id, roster_csv(rows)), 201)
    listed = expect(api.get(f"/api/congresses/{congress_id}/delegates"), 200)
    return [schemas.DelegateRead.model_validate(d) for d in listed]


def make_election(
    api: Api,
    congress_id: int,
    *,
    title: str = "主席团成员",
    seats: int = 3,
    profile: dict[str, str | bool] | None = None,
) -> schemas.ElectionRead:
    body = {"title": title, "seats": seats, "profile": profile or {}}
    response = api.post(f"/api/congresses/{congress_id}/elections", json=body)
    return schemas.ElectionRead.model_validate(expect(response, 201))


def add_candidate(
    api: Api, election_id: int, name: str, *, student_id: str | None = None
) -> schemas.CandidateListRead:
    body = {"name": name, "student_id": student_id}
    response = api.post(f"/api/elections/{election_id}/candidates", json=body)
    return schemas.CandidateListRead.model_validate(expect(response, 201))


# A presidium session's token per congress of a test's client, to confirm changes of officials
# once a round is open (app/setup/duties.py): the last presidium member logged in by ``login_as``.
# Weak keys, tokens as values: the map neither keeps a finished test's client (and its app) alive
# nor hands a later client, at the same address, a token of another database.
_PRESIDIUM: "weakref.WeakKeyDictionary[TestClient, dict[int, str]]" = weakref.WeakKeyDictionary()


def _needs_presidium(response: httpx.Response) -> bool:
    return response.status_code == 409 and (
        response.json().get("code") == "presidium_confirmation_required"
    )


def presidium_of(api: Api, congress_id: int) -> Api:
    """A presidium member's session in the congress (made, alone, if the congress has none)."""
    tokens = _PRESIDIUM.setdefault(api.client, {})
    if congress_id not in tokens:
        listed = expect(api.get(f"/api/congresses/{congress_id}/officials"), 200)
        presidium = [o for o in listed if o["role"] == "presidium"]
        assert len(presidium) <= 1, "log in one presidium member with login_as first"
        if presidium:  # the only one: the secretariat issues their code alone
            code = issue_code(api, congress_id, presidium[0]["id"]).code
            response = api.as_token(None).post("/api/auth/login", json={"code": code})
            token = SessionRead.model_validate(expect(response, 200)).token
            tokens[congress_id] = token
        else:
            login_as(api, congress_id, "presidium", name="主席团确认人")
    return api.as_token(tokens[congress_id])


def confirmed_change(api: Api, congress_id: int, body: dict[str, Any]) -> Any:
    """File a change of officials as the admin and have a presidium member confirm it."""
    request = api.post(f"/api/congresses/{congress_id}/official-changes", json=body)
    change = expect(request, 201)
    confirm = presidium_of(api, congress_id).post(f"/api/official-changes/{change['id']}/confirm")
    return expect(confirm, 200)


def make_official(
    api: Api, congress_id: int, *, role: str, name: str, student_id: str | None = None
) -> schemas.OfficialRead:
    body = {"name": name, "role": role, "student_id": student_id}
    response = api.post(f"/api/congresses/{congress_id}/officials", json=body)
    if _needs_presidium(response):
        done = confirmed_change(api, congress_id, {"action": "add"} | body)
        return schemas.OfficialRead.model_validate(done["official"])
    return schemas.OfficialRead.model_validate(expect(response, 201))


def issue_code(api: Api, congress_id: int, official_id: int) -> schemas.LoginCodeRead:
    response = api.post(f"/api/congresses/{congress_id}/officials/{official_id}/login-code")
    if _needs_presidium(response):
        body = {"action": "login_code", "official_id": official_id}
        done = confirmed_change(api, congress_id, body)
        return schemas.LoginCodeRead.model_validate(done["login_code"])
    return schemas.LoginCodeRead.model_validate(expect(response, 200))


def login_as(api: Api, congress_id: int, role: str, *, name: str | None = None) -> Api:
    """A new official with ``role`` in the congress, logged in: the Api acting as them."""
    official = make_official(api, congress_id, role=role, name=name or f"{role}甲")
    code = issue_code(api, congress_id, official.id).code
    response = api.as_token(None).post("/api/auth/login", json={"code": code})
    session = api.as_token(SessionRead.model_validate(expect(response, 200)).token)
    if role == "presidium":
        assert session.token is not None
        _PRESIDIUM.setdefault(api.client, {})[congress_id] = session.token
    return session


# ---------------------------------------------------------------- rounds and counting

SEED_CANDIDATES = ["张伟", "王宁", "李娜", "欧阳晓东", "刘洋"]
SEED_BALLOT_ORDER = ["王宁", "刘洋", "李娜", "张伟", "欧阳晓东"]  # surname strokes 4, 6, 7, 7, 8
WANG, LIU, LI, ZHANG, OUYANG = SEED_BALLOT_ORDER
O2_ROLES = {"chief_scrutineer": 1, "chief_teller": 1, "scrutineer": 2, "teller": 5}


@dataclass(frozen=True)
class ReadyElection:
    """A congress with its roster, O2 officials and an election with a 差额 slate."""

    congress: schemas.CongressRead
    election: schemas.ElectionRead
    delegates: list[schemas.DelegateRead]
    officials: dict[str, list[schemas.OfficialRead]]


def check_in(api: Api, congress_id: int, delegates: list[schemas.DelegateRead]) -> None:
    for delegate in delegates:
        path = f"/api/congresses/{congress_id}/delegates/{delegate.id}/check-in"
        expect(api.post(path), 200)


def make_ready_election(
    api: Api,
    *,
    delegates_total: int = 10,
    present: int = 8,
    seats: int = 3,
    candidates: list[str] | None = None,
    profile: dict[str, str | bool] | None = None,
) -> ReadyElection:
    congress = make_congress(api, delegates_total=delegates_total)
    delegates = make_roster(api, congress.id, delegates_total)
    election = make_election(api, congress.id, seats=seats, profile=profile)
    for name in SEED_CANDIDATES if candidates is None else candidates:
        add_candidate(api, election.id, name)
    officials: dict[str, list[schemas.OfficialRead]] = {}
    for role, count in O2_ROLES.items():
        for n in range(count):
            name = f"{role}{n + 1}号"
            officials.setdefault(role, []).append(
                make_official(api, congress.id, role=role, name=name)
            )
    check_in(api, congress.id, delegates[:present])
    return ReadyElection(congress, election, delegates, officials)


def login_official(api: Api, congress_id: int, official_id: int) -> Api:
    """Log an existing official in: the Api acting as them."""
    code = issue_code(api, congress_id, official_id).code
    response = api.as_token(None).post("/api/auth/login", json={"code": code})
    return api.as_token(SessionRead.model_validate(expect(response, 200)).token)


def open_round(api: Api, election_id: int) -> papers_schemas.RoundRead:
    response = api.post(f"/api/elections/{election_id}/rounds")
    return papers_schemas.RoundRead.model_validate(expect(response, 201))


def issue_and_collect(
    api: Api, round_id: int, *, printed: int, issued: int, collected: int
) -> papers_schemas.CollectionRead:
    body = {"printed": printed, "issued": issued}
    expect(api.post(f"/api/rounds/{round_id}/issuance", json=body), 200)
    response = api.post(f"/api/rounds/{round_id}/collection", json={"collected": collected})
    return papers_schemas.CollectionRead.model_validate(expect(response, 200))


# ---------------------------------------------------------------- entering papers over HTTP


@dataclass(frozen=True)
class Counting:
    """A round of ``make_ready_election`` with its papers collected, three tellers and a
    scrutineer logged in: batches are made and papers entered over HTTP."""

    api: Api
    ready: ReadyElection
    round_id: int
    payload: str
    teller_ids: list[int]
    tellers: list[Api]
    scrutineer: Api


def counting(
    api: Api,
    settings: Settings,
    *,
    collected: int = 8,
    profile: dict[str, str | bool] | None = None,
) -> Counting:
    ready = make_ready_election(api, profile=profile)
    round_ = open_round(api, ready.election.id)
    issue_and_collect(api, round_.id, printed=8, issued=8, collected=collected)
    payload = encode_payload(
        key=load_or_create_qr_key(settings.data_dir),
        election_id=ready.election.id,
        round_number=1,
        definition_hash=round_.definition_hash,
    )
    ids = [o.id for o in ready.officials["teller"]]
    tellers = [login_official(api, ready.congress.id, i) for i in ids[:3]]
    scrutineer = login_official(api, ready.congress.id, ready.officials["scrutineer"][0].id)
    return Counting(api, ready, round_.id, payload, ids, tellers, scrutineer)


def make_batch(c: Counting, declared: int, a: int = 0, b: int | None = 1) -> dict[str, Any]:
    body = {
        "declared_count": declared,
        "teller_a_id": c.teller_ids[a],
        "teller_b_id": None if b is None else c.teller_ids[b],
    }
    result: dict[str, Any] = expect(c.api.post(f"/api/rounds/{c.round_id}/batches", json=body), 201)
    return result


def seed_paper(payload: str, key: str, marks: list[str], write_ins: list[str | None] | None = None,
               void: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A paper's entry body: ``marks`` in the seed's ballot order."""
    return {
        "idempotency_key": key,
        "qr_payload": payload,
        "marks": dict(zip(SEED_BALLOT_ORDER, marks, strict=True)),
        "write_ins": write_ins or [],
        "void": void,
    }


def paper(c: Counting, key: str, marks: list[str], write_ins: list[str | None] | None = None,
          void: str | None = None) -> dict[str, Any]:  # fmt: skip
    return seed_paper(c.payload, key, marks, write_ins, void)


PAPERS = [
    ["yes", "yes", "yes", "no", "no"],
    ["yes", "no", "yes", "abstain", "blank"],
    ["no", "yes", "yes", "yes", "no"],
    ["yes", "yes", "yes", "no", "no"],
]


def enter_all(c: Counting, teller: Api, batch_id: int, papers: list[list[str]], tag: str) -> Any:
    answer: Any = None
    for n, marks in enumerate(papers):
        response = teller.post(
            f"/api/batches/{batch_id}/papers", json=paper(c, f"{tag}-{n}", marks)
        )
        answer = expect(response, 201)
    return answer


# ---------------------------------------------------------------- papers entered as one group


def entry(who: Api, batch_id: int, body: Any) -> EntryRequest:
    """``body`` as ``POST /api/batches/{batch_id}/papers`` by ``who`` hands it to the queue."""
    assert who.token is not None
    raw = json.dumps(body).encode()
    return EntryRequest(who.token, batch_id, partial(counting_router._paper_from, raw))


def answers(outcomes: list[Any]) -> list[Any]:
    """Each outcome as the tablet reads it: an answer parsed from its JSON, a refusal as is."""
    return [json.loads(o) if isinstance(o, str) else o for o in outcomes]


def enter_as_one_group(app: FastAPI, settings: Settings, requests: list[EntryRequest]) -> list[Any]:
    """The requests as one group, in one transaction; each one's answer (JSON) or refusal."""
    with app.state.sessionmaker.begin() as session:
        return answers(enter_papers(session, requests, data_dir=settings.data_dir))


def code(result: Any) -> str:
    """The code of a refusal (failing if ``result`` is an answer)."""
    assert isinstance(result, AppError), result
    return result.code


def chain_problems(app: FastAPI, c: Counting) -> list[Any]:
    """What a check of the congress's hash chain finds wrong (nothing: ``[]``)."""
    with Session(app.state.engine) as session:
        return store.verify_congress_chain(session, congress_id=c.ready.congress.id)


def batch_progress(api: Api, c: Counting) -> list[dict[str, Any]]:
    """The progress of every batch of the round, as the batch list shows it."""
    batches = expect(api.get(f"/api/rounds/{c.round_id}/batches"), 200)["batches"]
    return [b["progress"] for b in batches]


# ---------------------------------------------------------------- a hall and its rounds


@dataclass(frozen=True)
class Hall:
    """A round of ``make_ready_election`` (10 delegates, 8 present, 8 papers collected) and the
    people who count, decide, sign and follow it up, each logged in."""

    api: Api
    ready: ReadyElection
    round_id: int
    payload: str
    tellers: list[Api]
    teller_ids: list[int]
    chief: Api
    scrutineer: Api
    presidium: Api


def hall(api: Api, settings: Settings, *, seats: int) -> Hall:
    ready = make_ready_election(api, seats=seats)  # 10 delegates, 8 present
    round_ = open_round(api, ready.election.id)
    issue_and_collect(api, round_.id, printed=10, issued=8, collected=8)
    payload = encode_payload(
        key=load_or_create_qr_key(settings.data_dir),
        election_id=ready.election.id,
        round_number=1,
        definition_hash=round_.definition_hash,
    )
    congress = ready.congress.id
    teller_ids = [o.id for o in ready.officials["teller"][:2]]
    return Hall(
        api=api,
        ready=ready,
        round_id=round_.id,
        payload=payload,
        tellers=[login_official(api, congress, i) for i in teller_ids],
        teller_ids=teller_ids,
        chief=login_official(api, congress, ready.officials["chief_scrutineer"][0].id),
        scrutineer=login_official(api, congress, ready.officials["scrutineer"][0].id),
        presidium=login_as(api, congress, "presidium"),
    )


def enter_batch(h: Hall, papers: list[list[str]]) -> None:
    """Both tellers enter ``papers`` (marks in ballot order) alike as one new batch."""
    body = {"declared_count": len(papers), "teller_a_id": h.teller_ids[0],
            "teller_b_id": h.teller_ids[1]}  # fmt: skip
    batch = expect(h.api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    for tag, teller in zip("ab", h.tellers, strict=True):
        for n, marks in enumerate(papers):
            body = seed_paper(h.payload, f"{tag}-{n}", marks)
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=body), 201)


# 王宁 8, 刘洋 7, 李娜 5, 张伟 2, 欧阳晓东 2 of 8 present: threshold 5.
FILLED = [["yes", "yes", "yes", "no", "no"]] * 5 + [
    ["yes", "yes", "abstain", "yes", "no"],
    ["yes", "yes", "abstain", "no", "yes"],
    ["yes", "abstain", "blank", "yes", "yes"],
]
# Two seats: 王宁 6, 刘洋 5, 李娜 5 — 刘洋 and 李娜 tie for the last seat.
TIED = (
    [["yes", "yes", "no", "no", "no"]] * 3
    + [["yes", "no", "yes", "no", "no"]] * 3
    + [["no", "yes", "yes", "no", "no"]] * 2
)
# Three seats: 王宁 8, 刘洋 5, 李娜 4, 张伟 3, 欧阳晓东 2 — one seat short (M6).
SHORT = (
    [["yes", "yes", "yes", "no", "no"]] * 3
    + [["yes", "yes", "no", "yes", "no"]] * 2
    + [
        ["yes", "no", "yes", "yes", "no"],
        ["yes", "no", "no", "no", "yes"],
        ["yes", "no", "no", "no", "yes"],
    ]
)


def live_paper(h: Hall, n: int) -> dict[str, Any]:
    """A paper (王宁 ✓, 刘洋 unclear) that a teller enters while the live streams listen."""
    return {
        "idempotency_key": f"live-{n}",
        "qr_payload": h.payload,
        "marks": {WANG: "yes", LIU: "unclear"},
        "write_ins": [],
        "void": None,
    }


def new_batch(h: Hall, round_id: int, count: int) -> int:
    """A batch of ``count`` papers of ``round_id`` for the hall's two tellers; its id."""
    body = {"declared_count": count, "teller_a_id": h.teller_ids[0],
            "teller_b_id": h.teller_ids[1]}  # fmt: skip
    batch_id: int = expect(h.api.post(f"/api/rounds/{round_id}/batches", json=body), 201)["id"]
    return batch_id


def enter(
    h: Hall,
    batch_id: int,
    papers: list[tuple[list[str], list[str]]],
    *,
    payload: str,
    candidates: list[str],
    tag: str,
) -> None:
    """Both passes enter ``papers`` (marks in ballot order, write-ins) into the batch."""
    for entry_pass, teller in zip("ab", h.tellers, strict=True):
        for n, (marks, write_ins) in enumerate(papers):
            paper = {
                "idempotency_key": f"{tag}-{entry_pass}-{n}",
                "qr_payload": payload,
                "marks": dict(zip(candidates, marks, strict=True)),
                "write_ins": write_ins,
                "void": None,
            }
            expect(teller.post(f"/api/batches/{batch_id}/papers", json=paper), 201)


def certify(h: Hall, round_id: int) -> dict[str, Any]:
    """The chief and a scrutineer sign the decided round: the second signature certifies it."""
    expect(h.chief.post(f"/api/rounds/{round_id}/sign"), 200)
    signed: dict[str, Any] = expect(h.scrutineer.post(f"/api/rounds/{round_id}/sign"), 200)
    assert signed["certified"]
    return signed


# On the last paper pass A typed ✓ for 欧阳晓东 and pass B ×; the scrutineer looks at the paper
# and finds ×: 欧阳晓东 has 1 yes, where pass A's entries say 2.
PASS_B = [*FILLED[:7], ["yes", "abstain", "blank", "yes", "no"]]


def enter_differing_batch(h: Hall, after_pass_a: Callable[[], None] = lambda: None) -> int:
    """Pass A enters FILLED, pass B PASS_B; a scrutineer resolves the one difference for B."""
    body = {"declared_count": 8, "teller_a_id": h.teller_ids[0], "teller_b_id": h.teller_ids[1]}
    batch = expect(h.api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    path = f"/api/batches/{batch['id']}/papers"
    for tag, teller, papers in (("a", h.tellers[0], FILLED), ("b", h.tellers[1], PASS_B)):
        for n, marks in enumerate(papers):
            expect(teller.post(path, json=seed_paper(h.payload, f"{tag}-{n}", marks)), 201)
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


def decide_and_certify(h: Hall, round_id: int) -> None:
    """The chief scrutineer decides the round; the chief and a scrutineer sign it."""
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
    decide_and_certify(h, h.round_id)
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)
    tie: dict[str, Any] = expect(
        h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 201
    )
    issue_and_collect(h.api, tie["id"], printed=10, issued=8, collected=8)
    enter_round(h, settings, tie, TIE_PAPERS)
    decide_and_certify(h, tie["id"])
    return tie


def tie_round_opened(api: Api, settings: Settings) -> tuple[Hall, dict[str, Any]]:
    """Round 1 (2 seats) tied at the last seat, decided, certified and released; its tie round
    opened (M5, M7), papers not yet issued."""
    h = hall(api, settings, seats=2)
    batch = new_batch(h, h.round_id, 8)
    enter(h, batch, [(m, []) for m in TIED], payload=h.payload, candidates=SEED_BALLOT_ORDER,
          tag="1")  # fmt: skip
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    certify(h, h.round_id)
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)  # C3 first
    tie = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 201)
    return h, tie


ZHAO = "赵六"  # a teller of the congress, written in on the papers
# 王宁 8, 刘洋 8, 赵六 (written in) 5, 李娜 3 of 8 present: threshold 5, three seats.
WRITTEN_IN = [(["yes", "yes", "no", "no", "no"], [ZHAO])] * 5 + [
    (["yes", "yes", "yes", "no", "no"], [])
] * 3


# ---------------------------------------------------------------- exported records, rewritten


def record_congress(api: Api) -> tuple[int, int]:
    """A congress of 12 delegates, 10 checked in, and an election of 丁一 and 王宁 for one seat:
    (congress id, election id), before any round."""
    congress = make_congress(api, delegates_total=12)
    delegates = make_roster(api, congress.id, 12)
    election = make_election(api, congress.id, seats=1)
    for name in ("丁一", "王宁"):
        add_candidate(api, election.id, name)
    check_in(api, congress.id, delegates[:10])
    return congress.id, election.id


def export(app: FastAPI, settings: Settings, election_id: int, directory: Path) -> Path:
    """The election's record (what ``jipiao audit export`` writes) in ``directory``."""
    with app.state.sessionmaker.begin() as session:
        export_record(
            session, election_id=election_id, data_dir=settings.data_dir, directory=directory
        )
    return directory


def enter_batch_with_a_slip(
    h: Hall, papers: list[list[str]], *, batch_id: int | None = None, slip: bool = True
) -> int:
    """Pass B enters the first paper with 李娜 ``yes`` instead of what pass A (correctly) read."""
    if batch_id is None:
        body = {"declared_count": len(papers), "teller_a_id": h.teller_ids[0],
                "teller_b_id": h.teller_ids[1]}  # fmt: skip
        batch = expect(h.api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    else:
        batch = {"id": batch_id}
    for tag, teller in zip("ab", h.tellers, strict=True):
        for n, marks in enumerate(papers):
            read = list(marks)
            if slip and tag == "b" and n == 0:
                read[2] = "yes"
            body = seed_paper(h.payload, f"{tag}-{n}-{slip}", read)
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=body), 201)
    batch_id: int = batch["id"]
    return batch_id


def certified_record(api: Api, app: FastAPI, settings: Settings, directory: Path) -> Path:
    """A hall's round entered (one difference resolved by a scrutineer: 李娜 abstained),
    decided and certified; its election's record exported to ``directory``."""
    h = hall(api, settings, seats=3)
    enter_batch(h, FILLED[:5])
    batch_id = enter_batch_with_a_slip(h, FILLED[5:])
    resolution = {
        "records": [{"marks": dict(zip(SEED_BALLOT_ORDER, FILLED[5], strict=True))}],
        "reason": "核对原票：李娜弃权",
    }
    resolved = expect(
        h.scrutineer.post(f"/api/batches/{batch_id}/resolution", json=resolution), 200
    )
    assert resolved["progress"]["status"] == "reconciled"
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    assert expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)["certified"]
    return export(app, settings, h.ready.election.id, directory)


def rewrite(
    record: Path, settings: Settings, change: Callable[[list[StoredEvent]], list[StoredEvent]]
) -> None:
    """An insider with the installation key: edit the events, re-hash the chain, re-sign."""
    events = change(parse_event_lines((record / EVENTS_FILE).read_bytes()))
    head: tuple[int, str] | None = None
    rebuilt: list[StoredEvent] = []
    for stored in events:
        e = stored.event
        event, digest = next_event(
            chain=e.chain, head=head, type=e.type, payload=e.payload, at=e.at,
            actor_role=e.actor_role,
        )  # fmt: skip
        rebuilt.append(StoredEvent(event, digest))
        head = (event.height, digest)
    data = b"".join(event_line(stored) for stored in rebuilt)
    manifest = json.loads((record / MANIFEST_FILE).read_bytes())
    body = manifest_body(
        congress=manifest["body"]["congress"],
        election=manifest["body"]["election"],
        events=rebuilt,
        events_sha256=hashlib.sha256(data).hexdigest(),
    )
    key = signing_key(settings.data_dir)
    signed: dict[str, JsonValue] = {
        "body": body,
        "public_key": public_key_hex(key),
        "signature": key.sign(signed_message(body)).hex(),
    }
    (record / EVENTS_FILE).write_bytes(data)
    (record / MANIFEST_FILE).write_bytes(canonical_json(signed) + b"\n")
    assert check_record(record).problem is None  # the chain and the signature still hold


def with_payload(stored: StoredEvent, payload: dict[str, JsonValue]) -> StoredEvent:
    e = stored.event
    return StoredEvent(
        type(e)(e.chain, e.height, e.parent, e.type, payload, e.at, e.actor_role), stored.hash
    )


# ---------------------------------------------------------------- an election's events made by hand

_CANDIDATES = ("丁一", "王宁", "李强")
_MARKS = ("yes", "no", "abstain", "blank", "unclear")


def election_events(papers: int = 24, seed: int = 1, batch: int = 5) -> list[StoredEvent]:
    """A congress with one decided and certified round, entered twice per batch, with a
    resolved batch, a re-entered one and events of other shapes."""
    rng = random.Random(seed)
    events: list[StoredEvent] = []

    def add(kind: str, payload: dict[str, JsonValue], role: str = "admin") -> str:
        head = (events[-1].event.height, events[-1].hash) if events else None
        event, digest = next_event(
            chain=7, head=head, type=kind, payload=payload, at="2026-11-14T11:05Z", actor_role=role
        )
        events.append(StoredEvent(event, digest))
        return digest

    add("congress.created", {"congress_id": 7, "name": "大会 \"特别\"\n", "delegates_total":
        papers + 3, "starts_on": None, "ends_on": None})  # fmt: skip
    definition = RoundDefinition(seats=2, candidates=_CANDIDATES)
    frozen = freeze_round(definition, election_id=1, round_number=1)
    add("round.opened", {"round_id": 1, "election_id": 1, "number": 1, "kind": "regular",
        "follows_round_id": None, "definition": frozen.document,
        "definition_hash": frozen.hash})  # fmt: skip
    add("round.papers_issued", {"round_id": 1, "printed": papers, "issued": papers,
        "destroyed": 0, "present": papers})  # fmt: skip
    add("round.papers_collected", {"round_id": 1, "collected": papers, "issued": papers})
    add("note", {"text": "\u2028 \\ \t 汉 😀", "n": [-(2**53) + 1, 2**53 - 1, 0], "ok": True})
    finals: list[str] = []
    batch_id = 0
    left = papers
    while left:
        batch_id += 1
        size = min(batch, left)
        left -= size
        add("batch.created", {"round_id": 1, "batch_id": batch_id, "number": batch_id,
            "declared_count": size, "teller_a_id": 1, "teller_b_id": 2})  # fmt: skip
        records: list[dict[str, JsonValue]] = [
            {"marks": rng.choices(_MARKS[:4], k=3), "void": None, "write_ins": []}
            for _ in range(size)
        ]
        generations = 2 if batch_id == 2 else 1
        for generation in range(1, generations + 1):
            for entry_pass in ("a", "b"):
                for n, record in enumerate(records):
                    entered = record
                    if batch_id == 1 and entry_pass == "b" and n == 0:
                        entered = {**record, "marks": ["unclear", "yes", "no"]}
                    add("paper.entered", {"round_id": 1, "round_number": 1, "batch_id": batch_id,
                        "pass": entry_pass, "generation": generation, "paper_id": f"{n}",
                        "record": entered, "status": "valid", "rule": None},
                        role="teller")  # fmt: skip
            if generation < generations:
                add("batch.reentry_ordered", {"batch_id": batch_id, "discarded_generation":
                    generation, "reason": "重新录入"})  # fmt: skip
        if batch_id == 1:
            add("batch.resolved", {"batch_id": 1, "generation": 1, "records": [records[0]]})
        add("batch.reconciled", {"batch_id": batch_id, "generation": generations,
            "papers": size}, role="teller")  # fmt: skip
        finals.extend(canonical_json(r).decode() for r in records)
    papers_in = sorted(paper_of(t) for t in final_record_texts(Counter(finals), None, None))
    attendance = Attendance(delegates_total=papers + 3, present=papers, issued=papers,
                            collected=papers)  # fmt: skip
    result = json.loads(json.dumps(round_result_json(count_round(definition, attendance,
                        papers_in))))  # fmt: skip
    decision = add("round.decided", {"round_id": 1, "definition_hash": frozen.hash,
                   "result": result}, role="chief_scrutineer")  # fmt: skip
    add("round.signed", {"round_id": 1, "decision": decision, "official_id": 3,
        "role": "chief_scrutineer"})  # fmt: skip
    add("round.certified", {"round_id": 1, "decision": decision, "signers": [3]})
    return events


# ---------------------------------------------------------------- an installation made once

PUBLIC_URL = "http://hall.example:8000"


@dataclass(frozen=True)
class Installed(Generic[T]):
    """An installation built once for a test module (``install_once``) and copied for each of its
    tests (``copy_installation``, and on PostgreSQL a copy of the database): the data folder (the
    keys; on SQLite the database too), the database, the admin token, what the build returned."""

    folder: Path
    database_url: str
    admin_token: str
    built: T


def install_once(
    folder: Path, database_url: str, build: Callable[[Api, Settings], T]
) -> Installed[T]:
    """Runs ``build`` through the HTTP API of an app on the migrated, empty database at
    ``database_url`` with the data folder ``folder``, and stops the app: a test that copies them
    starts its own app on the copy, as the server does after a restart."""
    settings = Settings(database_url=database_url, data_dir=folder, public_url=PUBLIC_URL)
    app = create_app(settings)
    with TestClient(app) as client:
        token = admin_token_of(app)
        built = build(Api(client, token), settings)
    return Installed(folder, database_url, token, built)


def admin_token_of(app: FastAPI) -> str:
    """The secretariat's token of the app's installation (made on first use)."""
    with app.state.sessionmaker.begin() as session:
        token = auth_service.ensure_admin_token(session)
    assert token is not None
    return token


def copy_installation(installed: Installed[Any], folder: Path) -> None:
    """The installation's data folder copied into ``folder`` (on SQLite: its database too)."""
    shutil.copytree(installed.folder, folder, dirs_exist_ok=True)
