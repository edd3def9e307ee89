"""Roster preview (issue 18 item 2): the import's own reading and checks, every bad row listed
with its row, column and Chinese reason, and nothing saved — no delegate, no event."""

import io
from typing import Any

from openpyxl import Workbook

from tests.builders import Api, expect, make_congress, roster_csv, upload_roster

GOOD = [("王芳", "计算机系代表团", "2023001"), ("李明", "电子系代表团", "2023002")]
# Row 3: no student id; row 4: repeats row 2's id; row 5: a control character in the name.
BAD = [
    *GOOD[:1],
    ("赵六", "电子系代表团", ""),
    ("钱七", "", "2023001"),
    ("孙\x07八", "", "2023009"),
]


def preview(api: Api, congress_id: int, data: bytes, filename: str = "roster.csv") -> Any:
    return api.post(
        f"/api/congresses/{congress_id}/roster/preview", files={"file": (filename, data)}
    )


def state(api: Api, congress_id: int) -> tuple[Any, Any]:
    """The roster and the event chain: what a preview must leave as it found them."""
    delegates = expect(api.get(f"/api/congresses/{congress_id}/delegates"), 200)
    events = expect(api.get(f"/api/congresses/{congress_id}/events"), 200)
    return delegates, events


def test_preview_lists_the_rows_and_saves_nothing(api: Api) -> None:
    congress = make_congress(api, delegates_total=189)
    before = state(api, congress.id)
    data = roster_csv(GOOD, encoding="gbk")  # as Excel on a Chinese Windows saves "CSV"
    body = expect(preview(api, congress.id, data), 200)
    assert body == {
        "file_format": "csv",
        "encoding": "gb18030",
        "rows": [
            {"row": 2, "name": "王芳", "delegation": "计算机系代表团", "student_id": "2023001"},
            {"row": 3, "name": "李明", "delegation": "电子系代表团", "student_id": "2023002"},
        ],
        "errors": [],
        "importable": True,
        "roster_count": 0,
        "roster_count_after": 2,
        "delegates_total": 189,
    }
    assert state(api, congress.id) == before
    # 确认导入 then takes the same file.
    assert expect(upload_roster(api, congress.id, data), 201)["imported"] == 2


def test_preview_lists_every_bad_row_as_the_import_refuses_them(api: Api) -> None:
    congress = make_congress(api)
    before = state(api, congress.id)
    data = roster_csv(BAD)
    body = expect(preview(api, congress.id, data), 200)
    assert body["importable"] is False
    assert [row["row"] for row in body["rows"]] == [2]
    assert [(e["row"], e["field"], e["code"]) for e in body["errors"]] == [
        (3, "student_id", "empty_student_id"),
        (4, "student_id", "duplicate_student_id"),
        (5, "name", "bad_character"),
    ]
    assert body["errors"][0]["message_zh"] == "第 3 行学号为空"
    assert body["errors"][1]["message_zh"] == "第 4 行学号 2023001 与第 2 行重复"
    assert body["errors"][2]["message_zh"].startswith("第 5 行姓名")
    assert state(api, congress.id) == before
    # The import refuses the same file with the same list, and saves nothing either.
    refused = expect(upload_roster(api, congress.id, data), 422)
    assert refused["code"] == "roster_rows_rejected"
    assert refused["errors"] == body["errors"]
    assert state(api, congress.id) == before


def test_preview_checks_the_roster_as_it_is(api: Api) -> None:
    congress = make_congress(api, delegates_total=3)
    expect(upload_roster(api, congress.id, roster_csv(GOOD[:1])), 201)
    before = state(api, congress.id)
    more = [GOOD[0], GOOD[1], ("周九", "", "2023003"), ("吴十", "", "2023004")]
    body = expect(preview(api, congress.id, roster_csv(more)), 200)
    assert [row["student_id"] for row in body["rows"]] == ["2023002", "2023003", "2023004"]
    assert body["roster_count"] == 1
    assert body["roster_count_after"] == 4
    assert [(e["row"], e["code"]) for e in body["errors"]] == [
        (2, "duplicate_student_id"),
        (None, "roster_exceeds_delegates_total"),
    ]
    assert body["errors"][0]["message_zh"] == "第 2 行学号 2023001 已在代表名单中"
    assert body["errors"][1]["message_zh"].startswith("导入后名单共 4 人，超过应到人数 3")
    assert state(api, congress.id) == before


def test_preview_of_an_xlsx_file(api: Api) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["学号", "姓名", "代表团"])
    sheet.append([2023001, "王芳", "计算机系代表团"])
    sheet.append([None, "李明", "电子系代表团"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    congress = make_congress(api)
    body = expect(preview(api, congress.id, buffer.getvalue(), "名单.xlsx"), 200)
    assert body["file_format"] == "xlsx"
    assert body["encoding"] is None
    assert body["rows"] == [
        {"row": 2, "name": "王芳", "delegation": "计算机系代表团", "student_id": "2023001"}
    ]
    assert [(e["row"], e["code"]) for e in body["errors"]] == [(3, "empty_student_id")]


def test_a_file_that_is_no_roster_is_refused_as_the_import_refuses_it(api: Api) -> None:
    congress = make_congress(api)
    before = state(api, congress.id)
    data = "名字,班级\n王芳,一班\n".encode()
    refused = expect(preview(api, congress.id, data), 422)
    assert refused["code"] == "missing_columns"
    assert refused["message_zh"].startswith("第 1 行应为表头")
    assert refused == expect(upload_roster(api, congress.id, data), 422)
    assert state(api, congress.id) == before


def test_preview_takes_files_as_large_as_the_import(api: Api) -> None:
    """The import's body limit applies to the preview too, not the 64 KiB default."""
    congress = make_congress(api, delegates_total=5000)
    rows = [
        (f"王{chr(0x4E00 + i % 100)}{chr(0x4E00 + i // 100)}", "", f"{i:07d}") for i in range(5000)
    ]
    data = roster_csv(rows)
    assert len(data) > 64 * 1024
    body = expect(preview(api, congress.id, data), 200)
    assert (len(body["rows"]), body["errors"]) == (5000, [])
