"""HTTP endpoints to decide and certify rounds, open follow-up rounds, and get reports/exports."""

import datetime
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response

from app.auth.deps import Certify, ReadLedger, ReadSetup, ReleaseResults, SettingsDep, TokenDep
from app.auth.roles import Permission, ensure_permission
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, Conflict, ErrorRead
from app.papers import service as papers_service
from app.papers.schemas import CollectionRead, RoundRead
from app.papers.service import round_read
from app.results import exports, presidium, schemas
from app.results import service as results_service
from app.results.report import election_rule_of, outcome_text_of
from app.setup import duties
from app.setup import service as setup_service
from app.setup.schemas import Id

router = APIRouter(prefix="/api", tags=["results 决定与结果"], responses=ERROR_RESPONSES)


def _decision_read(session: SessionDep, round_id: int) -> schemas.DecisionRead:
    round_ = papers_service.get_round(session, round_id=round_id)
    decision = results_service.decision_of(session, round_)
    signatures = (
        [] if decision is None else results_service.signatures_of(session, round_, decision)
    )
    return schemas.DecisionRead(
        round_id=round_.id,
        status=round_.status,
        decision_hash=None if decision is None else decision.event_hash,
        result=None if decision is None else decision.result,
        summary=None if decision is None else _summary(decision.result),
        signatures=signatures,
        certified=round_.status == results_service.ROUND_CERTIFIED,
        ineligible=sorted(results_service.ruled_ineligible(session, round_)),
        write_in_flags=[flag.json() for flag in presidium.write_in_flags(session, round_)],
        history=presidium.history(session, round_),
        follow_up=presidium.follow_up_proposal(session, round_),
    )


def _summary(result: dict[str, Any]) -> schemas.DecisionSummaryRead:
    outcome_zh, outcome_en, follow_up_zh, follow_up_en = outcome_text_of(result)
    threshold, rule_zh, rule_en = election_rule_of(result)
    return schemas.DecisionSummaryRead(
        outcome_zh=outcome_zh,
        outcome_en=outcome_en,
        follow_up_zh=follow_up_zh,
        follow_up_en=follow_up_en,
        rule_zh=rule_zh,
        rule_en=rule_en,
        threshold=None if threshold is None else threshold.value,
        threshold_label_zh=None if threshold is None else threshold.label_zh,
    )


def _check_congress(session: SessionDep, round_id: int, actor: ReadSetup) -> None:
    round_ = papers_service.get_round(session, round_id=round_id)
    actor.ensure_congress(papers_service.congress_of(session, round_))


@router.post(
    "/rounds/{round_id}/decide",
    summary="计票结果决定（C1）/ decide the round",
    description="每个批次都已核对、录入张数等于收回张数时，由规则引擎作出决定（`round.decided`）。"
    "\n\nWhen every batch is reconciled and entered = collected (C1, I4), runs the rules engine "
    "and records the decision with its trace. Refused with `count_incomplete` otherwise.",
)
def decide(round_id: Id, session: SessionDep, actor: Certify) -> schemas.DecisionRead:
    results_service.decide_round(session, actor=actor, round_id=round_id)
    return _decision_read(session, round_id)


@router.get("/rounds/{round_id}/decision", summary="本轮决定与签字 / decision and signatures")
def get_decision(round_id: Id, session: SessionDep, actor: ReadLedger) -> schemas.DecisionRead:
    _check_congress(session, round_id, actor)
    return _decision_read(session, round_id)


@router.post(
    "/rounds/{round_id}/sign",
    summary="总监票人、监票人签字（C2）/ sign the decision",
    description="总监票人和至少一名监票人签字后，本轮结果确认并冻结（`round.certified`）。\n\n"
    "The chief scrutineer and at least one scrutineer sign, each with their own login; then "
    "the round is certified and frozen.",
)
def sign(
    round_id: Id, session: SessionDep, actor: Certify, token: TokenDep
) -> schemas.DecisionRead:
    results_service.sign_round(
        session,
        actor=actor,
        round_id=round_id,
        signer_session=duties.signer_session(session, token=token),
    )
    return _decision_read(session, round_id)


