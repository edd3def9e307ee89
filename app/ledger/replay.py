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

import gc
import hashlib
import json
import sqlite3
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, TypeVar, cast

from app.ledger.chain import (
    GENESIS_PARENT,
    HASH_DOMAIN,
    MAX_SAFE_INTEGER,
    CanonicalJsonError,
    Event,
    JsonValue,
    canonical_json,
    verify_chain,
)
from app.rules import (
    Attendance,
    Copies,
    PaperRecord,
    RoundDefinition,
    count_round,
    paper_order,
    parse_profile,
)
from app.rules.model import UNCLEAR, Mark, RoundInputError
from app.rules.roundfile import round_result_json

RECORD_FORMAT = "jipiao-record-v1"
SIGNATURE_DOMAIN = b"jipiao-record-v1\n"
EVENTS_FILE = "events.jsonl"
MANIFEST_FILE = "manifest.json"
EVENT_KEYS = frozenset({"actor_role", "at", "chain", "hash", "height", "parent", "payload", "type"})


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


def parse_event_lines(
    data: bytes, progress: Callable[[int], None] | None = None
) -> list[StoredEvent]:
    """Parse ``events.jsonl``; raise RecordError naming the first line that is not canonical.

    ``progress`` is called with the bytes parsed so far every 65,536 lines.
    """
    return _parse(data, progress)[0]


def _reject_float(text: str) -> int:
    raise ValueError(f"{text} is not an integer")


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise ValueError("integer outside ±(2**53 - 1)")
    return value


_fast_decoder = json.JSONDecoder(
    parse_float=_reject_float, parse_int=_safe_int, parse_constant=_reject_float
)
_fast_encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _parse(
    data: bytes, progress: Callable[[int], None] | None
) -> tuple[list[StoredEvent], list[str]]:
    """The events and the hash each one's content gives (``event_hash``).

    Fast path: a line the strict decoder reads (no float, NaN or unsafe integer) and that the
    canonical encoder writes back byte for byte is canonical (``canonical_json``'s checks cannot
    fail on it: keys are strings, and a lone surrogate fails the UTF-8 encoding). Any other line
    goes to the reference check, which names what is wrong: both write with the same encoder, so
    it accepts no line the fast path refuses.
    """
    if data and not data.endswith(b"\n"):
        raise _fail("events.jsonl", "the file does not end with a newline", "文件未以换行结束")
    events: list[StoredEvent] = []
    hashes: list[str] = []
    done = 0
    sha256 = hashlib.sha256
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        done += len(line)
        if progress is not None and number & 0xFFFF == 0:
            progress(done)
        stored: StoredEvent | None = None
        try:
            document = _fast_decoder.decode(line.decode("utf-8"))
            if (
                type(document) is dict
                and document.keys() == EVENT_KEYS
                and (_fast_encoder.encode(document) + "\n").encode("utf-8") == line
            ):
                stored = _stored(document)
        except (UnicodeError, ValueError, RecursionError):
            pass
        if stored is None or not _well_typed(stored):
            stored = parse_event_line(line, number)
        # The line is canonical. The hashed object is the line without its "hash" member. Keys are
        # sorted and only "actor_role", "at" (strings, where every '"' is escaped) and "chain" (an
        # integer) come before it, so its first occurrence is the member itself.
        member = b',"hash":' + _fast_encoder.encode(stored.hash).encode("utf-8")
        cut = line.find(member)
        hashes.append(sha256(HASH_DOMAIN + line[:cut] + line[cut + len(member) : -1]).hexdigest())
        events.append(stored)
    return events, hashes


