"""Hall mode (``--hall``): the LAN address, the CA and its server certificate, ``/ca``, the http
listener's redirects, the keys backup carrying the CA, and the real command end to end.

The browser half (a chromium that trusts the CA through an NSS database):
tests/web/test_hall_tablet.py.
"""

import datetime
import json
import os
import socket
import ssl
import stat
import subprocess
from pathlib import Path
from types import SimpleNamespace

import httpx2 as httpx
import pytest
import segno
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from fastapi.testclient import TestClient

from app import cli
from app.hall import address as hall_address_module
from app.hall import start as hall_start
from app.hall import tls
from app.hall.address import NONE_FOUND, LanAddress
from app.hall.redirect import create_redirect_app
from app.hall.router import CA_MEDIA_TYPE
from app.keys import ensure_keys
from app.main import create_app
from app.settings import Settings
from tests.hall.serving import JIPIAO, free_port_pair, hall_address, hall_command

STEPS = ("steps-ipados", "steps-android", "steps-windows", "steps-macos")


def _server_certificate(data_dir: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((data_dir / tls.SERVER_PATH).read_bytes())


def _names(certificate: x509.Certificate) -> list[str]:
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(value) for value in names.get_values_for_type(x509.IPAddress)] + list(
        names.get_values_for_type(x509.DNSName)
    )


def test_the_ca_is_made_once_and_the_server_certificate_follows_the_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tls.ensure_certificates(tmp_path, "192.168.1.20")
    assert (first.ca_made, first.server_made) == (True, True)
    for path in (tmp_path / tls.CA_PATH, tmp_path / tls.SERVER_PATH):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    server = _server_certificate(tmp_path)
    assert sorted(_names(server)) == ["127.0.0.1", "192.168.1.20", "localhost"]
    server.verify_directly_issued_by(first.ca.certificate)
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert server.not_valid_after_utc - server.not_valid_before_utc <= datetime.timedelta(398)
    constraints = first.ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca is True

    kept = (tmp_path / tls.SERVER_PATH).read_bytes()
    again = tls.ensure_certificates(tmp_path, "192.168.1.20")  # a restart: nothing new
    assert (again.ca_made, again.server_made) == (False, False)
    assert again.ca.sha256() == first.ca.sha256()
    assert (tmp_path / tls.SERVER_PATH).read_bytes() == kept

    moved = tls.ensure_certificates(tmp_path, "10.0.0.7")  # another address: same CA
    assert (moved.ca_made, moved.server_made) == (False, True)
    assert moved.ca.sha256() == first.ca.sha256()
    server = _server_certificate(tmp_path)
    assert sorted(_names(server)) == ["10.0.0.7", "127.0.0.1", "localhost"]
    server.verify_directly_issued_by(first.ca.certificate)

    # Near its end (within RENEW_BEFORE) the server certificate is made anew, by the same CA.
    later = server.not_valid_after_utc - datetime.timedelta(days=10)
    monkeypatch.setattr(tls, "_now", lambda: later)
    renewed = tls.ensure_certificates(tmp_path, "10.0.0.7")
    assert (renewed.ca_made, renewed.server_made) == (False, True)
    assert _server_certificate(tmp_path).not_valid_after_utc > server.not_valid_after_utc


def test_a_damaged_ca_file_is_an_error_never_a_new_ca(tmp_path: Path) -> None:
    tls.ensure_certificates(tmp_path, "192.168.1.20")
    ca_file = tmp_path / tls.CA_PATH
    ca_file.write_bytes(ca_file.read_bytes()[:200])
    with pytest.raises(tls.HallCaError, match="not the hall CA"):
        tls.ensure_certificates(tmp_path, "192.168.1.20")
    with pytest.raises(SystemExit, match="not the hall CA"):
        hall_start.prepare(Settings(data_dir=tmp_path, hall_http_port=8001))
    assert len(ca_file.read_bytes()) == 200


