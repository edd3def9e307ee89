#!/usr/bin/env python3
"""Benchmark the service as a cluster: several PostgreSQL-backed ``jipiao serve`` instances behind
Caddy, many congresses counted at once, one instance killed (kill -9) mid-count and restarted.

    .venv/bin/python scripts/bench/bench_cluster.py [--instances 3] [--workers 2]
        [--congresses 50] [--tablets 10] [--per-batch 8] [--viewers 200] [--pace 3]
        [--burst 4] [--throughput-congresses 5] [--down 5]

What it does, on 127.0.0.1 (plain http: TLS is Caddy's, the same for every instance count):

1. A throw-away PostgreSQL database (``jipiao_bench_<random>``, dropped at the end) and one data
   folder shared by every instance (as docker-compose.yml shares one volume: the same keys).
2. ``--instances`` instances of ``jipiao serve`` with ``--workers`` uvicorn workers each, every
   one in its own process group, and Debian's ``caddy`` in front (``least_conn``, active health
   checks every second, upstream keep-alive 4 s: under uvicorn's 5 s, else POSTs meet closed
   connections and come back as 502).
3. Through Caddy, the set-up of each congress (``bench_entry.setup``: roster checked in, O2
   officials, an election, the first round issued and collected, one batch per tablet with blind
   double entry: tablet i enters pass A of batch i and pass B of batch i+1) and a presidium login
   for its dashboards.
4. **Entries/s with 1, 2, … instances**: for each count k, a Caddy in front of the first k
   instances, and ``--throughput-congresses`` fresh congresses whose tablets send their papers
   back to back (the server saturated). Server CPU per entry from /proc.
5. **The count**: ``--congresses`` congresses at once, ``--tablets`` tablets each at a teller's
   pace (``--pace`` seconds a paper, ±30 %), with one burst (at a third of the run every tablet
   sends its next ``--burst`` papers back to back, as after a Wi-Fi outage), and ``--viewers``
   dashboards (the live stream, presidium view) spread over the congresses. At 40 % of the run
   one instance (not the first) is killed with SIGKILL (its whole process group), and started
   again ``--down`` seconds later. A tablet resends a paper that got no answer, a 502, 503 or 504
   with the same idempotency key, as the tablet page does; a dashboard whose stream breaks
   reconnects after the stream's ``retry`` with ``Last-Event-ID``.

It prints: papers acknowledged / stored / lost (acknowledged, not in the database) / duplicated
(stored more than once, in the table or as ``paper.entered`` events); entry latency p50/p99 (from
the first send to the answer, resends included); entry-to-screen p99 (from the first send to the
first snapshot holding it, per entry and dashboard); the time for broken streams to resume with
``Last-Event-ID``; every congress's chain verified and every batch reconciled; PostgreSQL's
deadlock count for the database (``pg_stat_database``). ``run(options)`` returns the same as a
``Report`` (tests/test_bench_cluster.py runs a small one). Prints numbers; it is not a test.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import bench_entry  # noqa: E402
from benchserver import POSTGRES_URL, cpu_seconds, free_port, stat_cpu_seconds  # noqa: E402

from app.serve import first_start  # noqa: E402
from app.settings import Settings  # noqa: E402

JIPIAO = Path(sys.executable).parent / "jipiao"
RESEND = {0, 502, 503, 504}  # no answer, or the proxy's / the service's "try again"


# ---------------------------------------------------------------- processes


class Instance:
    """One ``jipiao serve`` (its workers included) in a process group of its own."""

    def __init__(self, index: int, env: dict[str, str], folder: Path) -> None:
        self.index = index
        self.port = free_port()
        self.env = env | {"JIPIAO_PORT": str(self.port)}
        self.log = folder / f"instance-{index}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(JIPIAO), "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{self.port}/api/health").status_code == 200:
                    return
            assert self.process is not None
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"instance {self.index} did not start: see {self.log}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL to the whole group: the uvicorn supervisor and its workers at once."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def cpu(self) -> float:
        assert self.process is not None
        return cpu_seconds(self.process.pid) or 0.0


CADDYFILE = """{{
	admin off
	auto_https off
}}
:{port} {{
	reverse_proxy {upstreams} {{
		lb_policy least_conn
		lb_try_duration 5s
		health_uri /api/health
		health_interval 1s
		health_timeout 2s
		flush_interval -1
		transport http {{
			keepalive 4s
		}}
	}}
}}
"""


class Caddy:
    def __init__(self, instances: list[Instance], folder: Path, name: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = folder / f"Caddyfile.{name}"
        upstreams = " ".join(f"127.0.0.1:{i.port}" for i in instances)
        self.config.write_text(CADDYFILE.format(port=self.port, upstreams=upstreams))
        self.log = folder / f"caddy-{name}.log"
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Caddy":
        caddy = shutil.which("caddy")
        if caddy is None:
            raise SystemExit("caddy is not installed: scripts/install --dev (Debian's caddy)")
        home = {
            "HOME": str(self.folder),
            "XDG_DATA_HOME": str(self.folder / "xdg-data"),
            "XDG_CONFIG_HOME": str(self.folder / "xdg-config"),
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [caddy, "run", "--config", str(self.config), "--adapter", "caddyfile"],
                env=os.environ | home,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/api/health").status_code == 200:
                    return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"caddy did not start: see {self.log}")
            time.sleep(0.2)

    def __exit__(self, *_: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def throwaway_database() -> Iterator[tuple[str, str]]:
    """(URL of a new ``jipiao_bench_<random>`` database, its name); dropped at the end."""
    admin = make_url(POSTGRES_URL)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"jipiao_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False), name
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def conninfo_of(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def deadlocks(url: str, database: str) -> int:
    with psycopg.connect(conninfo_of(url), autocommit=True) as connection:
        row = connection.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
    return int(row[0]) if row else 0


# ---------------------------------------------------------------- congresses


@dataclass
class Paper:
    """One entry request of one tablet (the same body and idempotency key on every resend)."""

    congress: int
    batch_id: int
    entry_pass: str
    key: tuple[int, str]  # (batch number, pass) as the live snapshot shows it
    ordinal: int  # the n-th entry of that pass (a tablet enters its pass in order)
    path: str
    body: bytes
    idempotency_key: str
    first_sent: float = 0.0
    answered: float = 0.0
    status: int = 0
    resends: int = 0


@dataclass
class Congress:
    index: int
    congress_id: int
    election_id: int
    round_id: int
    tokens: list[str]
    viewer_token: str
    plans: list[list[Paper]]


def make_congress(
    base: str, admin_token: str, data_dir: Path, index: int, tablets: int, per_batch: int
) -> Congress:
    state = bench_entry.setup(base, admin_token, tablets, per_batch, data_dir)
    admin = {"Authorization": f"Bearer {admin_token}"}
    round_id = state["round_id"]
    with httpx.Client(base_url=base, headers=admin, timeout=60) as client:
        round_ = bench_entry.ok(client.get(f"/api/rounds/{round_id}"))
        election = bench_entry.ok(client.get(f"/api/elections/{round_['election_id']}"))
        listed = bench_entry.ok(client.get(f"/api/rounds/{round_id}/batches"))
        congress_id = election["congress_id"]
    viewer = state["presidium"]
    number = {b["id"]: b["number"] for b in listed["batches"]}
    rng = random.Random(index)
    marks = [
        [
            {n: rng.choice(bench_entry.MARK_CHOICES) for n in bench_entry.CANDIDATES}
            for _ in range(per_batch)
        ]
        for _ in range(tablets)
    ]
    plans: list[list[Paper]] = []
    for n in range(tablets):
        plan = []
        for i in range(2 * per_batch):
            own = i % 2 == 0  # pass A of its batch, pass B of the next one, alternately
            batch_index = n if own else (n + 1) % tablets
            paper_index = i // 2 if own else per_batch - 1 - i // 2
            key = uuid.uuid4().hex
            body = {
                "idempotency_key": key,
                "qr_payload": state["payload"],
                "marks": marks[batch_index][paper_index],
                "write_ins": [],
                "void": None,
            }
            batch_id = state["batches"][batch_index]
            entry_pass = "a" if own else "b"
            plan.append(
                Paper(
                    index,
                    batch_id,
                    entry_pass,
                    (number[batch_id], entry_pass),
                    i // 2 + 1,
                    f"/api/batches/{batch_id}/papers",
                    json.dumps(body).encode(),
                    key,
                )
            )
        plans.append(plan)
    return Congress(index, congress_id, election["id"], round_id, state["sessions"], viewer, plans)


def make_congresses(
    base: str,
    admin_token: str,
    data_dir: Path,
    count: int,
    first: int,
    tablets: int,
    per_batch: int,
) -> list[Congress]:
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(
            pool.map(
                lambda i: make_congress(base, admin_token, data_dir, i, tablets, per_batch),
                range(first, first + count),
            )
        )


# ---------------------------------------------------------------- the clients


class Connection:
    """A keep-alive HTTP/1.1 connection to Caddy, one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, token: str, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        size, close = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                size = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        await self.reader.readexactly(size)
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def tablet(
    host: str,
    port: int,
    token: str,
    plan: list[Paper],
    pace: float,
    burst: int,
    burst_at: float,
    seed: int,
) -> None:
    """A teller's tablet: a paper every ``pace`` s (±30 %), the next ``burst`` papers back to
    back once ``burst_at`` (monotonic) has passed; every paper resent until it is answered."""
    rng = random.Random(seed)
    connection = Connection(host, port)
    burst_left, burst_done = 0, burst <= 0
    await asyncio.sleep(rng.uniform(0, pace))  # the tellers do not start in step
    for n, paper in enumerate(plan):
        if not burst_done and time.monotonic() >= burst_at:
            burst_left, burst_done = burst, True
        if n and pace and burst_left <= 0:
            await asyncio.sleep(pace * rng.uniform(0.7, 1.3))
        burst_left -= 1
        paper.first_sent = time.monotonic()
        while True:
            try:
                status = await asyncio.wait_for(
                    connection.request(token, paper.path, paper.body), 60
                )
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                connection.close()
                status = 0
            if status not in RESEND:
                break
            paper.resends += 1
            await asyncio.sleep(0.5)
        paper.status, paper.answered = status, time.monotonic()
    connection.close()


