"""``verify_events`` of ``app.ledger.replay`` plus the recount, streaming: ``events.jsonl`` is
read once, a piece of about ``PIECE_BYTES`` at a time, and hashed as it is read; each piece is
checked (canonical lines, hashes, links) here or, on Linux, by a forked second process that is
given the pieces (in memory shared with it) while it has fewer than ``CHILD_AHEAD``; the parts
come back in order and are recounted at once, and the link between consecutive pieces (the
first parent and height of each) is checked here. Nothing grows with the record: the pieces in
flight are bounded, and the recount folds its reconciled batches into their rounds' counts and
keeps them on disk (``RoundReplay._fold``; kept in memory, even packed, they took about 8 bytes
per paper). Peak memory, this process and the forked one: 131-139 + 60-68 MB for 1,000,000
papers (955 MB; reading the file whole took 1 GB) and 141-149 + 68 MB for 10,000,000 (9.6 GB),
where keeping every batch took 215 + 69 MB (``bench_verify``). The recount gets, per run of
``paper.entered`` events of one batch and pass, the records' texts
(``RoundReplay.enter_papers``), and every other event as is.

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
import io
import json
import mmap
import multiprocessing
import queue
import sys
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NoReturn

import msgspec

from app.audit.signed import open_manifest
from app.ledger.chain import (
    GENESIS_PARENT,
    HASH_DOMAIN,
    MAX_SAFE_INTEGER,
    JsonValue,
    event_hash,
    link_problems,
)
from app.ledger.replay import (
    EVENTS_FILE,
    RECORD_FORMAT,
    RecordError,
    RecordProblem,
    Replay,
    RoundReplay,
    gc_paused,
    manifest_problem,
    parse_event_line,
)

PIECE_BYTES = 8 << 20  # events.jsonl is read a piece at a time (whole lines)
IN_FLIGHT = 4  # pieces read (and hashed) ahead of this process's check
CHILD_AHEAD = 2  # pieces sent to the second process and not yet checked by it
PIPE_BYTES = 1 << 20  # Linux's default limit for the pipes to and from the second process
PARALLEL_BYTES = 16 << 20  # from this size of events.jsonl, a second process checks pieces

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

    Lines are numbered from the part's first (0): where the part starts in the file is only
    known once the parts before it are counted, and the caller adds it. The events' heights are
    checked against the first event's own height (``base``), which the caller checks.

    ``papers`` are runs of consecutive ``paper.entered`` events of one batch, generation and
    pass — ``(first line, batch, generation, pass, count)``, their records' texts in ``text_ids``
    (indexes into ``texts``) — and ``others`` every other event ``(line, type, payload, hash)``:
    together, what ``RoundReplay`` needs, in far fewer objects than one per event.
    """

    count: int = 0
    bad: tuple[int, bytes] | None = None  # the first line that is not a canonical event
    base: int = 0  # the height of the part's first event: its line in the file, if it links
    broken: int | None = None  # the first line whose event does not link (parent unknown)
    first_parent: str | None = None
    last: tuple[int, str] | None = None  # the last event's line and stored hash
    kinds: Counter[str] = field(default_factory=Counter)
    papers: list[tuple[int, int, int, str, int]] = field(default_factory=list)
    text_ids: "array[int]" = field(default_factory=lambda: array("I"))
    texts: list[str] = field(default_factory=list)
    others: list[tuple[int, str, Mapping[str, Any], str]] = field(default_factory=list)


Lines = bytes | mmap.mmap  # a piece's bytes, or the memory shared with the second process


def _piece_lines(head: bytes, data: Lines, start: int, end: int) -> list[bytes]:
    """``head`` then ``data[start:end]`` as lines, split as the reference splits the file
    (``bytes.splitlines``). A piece read is split whole and the lines outside ``start:end`` (the
    end of a line in ``head``, the start of one in the next piece) dropped: slicing it first would
    copy every byte of the record once more. ``head`` and ``data[:start]`` end with a newline, so
    each part splits as the whole does."""
    lines = head.splitlines(keepends=True)
    if type(data) is bytes:
        whole = data.splitlines(keepends=True)
        skip = len(data[:start].splitlines())
        lines += whole[skip : len(whole) - len(data[end:].splitlines())]
    else:  # shared memory: its slices are copies
        lines += data[start:end].splitlines(keepends=True)
    return lines


# Paper records already found canonical (bytes → text), shared by the pieces a process checks.
_known_records: dict[bytes, str] = {}
KNOWN_RECORDS = 1 << 16


