"""The event chain: canonical JSON, event hashes and chain verification. Standard library only.

Every state change of a congress is one *event*. Events of one congress form one chain: heights
0, 1, 2, … without gaps, each event naming the hash of the event before it (``parent``); the first
event's parent is 64 zeros (``GENESIS_PARENT``). Anyone can re-implement the hash from this text.

Canonical JSON (``canonical_json``) — the bytes that are hashed:

* Values: ``null``, ``true``, ``false``, integers in ``[-(2**53 - 1), 2**53 - 1]``, strings,
  arrays and objects whose keys are strings. Floats are refused (exact numbers are written as
  strings, e.g. a fraction as ``"4/5"``); so are lone surrogates, which UTF-8 cannot encode.
* No whitespace anywhere; ``,`` between items and ``:`` between a key and its value.
* Object members sorted by key, comparing keys as sequences of Unicode code points.
* Integers in decimal, no leading zeros, ``-`` for negative numbers, no ``+``/exponent/fraction.
* Strings in double quotes, every character written as itself except: ``"`` → ``\\"``,
  ``\\`` → ``\\\\``, U+0008 → ``\\b``, U+000C → ``\\f``, U+000A → ``\\n``, U+000D → ``\\r``,
  U+0009 → ``\\t``, the other characters below U+0020 → ``\\u00XX`` (lowercase hex). Non-ASCII
  characters (汉字 included) are NOT escaped. No Unicode normalisation is applied.
* The result is encoded as UTF-8 (no BOM).

Event hash (``event_hash``): lowercase hex SHA-256 of ``b"jipiao-event-v1\\n"`` followed by the
canonical JSON of the object ``{"actor_role", "at", "chain", "height", "parent", "payload",
"type"}`` where ``chain`` is the congress id (integer), ``at`` the event's minute in UTC written
``YYYY-MM-DDTHH:MMZ`` (coarse on purpose: nothing finer is needed, and finer times could help to
link a person to a moment), and ``payload`` the event's JSON object.

Example: ``canonical_json({"b": [1, "汉"], "a": None})`` is ``{"a":null,"b":[1,"汉"]}``.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

GENESIS_PARENT = "0" * 64
HASH_DOMAIN = b"jipiao-event-v1\n"
MAX_SAFE_INTEGER = 2**53 - 1

JsonValue = None | bool | int | str | Sequence["JsonValue"] | Mapping[str, "JsonValue"]


class CanonicalJsonError(ValueError):
    """A value cannot be written as canonical JSON; ``path`` says where (e.g. ``$.rows[2]``)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _check(value: object, path: str) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalJsonError(path, "integer outside ±(2**53 - 1)")
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise CanonicalJsonError(path, "string is not valid Unicode (lone surrogate)") from None
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJsonError(path, f"object key {key!r} is not a string")
            _check(key, f"{path}.{key}")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    raise CanonicalJsonError(path, f"{type(value).__name__} is not allowed in canonical JSON")


# Deeper than this (or circular), ``_plain`` leaves the value to ``_check``, which refuses it.
_PLAIN_DEPTH = 100


