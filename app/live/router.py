"""HTTP: the live stream ``GET /api/elections/{id}/live`` (SSE) and the release of a result.

Auth of the stream: a browser's ``EventSource`` cannot send an ``Authorization`` header, so this
endpoint (and only this one) also accepts the session token as ``?token=``. The token is then in
the URL: serve over https; uvicorn's access log shows it as ``token=***`` (app.live.listen); a
stream ends after ``STREAM_SECONDS`` and the reconnect checks the token again.

The stream holds no database session: the snapshot of its election and view is read once per
change for all of the worker's streams and encoded once (``app.live.fanout``); the stream waits
for the next one or the keep-alive. Every message is a whole snapshot with ``id`` = the congress
chain height it reflects; a reconnecting client sends ``Last-Event-ID`` and gets a snapshot only
if the chain grew since.
Without ``Accept: text/event-stream`` the endpoint answers one snapshot as JSON (polling, tests).
"""

import asyncio
import json
import random
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import format_sse_event
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from app.auth import deps as auth_deps
from app.auth.deps import ReleaseResults
from app.auth.roles import Permission, Principal
from app.db import SessionDep
from app.errors import ERROR_RESPONSES, InvalidInput, NotAuthenticated
from app.live import service as live_service
from app.live.fanout import Channels, Listener
from app.live.listen import hub_of
from app.live.schemas import ReleaseRead
from app.reading import reader
from app.setup import service as setup_service
from app.setup.schemas import Id

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
        principal = auth_deps.current_principal(session, token)
        auth_deps.require(Permission.read_setup)(principal)
        election = setup_service.get_election(session, election_id=election_id)
        principal.ensure_congress(election.congress_id)
        return principal, election.congress_id


def _read(factory: sessionmaker[Session], election_id: int, view: live_service.View) -> Any:
    with factory.begin() as session:
        return live_service.snapshot(session, election_id=election_id, view=view)


def _preview(factory: sessionmaker[Session], principal: Principal, election_id: int,
             round_id: int) -> Any:  # fmt: skip
    """The projector view as it will be once the certified round is released: the presidium's
    (who release it), since it shows a result the hall has not seen yet."""
    auth_deps.require(Permission.release_results)(principal)
    with factory.begin() as session:
        return live_service.snapshot(
            session, election_id=election_id, view="projector", preview_round_id=round_id
        )


def _message(
    factory: sessionmaker[Session], election_id: int, view: live_service.View
) -> tuple[int, bytes]:
    """The snapshot as the SSE message bytes, encoded once for every stream of the channel."""
    snapshot = _read(factory, election_id, view)
    message = format_sse_event(
        data_str=json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")),
        event="snapshot",
        id=str(snapshot["height"]),
        retry=RETRY_MS,
    )
    return int(snapshot["height"]), message


def _channels(app: FastAPI) -> Channels:
    channels: Channels | None = getattr(app.state, "live_channels", None)
    if channels is None:
        channels = app.state.live_channels = Channels(hub_of(app))
    return channels


