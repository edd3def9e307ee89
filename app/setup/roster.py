"""Reading a roster file (CSV or XLSX) into rows, with one clear error per bad row.

Columns are found by their header (first row), Chinese or English: 姓名/name, 代表团/delegation,
学号/student_id. CSV text may be UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode
text", tab-separated) or GB18030/GBK (what Excel on a Chinese Windows saves as "CSV"). Row numbers
in errors are the spreadsheet's (the header is row 1).
"""

import csv
import io
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from app.errors import ErrorItem, RosterImportRejected
from app.rules.text import NameRefused, person_name, refused_character
from app.setup.schemas import normalize_student_id

MAX_ROWS = 20_000
MAX_COLUMNS = 64  # a roster needs three; leave room for a school's own columns
MAX_XLSX_UNPACKED = 64_000_000  # bytes of XML a 20,000-row roster never comes near
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name", "代表姓名"),
    "delegation": ("代表团", "delegation", "所在代表团"),
    "student_id": ("学号", "student_id", "studentid", "student id", "学生证号"),
}
FIELD_ZH = {"name": "姓名", "delegation": "代表团", "student_id": "学号"}


@dataclass(frozen=True, slots=True)
class RosterRow:
    row: int
    name: str
    delegation: str
    student_id: str


@dataclass(frozen=True, slots=True)
class RosterFile:
    rows: list[RosterRow]
    file_format: Literal["csv", "xlsx"]
    encoding: str | None


@dataclass(frozen=True, slots=True)
class RosterReading:
    """A roster file read whole: the good rows and every bad row's errors (the preview shows
    both; an import takes the rows only when there are no errors)."""

    rows: list[RosterRow]
    errors: list[ErrorItem]
    file_format: Literal["csv", "xlsx"]
    encoding: str | None


def _rejected(code: str, zh: str, en: str, *, row: int | None = None) -> RosterImportRejected:
    item = ErrorItem(code=code, message_zh=zh, message_en=en, field="file", row=row)
    return RosterImportRejected(code, zh, en, field="file", errors=[item])


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding that read it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_end = exc.start
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        # Blame the row where the encoding that read furthest stopped.
        line = data.count(b"\n", 0, max(utf8_end, exc.start)) + 1
        raise _rejected(
            "bad_encoding",
            f"第 {line} 行无法识别文字编码（支持 UTF-8、GBK/GB18030、UTF-16），请用 Excel 另存为"
            "“CSV UTF-8”后重试",
            f"row {line}: the text encoding is not UTF-8, GBK/GB18030 or UTF-16; save the file "
            "as 'CSV UTF-8' and try again",
            row=line,
        ) from None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a student id typed as a number in Excel
    return str(value)


def _read_csv(data: bytes) -> tuple[list[list[str]], str]:
    text, encoding = decode_csv(data)
    if "\x00" in text:
        raise _rejected(
            "bad_encoding",
            "文件中含有空字符，可能不是文本 CSV 文件",
            "the file contains NUL characters; it is probably not a CSV text file",
        )
    # Line ends as Excel writes them on any system: CRLF, LF, or a bare CR ("CSV (Macintosh)").
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)], encoding
    except csv.Error as exc:
        raise _rejected(
            "bad_csv",
            "无法读取 CSV 文件，请用 Excel 另存为“CSV UTF-8”后重试",
            f"cannot read the CSV file ({exc}); save it as 'CSV UTF-8' and try again",
        ) from None


def _bad_xlsx() -> RosterImportRejected:
    return _rejected(
        "bad_xlsx",
        "无法读取 XLSX 文件，请确认它是 Excel 2007 及以后版本保存的 XLSX 文件",
        "cannot read the XLSX file; save it as .xlsx (Excel 2007 or later)",
    )


def _sheet_too_large(columns: int, rows: int) -> RosterImportRejected:
    return _rejected(
        "sheet_too_large",
        f"工作表过大（{rows} 行 × {columns} 列）：名单最多 {MAX_ROWS} 行、{MAX_COLUMNS} 列，"
        "请删除多余的行列后重试",
        f"the sheet is too large ({rows} rows x {columns} columns): a roster has at most "
        f"{MAX_ROWS} rows and {MAX_COLUMNS} columns; delete the extra cells and try again",
    )


