"""HTTP endpoints for counting. Parse, authorize, call one service, shape the reply."""

import json
from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect

from app import models
from app.auth import deps as auth_deps
from app.auth.deps import Adjudicate, CheckPapers, EnterPapers, ManageBatches, ReadSetup
from app.counting import batches as counting_batches
from app.counting import reconciliation as counting_reconciliation
from app.counting import records as counting_records
from app.counting import schemas
from app.counting import status as counting_status
from app.counting import suggestions as counting_suggestions
from app.counting.entry import EntryQueue, EntryRequest
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, AppError
from app.papers import service as papers_service
from app.setup.schemas import Id, SearchText

router = APIRouter(prefix="/api", tags=["counting 计票录入"], responses=ERROR_RESPONSES)


def _progress_read(progress: counting_batches.Progress) -> schemas.ProgressRead:
    return schemas.ProgressRead.model_validate(counting_batches.progress_json(progress))


def _batch_read(
    session: SessionDep,
    batch: models.Batch,
    orders: list[counting_reconciliation.ReentryOrder] | None = None,
    progress: counting_batches.Progress | None = None,
) -> schemas.BatchRead:
    if orders is None:
        orders = counting_reconciliation.reentry_orders(session, batch_ids=[batch.id])[batch.id]
    if progress is None:
        progress = counting_batches.progress(session, batch)
    return schemas.BatchRead(
        id=batch.id,
        round_id=batch.round_id,
        number=batch.number,
        declared_count=batch.declared_count,
        teller_a_id=batch.teller_a_id,
        teller_b_id=batch.teller_b_id,
        progress=_progress_read(progress),
        reentry_orders=[
            schemas.ReentryOrderRead(
                discarded_generation=order.discarded_generation,
                reason=order.reason,
                author_role=order.author_role,
                author_name=order.author_name,
                ordered_at=order.ordered_at,
            )
            for order in orders
        ],
    )


def _round_for(session: SessionDep, round_id: int, actor: ReadSetup) -> models.Round:
    round_ = papers_service.get_round(session, round_id=round_id)
    actor.ensure_congress(papers_service.congress_of(session, round_))
    return round_


@router.post(
    "/rounds/{round_id}/batches",
    status_code=status.HTTP_201_CREATED,
    summary="新建录入批次 / create a batch",
    description=(
        "计票人须为本次大会的计票人；双人录入时两遍由不同计票人完成（O3）；各批次张数合计不得多于"
        "收回选票数（I4）。Tellers of this congress; different tellers per pass (O3); declared "
        "counts may not exceed `collected` (I4)."
    ),
)
def create_batch(
    round_id: Id, body: schemas.BatchCreate, session: SessionDep, actor: ManageBatches
) -> schemas.BatchRead:
    batch = counting_batches.create_batch(
        session,
        actor=actor,
        round_id=round_id,
        declared_count=body.declared_count,
        teller_a_id=body.teller_a_id,
        teller_b_id=body.teller_b_id,
    )
    return _batch_read(session, batch)


@router.get("/rounds/{round_id}/batches", summary="本轮批次与进度 / batches and progress")
def list_batches(round_id: Id, session: SessionDep, actor: ReadSetup) -> schemas.BatchListRead:
    round_ = _round_for(session, round_id, actor)
    batches = counting_batches.list_batches(session, round_id=round_id)
    orders = counting_reconciliation.reentry_orders(session, batch_ids=[b.id for b in batches])
    return schemas.BatchListRead(
        round_id=round_id,
        collected=round_.collected,
        declared=sum(b.declared_count for b in batches),
        batches=[
            _batch_read(session, b, orders[b.id], progress)
            for b, progress in zip(
                batches, counting_batches.progresses(session, batches), strict=True
            )
        ],
    )