def _plain(value: object) -> bool:
    """True if ``value`` is built only of ``dict`` (``str`` keys), ``list``, ``tuple``, ``str``
    (or a subclass), ``bool``, ``None`` and ``int`` within ±(2**53 - 1) — the values ``_check``
    accepts, but exact types (``str`` aside) and no paths, in one loop: a quick yes for nearly
    every value, else ``_check`` decides. Strings are not tested here for lone surrogates:
    encoding the whole text does that."""
    stack: list[tuple[object, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:  # type: ignore[operator]
                continue
            return False
        if depth >= _PLAIN_DEPTH:
            return False
        if kind is dict:
            for key, member in item.items():  # type: ignore[attr-defined]
                if type(key) is not str:
                    return False
                push((member, depth + 1))
        elif kind is list or kind is tuple:
            for member in item:  # type: ignore[attr-defined]
                push((member, depth + 1))
        elif not isinstance(item, str):  # a str subclass (a StrEnum role) is written as its text
            return False
    return True


def canonical_json(value: JsonValue) -> bytes:
    """The canonical UTF-8 bytes of ``value`` (rules in the module docstring).

    Edge case: ``1.0`` is refused, not written as ``1``: a float has no single canonical form.
    """
    # The same text either way; ``_check`` (a path per member) only for what it must refuse.
    if _plain(value):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate somewhere: _check says where
            pass
    _check(value, "$")
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def coarse_minute(moment: datetime) -> str:
    """``moment`` (timezone-aware) in UTC, truncated to the minute: ``2026-11-14T11:05Z``."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("the moment must be timezone-aware")
    utc = moment.replace(tzinfo=None) - offset
    return f"{utc:%Y-%m-%dT%H:%M}Z"


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a chain, as hashed (``hash`` is the value stored beside it)."""

    chain: int
    height: int
    parent: str
    type: str
    payload: Mapping[str, JsonValue]
    at: str
    actor_role: str

    def hash_input(self, payload_json: bytes | None = None) -> bytes:
        """``HASH_DOMAIN`` and the canonical JSON of the event (module docstring).
        ``payload_json``: ``canonical_json(self.payload)``, if the caller has made it already to
        store it; it is written where the whole object's canonical JSON writes the payload (the
        sixth of the seven sorted keys), so the payload is walked once, not twice."""
        fields: dict[str, JsonValue] = {
            "actor_role": self.actor_role,
            "at": self.at,
            "chain": self.chain,
            "height": self.height,
            "parent": self.parent,
        }
        if payload_json is None:
            payload_json = canonical_json(self.payload)
        return b"".join(
            (
                HASH_DOMAIN,
                canonical_json(fields)[:-1],
                b',"payload":',
                payload_json,
                b',"type":',
                canonical_json(self.type),
                b"}",
            )
        )


def event_hash(event: Event, payload_json: bytes | None = None) -> str:
    """Lowercase hex SHA-256 of the event's hash input (module docstring); ``payload_json`` as
    for ``Event.hash_input``."""
    return hashlib.sha256(event.hash_input(payload_json)).hexdigest()


def next_event(
    *,
    chain: int,
    head: tuple[int, str] | None,
    type: str,
    payload: Mapping[str, JsonValue],
    at: str,
    actor_role: str,
    payload_json: bytes | None = None,
) -> tuple[Event, str]:
    """The event that follows ``head`` (its height and hash; None for an empty chain).

    Returns the event and its hash; ``payload_json`` as for ``Event.hash_input``. Edge case: for
    an empty chain the event has height 0 and parent ``GENESIS_PARENT``.
    """
    height, parent = (0, GENESIS_PARENT) if head is None else (head[0] + 1, head[1])
    event = Event(
        chain=chain,
        height=height,
        parent=parent,
        type=type,
        payload=payload,
        at=at,
        actor_role=actor_role,
    )
    return event, event_hash(event, payload_json)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """Where a stored chain differs from what the hashes prove."""

    height: int
    message_en: str
    message_zh: str


def verify_chain(chain: int, events: Iterable[tuple[Event, str]]) -> list[ChainProblem]:
    """Check stored ``(event, stored_hash)`` pairs, in order, as one chain of congress ``chain``.

    Problems: an event of another chain, a height that is not the next one (a gap or a fork), a
    parent that is not the previous event's hash, a stored hash that is not the event's hash.
    An empty chain has no problems. After a wrong height the check continues from that event.
    """
    problems: list[ChainProblem] = []
    expected_height, expected_parent = 0, GENESIS_PARENT
    for event, stored in events:
        problems += link_problems(chain, expected_height, expected_parent, event, stored)
        expected_height, expected_parent = event.height + 1, stored
    return problems


def link_problems(
    chain: int, expected_height: int, expected_parent: str, event: Event, stored: str
) -> list[ChainProblem]:
    """``verify_chain``'s problems with one event, where it expects ``expected_height`` and
    ``expected_parent`` (the previous event's height + 1 and stored hash)."""
    problems: list[ChainProblem] = []
    if event.chain != chain:
        problems.append(
            ChainProblem(
                event.height,
                f"event belongs to chain {event.chain}, not {chain}",
                f"事件属于链 {event.chain}，而不是 {chain}",
            )
        )
    if event.height != expected_height:
        problems.append(
            ChainProblem(
                event.height,
                f"height {event.height} where {expected_height} was expected",
                f"高度应为 {expected_height}，实为 {event.height}",
            )
        )
    elif event.parent != expected_parent:
        problems.append(
            ChainProblem(
                event.height,
                "parent is not the hash of the previous event",
                "parent 不是前一事件的哈希",
            )
        )
    actual = event_hash(event)
    if actual != stored:
        problems.append(
            ChainProblem(
                event.height,
                f"stored hash {stored[:12]}… differs from the computed {actual[:12]}…",
                f"存储的哈希 {stored[:12]}… 与计算结果 {actual[:12]}… 不一致",
            )
        )
    return problems
