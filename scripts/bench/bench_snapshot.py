#!/usr/bin/env python3
"""Benchmark: what one live snapshot costs the server as a round fills up.

    .venv/bin/python scripts/bench/bench_snapshot.py [--papers 500 1000 3000] [--reads 20]
        [--backends sqlite,postgresql]

Every dashboard and projector channel of every app worker reads the election's snapshot again
after each change (``app.live.fanout``: at most one read in flight per channel, coalesced), so
while papers come in, each channel's read cost is CPU spent per entry, and a read that grows with
the papers entered grows with the count. For each size: ``jipiao serve`` on a throw-away database,
a round with that many papers collected, pass A of every batch entered through the API (10
tablets, 5 candidates, random ✓/×/△/blank), then ``--reads`` reads of ``app.live.service.snapshot``
(view ``full``: with the provisional tally, and ``projector``) in this process against the same
database, timed by the processor clock of this thread. Prints milliseconds a read (median, max).
Prints numbers; it is not a test.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_entry import CANDIDATES, MARK_CHOICES, concurrent, setup
from benchserver import served, throwaway_databases
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from app import models
from app.live import service as live_service

TABLETS = 10


def read_cost(engine: Engine, election_id: int, view: live_service.View, reads: int) -> list[float]:
    costs = []
    for _ in range(reads):
        with Session(engine) as session:
            started = time.thread_time()
            live_service.snapshot(session, election_id=election_id, view=view)
            costs.append(1000 * (time.thread_time() - started))
    return costs


def measure(backend: str, database_url: str, data_dir: Path, papers: int, reads: int) -> None:
    per_batch = max(1, papers // TABLETS)
    with served(backend, database_url, data_dir) as server:
        state = setup(server.base, server.token, TABLETS, per_batch, data_dir)
        rng = random.Random(papers)

        def entry(batch: int) -> tuple[str, str, bytes | None]:
            body = {
                "idempotency_key": uuid.uuid4().hex,
                "qr_payload": state["payload"],
                "marks": {name: rng.choice(MARK_CHOICES) for name in CANDIDATES},
                "write_ins": [],
                "void": None,
            }
            path = f"/api/batches/{state['batches'][batch]}/papers"
            return ("POST", path, json.dumps(body, ensure_ascii=False).encode())

        # Tablet n enters pass A of batch n (the batch's teller A): the round half entered, its
        # provisional tally from pass A, as while a count goes on.
        calls = [[entry(n) for _ in range(per_batch)] for n in range(TABLETS)]
        _, failed = concurrent(server.base, state["sessions"], calls)
        if failed:
            raise SystemExit(f"{backend}: {failed} entries refused")
        engine = create_engine(database_url)
        try:
            with Session(engine) as session:
                election_id = session.get_one(models.Round, state["round_id"]).election_id
            for view in ("full", "projector"):
                costs = read_cost(engine, election_id, view, reads)
                print(
                    f"  [{backend}] {TABLETS * per_batch:5d} papers entered, view {view:9s}: "
                    f"{statistics.median(costs):7.1f} ms a read (median of {reads}), max "
                    f"{max(costs):7.1f} ms",
                    flush=True,
                )
        finally:
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, nargs="+", default=[500, 1000, 3000])
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    for papers in options.papers:
        for backend, url, folder in throwaway_databases(options.backends):
            measure(backend, url, folder, max(TABLETS, min(papers, 20000)), options.reads)
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
