"""Benchmark: `jipiao audit verify` on synthetic valid records of 1,000,000 papers and more.

Builds each record event by event, straight into a temporary folder (congress, round opened,
papers issued and collected, batches of 50 papers entered twice — pass A and pass B — and
reconciled, the decision computed by ``count_round``, two signatures and the certificate, a signed
manifest), then times ``sha256sum`` of the files, the floor of any offline check, and ``jipiao
audit verify`` on them as a command (signature, canonical lines, hash chain, the recount) with its
peak RSS and that of the process it forks, and the CPU time of its main thread, of its other
threads and of the forked process; then deletes the record. Goals (issue 21 item 5): at most
2× the time of ``sha256sum``, and a peak memory under 300 MB whatever the size (1,000,000
papers: 2,040,008 events, 955 MB; 10,000,000 papers: 9.6 GB).
``--reference`` also times ``check_record`` + ``replay_rounds``, the standard-library path.

    flock /tmp/jipiao-bench.lock nice -n 10 .venv/bin/python scripts/bench/bench_verify.py \\
        [--papers N [N ...]] [--keep DIR | --record DIR] [--reference]
"""

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.record import check_record
from app.ledger.chain import HASH_DOMAIN, JsonValue, canonical_json, next_event
from app.ledger.replay import (
    EVENTS_FILE,
    MANIFEST_FILE,
    RECORD_FORMAT,
    StoredEvent,
    compare_passes,
    event_line,
    paper_of,
    replay_rounds,
    signed_message,
)
from app.papers.definition import freeze_round
from app.rules import Attendance, RoundDefinition, count_round, paper_order
from app.rules.roundfile import round_result_json

CANDIDATES = ("丁一", "王宁", "李强", "周敏", "赵磊")
MARKS = ("yes", "no", "abstain", "blank")
BATCH = 50
CONGRESS, ELECTION, ROUND = 1, 1, 1
AT = "2026-11-14T11:05Z"


