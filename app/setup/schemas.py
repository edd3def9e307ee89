"""Request and response bodies of the setup API (names from GLOSSARY.md)."""

import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from app.auth.roles import Role
from app.errors import ErrorItem
from app.rules.text import check_name_text, person_name


def plain_text(value: str) -> str:
    """Refuse control characters (NUL breaks PostgreSQL) and lone surrogates (not Unicode)."""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t":
            raise ValueError(
                f"含有不可见的控制字符 U+{ord(ch):04X} / contains the control character"
            )
    return value


# Database ids in paths: a number the databases can hold (no overflow error, a clean 422).
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]


# Every person's name, whatever the door: one normalisation and one refusal list (app.rules.text).
normalize_person_name = person_name


def normalize_student_id(value: str) -> str:
    """NFKC, trimmed: ``２０２３００１`` (full width, as some keyboards type it) is ``2023001``.
    The one normalisation of a student id, whatever the door (roster import, check-in, officials,
    candidates)."""
    return unicodedata.normalize("NFKC", value).strip()


def _date_text(value: object) -> object:
    """A date is text (``YYYY-MM-DD``): a number such as ``0`` is not read as a timestamp."""
    if isinstance(value, int | float | bool):
        raise PydanticCustomError("date_parsing", "Input should be a date written YYYY-MM-DD")
    return value


DateText = Annotated[date, BeforeValidator(_date_text)]

PersonName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=50),
    AfterValidator(plain_text),
    AfterValidator(normalize_person_name),
    AfterValidator(lambda v: v if v else _empty()),
]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(plain_text),
]
StudentId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    AfterValidator(plain_text),
    AfterValidator(normalize_student_id),
    AfterValidator(lambda v: v if v else _empty()),
]
SearchText = Annotated[
    str,
    StringConstraints(max_length=50),
    AfterValidator(plain_text),
    AfterValidator(check_name_text),
]


def _empty() -> str:
    raise ValueError("不能为空 / must not be empty")


def _examples(*examples: JsonDict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class CongressCreate(BaseModel):
    model_config = _examples(
        {
            "name": "信息工程学院第五次学生代表大会",
            "delegates_total": 189,
            "starts_on": "2026-11-14",
            "ends_on": "2026-11-14",
        }
    )

    name: Title
    delegates_total: int = Field(gt=0, le=100_000, description="应到人数")
    starts_on: DateText | None = None
    ends_on: DateText | None = None


class CongressUpdate(BaseModel):
    model_config = _examples({"delegates_total": 190})

    name: Title | None = None
    delegates_total: int | None = Field(default=None, gt=0, le=100_000)
    starts_on: DateText | None = None
    ends_on: DateText | None = None


class CongressRead(BaseModel):
    model_config = _examples(
        {
            "id": 1,
            "name": "信息工程学院第五次学生代表大会",
            "delegates_total": 189,
            "starts_on": "2026-11-14",
            "ends_on": "2026-11-14",
            "roster_count": 189,
            "present": 176,
            "created_at": "2026-11-01T08:00:00Z",
        }
    )

    id: int
    name: str
    delegates_total: int
    starts_on: date | None
    ends_on: date | None
    roster_count: int
    present: int
    created_at: datetime


class DelegateRead(BaseModel):
    model_config = _examples(
        {
            "id": 7,
            "name": "王芳",
            "delegation": "计算机系代表团",
            "student_id": "2023040101",
            "present": True,
        }
    )

    id: int
    name: str
    delegation: str
    student_id: str
    present: bool


class RosterImportRead(BaseModel):
    model_config = _examples(
        {"imported": 189, "roster_count": 189, "file_format": "csv", "encoding": "gb18030"}
    )

    imported: int
    roster_count: int
    file_format: Literal["csv", "xlsx"]
    encoding: str | None = Field(description="CSV text encoding detected; null for XLSX")


class RosterRowRead(BaseModel):
    row: int = Field(description="表格中的行号（表头为第 1 行）/ the spreadsheet's row number")
    name: str
    delegation: str
    student_id: str


class RosterPreviewRead(BaseModel):
    """导入前预览：将导入的各行与每一处错误；不保存任何内容。"""

    model_config = _examples(
        {
            "file_format": "csv",
            "encoding": "gb18030",
            "rows": [{"row": 2, "name": "王芳", "delegation": "计算机系代表团", "student_id": "1"}],
            "errors": [
                {
                    "code": "empty_student_id",
                    "message_zh": "第 3 行学号为空",
                    "message_en": "row 3: the student id is empty",
                    "field": "student_id",
                    "row": 3,
                }
            ],
            "importable": False,
            "roster_count": 0,
            "roster_count_after": 1,
            "delegates_total": 189,
        }
    )

    file_format: Literal["csv", "xlsx"]
    encoding: str | None = Field(description="CSV text encoding detected; null for XLSX")
    rows: list[RosterRowRead] = Field(
        description="改正错误后将导入的各行 / the rows the import would add (once nothing is wrong)"
    )
    errors: list[ErrorItem] = Field(
        description="每一处错误：行号、列（field）、原因；最后可有一项关于整个名单（row 为 null）"
        " / every refused row (row, column, reason), then any problem of the whole roster"
    )
    importable: bool = Field(description="确认导入会成功（没有错误）/ the import would succeed")
    roster_count: int = Field(description="名单中现有代表数 / delegates on the roster now")
    roster_count_after: int = Field(description="导入后的代表数 / delegates after the import")
    delegates_total: int = Field(description="应到人数")


class LoginCardsCreate(BaseModel):
    model_config = _examples({"official_ids": [3, 4, 5]})

    official_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        min_length=1,
        max_length=500,
        description="要打印登录卡的工作人员；每人签发新的一次性登录码（此前未用的登录码作废）"
        " / the officials to print cards for; each gets a new one-time code (earlier unused "
        "codes stop working)",
    )


