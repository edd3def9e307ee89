"""The FastAPI application factory: lifespan, routers, the one error handler.

Every rejected request — a service's ``AppError``, FastAPI's request validation, an unknown path
or method — answers with the same body (``app.errors.ErrorRead``). ``/docs`` is served with local
Swagger UI assets (no CDN: the congress hall may have no internet).
"""

import asyncio
import functools
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from app.audit import router as audit_router
from app.auth import router as auth_router
from app.bodylimit import BodyLimit, limit_for
from app.counting import router as counting_router
from app.counting.entry import EntryQueue
from app.db import make_engine, make_sessionmaker
from app.errors import (
    AppError,
    Conflict,
    ErrorItem,
    ErrorRead,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from app.hall import router as hall_router
from app.keys import check_installation_keys, ensure_keys
from app.ledger import notify as ledger_notify
from app.live import listen as live_listen
from app.live import router as live_router
from app.papers import router as papers_router
from app.printing.fonts import missing_font_message
from app.reader import router as reader_router
from app.reading import close_reader
from app.results import router as results_router
from app.settings import Settings
from app.setup import router as setup_router
from app.web import router as web_router


def _field(loc: tuple[int | str, ...] | list[int | str]) -> str:
    return ".".join(str(part) for part in loc)


# Chinese wording of pydantic's error types (the English message comes from pydantic itself).
_ZH: dict[str, str] = {
    "missing": "缺少必填项",
    "string_too_short": "不能为空或过短（至少 {min_length} 个字符）",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "string_type": "应为文字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "bool_parsing": "应为是或否（布尔值）",
    "bool_type": "应为是或否（布尔值）",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "enum": "取值不是允许的值",
    "literal_error": "取值不是允许的值",
    "date_parsing": "日期格式应为“年-月-日”，如 2026-11-14",
    "date_from_datetime_parsing": "日期格式应为“年-月-日”，如 2026-11-14",
    "json_invalid": "不是有效的 JSON",
    "dict_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为列表",
}


# Where the input is (FastAPI's first ``loc`` part); the rest is the key as the client sent it.
_WHERE_ZH: dict[str, str] = {
    "body": "字段",
    "query": "查询参数",
    "path": "路径参数",
    "header": "请求头",
}


def _message_zh(error_type: str, context: dict[str, object]) -> str:
    if error_type == "value_error":
        # Our validators raise ValueError("中文 / English"): keep the Chinese half.
        said = str(context.get("error", "")).split(" / ", 1)[0]
        return said if re.search(r"[\u4e00-\u9fff]", said) else "不符合要求"
    template = _ZH.get(error_type)
    if template is None:
        return "不符合要求"  # pydantic's own words are English (message_en has them)
    try:
        return template.format(**context)
    except KeyError:
        return template.split("{", 1)[0].rstrip("（ ")


def _place_zh(loc: tuple[int | str, ...] | list[int | str], error_type: str) -> str:
    """``("body", "marks", "王芳")`` → ``字段 marks.王芳 ``: the key as the client sent it."""
    if not loc:
        return ""
    where_zh = _WHERE_ZH.get(str(loc[0]))
    if where_zh is None:
        return f"{_field(loc)} "
    sent_key = _field(loc[1:])
    if not sent_key or error_type == "json_invalid":
        return "请求体"  # the body itself, or a place in malformed JSON (a character offset)
    return f"{where_zh} {sent_key} "


def validation_error(exc: RequestValidationError) -> InvalidInput:
    items: list[ErrorItem] = []
    for error in exc.errors():
        field = _field(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        error_type = str(error.get("type", "value"))
        zh = _message_zh(error_type, dict(error.get("ctx") or {}))
        items.append(
            ErrorItem(
                code=f"invalid_{error_type}",
                message_zh=_place_zh(error.get("loc", ()), error_type) + zh,
                message_en=f"{field}: {message}",
                field=field,
            )
        )
    first = items[0] if items else ErrorItem(code="invalid", message_zh="", message_en="")
    return InvalidInput(
        "invalid_request",
        f"请求内容不符合要求：{first.message_zh}",
        f"invalid request: {first.message_en}",
        field=first.field,
        errors=items,
    )


def _http_error(exc: StarletteHTTPException) -> AppError:
    if exc.status_code == 404:
        return NotFound("not_found", "找不到该地址", "no such path")
    if exc.status_code == 405:
        return MethodNotAllowed(
            "method_not_allowed", "该地址不支持此请求方法", "method not allowed for this path"
        )
    if exc.status_code == 400:  # FastAPI: a body that is not UTF-8, not JSON, or nested too deep
        unreadable = AppError(
            "unreadable_body",
            "请求内容无法读取：应为 UTF-8 编码、格式正确的 JSON 或表单",
            f"the request body cannot be read: {exc.detail}",
        )
        unreadable.status = 400  # type: ignore[misc]  # this instance only
        return unreadable
    error = AppError(
        f"http_{exc.status_code}",
        f"请求被拒绝（HTTP 状态码 {exc.status_code}）",
        f"rejected: {exc.detail}",
    )
    error.status = exc.status_code  # type: ignore[misc]  # this instance only
    return error


def _render(error: AppError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def on_app_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return _render(exc, headers=exc.headers())

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return _render(validation_error(exc))

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return _render(_http_error(exc), headers=dict(exc.headers or {}) or None)

    async def on_integrity(_request: Request, _exc: Exception) -> JSONResponse:
        # A uniqueness race lost against a concurrent request (the rows were checked first).
        return _render(
            Conflict(
                "concurrent_change",
                "数据已被同时进行的另一操作修改，请刷新后重试",
                "a concurrent request changed the same data; reload and try again",
            )
        )

    async def on_database_down(_request: Request, _exc: Exception) -> JSONResponse:
        # Not a bug of ours: the database is unreachable, or SQLite stayed locked past the busy
        # timeout. Nothing was committed (the transaction failed); the client may retry.
        return _render(
            ServiceUnavailable(
                "database_unavailable",
                "数据库暂时不可用，本次操作未保存，请稍后重试",
                "the database is unavailable; nothing was saved, try again",
            )
        )

    async def on_bug(_request: Request, _exc: Exception) -> JSONResponse:
        # A bug: Starlette logs the traceback and re-raises after this response. Even then the
        # client gets the one error model (and the transaction was rolled back).
        error = AppError(
            "internal_error",
            "服务器内部错误，本次操作未保存；请把时间告诉管理员",
            "internal server error; nothing was saved. Please report the time to the admin",
        )
        error.status = 500  # type: ignore[misc]  # this instance only
        return _render(error)

    app.add_exception_handler(Exception, on_bug)
    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(OperationalError, on_database_down)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(IntegrityError, on_integrity)


def health() -> dict[str, str]:
    return {"status": "ok"}


@functools.cache
def _routes() -> tuple[BaseRoute, ...]:
    """Every route of the service, analysed once per process and shared by its apps.

    FastAPI reads every endpoint's signature and builds its models when an app first routes a
    request: about 0.25 s of CPU. A process that makes many apps (the test suite makes one per test,
    ``jipiao rehearse`` one per run) pays it once. The routes keep no state of an app: a request
    reaches its app's settings and database through ``request.app.state``.
    """
    table = APIRouter(
        responses={422: {"model": ErrorRead, "description": "输入不符合要求 / invalid input"}}
    )
    table.add_api_route("/api/health", health, tags=["health"], summary="健康检查 / health check")
    # Counting first: routes are tried in order, and paper entry is the hottest request by far
    # (no path of another router overlaps one of counting's, so the order changes no match).
    for feature in (
        counting_router.router,
        auth_router.router,
        setup_router.router,
        audit_router.router,
        papers_router.router,
        reader_router.router,
        results_router.router,
        live_router.router,
        web_router.router,
        hall_router.router,
    ):
        table.include_router(feature)
    return tuple(table.routes)


def create_app(settings: Settings) -> FastAPI:
    engine = make_engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The keys before anything else: made now if the database holds no round, else they must
        # be there (``KeysMissing`` stops the start), and be the ones every other instance on
        # this database holds (``KeysDiffer``; ``app.keys``).
        with app.state.sessionmaker.begin() as session:
            check_installation_keys(session, ensure_keys(session, settings.data_dir))
        # Printing needs a Chinese font: say at start what to install, not at the first 503.
        font_problem = await asyncio.to_thread(missing_font_message)
        if font_problem is not None:
            logging.getLogger("uvicorn.error").warning(font_problem)
        async with live_listen.running(app):  # PostgreSQL: this worker's LISTEN connection
            yield
        await asyncio.to_thread(app.state.entry_queue.close)
        close_reader(app)
        engine.dispose()

    app = FastAPIOffline(
        title="jipiao 计票",
        version="0.1.0",
        description=(
            "无记名投票选举计票服务 — secret-ballot election tallying for congresses.\n\n"
            "认证：`Authorization: Bearer <令牌>`（管理员令牌在首次启动时打印一次；工作人员用一次性"
            "登录码在 `POST /api/auth/login` 换取会话令牌）。所有错误的响应体均为 "
            "`{code, message_zh, message_en, field, errors}`。\n\n"
            "Auth: `Authorization: Bearer <token>` (the admin token is printed once at the first "
            "start; officials exchange a one-time login code at `POST /api/auth/login`). Every "
            "error answers `{code, message_zh, message_en, field, errors}`."
        ),
        lifespan=lifespan,
        routes=list(_routes()),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    # SQLite: its commits wake the live streams of every app in this process (app.ledger.notify)
    ledger_notify.wake_after_commit(app.state.sessionmaker)
    app.state.entry_queue = EntryQueue(app.state.sessionmaker, settings.data_dir)
    install_error_handlers(app)
    # Every body is limited by route before it is read (413; app.bodylimit).
    app.add_middleware(BodyLimit, limit_of=limit_for(settings.max_upload_bytes))
    return app
