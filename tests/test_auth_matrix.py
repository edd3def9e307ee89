"""The role matrix: every endpoint, called by every role, answers 403 exactly when it should.

A new endpoint must be added to EXPECTED (test_every_route_is_in_the_matrix fails otherwise).
"""

import pytest
from fastapi import FastAPI

from app.auth.roles import ROLE_PERMISSIONS, Permission, Role
from tests.builders import (
    Api,
    add_candidate,
    expect,
    issue_code,
    login_as,
    make_congress,
    make_election,
    make_official,
    make_roster,
)

ALL = frozenset(Role)
ADMIN = frozenset({Role.admin})
ROSTER = frozenset({Role.admin, Role.presidium, Role.auditor})
LEDGER = frozenset(
    {Role.admin, Role.chief_scrutineer, Role.scrutineer, Role.presidium, Role.auditor}
)
# Per-paper records (the record bundle, the CVR, the marks in the chain): a unique pattern of
# marks can show how someone voted, so not the admin nor the presidium.
PAPERS = frozenset({Role.chief_scrutineer, Role.scrutineer, Role.auditor})
CHECK_PAPERS = frozenset(
    {Role.admin, Role.chief_scrutineer, Role.scrutineer, Role.chief_teller, Role.teller}
)
ENTER_PAPERS = frozenset({Role.chief_teller, Role.teller})
MANAGE_BATCHES = frozenset({Role.admin, Role.chief_teller})
ADJUDICATE = frozenset({Role.chief_scrutineer, Role.scrutineer})
CERTIFY = frozenset({Role.chief_scrutineer, Role.scrutineer})
PRESIDIUM = frozenset({Role.presidium})
PUBLIC = None  # no login needed

EXPECTED: dict[tuple[str, str], frozenset[Role] | None] = {
    ("GET", "/api/health"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("GET", "/api/auth/login-qr.svg"): PUBLIC,
    ("GET", "/api/auth/login-qr.png"): PUBLIC,
    ("POST", "/api/auth/logout"): ALL - ADMIN,  # the admin token is permanent
    ("GET", "/api/auth/me"): ALL,
    ("POST", "/api/congresses"): ADMIN,
    ("GET", "/api/congresses"): ALL,
    ("GET", "/api/congresses/{congress_id}"): ALL,
    ("PATCH", "/api/congresses/{congress_id}"): ADMIN,
    ("POST", "/api/congresses/{congress_id}/roster"): ADMIN,
    ("POST", "/api/congresses/{congress_id}/roster/preview"): ADMIN,
    ("GET", "/api/congresses/{congress_id}/delegates"): ROSTER,
    ("DELETE", "/api/congresses/{congress_id}/delegates/{delegate_id}"): ADMIN,
    ("POST", "/api/congresses/{congress_id}/delegates/{delegate_id}/check-in"): ADMIN,
    ("POST", "/api/congresses/{congress_id}/delegates/{delegate_id}/check-out"): ADMIN,
    ("POST", "/api/congresses/{congress_id}/check-in"): ADMIN,
    ("GET", "/api/congresses/{congress_id}/attendance"): ALL,
    ("POST", "/api/congresses/{congress_id}/elections"): ADMIN,
    ("GET", "/api/congresses/{congress_id}/elections"): ALL,
    ("GET", "/api/elections/{election_id}"): ALL,
    ("PATCH", "/api/elections/{election_id}"): ADMIN,
    ("GET", "/api/elections/{election_id}/candidates"): ALL,
    ("GET", "/api/elections/{election_id}/readiness"): ALL,
    ("POST", "/api/elections/{election_id}/candidates"): ADMIN,
    ("DELETE", "/api/elections/{election_id}/candidates/{candidate_id}"): ADMIN,
    ("GET", "/api/congresses/{congress_id}/officials"): ALL,
    ("POST", "/api/congresses/{congress_id}/officials"): ADMIN,
    ("DELETE", "/api/congresses/{congress_id}/officials/{official_id}"): ADMIN,
    ("POST", "/api/congresses/{congress_id}/officials/{official_id}/login-code"): ADMIN,
    ("POST", "/api/congresses/{congress_id}/login-cards"): ADMIN,
    ("GET", "/api/congresses/{congress_id}/staffing"): ALL,
    # Separation of duties (issue 20 item 3): the admin requests, the presidium confirms.
    ("POST", "/api/congresses/{congress_id}/official-changes"): ADMIN,
    ("GET", "/api/congresses/{congress_id}/official-changes"): LEDGER,
    ("POST", "/api/official-changes/{change_id}/confirm"): PRESIDIUM,
    ("GET", "/api/audit/congresses/{congress_id}/duties"): LEDGER,
    ("GET", "/api/congresses/{congress_id}/events"): LEDGER,
    ("GET", "/api/congresses/{congress_id}/events/verify"): LEDGER,
    # Rounds and papers (ids of rounds/batches that do not exist: 404 once past the role check)
    ("POST", "/api/elections/{election_id}/rounds"): ADMIN,
    ("GET", "/api/elections/{election_id}/rounds"): ALL,
    ("GET", "/api/rounds/{round_id}"): ALL,
    ("POST", "/api/rounds/{round_id}/scan"): CHECK_PAPERS,
    ("POST", "/api/rounds/{round_id}/read-paper"): ENTER_PAPERS,  # a teller's photo (issue 22)
    ("GET", "/api/rounds/{round_id}/papers.pdf"): ADMIN,
    ("POST", "/api/rounds/{round_id}/issuance"): ADMIN,
    ("POST", "/api/rounds/{round_id}/collection"): ADMIN,
    # Counting
    ("POST", "/api/rounds/{round_id}/batches"): MANAGE_BATCHES,
    ("GET", "/api/rounds/{round_id}/batches"): ALL,
    ("GET", "/api/rounds/{round_id}/count-status"): ALL,
    ("GET", "/api/rounds/{round_id}/adjudication"): ADJUDICATE,
    ("POST", "/api/batches/{batch_id}/papers"): ENTER_PAPERS,  # not the presidium, not admin
    ("GET", "/api/batches/{batch_id}/papers"): ENTER_PAPERS,  # own pass only
    ("POST", "/api/batches/{batch_id}/resolution"): ADJUDICATE,  # not a teller
    ("POST", "/api/batches/{batch_id}/reentry"): ADJUDICATE,
    ("GET", "/api/congresses/{congress_id}/name-suggestions"): CHECK_PAPERS,
    # Decide, certify, follow up, report
    ("POST", "/api/rounds/{round_id}/decide"): CERTIFY,
    ("GET", "/api/rounds/{round_id}/decision"): LEDGER,
    ("POST", "/api/rounds/{round_id}/sign"): CERTIFY,
    ("POST", "/api/rounds/{round_id}/follow-up"): PRESIDIUM,
    ("POST", "/api/rounds/{round_id}/correction"): PRESIDIUM,
    ("POST", "/api/rounds/{round_id}/cancel"): PRESIDIUM,
    ("POST", "/api/rounds/{round_id}/ineligible"): PRESIDIUM,
    ("POST", "/api/rounds/{round_id}/void"): PRESIDIUM,
    ("POST", "/api/elections/{election_id}/reduce-seats"): PRESIDIUM,
    ("GET", "/api/elections/{election_id}/result"): ALL,
    ("GET", "/api/rounds/{round_id}/report.pdf"): LEDGER,
    ("GET", "/api/elections/{election_id}/results.{format}"): LEDGER,
    ("GET", "/api/elections/{election_id}/record"): PAPERS,
    ("GET", "/api/audit/keys"): LEDGER,  # fingerprints only, never a key
    # Live (the stream answers one JSON snapshot without Accept: text/event-stream)
    ("GET", "/api/elections/{election_id}/live"): ALL,
    ("POST", "/api/rounds/{round_id}/release"): PRESIDIUM,
}


def _api_routes(app: FastAPI) -> set[tuple[str, str]]:
    # Every route is in the OpenAPI document (none is hidden with include_in_schema=False).
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api")
        for method in operations
    }


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    assert _api_routes(app) == set(EXPECTED)


