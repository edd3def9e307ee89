#!/usr/bin/env python3
"""Benchmark the live stream: N concurrent SSE subscribers (the dashboard) while 10 simulated
tablets enter papers; entry-to-screen latency p50/p99 and the server's memory.

    .venv/bin/python scripts/bench/bench_live.py [--subscribers 1000] [--tablets 10]
        [--requests 400] [--backends sqlite,postgresql] [--workers 2] [--client-processes 2]
        [--pace SECONDS]

Starts ``jipiao serve`` with a throw-away database and the setup of ``bench_entry.py`` (blind
double entry, one batch per tablet): on SQLite one worker, on PostgreSQL ``--workers`` uvicorn
workers (``JIPIAO_WORKERS``; fan-out through LISTEN/NOTIFY). Logs in a presidium official and
opens ``--subscribers`` streams on ``/api/elections/{id}/live`` (full view: provisional tallies).

The subscribers are raw asyncio HTTP/1.1 connections (chunked SSE parsed by hand, each distinct
snapshot's JSON parsed once per process) spread over ``--client-processes`` processes, so that
the client keeps up and its timestamps are the moment the bytes arrived. Each entry of a batch's
pass is known by its ordinal (one tablet enters one pass of a batch, in order), so a snapshot
holds a given entry when its batch's pass count reaches that ordinal. Latency, per (entry,
subscriber): from the moment the tablet sent the entry request to the first snapshot holding
that entry at that subscriber — it includes the entry request itself; the entry request's own
time and the time from its response to the screen are printed too, to tell the two apart. Per
worker: the subscribers it serves (server side of each connection, from /proc) and their
latency, to show that events reach streams on every worker. Memory: VmRSS of the server
processes before the streams, with the streams open and idle, and after the entries.
Prints numbers; it is not a test.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_entry  # noqa: E402
from benchserver import served, throwaway_databases  # noqa: E402

OPEN_SECONDS = 60.0
Counts = dict[tuple[int, str], int]  # (batch number, "a" | "b") -> papers entered


# ---------------------------------------------------------------- the subscribers' processes


class SseClient(asyncio.Protocol):
    """One dashboard over a raw connection: records (arrival ns, snapshot id) per message."""

    def __init__(self, request: bytes, counts: dict[str, Counts]) -> None:
        self.request = request
        self.counts = counts  # shared by the process: each snapshot id parsed once
        self.raw = bytearray()
        self.body = bytearray()
        self.status: int | None = None
        self.chunk_left = -1  # -1: reading a chunk-size line; -2: the CRLF after a chunk
        self.seen: list[tuple[int, str]] = []
        self.port = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        self.raw += data
        if self.status is None:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.raw[:end]).decode("latin-1")
            del self.raw[: end + 4]
            self.status = int(head.split(" ", 2)[1])
            assert "chunked" in head.lower(), head
        self._dechunk()
        while (end := self.body.find(b"\n\n")) >= 0:
            block = bytes(self.body[:end])
            del self.body[: end + 2]
            self._message(block, now)

    def _dechunk(self) -> None:
        raw = self.raw
        while raw:
            if self.chunk_left == -1:
                end = raw.find(b"\r\n")
                if end < 0:
                    return
                self.chunk_left = int(bytes(raw[:end]).split(b";")[0], 16)
                del raw[: end + 2]
                if self.chunk_left == 0:
                    raw.clear()  # the end of the stream
                    return
            elif self.chunk_left == -2:
                if len(raw) < 2:
                    return
                del raw[:2]
                self.chunk_left = -1
            else:
                take = min(self.chunk_left, len(raw))
                self.body += raw[:take]
                del raw[:take]
                self.chunk_left -= take
                if self.chunk_left == 0:
                    self.chunk_left = -2

    def _message(self, block: bytes, now: int) -> None:
        event_id = data = None
        for line in block.split(b"\n"):
            if line.startswith(b"id: "):
                event_id = line[4:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
        if event_id is None or data is None:
            return  # a keep-alive comment
        if event_id not in self.counts:
            self.counts[event_id] = snapshot_counts(json.loads(data))
        self.seen.append((now, event_id))

    def entries(self) -> int:
        return sum(self.counts[self.seen[-1][1]].values()) if self.seen else 0


def snapshot_counts(snapshot: dict[str, Any]) -> Counts:
    counts: Counts = {}
    for batch in snapshot["rounds"][-1]["progress"]["batches"]:
        counts[(batch["number"], "a")] = batch["pass_a"]
        counts[(batch["number"], "b")] = batch["pass_b"] or 0
    return counts


async def _subscribe(host: str, port: int, path: str, count: int, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n\r\n"
    ).encode()
    counts: dict[str, Counts] = {}
    clients: list[SseClient] = []
    started = time.monotonic()
    for start in range(0, count, 100):  # connect in waves: the listen backlog is finite
        made = await asyncio.gather(
            *(
                loop.create_connection(lambda: SseClient(request, counts), host, port)
                for _ in range(min(100, count - start))
            )
        )
        clients.extend(protocol for _transport, protocol in made)
    while time.monotonic() - started < OPEN_SECONDS and any(
        c.status is None or not c.seen for c in clients
    ):
        await asyncio.sleep(0.05)
    statuses = [c.status for c in clients]
    pipe.send(("opened", time.monotonic() - started, statuses))
    target, timeout = await loop.run_in_executor(None, pipe.recv)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(c.entries() < target for c in clients):
        await asyncio.sleep(0.02)
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    await asyncio.sleep(0.1)
    pipe.send(("done", [(c.port, c.seen) for c in clients], counts))


def subscriber_process(host: str, port: int, path: str, count: int, pipe: Connection) -> None:
    asyncio.run(_subscribe(host, port, path, count, pipe))


# ---------------------------------------------------------------- the server's processes


def server_pids(root: int) -> list[int]:
    """The server process and its descendants (uvicorn's workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def worker_of_client_port(pids: list[int], server_port: int) -> dict[int, int]:
    """Client port -> the server process holding that connection's socket (/proc/net/tcp)."""
    inode_pid: dict[str, int] = {}
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        try:
            for fd in fds.iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inode_pid[target[8:-1]] = pid
        except OSError:
            continue
    found: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.rsplit(":", 1)[1], 16) == server_port and inode in inode_pid:
                found[int(remote.rsplit(":", 1)[1], 16)] = inode_pid[inode]
    return found