class QuorumRead(BaseModel):
    required: int
    met: bool


class ElectionQuorumLineRead(BaseModel):
    """Q1 of one election against the present count now (the rules engine's figure, exact)."""

    election_id: int
    title: str
    quorum: str = Field(description="法定人数比例，如 4/5 / the profile's quorum, e.g. 4/5")
    strict: bool = Field(description="true：须超过该比例（超过五分之四）；false：达到即可（以上）")
    required: int = Field(description="至少须实到的人数 / the fewest present that make Q1")
    met: bool


class DelegationAttendanceRead(BaseModel):
    delegation: str
    present: int = Field(description="本代表团实到人数")
    roster_count: int = Field(description="本代表团在名单中的人数（应到）")


class AttendanceRead(BaseModel):
    """实到人数 (``present``) now; Q2 congress quorum (≥ 2/3) for information; each election's
    Q1 line; 实到 and 应到 per 代表团 (in roster order)."""

    model_config = _examples(
        {
            "congress_id": 1,
            "delegates_total": 189,
            "roster_count": 189,
            "present": 176,
            "congress_quorum": {"required": 126, "met": True},
            "elections": [
                {
                    "election_id": 1,
                    "title": "主席团成员",
                    "quorum": "4/5",
                    "strict": False,
                    "required": 152,
                    "met": True,
                }
            ],
            "delegations": [{"delegation": "计算机系代表团", "present": 30, "roster_count": 32}],
        }
    )

    congress_id: int
    delegates_total: int
    roster_count: int
    present: int
    congress_quorum: QuorumRead
    elections: list[ElectionQuorumLineRead]
    delegations: list[DelegationAttendanceRead]


class CheckInByStudentId(BaseModel):
    """The desk scans or types a student id (学号) instead of picking the delegate."""

    model_config = _examples({"student_id": "2023040101"})

    student_id: StudentId


class CheckInRead(BaseModel):
    model_config = _examples(
        {
            "delegate": {
                "id": 7,
                "name": "王芳",
                "delegation": "计算机系代表团",
                "student_id": "2023040101",
                "present": True,
            },
            "attendance": {
                "congress_id": 1,
                "delegates_total": 189,
                "roster_count": 189,
                "present": 177,
                "congress_quorum": {"required": 126, "met": True},
                "elections": [],
                "delegations": [],
            },
        }
    )

    delegate: DelegateRead
    attendance: AttendanceRead


ProfileOptions = dict[
    Annotated[str, StringConstraints(max_length=50), AfterValidator(plain_text)],
    Annotated[str, StringConstraints(max_length=50), AfterValidator(plain_text)] | bool,
]


class ElectionCreate(BaseModel):
    model_config = _examples(
        {"title": "主席团成员", "seats": 3, "profile": {}},
        {"title": "委员", "seats": 7, "profile": {"quorum": "2/3", "allow_uncontested": True}},
    )

    title: Title
    seats: int = Field(gt=0, le=1000, description="应选名额")
    profile: ProfileOptions = Field(
        default_factory=dict, description="RULES.md options that differ from the seed profile"
    )


class ElectionUpdate(BaseModel):
    model_config = _examples({"seats": 2})

    title: Title | None = None
    seats: int | None = Field(default=None, gt=0, le=1000)
    profile: ProfileOptions | None = None


class SlateRead(BaseModel):
    """六.4 差额选举: more candidates than seats, unless the profile allows 等额 (uncontested)."""

    ok: bool
    candidates: int
    seats: int
    allow_uncontested: bool
    code: str | None
    message_zh: str | None
    message_en: str | None


class ElectionRead(BaseModel):
    model_config = _examples(
        {
            "id": 1,
            "congress_id": 1,
            "title": "主席团成员",
            "seats": 3,
            "profile": {"quorum": "4/5", "majority_base": "present", "allow_uncontested": False},
            "slate": {
                "ok": True,
                "candidates": 5,
                "seats": 3,
                "allow_uncontested": False,
                "code": None,
                "message_zh": None,
                "message_en": None,
            },
        }
    )

    id: int
    congress_id: int
    title: str
    seats: int
    profile: ProfileOptions = Field(description="every option of the rules profile")
    slate: SlateRead


