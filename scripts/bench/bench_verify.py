"""Benchmark: `jipiao audit verify` on a synthetic valid record of 1,000,000 papers.

Builds the record with ``app.ledger.chain.next_event`` (congress, round opened, papers issued and
collected, batches of 50 papers entered twice — pass A and pass B — and reconciled, the decision
computed by ``count_round``, two signatures and the certificate), writes it with a signed manifest
to a temporary folder, then times ``jipiao audit verify`` on it as a command (signature, canonical
lines, hash chain, the recount) with its peak RSS and that of the process it forks, and, in the
same run, ``sha256sum`` of the same files as the floor of any offline check. Goals (issue 21
item 5): at most 2× the time of ``sha256sum``, and a peak RSS under 300 MB whatever the size
(the record is streamed: 1,000,000 papers, 2,040,008 events, 955 MB).
``--reference`` also times ``check_record`` + ``replay_rounds``, the standard-library path.

    flock /tmp/jipiao-bench.lock .venv/bin/python scripts/bench/bench_verify.py \\
        [--papers N] [--keep DIR | --record DIR] [--reference]
"""

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.record import check_record
from app.ledger.chain import JsonValue, canonical_json, next_event
from app.ledger.replay import (
    EVENTS_FILE,
    MANIFEST_FILE,
    StoredEvent,
    event_line,
    final_record_texts,
    manifest_body,
    paper_of,
    replay_rounds,
    signed_message,
)
from app.papers.definition import freeze_round
from app.rules import Attendance, RoundDefinition, count_round
from app.rules.roundfile import round_result_json

CANDIDATES = ("丁一", "王宁", "李强", "周敏", "赵磊")
MARKS = ("yes", "no", "abstain", "blank")
BATCH = 50
CONGRESS, ELECTION, ROUND = 1, 1, 1
AT = "2026-11-14T11:05Z"


class Writer:
    def __init__(self) -> None:
        self.head: tuple[int, str] | None = None
        self.lines: list[bytes] = []
        self.events: list[StoredEvent] = []

    def add(self, type_: str, payload: dict[str, JsonValue], role: str = "admin") -> str:
        event, digest = next_event(
            chain=CONGRESS, head=self.head, type=type_, payload=payload, at=AT, actor_role=role
        )
        self.head = (event.height, digest)
        stored = StoredEvent(event, digest)
        self.lines.append(event_line(stored))
        self.events.append(stored)
        return digest


def build(papers: int, seed: int) -> Writer:
    rng = random.Random(seed)
    w = Writer()
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
    w.add("round.papers_collected", {"round_id": ROUND, "collected": papers, "issued": papers})
    weights = (60, 20, 10, 10)
    distinct: list[dict[str, JsonValue]] = [
        {
            "marks": rng.choices(MARKS, weights=weights, k=len(CANDIDATES)),
            "void": None,
            "write_ins": [],
        }
        for _ in range(400)
    ]
    texts: list[str] = []
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
                w.add("paper.entered", {"round_id": ROUND, "round_number": ROUND,
                      "batch_id": batch_id, "pass": entry_pass, "generation": 1,
                      "paper_id": f"{batch_id:08x}-{entry_pass}-{n:04x}", "record": record,
                      "status": "valid", "rule": None}, role="teller")  # fmt: skip
        w.add("batch.reconciled", {"batch_id": batch_id, "generation": 1, "papers": size},
              role="teller")  # fmt: skip
        texts.extend(canonical_json(r).decode("utf-8") for r in chosen)
    final = final_record_texts(Counter(texts), Counter(texts), None)
    attendance = Attendance(delegates_total=delegates, present=papers, issued=papers,
                            collected=papers)  # fmt: skip
    result = round_result_json(
        count_round(definition, attendance, sorted(paper_of(t) for t in final))
    )
    decided: dict[str, JsonValue] = {"round_id": ROUND, "definition_hash": frozen.hash,
                                     "result": json.loads(json.dumps(result))}  # fmt: skip
    decision = w.add("round.decided", decided, role="chief_scrutineer")
    for official, role in ((3, "chief_scrutineer"), (4, "scrutineer")):
        w.add("round.signed", {"round_id": ROUND, "decision": decision, "official_id": official,
              "role": role}, role=role)  # fmt: skip
    w.add("round.certified", {"round_id": ROUND, "decision": decision, "signers": [3, 4]},
          role="scrutineer")  # fmt: skip
    return w


