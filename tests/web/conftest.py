"""Browser tests of the teller's tablet: the app served by uvicorn (in a thread) on a free port
with a fresh migrated SQLite database, driven by Python Playwright through Debian's chromium.

Playwright's own browser download is never used (``executable_path=/usr/bin/chromium``); if that
binary or the ``playwright`` package is missing the tests are skipped with the reason. Setup
(congress, roster, officials, round, batches) goes through the HTTP API with the typed builders,
via a TestClient on a second app instance over the same database file.
"""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.auth import service as auth_service
from app.main import create_app
from app.settings import Settings
from tests.builders import Api

CHROMIUM = Path(os.environ.get("JIPIAO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The console's sizes (issue 18 item 10): laptop, tablet landscape and portrait, phone.
LAPTOP = {"width": 1366, "height": 768}
CONSOLE_SIZES = {
    "laptop": LAPTOP,
    "tablet": {"width": 1024, "height": 768},
    "tablet-portrait": {"width": 800, "height": 1280},
    "phone": PHONE,
}
# Screenshots for people to look at (git-ignored).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

playwright_sync = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
# A page updates itself after an answer or a live event, sometimes in more than one step: a single
# read (`is_visible()`, `inner_text()`) can come between two steps and fail a correct page. `see`
# asserts and retries until the page says it, as long as `wait_for` waits (30 s: a loaded machine).
see = playwright_sync.expect
see.set_options(timeout=30_000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings
    api: Api  # the admin, through a TestClient on the same database


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    database = tmp_path / "jipiao.sqlite3"
    shutil.copyfile(sqlite_template, database)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=f"sqlite:///{database}", data_dir=tmp_path, public_url=url)
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-web-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
        time.sleep(0.02)
    setup_app = create_app(settings)
    with setup_app.state.sessionmaker.begin() as session:
        token = auth_service.create_admin_token(session)
    try:
        with TestClient(setup_app) as client:
            yield LiveServer(url=url, settings=settings, api=Api(client, token))
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """One Playwright driver per run (the sync API allows only one at a time)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    with playwright_sync.sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def axe_violations(page: Any) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on the page as it is now,
    one line each (rule, impact, the elements): a console page must have none (issue 18)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot under var/screenshots/ for people to look at (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
