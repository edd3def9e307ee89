"""The record format of app.ledger.replay, line by line (pure, no database)."""

import hashlib

import pytest

from app.ledger.chain import JsonValue, next_event
from app.ledger.replay import (
    RECORD_FORMAT,
    RecordError,
    RecordProblem,
    StoredEvent,
    event_line,
    manifest_body,
    parse_event_line,
    parse_event_lines,
    verify_events,
    verify_extension,
)


def chain_of(count: int, congress: int = 1) -> list[StoredEvent]:
    events: list[StoredEvent] = []
    for index in range(count):
        head = None if not events else (events[-1].event.height, events[-1].hash)
        event, digest = next_event(
            chain=congress,
            head=head,
            type="test.step",
            payload={"n": index, "名": "王宁\n"},
            at="2026-11-14T19:05Z",
            actor_role="admin",
        )
        events.append(StoredEvent(event, digest))
    return events


def record_of(events: list[StoredEvent], congress: int = 1) -> tuple[bytes, dict[str, JsonValue]]:
    data = b"".join(event_line(stored) for stored in events)
    body = manifest_body(
        congress=congress, election=7, events=events, events_sha256=hashlib.sha256(data).hexdigest()
    )
    return data, dict(body)


def test_round_trip() -> None:
    events = chain_of(5)
    data, body = record_of(events)
    parsed, problem = verify_events(data, body)
    assert problem is None
    assert parsed == events
    assert body["format"] == RECORD_FORMAT


def test_empty_record_is_intact() -> None:
    data, body = record_of([])
    assert body["head_height"] == -1
    assert verify_events(data, body)[1] is None


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (b"not json\n", "not JSON"),
        (b"[1]\n", "not an event"),
        (b'{"a":1}\n', "not an event"),
        (b"\xff\n", "not JSON"),
        (b"[" * 100_000 + b"\n", "nested too deeply"),
        (b'{"payload":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "nested too deeply"),
    ],
)
def test_bad_lines_are_named(line: bytes, needle: str) -> None:
    with pytest.raises(RecordError) as error:
        parse_event_lines(event_line(chain_of(1)[0]) + line)
    assert error.value.problem.where == "events.jsonl line 2"
    assert needle in error.value.problem.message_en


def test_non_canonical_but_equivalent_line_is_refused() -> None:
    line = event_line(chain_of(1)[0])
    spaced = line.replace(b'"at":', b'"at": ')
    with pytest.raises(RecordError, match="canonical"):
        parse_event_lines(spaced)


def test_wrong_field_type_is_refused() -> None:
    line = event_line(chain_of(1)[0]).replace(b'"height":0', b'"height":"0"')
    with pytest.raises(RecordError):
        parse_event_lines(line)


def test_a_float_in_a_payload_is_not_canonical() -> None:
    line = event_line(chain_of(1)[0]).replace(b'"n":0', b'"n":0.5')
    with pytest.raises(RecordError, match="canonical"):
        parse_event_lines(line)


def test_missing_final_newline() -> None:
    with pytest.raises(RecordError, match="newline"):
        parse_event_lines(event_line(chain_of(1)[0]).rstrip(b"\n"))


def test_dropping_the_last_event_is_caught_by_the_manifest() -> None:
    events = chain_of(4)
    _, body = record_of(events)
    shorter = b"".join(event_line(stored) for stored in events[:-1])
    _, problem = verify_events(shorter, body)
    assert problem is not None
    assert problem.where == "manifest.json"


def test_manifest_of_another_format_or_congress() -> None:
    data, body = record_of(chain_of(2))
    assert verify_events(data, {**body, "format": "x"})[1] is not None
    assert verify_events(data, {**body, "congress": "1"})[1] is not None
    problem = verify_events(data, {**body, "congress": 2})[1]
    assert problem is not None
    assert problem.where == "event 0"


def test_extension() -> None:
    events = chain_of(6)
    assert verify_extension(events[:3], events) is None
    assert verify_extension(events, events[:3]) is not None
    other = chain_of(6, congress=2)
    problem = verify_extension(events[:3], other)
    assert problem is not None
    assert "rewritten" in problem.message_en


def test_an_unsafe_integer_is_not_canonical() -> None:
    line = event_line(chain_of(1)[0]).replace(b'"n":0', b'"n":9007199254740992')
    with pytest.raises(RecordError) as error:
        parse_event_lines(line)
    assert error.value.problem.message_en == (
        "not canonical: $.payload.n: integer outside ±(2**53 - 1)"
    )
    assert error.value.problem.message_zh == "不是规范编码"


def test_the_reference_reads_a_canonical_line() -> None:
    events = chain_of(2)
    line = event_line(events[1])
    assert parse_event_line(line, 2) == events[1]
    assert parse_event_lines(event_line(events[0]) + line) == events


def test_a_line_that_is_not_canonical_is_the_records_problem() -> None:
    events = chain_of(3)
    data, body = record_of(events)
    spaced = data.replace(b'"n":1', b'"n": 1')
    parsed, problem = verify_events(spaced, body)
    assert parsed == []
    assert problem == RecordProblem(
        "events.jsonl line 2", "the line is not in canonical form", "该行不是规范编码"
    )


def test_progress_every_65536_lines() -> None:
    line = event_line(chain_of(1)[0])
    calls: list[int] = []
    events = parse_event_lines(line * 65537, progress=calls.append)
    assert calls == [65536 * len(line)]
    assert len(events) == 65537