def _check_part(
    data: Lines, start: int, end: int, opening: bool, congress: object, head: bytes = b""
) -> _Part:
    """Check ``head`` then ``data[start:end]`` (whole lines; ``opening``: the file's first) as
    canonical events, hash them and link them; the first line's parent and height are checked
    by the caller unless it is the file's first line.

    Long because it is the verifier's hot loop: every line of the record passes through it once,
    with what it calls bound to locals beforehand; a call per line more would cost time on a
    record of a million events."""
    part = _Part()
    papers, text_ids, texts, others = part.papers, part.text_ids, part.texts, part.others
    text_index: dict[bytes, int] = {}
    decode_paper, decode_event, encode_into = _decode_paper, _decode_event, _encoder.encode_into
    paper_line_end = _PAPER_LINE_END
    written = bytearray()
    hashing = hashlib.sha256(HASH_DOMAIN).copy
    # The line up to its "hash" member (the hash input up to there) and with the member's name.
    prefix_end, prefix_digest, member = -1, hashing(), b"\n"
    index = 0
    parent = GENESIS_PARENT if opening else None
    base: int | None = 0 if opening else None  # the height of line 0
    broken: int | None = None
    # The current run of papers: its first line, batch, generation and pass; the next line.
    run_start, run_batch, run_generation, run_pass, run_next = -1, -1, -1, "", -1
    known = _known_records
    for line in _piece_lines(head, data, start, end):
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
                        text = known.get(record)
                        if text is None:
                            text = _record_text(record)
                            if text is not None and len(known) < KNOWN_RECORDS:
                                known[record] = text
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
            if base is None:  # and its height
                part.base = base = event.height
            # The hashed object is the event without "hash": in the canonical line, keys are
            # sorted and "hash" is neither first nor last, and no string can hold ',"' (its
            # '"' would be escaped), so the first ',"hash":' is the member. Its value is 66
            # bytes long, a quoted hex digest; if not, it cannot equal the digest anyway.
            if not line.startswith(member):  # else the member is where it was the line before
                prefix_end = line.find(b',"hash":')
                member = line[: prefix_end + 8]
                prefix_digest = hashing()
                prefix_digest.update(member[:prefix_end])
            digest = prefix_digest.copy()
            digest.update(line[prefix_end + 74 : -1])
            if broken is None and (
                event.parent != parent
                or event.height != base + index
                or event.chain != congress
                or stored != digest.hexdigest()
            ):
                broken = index
        else:
            try:
                slow = parse_event_line(line, index + 1)
            except RecordError:  # named by the caller, which knows the line's number
                part.bad = (index, line)
                return part
            stored = slow.hash
            if parent is None:
                part.first_parent = parent = slow.event.parent
            if base is None:
                part.base = base = slow.event.height
            if broken is None and (
                slow.event.parent != parent
                or slow.event.height != base + index
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
    if run_next >= 0:
        papers.append((run_start, run_batch, run_generation, run_pass, run_next - run_start))
    part.broken = broken
    part.count = index
    if part.count:
        part.last = (index - 1, parent or "")
    part.kinds.update(kind for _, kind, _, _ in others)
    part.kinds["paper.entered"] += len(text_ids)
    return part


def _replay_part(replay: RoundReplay, part: _Part, first: int) -> None:
    """Feed a part's events to the recount, in height order (it stops at its first problem);
    its first line is line ``first`` of the file."""
    others = iter(part.others)
    pending = next(others, None)
    offset = 0
    for start, batch, generation, entry_pass, count in part.papers:
        while pending is not None and pending[0] < start:
            if not replay.feed(first + pending[0], *pending[1:]):
                return
            pending = next(others, None)
        texts = map(part.texts.__getitem__, part.text_ids[offset : offset + count])
        if not replay.enter_papers(first + start, batch, generation, entry_pass, texts):
            return
        offset += count
    while pending is not None and replay.feed(first + pending[0], *pending[1:]):
        pending = next(others, None)


OpenEvents = Callable[[], BinaryIO]  # opens events.jsonl, from its first byte


@dataclass(slots=True)
class _Piece:
    """Whole lines of the file: ``head`` then ``block[start:end]`` (no copy of the block read)."""

    head: bytes
    block: bytes
    start: int
    end: int

    @property
    def size(self) -> int:
        return len(self.head) + self.end - self.start

    def lines(self) -> list[bytes]:
        return _piece_lines(self.head, self.block, self.start, self.end)


def _pieces(file: BinaryIO, digest: "hashlib._Hash") -> Iterator[_Piece]:
    """The file's lines, about ``PIECE_BYTES`` at a time: each block read is a piece, its first
    line completed with the end of the last block's; every byte read is hashed into ``digest``,
    so the bytes hashed are the bytes checked. Lines are not counted here (a scan of every
    byte): their checker counts them."""
    carry = b""
    while block := file.read(PIECE_BYTES):
        digest.update(block)
        newline = block.find(b"\n") + 1
        if not newline:
            carry += block
            continue
        cut = block.rfind(b"\n") + 1
        piece = _Piece(carry + block[:newline], block, newline, cut)
        carry = block[cut:]
        yield piece
    if carry:  # the file changed since its last byte was read: this line is not an event
        yield _Piece(carry, b"", 0, 0)


def _lines_at(open_events: OpenEvents, index: int) -> tuple[bytes | None, bytes]:
    """Lines ``index - 1`` (None for the first) and ``index`` of the file, read again."""
    previous: bytes | None = None
    number = 0
    with open_events() as file:
        for piece in _pieces(file, hashlib.sha256()):
            for line in piece.lines():
                if number == index:
                    return previous, line
                previous, number = line, number + 1
    raise LookupError(f"events.jsonl has no line {index + 1}")


def _name_broken_link(open_events: OpenEvents, index: int, congress: int) -> RecordProblem:
    """The reference's problem with event ``index``, every event before it being linked."""
    previous, line = _lines_at(open_events, index)
    event = parse_event_line(line, index + 1)
    parent = GENESIS_PARENT if previous is None else parse_event_line(previous, index).hash
    first = link_problems(congress, index, parent, event.event, event.hash)[0]
    return RecordProblem(f"event {first.height}", first.message_en, first.message_zh)


def _line_problem(line: bytes, number: int) -> RecordProblem:
    """The reference's problem with line ``number``, which a checker found is not a canonical
    event (it could not name the line: it did not know where its part starts)."""
    try:
        parse_event_line(line, number)
    except RecordError as exc:
        return exc.problem
    raise AssertionError(f"events.jsonl line {number} is a canonical event after all")


@dataclass(frozen=True, slots=True)
class VerifiedEvents:
    event_count: int
    kinds: Counter[str]
    problem: RecordProblem | None
    replay: Replay | None  # None when the record itself has a problem


def _child(receiver: Connection, sender: Connection, shared: mmap.mmap, congress: object) -> None:
    """The second process: check each piece it is sent — ``(number, offset, size)`` then the
    piece's head; the rest of the piece is ``shared[offset:offset + size]`` — and send back
    ``(number, part)``. An empty message ends."""
    with gc_paused():
        while numbers := receiver.recv_bytes():
            head = receiver.recv_bytes()
            number, offset, size = (int.from_bytes(numbers[at : at + 8]) for at in (0, 8, 16))
            part = _check_part(shared, offset, offset + size, number == 0, congress, head)
            sender.send((number, part))
    sender.close()


def _check_stream(
    file: BinaryIO,
    digest: "hashlib._Hash",
    congress: object,
    processes: int,
    take: Callable[[_Part, int], bool],
) -> None:
    """Read ``file`` a piece at a time (a thread reads and hashes ahead) and check the pieces on
    ``processes`` processes (1 or 2): ``take(part, size)`` gets each piece's part in the file's
    order, and returns False to stop reading.

    The second process is forked (Linux only) and given the next piece whenever it has fewer
    than ``CHILD_AHEAD`` pieces to check: the piece is copied into one of ``CHILD_AHEAD`` slots of
    memory shared with it (one copy, where a pipe took two and a system call per 1 MiB) and only
    where it lies goes through the pipe, so it checks bytes that were hashed here; the other
    pieces are checked here (at most ``IN_FLIGHT`` read ahead). If it fails, its pieces are
    checked here. Memory stays bounded whatever the file's size: the pieces in
    flight and the parts waiting for the ones before them.

    Long because its threads (reading, sending to and receiving from the second process) and the
    loop taking the parts share one set of queues, a lock and a stop flag as closures; apart,
    each would take them all as arguments.
    """
    # (number, piece to check here or None, part checked by the second process or None, size)
    inbox: queue.SimpleQueue[tuple[int, _Piece | None, _Part | None, int]] = queue.SimpleQueue()
    slots = threading.Semaphore(IN_FLIGHT)  # pieces read for this process, not yet checked
    stop = threading.Event()
    failure: list[OSError] = []
    lock = threading.Lock()
    sent: dict[int, _Piece] = {}  # pieces with the second process
    child_gone = [True]
    outbox: queue.SimpleQueue[tuple[int, _Piece] | None] = queue.SimpleQueue()
    child: Any = None
    threads: list[threading.Thread] = []
    if processes >= 2 and sys.platform.startswith("linux"):
        slot_bytes = PIECE_BYTES
        shared = mmap.mmap(-1, max(1, CHILD_AHEAD) * slot_bytes)  # anonymous: shared on fork
        context = multiprocessing.get_context("fork")
        child_in, to_child = context.Pipe(duplex=False)
        from_child, child_out = context.Pipe(duplex=False)
        child = context.Process(
            target=_child, args=(child_in, child_out, shared, congress), daemon=True
        )
        child.start()
        child_in.close()
        child_out.close()
        child_gone[0] = False
        import fcntl  # Linux only, as this path

        for end in (to_child, from_child):  # a piece in a few writes, not one per 64 KiB
            with suppress(OSError):
                fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)

        def send() -> None:
            # Slots are used in turn: the second process checks its pieces in the order sent
            # and has fewer than CHILD_AHEAD when it is sent one, so the slot is free again.
            sends = 0
            while (job := outbox.get()) is not None:
                number, piece = job
                offset = sends % CHILD_AHEAD * slot_bytes
                sends += 1
                size = piece.end - piece.start
                shared[offset : offset + size] = memoryview(piece.block)[piece.start : piece.end]
                where = (number, offset, size)
                try:
                    to_child.send_bytes(b"".join(value.to_bytes(8) for value in where))
                    to_child.send_bytes(piece.head)
                except OSError:  # the second process is gone: the receiver hands it back
                    pass
            with suppress(OSError):
                to_child.send_bytes(b"")
            to_child.close()

        def receive() -> None:
            try:
                while True:
                    number, part = from_child.recv()
                    with lock:
                        size = sent.pop(number).size
                    inbox.put((number, None, part, size))
            except (EOFError, OSError):  # the end, or the second process failed
                pass
            with lock:
                child_gone[0] = True
                left = sorted(sent.items())
                sent.clear()
            for number, piece in left:  # checked here instead, as if read for it
                slots.acquire()
                inbox.put((number, piece, None, piece.size))
            from_child.close()

        threads += [threading.Thread(target=send), threading.Thread(target=receive)]

    def read() -> None:
        count = 0
        try:
            for number, piece in enumerate(_pieces(file, digest)):
                count = number + 1
                while not stop.is_set():
                    with lock:
                        if not child_gone[0] and len(sent) < CHILD_AHEAD:
                            sent[number] = piece
                            outbox.put((number, piece))
                            break
                    if slots.acquire(timeout=0.005 if child is not None else None):
                        inbox.put((number, piece, None, piece.size))
                        break
                if stop.is_set():
                    break
        except OSError as exc:
            failure.append(exc)
        finally:
            outbox.put(None)
            inbox.put((-1, None, None, count))  # the end: how many pieces

    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    ready: dict[int, tuple[_Part, int]] = {}
    following = 0  # the next piece to take
    total: int | None = None
    try:
        while total is None or following < total:
            number, piece, part, size = inbox.get()
            if number < 0:
                total = size
                continue
            if piece is not None:  # read for this process (or handed back by the second one)
                part = _check_part(
                    piece.block, piece.start, piece.end, number == 0, congress, piece.head
                )
                slots.release()
            assert part is not None
            ready[number] = (part, size)
            while following in ready:
                part, size = ready.pop(following)
                following += 1
                if not take(part, size):
                    return
    finally:
        stop.set()
        while any(thread.is_alive() for thread in threads):
            with suppress(queue.Empty):
                inbox.get(timeout=0.01)
            slots.release()
        for thread in threads:
            thread.join()
        if child is not None:
            child.join()
            shared.close()
    if failure:
        raise failure[0]


