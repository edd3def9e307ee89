"""app.ledger.chain: canonical JSON, hashes, verification (pure; 100% coverage required)."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ledger import chain
from app.ledger.chain import Event


def test_canonical_json_sorts_keys_without_whitespace() -> None:
    assert chain.canonical_json({"b": [1, "汉"], "a": None}) == '{"a":null,"b":[1,"汉"]}'.encode()


def test_canonical_json_escapes_exactly_the_documented_characters() -> None:
    text = 'q"b\\n\n t\t\x01\x7f\u2028é'
    encoded = chain.canonical_json({"s": text})
    assert encoded == b'{"s":"q\\"b\\\\n\\n t\\t\\u0001\x7f\xe2\x80\xa8\xc3\xa9"}'


def test_canonical_json_sorts_by_code_point() -> None:
    # "Z" (U+005A) < "a" (U+0061) < "é" (U+00E9) < "汉" (U+6C49)
    assert chain.canonical_json({"汉": 1, "é": 2, "a": 3, "Z": 4, "": True, "t": False}) == (
        '{"":true,"Z":4,"a":3,"t":false,"é":2,"汉":1}'.encode()
    )


def test_canonical_json_tuples_are_arrays_and_negatives() -> None:
    assert chain.canonical_json((0, -7, 2**53 - 1)) == b"[0,-7,9007199254740991]"


@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        (1.0, "$", "float is not allowed"),
        ({"a": [1, 2**53]}, "$.a[1]", "integer outside"),
        ({"a": "\ud800"}, "$.a", "lone surrogate"),
        ({1: "x"}, "$", "object key 1 is not a string"),
        ({"s": {1, 2}}, "$.s", "set is not allowed"),
    ],
)
def test_canonical_json_refuses(value: object, path: str, reason: str) -> None:
    with pytest.raises(chain.CanonicalJsonError) as info:
        chain.canonical_json(value)  # type: ignore[arg-type]
    assert info.value.path == path
    assert reason in info.value.reason


def test_lone_surrogate_in_a_key_is_refused() -> None:
    with pytest.raises(chain.CanonicalJsonError, match="lone surrogate"):
        chain.canonical_json({"\udfff": 1})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_canonical_json_round_trips(value: chain.JsonValue) -> None:
    import json

    encoded = chain.canonical_json(value)
    decoded = json.loads(encoded)
    assert decoded == value
    assert chain.canonical_json(decoded) == encoded


def test_coarse_minute_is_utc_and_truncated() -> None:
    moment = datetime(2026, 11, 14, 19, 5, 59, 999, tzinfo=timezone(timedelta(hours=8)))
    assert chain.coarse_minute(moment) == "2026-11-14T11:05Z"
    assert chain.coarse_minute(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00Z"


def test_coarse_minute_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        chain.coarse_minute(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


def test_event_hash_is_documented_sha256() -> None:
    event = Event(
        chain=1,
        height=0,
        parent=chain.GENESIS_PARENT,
        type="congress.created",
        payload={"name": "大会"},
        at="2026-11-14T11:05Z",
        actor_role="admin",
    )
    body = (
        '{"actor_role":"admin","at":"2026-11-14T11:05Z","chain":1,"height":0,'
        f'"parent":"{"0" * 64}","payload":{{"name":"大会"}},"type":"congress.created"}}'
    )
    expected = hashlib.sha256(b"jipiao-event-v1\n" + body.encode()).hexdigest()
    assert chain.event_hash(event) == expected


@given(
    payload=st.dictionaries(st.text(max_size=5), json_values, max_size=4),
    type_=st.text(max_size=6),
    actor_role=st.text(max_size=6),
    height=st.integers(0, 2**53 - 1),
)
def test_the_hash_input_is_the_whole_events_canonical_json(
    payload: dict[str, chain.JsonValue], type_: str, actor_role: str, height: int
) -> None:
    """The payload written into the hash input once, as it is stored, gives the bytes of the
    whole object's canonical JSON (what an auditor re-implements from the module docstring)."""
    event = Event(7, height, "ab" * 32, type_, payload, "2026-11-14T11:05Z", actor_role)
    whole = chain.canonical_json(
        {
            "actor_role": actor_role,
            "at": event.at,
            "chain": 7,
            "height": height,
            "parent": event.parent,
            "payload": payload,
            "type": type_,
        }
    )
    assert event.hash_input() == chain.HASH_DOMAIN + whole
    assert event.hash_input(chain.canonical_json(payload)) == chain.HASH_DOMAIN + whole
    assert chain.event_hash(event, chain.canonical_json(payload)) == chain.event_hash(event)


def _build(length: int, chain_id: int = 3) -> list[tuple[Event, str]]:
    events: list[tuple[Event, str]] = []
    head: tuple[int, str] | None = None
    for i in range(length):
        event, digest = chain.next_event(
            chain=chain_id,
            head=head,
            type="t",
            payload={"i": i},
            at="2026-11-14T11:05Z",
            actor_role="admin",
        )
        events.append((event, digest))
        head = (event.height, digest)
    return events


def test_next_event_links_heights_and_parents() -> None:
    events = _build(3)
    assert [e.height for e, _ in events] == [0, 1, 2]
    assert events[0][0].parent == chain.GENESIS_PARENT
    assert events[1][0].parent == events[0][1]
    assert events[2][0].parent == events[1][1]
    assert chain.verify_chain(3, events) == []
    assert chain.verify_chain(3, []) == []


def test_verify_finds_a_changed_payload() -> None:
    events = _build(3)
    event, digest = events[1]
    events[1] = (
        Event(event.chain, event.height, event.parent, event.type, {"i": 99}, event.at, "admin"),
        digest,
    )
    problems = chain.verify_chain(3, events)
    assert [(p.height, p.message_en[:11]) for p in problems] == [(1, "stored hash")]
    assert "不一致" in problems[0].message_zh


def test_verify_finds_a_wrong_parent_a_gap_and_another_chain() -> None:
    events = _build(4)
    forged, _ = chain.next_event(
        chain=3, head=(0, "f" * 64), type="t", payload={}, at="x", actor_role="admin"
    )
    events[1] = (forged, chain.event_hash(forged))
    problems = chain.verify_chain(3, events)
    assert problems[0].height == 1
    assert problems[0].message_en == "parent is not the hash of the previous event"
    # the following event names the original event 1, not the forged one
    assert problems[1].height == 2

    gap = _build(3)
    del gap[1]
    assert [p.message_en for p in chain.verify_chain(3, gap)] == ["height 2 where 1 was expected"]

    other = _build(1, chain_id=4)
    assert [p.message_en for p in chain.verify_chain(3, other)] == [
        "event belongs to chain 4, not 3"
    ]
