"""Roster XLSX limits (issue 20, item 4): a sheet's size is checked before its cells are read,
and the database's write lock is not held while the file is parsed."""

import io
import re
import sqlite3
import zipfile

import psycopg
import pytest
from openpyxl import Workbook
from sqlalchemy.engine import make_url

from app.ledger.store import CHAIN_LOCK_CLASS
from app.settings import Settings
from app.setup import roster
from tests.builders import Api, expect, make_congress, upload_roster


def workbook(far_cell: str | None, rows: int = 200) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "代表团", "学号"])
    for n in range(rows):
        sheet.append([f"代表{n}", "第一代表团", f"2026{n:05d}"])
    if far_cell is not None:
        sheet[far_cell] = "x"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def without_dimension(data: bytes) -> bytes:
    """The same workbook with no <dimension> in its sheet (openpyxl must measure it)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                content = re.sub(rb"<dimension [^>]*/>", b"", content)
            target.writestr(info, content)
    return out.getvalue()


def test_a_sheet_wider_than_a_roster_is_refused_before_it_is_read(api: Api) -> None:
    congress = make_congress(api, delegates_total=500)
    for data in (workbook("XFD1"), without_dimension(workbook("XFD200"))):
        refused = expect(upload_roster(api, congress.id, data, filename="名单.xlsx"), 422)
        assert refused["code"] == "sheet_too_large", refused
        assert "16384" in refused["message_en"]
    tall = workbook("A1048576", rows=1)
    refused = expect(upload_roster(api, congress.id, tall, filename="名单.xlsx"), 422)
    assert refused["code"] == "sheet_too_large", refused
    assert "1048576 rows" in refused["message_en"]
    # A sheet of the expected size still imports; nothing was imported before.
    assert expect(api.get(f"/api/congresses/{congress.id}/delegates"), 200) == []
    imported = expect(upload_roster(api, congress.id, workbook(None), filename="名单.xlsx"), 201)
    assert imported["imported"] == 200


def test_an_xlsx_that_unpacks_too_large_is_refused(api: Api) -> None:
    congress = make_congress(api, delegates_total=500)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 70_000_000)
    data = out.getvalue()
    assert len(data) < 1_000_000
    refused = expect(upload_roster(api, congress.id, data, filename="名单.xlsx"), 422)
    assert refused["code"] == "xlsx_too_large", refused


def write_lock_free(settings: Settings, congress_id: int) -> bool:
    """Could another connection write now (SQLite: the database's write lock; PostgreSQL: the
    congress's chain lock)? Asked without waiting."""
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        row = connection.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", (CHAIN_LOCK_CLASS, congress_id)
        ).fetchone()
        connection.rollback()
        return bool(row and row[0])


def test_the_write_lock_is_not_held_while_a_roster_is_parsed(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    congress = make_congress(api, delegates_total=500)
    seen: list[bool] = []
    parse = roster.parse_roster

    def parse_and_look(data: bytes, *, filename: str) -> roster.RosterFile:
        seen.append(write_lock_free(settings, congress.id))
        return parse(data, filename=filename)

    monkeypatch.setattr(roster, "parse_roster", parse_and_look)
    imported = expect(upload_roster(api, congress.id, workbook(None), filename="名单.xlsx"), 201)
    assert imported["imported"] == 200
    assert seen == [True]
    assert write_lock_free(settings, congress.id)
