"""``verify_events`` of ``app.ledger.replay`` plus the recount, fast enough for a record of
1,000,000 papers: one pass over ``events.jsonl``, without keeping the events. On Linux a forked
process checks the second part of the file, a piece at a time, while this one checks the first
part, hashes the whole file and recounts each part as soon as it is checked; the link between
consecutive parts is checked here. The recount gets, per run of ``paper.entered`` events of one
batch and pass, the records' texts (``RoundReplay.enter_papers``), and every other event as is.

``app.ledger.replay`` (standard library only) stays the reference: this module accepts a line
only when it can prove that the reference would accept it and give the same event and hash, and
hands every other line to the reference (``parse_event_line``), which names what is wrong. The
problem reported is the reference's, found in the same order: the first line that is not a
canonical event, then the congress id, the first broken link of the chain (named by
``link_problems``), the manifest's figures, and only for an intact chain the recount
(``RoundReplay``, the same code as ``replay_rounds``). ``tests/audit/test_verify_*`` compare the
two paths.

The canonical check of a line: ``msgspec`` decodes it into a typed event (strings, integers
within ±(2**53 - 1); a float, which has no canonical form, is refused as soon as it is met) and
writes it back with sorted keys; the line must be those bytes followed by ``\\n``. ``msgspec``
writes a string as ``canonical_json`` does (``tests/audit/test_verify_canonical.py`` checks every
code point), so the line is the canonical JSON of the object that the reference's ``json.loads``
reads. A ``paper.entered`` line of the usual shape (``_PaperEvent``) is decoded without building
its record: the record's bytes are checked once per distinct record, and are its text for the
recount.
"""

import hashlib
import json
import multiprocessing
import queue
import sys
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec

from app.audit.signed import open_record
from app.ledger.chain import (
    GENESIS_PARENT,
    HASH_DOMAIN,
    MAX_SAFE_INTEGER,
    JsonValue,
    event_hash,
    link_problems,
)
from app.ledger.replay import (
    RECORD_FORMAT,
    RecordError,
    RecordProblem,
    Replay,
    RoundReplay,
    gc_paused,
    manifest_problem,
    parse_event_line,
)

BLOCK_BYTES = 1 << 20  # lines are split a block at a time: bounded memory, progress per block
PARALLEL_BYTES = 16 << 20  # from this size of events.jsonl, a second process checks a part
MAIN_SHARE = 0.43  # of the bytes for this process, which also hashes the file and recounts
PIECE_BYTES = 48 << 20  # the second process sends its part in pieces: recounted meanwhile
PIECE_PIPE_BYTES = 1 << 20  # Linux's default limit for the pipe that carries them

_SafeInt = Annotated[int, msgspec.Meta(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)]


