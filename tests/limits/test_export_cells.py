"""Exports cannot attack the reader (issue 20, item 2): a cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a CR is written with a leading ``'`` in CSV and XLSX (OWASP's CSV
injection rule), every string is a string cell in XLSX, and numbers stay numbers."""

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.results import exports
from app.settings import Settings
from tests.builders import (
    Api,
    expect,
    issue_and_collect,
    login_official,
    make_ready_election,
    open_round,
    roster_csv,
    upload_roster,
)

FORMULA = '=HYPERLINK("http://x","y")'
ROSTER_NAME = "@SUM(1)"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (FORMULA, "'" + FORMULA),
        (ROSTER_NAME, "'@SUM(1)"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("王芳", "王芳"),
        ("", ""),
        (-5, -5),
        (0, 0),
        (None, None),
    ],
)
def test_cell(value: object, written: object) -> None:
    assert exports.safe_cell(value) == written


def election(api: Api, settings: Settings) -> tuple[Api, int]:
    """A decided round whose papers write in a formula and the roster's ``@SUM(1)``."""
    ready = make_ready_election(api, present=9, seats=1, candidates=["王宁", "李娜"])
    body = {"delegates_total": 12}
    expect(api.patch(f"/api/congresses/{ready.congress.id}", json=body), 200)
    # Both on the roster: a write-in that is not on it must be a name in Chinese characters
    # (issue 17 item 7), so a formula reaches the exports only as a roster name.
    roster = roster_csv([(ROSTER_NAME, "第1代表团", "2026999"), (FORMULA, "第1代表团", "2026998")])
    expect(upload_roster(api, ready.congress.id, roster), 201)
    desk = {"student_id": "2026998"}  # 10 of 12 present: the quorum (Q1)
    expect(api.post(f"/api/congresses/{ready.congress.id}/check-in", json=desk), 200)
    round_ = open_round(api, ready.election.id)
    issue_and_collect(api, round_.id, printed=10, issued=10, collected=8)
    payload = encode_payload(
        key=load_or_create_qr_key(settings.data_dir),
        election_id=ready.election.id,
        round_number=1,
        definition_hash=round_.definition_hash,
    )
    congress = ready.congress.id
    tellers = [o.id for o in ready.officials["teller"][:2]]
    body = {"declared_count": 8, "teller_a_id": tellers[0], "teller_b_id": tellers[1]}
    batch = expect(api.post(f"/api/rounds/{round_.id}/batches", json=body), 201)
    for tag, teller_id in zip("ab", tellers, strict=True):
        teller = login_official(api, congress, teller_id)
        for n in range(8):
            paper: dict[str, Any] = {
                "idempotency_key": f"{tag}-{n}",
                "qr_payload": payload,
                "marks": {"王宁": "yes" if n < 4 else "no", "李娜": "no"},
                "write_ins": [] if n < 4 else [FORMULA] if n < 6 else [ROSTER_NAME],
                "void": None,
            }
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=paper), 201)
    chief = login_official(api, congress, ready.officials["chief_scrutineer"][0].id)
    expect(chief.post(f"/api/rounds/{round_.id}/decide"), 200)
    return chief, ready.election.id


def test_exported_formulas_are_text(api: Api, settings: Settings) -> None:
    chief, election_id = election(api, settings)
    response = chief.get(f"/api/elections/{election_id}/results.csv")
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = {row["name"] for row in rows}
    assert names == {"'" + FORMULA, "'@SUM(1)", "王宁", "李娜"}, names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())

    response = chief.get(f"/api/elections/{election_id}/results.xlsx")
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert {"'" + FORMULA, "'@SUM(1)"} <= texts
    assert not any(text.startswith(("=", "+", "-", "@", "\t", "\r")) for text in texts)
    numbers = [c.value for c in cells if c.data_type == "n" and c.value is not None]
    assert numbers  # the counts stay numbers
    assert all(isinstance(n, int) for n in numbers)