def verify_events_stream(
    open_events: OpenEvents,
    body: Mapping[str, JsonValue],
    progress: Callable[[int], None] | None = None,
    processes: int | None = None,
) -> VerifiedEvents:
    """``verify_events`` and, for an intact record, ``replay_rounds`` (same problems, same
    replay), reading ``events.jsonl`` once, a piece at a time, without keeping the events: the
    recount keeps the counts of records of its rounds and of the batches still being entered
    (``RoundReplay``), the chain the last hash. ``progress`` is called
    with the bytes checked so far; ``processes`` (1 or 2) defaults to 2 from ``PARALLEL_BYTES``.

    Long because ``take``, called for each piece in order, folds it into the counts, the chain's
    last hash and the recount held by this function: a closure over them.
    """
    if body.get("format") != RECORD_FORMAT:
        unknown = RecordProblem("manifest.json", "unknown record format", "未知的记录格式")
        return VerifiedEvents(0, Counter(), unknown, None)
    with open_events() as file:
        size = file.seek(0, io.SEEK_END)
        if size:
            file.seek(-1, io.SEEK_END)
            if file.read(1) != b"\n":
                unended = RecordProblem(
                    "events.jsonl", "the file does not end with a newline", "文件未以换行结束"
                )
                return VerifiedEvents(0, Counter(), unended, None)
        file.seek(0)
        if processes is None:
            processes = 2 if size >= PARALLEL_BYTES else 1
        congress = body.get("congress")
        digest = hashlib.sha256()
        replay = RoundReplay()
        count = 0
        kinds: Counter[str] = Counter()
        problem: RecordProblem | None = None
        broken: int | None = None
        last: tuple[int, str] | None = None
        done = 0

        def take(part: _Part, piece_size: int) -> bool:
            nonlocal count, problem, broken, last, done
            first = count  # the part's first line in the file
            count += part.count
            kinds.update(part.kinds)
            if part.bad is not None:  # the first line that is not canonical: nothing else
                problem = _line_problem(part.bad[1], first + part.bad[0] + 1)
                return False
            if broken is None:
                if part.count and (
                    part.base != first or (last is not None and part.first_parent != last[1])
                ):
                    broken = first
                elif part.broken is not None:
                    broken = first + part.broken
                else:  # recounted while the next pieces are read and checked
                    _replay_part(replay, part, first)
            if part.last is not None:
                last = (first + part.last[0], part.last[1])
            done += piece_size
            if progress is not None:
                progress(done)
            return True

        with gc_paused():
            _check_stream(file, digest, congress, processes, take)
    if problem is not None:
        return VerifiedEvents(count, kinds, problem, None)
    if not isinstance(congress, int):
        problem = RecordProblem("manifest.json", "no congress id", "缺少大会编号")
        return VerifiedEvents(count, kinds, problem, None)
    if broken is not None:
        return VerifiedEvents(count, kinds, _name_broken_link(open_events, broken, congress), None)
    mismatch = manifest_problem(body, count, last, digest.hexdigest())
    if mismatch is not None:
        return VerifiedEvents(count, kinds, mismatch, None)
    return VerifiedEvents(count, kinds, None, replay.result())


