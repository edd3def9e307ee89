"""The browser pages: the teller's tablet (``/tablet``) and the login-QR landing page (``/login``).

The pages are static files (no templating: everything they show comes from the JSON API with the
session token kept in the browser). Assets are served from this package, never from a CDN — the
congress hall has no internet. ``/tablet-sw.js`` is a service worker (scope ``/``) that keeps the
page shell in the browser's cache so a reload while the Wi-Fi is down still opens the tablet and
its queue of unsent papers (browsers allow service workers on ``https`` and on ``localhost``).
"""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from app.errors import NotFound

_HERE = Path(__file__).parent
_TEMPLATES = _HERE / "templates"
_STATIC = _HERE / "static"

# The files a page may load (a fixed list: no path from the request reaches the file system).
_ASSETS: dict[str, str] = {
    "tablet.js": "text/javascript; charset=utf-8",
    "tablet.css": "text/css; charset=utf-8",
    "login.js": "text/javascript; charset=utf-8",
    "scanner.js": "text/javascript; charset=utf-8",
    "jsQR.js": "text/javascript; charset=utf-8",
    "jsQR.LICENSE.txt": "text/plain; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "projector.js": "text/javascript; charset=utf-8",
    "projector.css": "text/css; charset=utf-8",
}

# Pages and assets change with a deploy; the service worker falls back to its cache offline.
_NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> HTMLResponse:
    return HTMLResponse((_TEMPLATES / name).read_text(encoding="utf-8"), headers=_NO_CACHE)


@router.get("/tablet")
def tablet() -> HTMLResponse:
    """计票平板 / the teller's tablet."""
    return _page("tablet.html")


@router.get("/login")
def login_page() -> HTMLResponse:
    """What a login QR code opens: exchanges ``?code=`` for a session, then goes to the tablet."""
    return _page("login.html")


@router.get("/dashboard")
def dashboard() -> HTMLResponse:
    """主席团看板 / the presidium's live dashboard (app.live)."""
    return _page("dashboard.html")


@router.get("/projector")
def projector() -> HTMLResponse:
    """会场大屏 / the hall projector: only released results per candidate (C3)."""
    return _page("projector.html")


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
