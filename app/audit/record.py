"""Exporting the election record and checking it offline.

The format is specified in ``app.ledger.replay``; this module adds what needs a library or the
database: the installation's Ed25519 key (``<data_dir>/secrets/record-signing.key``, created at
the first start while the database holds no round: ``app.keys``) and reading the congress's chain
out of the database.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from app import models
from app.audit.signed import open_record
from app.keys import public_key_hex, signing_key
from app.ledger import store
from app.ledger.chain import JsonValue, canonical_json
from app.ledger.replay import (
    EVENTS_FILE,
    MANIFEST_FILE,
    RecordProblem,
    StoredEvent,
    event_line,
    manifest_body,
    signed_message,
    verify_events,
)


@dataclass(frozen=True, slots=True)
class ExportedRecord:
    directory: Path
    event_count: int
    head_hash: str
    public_key: str


@dataclass(frozen=True, slots=True)
class RecordFiles:
    events: bytes  # events.jsonl
    manifest: bytes  # manifest.json
    event_count: int
    head_hash: str
    public_key: str


def record_files(
    session: Session, *, congress_id: int, election_id: int, data_dir: Path
) -> RecordFiles:
    """The two files of the record of the congress's chain, the manifest signed."""
    rows = store.list_events(session, congress_id=congress_id)
    events = [StoredEvent(store.to_chain_event(row), row.hash) for row in rows]
    data = b"".join(event_line(stored) for stored in events)
    body = manifest_body(
        congress=congress_id,
        election=election_id,
        events=events,
        events_sha256=hashlib.sha256(data).hexdigest(),
    )
    key = signing_key(data_dir)
    manifest: dict[str, JsonValue] = {
        "body": body,
        "public_key": public_key_hex(key),
        "signature": key.sign(signed_message(body)).hex(),
    }
    return RecordFiles(
        data,
        canonical_json(manifest) + b"\n",
        len(events),
        str(body["head_hash"]),
        public_key_hex(key),
    )


def election_record(session: Session, *, election_id: int, data_dir: Path) -> RecordFiles:
    election = session.get(models.Election, election_id)
    if election is None:
        raise LookupError(f"选举 {election_id} 不存在 / election {election_id} does not exist")
    return record_files(
        session, congress_id=election.congress_id, election_id=election_id, data_dir=data_dir
    )


def export_record(
    session: Session, *, election_id: int, data_dir: Path, directory: Path
) -> ExportedRecord:
    """Write the chain of the election's congress and a signed manifest into ``directory``."""
    files = election_record(session, election_id=election_id, data_dir=data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / EVENTS_FILE).write_bytes(files.events)
    (directory / MANIFEST_FILE).write_bytes(files.manifest)
    return ExportedRecord(directory, files.event_count, files.head_hash, files.public_key)


@dataclass(frozen=True, slots=True)
class CheckedRecord:
    events: list[StoredEvent]
    body: dict[str, JsonValue]
    public_key: str
    problem: RecordProblem | None


def check_record(
    directory: Path,
    *,
    expected_public_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CheckedRecord:
    """Check the signature, the manifest and the chain of an exported record.

    ``progress(done, total)`` reports the bytes of ``events.jsonl`` parsed so far.
    """
    signed = open_record(directory, expected_public_key=expected_public_key)
    if isinstance(signed, RecordProblem):
        return CheckedRecord([], {}, "", signed)
    size = len(signed.events_file)
    events, problem = verify_events(
        signed.events_file,
        signed.body,
        None if progress is None else lambda done: progress(done, size),
    )
    return CheckedRecord(events, signed.body, signed.public_key, problem)