# ---------------------------------------------------------------- the run


@dataclass
class Entry:
    key: tuple[int, str]  # (batch number, pass)
    ordinal: int  # the n-th entry of that batch's pass
    sent: int = 0  # monotonic ns
    returned: int = 0
    status: int = 0


@dataclass
class Subscribers:
    processes: list[multiprocessing.process.BaseProcess] = field(default_factory=list)
    pipes: list[Connection] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()


async def enter_papers(
    host: str,
    port: int,
    tokens: list[str],
    plans: list[list[tuple["Entry", str, bytes]]],
    pace: float,
) -> None:
    """The tablets at once, each over its own keep-alive connection, one request at a time,
    ``pace`` seconds apart (0: back to back)."""

    async def tablet(token: str, plan: list[tuple[Entry, str, bytes]]) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        for n, (entry, path, body) in enumerate(plan):
            if pace and n:
                await asyncio.sleep(pace)
            request = (
                f"POST {path} HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            entry.sent = time.monotonic_ns()
            writer.write(request)
            response = await reader.readuntil(b"\r\n\r\n")
            size = next(
                int(line.split(b":", 1)[1])
                for line in response.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(size)
            entry.returned = time.monotonic_ns()
            entry.status = int(response[9:12])
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(tablet(t, p) for t, p in zip(tokens, plans, strict=True)))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spread(values: list[float]) -> str:
    if not values:
        return "no values"
    return (
        f"p50 {1000 * percentile(values, 0.5):7.1f} ms   p99 {1000 * percentile(values, 0.99):7.1f}"
        f" ms   min {1000 * min(values):7.1f} ms   max {1000 * max(values):7.1f} ms"
    )


def first_reached(seen: list[tuple[int, str]], counts: dict[str, Counts]) -> dict[Any, list[int]]:
    """Per (batch, pass): the arrival time of the first snapshot holding ≥ n entries, by n−1."""
    reached: dict[Any, list[int]] = {}
    for at, event_id in seen:
        for key, n in counts[event_id].items():
            times = reached.setdefault(key, [])
            while len(times) < n:
                times.append(at)
    return reached


def run_backend(name: str, database_url: str, data_dir: Path, args: argparse.Namespace) -> None:
    workers = args.workers if name == "postgresql" else 1
    subscribers = Subscribers()
    with served(name, database_url, data_dir, workers=workers) as server:
        base, token = server.base, server.token
        try:
            tablets = args.tablets
            per_batch = max(1, args.requests // (2 * tablets))
            state = bench_entry.setup(base, token, tablets, per_batch, data_dir)
            admin = {"Authorization": f"Bearer {token}"}
            rid = state["round_id"]
            round_ = bench_entry.ok(httpx.get(f"{base}/api/rounds/{rid}", headers=admin))
            election = bench_entry.ok(
                httpx.get(f"{base}/api/elections/{round_['election_id']}", headers=admin)
            )
            listed = bench_entry.ok(httpx.get(f"{base}/api/rounds/{rid}/batches", headers=admin))
            number = {b["id"]: b["number"] for b in listed["batches"]}
            watcher = state["presidium"]
            pids = server_pids(server.process.pid)
            rss_before = rss_mb(pids)

            host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
            path = f"/api/elections/{election['id']}/live?token={watcher}"
            context = multiprocessing.get_context("spawn")
            shares = [
                args.subscribers // args.client_processes
                + (i < args.subscribers % args.client_processes)
                for i in range(args.client_processes)
            ]
            for share in shares:
                if share == 0:
                    continue
                parent, child = context.Pipe()
                process = context.Process(
                    target=subscriber_process, args=(host, port, path, share, child), daemon=True
                )
                process.start()
                subscribers.processes.append(process)
                subscribers.pipes.append(parent)
            opened_in = 0.0
            for pipe in subscribers.pipes:
                if not pipe.poll(OPEN_SECONDS + 30):
                    raise SystemExit(f"[{name}] a subscriber process did not report")
                _, seconds, statuses = pipe.recv()
                bad = [s for s in statuses if s != 200]
                if bad:
                    raise SystemExit(f"[{name}] {len(bad)} streams did not open: {bad[:5]}")
                opened_in = max(opened_in, seconds)
            time.sleep(1)
            pids = server_pids(server.process.pid)
            rss_idle = rss_mb(pids)
            worker_of = worker_of_client_port(pids, port)

            rng = random.Random(7)
            papers = [
                [{n: rng.choice(bench_entry.MARK_CHOICES) for n in bench_entry.CANDIDATES}
                 for _ in range(per_batch)]
                for _ in range(tablets)
            ]  # fmt: skip
            # Tablet n: pass A of batch n, pass B of batch n+1 (as bench_entry sets them up).
            plans: list[list[tuple[Entry, str, bytes]]] = []
            for n in range(tablets):
                plan = []
                for i in range(2 * per_batch):
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
                    batch = state["batches"][index]
                    entry = Entry((number[batch], "a" if own else "b"), i // 2 + 1)
                    plan.append((entry, f"/api/batches/{batch}/papers", json.dumps(body).encode()))
                plans.append(plan)
            started = time.monotonic()
            asyncio.run(enter_papers(host, port, state["sessions"], plans, args.pace))
            elapsed = time.monotonic() - started
            entries = [entry for plan in plans for entry, _, _ in plan]
            failed = sum(e.status >= 300 for e in entries)
            rate = len(entries) / elapsed
            stored = [e for e in entries if e.status < 300]
            for pipe in subscribers.pipes:
                pipe.send((len(stored), 30.0))
            results: list[tuple[int, list[tuple[int, str]]]] = []
            counts: dict[str, Counts] = {}
            for pipe in subscribers.pipes:
                if not pipe.poll(60):
                    raise SystemExit(f"[{name}] a subscriber process did not finish")
                _, seen_by_port, process_counts = pipe.recv()
                results.extend(seen_by_port)
                counts |= process_counts
            rss_after = rss_mb(server_pids(server.process.pid))

            latencies: list[float] = []
            after_response: list[float] = []
            by_worker: dict[int, list[float]] = {}
            streams_of: dict[int, int] = {}
            missing = 0
            for client_port, seen in results:
                reached = first_reached(seen, counts)
                worker = worker_of.get(client_port, 0)
                mine = by_worker.setdefault(worker, [])
                streams_of[worker] = streams_of.get(worker, 0) + 1
                for entry in stored:
                    times = reached.get(entry.key, [])
                    if len(times) < entry.ordinal:
                        missing += 1
                        continue
                    latency = max(0, times[entry.ordinal - 1] - entry.sent) / 1e9
                    latencies.append(latency)
                    mine.append(latency)
                    after_response.append((times[entry.ordinal - 1] - entry.returned) / 1e9)
            request_times = [(e.returned - e.sent) / 1e9 for e in stored]
            messages = statistics.mean(len(seen) for _, seen in results)
            print(
                f"[{name}] {args.subscribers} subscribers over {len(shares)} client processes "
                f"(opened in {opened_in:.1f} s), {tablets} tablets, {len(stored)} entries "
                f"({rate:.1f} entries/s, failed {failed}), server workers {workers}, "
                f"pace {args.pace:g} s"
            )
            print(f"  entry-to-screen (from send)  {spread(latencies)}   never seen {missing}")
            print(f"  entry request itself         {spread(request_times)}")
            print(
                f"  response-to-screen           {spread(after_response)}"
                "   (negative: the stream was faster than the tablet's response)"
            )
            for pid, values in sorted(by_worker.items()):
                label = f"pid {pid}" if pid else "unknown worker"
                print(f"    {label:>14}: {streams_of[pid]:5d} streams   {spread(values)}")
            print(f"  snapshots per subscriber {messages:.1f} (coalesced: ≤ entries + 1)")
            print(
                f"  server RSS ({len(pids)} processes)  before streams {rss_before:6.1f} MB"
                f"   streams idle {rss_idle:6.1f} MB   after entries {rss_after:6.1f} MB"
            )
        finally:
            subscribers.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--tablets", type=int, default=10)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers on PostgreSQL")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="seconds between a tablet's papers (0: back to back, the server saturated; a "
        "teller in the hall takes several seconds per paper)",
    )
    args = parser.parse_args()
    args.pace = max(0.0, min(args.pace, 10.0))
    bounded = (
        max(1, min(args.subscribers, 2000)),
        max(2, min(args.tablets, 50)),
        max(20, min(args.requests, 5000)),
        max(1, min(args.workers, 8)),
        max(1, min(args.client_processes, 8)),
    )
    given = (args.subscribers, args.tablets, args.requests, args.workers, args.client_processes)
    if bounded != given:
        print(f"bounded to subscribers, tablets, requests, workers, client processes = {bounded}")
    (args.subscribers, args.tablets, args.requests, args.workers, args.client_processes) = bounded
    for backend, url, folder in throwaway_databases(args.backends):
        run_backend(backend, url, folder, args)


if __name__ == "__main__":
    main()
