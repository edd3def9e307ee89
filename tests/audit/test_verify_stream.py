"""``jipiao audit verify`` streams the record: ``events.jsonl`` is read a piece at a time and
the recount folds reconciled batches into their rounds' counts and keeps them on disk, so its
memory does not grow with the record's size (issue 21 item 5: 1,000,000 papers took about 1 GB).
Measured with tracemalloc, not time: a record four times as large must need only a few kB more."""

import hashlib
import tracemalloc
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import app.audit.verify as fast
import app.ledger.replay as replay
from app.ledger.chain import JsonValue, canonical_json
from app.ledger.replay import (
    EVENTS_FILE,
    MANIFEST_FILE,
    event_line,
    manifest_body,
    signed_message,
)
from tests.builders import election_events


def signed_record(directory: Path, papers: int) -> int:
    """A valid signed record of ``papers`` papers (batches of 50) in ``directory``; its size."""
    events = election_events(papers=papers, seed=3, batch=50)
    data = b"".join(event_line(stored) for stored in events)
    body = manifest_body(congress=7, election=1, events=events,
                         events_sha256=hashlib.sha256(data).hexdigest())  # fmt: skip
    key = Ed25519PrivateKey.generate()
    manifest: dict[str, JsonValue] = {
        "body": body,
        "public_key": key.public_key().public_bytes_raw().hex(),
        "signature": key.sign(signed_message(body)).hex(),
    }
    directory.mkdir()
    (directory / EVENTS_FILE).write_bytes(data)
    (directory / MANIFEST_FILE).write_bytes(canonical_json(manifest) + b"\n")
    return len(data)


def peak_of_verifying(directory: Path) -> int:
    tracemalloc.start()
    try:
        verified = fast.verify_record(directory, processes=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert verified.problem is None
    assert verified.replay is not None
    assert verified.replay.problem is None
    assert verified.replay.decisions_checked == 1
    return peak


def test_verify_memory_does_not_grow_with_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pieces of 16 KiB and 8 batches kept in memory: what 8 MiB pieces and 1,024 batches are to a
    # record of 1,000,000 papers. One piece read ahead: how many the reading thread has read
    # ahead when the peak is taken depends on the threads' timing, and with four pieces of 64 KiB
    # the two peaks differed by -167 to +200 kB from one run to the next (4 runs in 15 failed).
    # Folded batches written to disk 8 at a time: with the 256 rows the writer holds back, every
    # folded batch of these records stayed in memory and the disk was never used.
    monkeypatch.setattr(fast, "PIECE_BYTES", 16 << 10)
    monkeypatch.setattr(fast, "IN_FLIGHT", 1)
    monkeypatch.setattr(replay, "HOT_BATCHES", 8)
    monkeypatch.setattr(replay._Cold, "PENDING", 8)
    small = signed_record(tmp_path / "small", 2_000)
    large = signed_record(tmp_path / "large", 8_000)
    assert large > 3.9 * small > 3_000_000
    peak_of_verifying(tmp_path / "small")  # caches and imports warmed
    small_peak = peak_of_verifying(tmp_path / "small")
    large_peak = peak_of_verifying(tmp_path / "large")
    # Reading the whole file would add at least its extra ~4.5 MB. Measured on the 120 batches
    # more: folded and on disk, 1.2-1.5 kB more; every batch kept in memory, even packed, 40.8 kB
    # more (HOT_BATCHES larger than the record); folded but the rows never written, 29.2 kB.
    assert large_peak - small_peak < 12_000, (small, large, small_peak, large_peak)
    assert large_peak < (large + small) / 2
