"""``app.audit.verify`` (the fast path of ``jipiao audit verify``) against the reference path,
``verify_events`` + ``replay_rounds``: the same problem, named the same way, and the same recount,
on valid records and on every kind of tampering, in one process and split between two."""

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.audit.verify as fast
from app.ledger.chain import JsonValue, canonical_json, next_event
from app.ledger.replay import (
    StoredEvent,
    event_line,
    manifest_body,
    parse_event_lines,
    replay_rounds,
    verify_events,
)
from tests.builders import election_events, with_payload


def record_of(events: list[StoredEvent]) -> tuple[bytes, dict[str, JsonValue]]:
    data = b"".join(event_line(stored) for stored in events)
    body = manifest_body(
        congress=7, election=1, events=events, events_sha256=hashlib.sha256(data).hexdigest()
    )
    return data, dict(body)


def reference(data: bytes, body: dict[str, JsonValue]) -> tuple[Any, ...]:
    events, problem = verify_events(data, body)
    if problem is not None:
        return (problem, None)
    return (None, replay_rounds(events), len(events), Counter(s.event.type for s in events))


def fast_path(data: bytes, body: dict[str, JsonValue], processes: int) -> tuple[Any, ...]:
    checked = fast.verify_events_fast(data, body, processes=processes)
    if checked.problem is not None:
        return (checked.problem, None)
    return (None, checked.replay, checked.event_count, checked.kinds)


def agree(data: bytes, body: dict[str, JsonValue]) -> tuple[Any, ...]:
    expected = reference(data, body)
    for processes in (1, 2):
        assert fast_path(data, body, processes) == expected
    size = fast.PIECE_BYTES
    try:  # pieces of a few lines
        fast.PIECE_BYTES = 4000
        assert fast_path(data, body, 2) == expected
    finally:
        fast.PIECE_BYTES = size
    return expected


def test_a_valid_record_recounts_the_same() -> None:
    data, body = record_of(election_events())
    problem, replay, count, kinds = agree(data, body)
    assert problem is None
    assert count == data.count(b"\n") == sum(kinds.values())
    assert replay.problem is None
    assert replay.decisions_checked == 1
    assert len(replay.certified) == 1
    assert kinds["paper.entered"] == 24 * 2 + 5 * 2


def test_an_empty_record() -> None:
    assert agree(*record_of([]))[0] is None


