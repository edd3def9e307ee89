"""The election record over HTTP: the same two files as ``jipiao audit export``, as one zip."""

import io
import zipfile

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from app.audit.record import record_files
from app.auth import ReadLedger, ReadPapers, SettingsDep
from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.keys import current_fingerprints
from app.ledger.replay import EVENTS_FILE, MANIFEST_FILE
from app.setup import duties
from app.setup import service as setup_service
from app.setup.schemas import Id

router = APIRouter(prefix="/api", tags=["audit 审计"], responses=ERROR_RESPONSES)


@router.get(
    "/elections/{election_id}/record",
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
