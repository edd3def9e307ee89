"""The tablet in hall mode, in a real chromium that trusts the hall CA as a tablet would.

``jipiao demo --hall`` runs on a non-loopback address of this machine (tests/hall/serving.py).
The CA is fetched over plain http from ``/ca.crt``, as a tablet does, and put into an NSS database
(``certutil``, Debian's libnss3-tools) in the ``HOME`` chromium is started with — chromium's own
trust store on Linux. No ``--ignore-certificate-errors``: a certificate chromium does not trust
fails the navigation, which the control case shows. The teller opens the login URL a QR code
encodes; over https the page is a secure context, so its service worker registers, the camera
API answers (chromium's fake camera, its permission prompt answered yes), and a reload with the
network off comes from the service worker.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.hall.serving import HallRun, hall_command
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, TABLET, see

CERTUTIL = shutil.which("certutil")
# A camera that needs no hardware, and the camera prompt answered "allow".
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[HallRun]:
    with hall_command("demo", tmp_path / "data") as run:
        run.wait_for("/login?code=")
        yield run


def _trusting_home(home: Path, ca_pem: bytes) -> Path:
    """A HOME whose NSS database (chromium's trust store on Linux) trusts the CA for websites."""
    if CERTUTIL is None:
        pytest.fail("certutil is missing: scripts/install --dev installs libnss3-tools")
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True)
    ca_file = home / "hall-ca.crt"
    ca_file.write_bytes(ca_pem)
    where = f"sql:{database}"
    subprocess.run([CERTUTIL, "-N", "-d", where, "--empty-password"], check=True)
    subprocess.run(
        [CERTUTIL, "-A", "-d", where, "-t", "C,,", "-n", "jipiao hall CA", "-i", str(ca_file)],
        check=True,
    )
    listed = subprocess.run(
        [CERTUTIL, "-L", "-d", where], check=True, capture_output=True, text=True
    )
    assert "jipiao hall CA" in listed.stdout
    return home


def _launch(playwright: Any, home: Path) -> Any:
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS + FAKE_CAMERA,
        env=os.environ | {"HOME": str(home)},
    )


def _teller_login_url(run: HallRun) -> str:
    line = next(line for line in run.lines if line.lstrip().startswith("计票人 teller"))
    url = line.split("登录 / log in: ", 1)[1].split()[0]
    assert url.startswith(f"{run.url}/login?code=")
    return url


CAMERA = """async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ video: true });
  const tracks = stream.getVideoTracks().map(t => t.readyState);
  stream.getTracks().forEach(t => t.stop());
  return tracks;
}"""

SERVICE_WORKER = """() => Promise.race([
  navigator.serviceWorker.ready.then(r => r.active && r.active.scriptURL),
  new Promise(resolve => setTimeout(() => resolve("not ready in 10 s"), 10000)),
])"""


def test_a_tablet_that_trusts_the_ca_gets_https_camera_and_offline(
    hall: HallRun, playwright: Any, tmp_path: Path
) -> None:
    if hall.address.startswith("127."):
        pytest.skip(
            "this machine has no non-loopback IPv4 address: on 127.0.0.1 chromium counts even "
            "plain http as secure, so the test would prove nothing"
        )
    ca_pem = httpx.get(f"{hall.http_url}/ca.crt").content  # over http, as a tablet fetches it
    login_url = _teller_login_url(hall)

    # Control: the same chromium without the CA refuses the page (so the check below can fail).
    untrusting = _launch(playwright, tmp_path / "empty-home")
    try:
        page = untrusting.new_page()
        with pytest.raises(Exception, match="ERR_CERT_AUTHORITY_INVALID"):
            page.goto(f"{hall.url}/tablet")
    finally:
        untrusting.close()

    browser = _launch(playwright, _trusting_home(tmp_path / "home", ca_pem))
    try:
        context = browser.new_context(viewport=TABLET, locale="zh-CN")
        context.set_default_timeout(20000)
        page = context.new_page()
        answer = page.goto(login_url)  # what the teller's login QR code opens
        assert answer is not None
        assert answer.ok
        details = answer.security_details()
        assert details is not None
        assert "jipiao" in details["issuer"]
        page.wait_for_url(f"{hall.url}/tablet")
        page.get_by_role("heading", name="选择批次").wait_for()  # logged in over https
        assert page.evaluate("window.isSecureContext") is True
        assert page.evaluate(SERVICE_WORKER) == f"{hall.url}/tablet-sw.js"
        assert page.evaluate("typeof navigator.mediaDevices?.getUserMedia") == "function"
        assert page.evaluate(CAMERA) == ["live"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "hall-tablet-https-1280x800.png"))

        # The Wi-Fi drops: a reload still opens the tablet, from the service worker's cache.
        context.set_offline(True)
        page.reload()
        page.locator('#net[data-state="offline"]').wait_for()
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        assert page.evaluate("window.isSecureContext") is True
        context.set_offline(False)

        # The CA page over https too, with the fingerprint printed on the laptop.
        page.goto(f"{hall.url}/ca")
        see(page.locator("#ca-sha256")).to_have_text(hall.fingerprint(), use_inner_text=True)
        page.screenshot(path=str(SCREENSHOTS / "hall-ca-1280x800.png"), full_page=True)
        context.close()
    finally:
        browser.close()