@pytest.mark.parametrize(("ahead", "in_flight"), [(0, 1), (1, 1), (1, 4), (2, 1), (5, 2)])
def test_the_split_between_the_processes_can_fall_anywhere(
    ahead: int, in_flight: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pieces go to the second process while it has fewer than CHILD_AHEAD (0: none).
    monkeypatch.setattr(fast, "CHILD_AHEAD", ahead)
    monkeypatch.setattr(fast, "IN_FLIGHT", in_flight)
    data, body = record_of(election_events())
    assert agree(data, body)[0] is None
    lines = data.splitlines(keepends=True)
    lines[len(lines) // 2] = lines[len(lines) // 2].replace(b'"teller"', b'"admin"')
    assert agree(b"".join(lines), body)[0] is not None


def test_a_failing_second_process_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    def die(*_: object) -> None:
        raise SystemExit(3)

    monkeypatch.setattr(fast, "_child", die)
    data, body = record_of(election_events())
    assert fast_path(data, body, 2) == reference(data, body)


RECORD = record_of(election_events())
LINES = RECORD[0].splitlines(keepends=True)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_byte_flip_gives_the_reference_problem(data: st.DataObject) -> None:
    content = bytearray(RECORD[0])
    index = data.draw(st.integers(0, len(content) - 1))
    content[index] ^= data.draw(st.integers(1, 255))
    assert agree(bytes(content), RECORD[1])[0] is not None


Edit = Callable[[list[bytes]], list[bytes]]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_dropped_reordered_duplicated_or_respaced_lines(data: st.DataObject) -> None:
    lines = list(LINES)
    i = data.draw(st.integers(0, len(lines) - 1))
    j = data.draw(st.integers(0, len(lines) - 1))
    kind = data.draw(st.sampled_from(["drop", "swap", "duplicate", "space", "float", "escape"]))
    if kind == "drop":
        del lines[i]
    elif kind == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "duplicate":
        lines.insert(j, lines[i])
    elif kind == "space":
        lines[i] = lines[i].replace(b",", b", ", 1)
    elif kind == "float":
        lines[i] = lines[i].replace(b'"chain":7', b'"chain":7.0', 1)
    else:  # the same string, escaped
        lines[i] = lines[i].replace(b'"at":"2', b'"at":"\\u0032', 1)
    problem = agree(b"".join(lines), RECORD[1])[0]
    assert (problem is None) == (lines == LINES)


def rehashed(events: list[StoredEvent]) -> tuple[bytes, dict[str, JsonValue]]:
    """An insider with the key: the events re-hashed into a valid chain."""
    rebuilt: list[StoredEvent] = []
    for stored in events:
        e = stored.event
        head = (rebuilt[-1].event.height, rebuilt[-1].hash) if rebuilt else None
        event, digest = next_event(chain=e.chain, head=head, type=e.type, payload=e.payload,
                                   at=e.at, actor_role=e.actor_role)  # fmt: skip
        rebuilt.append(StoredEvent(event, digest))
    return record_of(rebuilt)


PAYLOAD_EDITS: list[Callable[[dict[str, Any]], None]] = [
    lambda p: p.update(batch_id=999),  # an unknown batch
    lambda p: p.update(batch_id="1"),
    lambda p: p.update(generation=None),
    lambda p: p.update(record=["yes"]),  # a record that is not an object
    lambda p: p.update(record={"marks": ["no", "no", "no"], "void": None, "write_ins": []}),
    lambda p: p.update(extra={"k": [1, 2]}),  # not the usual shape: the general path
    lambda p: p.update(rule=5),
    lambda p: p.pop("pass", None),
    lambda p: p.pop("record", None),
    lambda p: p.update(round_id=2**53 - 1),
    lambda p: p.update(record={"marks": ["yes", "yes", "yes"], "void": "x", "write_ins": ["张"]}),
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_rewritten_and_resigned_events_recount_the_same(data: st.DataObject) -> None:
    events = parse_event_lines(RECORD[0])
    i = data.draw(st.integers(0, len(events) - 1))
    payload = json.loads(canonical_json(events[i].event.payload))
    edit = data.draw(st.sampled_from(PAYLOAD_EDITS))
    edit(payload)
    events[i] = with_payload(events[i], payload)
    if data.draw(st.booleans()):
        j = data.draw(st.integers(0, len(events) - 1))
        del events[j]
    agree(*rehashed(events))


def test_another_congress_or_manifest() -> None:
    data, body = RECORD
    for changed in (
        {**body, "congress": 8},
        {**body, "congress": "7"},
        {**body, "format": "other"},
        {**body, "event_count": 1},
        {**body, "head_hash": "0" * 64},
        {**body, "events_sha256": "0" * 64},
    ):
        assert agree(data, changed)[0] is not None
    assert agree(data.rstrip(b"\n"), body)[0] is not None
    assert agree(data + b"\r\n", body)[0] is not None


def test_a_boolean_chain_id_is_refused_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    # "chain":true is canonical JSON, but not congress 1 (Python would compare it equal): the
    # typed decoders refuse it, the line takes the reference's path, and that refuses it too.
    events: list[StoredEvent] = []
    for n in range(6):
        head = (events[-1].event.height, events[-1].hash) if events else None
        event, digest = next_event(chain=True, head=head, type="note", payload={"n": n},
                                   at="2026-11-14T11:05Z", actor_role="admin")  # fmt: skip
        events.append(StoredEvent(event, digest))
    data = b"".join(event_line(stored) for stored in events)
    body = manifest_body(congress=1, election=1, events=events,
                         events_sha256=hashlib.sha256(data).hexdigest())  # fmt: skip
    assert b'"chain":true' in data
    problem = agree(data, dict(body))[0]
    assert problem is not None
    assert problem.where == "events.jsonl line 1"
    monkeypatch.setattr(fast, "PIECE_BYTES", len(data) // 2)  # two pieces, on two processes
    assert agree(data.replace(b'"n":4', b'"n":5'), dict(body))[0] is not None


def test_the_link_between_the_pieces_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    data, body = RECORD
    for share in (0.2, 0.5, 0.8):
        split = data.find(b"\n", int(len(data) * share)) + 1
        after = data.find(b"\n", split) + 1
        for edited in (data[:split] + data[after:], data[:split] + LINES[0] + data[split:]):
            expected = reference(edited, body)
            assert expected[0] is not None
            assert expected[0].where.startswith("event ")
            # The first piece read ends exactly where the chain is broken.
            monkeypatch.setattr(fast, "PIECE_BYTES", split)
            for processes in (1, 2):
                assert fast_path(edited, body, processes) == expected


@pytest.mark.parametrize("step", [0, 2])
def test_a_height_repeated_or_skipped_in_a_linked_chain(
    step: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every event hashed and linked to the one before, one height wrong: only the heights show
    # it. A part numbers its lines from its first event's own height; the caller checks that
    # height against the lines counted before the part, as the first line of the file is.
    events = parse_event_lines(RECORD[0])
    for at in (1, len(events) // 3, len(events) - 1):
        rebuilt = events[:at]
        for stored in events[at:]:
            e, last = stored.event, rebuilt[-1]
            height = last.event.height + (step if len(rebuilt) == at else 1)
            event, digest = next_event(chain=e.chain, head=(height - 1, last.hash),
                                       type=e.type, payload=e.payload, at=e.at,
                                       actor_role=e.actor_role)  # fmt: skip
            rebuilt.append(StoredEvent(event, digest))
        data, body = record_of(rebuilt)
        expected = reference(data, body)
        assert expected[0] is not None
        assert expected[0].where.startswith("event ")
        start = sum(map(len, LINES[:at]))
        for piece in (start, start - 1, start + 1, fast.PIECE_BYTES):  # where a piece starts
            monkeypatch.setattr(fast, "PIECE_BYTES", piece)
            for processes in (1, 2):
                assert fast_path(data, body, processes) == expected


def hand_written(events: list[StoredEvent], payload: dict[str, Any]) -> bytes:
    """The record with one more event whose payload canonical_json refuses, hashed as the
    reference would hash it if it were canonical: only the canonical check can catch it."""
    last = events[-1]
    event: dict[str, Any] = {"actor_role": "teller", "at": "2026-11-14T11:05Z", "chain": 7,
                             "height": last.event.height + 1, "parent": last.hash,
                             "payload": payload, "type": "paper.entered"}  # fmt: skip
    text = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    event["hash"] = hashlib.sha256(b"jipiao-event-v1\n" + text).hexdigest()
    line = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return b"".join(event_line(stored) for stored in events) + line + b"\n"


@pytest.mark.parametrize(
    "changes",
    [
        {"round_id": 2**53},
        {"record": {"marks": ["yes"], "void": -(2**53), "write_ins": []}},
        {"extra": [1, {"n": 2**60}]},
    ],
)
def test_an_unsafe_integer_anywhere_in_a_payload(changes: dict[str, Any]) -> None:
    events = parse_event_lines(RECORD[0])[:-3]
    payload = {"batch_id": 1, "generation": 1, "paper_id": "x", "pass": "a", "record":
               {"marks": ["yes"], "void": None, "write_ins": []}, "round_id": 1,
               "round_number": 1, "rule": None, "status": "valid", **changes}  # fmt: skip
    problem = agree(hand_written(events, payload), RECORD[1])[0]
    assert problem is not None
    assert "canonical" in problem.message_en