@router.get(
    "/rounds/{round_id}/count-status",
    summary="录入是否完成 / is every paper in (C1, I4)",
)
def count_status(round_id: Id, session: SessionDep, actor: ReadSetup) -> schemas.CountStatusRead:
    _round_for(session, round_id, actor)
    result = counting_status.round_count_status(session, round_id=round_id)
    return schemas.CountStatusRead(
        round_id=round_id,
        collected=result.collected,
        declared=result.declared,
        all_declared=result.all_declared,
        batches=result.batches,
        batches_open=result.batches_open,
        discrepancies_open=result.discrepancies_open,
        adjudications_open=result.adjudications_open,
        papers_entered=result.papers_entered,
        papers_reconciled=result.papers_reconciled,
        ready=result.ready,
    )


@router.get(
    "/rounds/{round_id}/adjudication",
    summary="待监票人裁定 / the scrutineers' queue (discrepancies, unclear marks)",
)
def adjudication_queue(
    round_id: Id, session: SessionDep, actor: Adjudicate
) -> schemas.AdjudicationRead:
    round_ = _round_for(session, round_id, actor)
    items: list[schemas.AdjudicationItemRead] = []
    for batch in counting_batches.list_batches(session, round_id=round_id):
        if batch.status not in counting_batches.DISPUTED:
            continue
        found = counting_reconciliation.open_items(session, batch)

        def shown(records: list[counting_records.Record]) -> list[schemas.RecordRead]:
            return [schemas.shown(r.shown(round_.candidates)) for r in records]

        items.append(
            schemas.AdjudicationItemRead(
                batch_id=batch.id,
                batch_number=batch.number,
                status=batch.status,
                only_in_pass_a=shown(found.only_in_pass_a),
                only_in_pass_b=shown(found.only_in_pass_b),
                unclear=shown(found.unclear),
                records_needed=found.needed,
            )
        )
    return schemas.AdjudicationRead(round_id=round_id, batches=items)


def _invalid_body(errors: Sequence[Any]) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])


def _paper_from(raw: bytes) -> schemas.PaperEntryCreate:
    """The body as FastAPI would have read it (JSON, then the model; the same 422 details)."""
    if not raw:
        raise _invalid_body(
            [{"type": "missing", "loc": (), "msg": "Field required", "input": None}]
        )
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": (exc.pos,), "msg": "JSON decode error"}
        raise _invalid_body([error | {"input": {}, "ctx": {"error": exc.msg}}]) from None
    except UnicodeDecodeError as exc:  # not UTF-8 (nor UTF-16/32): a 422, not a 500
        error = {"type": "json_invalid", "loc": (exc.start,), "msg": "JSON decode error"}
        raise _invalid_body([error | {"input": {}, "ctx": {"error": exc.reason}}]) from None
    except RecursionError:  # nested deeper than the parser recurses: a 422, not a 500
        error = {"type": "json_invalid", "loc": (0,), "msg": "JSON decode error"}
        raise _invalid_body([error | {"input": {}, "ctx": {"error": "nested too deep"}}]) from None
    try:
        return schemas.PaperEntryCreate.model_validate(data)
    except ValidationError as exc:
        raise _invalid_body(exc.errors(include_url=False)) from None


# The entry route's path parameter, validated as FastAPI validates an ``Id``.
_BATCH_ID = TypeAdapter(Id)
_BODY = schemas.PaperEntryCreate.model_json_schema()


def _batch_id_of(request: Request) -> int:
    try:
        return _BATCH_ID.validate_python(request.path_params["batch_id"])
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("path", "batch_id", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


@router.post(
    "/batches/{batch_id}/papers",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.PaperEntryRead,
    summary="录入一张选票 / enter one paper",
    description=(
        "由该批次指定的计票人录入（遍次由登录身份决定）。同一 idempotency_key 重试返回同一答复，"
        "不重复记录。The pass follows from who is logged in; a retried idempotency key returns "
        "the same answer and records nothing new."
    ),
    # Declared here, not as parameters of the function: FastAPI's solving of dependencies and
    # parameters took a fifth of the event loop's time per paper. The function reads them itself,
    # with the same checks and refusals (bearer token, then batch id).
    openapi_extra={
        "parameters": [
            {"in": "path", "name": "batch_id", "required": True}
            | {"schema": _BATCH_ID.json_schema() | {"title": "Batch Id"}}
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY}}},
        "security": [{"HTTPBearer": []}],
    },
)
async def enter_paper(request: Request) -> Response:
    # The hot path of a count. Not FastAPI's body and dependencies (each sync dependency would be
    # a thread hop of its own): the body is read here as FastAPI would, and the caller check and
    # the entry are the writer's, with the papers waiting beside it (``app.counting.entry``).
    token = auth_deps.bearer_token_of(request)
    batch_id = _batch_id_of(request)
    try:
        raw = await request.body()
    except ClientDisconnect:  # the tablet went away mid-body: nothing to enter, nobody to answer
        raise AppError(
            "request_incomplete",
            "选票数据未完整送达，未保存；请重新发送",
            "the request body did not arrive whole; nothing was saved, send it again",
        ) from None
    queue: EntryQueue = request.app.state.entry_queue
    answer = await queue.enter(EntryRequest(token, batch_id, partial(_paper_from, raw)))
    return Response(answer, status_code=status.HTTP_201_CREATED, media_type="application/json")


