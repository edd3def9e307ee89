"""Roster text like API text (issue 20, item 5): one normalisation and one refusal list for every
name that enters the system, whatever the door — roster CSV and XLSX, candidate and official
bodies, write-ins at paper entry, the presidium's follow-up list, roster and name searches."""

import io

import pytest
from openpyxl import Workbook

from app.rules.text import NameRefused, person_name, refused_character
from app.settings import Settings
from tests.builders import (
    PAPERS,
    Api,
    counting,
    expect,
    login_as,
    make_batch,
    make_congress,
    make_election,
    paper,
    roster_csv,
    upload_roster,
)

ZERO_WIDTH = "王\u200b芳"
REFUSED = [
    ZERO_WIDTH,  # zero-width space (Cf)
    "王\u200d芳",  # zero-width joiner (Cf)
    "\u202e芳王",  # right-to-left override (Cf)
    "王\u2066芳\u2069",  # bidi isolates (Cf)
    "\ufeff王芳",  # byte order mark (Cf)
    "王\u00ad芳",  # soft hyphen (Cf)
    "王\u0301芳",  # combining acute accent that composes with nothing (Mn)
    "王芳\ufe0f",  # variation selector (Mn)
    "王\x07芳",  # bell (Cc)
    "王\u2028芳",  # line separator (Zl)
    "王\ue000芳",  # private use (Co)
]


@pytest.mark.parametrize("text", REFUSED)
def test_the_refusal_list(text: str) -> None:
    assert refused_character(text) is not None
    with pytest.raises(NameRefused) as refused:
        person_name(text)
    assert f"U+{ord(refused.value.character):04X}" in refused.value.message_zh


def test_roster_csv_and_xlsx_refuse_every_bad_row(api: Api) -> None:
    congress = make_congress(api, delegates_total=40)
    rows = [("王芳", "一团", "2026001")]
    rows += [(name, "一团", f"20261{n:02d}") for n, name in enumerate(REFUSED)]
    rows += [("李明", "二\u200b团", "2026002"), ("赵敏", "二团", "2026\u202e003")]
    refused = expect(upload_roster(api, congress.id, roster_csv(rows)), 422)
    assert refused["code"] == "roster_rows_rejected"
    found = {(e["row"], e["field"]) for e in refused["errors"] if e["code"] == "bad_character"}
    expected = {(3 + n, "name") for n in range(len(REFUSED))}
    expected |= {(3 + len(REFUSED), "delegation"), (4 + len(REFUSED), "student_id")}
    assert found == expected, refused["errors"]
    assert "U+200B" in refused["message_zh"]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [
        ("姓名", "代表团", "学号"),
        ("王芳", "一团", "2026001"),
        (ZERO_WIDTH, "一团", "2026002"),
    ]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    refused = expect(upload_roster(api, congress.id, out.getvalue(), filename="名单.xlsx"), 422)
    assert [(e["row"], e["field"]) for e in refused["errors"]] == [(3, "name")]
    assert expect(api.get(f"/api/congresses/{congress.id}/delegates"), 200) == []

    # 王芳 and 王\u200b芳 can no longer become two people; 王  芳 is 王芳.
    good = roster_csv([("王  芳", "一团", "２０２６００１"), ("Ａｌｉ", "二团", "2026002")])
    expect(upload_roster(api, congress.id, good), 201)
    listed = expect(api.get(f"/api/congresses/{congress.id}/delegates"), 200)
    assert sorted(d["name"] for d in listed) == ["Ali", "王芳"]


def test_candidate_official_and_follow_up_bodies(api: Api) -> None:
    congress = make_congress(api)
    election = make_election(api, congress.id, seats=1)
    presidium = login_as(api, congress.id, "presidium")
    for text in REFUSED:
        body = {"name": text}
        refused = expect(api.post(f"/api/elections/{election.id}/candidates", json=body), 422)
        assert refused["field"] == "body.name", refused
        body = {"name": text, "role": "teller"}
        refused = expect(api.post(f"/api/congresses/{congress.id}/officials", json=body), 422)
        assert refused["field"] == "body.name", refused
        body = {"candidates": ["李明", text]}
        refused = expect(presidium.post("/api/rounds/1/follow-up", json=body), 422)
        assert refused["field"] == "body.candidates.1", refused
    body = {"name": "王  芳"}
    created = expect(api.post(f"/api/elections/{election.id}/candidates", json=body), 201)
    assert [c["name"] for c in created["candidates"]] == ["王芳"]


def test_searches_refuse_the_same_characters(api: Api) -> None:
    congress = make_congress(api)
    teller = login_as(api, congress.id, "teller")
    for text in (ZERO_WIDTH, "\u202e王"):
        path = f"/api/congresses/{congress.id}/delegates"
        assert expect(api.get(path, params={"q": text}), 422)["field"] == "query.q"
        path = f"/api/congresses/{congress.id}/name-suggestions"
        assert expect(teller.get(path, params={"q": text}), 422)["field"] == "query.q"
    path = f"/api/congresses/{congress.id}/delegates"
    assert expect(api.get(path, params={"q": "王芳"}), 200) == []


def test_write_ins_at_paper_entry(api: Api, settings: Settings) -> None:
    c = counting(api, settings)
    batch = make_batch(c, 4)
    path = f"/api/batches/{batch['id']}/papers"
    marks = ["yes", "yes", "no", "no", "no"]
    for n, text in enumerate(REFUSED):
        body = paper(c, f"k{n}", marks, write_ins=[text])
        refused = expect(c.tellers[0].post(path, json=body), 422)
        assert refused["field"] == "body.write_ins.0", refused
    assert expect(c.tellers[0].get(path), 200)["papers"] == []
    expect(c.tellers[0].post(path, json=paper(c, "ok", PAPERS[1], write_ins=["赵敏"])), 201)
