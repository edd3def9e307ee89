"""Per-paper records are served only to the auditor and the scrutineers (issue 20 item 9).

A paper's record is its pattern of marks. With five candidates and yes/no/abstain/blank there are
hundreds of patterns, and a write-in makes one unique: a delegate told "vote 王宁 yes, 刘洋
abstain, 李娜 no, write in 赵六" can be checked in any per-paper listing (the "Italian attack").
So the record bundle, the NIST cast-vote records and the records inside the event chain go to the
roles that must check the count (the auditor, the scrutineers); every other reader sees the
totals and the chain without the marks.
"""

import pytest

from app.auth.roles import Role
from tests.builders import FILLED, SEED_BALLOT_ORDER, Api, enter_batch, expect, hall, login_as

PAPERS = {Role.chief_scrutineer, Role.scrutineer, Role.auditor}
LEDGER = {Role.admin, Role.chief_scrutineer, Role.scrutineer, Role.presidium, Role.auditor}


@pytest.fixture
def counted(api: Api, settings: object) -> tuple[dict[Role, Api], int, int]:
    h = hall(api, settings, seats=3)  # type: ignore[arg-type]
    enter_batch(h, FILLED)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    congress = h.ready.congress.id
    callers = {role: login_as(api, congress, role.value, name=f"{role.value}本人")
               for role in Role if role is not Role.admin}  # fmt: skip
    callers[Role.admin] = api
    return callers, congress, h.ready.election.id


def test_record_bundle_and_cvr(counted: tuple[dict[Role, Api], int, int]) -> None:
    callers, _, election = counted
    for role, caller in callers.items():
        bundle = caller.get(f"/api/elections/{election}/record")
        cvr = caller.get(f"/api/elections/{election}/results.nist-cvr.json")
        totals = caller.get(f"/api/elections/{election}/results.json")
        if role in PAPERS:
            assert bundle.status_code == 200, (role, bundle.text)
            assert len(expect(cvr, 200)["CVR"]) == len(FILLED)
        else:
            assert expect(bundle, 403)["code"] == "forbidden", role
            assert expect(cvr, 403)["code"] == "forbidden", role
        assert totals.status_code == (200 if role in LEDGER else 403), role


def test_the_chain_without_marks_for_other_readers(
    counted: tuple[dict[Role, Api], int, int],
) -> None:
    callers, congress, _ = counted
    full = expect(callers[Role.auditor].get(f"/api/congresses/{congress}/events"), 200)
    entered = [e for e in full if e["type"] == "paper.entered"]
    assert len(entered) == 2 * len(FILLED)
    assert entered[0]["payload"]["record"]["marks"] == FILLED[0]
    for role in (Role.admin, Role.presidium):
        shown = expect(callers[role].get(f"/api/congresses/{congress}/events"), 200)
        assert [e["hash"] for e in shown] == [e["hash"] for e in full]
        for event, whole in zip(shown, full, strict=True):
            assert "record" not in event["payload"]
            assert "records" not in event["payload"]
            kept = {k: v for k, v in whole["payload"].items() if k not in ("record", "records")}
            assert event["payload"] == kept
        assert "'marks'" not in str(shown)  # the totals of round.decided stay
    for role in (Role.chief_scrutineer, Role.scrutineer):
        assert expect(callers[role].get(f"/api/congresses/{congress}/events"), 200) == full


def test_disputed_papers_in_the_chain_are_papers_too(api: Api, settings: object) -> None:
    """A discrepancy's and an unclear mark's papers (batch.discrepancy, needs_adjudication)
    carry marks like paper.entered: the admin and the presidium get the event without them."""
    h = hall(api, settings, seats=3)  # type: ignore[arg-type]
    body = {"declared_count": 2, "teller_a_id": h.teller_ids[0], "teller_b_id": h.teller_ids[1]}
    batch = expect(h.api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    passes = {
        "a": [["yes", "yes", "yes", "no", "no"], ["yes", "unclear", "no", "no", "no"]],
        "b": [["yes", "yes", "abstain", "no", "no"], ["yes", "unclear", "no", "no", "no"]],
    }
    for (tag, papers), teller in zip(passes.items(), h.tellers, strict=True):
        for n, marks in enumerate(papers):
            paper = {"idempotency_key": f"{tag}-{n}", "qr_payload": h.payload,
                     "marks": dict(zip(SEED_BALLOT_ORDER, marks, strict=True)),
                     "write_ins": [], "void": None}  # fmt: skip
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=paper), 201)
    congress = h.ready.congress.id
    auditor = login_as(api, congress, "auditor", name="审计本人")
    presidium = login_as(api, congress, "presidium", name="主席团本人")
    full = expect(auditor.get(f"/api/congresses/{congress}/events"), 200)
    (disputed,) = [e for e in full if e["type"] == "batch.discrepancy"]
    assert disputed["payload"]["only_in_pass_a"]
    assert disputed["payload"]["unclear"]
    for caller in (api, presidium):
        shown = expect(caller.get(f"/api/congresses/{congress}/events"), 200)
        assert [e["hash"] for e in shown] == [e["hash"] for e in full]
        assert "'marks'" not in str(shown)
