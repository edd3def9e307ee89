"""Roster import: CSV (UTF-8, BOM, GBK, GB18030, UTF-16) and XLSX; per-row errors; all or none."""

import io

import pytest
from openpyxl import Workbook

from tests.builders import Api, expect, make_congress, roster_csv, upload_roster

ROWS = [("王芳", "计算机系代表团", "2023001"), ("李明", "电子系代表团", "2023002")]


def _delegates(api: Api, congress_id: int) -> list[tuple[str, str, str]]:
    listed = expect(api.get(f"/api/congresses/{congress_id}/delegates"), 200)
    return [(d["name"], d["delegation"], d["student_id"]) for d in listed]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (roster_csv(ROWS), "utf-8"),
        (b"\xef\xbb\xbf" + roster_csv(ROWS), "utf-8"),
        (roster_csv(ROWS, encoding="gbk"), "gb18030"),
        (
            roster_csv([*ROWS[:1], ("李䶮", "电子系代表团", "2023002")], encoding="gb18030"),
            "gb18030",
        ),
        (roster_csv(ROWS).decode().replace(",", "\t").encode("utf-16"), "utf-16"),
    ],
    ids=["utf8", "utf8-bom", "gbk", "gb18030", "utf16-tab"],
)
def test_csv_encodings(api: Api, data: bytes, encoding: str) -> None:
    congress = make_congress(api)
    result = expect(upload_roster(api, congress.id, data), 201)
    assert result == {
        "imported": 2,
        "roster_count": 2,
        "file_format": "csv",
        "encoding": encoding,
    }
    names = [name for name, _, _ in _delegates(api, congress.id)]
    assert names[0] == "王芳"
    assert names[1] in ("李明", "李䶮")


def test_xlsx_with_numeric_student_ids_and_english_header(api: Api) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["student_id", "Name", "Delegation", "备注"])
    sheet.append([2023001, "王  芳", "计算机系代表团", "x"])
    sheet.append([2023002.0, "李明", None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    congress = make_congress(api)
    result = expect(upload_roster(api, congress.id, buffer.getvalue(), filename="名单.xlsx"), 201)
    assert result["file_format"] == "xlsx"
    assert result["encoding"] is None
    assert _delegates(api, congress.id) == [
        ("王芳", "计算机系代表团", "2023001"),
        ("李明", "", "2023002"),
    ]


def test_bad_rows_are_all_reported_and_nothing_is_imported(api: Api) -> None:
    congress = make_congress(api)
    data = roster_csv(
        [
            ("王芳", "甲", "1"),
            ("", "甲", "2"),
            ("李明", "甲", "1"),
            ("赵磊", "甲", ""),
        ]
    )
    error = expect(upload_roster(api, congress.id, data), 422)
    assert error["code"] == "roster_rows_rejected"
    assert error["field"] == "file"
    assert error["message_zh"].startswith("名单有 3 处错误，未导入任何代表")
    assert [(e["row"], e["code"]) for e in error["errors"]] == [
        (3, "empty_name"),
        (4, "duplicate_student_id"),
        (5, "empty_student_id"),
    ]
    assert error["errors"][1]["message_zh"] == "第 4 行学号 1 与第 2 行重复"
    assert _delegates(api, congress.id) == []
    events = expect(api.get(f"/api/congresses/{congress.id}/events"), 200)
    assert [e["type"] for e in events] == ["congress.created"]


def test_duplicate_against_existing_roster(api: Api) -> None:
    congress = make_congress(api)
    expect(upload_roster(api, congress.id, roster_csv(ROWS)), 201)
    error = expect(upload_roster(api, congress.id, roster_csv([("周杰", "乙", "2023002")])), 422)
    assert [(e["row"], e["code"]) for e in error["errors"]] == [(2, "duplicate_student_id")]
    assert "已在代表名单中" in error["errors"][0]["message_zh"]


def test_undecodable_bytes_name_the_row(api: Api) -> None:
    congress = make_congress(api)
    data = roster_csv(ROWS) + b"\xff\xff\xff,x,3\r\n"
    error = expect(upload_roster(api, congress.id, data), 422)
    assert error["code"] == "bad_encoding"
    assert error["errors"][0]["row"] == 4
    assert "第 4 行" in error["message_zh"]


def test_replacement_character_row_is_rejected(api: Api) -> None:
    congress = make_congress(api)
    error = expect(upload_roster(api, congress.id, roster_csv([("王\ufffd", "甲", "9")])), 422)
    assert [(e["row"], e["code"]) for e in error["errors"]] == [(2, "bad_encoding")]


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", "r.csv", "empty_file"),
        ("姓名,学号\n".encode(), "r.csv", "empty_file"),
        ("名字,代表团\n王芳,甲\n".encode(), "r.csv", "missing_columns"),
        (b"PK\x03\x04 not really a zip", "r.xlsx", "bad_xlsx"),
        (b"a\x00b,c\n", "r.csv", "bad_encoding"),
    ],
)
def test_unusable_files(api: Api, data: bytes, filename: str, code: str) -> None:
    congress = make_congress(api)
    error = expect(upload_roster(api, congress.id, data, filename=filename), 422)
    assert error["code"] == code
    assert error["message_zh"]
    assert error["message_en"]


def test_roster_larger_than_delegates_total_is_refused(api: Api) -> None:
    congress = make_congress(api, delegates_total=1)
    error = expect(upload_roster(api, congress.id, roster_csv(ROWS)), 409)
    assert error["code"] == "roster_exceeds_delegates_total"
    assert _delegates(api, congress.id) == []


def test_missing_file_is_a_validation_error(api: Api) -> None:
    congress = make_congress(api)
    error = expect(api.post(f"/api/congresses/{congress.id}/roster"), 422)
    assert error["code"] == "invalid_request"
    assert error["field"] == "body.file"


def test_too_large_file(api: Api) -> None:
    congress = make_congress(api)
    api.client.app.state.settings.max_upload_bytes = 10  # type: ignore[attr-defined]
    error = expect(upload_roster(api, congress.id, roster_csv(ROWS)), 413)
    assert error["code"] == "file_too_large"


def test_remove_delegate(api: Api) -> None:
    congress = make_congress(api)
    expect(upload_roster(api, congress.id, roster_csv(ROWS)), 201)
    first = expect(api.get(f"/api/congresses/{congress.id}/delegates"), 200)[0]
    expect(api.delete(f"/api/congresses/{congress.id}/delegates/{first['id']}"), 204)
    assert [d[0] for d in _delegates(api, congress.id)] == ["李明"]
    error = expect(api.delete(f"/api/congresses/{congress.id}/delegates/{first['id']}"), 404)
    assert error["code"] == "delegate_not_found"