def verify_events_fast(
    events_file: bytes,
    body: Mapping[str, JsonValue],
    progress: Callable[[int], None] | None = None,
    processes: int | None = None,
) -> VerifiedEvents:
    """``verify_events_stream`` of ``events.jsonl`` given as bytes."""
    return verify_events_stream(lambda: io.BytesIO(events_file), body, progress, processes)


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
    """``check_record`` then ``replay_rounds``, the streaming way (``verify_events_stream``):
    ``events.jsonl`` is read once, a piece at a time, whatever its size.

    ``progress(done, total)`` reports the bytes of ``events.jsonl`` checked so far.
    """
    signed = open_manifest(directory, expected_public_key=expected_public_key)
    if isinstance(signed, RecordProblem):
        return VerifiedRecord(0, Counter(), {}, "", signed, None)
    path = directory / EVENTS_FILE
    try:
        size = path.stat().st_size
        checked = verify_events_stream(
            lambda: path.open("rb"),
            signed.body,
            None if progress is None else lambda done: progress(done, size),
            processes,
        )
    except OSError as exc:
        problem = RecordProblem(str(directory), f"cannot read the record: {exc}", "无法读取记录")
        return VerifiedRecord(0, Counter(), signed.body, signed.public_key, problem, None)
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
    """``pinned_event_in`` of ``events.jsonl`` given as bytes."""
    return pinned_event_in(io.BytesIO(events_file), head)


def pinned_event_in(file: BinaryIO, head: str) -> Pin | None:
    """The event of an intact ``events.jsonl`` whose hash is ``head`` (the chain's head when the
    report was printed), or None: then the record up to that point was rewritten after the report
    was printed (every hash from the rewritten event on changes), or it is another chain.

    Call it on a verified record only: each line's ``hash`` has then been checked. The file is
    read once, a piece at a time (a record may hold 20M events).
    """
    needle = f'"hash":"{head}"'.encode()
    height: int | None = None
    after = 0
    for read in _pieces(file, hashlib.sha256()):
        piece = read.head + read.block[read.start : read.end]
        if height is not None:
            after += piece.count(b"\n")
            continue
        found = piece.find(needle)
        while found != -1:
            start = piece.rfind(b"\n", 0, found) + 1
            end = piece.find(b"\n", found)
            end = len(piece) if end == -1 else end
            document = json.loads(piece[start:end])
            if document.get("hash") == head:
                height, after = int(document["height"]), piece.count(b"\n", end + 1)
                break
            found = piece.find(needle, found + 1)
    return None if height is None else Pin(height, after)
