"""Request body limits by route (issue 20, item 4): a body past its route's limit is refused
with 413 before it is read whole, on a real server (uvicorn on 127.0.0.1) and at the ASGI level."""

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn

from app.bodylimit import DEFAULT_LIMIT, BodyLimit, limit_for
from app.main import create_app
from app.settings import Settings
from tests.builders import Api, expect, make_congress, roster_csv, run_coroutine, upload_roster

CHUNK = 64 * 1024
HUNDRED_MB = 100 * 1024 * 1024


@pytest.fixture
def server(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 (a free port), on a copy of the SQLite template."""
    database = tmp_path / "jipiao.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(database_url=f"sqlite:///{database}", data_dir=tmp_path)
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(30)


class Body:
    """100 MB of JSON-looking bytes, made as they are sent (never held whole); counts them."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b" " * CHUNK
        while self.sent < HUNDRED_MB:
            self.sent += CHUNK
            yield chunk


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_100mb_anonymous_login_is_refused_with_413(server: str, declared: bool) -> None:
    body = Body()
    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(HUNDRED_MB)
    with httpx.Client(base_url=server, timeout=60) as client:
        response = client.post("/api/auth/login", content=iter(body), headers=headers)
        assert response.status_code == 413, response.text
        error = response.json()
        assert error["code"] == "payload_too_large"
        assert error["field"] == "body"
        assert str(DEFAULT_LIMIT) in error["message_zh"]
        assert body.sent < HUNDRED_MB  # the server closed the connection; no need to read on
        # The server is still there and still answers small bodies as before.
        login = client.post("/api/auth/login", json={"code": "ABCD-EFGH"})
        assert login.status_code in (401, 422), login.text


def test_the_limit_is_by_route(api: Api) -> None:
    big = {"name": "x" * (DEFAULT_LIMIT + 1), "delegates_total": 10}
    refused = expect(api.post("/api/congresses", json=big), 413)
    assert refused["code"] == "payload_too_large"
    congress = make_congress(api, delegates_total=3000)
    rows = [(f"代表{n}", "第一代表团", f"2026{n:06d}") for n in range(3000)]
    data = roster_csv(rows)
    assert len(data) > DEFAULT_LIMIT  # a roster file is allowed more than the default
    assert expect(upload_roster(api, congress.id, data), 201)["imported"] == 3000
    paper = {"idempotency_key": "k", "marks": {"x" * 90: "yes"}, "padding": "x" * 300_000}
    refused = expect(api.post("/api/batches/1/papers", json=paper), 413)
    assert refused["code"] == "payload_too_large"
    paper["padding"] = "x" * 200_000  # within the entry's limit: the app answers (admin: 403)
    assert expect(api.post("/api/batches/1/papers", json=paper), 403)["code"] == "forbidden"


def test_a_streamed_body_is_not_read_past_the_limit() -> None:
    """At the ASGI level: the application reads a chunked body; the middleware stops it at the
    limit (no more chunks are taken from the server) and answers 413 instead of the app."""
    taken = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal taken
        taken += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": taken < 1600}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def reader(_scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})

    middleware = BodyLimit(reader, limit_of=limit_for(5_000_000))
    scope = {"type": "http", "method": "POST", "path": "/api/auth/login", "headers": []}
    run_coroutine(middleware(scope, receive, send))
    assert taken == DEFAULT_LIMIT // CHUNK + 1
    assert sent[0]["status"] == 413
    assert len(sent) == 2
