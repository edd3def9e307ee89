"""Reading a congress's event chain: the events themselves and a verification of the chain."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from app.audit import consistency
from app.auth import ROLE_PERMISSIONS, Permission, ReadLedger
from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.ledger import store
from app.setup import service as setup_service
from app.setup.schemas import Id

router = APIRouter(prefix="/api", tags=["ledger 事件日志"], responses=ERROR_RESPONSES)


class EventRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "height": 1,
                    "parent": "4f1c…",
                    "hash": "9a0e…",
                    "type": "delegate.checked_in",
                    "payload": {"delegate_id": 7, "present": 153},
                    "at": "2026-11-14T11:05Z",
                    "actor_role": "admin",
                }
            ]
        }
    )

    height: int
    parent: str
    hash: str
    type: str
    payload: dict[str, Any]
    at: str
    actor_role: str


class ChainProblemRead(BaseModel):
    height: int
    message_zh: str
    message_en: str


class TableMismatchRead(BaseModel):
    table: str
    key: str
    column: str | None
    in_database: Any
    from_log: Any
    message_zh: str
    message_en: str


class ChainVerifyRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": True,
                    "length": 412,
                    "head": "9a0e…",
                    "problems": [],
                    "rows_checked": 268,
                    "mismatches": [],
                }
            ]
        }
    )

    ok: bool
    length: int
    head: str | None
    problems: list[ChainProblemRead]
    rows_checked: int
    mismatches: list[TableMismatchRead]


# Payload keys holding the marks of papers (``paper.entered`` ``record``, ``batch.resolved``
# ``records``, the disputed papers of ``batch.discrepancy`` and ``batch.needs_adjudication``):
# left out for the roles without ``read_papers`` (docs/service.md).
PAPER_RECORD_KEYS = ("record", "records", "only_in_pass_a", "only_in_pass_b", "unclear")


def _shown(payload: dict[str, Any], *, papers: bool) -> dict[str, Any]:
    if papers:
        return payload
    return {k: v for k, v in payload.items() if k not in PAPER_RECORD_KEYS}


@router.get(
    "/congresses/{congress_id}/events",
    summary="事件日志 / the congress's event chain",
    description=(
        "按高度升序；用 after_height 分页。选票记录（`record`、`records`，以及有差异或待裁定的"
        "选票 `only_in_pass_a`、`only_in_pass_b`、`unclear`）只提供给审计人员和监票人；其他角色"
        "看到的事件不含这些项（哈希仍是完整事件的哈希）。"
        "Ascending by height; page with after_height. Paper records (`record`, `records`, and "
        "the disputed papers `only_in_pass_a`, `only_in_pass_b`, `unclear`) are "
        "served to the auditor and the scrutineers only; other roles get the events without "
        "them (the hash is still the whole event's): a unique mark pattern can show how someone "
        "voted (docs/service.md)."
    ),
)
def list_events(
    congress_id: Id,
    session: SessionDep,
    actor: ReadLedger,
    after_height: Annotated[int, Query(ge=-1, le=2_147_483_647)] = -1,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[EventRead]:
    actor.ensure_congress(congress_id)
    setup_service.get_congress(session, congress_id=congress_id)
    rows = store.list_events(
        session, congress_id=congress_id, after_height=after_height, limit=limit
    )
    papers = Permission.read_papers in ROLE_PERMISSIONS[actor.role]
    return [
        EventRead(
            height=row.height,
            parent=row.parent,
            hash=row.hash,
            type=row.type,
            payload=_shown(json.loads(row.payload), papers=papers),
            at=row.at,
            actor_role=row.actor_role,
        )
        for row in rows
    ]


@router.get(
    "/congresses/{congress_id}/events/verify",
    summary="校验事件链与数据表 / verify the event chain and the tables against it",
    description=(
        "先校验哈希链，再由事件日志重建各数据表应有的内容，逐行逐列与数据库比较；"
        "绕过日志改动的任何一行都列在 mismatches 中。"
        " Verifies the hash chain, then rebuilds from the log what every table must hold and "
        "compares it row by row, column by column: a row changed behind the log's back is listed "
        "in mismatches."
    ),
)
def verify_events(congress_id: Id, session: SessionDep, actor: ReadLedger) -> ChainVerifyRead:
    actor.ensure_congress(congress_id)
    setup_service.get_congress(session, congress_id=congress_id)
    rows = store.list_events(session, congress_id=congress_id)
    checked = consistency.check_congress(session, congress_id=congress_id)
    return ChainVerifyRead(
        ok=checked.ok,
        length=len(rows),
        head=rows[-1].hash if rows else None,
        problems=[
            ChainProblemRead(height=p.height, message_zh=p.message_zh, message_en=p.message_en)
            for p in checked.chain_problems
        ],
        rows_checked=checked.rows,
        mismatches=[
            TableMismatchRead(
                table=m.table,
                key=m.key,
                column=m.column,
                in_database=m.in_database,
                from_log=m.from_log,
                message_zh=m.message_zh,
                message_en=m.message_en,
            )
            for m in checked.mismatches
        ],
    )
