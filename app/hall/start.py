"""What ``--hall`` adds to ``jipiao serve`` and ``jipiao demo``.

``configure`` (before anything is printed or issued) decides the address and puts the hall mode's
settings into the environment, where the worker processes read them as well: ``JIPIAO_HOST`` (the
LAN address found, unless ``--host``/``JIPIAO_HOST`` names one), ``JIPIAO_PUBLIC_URL``
(``https://<address>:<port>``: every URL printed and every login QR code) and
``JIPIAO_HALL_HTTP_PORT`` (the https port + 1). ``prepare`` makes the certificates, ``print_hall``
says where the tablets get the CA, and ``run_options`` gives uvicorn the server certificate.
"""

import ipaddress
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import segno

from app.hall.address import NONE_FOUND, is_unspecified, lan_addresses
from app.hall.redirect import RedirectServer
from app.hall.router import ca_page_url, hall_host, url_host
from app.hall.tls import SERVER_PATH, HallCaError, HallCertificates, ensure_certificates
from app.settings import Settings

# The plain-http port (the CA page, and redirects to https) is the https port's neighbour.
HTTP_PORT_OFFSET = 1


def configure(environ: MutableMapping[str, str], *, port: int) -> str | None:
    """Hall mode's settings into ``environ`` (see the module); None, or the one line saying why
    hall mode cannot start."""
    if port + HTTP_PORT_OFFSET > 65535:
        return (
            f"会场模式还需使用端口 {port + HTTP_PORT_OFFSET}（http 跳转）：请用 --port 指定更小的"
            f"端口 / hall mode also needs port {port + HTTP_PORT_OFFSET} (http → https): choose "
            "a lower --port"
        )
    host = environ.get("JIPIAO_HOST", "")
    address = host
    if not host or is_unspecified(host):
        found = lan_addresses()
        if not found:
            return NONE_FOUND
        address = found[0].address
        if not host:
            environ["JIPIAO_HOST"] = address
    environ["JIPIAO_PUBLIC_URL"] = f"https://{url_host(address)}:{port}"
    environ["JIPIAO_HALL_HTTP_PORT"] = str(port + HTTP_PORT_OFFSET)
    return None


def prepare(settings: Settings) -> HallCertificates | None:
    """The CA (made once) and the server certificate for the hall address; None when not in
    hall mode."""
    if not settings.hall_http_port:
        return None
    try:
        return ensure_certificates(settings.data_dir, hall_host(settings))
    except HallCaError as exc:
        raise SystemExit(f"错误 / error: {exc}") from None


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def print_hall(settings: Settings, hall: HallCertificates, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    address = hall_host(settings)
    page = ca_page_url(settings)
    print(
        f"会场模式 / hall mode: https {settings.resolved_public_url()}  "
        f"(http 端口 {settings.hall_http_port} 跳转到 https / http port "
        f"{settings.hall_http_port} redirects to https)",
        file=out,
    )
    print(f"  会场证书 / hall CA: {page}", file=out)
    print(
        "  （每台平板先用相机扫描二维码或打开此页，安装并信任证书 / on each tablet open this page "
        "first (scan its code) and install and trust the CA）",
        file=out,
    )
    print(f"  证书指纹 / CA fingerprint (SHA-256): {hall.ca.sha256()}", file=out)
    if hall.ca_made:
        print(
            "  新的会场证书已生成，保存在数据目录，请用 jipiao keys backup 备份 / a new hall CA "
            "was made (kept in the data folder): back it up with `jipiao keys backup`",
            file=out,
        )
    if _is_loopback(address):
        print(
            f"  注意：{address} 是本机回环地址，平板无法连接；请用 --host 指定局域网地址 / note: "
            f"{address} is loopback, no tablet can reach it: give a LAN address with --host",
            file=out,
        )
    others = [found for found in lan_addresses() if found.address != address]
    if others:
        shown = ", ".join(f"{found.address} ({found.interface})" for found in others)
        print(f"  本机其他地址 / other addresses (--host): {shown}", file=out)
    if out.isatty():
        segno.make_qr(page, error="m").terminal(out=out, compact=True, border=2)


def run_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's TLS options in hall mode (the key and the certificate are in one file)."""
    if not settings.hall_http_port:
        return {}
    path = str(settings.data_dir / SERVER_PATH)
    return {"ssl_certfile": path, "ssl_keyfile": path}


def start_redirect(settings: Settings) -> RedirectServer | None:
    """The plain-http listener, started (None when not in hall mode)."""
    if not settings.hall_http_port:
        return None
    server = RedirectServer(settings)
    server.start()
    return server