class Writer:
    """Appends events to ``events.jsonl`` as they are made (nothing kept but the head, the
    count and the file's running SHA-256): a record of 10,000,000 papers is built in little
    memory."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.digest = hashlib.sha256()
        self.head: tuple[int, str] | None = None
        self.count = 0

    def _write(self, line: bytes, height: int, digest: str) -> str:
        self.file.write(line)
        self.digest.update(line)
        self.head = (height, digest)
        self.count += 1
        return digest

    def add(self, type_: str, payload: dict[str, JsonValue], role: str = "admin") -> str:
        event, digest = next_event(
            chain=CONGRESS, head=self.head, type=type_, payload=payload, at=AT, actor_role=role
        )
        return self._write(event_line(StoredEvent(event, digest)), event.height, digest)

    def add_paper(self, payload: bytes) -> str:
        """A ``paper.entered`` event given its payload's canonical JSON, written from a template
        (``add`` per paper made the build the bench's slowest part; ``CROSS_CHECKED`` papers are
        compared with ``add``'s line, and the verification checks every line anyway)."""
        assert self.head is not None
        height, parent = self.head[0] + 1, self.head[1]
        before = b'{"actor_role":"teller","at":"%s","chain":%d' % (AT.encode(), CONGRESS)
        after = b',"height":%d,"parent":"%s","payload":%s,"type":"paper.entered"}' % (
            height,
            parent.encode(),
            payload,
        )
        digest = hashlib.sha256(HASH_DOMAIN + before + after).hexdigest()
        line = before + b',"hash":"' + digest.encode() + b'"' + after + b"\n"
        if self.count < CROSS_CHECKED:
            event, expected = next_event(chain=CONGRESS, head=self.head, type="paper.entered",
                                         payload=json.loads(payload), at=AT,
                                         actor_role="teller")  # fmt: skip
            assert line == event_line(StoredEvent(event, expected)), line
        return self._write(line, height, digest)


CROSS_CHECKED = 10_000  # events


def build(papers: int, seed: int, directory: Path) -> int:
    """The record of ``papers`` papers written to ``directory`` (events and signed manifest);
    its number of events."""
    rng = random.Random(seed)
    with (directory / EVENTS_FILE).open("wb", buffering=1 << 20) as file:
        w = Writer(file)
        delegates = papers + papers // 10
        w.add("congress.created", {"congress_id": CONGRESS, "name": "基准大会",
              "delegates_total": delegates, "starts_on": None, "ends_on": None})  # fmt: skip
        definition = RoundDefinition(seats=3, candidates=CANDIDATES)
        frozen = freeze_round(definition, election_id=ELECTION, round_number=ROUND)
        w.add("round.opened", {"round_id": ROUND, "election_id": ELECTION, "number": ROUND,
              "kind": "regular", "follows_round_id": None, "definition": frozen.document,
              "definition_hash": frozen.hash})  # fmt: skip
        w.add("round.papers_issued", {"round_id": ROUND, "printed": papers, "issued": papers,
              "destroyed": 0, "present": papers})  # fmt: skip
        w.add("round.papers_collected", {"round_id": ROUND, "collected": papers,
              "issued": papers})  # fmt: skip
        weights = (60, 20, 10, 10)
        distinct = [
            canonical_json({
                "marks": rng.choices(MARKS, weights=weights, k=len(CANDIDATES)),
                "void": None,
                "write_ins": [],
            })
            for _ in range(400)
        ]  # fmt: skip
        texts: Counter[bytes] = Counter()
        batch_id = 0
        left = papers
        while left:
            batch_id += 1
            size = min(BATCH, left)
            left -= size
            w.add("batch.created", {"round_id": ROUND, "batch_id": batch_id, "number": batch_id,
                  "declared_count": size, "teller_a_id": 1, "teller_b_id": 2})  # fmt: skip
            chosen = rng.choices(distinct, k=size)
            for entry_pass in ("a", "b"):
                order = chosen if entry_pass == "a" else rng.sample(chosen, size)
                for n, record in enumerate(order):
                    # The payload's canonical JSON: its keys sorted, the record's text as is.
                    tag = entry_pass.encode()
                    payload = b'{"batch_id":%d,"generation":1,"paper_id":"%08x-%s-%04x",' % (
                        batch_id,
                        batch_id,
                        tag,
                        n,
                    )
                    payload += b'"pass":"%s","record":%s,"round_id":%d,"round_number":%d,' % (
                        tag,
                        record,
                        ROUND,
                        ROUND,
                    )
                    w.add_paper(payload + b'"rule":null,"status":"valid"}')
            w.add("batch.reconciled", {"batch_id": batch_id, "generation": 1, "papers": size},
                  role="teller")  # fmt: skip
            texts.update(chosen)
        # The final papers, sorted as the service sorts them (final_record_texts), each distinct
        # paper repeated: no list of one text per paper.
        agreed = Counter({text.decode(): n for text, n in texts.items()})
        assert compare_passes(agreed, agreed).agreed == agreed  # no unclear mark: all final
        distinct_papers = sorted(
            ((paper_of(text), n) for text, n in agreed.items()),
            key=lambda item: paper_order(item[0]),
        )
        attendance = Attendance(delegates_total=delegates, present=papers, issued=papers,
                                collected=papers)  # fmt: skip
        in_order = [paper for paper, n in distinct_papers for _ in range(n)]
        result = round_result_json(count_round(definition, attendance, in_order))
        del in_order
        decided: dict[str, JsonValue] = {"round_id": ROUND, "definition_hash": frozen.hash,
                                         "result": json.loads(json.dumps(result))}  # fmt: skip
        decision = w.add("round.decided", decided, role="chief_scrutineer")
        for official, role in ((3, "chief_scrutineer"), (4, "scrutineer")):
            w.add("round.signed", {"round_id": ROUND, "decision": decision,
                  "official_id": official, "role": role}, role=role)  # fmt: skip
        w.add("round.certified", {"round_id": ROUND, "decision": decision, "signers": [3, 4]},
              role="scrutineer")  # fmt: skip
    assert w.head is not None
    body: dict[str, JsonValue] = {
        "format": RECORD_FORMAT,
        "congress": CONGRESS,
        "election": ELECTION,
        "event_count": w.count,
        "head_height": w.head[0],
        "head_hash": w.head[1],
        "events_sha256": w.digest.hexdigest(),
    }
    key = Ed25519PrivateKey.generate()
    manifest: dict[str, JsonValue] = {
        "body": body,
        "public_key": key.public_key().public_bytes_raw().hex(),
        "signature": key.sign(signed_message(body)).hex(),
    }
    (directory / MANIFEST_FILE).write_bytes(canonical_json(manifest) + b"\n")
    return w.count


# The peak RSS of this process from /proc (getrusage's survives exec: it would count the
# benchmark that forked it, holding the events it built), and the CPU time of its main thread
# (the recount's: the critical path), of its other threads (reading and hashing) and of the
# process it forks (checking lines): under other load, wall time says little about which one
# limits.
VERIFY = """
import os, re, sys
from pathlib import Path
from resource import RUSAGE_CHILDREN, RUSAGE_SELF, getrusage
from app.cli import main
code = main(["audit", "verify", sys.argv[1]])
own = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)
print("peak-rss-kib", own, getrusage(RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
fields = Path(f"/proc/self/task/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
main_thread = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
cpu = [getrusage(who) for who in (RUSAGE_SELF, RUSAGE_CHILDREN)]
process, forked = (used.ru_utime + used.ru_stime for used in cpu)
print("cpu-seconds", main_thread, process - main_thread, forked, file=sys.stderr)
sys.exit(code)
"""


def cpu_seconds() -> float:
    """CPU time (user + system) of the processes this one has run and waited for."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def verify_cli(directory: Path) -> tuple[float, float, str, list[int], list[float]]:
    """`jipiao audit verify DIR` as an auditor runs it: seconds, CPU seconds (both processes),
    output, the peak RSS (KiB) of the command and of the process it forks, and the CPU seconds
    of the command's main thread, of its other threads and of the process it forks."""
    cpu = cpu_seconds()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", VERIFY, str(directory)], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    peaks = next(line for line in done.stderr.splitlines() if line.startswith("peak-rss-kib"))
    used = next(line for line in done.stderr.splitlines() if line.startswith("cpu-seconds"))
    return (
        seconds,
        cpu_seconds() - cpu,
        done.stdout,
        [int(kib) for kib in peaks.split()[1:]],
        [float(value) for value in used.split()[1:]],
    )


def load() -> str:
    """The load averages (1, 5, 15 minutes) and the number of cores: the times depend on them."""
    return f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])} on {os.cpu_count()} cores"