def test_the_lan_address_is_an_up_non_loopback_ipv4_real_interfaces_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def entry(address: str, family: int = socket.AF_INET) -> SimpleNamespace:
        return SimpleNamespace(family=family, address=address)

    interfaces = {
        "lo": [entry("127.0.0.1")],
        "docker0": [entry("172.17.0.1")],
        "eth1": [entry("10.1.1.1")],  # down
        "en5": [entry("169.254.3.3")],  # no DHCP answer: link-local
        "eth2": [entry("81.2.69.160")],  # public (a campus network)
        "wlan0": [entry("fe80::1", socket.AF_INET6), entry("192.168.1.20")],
        "eth0": [entry("fd00::5", socket.AF_INET6)],  # IPv6 only
    }
    up = {name: SimpleNamespace(isup=name != "eth1") for name in interfaces}
    monkeypatch.setattr(hall_address_module.psutil, "net_if_addrs", lambda: interfaces)
    monkeypatch.setattr(hall_address_module.psutil, "net_if_stats", lambda: up)
    assert hall_address_module.lan_addresses() == [
        LanAddress("192.168.1.20", "wlan0"),
        LanAddress("81.2.69.160", "eth2"),
        LanAddress("169.254.3.3", "en5"),
        LanAddress("172.17.0.1", "docker0"),
    ]
    monkeypatch.setattr(
        hall_address_module.psutil, "net_if_addrs", lambda: {"lo": interfaces["lo"]}
    )
    assert hall_address_module.lan_addresses() == []


def test_configure_puts_the_hall_address_into_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = [LanAddress("192.168.1.20", "wlan0"), LanAddress("10.0.0.7", "eth0")]
    monkeypatch.setattr(hall_start, "lan_addresses", lambda: found)
    environ: dict[str, str] = {}
    assert hall_start.configure(environ, port=8000) is None
    assert environ == {
        "JIPIAO_HOST": "192.168.1.20",
        "JIPIAO_PUBLIC_URL": "https://192.168.1.20:8000",
        "JIPIAO_HALL_HTTP_PORT": "8001",
    }
    environ = {"JIPIAO_HOST": "0.0.0.0"}  # every interface: the URLs still need a real address
    assert hall_start.configure(environ, port=8443) is None
    assert environ["JIPIAO_HOST"] == "0.0.0.0"
    assert environ["JIPIAO_PUBLIC_URL"] == "https://192.168.1.20:8443"
    environ = {"JIPIAO_HOST": "fd00::5"}  # --host names it
    assert hall_start.configure(environ, port=8000) is None
    assert environ["JIPIAO_PUBLIC_URL"] == "https://[fd00::5]:8000"
    assert "65536" in (hall_start.configure({}, port=65535) or "")

    monkeypatch.setattr(hall_start, "lan_addresses", list)
    environ = {}
    assert hall_start.configure(environ, port=8000) == NONE_FOUND
    assert environ == {}


