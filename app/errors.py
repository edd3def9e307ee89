"""The one error model: every rejected request answers ``{code, message_zh, message_en, field}``.

``code`` is stable (clients switch on it); ``message_zh`` comes first, for the people in the hall;
``field`` names the input at fault (``body.name``, ``query.limit``, ``file``, ``profile.quorum``) or
is null. ``errors`` lists every problem when there are several (roster rows, request validation),
each with the same four keys plus ``row`` where a file row is at fault.

The tree (status in brackets)::

    AppError [400]
    ├── InvalidInput [422]             a value breaks a rule (also FastAPI's request validation)
    │   └── RosterImportRejected [422] one or more rows of a roster file; nothing is imported
    ├── NotAuthenticated [401]         no, unknown or expired session token / login code
    ├── Forbidden [403]                the role may not do this, or another congress's data
    ├── NotFound [404]                 no such resource (or no such path)
    ├── MethodNotAllowed [405]         the path exists, the method does not
    ├── Conflict [409]                 the state forbids it: duplicates, O1, already checked in
    ├── PayloadTooLarge [413]          a request body past its route's limit (app.bodylimit)
    └── ServiceUnavailable [503]       the database cannot be reached or stayed locked; retry

Services raise these; routers never build ``HTTPException`` for domain cases. A rejected request
changes nothing: the request's transaction is rolled back (app.db.get_session).

``TooManyRequests`` [429], also an ``AppError``: too many failed logins (``app.loginguard``); its
``Retry-After`` header says in how many seconds to try again.
"""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class ErrorItem(BaseModel):
    code: str
    message_zh: str
    message_en: str
    field: str | None = None
    row: int | None = None


class ErrorRead(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "candidate_is_official",
                    "message_zh": "王芳 是本次大会的计票人，选举工作人员不得为候选人（O1）",
                    "message_en": "王芳 is a teller of this congress; officials cannot be "
                    "candidates (O1)",
                    "field": "body.name",
                    "errors": [],
                }
            ]
        }
    )

    code: str
    message_zh: str
    message_en: str
    field: str | None = None
    errors: list[ErrorItem] = []


class AppError(Exception):
    status: ClassVar[int] = 400

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        *,
        field: str | None = None,
        errors: list[ErrorItem] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.field = field
        self.errors = errors or []

    def headers(self) -> dict[str, str] | None:
        """Response headers that go with this error (none but ``TooManyRequests``'s)."""
        return None

    def body(self) -> dict[str, Any]:
        return ErrorRead(
            code=self.code,
            message_zh=self.message_zh,
            message_en=self.message_en,
            field=self.field,
            errors=self.errors,
        ).model_dump()


class InvalidInput(AppError):
    status = 422


class RosterImportRejected(InvalidInput):
    pass


class NotAuthenticated(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class MethodNotAllowed(AppError):
    status = 405


class Conflict(AppError):
    status = 409


class PayloadTooLarge(AppError):
    status = 413


class TooManyRequests(AppError):
    status = 429

    def __init__(self, code: str, message_zh: str, message_en: str, *, retry_after: int) -> None:
        super().__init__(code, message_zh, message_en)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(AppError):
    status = 503


def not_found(kind_zh: str, kind_en: str, ident: object, *, field: str | None = None) -> NotFound:
    return NotFound(
        f"{kind_en.replace(' ', '_')}_not_found",
        f"找不到{kind_zh} {ident}",
        f"no {kind_en} {ident}",
        field=field,
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorRead, "description": description}
    for status, description in (
        (401, "未登录或登录已失效 / not authenticated"),
        (403, "无权执行此操作 / forbidden for this role"),
        (404, "找不到资源 / not found"),
        (409, "与当前状态冲突 / conflicts with the current state"),
        (413, "请求内容过大 / request body too large"),
        (422, "输入不符合要求 / invalid input"),
        (503, "数据库暂时不可用，未保存 / database unavailable, nothing saved"),
    )
}
