#!/usr/bin/env python3
"""Benchmark the service over HTTP: check-in and event-append throughput on SQLite and PostgreSQL,
each beside GET /api/health of the same server in the same run, and concurrent appends from
several clients with the chain verified afterwards (zero forks expected).

    .venv/bin/python scripts/bench/bench_service.py [--requests 300] [--clients 8]
                                                    [--backends sqlite,postgresql]

Starts its own server (``jipiao serve``, one uvicorn process) on 127.0.0.1 on a free port, with a
throw-away database (a temp SQLite file; a ``jipiao_bench_<random>`` PostgreSQL database dropped at
the end). Request counts are bounded by --requests. Prints numbers; it is not a test.
"""

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchserver import served, throwaway_databases  # noqa: E402


def timed(count: int, call: Callable[[int], httpx.Response]) -> float:
    """Requests per second for ``count`` sequential calls (each must succeed)."""
    start = time.perf_counter()
    for i in range(count):
        response = call(i)
        assert response.status_code < 300, response.text
    return count / (time.perf_counter() - start)


def concurrent(
    clients: int, per_client: int, call: Callable[[httpx.Client, int, int], int]
) -> tuple[float, int]:
    """Requests per second over ``clients`` threads; returns (rate, failed requests)."""
    failures = [0] * clients
    barrier = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        with httpx.Client(base_url=BASE, headers=HEADERS, timeout=60) as client:
            barrier.wait()
            for i in range(per_client):
                if call(client, index, i) >= 300:
                    failures[index] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return clients * per_client / (time.perf_counter() - start), sum(failures)


BASE = ""
HEADERS: dict[str, str] = {}


def run_backend(name: str, database_url: str, data_dir: Path, requests: int, clients: int) -> None:
    global BASE, HEADERS
    with served(name, database_url, data_dir) as server:
        BASE = server.base
        HEADERS = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=BASE, headers=HEADERS, timeout=60) as client:
            delegates = requests + clients
            congress = client.post(
                "/api/congresses", json={"name": "bench", "delegates_total": delegates}
            ).json()
            cid = congress["id"]
            rows = "姓名,代表团,学号\n" + "".join(f"代表{i},甲,{i:06d}\n" for i in range(delegates))
            response = client.post(
                f"/api/congresses/{cid}/roster", files={"file": ("r.csv", rows.encode())}
            )
            assert response.status_code == 201, response.text
            ids = [d["id"] for d in client.get(f"/api/congresses/{cid}/delegates").json()]

            health = timed(requests, lambda _i: client.get("/api/health"))
            check_in = timed(
                requests,
                lambda i: client.post(f"/api/congresses/{cid}/delegates/{ids[i]}/check-in"),
            )
            print(f"[{name}] sequential, {requests} requests each")
            print(f"  GET /api/health        {health:8.1f} req/s")
            print(f"  POST check-in          {check_in:8.1f} req/s   ratio {check_in / health:.3f}")

            per_client = max(1, requests // clients)
            health_c, health_fail = concurrent(
                clients, per_client, lambda c, _n, _i: c.get("/api/health").status_code
            )
            # Each client toggles its own delegate: every request appends one event.
            own = ids[requests : requests + clients]

            def toggle(c: httpx.Client, n: int, i: int) -> int:
                action = "check-in" if i % 2 == 0 else "check-out"
                return c.post(f"/api/congresses/{cid}/delegates/{own[n]}/{action}").status_code

            append_c, append_fail = concurrent(clients, per_client, toggle)
            verify = client.get(f"/api/congresses/{cid}/events/verify").json()
            print(f"[{name}] {clients} concurrent clients, {per_client} requests each")
            print(f"  GET /api/health        {health_c:8.1f} req/s   failed {health_fail}")
            print(
                f"  event append (in/out)  {append_c:8.1f} req/s   failed {append_fail}   "
                f"ratio {append_c / health_c:.3f}"
            )
            forks = len(verify["problems"])
            print(
                f"  chain: {verify['length']} events, verified ok={verify['ok']}, "
                f"problems (forks/gaps) {forks}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    requests = max(1, min(args.requests, 5000))
    for backend, url, folder in throwaway_databases(args.backends):
        run_backend(backend, url, folder, requests, args.clients)


if __name__ == "__main__":
    main()
