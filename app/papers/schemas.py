"""Request and response bodies of the rounds and papers API (names from GLOSSARY.md)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.errors import ErrorRead

MAX_PAPERS = 100_000


def _examples(*examples: JsonDict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class VoidReasonRead(BaseModel):
    rule: str | None = Field(description="I2，或 null：大会主席团宣布无效（六.8）")
    message_zh: str
    message_en: str


class RoundRead(BaseModel):
    model_config = _examples(
        {
            "id": 1,
            "election_id": 1,
            "number": 1,
            "kind": "regular",
            "seats": 3,
            "candidates": ["王宁", "刘洋", "李娜", "张伟", "欧阳晓东"],
            "definition": {"version": 2, "election": 1, "round": 1, "kind": "regular"},
            "definition_hash": "9f2c…",
            "present": 180,
            "printed": None,
            "issued": None,
            "destroyed": None,
            "collected": None,
            "status": "open",
            "follows_round_id": None,
            "opened_at": "2026-11-14T09:00:00Z",
            "void_reason": None,
        }
    )

    id: int
    election_id: int
    number: int
    kind: Literal["regular", "tie", "supplementary", "rerun"] = Field(
        description="rerun: the void round held again (I2), counted as the round it reruns "
        "(its definition's kind: a tie round's rerun is a tie round, M7)"
    )
    seats: int
    candidates: list[str]
    definition: dict[str, Any]
    definition_hash: str
    present: int = Field(
        description="实到：已签到人数，发票时冻结（Q1、Q3）；发票前为开启时的人数。"
        "The checked-in count, frozen when the papers are issued (Q1, Q3); before issuance the "
        "count when the round opened"
    )
    printed: int | None
    issued: int | None
    destroyed: int | None
    collected: int | None
    status: str = Field(
        description="open → issued → collected → counting (→ decided → certified, app.results); "
        "void (I2)"
    )
    follows_round_id: int | None
    opened_at: datetime
    void_reason: VoidReasonRead | None = Field(
        description="为何无效（仅无效的轮次）：收回选票过多（I2）或大会主席团宣布 / why a void "
        "round is void: the overcount (I2, with its numbers) or the presidium's ruling"
    )


class RoundListRead(BaseModel):
    model_config = _examples({"election_id": 1, "rounds": []})

    election_id: int
    rounds: list[RoundRead]


class ScanRequest(BaseModel):
    model_config = _examples({"payload": "JP1.7.1.UGQ2DINB.SCO4XQXGH7C2T5MQ"})

    payload: str = Field(min_length=1, max_length=200, description="扫描到的二维码文本")


class ScanRead(BaseModel):
    model_config = _examples(
        {
            "verdict": "this_round",
            "round_id": 1,
            "round_number": 1,
            "message_zh": "本轮选票",
            "message_en": "a paper of this round",
        }
    )

    verdict: Literal["this_round"]
    round_id: int
    round_number: int
    message_zh: str
    message_en: str


class IssuanceRequest(BaseModel):
    model_config = _examples({"printed": 190, "issued": 180})

    printed: int = Field(ge=0, le=MAX_PAPERS, description="印制选票数")
    issued: int = Field(ge=0, le=MAX_PAPERS, description="发出选票数")


class CollectionRequest(BaseModel):
    model_config = _examples({"collected": 180})

    collected: int = Field(ge=0, le=MAX_PAPERS, description="收回选票数")


class CollectionRead(BaseModel):
    """The round after collection; if it was void (I2), the rerun opened or why it was not."""

    model_config = _examples(
        {"round": {"id": 1, "status": "void"}, "void": True, "rerun": None, "rerun_refused": None}
    )

    round: RoundRead
    void: bool
    rerun: RoundRead | None
    rerun_refused: ErrorRead | None
