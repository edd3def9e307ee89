"""Request and response bodies of the counting API (names from GLOSSARY.md)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from app.rules.model import EnteredMark, VoidRule
from app.rules.model import Mark as ResolvedMark
from app.rules.text import check_name_text
from app.setup.schemas import plain_text

CandidateName = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(plain_text)
]
WrittenName = Annotated[
    str,
    StringConstraints(max_length=50),
    AfterValidator(plain_text),
    AfterValidator(check_name_text),  # the names' one refusal list (app.rules.text)
]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
    AfterValidator(plain_text),
]


def _examples(*examples: JsonDict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class BatchCreate(BaseModel):
    model_config = _examples({"declared_count": 40, "teller_a_id": 5, "teller_b_id": 6})

    declared_count: int = Field(ge=1, le=10_000, description="本批选票张数")
    teller_a_id: int = Field(ge=1, le=2_147_483_647, description="第一遍录入的计票人")
    teller_b_id: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="第二遍（盲录）计票人；双人录入时必填"
    )


PROGRESS_EXAMPLE: JsonDict = {
    "batch_id": 3,
    "declared": 40,
    "pass_a": 12,
    "pass_b": 9,
    "status": "entering",
    "generation": 1,
}


class ProgressRead(BaseModel):
    model_config = _examples(PROGRESS_EXAMPLE)

    batch_id: int
    declared: int
    pass_a: int
    pass_b: int | None
    status: Literal["entering", "discrepancy", "adjudication", "reconciled"]
    generation: int


REENTRY_EXAMPLE: JsonDict = {
    "discarded_generation": 1,
    "reason": "两遍差异过多，责令重新录入",
    "author_role": "scrutineer",
    "author_name": "周敏",
    "ordered_at": "2026-11-14T10:20:00Z",
}


class ReentryOrderRead(BaseModel):
    """A scrutineer's order (or the presidium's correction) to enter the batch again."""

    model_config = _examples(REENTRY_EXAMPLE)

    discarded_generation: int = Field(description="被作废的录入轮次 / the generation discarded")
    reason: str
    author_role: str
    author_name: str | None
    ordered_at: datetime


BATCH_EXAMPLE: JsonDict = {
    "id": 3,
    "round_id": 1,
    "number": 1,
    "declared_count": 40,
    "teller_a_id": 5,
    "teller_b_id": 6,
    "progress": PROGRESS_EXAMPLE | {"generation": 2},
    "reentry_orders": [REENTRY_EXAMPLE],
}


class BatchRead(BaseModel):
    model_config = _examples(BATCH_EXAMPLE)

    id: int
    round_id: int
    number: int
    declared_count: int
    teller_a_id: int
    teller_b_id: int | None
    progress: ProgressRead
    reentry_orders: list[ReentryOrderRead] = Field(
        default_factory=list,
        description="责令重新录入的记录（最早的在前）/ orders to enter the batch again",
    )


class BatchListRead(BaseModel):
    model_config = _examples(
        {"round_id": 1, "collected": 180, "declared": 40, "batches": [BATCH_EXAMPLE]}
    )

    round_id: int
    collected: int | None
    declared: int
    batches: list[BatchRead]


class PaperEntryCreate(BaseModel):
    model_config = _examples(
        {
            "idempotency_key": "tablet3-7f1c2a9e",
            "qr_payload": "JP1.7.1.UGQ2DINB.SCO4XQXGH7C2T5MQ",
            "marks": {"王宁": "yes", "刘洋": "no", "李娜": "yes", "张伟": "abstain"},
            "write_ins": ["赵敏"],
            "void": None,
        }
    )

    idempotency_key: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="平板生成的唯一编号",
    )
    qr_payload: str = Field(default="", max_length=200, description="扫描到的二维码（P1 废票可空）")
    marks: dict[CandidateName, EnteredMark] = Field(max_length=500, description="每位候选人的符号")
    write_ins: list[WrittenName | None] = Field(
        default_factory=list,
        max_length=100,
        description="另选他人：汉字姓名（译名用“·”分隔）；无法辨认填 null",
    )
    write_ins_latin_confirmed: bool = Field(
        default=False,
        strict=True,  # a confirmation is true or false, never "yes"
        description="计票人确认选票上的另选他人确是外文（拉丁字母）姓名；否则只收汉字姓名",
    )
    void: VoidRule | None = Field(default=None, description="整张废票的规则：P1 / P4 / P9")


class PaperEntryRead(BaseModel):
    """The answer to one entry (a retried idempotency key returns the very same answer)."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "paper_id": "5b0c7a8e-0d7e-4a57-9a53-3f1d2c4b9e10",
                    "pass": "a",
                    "status": "invalid",
                    "valid": False,
                    "rule": "P2",
                    "violations": ["P2"],
                    "write_ins_not_on_roster": ["赵敏"],
                    "progress": PROGRESS_EXAMPLE,
                }
            ]
        },
    )

    paper_id: str
    pass_: Literal["a", "b"] = Field(alias="pass")
    status: Literal["valid", "invalid", "pending"]
    valid: bool | None
    rule: str | None
    violations: list[str]
    write_ins_not_on_roster: list[str]
    progress: ProgressRead


