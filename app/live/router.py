"""HTTP: the live stream ``GET /api/elections/{id}/live`` (SSE) and the release of a result.

Auth of the stream: a browser's ``EventSource`` cannot send an ``Authorization`` header, so this
endpoint (and only this one) also accepts the session token as ``?token=``. The token is then in
the URL: serve over https; uvicorn's access log shows it as ``token=***`` (app.live.listen); a
stream ends after ``STREAM_SECONDS`` and the reconnect checks the token again.

The stream holds no database session while it waits: each snapshot is read in a short transaction
of its own (in a worker thread), then the stream waits for a wake-up (``app.live.signal``) or the
keep-alive. Every message is a whole snapshot with ``id`` = the congress chain height it reflects;
a reconnecting client sends ``Last-Event-ID`` and gets a snapshot only if the chain grew since.
Without ``Accept: text/event-stream`` the endpoint answers one snapshot as JSON (polling, tests).
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, format_sse_event
from sqlalchemy.orm import Session, sessionmaker

from app import auth
from app.auth import Permission, Principal, ReleaseResults
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, NotAuthenticated
from app.live import service as live_service
from app.live.listen import hub_of
from app.live.reading import reader
from app.live.schemas import ReleaseRead
from app.setup import service as setup_service

KEEPALIVE_SECONDS = 15.0
# A stream ends after this long and EventSource reconnects (after RETRY_MS, with Last-Event-ID:
# a snapshot only if something changed). Bounds how long an open dashboard can hold up a server
# shutdown (uvicorn waits for open responses) and re-checks the session token now and then.
STREAM_SECONDS = 120.0
RETRY_MS = 2000

router = APIRouter(prefix="/api", tags=["live 实时"], responses=ERROR_RESPONSES)
_bearer = HTTPBearer(auto_error=False, description="会话令牌 / session token")


def _authorize(
    factory: sessionmaker[Session], token: str, election_id: int
) -> tuple[Principal, int]:
    with factory.begin() as session:
        principal = auth.current_principal(session, token)
        auth.require(Permission.read_setup)(principal)
        election = setup_service.get_election(session, election_id=election_id)
        principal.ensure_congress(election.congress_id)
        return principal, election.congress_id


def _read(factory: sessionmaker[Session], election_id: int, view: live_service.View) -> Any:
    with factory.begin() as session:
        return live_service.snapshot(session, election_id=election_id, view=view)


class SnapshotCache:
    """One snapshot read per (election, view) and wake-up, shared by all of an app's streams.

    Without it every subscriber would read (on SQLite: take the write lock) after every paper.
    An entry serves every caller that saw no wake-up after it was read; a stream that
    only timed out (keep-alive) accepts an entry up to ``KEEPALIVE_SECONDS`` old, so a lost
    wake-up is still caught.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], tuple[int, float, dict[str, Any], bytes]] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}

    async def get(
        self,
        request: Request,
        *,
        congress_id: int,
        election_id: int,
        view: live_service.View,
        max_age: float | None,
    ) -> tuple[dict[str, Any], bytes]:
        hub = hub_of(request.app)
        key = (election_id, view)
        # Any snapshot read after the wake-ups this caller has seen will do — also one read by
        # another stream while this one queued for the lock (no cascade of re-reads).
        wanted = hub.wakes(congress_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            entry = self._entries.get(key)
            loop = asyncio.get_running_loop()
            if (
                entry is not None
                and entry[0] >= wanted
                and (max_age is None or loop.time() - entry[1] <= max_age)
            ):
                return entry[2], entry[3]
            wakes = hub.wakes(congress_id)
            factory = reader(request.app)
            snapshot = await asyncio.to_thread(_read, factory, election_id, view)
            message = format_sse_event(
                data_str=json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")),
                event="snapshot",
                id=str(snapshot["height"]),
                retry=RETRY_MS,
            )
            self._entries[key] = (wakes, loop.time(), snapshot, message)
            return snapshot, message


def _cache(request: Request) -> SnapshotCache:
    cache: SnapshotCache | None = getattr(request.app.state, "live_cache", None)
    if cache is None:
        cache = request.app.state.live_cache = SnapshotCache()
    return cache


async def _stream(
    request: Request,
    *,
    congress_id: int,
    election_id: int,
    view: live_service.View,
    last_height: int | None,
) -> AsyncIterator[bytes]:
    hub = hub_of(request.app)
    cache = _cache(request)
    waiter = hub.subscribe(congress_id)
    # Starlette notices a gone client only when a write fails; listen for the disconnect so a
    # closed dashboard frees its stream at once (and does not hold up a server shutdown).
    disconnected = asyncio.ensure_future(request.receive())
    ends_at = asyncio.get_running_loop().time() + STREAM_SECONDS
    max_age: float | None = None
    try:
        while True:
            waiter.flag.clear()
            snapshot, message = await cache.get(
                request,
                congress_id=congress_id,
                election_id=election_id,
                view=view,
                max_age=max_age,
            )
            if snapshot["height"] != last_height:
                last_height = snapshot["height"]
                yield message
            left = ends_at - asyncio.get_running_loop().time()
            if left <= 0:
                return  # the browser reconnects with Last-Event-ID (see STREAM_SECONDS)
            woken = asyncio.ensure_future(waiter.flag.wait())
            done, _ = await asyncio.wait(
                {woken, disconnected},
                timeout=min(KEEPALIVE_SECONDS, left),
                return_when=asyncio.FIRST_COMPLETED,
            )
            woken.cancel()
            if disconnected in done:
                return
            if woken in done:
                max_age = None
            else:
                yield format_sse_event(comment="keep-alive")
                max_age = KEEPALIVE_SECONDS
    finally:
        disconnected.cancel()
        hub.unsubscribe(congress_id, waiter)


@router.get(
    "/elections/{election_id}/live",
    summary="实时计票进度（SSE）/ live progress and provisional tallies (SSE)",
    description="Server-Sent Events：每条消息是一份完整快照，`id` 为其反映的大会事件链高度；"
    "重连时带 `Last-Event-ID`，只在有变化时补发快照。主席团、总监票人、监票人和管理员看到"
    "按第一遍录入计算的临时票数（标明 provisional）；其他角色只看到进度。`view=projector` 只含"
    "已公布的结果（C3）。EventSource 不能发送请求头，故本接口也接受 `?token=`。\n\n"
    "Each message is a whole snapshot; `id` = the congress chain height. Without "
    "`Accept: text/event-stream` it answers one snapshot as JSON.",
    responses={200: {"content": {"text/event-stream": {}, "application/json": {}}}},
)
async def live(
    election_id: int,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    token: Annotated[
        str | None, Query(max_length=200, description="会话令牌（EventSource 用）")
    ] = None,
    view: Annotated[str | None, Query(pattern="^projector$")] = None,
    accept: Annotated[str, Header()] = "",
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    secret = credentials.credentials if credentials is not None else token
    if not secret:
        raise NotAuthenticated(
            "not_authenticated",
            "请先登录（Authorization: Bearer 令牌，或 ?token=）",
            "log in first (Authorization: Bearer <token>, or ?token=)",
        )
    factory = reader(request.app)
    principal, congress_id = await asyncio.to_thread(_authorize, factory, secret, election_id)
    chosen = live_service.view_for(principal, projector=view == "projector")
    if "text/event-stream" not in accept:
        return JSONResponse(await asyncio.to_thread(_read, factory, election_id, chosen))
    last_height = (
        int(last_event_id) if last_event_id and last_event_id.lstrip("-").isdigit() else None
    )
    return EventSourceResponse(
        _stream(
            request,
            congress_id=congress_id,
            election_id=election_id,
            view=chosen,
            last_height=last_height,
        ),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/rounds/{round_id}/release",
    summary="向会场公布已确认的结果（C3）/ release the certified result to the hall",
    description="大会主席团把已确认（C2）的本轮结果公布到会场大屏（`round.released`）。\n\n"
    "The presidium releases a certified round's result to the hall projector.",
)
def release(round_id: int, session: SessionDep, actor: ReleaseResults) -> ReleaseRead:
    round_ = live_service.release_round(session, actor=actor, round_id=round_id)
    return ReleaseRead(round_id=round_.id, election_id=round_.election_id, released=True)
