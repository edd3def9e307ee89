"""HTTP endpoints for rounds and papers. Parse, authorize, call one service, shape the reply."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from app import models
from app.auth.deps import CheckPapers, ManageSetup, ReadSetup, SettingsDep
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, ErrorRead
from app.keys import check_installation_keys, ensure_keys
from app.papers import schemas
from app.papers import service as papers_service
from app.papers.service import round_read
from app.setup import service as setup_service
from app.setup.schemas import Id

router = APIRouter(prefix="/api", tags=["papers 轮次与选票"], responses=ERROR_RESPONSES)


def _round_for(session: SessionDep, round_id: int, actor: ReadSetup) -> models.Round:
    round_ = papers_service.get_round(session, round_id=round_id)
    actor.ensure_congress(papers_service.congress_of(session, round_))
    return round_


@router.post(
    "/elections/{election_id}/rounds",
    status_code=status.HTTP_201_CREATED,
    summary="开始第一轮投票（冻结定义）/ open the first round (freezes its definition)",
    description=(
        "需要差额候选人名单（六.4）、工作人员配备（O2）和法定人数（Q1，按当前实到人数）。"
        "若上一轮因 I2 无效且未能重新选举，则开启重新选举。\n\n"
        "Requires the slate, O2 staffing and Q1 on the present count now; freezes the definition "
        "(`round.opened`). If the last round was void (I2) and its rerun could not be opened, "
        "opens the rerun."
    ),
)
def open_round(
    election_id: Id, session: SessionDep, actor: ManageSetup, settings: SettingsDep
) -> schemas.RoundRead:
    # The keys exist before any round does (made now if they went missing while no round exists;
    # 503 keys_missing otherwise), the installation's (503 keys_differ): papers are printed with
    # the key checked here (app.keys).
    check_installation_keys(session, ensure_keys(session, settings.data_dir))
    return round_read(papers_service.open_round(session, actor=actor, election_id=election_id))


@router.get("/elections/{election_id}/rounds", summary="本选举的轮次 / rounds of an election")
def list_rounds(election_id: Id, session: SessionDep, actor: ReadSetup) -> schemas.RoundListRead:
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    rounds = papers_service.list_rounds(session, election_id=election_id)
    return schemas.RoundListRead(election_id=election_id, rounds=[round_read(r) for r in rounds])


@router.get("/rounds/{round_id}", summary="一轮投票 / one round")
def get_round(round_id: Id, session: SessionDep, actor: ReadSetup) -> schemas.RoundRead:
    return round_read(_round_for(session, round_id, actor))


@router.post(
    "/rounds/{round_id}/scan",
    summary="核验选票二维码 / verify a paper's QR code (P1)",
    description=(
        "本轮选票 200；其他轮次 `qr_other_round`、其他选举 `qr_other_election`、定义不符 "
        "`qr_other_definition`、伪造 `qr_forged`（均为 422）。"
    ),
)
def scan(
    round_id: Id,
    body: schemas.ScanRequest,
    session: SessionDep,
    actor: CheckPapers,
    settings: SettingsDep,
) -> schemas.ScanRead:
    round_ = _round_for(session, round_id, actor)
    verdict = papers_service.verify_scan(
        session, round_=round_, payload=body.payload, data_dir=settings.data_dir
    )
    return schemas.ScanRead(
        verdict="this_round",
        round_id=round_.id,
        round_number=round_.number,
        message_zh=verdict.message_zh,
        message_en=verdict.message_en,
    )


@router.get(
    "/rounds/{round_id}/papers.pdf",
    summary="印制本轮选票（PDF）/ the round's papers (PDF)",
    description=(
        "默认份数为当前已签到人数（发票后为冻结的实到人数）。"
        "Copies default to the delegates checked in now (after issuance: the frozen `present`)."
    ),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def papers_pdf(
    round_id: Id,
    session: SessionDep,
    actor: ManageSetup,
    settings: SettingsDep,
    paper_size: Annotated[Literal["A4", "A5"] | None, Query(description="纸张")] = None,
    per_page: Annotated[int | None, Query(ge=1, le=2, description="每页几张（1 或 2）")] = None,
    copies: Annotated[int | None, Query(ge=1, le=papers_service.MAX_COPIES)] = None,
) -> Response:
    _round_for(session, round_id, actor)
    round_, pdf = papers_service.render_round_papers(
        session,
        round_id=round_id,
        data_dir=settings.data_dir,
        paper_size=paper_size,
        per_page=per_page,
        copies=copies,
    )
    filename = f"round-{round_.election_id}-{round_.number}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.post(
    "/rounds/{round_id}/issuance",
    summary="登记印制与发出选票数 / record papers printed and issued (I1)",
    description="发出数不得多于实到人数和印制数（I1）；剩余选票记为当众销毁。",
)
def record_issuance(
    round_id: Id, body: schemas.IssuanceRequest, session: SessionDep, actor: ManageSetup
) -> schemas.RoundRead:
    round_ = papers_service.record_issuance(
        session, actor=actor, round_id=round_id, printed=body.printed, issued=body.issued
    )
    return round_read(round_)


@router.post(
    "/rounds/{round_id}/collection",
    summary="登记收回选票数 / record papers collected (I2)",
    description=(
        "收回数多于实到人数（或发出数）则本轮无效（I2），并按当前实到人数重新选举（Q1）。"
        "An overcount voids the round and opens its rerun if Q1 holds now."
    ),
)
def record_collection(
    round_id: Id, body: schemas.CollectionRequest, session: SessionDep, actor: ManageSetup
) -> schemas.CollectionRead:
    result = papers_service.record_collection(
        session, actor=actor, round_id=round_id, collected=body.collected
    )
    refused = result.rerun_refused
    return schemas.CollectionRead(
        round=round_read(result.round),
        void=result.round.status == papers_service.ROUND_VOID,
        rerun=None if result.rerun is None else round_read(result.rerun),
        rerun_refused=None if refused is None else ErrorRead.model_validate(refused.body()),
    )
