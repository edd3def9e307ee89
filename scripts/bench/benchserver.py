"""A throw-away ``jipiao serve`` on 127.0.0.1 for a benchmark: free port, first start (admin
token), wait for /api/health, stop on exit (killed if SIGTERM does not stop it in 10 s).
``workers`` > 1 (PostgreSQL only) starts that many uvicorn workers (``JIPIAO_WORKERS``).

``source``: the folder of another checkout of the app (``git worktree``) to serve instead of this
one, with this one's virtual environment (``bench_entry.py --compare``).

``throwaway_databases`` gives each backend a fresh database: a temp SQLite file, or a
``jipiao_bench_<random>`` PostgreSQL database (``JIPIAO_BENCH_POSTGRES_URL``) dropped at the end."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.serve import first_start  # noqa: E402
from app.settings import Settings  # noqa: E402

POSTGRES_URL = os.environ.get(
    "JIPIAO_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Server:
    base: str
    token: str
    process: "subprocess.Popen[bytes]"


def stat_cpu_seconds(stat: str) -> float:
    """User + system CPU seconds from the text of a ``/proc/<pid>/stat`` (fields 14 and 15)."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of process ``pid``, all its threads and its live descendants (the
    uvicorn workers), from /proc; None where there is no /proc. Steadier than a rate on a shared
    machine: the rate moves with whatever else runs, the CPU a request costs much less."""
    proc = Path("/proc")
    if not (proc / str(pid)).exists():
        return None
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += stat_cpu_seconds((proc / str(current) / "stat").read_text())
            for task in (proc / str(current) / "task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
        except OSError:  # it ended meanwhile
            continue
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _first_start(env: dict[str, str]) -> str:
    """``first_start`` of the app on ``env``'s PYTHONPATH, in a process of its own."""
    code = (
        "from app.serve import first_start; from app.settings import Settings; "
        "print(first_start(Settings()))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return found.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def served(
    name: str,
    database_url: str,
    data_dir: Path,
    *,
    workers: int = 1,
    source: Path | None = None,
) -> Iterator[Server]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "JIPIAO_DATABASE_URL": database_url,
        "JIPIAO_DATA_DIR": str(data_dir),
        "JIPIAO_PORT": str(port),
        "JIPIAO_WORKERS": str(workers),
    }
    if source is None:
        token = first_start(Settings(database_url=database_url, data_dir=data_dir, port=port))
    else:  # the other checkout's ``app`` comes first on the path
        env["PYTHONPATH"] = str(source)
        token = _first_start(env)
    assert token is not None
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "jipiao"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        # BENCH_SERVER_LOG=1: the server's log on this terminal (to see why a request failed)
        stderr=None if os.environ.get("BENCH_SERVER_LOG") else subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90  # a loaded machine starts slowly
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


def throwaway_databases(backends: str) -> Iterator[tuple[str, str, Path]]:
    """(backend, database URL, data folder) for each of ``backends`` ("sqlite,postgresql"), each
    removed once the caller moves on; PostgreSQL is skipped (said) when it is not reachable."""
    for backend in backends.split(","):
        if backend not in ("sqlite", "postgresql"):
            raise SystemExit(f"unknown backend {backend!r}")
        folder = Path(tempfile.mkdtemp(prefix="jipiao-bench-"))
        try:
            if backend == "sqlite":
                yield backend, f"sqlite:///{folder / 'bench.sqlite3'}", folder
                continue
            admin = make_url(POSTGRES_URL)
            conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
            try:
                connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
            except psycopg.OperationalError as exc:
                print(f"[postgresql] skipped: not reachable ({exc})")
                continue
            database = f"jipiao_bench_{uuid.uuid4().hex[:10]}"
            with connection:
                connection.execute(f'CREATE DATABASE "{database}"')
            try:
                yield (
                    backend,
                    admin.set(database=database).render_as_string(hide_password=False),
                    folder,
                )
            finally:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            shutil.rmtree(folder, ignore_errors=True)
