"""``canonical_json`` (a quick pass for plain values, the per-member check only for what it must
refuse) against the reference it replaced: ``_check`` on every member, then the same ``json.dumps``.
The chain format is a spec: the bytes, and every refusal with its path and reason, must be equal."""

import json
from collections import OrderedDict
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.ledger import chain


def reference(value: Any) -> bytes:
    chain._check(value, "$")
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def outcome(encode: Any, value: Any) -> tuple[str, object]:
    try:
        return ("bytes", encode(value))
    except chain.CanonicalJsonError as exc:
        return ("refused", (exc.path, exc.reason))
    except (TypeError, ValueError, RecursionError) as exc:
        return (type(exc).__name__, str(exc))


class Level(IntEnum):
    low = 1


class Word(StrEnum):
    yes = "yes"


LIMIT = chain.MAX_SAFE_INTEGER
text = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=8)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-LIMIT, LIMIT),
    st.integers(-(LIMIT + 10), -LIMIT) | st.integers(LIMIT, LIMIT + 10) | st.integers(),
    text,
    st.sampled_from(["汉字", 'a"b\\c', "\x00\x1f\x7f", "\ud800", "x\udfffy", "é", "\u2028"]),
    st.floats(allow_nan=False, allow_infinity=False) | st.just(1.0),
    st.sampled_from([Level.low, Word.yes, b"bytes", {1, 2}]),
)
keys = text | st.sampled_from(["a", "b", "\ud83d", "汉"])
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
        st.dictionaries(st.integers(0, 3) | st.none() | keys, inner, max_size=3),
        st.dictionaries(keys, inner, max_size=3).map(OrderedDict),
    ),
    max_leaves=25,
)


@pytest.mark.slow
@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_same_bytes_or_same_refusal_as_the_reference(value: Any) -> None:
    assert outcome(chain.canonical_json, value) == outcome(reference, value)


@pytest.mark.parametrize(
    "value",
    [
        {"b": [1, "汉"], "a": None},
        {"payload": {"record": {"marks": ["yes", "no"], "write_ins": ["王小明"]}}, "height": 7},
        {"n": LIMIT, "m": -LIMIT},
        {"n": LIMIT + 1},
        {"deep": {"x": [{"y": "\ud800"}]}},
        {"f": [1, 2, 1.5]},
        {1: "int key"},
        {"t": (1, "two", (3,))},
    ],
)
def test_known_values(value: Any) -> None:
    assert outcome(chain.canonical_json, value) == outcome(reference, value)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for index in range(depth):
        value = [value] if index % 2 else {"k": value}
    return value


@pytest.mark.parametrize("depth", [chain._PLAIN_DEPTH - 1, chain._PLAIN_DEPTH, 150, 5000])
def test_deep_values_as_the_reference(depth: int) -> None:
    assert outcome(chain.canonical_json, nested(depth)) == outcome(reference, nested(depth))


def test_a_circular_value_is_refused_as_the_reference_refuses_it() -> None:
    looped: list[Any] = [1]
    looped.append(looped)
    assert outcome(chain.canonical_json, looped) == outcome(reference, looped)
    assert outcome(chain.canonical_json, looped)[0] == "RecursionError"


def test_a_role_enum_takes_the_quick_pass() -> None:
    # Every event names its actor's role, a StrEnum: the per-member check must not run for it.
    assert chain._plain({"actor_role": Word.yes, "payload": {"pass": "a", "n": [1, None, True]}})
    assert not chain._plain({"level": Level.low})  # an IntEnum is left to _check (refused)
