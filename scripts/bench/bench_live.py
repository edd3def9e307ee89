#!/usr/bin/env python3
"""Benchmark the live stream: N concurrent SSE subscribers (the dashboard) while 10 simulated
tablets enter papers; entry-to-screen latency p50/p99 and the server's memory.

    .venv/bin/python scripts/bench/bench_live.py [--subscribers 50] [--tablets 10]
                                                 [--requests 400] [--backends sqlite,postgresql]

Starts ``jipiao serve`` (one uvicorn process) with a throw-away database and the setup of
``bench_entry.py`` (blind double entry, one batch per tablet), logs in a presidium official and
opens ``--subscribers`` streams on ``/api/elections/{id}/live`` (full view: provisional tallies).
Latency: the k-th entry request to return (its transaction committed) against the first moment
each subscriber receives a snapshot holding ≥ k entries (pass A + pass B over all batches) — so
per (entry, subscriber) pair. Memory: VmRSS of the server before the streams, with the streams
open and idle, and after the entries. Prints numbers; it is not a test.
"""

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_entry  # noqa: E402
from benchserver import served  # noqa: E402

POSTGRES_URL = bench_entry.POSTGRES_URL


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Subscriber(threading.Thread):
    """One dashboard: reads snapshots, records (receive time, entries in the snapshot)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.seen: list[tuple[float, int]] = []
        self.opened = threading.Event()
        self.client = httpx.Client(timeout=httpx.Timeout(10, read=120))
        self.response: httpx.Response | None = None

    def run(self) -> None:
        headers = {"Accept": "text/event-stream"}
        try:
            with self.client.stream("GET", self.url, headers=headers) as response:
                self.response = response
                assert response.status_code == 200, response.status_code
                self.opened.set()
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        snapshot = json.loads(line[5:])
                        batches = snapshot["rounds"][-1]["progress"]["batches"]
                        entries = sum(b["pass_a"] + (b["pass_b"] or 0) for b in batches)
                        self.seen.append((time.perf_counter(), entries))
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the main thread

    def close(self) -> None:
        if self.response is not None:
            self.response.close()
        self.client.close()


def presidium_token(base: str, admin_token: str, congress_id: int) -> str:
    admin = {"Authorization": f"Bearer {admin_token}"}
    body = {"name": "主席团成员", "role": "presidium"}
    official = bench_entry.ok(
        httpx.post(f"{base}/api/congresses/{congress_id}/officials", json=body, headers=admin), 201
    )
    path = f"{base}/api/congresses/{congress_id}/officials/{official['id']}/login-code"
    code = bench_entry.ok(httpx.post(path, headers=admin))["code"]
    token: str = bench_entry.ok(httpx.post(f"{base}/api/auth/login", json={"code": code}))["token"]
    return token


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_backend(name: str, database_url: str, data_dir: Path, args: argparse.Namespace) -> None:
    subscribers: list[Subscriber] = []
    with served(name, database_url, data_dir) as server:
        base, token = server.base, server.token
        try:
            tablets = args.tablets
            per_batch = max(1, args.requests // (2 * tablets))
            state = bench_entry.setup(base, token, tablets, per_batch, data_dir)
            admin = {"Authorization": f"Bearer {token}"}
            round_ = bench_entry.ok(
                httpx.get(f"{base}/api/rounds/{state['round_id']}", headers=admin)
            )
            election = bench_entry.ok(
                httpx.get(f"{base}/api/elections/{round_['election_id']}", headers=admin)
            )
            watcher = presidium_token(base, token, election["congress_id"])
            rss_before = rss_mb(server.process.pid)
            url = f"{base}/api/elections/{election['id']}/live?token={watcher}"
            subscribers = [Subscriber(url) for _ in range(args.subscribers)]
            for subscriber in subscribers:
                subscriber.start()
            for subscriber in subscribers:
                assert subscriber.opened.wait(30), "a stream did not open"
            time.sleep(1)
            rss_idle = rss_mb(server.process.pid)

            rng = random.Random(7)
            papers = [
                [{n: rng.choice(bench_entry.MARK_CHOICES) for n in bench_entry.CANDIDATES}
                 for _ in range(per_batch)]
                for _ in range(tablets)
            ]  # fmt: skip
            returned: list[float] = []
            lock = threading.Lock()
            clients = [
                httpx.Client(base_url=base, headers={"Authorization": f"Bearer {s}"}, timeout=60)
                for s in state["sessions"]
            ]

            def enter(c: httpx.Client, n: int, i: int) -> int:
                own = i % 2 == 0
                index = n if own else (n + 1) % tablets
                paper_index = i // 2 if own else per_batch - 1 - i // 2
                body = {
                    "idempotency_key": uuid.uuid4().hex,
                    "qr_payload": state["payload"],
                    "marks": papers[index][paper_index],
                    "write_ins": [],
                    "void": None,
                }
                status = c.post(f"/api/batches/{state['batches'][index]}/papers", json=body)
                with lock:
                    returned.append(time.perf_counter())
                return status.status_code

            try:
                rate, failed = bench_entry.concurrent(clients, 2 * per_batch, enter)
            finally:
                for client in clients:
                    client.close()
            total = len(returned)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(
                s.seen and s.seen[-1][1] >= total for s in subscribers
            ):
                time.sleep(0.1)
            rss_after = rss_mb(server.process.pid)
            returned.sort()
            latencies: list[float] = []
            missing = 0
            for subscriber in subscribers:
                seen = subscriber.seen
                j = 0
                for k, at in enumerate(returned, start=1):
                    while j < len(seen) and seen[j][1] < k:
                        j += 1
                    if j == len(seen):
                        missing += 1
                        continue
                    latencies.append(max(0.0, seen[j][0] - at))
            messages = statistics.mean(len(s.seen) for s in subscribers)
            print(
                f"[{name}] {args.subscribers} subscribers, {tablets} tablets, {total} entries "
                f"({rate:.1f} entries/s, failed {failed})"
            )
            if latencies:
                print(
                    f"  entry-to-screen latency  p50 {1000 * percentile(latencies, 0.5):7.1f} ms   "
                    f"p99 {1000 * percentile(latencies, 0.99):7.1f} ms   "
                    f"max {1000 * max(latencies):7.1f} ms   never seen {missing}"
                )
            print(f"  snapshots per subscriber {messages:.1f} (coalesced: ≤ entries + 1)")
            print(
                f"  server RSS  before streams {rss_before:6.1f} MB"
                f"   streams idle {rss_idle:6.1f} MB   after entries {rss_after:6.1f} MB"
            )
        finally:
            for subscriber in subscribers:  # an open stream would hold up uvicorn's shutdown
                subscriber.close()
            for subscriber in subscribers:
                subscriber.join(timeout=5)
            alive = sum(s.is_alive() for s in subscribers)
            if alive:
                print(f"  ({alive} subscriber threads still reading)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--tablets", type=int, default=10)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    bounded = (
        max(1, min(args.subscribers, 2000)),
        max(2, min(args.tablets, 50)),
        max(20, min(args.requests, 5000)),
    )
    if bounded != (args.subscribers, args.tablets, args.requests):
        print(f"bounded to subscribers, tablets, requests = {bounded}")
    args.subscribers, args.tablets, args.requests = bounded
    for backend in args.backends.split(","):
        folder = Path(tempfile.mkdtemp(prefix="jipiao-bench-live-"))
        try:
            if backend == "sqlite":
                run_backend("sqlite", f"sqlite:///{folder / 'bench.sqlite3'}", folder, args)
            elif backend == "postgresql":
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
                    url = admin.set(database=database).render_as_string(hide_password=False)
                    run_backend("postgresql", url, folder, args)
                finally:
                    with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            else:
                raise SystemExit(f"unknown backend {backend!r}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
