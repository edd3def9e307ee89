"""The login-card sheet (issue 18 item 2): one card per official with name, role, congress, the
one-time code and its login QR code, eight to an A4 page; printing issues fresh codes through
the one issuing service (its events), refuses what the separation of duties refuses, and issues
nothing when it cannot print."""

import re
from pathlib import Path
from typing import Any

import pytest

from app.auth.roles import ROLE_NAMES_ZH, Role
from tests.builders import (
    Api,
    expect,
    issue_code,
    make_congress,
    make_official,
    make_ready_election,
    open_round,
)
from tests.printing.helpers import pages, scan_cards, text

URL = re.compile(r"^http://hall\.example:8000/login\?code=([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})$")


def cards(api: Api, congress_id: int, official_ids: list[int]) -> Any:
    return api.post(
        f"/api/congresses/{congress_id}/login-cards", json={"official_ids": official_ids}
    )


def issued_events(api: Api, congress_id: int) -> list[Any]:
    events = expect(api.get(f"/api/congresses/{congress_id}/events"), 200)
    return [e for e in events if e["type"] == "official.login_code_issued"]


def officials_state(api: Api, congress_id: int) -> Any:
    return expect(api.get(f"/api/congresses/{congress_id}/officials"), 200)


def test_cards_carry_a_working_code_each_and_end_earlier_codes(api: Api, tmp_path: Path) -> None:
    congress = make_congress(api, name="信息工程学院第五次学生代表大会")
    roles = ["chief_scrutineer", "chief_teller", "scrutineer", "scrutineer"]
    roles += ["teller"] * 5 + ["presidium", "auditor"]
    officials = [
        make_official(api, congress.id, role=role, name=f"工作人员{i + 1}号")
        for i, role in enumerate(roles)
    ]
    earlier = issue_code(api, congress.id, officials[0].id).code
    before = len(issued_events(api, congress.id))

    response = cards(api, congress.id, [o.id for o in officials])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes(response.content)
    assert pages(pdf) == 2  # 11 cards, 8 to a page

    codes: list[str] = []
    for page in (1, 2):
        found = scan_cards(pdf, page=page)
        assert len(found) == (8 if page == 1 else 3), found
        for url in found:
            match = URL.match(url)
            assert match, url
            codes.append(match.group(1))
    assert len(set(codes)) == len(officials)
    printed = text(pdf, page=1) + text(pdf, page=2)
    for code in codes:
        assert code in printed  # typed in by hand when no camera is at hand
    for official in officials:
        assert official.name in printed
    assert ROLE_NAMES_ZH[Role.chief_scrutineer] in printed
    assert "信息工程学院第五次学生代表大会" in printed

    # One event per card, as for a single code; the earlier code no longer logs anyone in.
    assert len(issued_events(api, congress.id)) == before + len(officials)
    anonymous = api.as_token(None)
    assert expect(anonymous.post("/api/auth/login", json={"code": earlier}), 401)
    logged_in = {}
    for code in codes:
        session = expect(anonymous.post("/api/auth/login", json={"code": code}), 200)
        logged_in[session["official_id"]] = session["role"]
    assert logged_in == {o.id: o.role for o in officials}


def test_refusals_issue_no_code(api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    congress = make_congress(api)
    other = make_congress(api, name="另一次大会")
    teller = make_official(api, congress.id, role="teller", name="郑五")
    stranger = make_official(api, other.id, role="teller", name="冯六")
    before = (issued_events(api, congress.id), officials_state(api, congress.id))

    twice = expect(cards(api, congress.id, [teller.id, teller.id]), 422)
    assert twice["code"] == "duplicate_official"
    assert (
        expect(cards(api, congress.id, [teller.id, stranger.id]), 404)["code"]
        == "official_not_found"
    )
    assert expect(cards(api, congress.id, []), 422)["code"] == "invalid_request"

    # No Chinese font: 503 font_missing, and nobody's code changed.
    monkeypatch.delenv("JIPIAO_BALLOT_FONT", raising=False)
    monkeypatch.setenv("JIPIAO_FONT_DIRS", str(tmp_path))
    missing = expect(cards(api, congress.id, [teller.id]), 503)
    assert missing["code"] == "font_missing"
    assert "字体" in missing["message_zh"]
    assert (issued_events(api, congress.id), officials_state(api, congress.id)) == before


def test_after_voting_began_counting_roles_need_the_presidium(api: Api) -> None:
    ready = make_ready_election(api)
    open_round(api, ready.election.id)
    congress_id = ready.congress.id
    auditor = make_official(api, congress_id, role="auditor", name="审计员甲")
    teller = ready.officials["teller"][0]
    before = (issued_events(api, congress_id), officials_state(api, congress_id))

    refused = expect(cards(api, congress_id, [auditor.id, teller.id]), 409)
    assert refused["code"] == "presidium_confirmation_required"
    assert refused["message_zh"].startswith("投票已经开始")
    assert (issued_events(api, congress_id), officials_state(api, congress_id)) == before

    # The auditor's card needs no confirmation (app/setup/duties.py).
    assert cards(api, congress_id, [auditor.id]).status_code == 200