def measure(directory: Path, reference: bool) -> None:
    """Verify the record in ``directory`` as a command and print its time beside sha256sum's
    and its peak memory."""
    size = (directory / EVENTS_FILE).stat().st_size
    print(f"events.jsonl: {size / 1e6:,.0f} MB in {directory}")
    files = [str(directory / EVENTS_FILE), str(directory / MANIFEST_FILE)]
    subprocess.run(["cat", *files], check=True, stdout=subprocess.DEVNULL)  # both read warm
    cpu, t0 = cpu_seconds(), time.perf_counter()
    subprocess.run(["sha256sum", *files], check=True, capture_output=True)
    sha256sum, sha256sum_cpu = time.perf_counter() - t0, cpu_seconds() - cpu
    seconds, verify_cpu, out, (rss, forked), (main_cpu, threads_cpu, forked_cpu) = verify_cli(
        directory
    )
    assert "recount agrees: 1 decision(s) recomputed, 1 certified round(s)" in out, out
    print(f"jipiao audit verify (signature, lines, chain, recount): {seconds:6.2f} s "
          f"({verify_cpu:.2f} s CPU, two processes)")  # fmt: skip
    print(f"  CPU: main thread {main_cpu:.2f} s (recount, pieces checked here), other threads "
          f"{threads_cpu:.2f} s (reading, hashing), forked checker {forked_cpu:.2f} s")  # fmt: skip
    print(f"sha256sum of the same files:                             {sha256sum:6.2f} s "
          f"({sha256sum_cpu:.2f} s CPU)")  # fmt: skip
    print(f"verify / sha256sum: {seconds / sha256sum:.2f}× (goal ≤ 2×); in CPU time "
          f"{verify_cpu / sha256sum_cpu:.2f}×")  # fmt: skip
    print(f"peak RSS: verify {rss * 1024 / 1e6:,.0f} MB, its forked checker "
          f"{forked * 1024 / 1e6:,.0f} MB, both {(rss + forked) * 1024 / 1e6:,.0f} MB "
          "(goal < 300 MB)")  # fmt: skip
    print(next(line for line in out.splitlines() if "elected" in line))
    print(f"load after: {load()}")
    if reference:
        t1 = time.perf_counter()
        checked = check_record(directory)
        assert checked.problem is None, checked.problem
        replay = replay_rounds(checked.events)
        assert replay.problem is None, replay.problem
        print(f"reference path (check_record + replay_rounds, one process): "
              f"{time.perf_counter() - t1:6.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--papers", type=int, nargs="+", default=[1_000_000], help="one record of each size"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the record here and keep it (one size)")
    parser.add_argument("--record", type=Path, help="verify this record (from --keep): no build")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also time the reference path, check_record + replay_rounds (slow: ~2 min at 1M, "
        "and it holds the whole record in memory)",
    )
    args = parser.parse_args()
    if args.keep is not None and len(args.papers) > 1:
        parser.error("--keep takes one --papers size")
    print(f"load: {load()}")
    if args.record is not None:
        print(f"record: {args.record} (given)")
        measure(args.record, args.reference)
        return
    for papers in args.papers:
        directory = args.keep or Path(tempfile.mkdtemp(prefix="jipiao-bench-verify-"))
        directory.mkdir(parents=True, exist_ok=True)
        try:
            started = time.perf_counter()
            events = build(papers, args.seed, directory)
            built = time.perf_counter() - started
            print(f"\nrecord: {papers:,} papers, {events:,} events (built in {built:.0f} s)")
            measure(directory, args.reference)
        finally:
            if args.keep is None:
                shutil.rmtree(directory)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
