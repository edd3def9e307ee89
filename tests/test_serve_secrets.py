"""Secrets at start and in the logs (issue 20 item 6): the admin token is shown once and never
into a kept log, ``jipiao admin rotate`` replaces it, a demo data folder is refused by ``jipiao
serve`` without ``--demo``, and login codes never reach the access log."""

import io
import logging
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from app import serve
from app.cli import main as cli_main
from app.live.listen import RedactToken
from app.main import create_app
from app.settings import Settings
from tests.builders import Api, expect, make_congress

# Each test starts the service as a process: the full suite runs them, the inner loop does not.
pytestmark = pytest.mark.slow

JIPIAO = Path(sys.executable).parent / "jipiao"
# A token as ``secrets.token_urlsafe(32)`` makes it, alone on a line (how serve printed it).
TOKEN_LINE = re.compile(r"^\s*[A-Za-z0-9_-]{43}\s*$", re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Server:
    """``jipiao serve`` as a subprocess, its stdout and stderr (uvicorn's access log included)
    going to ``log``: a log that is kept (not a terminal)."""

    def __init__(self, data_dir: Path, log: Path, *args: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "JIPIAO_DATA_DIR": str(data_dir),
            "JIPIAO_PORT": str(self.port),
            "JIPIAO_DATABASE_URL": "",
            "JIPIAO_PUBLIC_URL": "",
            "JIPIAO_WORKERS": "1",
        }
        self.log = log
        self._file = log.open("wb")
        self.process = subprocess.Popen(
            [str(JIPIAO), "serve", *args],
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def __enter__(self) -> "_Server":
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base}/api/health").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self._file.close()


def test_admin_token_never_reaches_a_kept_log_first_or_second_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with _Server(data, tmp_path / "first.log") as server:
        first_log = server.log
    with _Server(data, tmp_path / "second.log") as server:
        second_log = server.log
    first, second = first_log.read_text(), second_log.read_text()
    # The output is not a terminal: no token line in either start's output …
    assert TOKEN_LINE.search(first) is None, first
    assert TOKEN_LINE.search(second) is None, second
    # … the first start wrote it to a private file and said where.
    token_file = data / serve.ADMIN_TOKEN_FILE
    assert str(token_file) in first
    assert token_file.stat().st_mode & 0o777 == 0o600
    token = token_file.read_text().strip()
    assert token not in first
    assert token not in second
    assert "reminder" in second  # the file is still there: delete it once read
    with TestClient(create_app(Settings(data_dir=data))) as client:
        assert expect(Api(client, token).get("/api/congresses"), 200) == []


def test_admin_token_is_printed_on_a_terminal(tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    serve.hand_over_admin_token(Settings(data_dir=tmp_path), "the-token", out=out)
    assert "the-token" in out.getvalue()
    assert not (tmp_path / serve.ADMIN_TOKEN_FILE).exists()


def test_login_codes_never_reach_the_access_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    admin_token = serve.first_start(Settings(data_dir=data))
    assert admin_token is not None
    with (
        _Server(data, tmp_path / "serve.log") as server,
        httpx.Client(base_url=server.base) as http,
    ):
        admin = {"Authorization": f"Bearer {admin_token}"}
        congress = http.post(
            "/api/congresses", headers=admin, json={"name": "大会", "delegates_total": 9}
        )
        congress_id = congress.json()["id"]
        official = http.post(
            f"/api/congresses/{congress_id}/officials",
            headers=admin,
            json={"name": "赵磊", "role": "teller", "student_id": None},
        )
        issued = http.post(
            f"/api/congresses/{congress_id}/officials/{official.json()['id']}/login-code",
            headers=admin,
        ).json()
        code = issued["code"]
        # What a tablet does with a login QR code: open its URL, show the QR, log in.
        assert http.get(issued["login_url"].removeprefix(server.base)).status_code == 200
        assert http.get(issued["qr_svg_url"]).status_code == 200
        assert http.get("/login", params={"code": code.replace("-", "")}).status_code == 200
        assert http.post("/api/auth/login", json={"code": code}).status_code == 200
        time.sleep(0.5)
    log = server.log.read_text()
    assert "GET /login?code=***" in log  # the access log was captured …
    assert "/api/auth/login-qr.svg?code=***" in log
    assert code not in log  # … without the code, in any spelling
    assert code.replace("-", "") not in log


def test_access_log_filter_hides_login_codes() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.7:51234", "GET", "/login?code=K7QM-2XHP-R9TB", "1.1", 200),
        None,
    )  # fmt: skip
    assert RedactToken().filter(record)
    assert "K7QM" not in record.getMessage()
    assert "/login?code=*** " in record.getMessage()


def test_rotate_makes_a_new_admin_token_and_the_old_one_answers_401(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_congress(api)
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("JIPIAO_DATABASE_URL", settings.database_url)
    assert cli_main(["admin", "rotate"]) == 0
    new = (settings.data_dir / serve.ADMIN_TOKEN_FILE).read_text().strip()
    assert new != api.token
    # The running service (``api``'s app) answers the old token 401 at once, the new one 200.
    assert expect(api.get("/api/congresses"), 401)["code"] == "invalid_session"
    assert len(expect(api.as_token(new).get("/api/congresses"), 200)) == 1
    # Rotated again: the token of the first rotation stops too.
    assert cli_main(["admin", "rotate"]) == 0
    newer = (settings.data_dir / serve.ADMIN_TOKEN_FILE).read_text().strip()
    assert expect(api.as_token(new).get("/api/congresses"), 401)["code"] == "invalid_session"
    expect(api.as_token(newer).get("/api/congresses"), 200)


def test_serve_refuses_a_demo_folder_without_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path)
    report = serve.prepare_demo(settings)
    assert (tmp_path / serve.DEMO_MARKER).exists()
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(tmp_path))
    ran: list[Settings] = []
    monkeypatch.setattr(serve, "_run", ran.append)
    with pytest.raises(SystemExit) as refused:
        cli_main(["serve"])
    message = str(refused.value.code)
    assert "--demo" in message
    assert "demo data folder" in message
    assert "演示数据目录" in message
    assert "\n" not in message
    assert ran == []
    with pytest.raises(SystemExit):
        cli_main(["admin", "rotate"])  # rotating would not make a demo folder a real one
    # With --demo it serves the demo as it is; the demo's credentials still work then.
    assert cli_main(["serve", "--demo"]) == 0
    assert len(ran) == 1
    with TestClient(create_app(settings)) as client:
        expect(Api(client, report.admin_token).get("/api/congresses"), 200)


def test_demo_refuses_a_real_installation(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    token = serve.first_start(settings)
    assert token is not None
    with pytest.raises(SystemExit) as refused:
        serve.prepare_demo(settings)
    assert "not a demo folder" in str(refused.value.code)
    assert not (tmp_path / serve.DEMO_MARKER).exists()
    with TestClient(create_app(settings)) as client:  # the real admin token still works
        expect(Api(client, token).get("/api/congresses"), 200)


def test_serve_refuses_a_demo_folder_made_before_the_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path)
    serve.prepare_demo(settings)
    (tmp_path / serve.DEMO_MARKER).unlink()  # as an older `jipiao demo` left it
    ran: list[Settings] = []
    monkeypatch.setattr(serve, "_run", ran.append)
    with pytest.raises(SystemExit) as refused:
        serve.serve(settings)
    assert "--demo" in str(refused.value.code)
    assert ran == []
    serve.prepare_demo(settings)  # the demo itself goes on there, and marks the folder
    assert (tmp_path / serve.DEMO_MARKER).exists()
