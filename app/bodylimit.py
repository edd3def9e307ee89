"""Request body limits by route, enforced before the body is read (pure ASGI middleware).

A body larger than its route's limit is refused with 413 and the one error model
(``payload_too_large``): at once when ``Content-Length`` announces it, otherwise as soon as the
bytes received so far pass the limit (a chunked body is counted as it streams, never held whole).
Whatever the application was doing with the body then, its answer is dropped and the 413 is sent
instead, so an anonymous 100 MB request costs at most one limit's worth of memory.

Limits: ``DEFAULT_LIMIT`` for every route, larger ones for the few bodies that legitimately are
(the roster file, a paper with many candidates, a photo of a paper to read, a scrutineer's
resolution of a whole batch).
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLarge

KIB = 1024
MIB = 1024 * KIB
DEFAULT_LIMIT = 64 * KIB
# A multipart upload carries its file plus the form's boundaries and headers.
MULTIPART_OVERHEAD = 64 * KIB


@dataclass(frozen=True, slots=True)
class RouteLimit:
    method: str
    path: re.Pattern[str]
    limit: int


def route_limits(max_upload_bytes: int) -> tuple[RouteLimit, ...]:
    """The routes whose bodies may be larger than ``DEFAULT_LIMIT``."""
    return (
        # The roster file (CSV or XLSX), as large as the settings allow (imported or previewed).
        RouteLimit(
            "POST",
            re.compile(r"/api/congresses/[^/]+/roster(?:/preview)?"),
            max_upload_bytes + MULTIPART_OVERHEAD,
        ),
        # One paper: up to 500 candidates' names (100 characters each) and 100 write-ins.
        RouteLimit("POST", re.compile(r"/api/batches/[^/]+/papers"), 256 * KIB),
        # A photo or scan of one paper for the reader (app.reader), sent as the raw body.
        RouteLimit("POST", re.compile(r"/api/rounds/[^/]+/read-paper"), 16 * MIB),
        # The final records of every disputed paper of a batch (up to 10,000 papers).
        RouteLimit("POST", re.compile(r"/api/batches/[^/]+/resolution"), 16 * MIB),
    )


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "payload_too_large",
        f"请求内容过大（此地址上限 {limit} 字节），未处理",
        f"the request body is too large (limit {limit} bytes for this path); nothing was done",
        field="body",
    )


class _Exceeded(Exception):
    """Raised to the application when the streamed body passes the limit."""


class BodyLimit:
    """The middleware: ``limit_of(method, path)`` is the largest body accepted (bytes)."""

    def __init__(self, app: ASGIApp, *, limit_of: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_of = limit_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["method"], scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _Exceeded
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the application's answer to a cut body; the 413 is sent instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


async def _refuse(send: Send, limit: int) -> None:
    error = too_large(limit)
    body = json.dumps(error.body(), ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def limit_for(max_upload_bytes: int) -> Callable[[str, str], int]:
    """``BodyLimit``'s ``limit_of`` for the app's routes."""
    limits = route_limits(max_upload_bytes)

    def limit_of(method: str, path: str) -> int:
        for route in limits:
            if route.method == method and route.path.fullmatch(path):
                return route.limit
        return DEFAULT_LIMIT

    return limit_of
