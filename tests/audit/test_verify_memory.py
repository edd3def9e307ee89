"""``jipiao audit verify`` runs in bounded memory whatever the record's size (issue 21 item 5:
reading the record whole took about 1 GB for 1,000,000 papers). Measured as the operating system
sees it — the peak resident memory (``VmHWM``) of a child process that runs the command, and of
the checker it forks — on a record of 60,000 papers (57 MB) against one of 2,000: with pieces of
256 KiB instead of 8 MiB, so that the pieces in flight are to this record what they are to one of
some 2,000,000 papers, and 16 batches kept in memory instead of 1,024 (``HOT_BATCHES``), so that
the recount folds most of its 1,200 batches into SQLite as it would those of a large record, the
larger record may cost only a small fraction of its extra bytes."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from app.ledger.replay import EVENTS_FILE

ROOT = Path(__file__).resolve().parents[2]

# Runs the command with small pieces; prints the peak RSS (KiB) of this process and of the
# checker it forked (getrusage of the children: the fork, not an exec, so it is the checker's).
VERIFY = """
import re, sys
from pathlib import Path
from resource import RUSAGE_CHILDREN, getrusage
import app.audit.verify as fast
import app.ledger.replay as replay
fast.PIECE_BYTES, fast.PARALLEL_BYTES = 256 << 10, 1 << 20
replay.HOT_BATCHES = 16
from app.cli import main
code = main(["audit", "verify", sys.argv[1]])
own = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)
print("peak-rss-kib", own, getrusage(RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def bench() -> ModuleType:
    """scripts/bench/bench_verify.py, whose ``build`` writes a record as it makes it."""
    spec = importlib.util.spec_from_file_location(
        "bench_verify", ROOT / "scripts/bench/bench_verify.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peaks_of_verifying(directory: Path) -> tuple[int, int]:
    """The peak RSS in bytes of ``jipiao audit verify DIR`` and of the checker it forks."""
    done = subprocess.run(
        [sys.executable, "-c", VERIFY, str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "recount agrees: 1 decision(s) recomputed, 1 certified round(s)" in done.stdout
    found = re.search(r"peak-rss-kib (\d+) (\d+)", done.stdout)
    assert found is not None, done.stdout
    own, forked = int(found[1]) * 1024, int(found[2]) * 1024
    assert forked > 0  # the record was checked on two processes
    return own, forked


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and fork: Linux")
def test_verify_needs_little_more_memory_for_a_much_larger_record(tmp_path: Path) -> None:
    build = bench().build
    sizes = {}
    for name, papers in (("small", 2_000), ("large", 60_000)):
        (tmp_path / name).mkdir()
        build(papers, 7, tmp_path / name)
        sizes[name] = (tmp_path / name / EVENTS_FILE).stat().st_size
    extra = sizes["large"] - sizes["small"]
    assert extra > 50_000_000
    small, small_forked = peaks_of_verifying(tmp_path / "small")
    large, large_forked = peaks_of_verifying(tmp_path / "large")
    # The pieces in flight are a few MB whatever the size, and so is SQLite's cache of the folded
    # batches. Reading the record whole would add at least its 55 MB, parsing it into events ten
    # times as much; keeping every batch in memory, about 400 bytes each, 0.5 MB
    # (test_replay_folded measures that part alone).
    assert large - small < extra / 10, (sizes, small, large)
    assert large_forked - small_forked < extra / 10, (sizes, small_forked, large_forked)
