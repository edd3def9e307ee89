#!/usr/bin/env python3
"""Benchmark paper entry over HTTP: entries per second from concurrent simulated tablets, on SQLite
and PostgreSQL, each beside GET /api/health of the same server in the same run (goal: entry at
least 35% of health's rate).

    .venv/bin/python scripts/bench/bench_entry.py [--requests 400] [--tablets 10]
                                                  [--backends sqlite,postgresql]
                                                  [--compare COMMIT]

Starts its own server (``jipiao serve``, one uvicorn process) on 127.0.0.1 on a free port, with a
throw-away database (a temp SQLite file; a ``jipiao_bench_<random>`` PostgreSQL database dropped at
the end). The setup goes through the API: a congress, its roster checked in, the O2 officials, an
election with 5 candidates, the first round opened, issued and collected, then one batch per
tablet with blind double entry (tablet i enters pass A of batch i and pass B of batch i+1, as
teller i mod 5 of O2's five: the passes of a batch are different tellers, O3). --requests bounds
the number of entry requests (and of health requests). At the end every batch must be
reconciled. Prints numbers; it is not a test.

Health is measured before and after the entries, and the ratio taken against the mean of the
two (each ratio shown too): one short phase's rate moves by half on a shared machine.

``--compare COMMIT`` also benchmarks the app as of COMMIT (checked out with ``git worktree`` in a
temp folder, served with this virtual environment), before this tree on each backend, and ends
with a table of both side by side.

Beside each rate: the server's CPU time per request (Linux /proc: the server process, its threads
and workers), steadier than the rates on a shared machine. The database server's own CPU is not in
it. ``BENCH_SERVER_LOG=1`` shows the server's log.
"""

import argparse
import asyncio
import contextlib
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchserver import cpu_seconds, served, throwaway_databases  # noqa: E402

from app.papers.keys import load_or_create_qr_key  # noqa: E402
from app.papers.qr import encode_payload  # noqa: E402

CANDIDATES = ["张伟", "王宁", "李娜", "欧阳晓东", "刘洋"]
MARK_CHOICES = ["yes", "no", "abstain", "blank"]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