def _read_xlsx(data: bytes) -> list[list[str]]:
    """The first sheet's cells, its size checked before it is read: a 127 KB file with one cell
    in column XFD must not become 16,384 cells per row (11 s and 1.4 GB)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _bad_xlsx() from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise _rejected(
            "xlsx_too_large",
            f"XLSX 文件解压后过大（上限 {MAX_XLSX_UNPACKED} 字节）",
            f"the XLSX file unpacks to more than {MAX_XLSX_UNPACKED} bytes",
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _bad_xlsx() from None
    try:
        sheet = workbook.worksheets[0]
        if not isinstance(sheet, ReadOnlyWorksheet):
            raise _bad_xlsx()
        if sheet.max_column is None or sheet.max_row is None:  # no <dimension>: measure it
            sheet.calculate_dimension(force=True)
        columns, rows = sheet.max_column or 0, sheet.max_row or 0
        if columns > MAX_COLUMNS or rows > MAX_ROWS + 1:
            raise _sheet_too_large(columns, rows)
        # Bounded even if the sheet's <dimension> lies: never more cells than the limits.
        cells = sheet.iter_rows(max_col=MAX_COLUMNS, max_row=MAX_ROWS + 2, values_only=True)
        return [[_cell(v) for v in row] for row in cells]
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        raise _bad_xlsx() from None
    finally:
        workbook.close()


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = unicodedata.normalize("NFKC", title).strip().lower()
        for field, names in HEADERS.items():
            if key in names and field not in found:
                found[field] = index
    missing = [f for f in ("name", "student_id") if f not in found]
    if missing:
        raise _rejected(
            "missing_columns",
            "第 1 行应为表头，至少包含“姓名”和“学号”两列（可含“代表团”）；缺少："
            + "、".join(FIELD_ZH[f] for f in missing),
            "row 1 must be a header with at least the columns name (姓名) and student_id (学号), "
            "optionally delegation (代表团); missing: " + ", ".join(missing),
            row=1,
        )
    return found


def parse_roster(data: bytes, *, filename: str) -> RosterFile:
    """Rows of a roster file; RosterImportRejected listing every bad row (nothing is imported)."""
    reading = read_roster(data, filename=filename)
    if reading.errors:
        raise rows_rejected(reading.errors)
    return RosterFile(rows=reading.rows, file_format=reading.file_format, encoding=reading.encoding)


def read_roster(data: bytes, *, filename: str) -> RosterReading:
    """Every row of a roster file, good or bad (``parse_roster`` and the preview read with this).
    A file that cannot be read as a roster at all (encoding, columns, size, no rows) raises
    RosterImportRejected."""
    is_xlsx = filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04")
    encoding: str | None = None
    if is_xlsx:
        table = _read_xlsx(data)
    else:
        table, encoding = _read_csv(data)
    while table and not any(cell.strip() for cell in table[-1]):
        table.pop()
    if not table:
        raise _rejected("empty_file", "文件为空", "the file is empty")
    if len(table) - 1 > MAX_ROWS:
        raise _rejected(
            "too_many_rows", f"名单最多 {MAX_ROWS} 行", f"at most {MAX_ROWS} rows are accepted"
        )
    columns = _columns(table[0])
    rows: list[RosterRow] = []
    errors: list[ErrorItem] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(table[1:], start=2):
        if any(cell.strip() for cell in cells):
            row, row_errors = _read_row(number, cells, columns, seen)
            errors += row_errors
            if row is not None:
                rows.append(row)
    if not rows and not errors:
        raise _rejected("empty_file", "文件中没有代表", "the file lists no delegates")
    return RosterReading(
        rows=rows, errors=errors, file_format="xlsx" if is_xlsx else "csv", encoding=encoding
    )


def _read_row(
    number: int, cells: list[str], columns: Mapping[str, int], seen: dict[str, int]
) -> tuple[RosterRow | None, list[ErrorItem]]:
    """Row ``number`` of the file: the delegate, or (None and) every problem it has; ``seen``
    holds the rows of the student ids read so far."""

    def get(field: str) -> str:
        index = columns.get(field)
        return cells[index] if index is not None and index < len(cells) else ""

    raw_name = get("name")
    errors: list[ErrorItem] = []
    # The names' one refusal list (app.rules.text), as for a name sent to the API; in the
    # student id and the delegation, line breaks and tabs are spacing (made one space).
    refused = {
        field: refused_character(value)
        for field, value in (
            ("name", raw_name.strip()),
            ("student_id", " ".join(get("student_id").split())),
            ("delegation", " ".join(get("delegation").split())),
        )
    }
    for field, character in refused.items():
        if character is not None:
            errors.append(_bad_character(number, field, character))
    name = raw_name.strip() if refused["name"] else person_name(raw_name)
    student_id = normalize_student_id(get("student_id"))
    delegation = " ".join(unicodedata.normalize("NFKC", get("delegation")).split())
    unreadable = "\ufffd" in raw_name + get("student_id") + get("delegation")
    errors += _value_errors(number, name, student_id, delegation, unreadable, seen)
    if errors:
        return None, errors
    return RosterRow(row=number, name=name, delegation=delegation, student_id=student_id), []


def _value_errors(
    number: int,
    name: str,
    student_id: str,
    delegation: str,
    unreadable: bool,
    seen: dict[str, int],
) -> list[ErrorItem]:
    """Row ``number``'s problems with its values: unreadable characters, an empty or too long
    name or student id, a student id repeated (else ``seen`` learns its row)."""
    errors: list[ErrorItem] = []

    def problem(code: str, field: str, zh: str, en: str) -> None:
        errors.append(ErrorItem(code=code, message_zh=zh, message_en=en, field=field, row=number))

    if unreadable:
        problem(
            "bad_encoding",
            "name",
            f"第 {number} 行含有无法识别的字符（�），请检查文件编码",
            f"row {number} contains unreadable characters (�); check the file's encoding",
        )
    if not name:
        problem("empty_name", "name", f"第 {number} 行姓名为空", f"row {number}: the name is empty")
    elif len(name) > 50:
        problem(
            "name_too_long",
            "name",
            f"第 {number} 行姓名超过 50 个字符",
            f"row {number}: the name is longer than 50 characters",
        )
    if not student_id:
        problem(
            "empty_student_id",
            "student_id",
            f"第 {number} 行学号为空",
            f"row {number}: the student id is empty",
        )
    elif len(student_id) > 50 or len(delegation) > 100:
        problem(
            "value_too_long",
            "student_id",
            f"第 {number} 行学号或代表团名称过长",
            f"row {number}: the student id or delegation is too long",
        )
    elif student_id in seen:
        problem(
            "duplicate_student_id",
            "student_id",
            f"第 {number} 行学号 {student_id} 与第 {seen[student_id]} 行重复",
            f"row {number}: student id {student_id} repeats row {seen[student_id]}",
        )
    else:
        seen[student_id] = number
    return errors


def _bad_character(row: int, field: str, character: str) -> ErrorItem:
    refusal = NameRefused(character)
    return ErrorItem(
        code="bad_character",
        message_zh=f"第 {row} 行{FIELD_ZH[field]}{refusal.message_zh}",
        message_en=f"row {row}: the {field} {refusal.message_en}",
        field=field,
        row=row,
    )


def rows_rejected(errors: list[ErrorItem]) -> RosterImportRejected:
    first = errors[0]
    return RosterImportRejected(
        "roster_rows_rejected",
        f"名单有 {len(errors)} 处错误，未导入任何代表。第一处：{first.message_zh}",
        f"the roster has {len(errors)} error(s); nothing was imported. First: {first.message_en}",
        field="file",
        errors=errors,
    )


__all__ = [
    "RosterFile",
    "RosterReading",
    "RosterRow",
    "parse_roster",
    "read_roster",
    "rows_rejected",
]
