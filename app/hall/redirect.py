"""The plain-http listener of hall mode, on the port after the https one.

It serves ``/ca`` and ``/ca.crt`` (a tablet fetches the CA here, before it trusts it, without a
certificate warning) and redirects everything else to the same path and query over https, at
the hall address (the one the server certificate names, whatever ``Host`` the request carried).
307, not 301/308: a browser keeps a permanent redirect for good, and the next congress's laptop
may answer at this address with something else.

It runs in a thread of the process that runs uvicorn (``RedirectServer``), so that it stays one
listener whether the https service has one worker or several.
"""

import threading
import time
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from app.hall import router as hall_router
from app.live.listen import redact_access_log
from app.main import install_error_handlers
from app.settings import Settings

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_redirect_app(settings: Settings) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(hall_router.router)
    https_netloc = urlsplit(settings.resolved_public_url()).netloc

    @app.api_route("/{_path:path}", methods=_METHODS, include_in_schema=False)
    def to_https(request: Request, _path: str) -> RedirectResponse:
        target = request.url.replace(scheme="https", netloc=https_netloc)
        return RedirectResponse(str(target), status_code=307)

    return app


class RedirectServer:
    """The plain-http listener in a thread; ``start`` returns once it listens (or raises
    ``SystemExit`` with one line if it could not)."""

    def __init__(self, settings: Settings) -> None:
        config = uvicorn.Config(
            create_redirect_app(settings),
            host=settings.host,
            port=settings.hall_http_port,
            log_level="warning",
            lifespan="off",
        )
        # Its requests carry the https service's paths and queries (a login code in
        # ``/login?code=``); with several workers this process runs no app that would install
        # the access log's filter.
        redact_access_log()
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="hall-http", daemon=True)
        self._where = f"{settings.host}:{settings.hall_http_port}"

    def start(self, timeout: float = 15) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise SystemExit(
                    f"错误：无法在 {self._where} 上启动 http 跳转 / error: cannot listen on "
                    f"{self._where} (http → https)"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
