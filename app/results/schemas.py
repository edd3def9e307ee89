"""Request and response bodies of the results endpoints."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DecisionRead(BaseModel):
    round_id: int
    status: str
    decision_hash: str | None = Field(description="hash of the `round.decided` event")
    result: dict[str, Any] | None = Field(
        description="the engine's result: quorum, papers, majority, tallies, elected, next_round, "
        "trace (same keys as `jipiao tally`)"
    )
    signatures: list[dict[str, Any]]
    certified: bool


class FollowUpCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"candidates": None}, {"candidates": ["李强", "周敏"]}]}
    )

    candidates: list[str] | None = Field(
        default=None,
        max_length=200,
        description="另行选举候选人（缺省为引擎建议名单）/ the presidium's list; default: the "
        "engine's proposal. A tie round always lists exactly the tied persons.",
    )


class ElectionResultRead(BaseModel):
    election_id: int
    title: str
    seats: int
    elected: list[dict[str, Any]]
    seats_filled: int
    seats_open: int
    complete: bool
    next_round: dict[str, Any] | None
    rounds: list[dict[str, Any]]