def test_no_lan_address_is_one_line_and_nothing_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The command writes the hall settings into the environment: give it a copy to write into.
    monkeypatch.setattr(os, "environ", {"JIPIAO_DATA_DIR": str(tmp_path)})
    monkeypatch.setattr(hall_start, "lan_addresses", list)
    assert cli.main(["serve", "--hall"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"错误 / error: {NONE_FOUND}"]
    assert not (tmp_path / "jipiao.sqlite3").exists()


def test_the_ca_pages_only_in_hall_mode_and_the_http_listener_redirects(
    settings: Settings,
) -> None:
    with TestClient(create_app(settings)) as client:
        for path in ("/ca", "/ca.crt"):
            answer = client.get(path)
            assert (answer.status_code, answer.json()["code"]) == (404, "hall_mode_off")

    hall = settings.model_copy(
        update={"public_url": "https://192.168.1.20:8000", "hall_http_port": 8001}
    )
    made = tls.ensure_certificates(hall.data_dir, "192.168.1.20")
    with TestClient(create_app(hall)) as client:
        page = client.get("/ca")
        assert page.status_code == 200
        assert made.ca.sha256() in page.text
        qr = segno.make_qr("http://192.168.1.20:8001/ca", error="m").svg_inline(scale=5, border=2)
        assert qr in page.text
        certificate = client.get("/ca.crt")
        assert certificate.headers["content-type"] == CA_MEDIA_TYPE
        assert certificate.content == made.ca.certificate_pem()

    redirect = TestClient(create_redirect_app(hall), base_url="http://192.168.1.20:8001")
    for method in ("GET", "POST"):
        moved = redirect.request(method, "/login?code=K7QM-2XHP-R9TB", follow_redirects=False)
        assert moved.status_code == 307
        assert moved.headers["location"] == "https://192.168.1.20:8000/login?code=K7QM-2XHP-R9TB"
    # Whatever Host the request named, the redirect goes to the address of the certificate.
    elsewhere = redirect.get("/tablet", headers={"host": "evil.example"}, follow_redirects=False)
    assert elsewhere.headers["location"] == "https://192.168.1.20:8000/tablet"
    assert redirect.get("/ca").status_code == 200
    assert redirect.get("/ca.crt").content == made.ca.certificate_pem()


def _with_ca(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


@pytest.mark.slow
def test_serve_hall_end_to_end_and_a_restart_keeps_the_ca(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with hall_command("serve", data) as run:
        output = run.output
        assert f"service:        {run.url}" in output
        assert f"hall CA: {run.http_url}/ca" in output
        assert "a new hall CA was made" in output
        fingerprint = run.fingerprint()

        moved = httpx.get(f"{run.http_url}/tablet?x=1", follow_redirects=False)
        assert (moved.status_code, moved.headers["location"]) == (307, f"{run.url}/tablet?x=1")

        page = httpx.get(f"{run.http_url}/ca")  # plain http: before the tablet trusts the CA
        assert page.status_code == 200
        assert fingerprint in page.text
        for step in STEPS:
            assert f'id="{step}"' in page.text
        assert "证书信任设置" in page.text  # iPadOS: Settings → General → About → …
        assert "Certificate Trust Settings" in page.text

        answer = httpx.get(f"{run.http_url}/ca.crt")
        assert answer.headers["content-type"] == CA_MEDIA_TYPE
        ca = x509.load_pem_x509_certificate(answer.content)
        assert tls.fingerprint(ca.public_bytes(serialization.Encoding.DER)) == fingerprint
        ca_file = tmp_path / "ca.crt"
        ca_file.write_bytes(answer.content)

        # https at the LAN address verifies against that CA (and only against it).
        health = httpx.get(f"{run.url}/api/health", verify=_with_ca(ca_file))
        assert health.json() == {"status": "ok"}
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{run.url}/api/health")

    # A restart: the same CA, no new one announced.
    with hall_command("serve", data, address=run.address) as again:
        assert again.fingerprint() == fingerprint
        assert "a new hall CA was made" not in again.output
        health = httpx.get(f"{again.url}/api/health", verify=_with_ca(ca_file))
        assert health.status_code == 200
    # Another address (loopback here): a new server certificate, signed by the same CA.
    if run.address != "127.0.0.1":
        with hall_command("serve", data, address="127.0.0.1") as local:
            assert local.fingerprint() == fingerprint
            assert "no tablet can reach it" in local.output
            health = httpx.get(f"{local.url}/api/health", verify=_with_ca(ca_file))
            assert health.status_code == 200


def test_a_taken_http_port_is_one_line_and_nothing_printed(tmp_path: Path) -> None:
    address = hall_address()
    port = free_port_pair(address)
    with socket.socket() as held:
        held.bind((address, port + 1))
        held.listen()
        env = os.environ | {"JIPIAO_DATA_DIR": str(tmp_path)}
        done = subprocess.run(
            [str(JIPIAO), "demo", "--hall", "--host", address, "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"错误 / error: 端口 {port + 1} 已被占用（{address}）：请用 --port 指定其他端口 / "
        f"port {port + 1} on {address} is in use: choose another with --port"
    ]
    assert not (tmp_path / "jipiao.sqlite3").exists()


def test_the_keys_backup_carries_the_hall_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, other = tmp_path / "first", tmp_path / "second", tmp_path / "other"

    class _NoRounds:  # a database with no round: ensure_keys makes the keys
        def scalar(self, _statement: object) -> bool:
            return False

    ensure_keys(_NoRounds(), first)  # type: ignore[arg-type]
    ca = tls.ensure_certificates(first, "192.168.1.20").ca
    backup = tmp_path / "keys.json"
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(first))
    assert cli.main(["keys", "backup", str(backup)]) == 0
    assert f"hall CA fingerprint (SHA-256): {ca.sha256()}" in capsys.readouterr().out
    document = json.loads(backup.read_text())
    assert document["hall_ca_fingerprint"] == ca.sha256()

    monkeypatch.setenv("JIPIAO_DATA_DIR", str(second))
    assert cli.main(["keys", "restore", str(backup)]) == 0
    assert (second / tls.CA_PATH).read_bytes() == (first / tls.CA_PATH).read_bytes()
    assert stat.S_IMODE((second / tls.CA_PATH).stat().st_mode) == 0o600
    assert cli.main(["keys", "restore", str(backup)]) == 0  # the same CA there: fine
    capsys.readouterr()

    tls.ensure_ca(other)  # a different CA there: refused, nothing written
    kept = {path.name: path.read_bytes() for path in (other / "secrets").iterdir()}
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(other))
    assert cli.main(["keys", "restore", str(backup)]) == 1
    assert "holds a different hall CA" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in (other / "secrets").iterdir()} == kept
