"""A small run of the cluster bench (scripts/bench/bench_cluster.py): two instances behind Caddy
on a throw-away PostgreSQL database, one of them killed with kill -9 mid-count and restarted;
every acknowledged paper stored once, every chain verified, every batch reconciled, every
dashboard shown every entry."""

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, _postgres_reachable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts" / "bench"))

import bench_cluster

pytestmark = pytest.mark.postgres


def test_a_small_cluster_loses_and_duplicates_nothing_through_a_crash() -> None:
    if not _postgres_reachable(POSTGRES_URL):
        pytest.skip("PostgreSQL not reachable")
    options = bench_cluster.options_from(
        ["--instances", "2", "--workers", "1", "--congresses", "2", "--tablets", "3",
         "--per-batch", "3", "--viewers", "4", "--pace", "0.3", "--burst", "2",
         "--throughput-congresses", "1", "--down", "1"]
    )  # fmt: skip
    # On a thread of its own, like tests/builders.py::run_coroutine: the bench drives its tablets
    # with asyncio.run, which a worker that has started Playwright refuses on its main thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        report = pool.submit(bench_cluster.run, options).result()
    papers = options.congresses * options.tablets * 2 * options.per_batch
    assert report.killed_at_s > 0
    assert report.back_at_s > report.killed_at_s
    assert report.acknowledged == papers
    assert report.refused == 0
    assert report.unanswered == 0
    assert report.stored == papers
    assert (report.lost, report.duplicated) == (0, 0)
    assert report.chains_verified == options.congresses
    assert report.chains_failed == 0
    assert report.batches == report.batches_reconciled == options.congresses * options.tablets
    assert report.screen_never == 0
    assert set(report.entries_per_second) == {1, 2}
    assert all(rate > 0 for rate in report.entries_per_second.values())
    # Who spent the cores: every part is reported for each phase (one this small lasts a few
    # clock ticks, too few to compare the parts), and PostgreSQL's processes are found by name.
    assert set(report.cores_busy) == {1, 2}
    for shares in report.cores_busy.values():
        assert set(shares) == {"app", "postgres", "caddy", "bench", "machine", "other"}
    assert set(report.count_cores) == set(report.cores_busy[1])
    assert report.count_rate_before_kill > 0
    assert bench_cluster.named_cpu("postgres") > 0