# Fields in the order of their names, as canonical JSON writes them.
class _Event(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    actor_role: str
    at: str
    chain: _SafeInt
    hash: str
    height: _SafeInt
    parent: str
    payload: dict[str, Any]  # its integers are checked by _safe_integers
    type: str


class _PaperPayload(msgspec.Struct, forbid_unknown_fields=True, gc=False, rename={"pass_": "pass"}):
    batch_id: _SafeInt
    generation: _SafeInt
    paper_id: str
    pass_: str
    record: msgspec.Raw  # checked by _record_text, once per distinct record
    round_id: _SafeInt
    round_number: _SafeInt
    rule: str | None
    status: str


class _PaperEvent(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    actor_role: str
    at: str
    chain: _SafeInt
    hash: str
    height: _SafeInt
    parent: str
    payload: _PaperPayload
    type: str


def _refuse_float(text: str) -> NoReturn:
    raise ValueError(f"{text}: a float has no canonical form")


_decode_event = msgspec.json.Decoder(_Event, float_hook=_refuse_float).decode
_decode_paper = msgspec.json.Decoder(_PaperEvent).decode
_decode_value = msgspec.json.Decoder(float_hook=_refuse_float).decode
_encoder = msgspec.json.Encoder(order="sorted")
_PAPER_LINE_END = b',"type":"paper.entered"}\n'


def _safe_integers(value: object) -> bool:
    """Every integer in ``value`` (decoded JSON) is within ±(2**53 - 1)."""
    kind = type(value)
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER  # type: ignore[operator]
    if kind is dict:
        return all(map(_safe_integers, value.values()))  # type: ignore[attr-defined]
    if kind is list:
        return all(map(_safe_integers, value))  # type: ignore[call-overload]
    return True


def canonical_value(text: bytes) -> Any:
    """The JSON value of ``text`` if ``text`` is its canonical JSON (``canonical_json``), else
    None (``null`` itself is not asked about)."""
    try:
        value = _decode_value(text)
    except ValueError:  # msgspec's errors (a float among them) and UnicodeDecodeError
        return None
    return value if _encoder.encode(value) == text and _safe_integers(value) else None


def _record_text(record: bytes) -> str | None:
    """The recount's text of a paper's record (``_record_text`` of the reference: its canonical
    JSON) given the record's bytes in a canonical line, if they are canonical JSON of an object."""
    return record.decode("utf-8") if type(canonical_value(record)) is dict else None


@dataclass(slots=True)
class _Part:
    """What checking the lines of one part of ``events.jsonl`` found.

    ``papers`` are runs of consecutive ``paper.entered`` events of one batch, generation and
    pass — ``(first line, batch, generation, pass, count)``, their records' texts in ``text_ids``
    (indexes into ``texts``) — and ``others`` every other event ``(line, type, payload, hash)``:
    together, what ``RoundReplay`` needs, in far fewer objects than one per event.
    """

    first: int  # index of the part's first line in the file
    count: int = 0
    problem: RecordProblem | None = None  # the first line that is not a canonical event
    broken: int | None = None  # the first line whose event does not link (parent unknown)
    first_parent: str | None = None
    last: tuple[int, str] | None = None  # the last event's height and stored hash
    kinds: Counter[str] = field(default_factory=Counter)
    papers: list[tuple[int, int, int, str, int]] = field(default_factory=list)
    text_ids: "array[int]" = field(default_factory=lambda: array("I"))
    texts: list[str] = field(default_factory=list)
    others: list[tuple[int, str, Mapping[str, Any], str]] = field(default_factory=list)


def _check_part(
    data: bytes,
    start: int,
    end: int,
    first: int,
    congress: object,
    progress: Callable[[int], None] | None = None,
) -> _Part:
    """Check ``data[start:end]`` (whole lines, the first of them line ``first`` counting from 0)
    as canonical events, hash them and link them; the first line's parent is checked by the
    caller unless it is the file's first line."""
    part = _Part(first)
    papers, text_ids, texts, others = part.papers, part.text_ids, part.texts, part.others
    text_index: dict[bytes, int] = {}
    decode_paper, decode_event, encode_into = _decode_paper, _decode_event, _encoder.encode_into
    paper_line_end = _PAPER_LINE_END
    written = bytearray()
    hashing = hashlib.sha256(HASH_DOMAIN).copy
    prefix, prefix_end, prefix_digest = b"", -1, hashing()  # the hash input up to "hash"
    index = first
    parent = GENESIS_PARENT if first == 0 else None
    broken: int | None = None
    # The current run of papers: its first line, batch, generation and pass; the next line.
    run_start, run_batch, run_generation, run_pass, run_next = -1, -1, -1, "", -1
    position = start
    while position < end:
        cut = data.find(b"\n", min(position + BLOCK_BYTES, end) - 1, end) + 1 or end
        for line in data[position:cut].splitlines(keepends=True):
            event: _PaperEvent | _Event | None = None
            generic: _Event | None = None
            text_id = -1
            if line.endswith(paper_line_end):
                try:
                    paper = decode_paper(line)
                    encode_into(paper, written)
                    written.append(10)  # "\n"
                    if written == line:
                        paper_payload = paper.payload
                        record = bytes(paper_payload.record)
                        text_id = text_index.get(record, -1)
                        if text_id < 0:
                            text = _record_text(record)
                            if text is not None:
                                text_id = text_index[record] = len(texts)
                                texts.append(text)
                        if text_id >= 0:
                            event = paper
                except ValueError:  # msgspec's errors and UnicodeDecodeError
                    pass
            if event is None:
                try:
                    generic = decode_event(line)
                    encode_into(generic, written)
                    written.append(10)
                    if written == line and _safe_integers(generic.payload):
                        event = generic
                except ValueError:
                    pass
            if event is not None:
                stored = event.hash
                if parent is None:  # the part's first line: the caller checks its parent
                    part.first_parent = parent = event.parent
                # The hashed object is the event without "hash": in the canonical line, keys are
                # sorted and "hash" is neither first nor last, and no string can hold ',"' (its
                # '"' would be escaped), so the first ',"hash":' is the member. Its value is 66
                # bytes long, a quoted hex digest; if not, it cannot equal the digest anyway.
                a = line.find(b',"hash":')
                if a != prefix_end or not line.startswith(prefix):  # else as the line before
                    prefix, prefix_end = line[:a], a
                    prefix_digest = hashing()
                    prefix_digest.update(prefix)
                digest = prefix_digest.copy()
                digest.update(line[a + 74 : -1])
                if broken is None and (
                    event.parent != parent
                    or event.height != index
                    or event.chain != congress
                    or stored != digest.hexdigest()
                ):
                    broken = index
            else:
                try:
                    slow = parse_event_line(line, index + 1)
                except RecordError as exc:
                    part.problem = exc.problem
                    return part
                stored = slow.hash
                if parent is None:
                    part.first_parent = parent = slow.event.parent
                if broken is None and (
                    slow.event.parent != parent
                    or slow.event.height != index
                    or slow.event.chain != congress
                    or stored != event_hash(slow.event)
                ):
                    broken = index
            parent = stored
            if broken is not None:  # only a line that is not canonical still matters
                pass
            elif text_id >= 0:
                text_ids.append(text_id)
                if (
                    run_next == index
                    and paper_payload.batch_id == run_batch
                    and paper_payload.generation == run_generation
                    and paper_payload.pass_ == run_pass
                ):
                    run_next += 1
                else:
                    if run_next >= 0:
                        papers.append(
                            (run_start, run_batch, run_generation, run_pass, run_next - run_start)
                        )
                    run_start, run_next = index, index + 1
                    run_batch, run_generation = paper_payload.batch_id, paper_payload.generation
                    run_pass = paper_payload.pass_
            elif event is not None and generic is not None:
                others.append((index, generic.type, generic.payload, stored))
            else:
                others.append((index, slow.event.type, slow.event.payload, stored))
            index += 1
        position = cut
        if progress is not None:
            progress(position - start)
    if run_next >= 0:
        papers.append((run_start, run_batch, run_generation, run_pass, run_next - run_start))
    part.broken = broken
    part.count = index - first
    if part.count:
        part.last = (index - 1, parent or "")
    part.kinds.update(kind for _, kind, _, _ in others)
    part.kinds["paper.entered"] += len(text_ids)
    return part


def _replay_part(replay: RoundReplay, part: _Part) -> None:
    """Feed a part's events to the recount, in height order (it stops at its first problem)."""
    others = iter(part.others)
    pending = next(others, None)
    offset = 0
    for start, batch, generation, entry_pass, count in part.papers:
        while pending is not None and pending[0] < start:
            if not replay.feed(*pending):
                return
            pending = next(others, None)
        texts = map(part.texts.__getitem__, part.text_ids[offset : offset + count])
        if not replay.enter_papers(start, batch, generation, entry_pass, texts):
            return
        offset += count
    while pending is not None and replay.feed(*pending):
        pending = next(others, None)


def _line_at(data: bytes, index: int, parts: list[_Part], starts: list[int]) -> bytes:
    """Line ``index`` of the file (whose parts begin at the byte offsets ``starts``)."""
    which = max(i for i, part in enumerate(parts) if part.first <= index)
    position = starts[which]
    for _ in range(index - parts[which].first):
        position = data.index(b"\n", position) + 1
    return data[position : data.index(b"\n", position) + 1]


def _name_broken_link(
    data: bytes, index: int, congress: int, parts: list[_Part], starts: list[int]
) -> RecordProblem:
    """The reference's problem with event ``index``, every event before it being linked."""
    event = parse_event_line(_line_at(data, index, parts, starts), index + 1)
    parent = GENESIS_PARENT
    if index:
        parent = parse_event_line(_line_at(data, index - 1, parts, starts), index).hash
    first = link_problems(congress, index, parent, event.event, event.hash)[0]
    return RecordProblem(f"event {first.height}", first.message_en, first.message_zh)


@dataclass(frozen=True, slots=True)
class VerifiedEvents:
    event_count: int
    kinds: Counter[str]
    problem: RecordProblem | None
    replay: Replay | None  # None when the record itself has a problem


def _child(
    sender: Connection,
    data: bytes,
    start: int,
    end: int,
    first: int,
    congress: object,
    done: Any,  # a shared ctypes integer: the bytes checked so far
) -> None:
    """Check ``data[start:end]`` a piece at a time, sending each ``(part, end)`` when it is
    checked (the parent recounts it meanwhile), then None."""
    with gc_paused():
        for piece in _check_pieces(data, start, end, first, congress, done):
            sender.send(piece)
    sender.send(None)
    sender.close()


def _check_pieces(
    data: bytes, start: int, end: int, first: int, congress: object, done: Any
) -> Iterator[tuple[_Part, int]]:
    """The parts of ``data[start:end]``, about ``PIECE_BYTES`` each, as they are checked, and
    where they end; none after one with a line that is not canonical."""
    position = start

    def progress(n: int) -> None:
        done.value = position - start + n

    while position < end:
        stop = data.find(b"\n", min(position + PIECE_BYTES, end) - 1, end) + 1 or end
        part = _check_part(data, position, stop, first, congress, progress)
        yield part, stop
        if part.problem is not None:
            return
        first += part.count
        position = stop


@contextmanager
def _thread(target: Callable[[], None]) -> Iterator[None]:
    """``target`` runs in a thread while the block runs (hashlib lets go of the GIL)."""
    thread = threading.Thread(target=target)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _check_parts(
    data: bytes,
    congress: object,
    processes: int,
    progress: Callable[[int], None] | None,
    meanwhile: Callable[[], None],
    take: Callable[[_Part, int], None],
) -> None:
    """Check ``data`` in parts, on ``processes`` processes (1 or 2): ``take(part, offset)`` gets
    each part in order as soon as it is checked (this process's while the other process checks
    the rest, a piece at a time); ``meanwhile`` runs in a thread during this process's part.

    The second process is forked (Linux only: it reads the same bytes in memory, so nothing can
    change the file between the hash and the check); if it fails, its part is checked here.
    """
    size = len(data)
    if processes < 2 or not sys.platform.startswith("linux") or size < 2:
        with _thread(meanwhile):
            part = _check_part(data, 0, size, 0, congress, progress)
        take(part, 0)
        return
    split = data.find(b"\n", int(size * MAIN_SHARE)) + 1 or size
    first = data.count(b"\n", 0, split)
    context = multiprocessing.get_context("fork")
    done = context.Value("q", 0, lock=False)
    receiver, sender = context.Pipe(duplex=False)
    import fcntl  # Linux only, as this path

    with suppress(OSError):  # a piece is then sent at once, without waiting for this process
        fcntl.fcntl(sender.fileno(), fcntl.F_SETPIPE_SZ, PIECE_PIPE_BYTES)
    child = context.Process(
        target=_child, args=(sender, data, split, size, first, congress, done), daemon=True
    )
    child.start()
    sender.close()
    # The child's pieces are received as they come (a full pipe would stop the child).
    pieces: queue.SimpleQueue[tuple[_Part, int] | None] = queue.SimpleQueue()

    def receive() -> None:
        try:
            while (piece := receiver.recv()) is not None:
                pieces.put(piece)
        except (EOFError, OSError):  # the child failed: what it did not send is checked here
            pass
        pieces.put(None)

    report = None if progress is None else (lambda n: progress(n + done.value))
    try:
        with _thread(meanwhile), _thread(receive):
            mine = _check_part(data, 0, split, 0, congress, report)
            take(mine, 0)
            position = split
            if mine.problem is not None:  # the first line that is not canonical: nothing else
                child.kill()
                position = size
            while (piece := pieces.get()) is not None:
                if position < size:
                    part, stop = piece
                    take(part, position)
                    position, first = stop, part.first + part.count
                    if part.problem is not None:
                        position = size
                    if report is not None:
                        report(split)
        for part, stop in _check_pieces(data, position, size, first, congress, done):
            take(part, position)
            position = stop
    finally:
        receiver.close()
        child.join()


def verify_events_fast(
    events_file: bytes,
    body: Mapping[str, JsonValue],
    progress: Callable[[int], None] | None = None,
    processes: int | None = None,
) -> VerifiedEvents:
    """``verify_events`` and, for an intact record, ``replay_rounds`` (same problems, same
    replay) without keeping the events. ``progress`` is called with the bytes checked so far;
    ``processes`` (1 or 2) defaults to 2 from ``PARALLEL_BYTES``."""
    if body.get("format") != RECORD_FORMAT:
        problem = RecordProblem("manifest.json", "unknown record format", "未知的记录格式")
        return VerifiedEvents(0, Counter(), problem, None)
    if events_file and not events_file.endswith(b"\n"):
        problem = RecordProblem(
            "events.jsonl", "the file does not end with a newline", "文件未以换行结束"
        )
        return VerifiedEvents(0, Counter(), problem, None)
    congress = body.get("congress")
    if processes is None:
        processes = 2 if len(events_file) >= PARALLEL_BYTES else 1
    digest: list[str] = []
    parts: list[_Part] = []
    starts: list[int] = []
    replay = RoundReplay()

    def take(part: _Part, start: int) -> None:
        parts.append(part)
        starts.append(start)
        # Recounted while the next part is checked; only used if the record is intact.
        if part.problem is None and _first_broken(parts) is None:
            _replay_part(replay, part)

    with gc_paused():
        _check_parts(
            events_file,
            congress,
            processes,
            progress,
            lambda: digest.append(hashlib.sha256(events_file).hexdigest()),
            take,
        )
    count = sum(part.count for part in parts)
    kinds = sum((part.kinds for part in parts), Counter[str]())
    for part in parts:
        if part.problem is not None:
            return VerifiedEvents(count, kinds, part.problem, None)
    if not isinstance(congress, int):
        problem = RecordProblem("manifest.json", "no congress id", "缺少大会编号")
        return VerifiedEvents(count, kinds, problem, None)
    broken = _first_broken(parts)
    if broken is not None:
        problem = _name_broken_link(events_file, broken, congress, parts, starts)
        return VerifiedEvents(count, kinds, problem, None)
    head = next((part.last for part in reversed(parts) if part.last is not None), None)
    mismatch = manifest_problem(body, count, head, digest[0])
    if mismatch is not None:
        return VerifiedEvents(count, kinds, mismatch, None)
    return VerifiedEvents(count, kinds, None, replay.result())


def _first_broken(parts: list[_Part]) -> int | None:
    """The first line whose event does not link to the one before (across parts too)."""
    previous: _Part | None = None
    for part in parts:
        if (
            previous is not None
            and previous.last is not None
            and part.count
            and part.first_parent != previous.last[1]
        ):
            return part.first
        if part.broken is not None:
            return part.broken
        previous = part
    return None


@dataclass(frozen=True, slots=True)
class VerifiedRecord:
    event_count: int
    kinds: Counter[str]  # events by type
    body: dict[str, JsonValue]
    public_key: str
    problem: RecordProblem | None  # the record's (signature, manifest, lines, chain)
    replay: Replay | None  # the recount, for an intact record


def verify_record(
    directory: Path,
    *,
    expected_public_key: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    processes: int | None = None,
) -> VerifiedRecord:
    """``check_record`` then ``replay_rounds``, the fast way (``verify_events_fast``).

    ``progress(done, total)`` reports the bytes of ``events.jsonl`` checked so far.
    """
    signed = open_record(directory, expected_public_key=expected_public_key)
    if isinstance(signed, RecordProblem):
        return VerifiedRecord(0, Counter(), {}, "", signed, None)
    size = len(signed.events_file)
    checked = verify_events_fast(
        signed.events_file,
        signed.body,
        None if progress is None else lambda done: progress(done, size),
        processes,
    )
    return VerifiedRecord(
        checked.event_count,
        checked.kinds,
        signed.body,
        signed.public_key,
        checked.problem,
        checked.replay,
    )


# ---------------------------------------------------------------- pinning the record to paper

HEAD_HASH_LENGTH = 64  # lowercase hex SHA-256 (app.ledger.chain.event_hash)


def normalized_head(text: str) -> str | None:
    """The head hash as typed or scanned from the report (spaces and case ignored; the report
    prints it in lines of 16), or None if it is not 64 hex digits."""
    head = "".join(text.split()).lower()
    if len(head) != HEAD_HASH_LENGTH or any(ch not in "0123456789abcdef" for ch in head):
        return None
    return head


@dataclass(frozen=True, slots=True)
class Pin:
    height: int  # the event whose hash the report printed
    after: int  # events appended after it (later rounds, later elections)


def pinned_event(events_file: bytes, head: str) -> Pin | None:
    """The event of an intact ``events.jsonl`` whose hash is ``head`` (the chain's head when the
    report was printed), or None: then the record up to that point was rewritten after the report
    was printed (every hash from the rewritten event on changes), or it is another chain.

    Call it on a verified record only: each line's ``hash`` has then been checked.
    """
    needle = f'"hash":"{head}"'.encode()
    found = events_file.find(needle)
    while found != -1:  # one scan of the file, no list of lines (a record may hold 2M events)
        start = events_file.rfind(b"\n", 0, found) + 1
        end = events_file.find(b"\n", found)
        end = len(events_file) if end == -1 else end
        document = json.loads(events_file[start:end])
        if document.get("hash") == head:
            return Pin(int(document["height"]), events_file.count(b"\n", end + 1))
        found = events_file.find(needle, found + 1)
    return None
