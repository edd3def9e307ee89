"""``/ca`` and ``/ca.crt``: the hall CA for the tablets to install (hall mode only).

Served on both listeners of hall mode: over https, and over the plain-http port, where a tablet
that does not trust the CA yet can open it without a certificate warning (``app.hall.redirect``).
The page's QR code points at that plain-http address, so it can be shown on the laptop's screen
and scanned by a tablet that has never seen the CA.
"""

import html
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

import segno
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from app.auth.deps import SettingsDep
from app.errors import NotFound
from app.hall.tls import HallCa, load_ca
from app.settings import Settings

_PAGE = Template((Path(__file__).parent / "ca.html").read_text(encoding="utf-8"))
# What iPadOS and Android open as a certificate to install (not as a file to show).
CA_MEDIA_TYPE = "application/x-x509-ca-cert"
CA_FILE_NAME = "jipiao-hall-ca.crt"
_NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def hall_host(settings: Settings) -> str:
    """The address the tablets use (the public URL's host: in hall mode the LAN address)."""
    return urlsplit(settings.resolved_public_url()).hostname or settings.host


def url_host(host: str) -> str:
    """``host`` as written in a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host


def ca_page_url(settings: Settings) -> str:
    """The CA page on the plain-http port: reachable before the CA is trusted."""
    return f"http://{url_host(hall_host(settings))}:{settings.hall_http_port}/ca"


def _hall_ca(settings: Settings) -> HallCa:
    ca = load_ca(settings.data_dir) if settings.hall_http_port else None
    if ca is None:
        raise NotFound(
            "hall_mode_off",
            "本服务未以会场模式启动，没有会场证书",
            "the service was not started in hall mode (jipiao serve --hall): no hall certificate",
        )
    return ca


@router.get("/ca")
def ca_page(settings: SettingsDep) -> HTMLResponse:
    """安装会场证书 / the hall CA: QR code, fingerprint, install steps per system."""
    ca = _hall_ca(settings)
    page_url = ca_page_url(settings)
    qr = segno.make_qr(page_url, error="m").svg_inline(scale=5, border=2)
    text = _PAGE.substitute(
        qr_svg=qr,
        ca_page_url=html.escape(page_url),
        sha256=ca.sha256(),
        sha1=ca.sha1(),
        tablet_url=html.escape(f"{settings.resolved_public_url()}/tablet"),
    )
    return HTMLResponse(text, headers=_NO_CACHE)


@router.get("/ca.crt")
def ca_certificate(settings: SettingsDep) -> Response:
    """The CA certificate (PEM) to install on a tablet."""
    ca = _hall_ca(settings)
    return Response(
        ca.certificate_pem(),
        media_type=CA_MEDIA_TYPE,
        headers=_NO_CACHE | {"Content-Disposition": f'attachment; filename="{CA_FILE_NAME}"'},
    )
