"""Nothing per instance (issue 21 item 4): two ``jipiao serve`` processes on one PostgreSQL
database, crossed — what one instance knows, the other knows.

* wrong login codes split over both instances count against one limit (``app.loginguard``);
* a session opened on one works on the other, and a log-out on the other ends it on the first;
* a dashboard's live stream on one instance shows a change made on the other at once (NOTIFY,
  well before the stream's own re-read every 15 s);
* an instance whose keys differ from the installation's, or that has none, is refused at start;
* replicas starting together migrate once and make one admin token (``startup_lock``).

Each test has a ``jipiao_cluster_<random>`` database of its own, dropped at the end.
"""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx2 as httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from app import cli, models, serve
from app.auth import service as auth_service
from app.keyfiles import write_secret
from app.keys import KeysDiffer, key_paths
from app.main import create_app
from app.settings import Settings
from tests.builders import Api, expect, login_as, make_ready_election
from tests.conftest import POSTGRES_URL, _postgres_reachable

pytestmark = pytest.mark.postgres

JIPIAO = Path(sys.executable).parent / "jipiao"
PER_CLIENT = 4  # failed logins allowed per client within the window (both instances: one count)


@pytest.fixture
def cluster_database() -> Iterator[str]:
    if not _postgres_reachable(POSTGRES_URL):
        pytest.skip("PostgreSQL not reachable")
    admin = make_url(POSTGRES_URL)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"jipiao_cluster_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Instance:
    """``jipiao serve`` as its own process on a free port, its output in ``log``."""

    def __init__(self, database_url: str, data_dir: Path, log: Path) -> None:
        self.port = serve_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._file = log.open("wb")
        env = os.environ | {
            "JIPIAO_DATABASE_URL": database_url,
            "JIPIAO_DATA_DIR": str(data_dir),
            "JIPIAO_PORT": str(self.port),
            "JIPIAO_PUBLIC_URL": "",
            "JIPIAO_WORKERS": "1",
            "JIPIAO_LOGIN_FAILURES_PER_CLIENT": str(PER_CLIENT),
        }
        self.process = subprocess.Popen(
            [str(JIPIAO), "serve"],
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait(self) -> None:
        deadline = time.monotonic() + 90  # a loaded test machine starts a server slowly
        while True:
            try:
                if httpx.get(f"{self.base}/api/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the instance did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._file.close()


def serve_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def instances(database_url: str, *data_dirs: Path) -> Iterator[list[Instance]]:
    started = [Instance(database_url, d, d.parent / f"{d.name}.log") for d in data_dirs]
    try:
        for instance in started:
            instance.wait()
        yield started
    finally:
        for instance in started:
            instance.stop()


def copy_keys(monkeypatch: pytest.MonkeyPatch, source: Path, target: Path, backup: Path) -> None:
    """The documented way to give another instance the installation's keys."""
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(source))
    assert cli.main(["keys", "backup", str(backup)]) == 0
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(target))
    assert cli.main(["keys", "restore", str(backup)]) == 0
    monkeypatch.delenv("JIPIAO_DATA_DIR")


@contextlib.contextmanager
def client(instance: Instance, token: str | None) -> Iterator[Api]:
    with httpx.Client(base_url=instance.base, timeout=30) as http:
        yield Api(cast(TestClient, http), token)


