"""POST /api/rounds/{round_id}/read-paper: a teller's photo of a paper in, proposed marks out."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.auth.deps import EnterPapers, SettingsDep
from app.db import SessionDep
from app.errors import ERROR_RESPONSES
from app.papers import service as papers_service
from app.reader import schemas
from app.reader import service as reader_service
from app.reader.read import PaperReading
from app.setup.schemas import Id

router = APIRouter(prefix="/api", tags=["papers 轮次与选票"], responses=ERROR_RESPONSES)


@router.post(
    "/rounds/{round_id}/read-paper",
    summary="拍照识别一张选票的标记（只是建议）/ propose a paper's marks from a photo",
    description=(
        "请求体为一张选票的照片或扫描件（image/jpeg 或 image/png，不超过 16 MiB）。返回按选票顺序"
        "的建议标记，`sure` 为 false 的须由计票员核对；录入仍由计票员确认。图像只在内存中处理，"
        "不保存、不记录。\n\n"
        "The body is one paper's photo or scan (JPEG or PNG, at most 16 MiB). The answer proposes "
        "each mark in ballot order; a mark with `sure` false must be checked by the teller, who "
        "still enters the paper. The image is read in memory only: never stored, never logged."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def read_paper(
    round_id: Id,
    request: Request,
    session: SessionDep,
    actor: EnterPapers,
    settings: SettingsDep,
) -> schemas.PaperReadingRead:
    # The caller is a teller of the round's congress before a byte of the image is read.
    round_ = papers_service.get_round(session, round_id=round_id)
    actor.ensure_congress(papers_service.congress_of(session, round_))
    image = await request.body()
    # Reading takes a fraction of a second of CPU: off the event loop.
    reading = await run_in_threadpool(
        reader_service.read_round_paper,
        session,
        round_id=round_id,
        image=image,
        data_dir=settings.data_dir,
    )
    marks = [
        schemas.ProposedMark(candidate=name, mark=found.mark, sure=found.sure)
        for name, found in reading.marks.items()
    ]
    unsure = sum(1 for mark in marks if not mark.sure)
    message_zh, message_en = _message(reading, unsure)
    return schemas.PaperReadingRead(
        qr=reading.qr,
        marks=marks,
        write_ins_filled=list(reading.write_ins_filled),
        write_ins_sure=list(reading.write_ins_sure),
        unsure=unsure,
        message_zh=message_zh,
        message_en=message_en,
    )


def _message(reading: PaperReading, unsure: int) -> tuple[str, str]:
    """What the teller is told: the marks to check, then the write-in boxes to enter or look at."""
    zh = ["全部标记已识别，请核对后确认" if not unsure else f"有 {unsure} 处标记需要核对"]
    en = ["every mark read; check and confirm" if not unsure else f"{unsure} mark(s) to check"]
    boxes = list(zip(reading.write_ins_filled, reading.write_ins_sure, strict=True))
    written = sum(filled and sure for filled, sure in boxes)
    unclear = sum(not sure for _, sure in boxes)
    if written:
        zh.append(f"另选他人栏有 {written} 处书写，请录入姓名")
        en.append(f"{written} write-in box(es) written: enter the names")
    if unclear:
        zh.append(f"另选他人栏有 {unclear} 处未能看清，请查看选票")
        en.append(f"{unclear} write-in box(es) not read clearly: look at the paper")
    return "；".join(zh), "; ".join(en)