@router.post(
    "/rounds/{round_id}/follow-up",
    status_code=201,
    summary="开启后续轮次（M5–M8）/ open the tie or supplementary round",
    description="大会主席团确认（或修改）引擎建议的另行选举名单；票数相等时只在相等者之间重新投票。"
    "\n\nThe presidium confirms or edits the engine's proposal for a supplementary round; a tie "
    "round lists exactly the tied persons. Needs the quorum now (Q1).",
)
def follow_up(
    round_id: Id, body: schemas.FollowUpCreate, session: SessionDep, actor: ReleaseResults
) -> RoundRead:
    round_ = results_service.open_follow_up(
        session, actor=actor, round_id=round_id, candidates=body.candidates
    )
    return round_read(round_)


@router.post(
    "/rounds/{round_id}/correction",
    summary="大会主席团下令更正（C2）/ presidium orders a correction",
    description="已作出决定的结果只能由大会主席团以记录在案的命令更正：指定的批次（缺省为全部批次）"
    "由两遍录入重新录入，核对后重新决定、重新签字确认。\n\n"
    "A decided round changes only by a recorded presidium order (`round.correction_ordered`, with "
    "a reason): the named batches (default: all) are entered again by both passes "
    "(`batch.reentry_ordered`), then the round is decided anew and certified anew (C2). Refused "
    "before a decision and once a later round is open.",
)
def correction(
    round_id: Id, body: schemas.CorrectionOrder, session: SessionDep, actor: ReleaseResults
) -> RoundRead:
    return round_read(
        presidium.order_correction(
            session, actor=actor, round_id=round_id, reason=body.reason, batch_ids=body.batches
        )
    )


@router.post(
    "/rounds/{round_id}/cancel",
    summary="撤销后续轮次（六.8、M10）/ cancel a follow-up round before issuance",
    description="票数相等重新投票或另行选举的轮次在发出选票前可由大会主席团撤销（须写明理由）；"
    "之后可另定名单重新开启，或减少名额。\n\n"
    "The presidium cancels a tie or supplementary round before its papers are issued "
    "(`round.follow_up_cancelled`, with a reason); it may then open the follow-up again with "
    "another list, or reduce the seats (M10).",
)
def cancel(
    round_id: Id, body: schemas.PresidiumOrder, session: SessionDep, actor: ReleaseResults
) -> RoundRead:
    return round_read(
        presidium.cancel_follow_up(session, actor=actor, round_id=round_id, reason=body.reason)
    )


@router.post(
    "/rounds/{round_id}/ineligible",
    summary="裁定另选的人不具备被选举资格（P7）/ rule a written-in person ineligible",
    description="大会主席团裁定本轮另选的某人不具备被选举资格：该人不参加排名，选票仍有效；"
    "本轮重新决定、重新签字确认。\n\n"
    "The presidium rules a written-in person of the decided round ineligible "
    "(`round.ineligible_ruled`, with a reason): struck from the ranking of this round and the "
    "election's later rounds, the papers stay valid; the round is decided anew and certified "
    "anew. The decision lists written-in officials under `write_in_flags`.",
)
def ineligible(
    round_id: Id, body: schemas.IneligibleRuling, session: SessionDep, actor: ReleaseResults
) -> RoundRead:
    return round_read(
        presidium.rule_ineligible(
            session, actor=actor, round_id=round_id, name=body.name, reason=body.reason
        )
    )


@router.post(
    "/rounds/{round_id}/void",
    summary="宣布本轮选举无效（六.8）/ declare the round void for an irregularity",
    description="发出选票后发现违规，大会主席团可宣布本轮无效（须写明理由），并按当前实到人数"
    "重新选举（Q1）。\n\n"
    "After its papers are issued, the presidium may declare a round void for an irregularity "
    "(`round.void` with rule `presidium` and a reason); its rerun opens as after an overcount "
    "(I2) if the quorum holds now (Q1).",
)
def void(
    round_id: Id, body: schemas.PresidiumOrder, session: SessionDep, actor: ReleaseResults
) -> CollectionRead:
    result = presidium.void_round(session, actor=actor, round_id=round_id, reason=body.reason)
    refused = result.rerun_refused
    return CollectionRead(
        round=round_read(result.round),
        void=True,
        rerun=None if result.rerun is None else round_read(result.rerun),
        rerun_refused=None if refused is None else ErrorRead.model_validate(refused.body()),
    )


