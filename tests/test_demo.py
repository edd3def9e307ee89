"""``jipiao demo`` / ``jipiao serve`` / ``jipiao db upgrade`` on the embedded SQLite default."""

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from app.cli import main as cli_main
from app.main import create_app
from app.serve import first_start, prepare_demo
from app.settings import Settings
from tests.builders import Api, expect

# Most tests here start the service as a process: the full suite runs them, the inner loop does not.
pytestmark = pytest.mark.slow


def test_demo_congress_is_shaped_like_the_seed(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    report = prepare_demo(settings)
    assert report.created is True
    assert sorted(login.role.value for login in report.logins) == sorted(
        ["chief_scrutineer", "chief_teller", "scrutineer", "scrutineer"]
        + ["teller"] * 5
        + ["presidium", "auditor"]
    )
    with TestClient(create_app(settings)) as client:
        api = Api(client, report.admin_token)
        congress = expect(api.get(f"/api/congresses/{report.congress_id}"), 200)
        assert (congress["delegates_total"], congress["roster_count"]) == (189, 189)
        election = expect(api.get(f"/api/elections/{report.election_id}"), 200)
        assert (election["title"], election["seats"], election["slate"]["ok"]) == (
            "主席团成员",
            3,
            True,
        )
        candidates = expect(api.get(f"/api/elections/{report.election_id}/candidates"), 200)
        assert len(candidates["candidates"]) == 5
        staffing = expect(api.get(f"/api/congresses/{report.congress_id}/staffing"), 200)
        assert staffing["ok"] is True
        officials = expect(api.get(f"/api/congresses/{report.congress_id}/officials"), 200)
        names = {c["name"] for c in candidates["candidates"]}
        assert not names & {o["name"] for o in officials}  # O1
        teller = next(login for login in report.logins if login.role.value == "teller")
        session = expect(
            api.as_token(None).post("/api/auth/login", json={"code": teller.code}), 200
        )
        assert session["role"] == "teller"
        verify = expect(api.get(f"/api/congresses/{report.congress_id}/events/verify"), 200)
        assert verify["ok"] is True

    again = prepare_demo(settings)
    assert again.created is False
    assert (again.congress_id, again.election_id) == (report.congress_id, report.election_id)
    assert again.admin_token != report.admin_token
    with TestClient(create_app(settings)) as client:
        old = Api(client, report.admin_token)
        assert expect(old.get("/api/congresses"), 401)["code"] == "invalid_session"
        congresses = expect(old.as_token(again.admin_token).get("/api/congresses"), 200)
        assert len(congresses) == 1


def test_admin_token_is_printed_only_at_first_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert first_start(settings) is not None
    assert first_start(settings) is None


def test_db_upgrade_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(tmp_path))
    assert cli_main(["db", "upgrade"]) == 0
    assert "database upgraded" in capsys.readouterr().out
    assert (tmp_path / "jipiao.sqlite3").stat().st_size > 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_jipiao_demo_starts_a_server_and_prints_codes(tmp_path: Path) -> None:
    port = _free_port()
    env = os.environ | {"JIPIAO_DATA_DIR": str(tmp_path), "JIPIAO_PORT": str(port)}
    jipiao = Path(sys.executable).parent / "jipiao"
    process = subprocess.Popen(
        [str(jipiao), "demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        docs = httpx.get(f"http://127.0.0.1:{port}/docs")
        assert docs.status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/docs" in output
    assert "计票人 teller" in output
    assert "admin token" in output


def _first_lines(process: "subprocess.Popen[str]", until: str, seconds: float) -> str:
    """What the process printed up to the first line containing ``until`` (bounded in time)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no line with {until!r} in time: {''.join(seen)}") from None
        assert line is not None, f"the process ended before {until!r}: {''.join(seen)}"
        seen.append(line)
        if until in line:
            return "".join(seen)


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_taken_port_is_one_line_and_nothing_printed_or_issued(
    tmp_path: Path, command: str
) -> None:
    jipiao = Path(sys.executable).parent / "jipiao"
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        env = os.environ | {"JIPIAO_DATA_DIR": str(tmp_path)}
        env.pop("JIPIAO_PORT", None)
        env.pop("JIPIAO_HOST", None)
        done = subprocess.run(
            [str(jipiao), command, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"错误 / error: 端口 {port} 已被占用（127.0.0.1）：请用 --port 指定其他端口 / "
        f"port {port} on 127.0.0.1 is in use: choose another with --port"
    ]
    # Nothing issued either: no database, hence no admin token or login code made and lost.
    assert not (tmp_path / "jipiao.sqlite3").exists()


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_port_flag_wins_over_the_environment_and_the_urls_use_it(
    tmp_path: Path, command: str
) -> None:
    jipiao = Path(sys.executable).parent / "jipiao"
    port = _free_port()
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        # The environment names a taken port: the flag wins.
        env = os.environ | {"JIPIAO_DATA_DIR": str(tmp_path), "JIPIAO_PORT": str(taken)}
        process = subprocess.Popen(
            [str(jipiao), command, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            until = "login-qr.svg" if command == "demo" else "/api/health"
            output = _first_lines(process, until, seconds=60)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            assert process.stdout is not None
            process.stdout.close()
    assert f"http://127.0.0.1:{port}/docs" in output
    assert f"http://127.0.0.1:{taken}" not in output
    if command == "demo":
        assert f"http://127.0.0.1:{port}/login?code=" in output


def test_port_flag_is_checked() -> None:
    jipiao = Path(sys.executable).parent / "jipiao"
    done = subprocess.run(
        [str(jipiao), "serve", "--port", "70000"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "not a port (1–65535): 70000" in done.stderr