def test_auditor_reads_only() -> None:
    for (method, path), roles in EXPECTED.items():
        if roles is not None and Role.auditor in roles and path != "/api/auth/logout":
            assert method == "GET", path


def test_permissions_of_the_counting_roles() -> None:
    assert Permission.enter_papers not in ROLE_PERMISSIONS[Role.presidium]
    assert Permission.manage_setup not in ROLE_PERMISSIONS[Role.teller]
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.enter_papers in p} == {
        Role.teller,
        Role.chief_teller,
    }
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.certify in p} == {
        Role.chief_scrutineer,
        Role.scrutineer,
    }
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.release_results in p} == {
        Role.presidium
    }
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.manage_setup in p} == {Role.admin}
    # The admin sets up, issues and collects: it never enters, decides, signs or confirms.
    assert ROLE_PERMISSIONS[Role.admin].isdisjoint(
        {
            Permission.enter_papers,
            Permission.adjudicate,
            Permission.certify,
            Permission.confirm_changes,
            Permission.read_papers,
        }
    )
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.confirm_changes in p} == {
        Role.presidium
    }
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.adjudicate in p} == ADJUDICATE
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.read_papers in p} == PAPERS
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.manage_batches in p} == (
        MANAGE_BATCHES
    )
    assert {r for r, p in ROLE_PERMISSIONS.items() if Permission.check_papers in p} == (
        CHECK_PAPERS
    )


@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(api: Api, role: Role) -> None:
    congress = make_congress(api, delegates_total=4)
    delegates = make_roster(api, congress.id, 4)
    election = make_election(api, congress.id)
    candidate = add_candidate(api, election.id, "王四").candidates[0]
    official = make_official(api, congress.id, role="teller", name="郑五")
    code = issue_code(api, congress.id, official.id).code
    caller = api if role is Role.admin else login_as(api, congress.id, role, name="本人")
    ids = {
        "congress_id": congress.id,
        "delegate_id": delegates[0].id,
        "election_id": election.id,
        "candidate_id": candidate.id,
        "official_id": official.id,
        "round_id": 999_999,
        "batch_id": 999_999,
        "change_id": 999_999,
        "format": "json",
    }
    anonymous = api.as_token(None)
    # Destructive calls last, so earlier calls still find their resources.
    for method, path in sorted(EXPECTED, key=lambda mp: (mp[0] == "DELETE", mp)):
        allowed = EXPECTED[(method, path)]
        url = path.format(**ids)
        params = {"code": code} if "login-qr" in path else None
        if allowed is not None:
            unauthenticated = anonymous.request(method, url, params=params)
            assert unauthenticated.status_code == 401, (method, path)
        if (method, path) == ("POST", "/api/auth/logout"):
            continue  # would end the caller's session; tested in test_auth.py
        response = caller.request(method, url, params=params)
        if allowed is None or role in allowed:
            assert response.status_code != 403, (role, method, path, response.text)
            assert response.status_code < 500, (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
            assert expect(response, 403)["code"] == "forbidden"
