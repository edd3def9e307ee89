"""The rehearsal's own ``jipiao serve``: a temporary SQLite database and data directory, a free
port on 127.0.0.1, a separate process (as in the hall), stopped at the end."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.rehearse.client import Api, RehearsalFailed
from app.serve import first_start
from app.settings import Settings

HOST = "127.0.0.1"
START_SECONDS = 60
STOP_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Server:
    host: str
    port: int
    admin_token: str
    data_dir: Path
    database_url: str
    log: Path

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def api(self, token: str | None = None) -> Api:
        return Api(self.host, self.port, token)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def temporary_server(workdir: Path) -> Iterator[Server]:
    """Migrate a fresh SQLite database in ``workdir``, start the server on it, stop it on exit."""
    data_dir = workdir / "data"
    database_url = f"sqlite:///{workdir / 'rehearsal.sqlite3'}"
    port = _free_port()
    # Explicit values: the caller's JIPIAO_* environment must not point the rehearsal at a real
    # congress's database.
    settings = Settings(
        database_url=database_url, data_dir=data_dir, host=HOST, port=port, public_url=""
    )
    token = first_start(settings)
    if token is None:
        raise RehearsalFailed(
            "临时数据库已有管理员令牌", "the temporary database had an admin token"
        )
    env = os.environ | {
        "JIPIAO_DATABASE_URL": database_url,
        "JIPIAO_DATA_DIR": str(data_dir),
        "JIPIAO_HOST": HOST,
        "JIPIAO_PORT": str(port),
        "JIPIAO_PUBLIC_URL": "",
        "JIPIAO_WORKERS": "1",  # one process: SQLite
    }
    log = workdir / "server.log"
    server = Server(HOST, port, token, data_dir, database_url, log)
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            _wait_until_healthy(server, process)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(server: Server, process: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + START_SECONDS
    api = server.api()
    while True:
        try:
            if api.call("GET", "/api/health").status == 200:
                api.close()
                return
        except RehearsalFailed:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RehearsalFailed(
                f"服务未能启动：\n{server.log_tail()}",
                f"the server did not start:\n{server.log_tail()}",
            )
        time.sleep(0.1)
