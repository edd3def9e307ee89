"""The exported election record and its offline verification. Standard library only.

A record is a folder with two files:

* ``events.jsonl`` — every event of the congress's chain, one per line, in height order. A line is
  the canonical JSON (``app.ledger.chain``) of ``{"actor_role", "at", "chain", "hash", "height",
  "parent", "payload", "type"}`` followed by one ``\\n``. Lines must be canonical byte for byte,
  so an edit that still parses (a space, a reordered key, an escaped character) is detected.
* ``manifest.json`` — canonical JSON of ``{"body": {...}, "signature": hex, "public_key": hex}``
  where ``body`` is ``{"format": "jipiao-record-v1", "congress", "election", "event_count",
  "head_height", "head_hash", "events_sha256"}``; ``events_sha256`` is the SHA-256 of the whole
  ``events.jsonl`` file, and the Ed25519 signature is over ``b"jipiao-record-v1\\n"`` followed by
  the canonical JSON of ``body`` (signing and checking it need a library: ``app.audit``).

``verify_events`` checks the chain; ``verify_extension`` checks that a newer record continues an
older one without removing or rewriting anything (the old head is an ancestor of the new head).
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.ledger.chain import (
    CanonicalJsonError,
    Event,
    JsonValue,
    canonical_json,
    verify_chain,
)

RECORD_FORMAT = "jipiao-record-v1"
SIGNATURE_DOMAIN = b"jipiao-record-v1\n"
EVENTS_FILE = "events.jsonl"
MANIFEST_FILE = "manifest.json"
_EVENT_KEYS = frozenset(
    {"actor_role", "at", "chain", "hash", "height", "parent", "payload", "type"}
)


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """The first place where a record differs from what its hashes and signature prove."""

    where: str
    message_en: str
    message_zh: str


class RecordError(ValueError):
    def __init__(self, problem: RecordProblem) -> None:
        super().__init__(f"{problem.where}: {problem.message_en}")
        self.problem = problem


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: Event
    hash: str


def event_line(stored: StoredEvent) -> bytes:
    """One line of ``events.jsonl`` (canonical, with its newline)."""
    event = stored.event
    document: dict[str, JsonValue] = {
        "actor_role": event.actor_role,
        "at": event.at,
        "chain": event.chain,
        "hash": stored.hash,
        "height": event.height,
        "parent": event.parent,
        "payload": event.payload,
        "type": event.type,
    }
    return canonical_json(document) + b"\n"


def _fail(where: str, en: str, zh: str) -> RecordError:
    return RecordError(RecordProblem(where, en, zh))


def parse_event_lines(data: bytes) -> list[StoredEvent]:
    """Parse ``events.jsonl``; raise RecordError naming the first line that is not canonical."""
    if data and not data.endswith(b"\n"):
        raise _fail("events.jsonl", "the file does not end with a newline", "文件未以换行结束")
    events: list[StoredEvent] = []
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        where = f"events.jsonl line {number}"
        try:
            document = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _fail(where, f"not JSON: {exc}", "不是合法的 JSON") from None
        if not isinstance(document, dict) or set(document) != _EVENT_KEYS:
            raise _fail(where, "not an event object", "不是事件记录")
        try:
            stored = StoredEvent(
                Event(
                    chain=document["chain"],
                    height=document["height"],
                    parent=document["parent"],
                    type=document["type"],
                    payload=document["payload"],
                    at=document["at"],
                    actor_role=document["actor_role"],
                ),
                document["hash"],
            )
            canonical = event_line(stored)
        except (CanonicalJsonError, TypeError) as exc:
            raise _fail(where, f"not canonical: {exc}", "不是规范编码") from None
        if canonical != line:
            raise _fail(where, "the line is not in canonical form", "该行不是规范编码")
        if not _well_typed(stored):
            raise _fail(where, "a field has the wrong type", "字段类型错误")
        events.append(stored)
    return events


def _well_typed(stored: StoredEvent) -> bool:
    event = stored.event
    return (
        isinstance(event.chain, int)
        and isinstance(event.height, int)
        and not isinstance(event.height, bool)
        and isinstance(event.parent, str)
        and isinstance(event.type, str)
        and isinstance(event.payload, dict)
        and isinstance(event.at, str)
        and isinstance(event.actor_role, str)
        and isinstance(stored.hash, str)
    )


def manifest_body(
    *, congress: int, election: int | None, events: Sequence[StoredEvent], events_sha256: str
) -> dict[str, JsonValue]:
    head = events[-1] if events else None
    return {
        "format": RECORD_FORMAT,
        "congress": congress,
        "election": election,
        "event_count": len(events),
        "head_height": -1 if head is None else head.event.height,
        "head_hash": "" if head is None else head.hash,
        "events_sha256": events_sha256,
    }


def signed_message(body: dict[str, JsonValue]) -> bytes:
    """The bytes the installation key signs: domain, then the canonical manifest body."""
    return SIGNATURE_DOMAIN + canonical_json(body)


def verify_events(
    events_file: bytes, body: dict[str, JsonValue]
) -> tuple[list[StoredEvent], RecordProblem | None]:
    """Check ``events.jsonl`` against the manifest body and as a hash chain.

    Returns the events and the first problem (None when the record is intact). Edge: dropping
    the last event is caught by the manifest's head and count, not by the chain itself.
    """
    digest = hashlib.sha256(events_file).hexdigest()
    if body.get("format") != RECORD_FORMAT:
        return [], RecordProblem("manifest.json", "unknown record format", "未知的记录格式")
    try:
        events = parse_event_lines(events_file)
    except RecordError as exc:
        return [], exc.problem
    congress = body.get("congress")
    if not isinstance(congress, int):
        return events, RecordProblem("manifest.json", "no congress id", "缺少大会编号")
    problems = verify_chain(congress, ((stored.event, stored.hash) for stored in events))
    if problems:
        first = problems[0]
        return events, RecordProblem(f"event {first.height}", first.message_en, first.message_zh)
    election = body.get("election")
    expected = manifest_body(
        congress=congress,
        election=election if isinstance(election, int) else None,
        events=events,
        events_sha256=digest,
    )
    for key in ("event_count", "head_height", "head_hash", "events_sha256"):
        if body.get(key) != expected[key]:
            return events, RecordProblem(
                "manifest.json",
                f"{key} is {body.get(key)!r} but the events give {expected[key]!r}",
                f"清单中的 {key} 与事件记录不符",
            )
    return events, None


def verify_extension(
    old: Iterable[StoredEvent], new: Sequence[StoredEvent]
) -> RecordProblem | None:
    """The newer record keeps every event of the older one unchanged (old head is an ancestor)."""
    for index, before in enumerate(old):
        if index >= len(new):
            return RecordProblem(
                f"event {before.event.height}",
                "the newer record is shorter: events were removed",
                "新记录更短：有事件被删除",
            )
        if new[index].hash != before.hash:
            return RecordProblem(
                f"event {before.event.height}",
                "the event was rewritten in the newer record",
                "该事件在新记录中被改写",
            )
    return None
