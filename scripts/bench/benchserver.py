"""A throw-away ``jipiao serve`` on 127.0.0.1 for a benchmark: free port, first start (admin
token), wait for /api/health, stop on exit (killed if SIGTERM does not stop it in 10 s).
``workers`` > 1 (PostgreSQL only) starts that many uvicorn workers (``JIPIAO_WORKERS``)."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.serve import first_start  # noqa: E402
from app.settings import Settings  # noqa: E402


@dataclass(frozen=True)
class Server:
    base: str
    token: str
    process: "subprocess.Popen[bytes]"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def served(name: str, database_url: str, data_dir: Path, *, workers: int = 1) -> Iterator[Server]:
    port = free_port()
    token = first_start(Settings(database_url=database_url, data_dir=data_dir, port=port))
    assert token is not None
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "JIPIAO_DATABASE_URL": database_url,
        "JIPIAO_DATA_DIR": str(data_dir),
        "JIPIAO_PORT": str(port),
        "JIPIAO_WORKERS": str(workers),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "jipiao"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"{name}: the server did not start")
            time.sleep(0.2)
        yield Server(base, token, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print("  (the server did not stop within 10 s of SIGTERM: killed)")
            process.kill()
            process.wait()