class CandidateCreate(BaseModel):
    model_config = _examples({"name": "李明", "student_id": "2023040102"})

    name: PersonName
    student_id: StudentId | None = None


class CandidateRead(BaseModel):
    model_config = _examples(
        {
            "id": 3,
            "election_id": 1,
            "name": "刘洋",
            "student_id": None,
            "position": 2,
            "stroke_explanation": "“刘”6 画（点横撇点竖竖）；“洋”9 画（点点横点撇横横横竖）；"
            "单名（名只有一个字）。排在“王宁”之后：首字“王”4 画，少于“刘”的 6 画，笔画少的在前。",
        }
    )

    id: int
    election_id: int
    name: str
    student_id: str | None
    position: int = Field(description="1-based place on the ballot (按姓氏笔画为序)")
    stroke_explanation: str = Field(
        description="为什么排在这里：各字的笔画与笔顺，以及与前一名的比较（STROKE_ORDER.md）。"
        "Why the name stands here: each character's strokes, and the comparison with the name "
        "before it"
    )


class NameWarningRead(BaseModel):
    name: str
    kind: str
    message_zh: str
    message_en: str


class CandidateListRead(BaseModel):
    model_config = _examples(
        {
            "election_id": 1,
            "name_order": "single_given_name_first",
            "candidates": [
                {"id": 4, "election_id": 1, "name": "丁一", "student_id": None, "position": 1},
                {"id": 3, "election_id": 1, "name": "王芳", "student_id": None, "position": 2},
            ],
            "warnings": [],
        }
    )

    election_id: int
    name_order: str
    candidates: list[CandidateRead]
    warnings: list[NameWarningRead]


class OfficialCreate(BaseModel):
    model_config = _examples({"name": "赵磊", "role": "teller", "student_id": "2023040188"})

    name: PersonName
    role: Role
    student_id: StudentId | None = None


class OfficialRead(BaseModel):
    model_config = _examples(
        {
            "id": 5,
            "congress_id": 1,
            "name": "赵磊",
            "role": "teller",
            "role_zh": "计票人",
            "student_id": "2023040188",
            "login_pending": True,
        }
    )

    id: int
    congress_id: int
    name: str
    role: Role
    role_zh: str
    student_id: str | None
    login_pending: bool = Field(description="a one-time login code has been issued, not used")


class LoginCodeRead(BaseModel):
    model_config = _examples(
        {
            "official_id": 5,
            "code": "K7QM-2XHP-R9TB",
            "expires_at": "2026-11-21T08:00:00Z",
            "login_url": "http://127.0.0.1:8000/login?code=K7QM-2XHP-R9TB",
            "qr_svg_url": "/api/auth/login-qr.svg?code=K7QM-2XHP-R9TB",
            "qr_png_url": "/api/auth/login-qr.png?code=K7QM-2XHP-R9TB",
        }
    )

    official_id: int
    code: str
    expires_at: datetime
    login_url: str
    qr_svg_url: str
    qr_png_url: str


class StaffingRead(BaseModel):
    """O2: the officials a count needs (seed: 1 总监票人, 1 总计票人, 2 监票人, 5 计票人)."""

    model_config = _examples(
        {
            "ok": False,
            "required": {"chief_scrutineer": 1, "chief_teller": 1, "scrutineer": 2, "teller": 5},
            "actual": {"chief_scrutineer": 1, "chief_teller": 1, "scrutineer": 2, "teller": 4},
            "problems": [
                {
                    "code": "staffing_teller",
                    "message_zh": "计票人应为 5 人，现有 4 人",
                    "message_en": "teller: 5 required, 4 assigned (O2)",
                    "field": "teller",
                    "row": None,
                }
            ],
        }
    )

    ok: bool
    required: dict[str, int]
    actual: dict[str, int]
    problems: list[ErrorItem]


class ElectionQuorumRead(BaseModel):
    delegates_total: int
    present: int
    required: int
    met: bool


class ReadinessRead(BaseModel):
    """Whether papers may be issued now: slate (六.4), staffing (O2), quorum (Q1)."""

    model_config = _examples(
        {
            "election_id": 1,
            "ready": False,
            "slate": {
                "ok": True,
                "candidates": 5,
                "seats": 3,
                "allow_uncontested": False,
                "code": None,
                "message_zh": None,
                "message_en": None,
            },
            "staffing": {
                "ok": True,
                "required": {
                    "chief_scrutineer": 1,
                    "chief_teller": 1,
                    "scrutineer": 2,
                    "teller": 5,
                },
                "actual": {"chief_scrutineer": 1, "chief_teller": 1, "scrutineer": 2, "teller": 5},
                "problems": [],
            },
            "quorum": {"delegates_total": 189, "present": 151, "required": 152, "met": False},
        }
    )

    election_id: int
    ready: bool
    slate: SlateRead
    staffing: StaffingRead
    quorum: ElectionQuorumRead