def write(w: Writer, directory: Path) -> None:
    data = b"".join(w.lines)
    body = manifest_body(congress=CONGRESS, election=ELECTION, events=w.events,
                         events_sha256=hashlib.sha256(data).hexdigest())  # fmt: skip
    key = Ed25519PrivateKey.generate()
    manifest: dict[str, JsonValue] = {
        "body": body,
        "public_key": key.public_key().public_bytes_raw().hex(),
        "signature": key.sign(signed_message(body)).hex(),
    }
    (directory / EVENTS_FILE).write_bytes(data)
    (directory / MANIFEST_FILE).write_bytes(canonical_json(manifest) + b"\n")


# The peak RSS of this process from /proc (getrusage's survives exec: it would count the
# benchmark that forked it, holding the events it built).
VERIFY = """
import re, sys
from pathlib import Path
from resource import RUSAGE_CHILDREN, getrusage
from app.cli import main
code = main(["audit", "verify", sys.argv[1]])
own = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)
print("peak-rss-kib", own, getrusage(RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def verify_cli(directory: Path) -> tuple[float, str, list[int]]:
    """`jipiao audit verify DIR` as an auditor runs it: seconds, output, and the peak RSS (KiB) of
    the command and of the process it forks (which shares the record's bytes with it)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", VERIFY, str(directory)], capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    peaks = next(line for line in done.stderr.splitlines() if line.startswith("peak-rss-kib"))
    return seconds, done.stdout, [int(kib) for kib in peaks.split()[1:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the record here and keep it")
    parser.add_argument("--record", type=Path, help="verify this record (from --keep): no build")
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also time the reference path, check_record + replay_rounds (slow: ~2 min at 1M)",
    )
    args = parser.parse_args()

    if args.record is not None:
        directory = args.record
        print(f"record: {directory} (given)")
    else:
        started = time.perf_counter()
        w = build(args.papers, args.seed)
        built = time.perf_counter() - started
        directory = args.keep or Path(tempfile.mkdtemp(prefix="jipiao-bench-verify-"))
        directory.mkdir(parents=True, exist_ok=True)
        write(w, directory)
        print(f"record: {args.papers:,} papers, {len(w.events):,} events (built in {built:.1f} s)")
        del w
    size = (directory / EVENTS_FILE).stat().st_size
    print(f"events.jsonl: {size / 1e6:,.0f} MB in {directory}")
    try:
        seconds, out, (rss, forked) = verify_cli(directory)
        t0 = time.perf_counter()
        subprocess.run(["sha256sum", str(directory / EVENTS_FILE), str(directory / MANIFEST_FILE)],
                       check=True, capture_output=True)  # fmt: skip
        sha256sum = time.perf_counter() - t0
        assert "recount agrees: 1 decision(s) recomputed, 1 certified round(s)" in out, out
        print(f"jipiao audit verify (signature, lines, chain, recount): {seconds:6.2f} s")
        print(f"sha256sum of the same files:                             {sha256sum:6.2f} s")
        print(f"verify / sha256sum: {seconds / sha256sum:.2f}× (goal ≤ 2×)")
        print(f"peak RSS: verify {rss / 1024:,.0f} MiB, its forked checker {forked / 1024:,.0f} MiB"
              " (goal < 300 MB each)")  # fmt: skip
        print(next(line for line in out.splitlines() if "elected" in line))
        if args.reference:
            t1 = time.perf_counter()
            checked = check_record(directory)
            assert checked.problem is None, checked.problem
            replay = replay_rounds(checked.events)
            assert replay.problem is None, replay.problem
            print(f"reference path (check_record + replay_rounds, one process): "
                  f"{time.perf_counter() - t1:6.2f} s")  # fmt: skip
    finally:
        if args.keep is None and args.record is None:
            shutil.rmtree(directory)


if __name__ == "__main__":
    main()
