"""Per-paper records are served only to the auditor and the scrutineers (issue 20 item 9).

A paper's record is its pattern of marks. With five candidates and yes/no/abstain/blank there are
hundreds of patterns, and a write-in makes one unique: a delegate told "vote 王宁 yes, 刘洋
abstain, 李娜 no, write in 赵六" can be checked in any per-paper listing (the "Italian attack").
So the record bundle, the NIST cast-vote records and the records inside the event chain go to the
roles that must check the count (the auditor, the scrutineers); every other reader sees the
totals and the chain without the marks.
"""

import pytest

from app.auth import Role
from tests.builders import Api, expect, login_as
from tests.results.test_results_api import FILLED, enter_batch, hall

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