class LiveResponse(Response):
    """The SSE stream of one client: the channel's snapshots as they change, keep-alives between.

    A plain ASGI response rather than a generator under ``StreamingResponse``: per change a
    stream only wakes, compares the height and writes the shared bytes.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        app: FastAPI,
        *,
        congress_id: int,
        election_id: int,
        view: live_service.View,
        last_height: int | None,
    ) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._app = app
        self._congress_id = congress_id
        self._election_id = election_id
        self._view = view
        self._last_height = last_height

    async def __call__(self, _scope: Scope, receive: Receive, send: Send) -> None:
        factory = reader(self._app)
        election_id, view = self._election_id, self._view
        channel, listener = _channels(self._app).join(
            (election_id, view),
            congress_id=self._congress_id,
            read=lambda: asyncio.to_thread(_message, factory, election_id, view),
            recheck_seconds=KEEPALIVE_SECONDS,
        )
        # Starlette notices a gone client only when a write fails; watch for the disconnect so
        # a closed dashboard frees its stream at once (and does not hold up a server shutdown).
        watcher = asyncio.ensure_future(_watch_disconnect(receive, listener))
        loop = asyncio.get_running_loop()
        # Spread over a quarter of the lifetime: the dashboards opened together do not all
        # reconnect (and log in again) in the same second.
        ends_at = loop.time() + STREAM_SECONDS * (1 - random.random() / 4)
        last_height = self._last_height
        ticks = 0
        sent = False  # anything since the channel's last tick (else: a keep-alive)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            while not listener.gone:
                current = channel.current
                if current is not None and current[0] != last_height:
                    last_height = current[0]
                    await send(
                        {"type": "http.response.body", "body": current[1], "more_body": True}
                    )
                    sent = True
                    continue  # a newer snapshot may have come while writing
                if loop.time() >= ends_at:
                    break  # the browser reconnects with Last-Event-ID (see STREAM_SECONDS)
                if listener.ticks != ticks:
                    ticks = listener.ticks
                    if not sent:
                        await send(
                            {"type": "http.response.body", "body": _KEEPALIVE, "more_body": True}
                        )
                    sent = False
                    continue
                await listener.wait()
        finally:
            watcher.cancel()
            channel.leave(listener)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


_KEEPALIVE = format_sse_event(comment="keep-alive")


async def _watch_disconnect(receive: Receive, listener: Listener) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass  # the (empty) request body
    listener.leave()


@router.get(
    "/elections/{election_id}/live",
    summary="实时计票进度（SSE）/ live progress and provisional tallies (SSE)",
    description="Server-Sent Events：每条消息是一份完整快照，`id` 为其反映的大会事件链高度；"
    "重连时带 `Last-Event-ID`，只在有变化时补发快照。主席团、总监票人、监票人和管理员看到"
    "计票中的临时票数（`provisional`，录入第一张选票之前没有）和作出决定后的正式结果"
    "（`decided`，签字后标明已认证）；其他角色只看到进度。`view=projector` 只含已公布的结果"
    "（C3）。`view=projector&preview=轮次编号`：大会主席团预览该已确认轮次公布后大屏上的样子"
    "（只答一份 JSON）。EventSource 不能发送请求头，故本接口也接受 `?token=`。\n\n"
    "Each message is a whole snapshot; `id` = the congress chain height. Without "
    "`Accept: text/event-stream` it answers one snapshot as JSON. `view=projector&preview=ROUND` "
    "(the presidium, JSON only): the projector view as it will be once that certified round is "
    "released (C3), for the preview before releasing.",
    responses={200: {"content": {"text/event-stream": {}, "application/json": {}}}},
)
async def live(
    election_id: Id,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    token: Annotated[
        str | None, Query(max_length=200, description="会话令牌（EventSource 用）")
    ] = None,
    view: Annotated[str | None, Query(pattern="^projector$")] = None,
    preview: Annotated[
        int | None, Query(ge=1, le=2_147_483_647, description="预览公布后的大屏（轮次编号）")
    ] = None,
    accept: Annotated[str, Header()] = "",
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    secret = credentials.credentials if credentials is not None else token
    if not secret:
        raise NotAuthenticated(
            "not_authenticated",
            "请先登录（请求没有带会话令牌）",
            "log in first (Authorization: Bearer <token>, or ?token=)",
        )
    factory = reader(request.app)
    principal, congress_id = await asyncio.to_thread(_authorize, factory, secret, election_id)
    if preview is not None:
        if view != "projector":
            raise InvalidInput(
                "preview_needs_projector",
                "预览只用于会场大屏的显示内容",
                "preview is a view of the projector: add view=projector",
                field="query.preview",
            )
        return JSONResponse(
            await asyncio.to_thread(_preview, factory, principal, election_id, preview)
        )
    chosen = live_service.view_for(principal, projector=view == "projector")
    if "text/event-stream" not in accept:
        return JSONResponse(await asyncio.to_thread(_read, factory, election_id, chosen))
    last_height = (
        int(last_event_id) if last_event_id and last_event_id.lstrip("-").isdigit() else None
    )
    return LiveResponse(
        request.app,
        congress_id=congress_id,
        election_id=election_id,
        view=chosen,
        last_height=last_height,
    )


@router.post(
    "/rounds/{round_id}/release",
    summary="向会场公布已确认的结果（C3）/ release the certified result to the hall",
    description="大会主席团把已确认（C2）的本轮结果公布到会场大屏（`round.released`）。\n\n"
    "The presidium releases a certified round's result to the hall projector.",
)
def release(round_id: Id, session: SessionDep, actor: ReleaseResults) -> ReleaseRead:
    round_ = live_service.release_round(session, actor=actor, round_id=round_id)
    return ReleaseRead(round_id=round_.id, election_id=round_.election_id, released=True)
