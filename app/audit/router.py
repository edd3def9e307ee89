"""The audit over HTTP: the election record (the same two files as ``jipiao audit export``, as one
zip), the installation's key fingerprints, the congress's event chain and its verification."""

import io
import json
import zipfile
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from app.audit import consistency
from app.audit.record import record_files
from app.auth.deps import ReadLedger, ReadPapers, SettingsDep
from app.auth.roles import ROLE_PERMISSIONS, Permission
from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.keys import current_fingerprints
from app.ledger import store
from app.ledger.replay import EVENTS_FILE, MANIFEST_FILE
from app.setup import duties
from app.setup import service as setup_service
from app.setup.schemas import Id

# One router, two tags: the record and keys (audit), the event chain and its check (ledger).
router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)
AUDIT: list[str | Enum] = ["audit 审计"]
LEDGER: list[str | Enum] = ["ledger 事件日志"]


@router.get(
    "/elections/{election_id}/record",
    tags=AUDIT,
    summary="选举记录（事件日志与签名清单）/ the election record: events and signed manifest",
    description=(
        "zip 内含 events.jsonl 与 manifest.json；解压后用 `jipiao audit verify DIR` "
        "离线核验并重新计票。"
        "A zip of events.jsonl and manifest.json; unzip and run `jipiao audit verify DIR` offline."
        "\n\n每张选票的记录只提供给审计人员和监票人（含总监票人）：独特的标记组合可用来核对某人"
        "如何投票。Per-paper records are served to the auditor and the scrutineers only: a unique "
        "mark pattern can show how someone voted (docs/service.md)."
    ),
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def election_record(
    election_id: Id, session: SessionDep, actor: ReadPapers, settings: SettingsDep
) -> Response:
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    files = record_files(
        session,
        congress_id=election.congress_id,
        election_id=election_id,
        data_dir=settings.data_dir,
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(EVENTS_FILE, files.events)
        archive.writestr(MANIFEST_FILE, files.manifest)
    filename = f"record-election{election_id}-{files.head_hash[:12]}.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class KeysRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data_dir": "/srv/jipiao/var",
                    "qr_key_fingerprint": "5d0c9e41a7b3f268",
                    "signing_key_fingerprint": "e3a1c07f9b2d4856",
                    "public_key": "9b1f0c…",
                }
            ]
        }
    )

    data_dir: str
    qr_key_fingerprint: str
    signing_key_fingerprint: str
    public_key: str


@router.get(
    "/audit/keys",
    tags=AUDIT,
    summary="本机密钥指纹 / the installation's key fingerprints",
    description=(
        "二维码密钥与签名密钥的指纹（从不显示密钥本身），与启动时打印的、密钥备份文件中的指纹"
        "核对：指纹变了，已印选票将无法核验。"
        " The fingerprints of the QR key (first 16 hex of HMAC-SHA256(key, 'jipiao qr key "
        "fingerprint')) and of the record-signing key (first 16 hex of SHA-256 of the public "
        "key), never the keys: compare them with the ones printed at start and stored in the "
        "keys backup."
    ),
)
def keys(actor: ReadLedger, settings: SettingsDep) -> KeysRead:
    del actor  # any reader of the ledger may compare the fingerprints
    found = current_fingerprints(settings.data_dir)
    return KeysRead(
        data_dir=str(found.data_dir),
        qr_key_fingerprint=found.qr_key,
        signing_key_fingerprint=found.signing_key,
        public_key=found.public_key,
    )


@router.get(
    "/audit/congresses/{congress_id}/duties",
    tags=AUDIT,
    summary="谁用哪个会话签字、登录码由谁签发 / who signed with which session, codes, changes",
    description=(
        "每个签字：签字人、会话编号、该会话登录码的签发时间、签发人和确认的主席团成员；每次签发"
        "登录码；每项工作人员变更申请及其确认（docs/service.md，“分工制约”）。\n\nEvery "
        "signature with its session and how that session's login code was issued (when, by whom, "
        "confirmed by which presidium member); every login code issued; every requested change "
        'of officials and its confirmation (docs/service.md, "Separation of duties").'
    ),
)
def duties_of_congress(
    congress_id: Id, session: SessionDep, actor: ReadLedger
) -> duties.DutiesRead:
    actor.ensure_congress(congress_id)
    return duties.duties_read(session, congress_id=congress_id)


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
    tags=LEDGER,
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
    tags=LEDGER,
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