Counts = dict[tuple[int, str], int]


@dataclass
class Viewer:
    """A dashboard: the live stream of one congress's election, reconnecting as EventSource
    does (after ``retry`` ms, with ``Last-Event-ID``)."""

    congress: int
    path: str
    seen: list[tuple[float, str]] = field(default_factory=list)
    resumes: list[tuple[float, float]] = field(default_factory=list)  # (to 200, to a snapshot)
    breaks: int = 0
    last_id: str | None = None
    retry_ms: int = 2000


def snapshot_counts(snapshot: dict[str, Any]) -> Counts:
    counts: Counts = {}
    for batch in snapshot["rounds"][-1]["progress"]["batches"]:
        counts[(batch["number"], "a")] = batch["pass_a"]
        counts[(batch["number"], "b")] = batch["pass_b"] or 0
    return counts


async def watch(
    host: str, port: int, viewer: Viewer, counts: dict[tuple[int, str], Counts], stop: asyncio.Event
) -> None:
    broke_at: float | None = None
    while not stop.is_set():
        writer: asyncio.StreamWriter | None = None
        try:
            reader, writer = await asyncio.open_connection(host, port)
            resume = f"Last-Event-ID: {viewer.last_id}\r\n" if viewer.last_id else ""
            writer.write(
                f"GET {viewer.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Accept: text/event-stream\r\n{resume}\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            if int(head[9:12]) != 200:
                raise ConnectionError(head[:12])
            headers_at = time.monotonic()
            buffer = b""
            while not stop.is_set():
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    break  # the stream ended (STREAM_SECONDS): reconnect
                buffer += await reader.readexactly(size)
                await reader.readexactly(2)  # the CRLF after the chunk
                while (end := buffer.find(b"\n\n")) >= 0:
                    block, buffer = buffer[:end], buffer[end + 2 :]
                    now = time.monotonic()
                    event_id = data = None
                    for line in block.split(b"\n"):
                        if line.startswith(b"id: "):
                            event_id = line[4:].decode()
                        elif line.startswith(b"data: "):
                            data = line[6:]
                        elif line.startswith(b"retry: "):
                            viewer.retry_ms = int(line[7:])
                    if event_id is None or data is None:
                        continue  # a keep-alive
                    if (viewer.congress, event_id) not in counts:
                        counts[(viewer.congress, event_id)] = snapshot_counts(json.loads(data))
                    viewer.seen.append((now, event_id))
                    viewer.last_id = event_id
                    if broke_at is not None:
                        viewer.resumes.append((headers_at - broke_at, now - broke_at))
                        broke_at = None
        except (OSError, asyncio.IncompleteReadError, ValueError, ConnectionError):
            pass
        finally:
            if writer is not None:
                writer.close()
        if stop.is_set():
            return
        viewer.breaks += 1
        if broke_at is None:
            broke_at = time.monotonic()
        await asyncio.sleep(viewer.retry_ms / 1000)


# ---------------------------------------------------------------- the report


@dataclass
class Report:
    instances: int
    workers: int
    congresses: int
    tablets: int
    viewers: int
    entries_per_second: dict[int, float] = field(default_factory=dict)
    cpu_ms_per_entry: dict[int, float] = field(default_factory=dict)
    cores_busy: dict[int, dict[str, float]] = field(default_factory=dict)
    count_cores: dict[str, float] = field(default_factory=dict)  # the count, until the kill
    count_rate_before_kill: float = 0.0
    phase_deadlocks: dict[int, int] = field(default_factory=dict)
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    refused: int = 0  # answered 4xx (not resent): should be none
    unanswered: int = 0  # not sent, or no answer, when the count gave up (--timeout)
    resends: int = 0
    entry_p50_ms: float = 0.0
    entry_p99_ms: float = 0.0
    screen_p99_ms: float = 0.0
    screen_never: int = 0
    resume_p50_s: float = 0.0
    resume_max_s: float = 0.0
    resumes: int = 0
    chains_verified: int = 0
    chains_failed: int = 0
    batches_reconciled: int = 0
    batches: int = 0
    deadlocks: int = 0
    count_seconds: float = 0.0
    killed_at_s: float = 0.0
    back_at_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def first_reached(
    seen: list[tuple[float, str]], counts: dict[str, Counts]
) -> dict[Any, list[float]]:
    """Per (batch number, pass): the arrival of the first snapshot holding ≥ n entries, by n−1."""
    reached: dict[Any, list[float]] = {}
    for at, event_id in seen:
        for key, n in counts[event_id].items():
            times = reached.setdefault(key, [])
            while len(times) < n:
                times.append(at)
    return reached


def check_database(url: str, papers: list[Paper], congresses: list[Congress]) -> dict[str, int]:
    """What the database holds of the papers: stored, lost, duplicated (rows or events)."""
    batch_ids = sorted({p.batch_id for p in papers})
    congress_ids = [c.congress_id for c in congresses]
    with psycopg.connect(conninfo_of(url)) as connection:
        rows = connection.execute(
            "SELECT batch_id, entry_pass, idempotency_key FROM paper_entry"
            " WHERE batch_id = ANY(%s)",
            (batch_ids,),
        ).fetchall()
        events = connection.execute(
            "SELECT count(*) FROM event WHERE type = 'paper.entered' AND congress_id = ANY(%s)",
            (congress_ids,),
        ).fetchone()
    keys = [(b, p, k) for b, p, k in rows]
    distinct = set(keys)
    acknowledged = {
        (p.batch_id, p.entry_pass, p.idempotency_key) for p in papers if 200 <= p.status < 300
    }
    return {
        "stored": len(keys),
        "lost": len(acknowledged - distinct),
        "duplicated": (len(keys) - len(distinct))
        + max(0, int(events[0] if events else 0) - len(keys)),
    }


# ---------------------------------------------------------------- the run


def drive(
    host: str,
    port: int,
    congresses: list[Congress],
    *,
    pace: float,
    burst: int,
    burst_after: float,
    viewers: list[Viewer],
    counts: dict[tuple[int, str], Counts],
    during: Any = None,
    timeout: float = 600.0,
) -> float:
    """All tablets of ``congresses`` (and ``viewers``) at once; ``during(started)`` runs beside
    them (the kill). Returns the seconds until the last tablet finished, or until ``timeout``:
    then the tablets give up, and the papers they had not sent or got no answer for keep
    status 0 (``unanswered``)."""

    async def run() -> float:
        stop = asyncio.Event()
        watchers = [asyncio.create_task(watch(host, port, v, counts, stop)) for v in viewers]
        if viewers:  # every dashboard open before the first paper
            deadline = time.monotonic() + 60
            while any(not v.seen for v in viewers) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        started = time.monotonic()
        side = asyncio.create_task(during(started)) if during else None
        tablets = asyncio.gather(
            *(
                tablet(
                    host,
                    port,
                    token,
                    plan,
                    pace,
                    burst,
                    started + burst_after,
                    seed=c.index * 1000 + t,
                )
                for c in congresses
                for t, (token, plan) in enumerate(zip(c.tokens, c.plans, strict=True))
            )
        )
        try:
            await asyncio.wait_for(tablets, timeout)
        except TimeoutError:
            say(f"  gave up after {timeout:.0f} s: the tablets stop")
        elapsed = time.monotonic() - started
        if side is not None:
            await side
        # Until every dashboard shows its congress's last entry (or 30 s).
        final = {c.index: sum(len(plan) for plan in c.plans) for c in congresses}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            behind = [
                v
                for v in viewers
                if not v.seen
                or sum(counts[(v.congress, v.seen[-1][1])].values()) < final[v.congress]
            ]
            if not behind:
                break
            await asyncio.sleep(0.1)
        stop.set()
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        return elapsed

    try:
        import uvloop

        return uvloop.run(run())
    except ImportError:
        return asyncio.run(run())


def run(options: argparse.Namespace) -> Report:
    report = Report(
        options.instances, options.workers, options.congresses, options.tablets, options.viewers
    )
    folder = Path(tempfile.mkdtemp(prefix="jipiao-cluster-"))
    instances: list[Instance] = []
    try:
        with throwaway_database() as (url, database):
            data_dir = folder / "data"  # shared by every instance: the same keys
            token = first_start(Settings(database_url=url, data_dir=data_dir))
            assert token is not None
            env = os.environ | {
                "JIPIAO_DATABASE_URL": url,
                "JIPIAO_DATA_DIR": str(data_dir),
                "JIPIAO_WORKERS": str(options.workers),
                "JIPIAO_PUBLIC_URL": "",
            }
            instances = [Instance(i, env, folder) for i in range(options.instances)]
            for instance in instances:
                instance.start()
            for instance in instances:
                instance.wait()
            with Caddy(instances, folder, "all") as caddy:
                say(
                    f"set-up: {options.congresses} + {options.instances} × "
                    f"{options.throughput_congresses} congresses through Caddy …"
                )
                began = time.monotonic()
                congresses = make_congresses(
                    caddy.base,
                    token,
                    data_dir,
                    options.congresses,
                    0,
                    options.tablets,
                    options.per_batch,
                )
                spare = make_congresses(
                    caddy.base,
                    token,
                    data_dir,
                    options.instances * options.throughput_congresses,
                    options.congresses,
                    options.tablets,
                    options.per_batch,
                )
                say(f"  set up in {time.monotonic() - began:.0f} s")
            throughput(report, instances, folder, spare, options, url, database)
            with Caddy(instances, folder, "count") as caddy:
                count(report, instances, caddy, congresses, options, url, database, token)
    finally:
        for instance in instances:
            instance.stop()
        if os.environ.get("BENCH_KEEP"):
            print(f"(kept {folder})")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return report


def machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of every core since boot, from /proc/stat (iowait counts idle)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - fields[3] - fields[4]) / tick, sum(fields) / tick