@router.get(
    "/batches/{batch_id}/papers",
    summary="本人这一遍已录入的选票 / my own pass's papers",
    description="只返回本人这一遍的记录（按随机编号排序），从不返回另一遍。",
)
def own_papers(batch_id: Id, session: SessionDep, actor: EnterPapers) -> schemas.OwnPapersRead:
    batch, entry_pass, rows = counting_batches.own_papers(session, actor=actor, batch_id=batch_id)
    round_ = papers_service.get_round(session, round_id=batch.round_id)
    return schemas.OwnPapersRead(
        batch_id=batch.id,
        pass_=entry_pass,
        papers=[
            schemas.OwnPaperRead(
                paper_id=row.id,
                record=schemas.shown(
                    counting_records.Record.from_text(row.record).shown(round_.candidates)
                ),
                status=row.status,
                rule=row.rule,
            )
            for row in rows
        ],
    )


@router.post(
    "/batches/{batch_id}/resolution",
    summary="监票人裁定差异 / a scrutineer resolves the batch",
    description=(
        "给出全部有争议选票（两遍不一致的和含无法辨认符号的）的最终记录及理由；批次即核对完成。"
        "Final records for every disputed paper, with a reason; the batch is then reconciled."
    ),
)
def resolve_batch(
    batch_id: Id, body: schemas.ResolutionCreate, session: SessionDep, actor: Adjudicate
) -> schemas.BatchRead:
    batch = counting_reconciliation.resolve_batch(
        session,
        actor=actor,
        batch_id=batch_id,
        records=[
            counting_reconciliation.RecordInput(
                marks=r.marks,
                write_ins=r.write_ins,
                void=r.void,
                write_ins_latin_confirmed=r.write_ins_latin_confirmed,
            )
            for r in body.records
        ],
        reason=body.reason,
    )
    return _batch_read(session, batch)


@router.post(
    "/batches/{batch_id}/reentry",
    summary="监票人责令重新录入 / a scrutineer orders the batch re-entered",
)
def order_reentry(
    batch_id: Id, body: schemas.ReentryCreate, session: SessionDep, actor: Adjudicate
) -> schemas.BatchRead:
    batch = counting_reconciliation.order_reentry(
        session, actor=actor, batch_id=batch_id, reason=body.reason
    )
    return _batch_read(session, batch)


@router.get(
    "/congresses/{congress_id}/name-suggestions",
    summary="另选他人姓名提示 / roster names for a write-in (prefix or pinyin initials)",
)
def name_suggestions(
    congress_id: Id,
    session: SessionDep,
    actor: CheckPapers,
    q: Annotated[SearchText, Query(description="姓名开头或拼音首字母，如 wxm")] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    round_id: Annotated[
        int | None,
        Query(ge=1, le=2_147_483_647, description="本轮：不提示选票上印有的候选人"),
    ] = None,
) -> schemas.NameSuggestionsRead:
    actor.ensure_congress(congress_id)
    names = counting_suggestions.suggest_names(
        session, congress_id=congress_id, q=q, limit=limit, round_id=round_id
    )
    return schemas.NameSuggestionsRead(q=q, names=names)
