"""Request and response bodies of the results endpoints."""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.rules.text import check_name_text
from app.setup.schemas import plain_text

# A name on the presidium's follow-up list: the names' one refusal list (app.rules.text); it is
# matched to the round's persons by their identity (normalize_name).
FollowUpName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=50),
    AfterValidator(plain_text),
    AfterValidator(check_name_text),
]

_RESULT_EXAMPLE: dict[str, Any] = {
    "quorum": {"met": True, "required": 152},
    "round": {"valid": True, "void_rule": None, "kind": "regular", "seats": 3,
              "outcome": "seats_filled"},
    "papers": {"entered": 180, "valid": 178, "invalid": 2, "invalid_by_rule": {"P3": 2}},
    "majority": {"base": 180, "base_kind": "present", "threshold": 91},
    "tallies": [{"name": "王宁", "write_in": False, "yes": 150, "no": 20, "abstain": 8}],
    "elected": ["王宁", "刘洋", "李娜"],
    "vacant": 0,
    "next_round": None,
    "trace": [{"rule": "M3", "message": "获得过半数赞成票者 3 人……", "message_en": "…"}],
}  # fmt: skip


class DecisionSummaryRead(BaseModel):
    """The decision in the words of the result report (C4, ``app.results.report``): what the
    officials' pages show beside the engine's trace."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcome_zh": "王宁、刘洋 当选",
                    "outcome_en": "elected: 王宁, 刘洋",
                    "follow_up_zh": "须另行选举：应选 1 名，候选人 李娜、张伟",
                    "follow_up_en": "supplementary round for 1 seat(s): 李娜, 张伟",
                    "rule_zh": "得赞成票超过半数者当选（M2），以实到人数 180 为基数",
                    "rule_en": "elected with more than half of the base (M2): present 180",
                    "threshold": 91,
                    "threshold_label_zh": "当选最低票数（过半数）",
                }
            ]
        }
    )

    outcome_zh: str
    outcome_en: str
    follow_up_zh: str | None
    follow_up_en: str | None
    rule_zh: str
    rule_en: str
    threshold: int | None = Field(description="M2; none in a tie round (M7, by plurality)")
    threshold_label_zh: str | None


class DecisionRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "round_id": 1,
                    "status": "certified",
                    "decision_hash": "3f1c…",
                    "result": _RESULT_EXAMPLE,
                    "signatures": [
                        {"round_id": 1, "decision": "3f1c…", "official_id": 2,
                         "role": "chief_scrutineer"},
                        {"round_id": 1, "decision": "3f1c…", "official_id": 4,
                         "role": "scrutineer"},
                    ],
                    "certified": True,
                }
            ]
        }
    )  # fmt: skip

    round_id: int
    status: str
    decision_hash: str | None = Field(description="hash of the `round.decided` event")
    result: dict[str, Any] | None = Field(
        description="the engine's result: quorum, papers, majority, tallies, elected, next_round, "
        "trace (same keys as `jipiao tally`)"
    )
    summary: DecisionSummaryRead | None = Field(
        default=None, description="the decision in the result report's words (C4)"
    )
    signatures: list[dict[str, Any]]
    certified: bool
    ineligible: list[str] = Field(
        default_factory=list,
        description="P7: written-in persons the presidium ruled ineligible (struck from the "
        "ranking of this round)",
    )
    write_in_flags: list[dict[str, Any]] = Field(
        default_factory=list,
        description="written-in persons who are officials of the congress, for the presidium's "
        "ruling (P7): `name`, `official_roles`, `message_zh`, `message_en`",
    )
    history: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the round's decisions (`round.decided`, with `elected`, `yes` and "
        "`certified`) and the presidium's decisions on it (`round.correction_ordered`, "
        "`round.ineligible_ruled`, `round.void`, `round.follow_up_cancelled`, with `reason` and "
        "author), in order",
    )
    follow_up: dict[str, Any] | None = Field(
        default=None,
        description="the tie or supplementary round the decision calls for (M5, M6), for the "
        "presidium: `kind`, `seats`, `proposal` (the engine's list), `needed` (the fewest names "
        "the list may have), `rule_zh`/`rule_en` (the list rule in words: 差额 by `slate_size`, "
        "`supplementary_pool`, `allow_uncontested`); null when none",
    )


class FollowUpCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"candidates": None}, {"candidates": ["李强", "周敏"]}]}
    )

    candidates: list[FollowUpName] | None = Field(
        default=None,
        max_length=200,
        description="另行选举候选人（缺省为引擎建议名单）/ the presidium's list; default: the "
        "engine's proposal. A tie round always lists exactly the tied persons.",
    )


class ElectionResultRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "election_id": 1,
                    "title": "主席团成员",
                    "seats": 3,
                    "seats_reduced_from": None,
                    "elected": [{"name": "王宁", "round": 1}, {"name": "刘洋", "round": 1},
                                {"name": "李娜", "round": 2}],
                    "seats_filled": 3,
                    "seats_open": 0,
                    "complete": True,
                    "next_round": None,
                    "rounds": [
                        {"round_id": 1, "number": 1, "kind": "regular", "status": "certified",
                         "outcome": "tie_round"},
                        {"round_id": 2, "number": 2, "kind": "tie", "status": "certified",
                         "outcome": "seats_filled"},
                    ],
                }
            ]
        }
    )  # fmt: skip

    election_id: int
    title: str
    seats: int
    seats_reduced_from: int | None = Field(
        description="M10: the seats before the presidium reduced them to those filled"
    )
    elected: list[dict[str, Any]]
    seats_filled: int
    seats_open: int
    complete: bool
    next_round: dict[str, Any] | None
    rounds: list[dict[str, Any]]
    disregarded: list[dict[str, Any]] = Field(
        default_factory=list,
        description="a person a round's decision names who is not listed (M9): "
        "`already_elected` in an earlier round, or `no_seat_left`; for the presidium",
    )


class PresidiumOrder(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "复核发现第3批选票录入有误，重新清点"}]}
    )

    # No min_length: an empty reason is refused like a blank one, by reason_text (reason_required,
    # 请写明理由), not by the validator, whose message would name the field in English.
    reason: str = Field(max_length=1000, description="理由 / the reason")


class CorrectionOrder(PresidiumOrder):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "复核发现第3批选票录入有误，重新清点", "batches": [3]}]
        }
    )

    batches: list[int] | None = Field(
        default=None,
        max_length=1000,
        description="需要重新录入的批次编号（id），缺省为全部批次 / ids of the batches to enter "
        "again by both passes; default: every batch of the round",
    )


class IneligibleRuling(PresidiumOrder):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "赵六", "reason": "赵六是本次大会的计票人"}]}
    )

    name: str = Field(min_length=1, max_length=100, description="另选的人 / the written-in name")