def _stored(document: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
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


def parse_event_line(line: bytes, number: int) -> StoredEvent:
    """Line ``number`` of ``events.jsonl`` (with its newline) if it is a canonical event; else
    RecordError naming what is wrong. The reference check, one line at a time."""
    where = f"events.jsonl line {number}"
    try:
        document = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(where, f"not JSON: {exc}", "不是合法的 JSON") from None
    except RecursionError:  # "[" a hundred thousand times: no event nests that deep
        raise _fail(where, "nested too deeply", "嵌套层数过多，不是事件记录") from None
    if not isinstance(document, dict) or set(document) != EVENT_KEYS:
        raise _fail(where, "not an event object", "不是事件记录")
    try:
        stored = _stored(document)
        canonical = event_line(stored)
    except (CanonicalJsonError, TypeError) as exc:
        raise _fail(where, f"not canonical: {exc}", "不是规范编码") from None
    if canonical != line:
        raise _fail(where, "the line is not in canonical form", "该行不是规范编码")
    if not _well_typed(stored):
        raise _fail(where, "a field has the wrong type", "字段类型错误")
    return stored


def _well_typed(stored: StoredEvent) -> bool:
    event = stored.event
    return (
        isinstance(event.chain, int)
        and not isinstance(event.chain, bool)  # "chain":true is not congress 1
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
    events_file: bytes,
    body: dict[str, JsonValue],
    progress: Callable[[int], None] | None = None,
) -> tuple[list[StoredEvent], RecordProblem | None]:
    """Check ``events.jsonl`` against the manifest body and as a hash chain.

    Returns the events and the first problem (None when the record is intact). Edge: dropping
    the last event is caught by the manifest's head and count, not by the chain itself.
    """
    digest = hashlib.sha256(events_file).hexdigest()
    if body.get("format") != RECORD_FORMAT:
        return [], RecordProblem("manifest.json", "unknown record format", "未知的记录格式")
    try:
        with gc_paused():
            events, hashes = _parse(events_file, progress)
    except RecordError as exc:
        return [], exc.problem
    congress = body.get("congress")
    if not isinstance(congress, int):
        return events, RecordProblem("manifest.json", "no congress id", "缺少大会编号")
    problems = (
        []  # the quick check finds nothing; else the reference names the first problem
        if _chain_holds(congress, events, hashes)
        else verify_chain(congress, ((stored.event, stored.hash) for stored in events))
    )
    if problems:
        first = problems[0]
        return events, RecordProblem(f"event {first.height}", first.message_en, first.message_zh)
    head = (events[-1].event.height, events[-1].hash) if events else None
    return events, manifest_problem(body, len(events), head, digest)


def manifest_problem(
    body: Mapping[str, JsonValue], count: int, head: tuple[int, str] | None, digest: str
) -> RecordProblem | None:
    """The manifest's figures against the events': their number, the last one's height and
    stored hash (None: no event) and the SHA-256 of ``events.jsonl``."""
    expected: dict[str, JsonValue] = {
        "event_count": count,
        "head_height": -1 if head is None else head[0],
        "head_hash": "" if head is None else head[1],
        "events_sha256": digest,
    }
    for key, value in expected.items():
        if body.get(key) != value:
            return RecordProblem(
                "manifest.json",
                f"{key} is {body.get(key)!r} but the events give {value!r}",
                f"清单中的 {key} 与事件记录不符",
            )
    return None


def _chain_holds(congress: int, events: Sequence[StoredEvent], hashes: Sequence[str]) -> bool:
    """``verify_chain`` finds nothing, given each event's computed hash (from ``_parse``)."""
    parent = GENESIS_PARENT
    for height, (stored, computed) in enumerate(zip(events, hashes, strict=True)):
        event = stored.event
        if (
            event.chain != congress
            or event.height != height
            or event.parent != parent
            or stored.hash != computed
        ):
            return False
        parent = stored.hash
    return True


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


# ---------------------------------------------------------------- the final records of a batch
#
# Shared with ``app.counting.reconciliation`` so that the count and its replay cannot disagree.
# A record is the canonical JSON text of ``{"marks", "void", "write_ins"}`` (``paper.entered``'s
# ``record``); an entered mark may be ``"unclear"`` (P6).

_T = TypeVar("_T")


@lru_cache(maxsize=1 << 16)  # a record text repeats on many papers, batch after batch
def record_is_unclear(text: str) -> bool:
    marks = json.loads(text)["marks"]
    return isinstance(marks, list) and UNCLEAR in marks


@dataclass(frozen=True, slots=True)
class PassComparison:
    """Pass A against pass B: agreed clear records, and what a scrutineer must decide."""

    agreed: Counter[str]
    only_in_pass_a: Counter[str]
    only_in_pass_b: Counter[str]
    unclear: Counter[str]


def compare_passes(pass_a: Counter[str], pass_b: Counter[str] | None) -> PassComparison:
    """The multiset comparison of the passes (``pass_b`` None: single entry, pass A is agreed).

    Agreed records with an unclear mark are not final: they wait for a scrutineer (P6).
    """
    # The shortcuts give what the multiset operators give, without their loops in Python: passes
    # that agree, with no unclear record, are the usual case (and all counts are positive).
    only_a: Counter[str]
    only_b: Counter[str]
    if pass_b is None:
        agreed, only_a, only_b = Counter(pass_a), Counter(), Counter()
        positive = min(agreed.values(), default=1) > 0
    elif pass_a.items() == pass_b.items() and min(pass_a.values(), default=1) > 0:
        agreed, only_a, only_b = Counter(pass_a), Counter(), Counter()
        positive = True
    else:
        agreed, only_a, only_b = pass_a & pass_b, pass_a - pass_b, pass_b - pass_a
        positive = True  # "&" keeps the positive counts only
    unclear: Counter[str] = Counter()
    if any(map(record_is_unclear, agreed)):
        unclear = Counter({text: n for text, n in agreed.items() if record_is_unclear(text)})
    if unclear or not positive:
        agreed = agreed - unclear
    return PassComparison(agreed, only_a, only_b, unclear)


def final_record_texts(
    pass_a: Counter[str], pass_b: Counter[str] | None, resolution: Sequence[str] | None
) -> list[str]:
    """The final records of a reconciled batch generation, sorted: the agreed clear records plus
    the scrutineer's resolution (which replaces every disputed or unclear record)."""
    return sorted(_final_records(pass_a, pass_b, resolution))


def _final_records(
    pass_a: Counter[str], pass_b: Counter[str] | None, resolution: Sequence[str] | None
) -> list[str]:
    """``final_record_texts`` in no particular order."""
    agreed = compare_passes(pass_a, pass_b).agreed
    return list(agreed.elements()) + list(resolution or ())


def paper_of(text: str) -> PaperRecord:
    data = json.loads(text)
    return PaperRecord(
        marks=cast(tuple[Mark, ...], tuple(data["marks"])),
        write_ins=tuple(data["write_ins"]),
        void=data["void"],
    )


# ---------------------------------------------------------------- replaying the rounds


def definition_of(
    document: Mapping[str, Any], ineligible: frozenset[str] = frozenset()
) -> RoundDefinition:
    """The engine's definition from a round's frozen definition document (``round.opened``) and
    the names the presidium ruled ineligible (``round.ineligible_ruled``, P7)."""
    return RoundDefinition(
        seats=document["seats"],
        candidates=tuple(document["candidates"]),
        kind=document["kind"],
        profile=parse_profile(document["profile"]),
        ineligible=ineligible,
    )


class _Numbering(Generic[_T]):
    """The distinct values met so far (record texts, or (generation, pass) pairs), each given a
    number once: a reconciled batch keeps its passes as numbers (``_Batch.pack``)."""

    __slots__ = ("numbers", "values")

    def __init__(self) -> None:
        self.numbers: dict[_T, int] = {}
        self.values: list[_T] = []

    def number(self, value: _T) -> int:
        found = self.numbers.get(value)
        if found is None:
            found = self.numbers[value] = len(self.values)
            self.values.append(value)
        return found


_Pass = tuple[Any, Any]  # (generation, pass) as the events give them


def _packed_array(values: list[int]) -> "array[int]":
    """``values`` (not negative) in the array of the smallest items that holds them."""
    largest = max(values, default=0)
    return array("H" if largest < 1 << 16 else "I" if largest < 1 << 32 else "Q", values)


@dataclass(slots=True)
class _Batch:
    """A batch's passes, its current generation, whether that generation is reconciled and the
    scrutineer's resolutions, from its events.

    A record of millions of papers is replayed in little memory: once reconciled, the batch
    keeps its passes packed in one array of numbers, about two bytes per paper (``pack``); a
    pass is unpacked into a Counter again only when an event adds to it. Beyond ``HOT_BATCHES``
    batches, a reconciled one whose passes agree is folded to disk (``RoundReplay._fold``)."""

    double_entry: bool
    generation: Any = 1
    reconciled: bool = False
    # The records of each (generation, pass) being entered, by text, and of those packed: per
    # pass the number of its (generation, pass), then 0 if it holds the records of the pass
    # before it, else 1 + how many records it holds and their numbers, sorted. A pass is in one
    # of the two or in neither.
    entering: dict[_Pass, Counter[str]] | None = None
    packed: "array[int] | None" = None
    resolution: dict[Any, list[str]] | None = None

    def counter(
        self, key: _Pass, passes: _Numbering[_Pass], texts: _Numbering[str]
    ) -> Counter[str]:
        """The records of one generation and pass, to add to."""
        if self.entering is None:
            self.entering = {}
        found = self.entering.get(key)
        if found is None:
            found = self.entering[key] = self._unpacked(key, passes, texts, take=True)
        return found

    def pack(self, passes: _Numbering[_Pass], texts: _Numbering[str]) -> None:
        """The passes being entered into ``packed``: two passes that agree, as those of a
        reconciled batch mostly do, stored once."""
        if not self.entering:
            return
        values = [] if self.packed is None else self.packed.tolist()
        previous: Counter[str] | None = None
        numbered = texts.numbers.get
        for key, found in self.entering.items():
            values.append(passes.number(key))
            # Counts are positive: the items compare equal, in C, when the records do.
            if previous is not None and found.items() == previous.items():
                values.append(0)
                continue
            # Looked up without a call per paper (a million papers are packed once each).
            known = list(map(numbered, found.elements()))
            if None in known:  # a text met for the first time: numbered in the order met
                records = sorted(map(texts.number, found.elements()))
            else:
                records = sorted(cast(list[int], known))
            values.append(1 + len(records))
            values += records
            previous = found
        self.entering = None
        self.packed = _packed_array(values)

    def _unpacked(
        self, wanted: _Pass, passes: _Numbering[_Pass], texts: _Numbering[str], take: bool = False
    ) -> Counter[str]:
        """The records of the packed pass ``wanted`` (none if it is not packed); ``take``: and
        take it out of ``packed``, for it is about to be added to."""
        packed = self.packed
        place = None if packed is None else self._place(packed, passes.numbers.get(wanted))
        if packed is None or place is None:
            return Counter()
        at, start, end, following = place
        found = Counter(map(texts.values.__getitem__, packed[start:end]))
        if take:
            rest = packed[following:]
            if packed[at + 1] and len(rest) > 1 and rest[1] == 0:
                rest[1:2] = packed[at + 1 : end]  # the next pass shared its records
            del packed[at:]
            packed.extend(rest)
        return found

    def final(self, passes: _Numbering[_Pass], texts: _Numbering[str]) -> list[str]:
        """``final_record_texts`` of the batch, in no particular order."""
        if not self.reconciled:
            return []
        a = self._records((self.generation, "a"), passes, texts)
        b = self._records((self.generation, "b"), passes, texts) if self.double_entry else None
        resolution = None if self.resolution is None else self.resolution.get(self.generation)
        return _final_records(a, b, resolution)

    def final_into(
        self, numbers: Counter[int], passes: _Numbering[_Pass], texts: _Numbering[str]
    ) -> list[str]:
        """``final``, cheaper for a packed batch whose passes agree (the usual case): the agreed
        records are added to ``numbers`` by their numbers, unclear ones included (``_final_counts``
        drops those, as ``compare_passes`` does), and the resolution returned as texts; any
        other batch returns all of ``final``. A round's decision gathers every batch's final
        records at once, while nothing else is left to check: without a text per paper."""
        agreed = self.agreed(passes)
        if agreed is not None:
            numbers.update(agreed)
            return self.resolved()
        return self.final(passes, texts)

    def agreed(self, passes: _Numbering[_Pass]) -> "array[int] | None":
        """The numbers of the agreed records of a packed reconciled batch whose passes agree
        (None for any other batch)."""
        packed = self.packed
        if self.reconciled and self.entering is None and packed is not None:
            a = self._place(packed, passes.numbers.get((self.generation, "a")))
            b = (
                self._place(packed, passes.numbers.get((self.generation, "b")))
                if self.double_entry
                else a
            )
            if (
                a is not None
                and b is not None
                and (a == b or packed[a[1] : a[2]] == packed[b[1] : b[2]])
            ):
                return packed[a[1] : a[2]]
        return None

    def resolved(self) -> list[str]:
        """The scrutineer's resolution of the current generation (none: empty)."""
        resolution = None if self.resolution is None else self.resolution.get(self.generation)
        return list(resolution or ())

    @staticmethod
    def _place(packed: "array[int]", wanted: int | None) -> tuple[int, int, int, int] | None:
        """Where the pass numbered ``wanted`` lies in ``packed``: its entry, the start and end of
        its records (those of the pass before it when it shares them) and the next entry (None:
        not in it)."""
        at = start = end = 0
        while at < len(packed):
            key, length = packed[at], packed[at + 1]
            if length:
                start, end = at + 2, at + 1 + length
            following = end if length else at + 2
            if key == wanted:
                return at, start, end, following
            at = following
        return None

    def _records(
        self, key: _Pass, passes: _Numbering[_Pass], texts: _Numbering[str]
    ) -> Counter[str]:
        found = None if self.entering is None else self.entering.get(key)
        return found if found is not None else self._unpacked(key, passes, texts)


HOT_BATCHES = 1024  # batches kept in memory before reconciled ones are folded (RoundReplay)


class _Cold:
    """Folded batches (``RoundReplay._fold``), each as it was, out of memory: in a temporary
    SQLite database, which SQLite keeps in a file of its own that it deletes when closed, and
    reads through a cache of a few megabytes. Opened at the first batch folded: a record of
    fewer than ``HOT_BATCHES`` batches never opens it. Rows are written ``PENDING`` at a time,
    and a batch id outside the range of those kept is not looked for: batches are created with
    ids that grow, so a new one is not looked for at all."""

    PENDING = 256

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._pending: dict[int, tuple[Any, ...]] = {}  # rows not yet written, by key
        self._low, self._high = MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER  # the range of keys kept

    @staticmethod
    def storable(key: Any) -> bool:
        """A batch id that a row can hold, as a dict finds it (``True`` is 1)."""
        return type(key) in (int, bool) and -MAX_SAFE_INTEGER <= key <= MAX_SAFE_INTEGER

    def put(self, key: Any, home: int, batch: _Batch) -> None:
        """Keep ``batch`` (reconciled, packed) under ``key``, with its round's serial."""
        packed = batch.packed
        assert packed is not None
        resolution = None if batch.resolution is None else json.dumps([*batch.resolution.items()])
        row = (home, batch.double_entry, batch.generation, packed.typecode, packed.tobytes())
        stored = int(key)
        self._pending[stored] = (*row, resolution)
        self._low, self._high = min(self._low, stored), max(self._high, stored)
        if len(self._pending) >= self.PENDING:
            self._write()

    def _write(self) -> None:
        if self._db is None:
            # Nothing in it outlives the replay: no journal, no waiting for the disk. A replay is
            # fed by one thread at a time, not always the one that opened it.
            self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute(
                "CREATE TABLE batch (key INTEGER PRIMARY KEY, home INTEGER, double INTEGER,"
                " generation INTEGER, typecode TEXT, packed BLOB, resolution TEXT)"
            )
            self._db.execute("BEGIN")
        rows = ((key, *row) for key, row in self._pending.items())
        self._db.executemany("INSERT INTO batch VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        self._pending.clear()

    def take(self, key: Any) -> tuple[int, int, _Batch] | None:
        """The batch kept under ``key`` (its key as kept, its round's serial, the batch), no
        longer kept; None if there is none."""
        if not self.storable(key) or not self._low <= key <= self._high:
            return None
        stored = int(key)
        row = self._pending.pop(stored, None)
        if row is None and self._db is not None:
            found = self._db.execute(
                "SELECT home, double, generation, typecode, packed, resolution FROM batch"
                " WHERE key = ?",
                (stored,),
            ).fetchone()
            if found is not None:
                self._db.execute("DELETE FROM batch WHERE key = ?", (stored,))
                row = tuple(found)
        if row is None:
            return None
        home, double, generation, typecode, data, resolution = row
        packed = array(typecode)
        packed.frombytes(data)
        batch = _Batch(bool(double), generation, True, None, packed)
        if resolution is not None:
            batch.resolution = dict(json.loads(resolution))
        return stored, home, batch


@dataclass(slots=True)
class _Round:
    round_id: int
    election_id: int
    number: int
    document: Mapping[str, Any]
    present: int | None = None  # frozen at issuance (Q3): ``round.papers_issued``
    issued: int | None = None
    collected: int | None = None
    serial: int = 0  # its place among every round opened (RoundReplay._opened)
    # The batches created in it and kept in memory (each as often as it was created in it), and
    # what its folded batches add to its final records: agreed records by number, resolutions.
    batches: dict[Any, int] = field(default_factory=dict)
    folded: Counter[int] = field(default_factory=Counter)
    folded_resolved: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class CertifiedRound:
    election_id: int
    round_number: int
    height: int
    result: Mapping[str, Any]

    @property
    def elected(self) -> list[str]:
        return [str(name) for name in self.result.get("elected", [])]


@dataclass(frozen=True, slots=True)
class Replay:
    decisions_checked: int
    certified: list[CertifiedRound]
    problem: RecordProblem | None

    def elected_by_election(self) -> dict[int, list[tuple[str, int]]]:
        """M9: every election's elected persons with the round that elected them."""
        elected: dict[int, list[tuple[str, int]]] = {}
        for round_ in self.certified:
            names = elected.setdefault(round_.election_id, [])
            names.extend((name, round_.round_number) for name in round_.elected)
        return elected


def _differences(recorded: Any, recomputed: Any, path: str = "") -> list[str]:
    if isinstance(recorded, dict) and isinstance(recomputed, dict):
        found: list[str] = []
        for key in sorted(set(recorded) | set(recomputed), key=str):
            found += _differences(recorded.get(key), recomputed.get(key), f"{path}.{key}")
        return found
    if (
        isinstance(recorded, list)
        and isinstance(recomputed, list)
        and len(recorded) == len(recomputed)
    ):
        found = []
        for index, (a, b) in enumerate(zip(recorded, recomputed, strict=True)):
            label = f"{path}[{index}]"
            if (
                isinstance(a, dict)
                and isinstance(b, dict)
                and "name" in a
                and a.get("name") == (b.get("name"))
            ):
                label = f"{path}[{a['name']}]"
            found += _differences(a, b, label)
        return found
    if recorded != recomputed:
        return [f"{path.lstrip('.') or 'result'}: {recorded!r} recorded, {recomputed!r} recomputed"]
    return []


def _describe(number: int, recorded: Any, recomputed: Any) -> str:
    tallies = {}
    if isinstance(recorded, dict) and isinstance(recorded.get("tallies"), list):
        tallies = {
            t.get("name"): t for t in recorded["tallies"] if isinstance(t, dict) and "name" in t
        }
    for row in recomputed.get("tallies", []):
        before = tallies.get(row.get("name"))
        if before is None:
            continue
        for key in ("yes", "no", "abstain"):
            if key in row and before.get(key) != row[key]:
                return (
                    f"round {number}: {row['name']} {key} {before.get(key)} recorded, "
                    f"{row[key]} recomputed"
                )
    differences = _differences(recorded, recomputed)
    shown = "; ".join(differences[:3]) + (" …" if len(differences) > 3 else "")
    return f"round {number}: {shown}"


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while millions of acyclic objects are made (a third of the
    time on a record of 1,000,000 papers); restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def replay_rounds(
    events: Sequence[StoredEvent], progress: Callable[[int], None] | None = None
) -> Replay:
    """Recount every decided round from the record with ``app.rules.count_round``
    (``RoundReplay``). ``progress`` is called with the number of events done every 65,536
    events."""
    with gc_paused():
        replay = RoundReplay()
        for index, stored in enumerate(events):
            if progress is not None and index & 0xFFFF == 0 and index:
                progress(index)
            event = stored.event
            if not replay.feed(event.height, event.type, event.payload, stored.hash):
                break
        return replay.result()


class RoundReplay:
    """The recount, one event at a time, in height order.

    Rebuilds each round's definition (``round.opened``), figures (issuance, collection, the
    congress's ``delegates_total`` at the time of the decision) and final records per batch
    (``paper.entered``, ``batch.resolved``, ``batch.reentry_ordered``, ``batch.reconciled``) and
    the presidium's rulings (``round.ineligible_ruled``: struck from the ranking of that round and
    of the election's later rounds), and compares ``round_result_json`` with every
    ``round.decided``'s ``result``; checks that
    ``round.signed`` / ``round.certified`` name a decision of their round, and that a signature's
    session names its official's ``official.login_code_issued`` with the same facts (issued by,
    confirmation), confirmed by an ``official.change_confirmed`` when the code of a counting role
    was issued after voting began (issue 20 item 3). Stops at the first
    problem: ``feed`` and ``enter_papers`` then return False and ``result`` names it.

    Its memory does not grow with the number of papers or batches: beyond ``HOT_BATCHES``
    batches in memory, reconciled ones are folded into their rounds' counts and kept on disk
    (``_fold``, ``_Cold``; 1,024 batches are some 50,000 papers).
    """

    def __init__(self) -> None:
        self._delegates_total: int | None = None
        self._rounds: dict[int, _Round] = {}
        self._opened: list[_Round] = []  # every round opened, replaced ones too (by serial)
        self._batches: dict[Any, _Batch] = {}  # in memory; the folded ones are in _cold
        # A batch created once: its round's serial (-1: created again, never folded).
        self._homes: dict[Any, int] = {}
        self._cold = _Cold()
        self._hot_batches = HOT_BATCHES  # read here: a test sets it to 0
        self._passes: _Numbering[_Pass] = _Numbering()  # as the batches keep them
        self._texts: _Numbering[str] = _Numbering()
        self._certified: dict[int, CertifiedRound] = {}
        self._decided: dict[str, tuple[int, Mapping[str, Any]]] = {}  # hash → (round id, result)
        self._ineligible: dict[int, list[tuple[int, str]]] = {}  # election → (round number, name)
        self._codes: dict[str, Mapping[str, Any]] = {}  # official.login_code_issued by hash
        self._confirmed: dict[Any, Mapping[str, Any]] = {}  # official.change_confirmed by change
        self._checked = 0
        self._problem: Replay | None = None

    def result(self) -> Replay:
        if self._problem is not None:
            return self._problem
        ordered = sorted(self._certified.values(), key=lambda r: (r.election_id, r.round_number))
        return Replay(self._checked, ordered, None)

    def _fail(self, height: int, en: str, zh: str) -> bool:
        self._problem = Replay(
            self._checked, list(self._certified.values()), RecordProblem(f"event {height}", en, zh)
        )
        return False

    def _unreplayable(self, height: int, kind: str, exc: Exception) -> bool:
        return self._fail(
            height,
            f"{kind}: the payload cannot be replayed ({type(exc).__name__}: {exc})",
            "事件内容无法重放",
        )

    def enter_papers(
        self, height: int, batch_id: Any, generation: Any, entry_pass: Any, texts: Iterable[str]
    ) -> bool:
        """Consecutive ``paper.entered`` events from ``height`` on, all of one batch, generation
        and pass, given by their records' canonical JSON texts (``_record_text``): what ``feed``
        does with each of them, at once."""
        if self._problem is not None:
            return False
        try:
            batch = self._batch(batch_id)
            batch.counter((generation, entry_pass), self._passes, self._texts).update(texts)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return self._unreplayable(height, "paper.entered", exc)
        return True

    def feed(self, height: int, kind: str, payload: Mapping[str, Any], hash: str) -> bool:
        """The next event (its height, type, payload and stored hash)."""
        if self._problem is not None:
            return False
        try:
            if kind == "paper.entered":
                batch = self._batch(payload["batch_id"])
                key = (payload["generation"], payload["pass"])
                text = _record_text(payload["record"])
                batch.counter(key, self._passes, self._texts)[text] += 1
                return True
            return self._feed_other(height, kind, payload, hash)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return self._unreplayable(height, kind, exc)

    def _feed_other(self, height: int, kind: str, payload: Mapping[str, Any], hash: str) -> bool:
        """What each event type other than ``paper.entered`` changes in the recount; False stops
        it at a problem.

        Long because it is one dispatch over the event types, each branch a few lines: one place
        says what each type means to the recount."""
        rounds, batch = self._rounds, self._batch
        if kind in ("congress.created", "congress.updated"):
            self._delegates_total = payload["delegates_total"]
        elif kind == "round.opened":
            document = payload["definition"]
            round_ = _Round(
                payload["round_id"], payload["election_id"], payload["number"], document
            )
            round_.serial = len(self._opened)
            rounds[payload["round_id"]] = round_
            self._opened.append(round_)
        elif kind == "round.papers_issued":
            round_ = rounds[payload["round_id"]]
            round_.issued = payload["issued"]
            round_.present = payload["present"]
        elif kind == "round.papers_collected":
            rounds[payload["round_id"]].collected = payload["collected"]
        elif kind == "batch.created":
            self._create(rounds[payload["round_id"]], payload)
        elif kind == "batch.reconciled":
            named = batch(payload["batch_id"])
            named.reconciled = payload["generation"] == named.generation
            named.pack(self._passes, self._texts)
            self._fold(payload["batch_id"], named)
        elif kind == "batch.resolved":
            named = batch(payload["batch_id"])
            texts = [_record_text(r) for r in payload["records"]]
            if named.resolution is None:
                named.resolution = {}
            named.resolution[payload["generation"]] = texts
        elif kind == "batch.reentry_ordered":
            named = batch(payload["batch_id"])
            named.generation = payload["discarded_generation"] + 1
            named.reconciled = False
        elif kind == "round.decided":
            return self._decide(height, payload, hash)
        elif kind == "official.login_code_issued":
            self._codes[hash] = payload
        elif kind == "official.change_confirmed":
            self._confirmed[payload["change_id"]] = payload
        elif kind in ("round.signed", "round.certified"):
            round_ = rounds[payload["round_id"]]
            found = self._decided.get(payload["decision"])
            if found is None or found[0] != round_.round_id:
                return self._fail(
                    height,
                    f"round {round_.number}: {kind} names {str(payload['decision'])[:12]}…, "
                    "which is not a decision of this round",
                    f"第 {round_.number} 轮：签字或认证引用的不是本轮的决定",
                )
            if kind == "round.signed" and not self._signed_with(height, round_.number, payload):
                return False
            if kind == "round.certified":
                self._certified[round_.round_id] = CertifiedRound(
                    round_.election_id, round_.number, height, found[1]
                )
        elif kind in ("round.correction_ordered", "round.void"):
            # The round is counted again and decided anew, or void (I2, or by the presidium).
            self._certified.pop(payload["round_id"], None)
        elif kind == "round.ineligible_ruled":
            round_ = rounds[payload["round_id"]]
            ruled = self._ineligible.setdefault(round_.election_id, [])
            ruled.append((round_.number, str(payload["name"])))
            self._certified.pop(round_.round_id, None)
        return True

    def _signed_with(self, height: int, number: int, payload: Mapping[str, Any]) -> bool:
        """A signature's session (recorded since issue 20 item 3): its login code's issuance is in
        the record, for this official, with the facts the signature repeats; a counting role's
        code issued after voting began carries a presidium confirmation that is in the record."""
        signed_with = payload.get("session")
        code = None if signed_with is None else signed_with.get("code")
        if code is None:
            return True  # signed before sessions were recorded, or with a code issued before
        issued = self._codes.get(code["event"])
        official = payload["official_id"]
        if issued is None or issued["official_id"] != official:
            return self._fail(
                height,
                f"round {number}: official {official} signed with a session whose login code "
                "is not theirs in the record",
                f"第 {number} 轮：签字人会话的登录码在记录中找不到，或不属于本人",
            )
        if code.get("issued_by") != issued.get("issued_by") or code.get(
            "confirmation"
        ) != issued.get("confirmation"):
            return self._fail(
                height,
                f"round {number}: official {official}'s signature repeats other issuance facts "
                "than its login code's event",
                f"第 {number} 轮：签字记录的登录码签发情况与记录不符",
            )
        confirmation = issued.get("confirmation")
        counting = issued.get("role") in (
            "chief_scrutineer",
            "scrutineer",
            "chief_teller",
            "teller",
        )
        if (
            counting
            and issued.get("voting_begun")
            and (
                confirmation is None
                or confirmation != self._confirmed.get(confirmation["change_id"])
            )
        ):
            return self._fail(
                height,
                f"round {number}: official {official} signed with a login code issued after "
                "voting began without a presidium confirmation",
                f"第 {number} 轮：签字人的登录码在投票开始后签发，却没有大会主席团成员的确认",
            )
        return True

    def _finals(self, round_: _Round) -> Counter[str]:
        """The final records of a round's batches (none of a batch not reconciled)."""
        batches = [self._batches[key] for key, n in round_.batches.items() for _ in range(n)]
        return _final_counts(
            batches, self._passes, self._texts, round_.folded, round_.folded_resolved
        )

    # A record of millions of papers has tens of thousands of batches: kept in memory, even
    # packed, they would grow with the record. Once more than ``HOT_BATCHES`` are, a batch that
    # is reconciled with agreeing passes is folded: what it adds to its round's final records
    # (``_Batch.final_into``) is added to the round's, and the batch itself goes to ``_cold``, on
    # disk. No event changes a folded batch: one that names it again (papers entered, a
    # reconciliation, a resolution, a re-entry order, its creation again) first takes it back
    # (``_batch``, ``_thawed``) and takes its records out of the round's. So the final records
    # of every round are what they would be with every batch in memory.

    def _batch(self, key: Any) -> _Batch:
        """The batch ``key`` (``self._batches[key]``: the same errors), taken back if folded."""
        found = self._batches.get(key)
        if found is None:
            if not self._thawed(key):
                raise KeyError(key)
            found = self._batches[key]
        return found

    def _create(self, round_: _Round, payload: Mapping[str, Any]) -> None:
        """``batch.created``: a new batch, in place of any of that id (its round keeps the id)."""
        batch = _Batch(payload["teller_b_id"] is not None)
        key = payload["batch_id"]
        again = key in self._batches or self._thawed(key)
        self._batches[key] = batch
        round_.batches[key] = round_.batches.get(key, 0) + 1
        self._homes[key] = -1 if again else round_.serial

    def _fold(self, key: Any, batch: _Batch) -> None:
        """Fold the batch ``key`` just reconciled, if more than ``HOT_BATCHES`` are in memory,
        it was created once and its passes agree."""
        if len(self._batches) <= self._hot_batches or not _Cold.storable(key):
            return
        home = self._homes.get(key, -1)
        agreed = batch.agreed(self._passes)
        if home < 0 or agreed is None:
            return
        round_ = self._opened[home]
        round_.folded.update(agreed)
        round_.folded_resolved.update(batch.resolved())
        del round_.batches[key], self._batches[key], self._homes[key]
        self._cold.put(key, home, batch)

    def _thawed(self, key: Any) -> bool:
        """Take the batch ``key`` back into memory and out of its round's folded records, if it
        is folded."""
        taken = self._cold.take(key)
        if taken is None:
            return False
        stored, home, batch = taken
        agreed = batch.agreed(self._passes)
        assert agreed is not None  # as it was when folded: nothing changed it since
        round_ = self._opened[home]
        round_.folded -= Counter(agreed)
        round_.folded_resolved -= Counter(batch.resolved())
        round_.batches[stored] = 1
        self._batches[stored] = batch
        self._homes[stored] = home
        return True

    def _decide(self, height: int, payload: Mapping[str, Any], hash: str) -> bool:
        round_ = self._rounds[payload["round_id"]]
        if self._delegates_total is None:
            return self._fail(height, "decided before the congress exists", "大会尚未建立")
        try:
            ineligible = frozenset(
                name
                for number, name in self._ineligible.get(round_.election_id, [])
                if number <= round_.number
            )
            recomputed = _recount(round_, self._finals, self._delegates_total, ineligible)
        except (RoundInputError, _RecountError) as exc:
            en = f"round {round_.number}: cannot be recounted from the record: {exc}"
            return self._fail(height, en, f"第 {round_.number} 轮：无法根据记录重新计票")
        recorded = payload["result"]
        self._checked += 1
        if recomputed != recorded:
            en = _describe(round_.number, recorded, recomputed)
            return self._fail(
                height,
                f"{en} (the recorded decision differs from the recount)",
                f"第 {round_.number} 轮：记录的决定与重新计票结果不一致",
            )
        self._decided[hash] = (round_.round_id, recorded)
        return True


def _record_text(record: Any) -> str:
    """The record's canonical JSON text (the event line it comes from was checked canonical)."""
    if not isinstance(record, dict):
        raise TypeError("a paper record is an object")
    return _fast_encoder.encode(record)


class _RecountError(ValueError):
    pass


def _final_counts(
    batches: Iterable[_Batch],
    passes: _Numbering[_Pass],
    texts: _Numbering[str],
    folded: Counter[int] | None = None,
    folded_resolved: Counter[str] | None = None,
) -> Counter[str]:
    """The final records of ``batches`` (``_Batch.final`` of each) and of folded batches (their
    agreed records by number, their resolutions), by text."""
    numbers: Counter[int] = Counter(folded)
    found: Counter[str] = Counter(folded_resolved)
    for batch in batches:
        found.update(batch.final_into(numbers, passes, texts))
    for number, n in numbers.items():
        text = texts.values[number]
        if not record_is_unclear(text):
            found[text] += n
    return found


def _recount(
    round_: _Round,
    finals_of: Callable[[_Round], Counter[str]],
    delegates_total: int,
    ineligible: frozenset[str] = frozenset(),
) -> Any:
    definition = definition_of(round_.document, ineligible)
    if round_.present is None:
        raise _RecountError("decided before its papers were issued")
    present = round_.present
    if round_.collected is None:
        raise _RecountError("decided before its papers were collected")
    attendance = Attendance(
        delegates_total=delegates_total,
        present=present,
        issued=present if round_.issued is None else round_.issued,
        collected=round_.collected,
    )
    texts = finals_of(round_)
    final = sum(texts.values())
    if final != round_.collected:
        raise _RecountError(
            f"{final} final papers in the reconciled batches, {round_.collected} collected"
        )
    distinct = sorted(
        ((paper_of(text), n) for text, n in texts.items()), key=lambda item: paper_order(item[0])
    )
    papers = Copies(distinct)  # sorted, as the service's
    return json.loads(json.dumps(round_result_json(count_round(definition, attendance, papers))))
