"""One LISTEN connection per app worker on PostgreSQL (``NOTIFY jipiao_events``); the access-log
filter that hides the stream's ``?token=`` and the login pages' ``?code=``.

Started by the app's lifespan (``running``). Notifications wake this worker's ``Hub``; if the
connection drops it reconnects with a growing pause, and wakes every stream once reconnected (a
notification may have been missed meanwhile — the streams re-read and send only what changed).
"""

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator

import psycopg
from fastapi import FastAPI
from sqlalchemy import Engine

from app.ledger.notify import CHANNEL, listen_locally
from app.live.signal import Hub

log = logging.getLogger(__name__)


# The stream's ``?token=`` (app.live.router), and the one-time login code of a login QR code's
# ``/login?code=`` (app.auth.service.login_url) and of ``/api/auth/login-qr.svg?code=``.
_TOKEN = re.compile(r"([?&](?:token|code)=)[^&\s]*", re.IGNORECASE)


class RedactToken(logging.Filter):
    """Keeps session tokens and login codes out of uvicorn's access log (kept by operators)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN.sub(r"\1***", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactToken) for f in access.filters):
        access.addFilter(RedactToken())


def hub_of(app: FastAPI) -> Hub:
    """The app's hub (created on first use; on SQLite registered for in-process wake-ups)."""
    hub: Hub | None = getattr(app.state, "live_hub", None)
    if hub is None:
        hub = Hub()
        app.state.live_hub = hub
        engine: Engine = app.state.engine
        if engine.dialect.name != "postgresql":
            listen_locally(engine, hub)
    return hub


async def _listen(conninfo: str, hub: Hub, ready: asyncio.Event) -> None:
    pause = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                ready.set()
                pause = 0.5
                hub.wake_all()
                await _hear(conn.pgconn, hub)
        except (OSError, psycopg.Error) as exc:
            log.warning("live: LISTEN connection lost (%s); retrying in %.1f s", exc, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10.0)


async def _hear(pgconn: psycopg.pq.abc.PGconn, hub: Hub) -> None:
    """Wakes ``hub`` for each notification, read off the connection's socket as it arrives, until
    the connection is lost (raised). A reader on the loop: psycopg's ``notifies()`` generator
    took a future, a reader added and removed, and a turn of the loop per notification, about a
    twentieth of the loop's time while tablets enter papers."""
    loop = asyncio.get_running_loop()
    lost: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        try:
            pgconn.consume_input()
        except psycopg.Error as exc:
            if not lost.done():
                lost.set_exception(exc)
            return
        while (notify := pgconn.notifies()) is not None:
            payload = notify.extra.decode()
            if payload.isdigit():  # app.ledger.notify.notify_payload
                hub.wake(int(payload))

    socket = pgconn.socket
    loop.add_reader(socket, readable)
    try:
        await lost
    finally:
        loop.remove_reader(socket)


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """The lifespan hook: the hub, and on PostgreSQL the LISTEN task (ready before serving)."""
    hub = hub_of(app)
    redact_access_log()
    engine: Engine = app.state.engine
    if engine.dialect.name != "postgresql":
        yield
        return
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    ready = asyncio.Event()
    task = asyncio.create_task(_listen(conninfo, hub, ready), name="jipiao-live-listen")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(ready.wait(), timeout=5)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