def named_cpu(command: str) -> float:
    """CPU seconds of every live process whose command is ``command`` (PostgreSQL's server and
    each connection's backend are processes named ``postgres``, whoever started them)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] == command:
                total += stat_cpu_seconds(text)
    return total


class CpuShares:
    """Who used the cores during a phase, in cores (CPU seconds per second): the instances, the
    PostgreSQL server, Caddy, this load generator, anything else on the machine, and the
    machine's busy cores in all. Where the sum reaches the machine's core count, the cores are
    the limit, and the shares say who spends them."""

    def __init__(self, instances: list["Instance"], caddy: "Caddy") -> None:
        self.instances, self.caddy = instances, caddy
        self.before = self._read()
        self.used: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        times = os.times()
        assert self.caddy.process is not None
        busy, _ = machine_cpu()
        return {
            "app": sum(i.cpu() for i in self.instances),
            "postgres": named_cpu("postgres"),
            "caddy": cpu_seconds(self.caddy.process.pid) or 0.0,
            "bench": times.user + times.system,
            "machine": busy,
            "wall": time.monotonic(),
        }

    def cores(self) -> dict[str, float]:
        after = self._read()
        used = self.used = {name: after[name] - self.before[name] for name in after}
        wall = max(used["wall"], 1e-9)
        shares = {name: value / wall for name, value in used.items() if name != "wall"}
        shares["other"] = max(
            0.0, shares["machine"] - sum(shares[n] for n in ("app", "postgres", "caddy", "bench"))
        )
        return shares


def say(text: str) -> None:
    print(text, flush=True)


def throughput(
    report: Report,
    instances: list[Instance],
    folder: Path,
    spare: list[Congress],
    options: argparse.Namespace,
    url: str,
    database: str,
) -> None:
    per = options.throughput_congresses
    for k in range(1, len(instances) + 1):
        phase = spare[(k - 1) * per : k * per]
        if not phase:
            continue
        with Caddy(instances[:k], folder, f"k{k}") as caddy:
            deadlocks_before = deadlocks(url, database)
            cpu = CpuShares(instances[:k], caddy)
            elapsed = drive(
                "127.0.0.1",
                caddy.port,
                phase,
                pace=0.0,
                burst=0,
                burst_after=0,
                viewers=[],
                counts={},
                timeout=options.timeout,
            )
            shares = report.cores_busy[k] = cpu.cores()
            report.phase_deadlocks[k] = deadlocks(url, database) - deadlocks_before
        papers = [p for c in phase for plan in c.plans for p in plan]
        done = sum(200 <= p.status < 300 for p in papers)
        report.entries_per_second[k] = done / elapsed
        report.cpu_ms_per_entry[k] = 1000 * cpu.used["app"] / max(1, done)
        failed = len(papers) - done
        say(
            f"  entries/s with {k} instance(s) × {options.workers} workers: "
            f"{done / elapsed:7.1f}   ({done} entries, {len(phase)} congresses × "
            f"{options.tablets} tablets back to back, failed {failed}, "
            f"server CPU {report.cpu_ms_per_entry[k]:.2f} ms/entry, PostgreSQL deadlocks "
            f"{report.phase_deadlocks[k]})"
        )
        say(f"    {cores_text(shares)}")


def cores_text(shares: dict[str, float]) -> str:
    return (
        f"cores busy (of {os.cpu_count()}): machine {shares['machine']:.2f} = instances "
        f"{shares['app']:.2f} + PostgreSQL {shares['postgres']:.2f} + Caddy "
        f"{shares['caddy']:.2f} + this load generator {shares['bench']:.2f} + other "
        f"{shares['other']:.2f}"
    )


def count(
    report: Report,
    instances: list[Instance],
    caddy: Caddy,
    congresses: list[Congress],
    options: argparse.Namespace,
    url: str,
    database: str,
    token: str,
) -> None:
    viewers = [
        Viewer(c.index, f"/api/elections/{c.election_id}/live?token={c.viewer_token}")
        for n in range(options.viewers)
        for c in [congresses[n % len(congresses)]]
    ]
    counts: dict[tuple[int, str], Counts] = {}
    per_tablet = 2 * options.per_batch
    expected = per_tablet * options.pace + options.burst
    victim = instances[-1] if len(instances) > 1 else None
    deadlocks_before = deadlocks(url, database)
    moments: dict[str, float] = {}

    async def crash(started: float) -> None:
        if victim is None:
            return
        cpu = CpuShares(instances, caddy)
        await asyncio.sleep(max(1.0, 0.4 * expected))
        report.count_cores = cpu.cores()  # before the kill: a dead instance's CPU is gone
        moments["start"], moments["kill"] = started, time.monotonic()
        report.killed_at_s = moments["kill"] - started
        victim.kill()
        say(f"  killed instance {victim.index} (kill -9) at {report.killed_at_s:.1f} s")
        await asyncio.sleep(options.down)
        victim.start()
        await asyncio.to_thread(victim.wait)
        report.back_at_s = time.monotonic() - started
        say(f"  instance {victim.index} answering again at {report.back_at_s:.1f} s")

    say(
        f"count: {len(congresses)} congresses × {options.tablets} tablets at "
        f"{options.pace:g} s a paper (burst of {options.burst}), {len(viewers)} dashboards …"
    )
    report.count_seconds = drive(
        "127.0.0.1",
        caddy.port,
        congresses,
        pace=options.pace,
        burst=options.burst,
        burst_after=expected / 3,
        viewers=viewers,
        counts=counts,
        during=crash,
        timeout=options.timeout,
    )
    report.deadlocks = deadlocks(url, database) - deadlocks_before
    papers = [p for c in congresses for plan in c.plans for p in plan]
    acknowledged = [p for p in papers if 200 <= p.status < 300]
    report.acknowledged = len(acknowledged)
    report.unanswered = sum(p.status == 0 for p in papers)
    report.refused = len(papers) - len(acknowledged) - report.unanswered
    report.resends = sum(p.resends for p in papers)
    held = check_database(url, papers, congresses)
    report.stored, report.lost, report.duplicated = held["stored"], held["lost"], held["duplicated"]
    if moments:
        report.count_rate_before_kill = sum(p.answered <= moments["kill"] for p in acknowledged) / (
            moments["kill"] - moments["start"]
        )
    latencies = [p.answered - p.first_sent for p in acknowledged]
    report.entry_p50_ms = 1000 * percentile(latencies, 0.5)
    report.entry_p99_ms = 1000 * percentile(latencies, 0.99)

    by_congress: dict[int, list[Paper]] = {}
    for paper in acknowledged:
        by_congress.setdefault(paper.congress, []).append(paper)
    screen: list[float] = []
    for viewer in viewers:
        mine = {i: c for (k, i), c in counts.items() if k == viewer.congress}
        reached = first_reached(viewer.seen, mine)
        for paper in by_congress.get(viewer.congress, []):
            times = reached.get(paper.key, [])
            if len(times) < paper.ordinal:
                report.screen_never += 1
                continue
            screen.append(max(0.0, times[paper.ordinal - 1] - paper.first_sent))
    report.screen_p99_ms = 1000 * percentile(screen, 0.99)
    resumes = [r[1] for v in viewers for r in v.resumes]
    report.resumes = len(resumes)
    report.resume_p50_s = percentile(resumes, 0.5)
    report.resume_max_s = max(resumes, default=0.0)

    admin = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=caddy.base, headers=admin, timeout=120) as client:
        for congress in congresses:
            verified = client.get(f"/api/congresses/{congress.congress_id}/events/verify").json()
            if verified.get("ok") and not verified.get("problems"):
                report.chains_verified += 1
            else:
                report.chains_failed += 1
            status = client.get(f"/api/rounds/{congress.round_id}/count-status").json()
            report.batches += status["batches"]
            report.batches_reconciled += (
                status["batches"] - status["batches_open"] - status["discrepancies_open"]
            )
    print_report(report, options)


def print_report(report: Report, options: argparse.Namespace) -> None:
    say(
        f"[cluster] {report.instances} instances × {report.workers} workers behind Caddy, "
        f"{report.congresses} congresses × {report.tablets} tablets, {report.viewers} dashboards, "
        f"count took {report.count_seconds:.1f} s"
    )
    say(
        f"  papers acknowledged {report.acknowledged}   stored {report.stored}   lost "
        f"{report.lost}   duplicated {report.duplicated}   refused (4xx) {report.refused}   "
        f"unanswered {report.unanswered}   "
        f"resends {report.resends}"
    )
    say(
        f"  entry (first send to answer)  p50 {report.entry_p50_ms:8.1f} ms   p99 "
        f"{report.entry_p99_ms:8.1f} ms"
    )
    say(
        f"  entry-to-screen               p99 {report.screen_p99_ms:8.1f} ms   never seen "
        f"{report.screen_never}"
    )
    say(
        f"  streams resumed with Last-Event-ID: {report.resumes}, p50 {report.resume_p50_s:.2f} s"
        f", max {report.resume_max_s:.2f} s (break to next snapshot, EventSource's retry "
        "included)"
    )
    say(
        f"  chains verified {report.chains_verified}/{report.congresses} (failed "
        f"{report.chains_failed}); batches reconciled {report.batches_reconciled}/"
        f"{report.batches}; PostgreSQL deadlocks {report.deadlocks}"
    )
    if report.count_cores:
        say(
            f"  until the kill: {report.count_rate_before_kill:.1f} entries/s; "
            + cores_text(report.count_cores)
        )
    rates = ", ".join(f"{k}: {v:.1f}" for k, v in report.entries_per_second.items())
    say(f"  entries/s by instances ({options.workers} workers each, back to back): {rates}")


def options_from(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--congresses", type=int, default=50)
    parser.add_argument("--tablets", type=int, default=10)
    parser.add_argument("--per-batch", type=int, default=8, help="papers per batch")
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--pace", type=float, default=3.0, help="seconds a teller takes a paper")
    parser.add_argument("--burst", type=int, default=4)
    parser.add_argument("--throughput-congresses", type=int, default=5)
    parser.add_argument("--down", type=float, default=5.0, help="seconds the killed one is down")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds after which each phase gives up"
    )
    options = parser.parse_args(argv)
    options.instances = max(1, min(options.instances, 6))
    options.workers = max(1, min(options.workers, 4))
    options.congresses = max(1, min(options.congresses, 200))
    options.tablets = max(2, min(options.tablets, 20))
    options.per_batch = max(1, min(options.per_batch, 50))
    options.viewers = max(0, min(options.viewers, 1000))
    options.pace = max(0.0, min(options.pace, 10.0))
    options.burst = max(0, min(options.burst, 2 * options.per_batch))
    options.throughput_congresses = max(0, min(options.throughput_congresses, 50))
    options.down = max(0.0, min(options.down, 60.0))
    options.timeout = max(10.0, min(options.timeout, 3600.0))
    return options


def main() -> None:
    options = options_from()
    load = os.getloadavg()
    say(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    run(options)
    load = os.getloadavg()
    say(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