class Tablet:
    """One tablet: a keep-alive HTTP/1.1 connection, one request at a time.

    A few lines of asyncio instead of an HTTP library: the client shares the machine's cores with
    the server, and a heavy client would cap the trivial endpoint's rate first and flatter the
    ratio. Every response is read whole (Content-Length) and its status counted.
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        self.reader, self.writer, self.head = reader, writer, head

    @classmethod
    async def open(cls, base: str, token: str) -> "Tablet":
        url = urlsplit(base)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        reader, writer = await asyncio.open_connection(host, port)
        return cls(
            reader, writer, f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n".encode()
        )

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        extra = b"" if body is None else b"Content-Type: application/json\r\n"
        length = f"Content-Length: {len(body or b'')}\r\n\r\n".encode()
        self.writer.write(f"{method} {path} HTTP/1.1\r\n".encode() + self.head + extra + length)
        if body:
            self.writer.write(body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        size = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                size = int(value)
        assert size is not None, head  # the server answers these endpoints with a length
        return status, await self.reader.readexactly(size)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def concurrent(
    base: str, tokens: list[str], requests: list[list[tuple[str, str, bytes | None]]]
) -> tuple[float, int]:
    """Tablet i sends requests[i] one after another, all tablets at once over their own keep-alive
    connections; returns (requests per second, failed requests)."""

    async def run() -> tuple[float, int]:
        tablets = [await Tablet.open(base, token) for token in tokens]
        failures = 0

        async def drive(tablet: Tablet, calls: list[tuple[str, str, bytes | None]]) -> None:
            nonlocal failures
            for method, path, body in calls:
                status, _ = await tablet.request(method, path, body)
                failures += status >= 300

        start = time.perf_counter()
        await asyncio.gather(*(drive(t, calls) for t, calls in zip(tablets, requests, strict=True)))
        elapsed = time.perf_counter() - start
        for tablet in tablets:
            await tablet.close()
        return sum(len(calls) for calls in requests) / elapsed, failures

    return asyncio.run(run())


def setup(base: str, token: str, tablets: int, per_batch: int, data_dir: Path) -> dict[str, Any]:
    papers = tablets * per_batch
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    congress = ok(
        admin.post("/api/congresses", json={"name": "bench", "delegates_total": papers}), 201
    )
    cid = congress["id"]
    rows = "姓名,代表团,学号\n" + "".join(f"代表{i},甲,{i:06d}\n" for i in range(papers))
    ok(admin.post(f"/api/congresses/{cid}/roster", files={"file": ("r.csv", rows.encode())}), 201)
    for delegate in ok(admin.get(f"/api/congresses/{cid}/delegates")):
        ok(admin.post(f"/api/congresses/{cid}/delegates/{delegate['id']}/check-in"))
    election = ok(
        admin.post(f"/api/congresses/{cid}/elections", json={"title": "主席团成员", "seats": 3}),
        201,
    )
    eid = election["id"]
    for name in CANDIDATES:
        ok(admin.post(f"/api/elections/{eid}/candidates", json={"name": name}), 201)
    staff = {"chief_scrutineer": 1, "chief_teller": 1, "scrutineer": 2, "teller": 5}
    tellers: list[int] = []
    for role, count in staff.items():
        for n in range(count):
            body = {"name": f"{role}{n}", "role": role}
            official = ok(admin.post(f"/api/congresses/{cid}/officials", json=body), 201)
            if role == "teller":
                tellers.append(official["id"])

    def log_in(code: str) -> str:
        token: str = ok(httpx.post(f"{base}/api/auth/login", json={"code": code}))["token"]
        return token

    def code_of(official_id: int) -> str:
        code: str = ok(admin.post(f"/api/congresses/{cid}/officials/{official_id}/login-code"))[
            "code"
        ]
        return code

    # Logged in before the round opens: once it is open, another teller and a login code for a
    # teller need a presidium member's confirmation (separation of duties, app/setup/duties.py).
    body = {"name": "主席团成员", "role": "presidium"}
    presidium_id = ok(admin.post(f"/api/congresses/{cid}/officials", json=body), 201)["id"]
    presidium_token = log_in(code_of(presidium_id))
    presidium = httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {presidium_token}"}, timeout=60
    )
    sessions = [log_in(code_of(official_id)) for official_id in tellers[:tablets]]
    round_ = ok(admin.post(f"/api/elections/{eid}/rounds"), 201)
    rid = round_["id"]
    ok(admin.post(f"/api/rounds/{rid}/issuance", json={"printed": papers, "issued": papers}))
    ok(admin.post(f"/api/rounds/{rid}/collection", json={"collected": papers}))

    def confirmed(change: dict[str, Any]) -> Any:
        filed = ok(admin.post(f"/api/congresses/{cid}/official-changes", json=change), 201)
        return ok(presidium.post(f"/api/official-changes/{filed['id']}/confirm"))

    while len(tellers) < tablets:  # O2 was checked at opening; the count may use more tablets
        change = {"action": "add", "name": f"teller{len(tellers)}", "role": "teller"}
        tellers.append(confirmed(change)["official"]["id"])
        change = {"action": "login_code", "official_id": tellers[-1]}
        sessions.append(log_in(confirmed(change)["login_code"]["code"]))
    presidium.close()
    batches: list[int] = []
    for i in range(tablets):
        body = {
            "declared_count": per_batch,
            "teller_a_id": tellers[i],
            "teller_b_id": tellers[(i - 1) % tablets],
        }
        batches.append(ok(admin.post(f"/api/rounds/{rid}/batches", json=body), 201)["id"])
    payload = encode_payload(
        key=load_or_create_qr_key(data_dir),
        election_id=eid,
        round_number=1,
        definition_hash=round_["definition_hash"],
    )
    admin.close()
    return {
        "round_id": rid,
        "sessions": sessions,
        "batches": batches,
        "payload": payload,
        "presidium": presidium_token,
    }


def run_backend(
    name: str,
    database_url: str,
    data_dir: Path,
    requests: int,
    tablets: int,
    source: Path | None = None,
) -> dict[str, float]:
    with served(name, database_url, data_dir, source=source) as server:
        base, token = server.base, server.token
        per_batch = max(1, requests // (2 * tablets))
        state = setup(base, token, tablets, per_batch, data_dir)
        rng = random.Random(7)
        # Each batch's papers, entered identically (in another order) by both passes.
        papers = [
            [{name: rng.choice(MARK_CHOICES) for name in CANDIDATES} for _ in range(per_batch)]
            for _ in range(tablets)
        ]
        per_client = 2 * per_batch
        health_calls = [[("GET", "/api/health", None)] * per_client for _ in range(tablets)]
        pid = server.process.pid
        cpu_before = cpu_seconds(pid)
        health, health_fail = concurrent(base, state["sessions"], health_calls)
        cpu_health = cpu_seconds(pid)

        def entry(n: int, i: int) -> tuple[str, str, bytes | None]:
            # Alternate: pass A of batch n, pass B of batch n+1 (whose pass A is tablet n+1).
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
            path = f"/api/batches/{state['batches'][index]}/papers"
            return ("POST", path, json.dumps(body, ensure_ascii=False).encode())

        entry_calls = [[entry(n, i) for i in range(per_client)] for n in range(tablets)]
        entered, entry_fail = concurrent(base, state["sessions"], entry_calls)
        cpu_entry = cpu_seconds(pid)
        # Health again: on this shared machine one short phase's rate can be off by half, and
        # the ratio with it; the ratio is taken against the two phases' mean, both shown.
        health_after, health_after_fail = concurrent(base, state["sessions"], health_calls)
        cpu_after = cpu_seconds(pid)
        health_mean = (health + health_after) / 2
        admin = {"Authorization": f"Bearer {token}"}
        status = ok(httpx.get(f"{base}/api/rounds/{state['round_id']}/count-status", headers=admin))
        total = tablets * per_client
        print(f"[{name}] {tablets} concurrent tablets, {per_client} requests each ({total} total)")

        def cpu(before: float | None, after: float | None, requests: int) -> str:
            if before is None or after is None:
                return ""
            return f"   server CPU {1000 * (after - before) / requests:.2f} ms/req"

        print(
            f"  GET /api/health         {health:8.1f} req/s   failed {health_fail}"
            + cpu(cpu_before, cpu_health, total)  # as many health requests as entries
        )
        print(
            f"  POST paper entry        {entered:8.1f} req/s   failed {entry_fail}   "
            f"ratio {entered / health_mean:.3f} (goal ≥ 0.35; against health before "
            f"{entered / health:.3f}, after {entered / health_after:.3f})"
            + cpu(cpu_health, cpu_entry, total)
        )
        print(
            f"  GET /api/health (again) {health_after:8.1f} req/s   failed {health_after_fail}"
            + cpu(cpu_entry, cpu_after, total)
        )
        print(
            f"  afterwards: {status['batches']} batches, reconciled papers "
            f"{status['papers_reconciled']}/{status['collected']}, ready={status['ready']}"
        )

        def per_request(before: float | None, after: float | None) -> float:
            return (
                float("nan") if before is None or after is None else 1000 * (after - before) / total
            )

        return {
            "health": health_mean,
            "entry": entered,
            "ratio": entered / health_mean,
            "failed": entry_fail,
            "ready": float(status["ready"]),
            "cpu_health": per_request(cpu_before, cpu_health),
            "cpu_entry": per_request(cpu_health, cpu_entry),
        }


@contextlib.contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """``commit`` of this repository in a temp folder (a detached ``git worktree``)."""
    folder = Path(tempfile.mkdtemp(prefix="jipiao-bench-tree-"))
    git = ["git", "-C", str(ROOT)]
    subprocess.run([*git, "worktree", "add", "--detach", str(folder), commit], check=True,
                   capture_output=True)  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(folder)], check=False)


def table(rows: list[tuple[str, str, dict[str, float]]]) -> None:
    print("\nbackend     tree      health/s  entry/s  ratio  failed  ready  CPU ms: health  paper")
    for backend, tree, n in rows:
        print(
            f"{backend:<11} {tree:<8} {n['health']:9.1f} {n['entry']:8.1f} {n['ratio']:6.3f}"
            f" {int(n['failed']):7d} {bool(n['ready'])!s:>6} {n['cpu_health']:14.2f}"
            f" {n['cpu_entry']:6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--tablets", type=int, default=10)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--compare", metavar="COMMIT", help="also the app as of COMMIT")
    args = parser.parse_args()
    requests = max(20, min(args.requests, 5000))
    tablets = max(2, min(args.tablets, 50))
    with contextlib.ExitStack() as stack:
        # This tree is served from its own folder too: edits made while the benchmark runs
        # elsewhere (an editable install points at one checkout) do not leak in.
        trees: list[tuple[str, Path]] = [("this", ROOT)]
        if args.compare:
            old = stack.enter_context(checkout(args.compare))
            trees = [(args.compare[:7], old), ("this", ROOT)]
        rows: list[tuple[str, str, dict[str, float]]] = []
        for backend in args.backends.split(","):
            for tree, source in trees:
                for name, url, folder in throwaway_databases(backend):
                    print(f"--- {tree}")
                    found = run_backend(name, url, folder, requests, tablets, source)
                    rows.append((name, tree, found))
        table(rows)


if __name__ == "__main__":
    main()
