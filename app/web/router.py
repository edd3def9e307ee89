"""The browser pages: the officials' console (``/`` and one page per role), the teller's tablet
(``/tablet``), the watchers' dashboard and projector, and the login-QR landing page (``/login``).

The pages are static files (no server-side templating): what they show comes from the JSON API
with the session token kept in the browser, and the console pages bind it with the vendored
Alpine.js (app/web/README.md says why). Assets are served from this package, never from a CDN —
the congress hall has no internet. ``/tablet-sw.js`` is a service worker (scope ``/``) that keeps
the tablet's shell in the browser's cache so a reload while the Wi-Fi is down still opens the
tablet and its queue of unsent papers (browsers allow service workers on ``https`` and on
``localhost``).
"""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from app.errors import NotFound
from app.web.vocabulary import vocabulary_js

_HERE = Path(__file__).parent
_TEMPLATES = _HERE / "templates"
_STATIC = _HERE / "static"

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# The files a page may load: what this package ships, listed once at start-up, so that no path
# from the request reaches the file system.
_ASSETS: dict[str, str] = {
    path.name: _MEDIA_TYPES[path.suffix]
    for path in sorted(_STATIC.iterdir())
    if path.suffix in _MEDIA_TYPES and path.name != "tablet-sw.js"
}

# The console's pages (URL → file): the URLs are part of the contract (issue 18).
PAGES: dict[str, str] = {
    "/": "index.html",
    "/admin": "admin.html",
    "/rounds": "rounds.html",
    "/checkin": "checkin.html",
    "/count": "count.html",
    "/scrutiny": "scrutiny.html",
    "/presidium": "presidium.html",
    "/audit": "audit.html",
    "/tablet": "tablet.html",
    "/login": "login.html",
    "/dashboard": "dashboard.html",
    "/projector": "projector.html",
}

# Pages and assets change with a deploy; the service worker falls back to its cache offline.
_NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def _add_page(url: str, file_name: str) -> None:
    # Read at start-up: a page missing from the package stops the service from starting.
    html = (_TEMPLATES / file_name).read_text(encoding="utf-8")

    def page() -> HTMLResponse:
        return HTMLResponse(html, headers=_NO_CACHE)

    router.add_api_route(url, page, methods=["GET"], name=f"page:{file_name}")


for _url, _file_name in PAGES.items():
    _add_page(_url, _file_name)


@router.get("/tablet-sw.js")
def service_worker() -> FileResponse:
    return FileResponse(
        _STATIC / "tablet-sw.js",
        media_type="text/javascript; charset=utf-8",
        headers=_NO_CACHE | {"Service-Worker-Allowed": "/"},
    )


@router.get("/web/static/{name}")
def asset(name: str) -> FileResponse:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise NotFound("not_found", "找不到该文件", "no such file")
    return FileResponse(_STATIC / name, media_type=media_type, headers=_NO_CACHE)


@router.get("/web/vocabulary.js")
def vocabulary_script() -> Response:
    return Response(vocabulary_js(), media_type="text/javascript; charset=utf-8", headers=_NO_CACHE)