RECORD_EXAMPLE: JsonDict = {
    "marks": {"王宁": "yes", "刘洋": "no"},
    "write_ins": ["赵敏"],
    "void": None,
}


class RecordRead(BaseModel):
    model_config = _examples(RECORD_EXAMPLE)

    marks: dict[str, str]
    write_ins: list[str | None]
    void: str | None


class OwnPaperRead(BaseModel):
    paper_id: str
    record: RecordRead
    status: str
    rule: str | None


class OwnPapersRead(BaseModel):
    """The caller's own pass only (sorted by random id); never the other pass."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "batch_id": 3,
                    "pass": "b",
                    "papers": [
                        {
                            "paper_id": "5b0c7a8e-0d7e-4a57-9a53-3f1d2c4b9e10",
                            "record": RECORD_EXAMPLE,
                            "status": "valid",
                            "rule": None,
                        }
                    ],
                }
            ]
        },
    )

    batch_id: int
    pass_: Literal["a", "b"] = Field(alias="pass")
    papers: list[OwnPaperRead]


class RecordInput(BaseModel):
    marks: dict[CandidateName, ResolvedMark] = Field(max_length=500)
    write_ins: list[WrittenName | None] = Field(default_factory=list, max_length=100)
    write_ins_latin_confirmed: bool = Field(default=False, strict=True)
    void: VoidRule | None = None


class ResolutionCreate(BaseModel):
    model_config = _examples(
        {
            "records": [{"marks": {"王宁": "yes", "刘洋": "no"}, "write_ins": [], "void": None}],
            "reason": "监票人核对原票：第二遍录入有误",
        }
    )

    records: list[RecordInput] = Field(max_length=10_000)
    reason: Reason


class ReentryCreate(BaseModel):
    model_config = _examples({"reason": "两遍差异过多，责令重新录入"})

    reason: Reason


class AdjudicationItemRead(BaseModel):
    batch_id: int
    batch_number: int
    status: Literal["discrepancy", "adjudication"]
    only_in_pass_a: list[RecordRead]
    only_in_pass_b: list[RecordRead]
    unclear: list[RecordRead]
    records_needed: int


class AdjudicationRead(BaseModel):
    model_config = _examples(
        {
            "round_id": 1,
            "batches": [
                {
                    "batch_id": 3,
                    "batch_number": 1,
                    "status": "discrepancy",
                    "only_in_pass_a": [RECORD_EXAMPLE],
                    "only_in_pass_b": [RECORD_EXAMPLE | {"write_ins": []}],
                    "unclear": [],
                    "records_needed": 1,
                }
            ],
        }
    )

    round_id: int
    batches: list[AdjudicationItemRead]


class CountStatusRead(BaseModel):
    model_config = _examples(
        {
            "round_id": 1,
            "collected": 180,
            "declared": 180,
            "all_declared": True,
            "batches": 5,
            "batches_open": 1,
            "discrepancies_open": 1,
            "adjudications_open": 0,
            "papers_entered": 180,
            "papers_reconciled": 140,
            "ready": False,
        }
    )

    round_id: int
    collected: int | None
    declared: int
    all_declared: bool
    batches: int
    batches_open: int
    discrepancies_open: int
    adjudications_open: int
    papers_entered: int
    papers_reconciled: int
    ready: bool


class NameSuggestionsRead(BaseModel):
    model_config = _examples({"q": "wxm", "names": ["王小明", "吴晓敏"]})

    q: str
    names: list[str]


def shown(record: dict[str, Any]) -> RecordRead:
    return RecordRead.model_validate(record)