def test_two_instances_on_one_database_are_crossed(
    cluster_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    token = serve.first_start(Settings(database_url=cluster_database, data_dir=first))
    assert token is not None
    copy_keys(monkeypatch, first, second, tmp_path / "keys.json")
    with (
        instances(cluster_database, first, second) as (a, b),
        client(a, token) as on_a,
        client(b, token) as on_b,
    ):
        ready = make_ready_election(on_a)

        # A session opened on A works on B; logged out on B, it ends on A too.
        scrutineer = login_as(on_a, ready.congress.id, "scrutineer", name="跨实例")
        assert scrutineer.token is not None
        me = expect(on_b.as_token(scrutineer.token).get("/api/auth/me"), 200)
        assert me["role"] == "scrutineer"
        expect(on_b.as_token(scrutineer.token).post("/api/auth/logout"), 204)
        expect(on_a.as_token(scrutineer.token).get("/api/auth/me"), 401)

        # A dashboard on B sees a check-in made on A (NOTIFY through the database).
        presidium = login_as(on_a, ready.congress.id, "presidium")
        path = f"/api/elections/{ready.election.id}/live?token={presidium.token}"
        heights: list[tuple[float, int]] = []
        opened = threading.Event()

        def watch() -> None:
            headers = {"Accept": "text/event-stream"}
            with httpx.stream("GET", b.base + path, headers=headers, timeout=30) as stream:
                for line in stream.iter_lines():
                    if line.startswith("id:"):
                        heights.append((time.monotonic(), int(line[3:].strip())))
                        opened.set()
                        if len(heights) > 1:
                            return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        assert opened.wait(30), "the stream on B sent no snapshot"
        stream_opened = heights[0][0]
        late = ready.delegates[-1]
        expect(on_a.post(f"/api/congresses/{ready.congress.id}/delegates/{late.id}/check-in"), 200)
        changed = time.monotonic()
        watcher.join(20)
        assert len(heights) == 2, "the stream on B never showed A's check-in"
        seen_at, height = heights[1]
        assert height > heights[0][1]
        # Woken by A's NOTIFY, not by B's own re-read (15 s after the stream opened).
        assert seen_at - stream_opened < 12
        assert seen_at - changed < 8

        # Wrong login codes, alternating between the instances: one limit for both (last: the
        # limit then refuses this client's correct codes too).
        for n in range(PER_CLIENT):
            guess = (on_a if n % 2 == 0 else on_b).as_token(None)
            wrong = guess.post("/api/auth/login", json={"code": f"WRONG{n:04d}XYZ"})
            assert wrong.status_code in (401, 404, 422), wrong.text
        for instance in (on_a, on_b):
            refused = instance.as_token(None).post("/api/auth/login", json={"code": "WRONGCODE1"})
            assert expect(refused, 429)["code"] == "too_many_login_failures"


def test_an_instance_without_the_installation_keys_is_refused(
    cluster_database: str, tmp_path: Path
) -> None:
    first = Settings(database_url=cluster_database, data_dir=tmp_path / "a")
    assert serve.first_start(first) is not None

    # No keys at all: never made anew once the database knows the installation's.
    empty = Settings(database_url=cluster_database, data_dir=tmp_path / "empty")
    with pytest.raises(SystemExit) as missing:
        serve.first_start(empty)
    assert "records this installation's keys" in str(missing.value.code)
    assert not (empty.data_dir / "secrets").exists()

    # Keys of its own: refused at start (serve) and by the app's own start (each worker).
    other = Settings(database_url=cluster_database, data_dir=tmp_path / "other")
    for path in key_paths(other.data_dir):
        write_secret(path, os.urandom(32))
    with pytest.raises(SystemExit) as differ:
        serve.first_start(other)
    assert "differ from the ones the other instances" in str(differ.value.code)
    assert "jipiao keys restore" in str(differ.value.code)
    with pytest.raises(KeysDiffer), TestClient(create_app(other)):
        pass
    # The first instance still starts.
    assert serve.first_start(first) is None


def test_replicas_starting_together_migrate_once_and_make_one_admin_token(
    cluster_database: str, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"  # docker-compose.yml: one data volume for both replicas
    tokens: list[str | None] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def start() -> None:
        barrier.wait()
        try:
            tokens.append(
                serve.first_start(Settings(database_url=cluster_database, data_dir=shared))
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert tokens.count(None) == 2
    engine = create_engine(cluster_database)
    try:
        with engine.connect() as connection:
            admins = connection.scalar(
                select(func.count())
                .select_from(models.AuthSession)
                .where(auth_service.permanent_admin_token())
            )
            keys = connection.scalar(select(func.count()).select_from(models.InstallationKey))
    finally:
        engine.dispose()
    assert admins == 1
    assert keys == 2
