"""The fast canonical check of ``app.audit.verify`` against ``canonical_json`` (the reference):
msgspec writes every value as ``canonical_json`` does, and ``canonical_value`` accepts a text only
when it is the canonical JSON of what the standard library reads from it."""

import json
import sys
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.audit.verify import _decode_event, _decode_paper, _encoder, canonical_value
from app.ledger.chain import MAX_SAFE_INTEGER, CanonicalJsonError, canonical_json

CODE_POINTS = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]


def test_every_code_point_is_written_as_canonical_json_writes_it() -> None:
    # One list: its strings are JSON tokens, so equal lists mean equal tokens, one by one.
    assert _encoder.encode(CODE_POINTS) == canonical_json(CODE_POINTS)
    keys = dict.fromkeys(CODE_POINTS[::97], 0)  # key order: by code point, surrogate pairs too
    assert _encoder.encode(keys) == canonical_json(keys)


def test_every_code_point_is_read_back() -> None:
    text = canonical_json(CODE_POINTS)
    assert canonical_value(text) == CODE_POINTS


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.sampled_from([0, -1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER])
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=400)
@given(json_values)
def test_msgspec_writes_canonical_json(value: Any) -> None:
    encoded = canonical_json(value)
    assert _encoder.encode(value) == encoded
    assert canonical_value(encoded) == value
    if value is not None:
        assert canonical_value(encoded) is not None


@pytest.mark.parametrize("number", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 2**63, 2**64])
def test_an_unsafe_integer_is_refused(number: int) -> None:
    with pytest.raises(CanonicalJsonError):
        canonical_json({"n": number})
    text = json.dumps({"n": [number]}, separators=(",", ":")).encode()
    assert canonical_value(text) is None
    line = _event_line({"chain": number})
    with pytest.raises(msgspec.ValidationError):
        _decode_event(line)


@pytest.mark.parametrize(
    "text",
    [
        b"1.0",
        b"[1e5]",
        b'{"a":-0.0}',
        b'{"a":1E2}',
        b"-0",
        b"01",
        b"NaN",
        b"Infinity",
        b'{"a":1,"a":1}',  # duplicate key
        b'{"b":1,"a":2}',  # unsorted
        b'{"a": 1}',  # whitespace
        b" 1",
        b"1 ",
        b'"\\/"',  # an escape canonical JSON does not write
        b'"\\u0041"',
        b'"\\u001F"',  # uppercase hex
        b'"\\u001f\\u000a"',  # \n has a short escape
        b'"\\ud800"',  # lone surrogate
        b'"\xed\xa0\x80"',  # a surrogate in UTF-8
        b'"\xff"',
        b"\xef\xbb\xbf1",  # BOM
        b'"a\x01"',  # a raw control character
        b"[1,]",
        b"1 2",
        b"",
    ],
)
def test_texts_that_are_not_canonical(text: bytes) -> None:
    assert canonical_value(text) is None


@settings(max_examples=400)
@given(json_values, st.data())
def test_a_mutated_text_is_accepted_only_if_canonical(value: Any, data: st.DataObject) -> None:
    text = bytearray(canonical_json(value))
    mutation = data.draw(st.sampled_from(["flip", "insert", "delete"]))
    index = data.draw(st.integers(0, len(text) - 1))
    if mutation == "flip":
        text[index] ^= data.draw(st.integers(1, 255))
    elif mutation == "insert":
        text.insert(index, data.draw(st.sampled_from(b' ."\\.e-0\n')))
    else:
        del text[index]
    accepted = canonical_value(bytes(text))
    try:
        reference = canonical_json(json.loads(bytes(text))) == bytes(text)
    except (ValueError, CanonicalJsonError):
        reference = False
    if accepted is not None:
        assert reference
        assert accepted == json.loads(bytes(text))
    elif bytes(text) != b"null":
        assert not reference


def _event_line(changes: dict[str, Any]) -> bytes:
    event: dict[str, Any] = {
        "actor_role": "teller",
        "at": "2026-11-14T11:05Z",
        "chain": 1,
        "hash": "0" * 64,
        "height": 5,
        "parent": "1" * 64,
        "payload": {
            "batch_id": 1,
            "generation": 1,
            "paper_id": "p",
            "pass": "a",
            "record": {"marks": ["yes"], "void": None, "write_ins": []},
            "round_id": 1,
            "round_number": 1,
            "rule": None,
            "status": "valid",
        },
        "type": "paper.entered",
    }
    event.update(changes)
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def test_the_typed_events_write_back_the_canonical_line() -> None:
    line = _event_line({})
    for decode in (_decode_paper, _decode_event):
        assert _encoder.encode(decode(line)) + b"\n" == line


@pytest.mark.parametrize(
    "changes",
    [
        {"chain": True},  # not congress 1: refused here, then by the reference
        {"height": 1.0},
        {"height": "5"},
        {"payload": {"batch_id": 1}},  # not the usual paper shape
        {"hash": None},
    ],
)
def test_the_paper_shape_is_exact(changes: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError):
        _decode_paper(_event_line(changes))
