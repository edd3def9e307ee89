"""Separation of duties (issue 20 item 3), over HTTP on both databases: once a round is open the
secretariat alone can neither give itself a counting or signing login nor change the officials;
a presidium member's confirmation is needed and recorded; a new code ends earlier sessions; the
audit answer names each signature's session and how its code was issued."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from app.audit.record import check_record
from app.cli import main
from app.ledger.chain import JsonValue, canonical_json, next_event
from app.ledger.replay import StoredEvent, replay_rounds
from app.settings import Settings
from tests.builders import (
    FILLED,
    Api,
    enter_batch,
    expect,
    hall,
    issue_code,
    login_as,
    login_official,
    make_ready_election,
    open_round,
    rewrite,
    with_payload,
)


def _events(api: Api, congress_id: int, kind: str) -> list[dict[str, object]]:
    events = expect(api.get(f"/api/congresses/{congress_id}/events"), 200)
    return [e for e in events if e["type"] == kind]


def test_admin_alone_cannot_staff_the_count_once_a_round_is_open(api: Api) -> None:
    ready = make_ready_election(api)
    congress = ready.congress.id
    presidium = login_as(api, congress, "presidium", name="主席甲")  # before voting: alone
    me = expect(presidium.get("/api/auth/me"), 200)
    open_round(api, ready.election.id)
    chief = ready.officials["chief_scrutineer"][0]
    officials = f"/api/congresses/{congress}/officials"
    before = expect(api.get(officials), 200)
    issued_before = len(_events(api, congress, "official.login_code_issued"))

    # The attack: a code for the chief scrutineer, a third scrutineer, a removal — refused.
    refused = expect(api.post(f"{officials}/{chief.id}/login-code"), 409)
    assert refused["code"] == "presidium_confirmation_required"
    assert "主席团" in refused["message_zh"]
    assert "confirm" in refused["message_en"]
    third = {"name": "第三监票人", "role": "scrutineer"}
    assert expect(api.post(officials, json=third), 409)["code"] == (
        "presidium_confirmation_required"
    )
    teller = ready.officials["teller"][0]
    assert expect(api.delete(f"{officials}/{teller.id}"), 409)["code"] == (
        "presidium_confirmation_required"
    )
    assert expect(api.get(officials), 200) == before  # nothing changed, no code pending
    assert len(_events(api, congress, "official.login_code_issued")) == issued_before

    # The same change as a request; only a presidium member confirms it, and it is recorded.
    changes = f"/api/congresses/{congress}/official-changes"
    change = expect(api.post(changes, json={"action": "add"} | third), 201)
    assert not change["confirmed"]
    assert len(expect(api.get(officials), 200)) == len(before)  # pending: nothing yet
    confirm = f"/api/official-changes/{change['id']}/confirm"
    assert expect(api.post(confirm), 403)["code"] == "forbidden"
    a_teller = login_official(api, congress, teller.id)
    expect(a_teller.post(confirm), 403)
    done = expect(presidium.post(confirm), 200)
    assert done["official"]["name"] == "第三监票人"
    assert done["change"]["confirmed_by"] == me["official_id"]
    assert done["change"]["confirmed_by_name"] == "主席甲"
    assert isinstance(done["change"]["confirmed_session_id"], int)
    assert expect(presidium.post(confirm), 409)["code"] == "official_change_confirmed"

    code_change = {"action": "login_code", "official_id": chief.id}
    pending = expect(api.post(changes, json=code_change), 201)
    done = expect(presidium.post(f"/api/official-changes/{pending['id']}/confirm"), 200)
    code = done["login_code"]["code"]  # shown to the confirming presidium member only
    session = expect(api.as_token(None).post("/api/auth/login", json={"code": code}), 200)
    assert session["role"] == "chief_scrutineer"
    issued = _events(api, congress, "official.login_code_issued")[-1]
    assert issued["actor_role"] == "presidium"
    payload = issued["payload"]
    assert isinstance(payload, dict)
    assert payload["official_id"] == chief.id
    assert payload["issued_by"] == "admin"
    assert payload["voting_begun"] is True
    assert payload["confirmation"]["official_id"] == me["official_id"]
    confirmed = _events(api, congress, "official.change_confirmed")
    confirmed_ids = [e["payload"]["change_id"] for e in confirmed]  # type: ignore[index]
    assert change["id"] in confirmed_ids
    assert confirmed_ids[-1] == pending["id"]
    listed = {c["id"]: c for c in expect(api.get(changes), 200)}
    assert listed[pending["id"]]["action"] == "login_code"
    assert listed[pending["id"]]["confirmed"]
    assert listed[change["id"]]["confirmed_by"] == me["official_id"]


def test_a_presidium_member_cannot_confirm_about_themselves(api: Api) -> None:
    ready = make_ready_election(api)
    congress = ready.congress.id
    first = login_as(api, congress, "presidium", name="主席甲")
    second = login_as(api, congress, "presidium", name="主席乙")
    open_round(api, ready.election.id)
    first_id = expect(first.get("/api/auth/me"), 200)["official_id"]
    officials = f"/api/congresses/{congress}/officials"
    # Another presidium member exists: the first one's new code needs the second's confirmation.
    refused = expect(api.post(f"{officials}/{first_id}/login-code"), 409)
    assert refused["code"] == "presidium_confirmation_required"
    changes = f"/api/congresses/{congress}/official-changes"
    change = expect(api.post(changes, json={"action": "login_code", "official_id": first_id}), 201)
    confirm = f"/api/official-changes/{change['id']}/confirm"
    assert expect(first.post(confirm), 403)["code"] == "confirm_own_change"
    expect(second.post(confirm), 200)
    expect(first.get("/api/auth/me"), 401)  # the new code ended the earlier session


def test_the_only_presidium_members_code_is_issued_alone_and_shown(api: Api) -> None:
    ready = make_ready_election(api)
    congress = ready.congress.id
    only = login_as(api, congress, "presidium", name="主席甲")
    only_id = expect(only.get("/api/auth/me"), 200)["official_id"]
    open_round(api, ready.election.id)
    # Nobody else could confirm: the secretariat issues it, and the audit answer shows it.
    expect(api.post(f"/api/congresses/{congress}/officials/{only_id}/login-code"), 200)
    duties = expect(api.get(f"/api/audit/congresses/{congress}/duties"), 200)
    last = duties["code_issuances"][-1]
    assert last["official_id"] == only_id
    assert last["role"] == "presidium"
    assert last["alone_after_voting_begun"] is True
    assert last["confirmation"] is None
    assert last["sessions_ended"] == 1
    assert not any(i["alone_after_voting_begun"] for i in duties["code_issuances"][:-1])


def test_a_new_code_ends_the_earlier_sessions(api: Api) -> None:
    ready = make_ready_election(api)
    congress = ready.congress.id
    teller = ready.officials["teller"][0]
    old = login_official(api, congress, teller.id)
    older = login_official(api, congress, teller.id)  # its second code ends the first session
    expect(old.get("/api/auth/me"), 401)
    other = login_official(api, congress, ready.officials["teller"][1].id)
    expect(older.get("/api/auth/me"), 200)
    issue_code(api, congress, teller.id)  # a lost tablet: a new code, not yet used
    expect(older.get("/api/auth/me"), 401)
    expect(other.get("/api/auth/me"), 200)  # only that person's sessions end


def test_admin_may_not_enter_decide_or_sign(api: Api, settings: Settings) -> None:
    h = hall(api, settings, seats=3)
    body = {"declared_count": 1, "teller_a_id": h.teller_ids[0], "teller_b_id": h.teller_ids[1]}
    batch = expect(api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    paper = {"idempotency_key": "x", "qr_payload": h.payload, "marks": {}, "write_ins": []}
    assert expect(api.post(f"/api/batches/{batch['id']}/papers", json=paper), 403)["code"] == (
        "forbidden"
    )
    assert expect(api.post(f"/api/rounds/{h.round_id}/decide"), 403)["code"] == "forbidden"
    assert expect(api.post(f"/api/rounds/{h.round_id}/sign"), 403)["code"] == "forbidden"


def test_the_audit_answer_names_each_signatures_session_and_code(
    api: Api, settings: Settings
) -> None:
    h = hall(api, settings, seats=3)  # the chief's and scrutineer's codes: after the round opened
    enter_batch(h, FILLED)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    signed = expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    assert signed["certified"]
    assert all(isinstance(s["session"]["id"], int) for s in signed["signatures"])
    assert "token" not in str(signed["signatures"])

    congress = h.ready.congress.id
    duties = expect(h.presidium.get(f"/api/audit/congresses/{congress}/duties"), 200)
    chief_id = h.ready.officials["chief_scrutineer"][0].id
    scrutineer_id = h.ready.officials["scrutineer"][0].id
    signers = {s["official_id"]: s for s in duties["signatures"]}
    assert set(signers) == {chief_id, scrutineer_id}
    assert signers[chief_id]["name"] == "chief_scrutineer1号"
    assert signers[chief_id]["session_id"] != signers[scrutineer_id]["session_id"]
    for signer in signers.values():
        code = signer["code"]
        assert code["issued_by"] == "admin"
        assert code["confirmation"]["name"] == "主席团确认人"  # the builder's presidium member
        assert len(code["event"]) == 64
    issued = {i["official_id"]: i for i in duties["code_issuances"]}
    assert issued[chief_id]["confirmation"] is not None
    assert issued[chief_id]["issued_at"] == signers[chief_id]["code"]["issued_at"]
    expect(h.tellers[0].get(f"/api/audit/congresses/{congress}/duties"), 403)

    # The report prints the same: who signed, with which session, its code issued by whom.
    response = h.presidium.get(f"/api/rounds/{h.round_id}/report.pdf")
    assert response.status_code == 200, response.text
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True,
        check=True, timeout=60,
    ).stdout.decode("utf-8")  # fmt: skip
    assert "系统签字记录" in text
    for signer in signers.values():
        assert f"session {signer['session_id']}" in text
        assert f"会话 {signer['session_id']}" in text
    assert text.count("confirmed by 主席团确认人") == 2


def _remapped(value: JsonValue, hashes: dict[str, str]) -> JsonValue:
    if isinstance(value, str):
        return hashes.get(value, value)
    if isinstance(value, list):
        return [_remapped(v, hashes) for v in value]
    if isinstance(value, dict):
        return {k: _remapped(v, hashes) for k, v in value.items()}
    return value


def rewrite_remapping(
    record: Path, settings: Settings, change: Callable[[list[StoredEvent]], list[StoredEvent]]
) -> None:
    """``rewrite``, and every event hash a later payload names (a decision, a code's issuance)
    follows its event's new hash: a careful insider's rewrite."""
    hashes: dict[str, str] = {}

    def change_and_remap(events: list[StoredEvent]) -> list[StoredEvent]:
        changed = change(events)
        head: tuple[int, str] | None = None
        out = []
        for stored in changed:
            e = stored.event
            payload = _remapped(json.loads(canonical_json(e.payload)), hashes)
            assert isinstance(payload, dict)
            event, digest = next_event(
                chain=e.chain, head=head, type=e.type, payload=payload, at=e.at,
                actor_role=e.actor_role,
            )  # fmt: skip
            hashes[stored.hash] = digest
            head = (event.height, digest)
            out.append(StoredEvent(event, digest))
        return out

    rewrite(record, settings, change_and_remap)


def test_the_replay_refuses_a_signature_whose_code_had_no_confirmation(
    certified: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """An insider rewrites the record (and re-signs it) so that the chief scrutineer's code,
    issued after voting began, carries no presidium confirmation: the replay names it."""
    replay = replay_rounds(check_record(certified).events)
    assert replay.problem is None

    def drop_confirmations(events: list[StoredEvent]) -> list[StoredEvent]:
        out = []
        for stored in events:
            payload = json.loads(canonical_json(stored.event.payload))
            if stored.event.type == "official.login_code_issued":
                payload["confirmation"] = None
                stored = with_payload(stored, payload)
            elif stored.event.type == "round.signed":
                payload["session"]["code"]["confirmation"] = None
                stored = with_payload(stored, payload)
            out.append(stored)
        return out

    rewrite_remapping(certified, settings, drop_confirmations)
    assert main(["audit", "verify", str(certified)]) == 1
    out = capsys.readouterr().out
    assert "without a presidium confirmation" in out


def test_the_replay_refuses_a_signature_repeating_other_issuance_facts(
    certified: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    def claim_another_confirmer(events: list[StoredEvent]) -> list[StoredEvent]:
        out = []
        for stored in events:
            if stored.event.type == "round.signed":
                payload = json.loads(canonical_json(stored.event.payload))
                payload["session"]["code"]["confirmation"]["name"] = "别人"
                stored = with_payload(stored, payload)
            out.append(stored)
        return out

    rewrite(certified, settings, claim_another_confirmer)
    assert main(["audit", "verify", str(certified)]) == 1
    assert "repeats other issuance facts" in capsys.readouterr().out