@router.post(
    "/elections/{election_id}/reduce-seats",
    summary="减少名额，不再选举（M10）/ reduce the seats to those filled",
)
def reduce_seats(
    election_id: Id, body: schemas.PresidiumOrder, session: SessionDep, actor: ReleaseResults
) -> schemas.ElectionResultRead:
    return schemas.ElectionResultRead.model_validate(
        results_service.reduce_seats(
            session, actor=actor, election_id=election_id, reason=body.reason
        )
    )


@router.get(
    "/elections/{election_id}/result",
    summary="选举结果（各轮合计，M9）/ the election's result across rounds",
    description="计票人和总计票人只在大会主席团向会场公布（C3）之后看到各轮的结果和当选人。\n\n"
    "Tellers and the chief teller see a round's outcome and elected persons only after the "
    "presidium has released it to the hall (C3).",
)
def election_result(
    election_id: Id, session: SessionDep, actor: ReadSetup
) -> schemas.ElectionResultRead:
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    released_only = actor.role not in results_service.SEES_UNRELEASED
    return schemas.ElectionResultRead.model_validate(
        results_service.election_result(
            session, election_id=election_id, released_only=released_only
        )
    )


@router.get(
    "/rounds/{round_id}/report.pdf",
    summary="选举结果报告单（C4）/ the signed result report",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def report(round_id: Id, session: SessionDep, actor: ReadLedger, settings: SettingsDep) -> Response:
    _check_congress(session, round_id, actor)
    history = presidium.history_lines(
        presidium.history(session, papers_service.get_round(session, round_id=round_id))
    )
    round_, pdf = results_service.report_pdf(
        session, round_id=round_id, data_dir=settings.data_dir, history=history
    )
    filename = f"report-election{round_.election_id}-round{round_.number}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


ExportFormat = Literal["json", "csv", "xlsx", "nist-err.json", "nist-cvr.json"]
_MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "nist-err.json": "application/json",
    "nist-cvr.json": "application/json",
}


@router.get(
    "/elections/{election_id}/results.{format}",
    summary="结果导出 / results export (JSON, CSV, XLSX, NIST SP 1500-100 / 1500-103)",
    response_class=Response,
    description=(
        "`nist-err.json` and `nist-cvr.json`: NIST SP 1500-100 v2 and SP 1500-103 v1 "
        "(mapping in docs/exports.md). `nist-cvr.json` lists the papers in a random order with no "
        "paper identifier (a snapshot's id is its place in that order); 409 `nothing_decided` "
        "before a round is decided. It is served to the auditor and the scrutineers only (a "
        "unique mark pattern can show how someone voted: docs/service.md). `nist-cvr.json` "
        "只提供给审计人员和监票人。"
    ),
)
def export_results(
    election_id: Id,
    format: Annotated[
        ExportFormat, Path(description="json | csv | xlsx | nist-err.json | nist-cvr.json")
    ],
    session: SessionDep,
    actor: ReadLedger,
) -> Response:
    if format == "nist-cvr.json":  # one record per paper
        ensure_permission(actor, Permission.read_papers)
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    record = results_service.election_record(session, election_id=election_id)
    now = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    content: bytes
    if format == "json":
        content = _json(exports.results_json(record))
    elif format == "csv":
        content = exports.results_csv(record).encode("utf-8-sig")
    elif format == "xlsx":
        content = exports.results_xlsx(record)
    elif format == "nist-err.json":
        certified = all(
            r.status == results_service.ROUND_CERTIFIED
            for r in papers_service.list_rounds(session, election_id=election_id)
            if r.status not in (papers_service.ROUND_VOID, results_service.ROUND_CANCELLED)
        )
        content = _json(exports.nist_err(record, generated_at=now, certified=certified))
    else:
        if not record.rounds:  # SP 1500-103: an Election has at least one Contest
            raise Conflict(
                "nothing_decided",
                "本项选举尚无已作出决定的轮次，没有可导出的选票记录",
                "no round of this election is decided yet: there are no cast vote records",
            )
        content = _json(exports.nist_cvr(record, generated_at=now))
    filename = f"election{election_id}-results.{format}"
    return Response(
        content,
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")
