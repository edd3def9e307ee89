"""The round definition frozen when a round opens (issue "Ballot papers", item 1).

Opening a round freezes what its paper prints and how it is counted: the election, the round's
number and kind, ``seats``, the candidates in ballot order (B1) and the rules profile. The
definition is written as canonical JSON (``app.ledger.chain``) and hashed::

    definition_hash = hex(SHA-256(b"jipiao-round-definition-v1\\n" + canonical_json(document)))

Document (version 2; every key always present)::

    {"version": 2, "election": 7, "round": 1, "kind": "regular", "seats": 3,
     "candidates": ["王宁", "王宁（二团）", ...], "profile": {...}}

``present`` is not part of it: attendance is checked and frozen when the papers are issued (Q1,
Q3), after they were printed with this hash in their QR code, so the figure cannot be in what the
printed papers carry. It is recorded by ``round.papers_issued``. Version 1 documents (rounds opened
before) carried the count at opening as ``present``; they are read as they are.

``kind`` is how the round is counted (RULES.md M5–M8): the rerun of a void round (I2) keeps the
void round's kind — a tie round is rerun as a tie round (M7), a supplementary round as a
supplementary round (M8) — and the round itself records that it is a rerun (``Round.kind``
``"rerun"``, ``follows_round_id`` the void round).

``candidates`` are the printed strings in ballot order, a namesake's second field included
(``王宁（二团）``, STROKE_ORDER.md); ``profile`` is ``profile_options`` (RULES.md spelling).
Edge case: the same candidates in another order are another definition (the order is printed).
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from app.ledger.chain import JsonValue, canonical_json
from app.rules.model import RoundDefinition
from app.rules.profiles import profile_options

DEFINITION_VERSION = 2
DEFINITION_DOMAIN = b"jipiao-round-definition-v1\n"
MAX_ELECTION_ID = 999_999_999
MAX_ROUND_NUMBER = 9_999


class DefinitionError(ValueError):
    """An election id or round number that cannot go on a paper."""


@dataclass(frozen=True, slots=True)
class FrozenRound:
    """A round definition as frozen at opening: the document and its hash (64 hex digits)."""

    election_id: int
    round_number: int
    document: dict[str, JsonValue]
    hash: str


def _check_ids(election_id: int, round_number: int) -> None:
    if isinstance(election_id, bool) or not isinstance(election_id, int):
        raise DefinitionError(f"election: must be an integer id, got {election_id!r}")
    if not 0 <= election_id <= MAX_ELECTION_ID:
        raise DefinitionError(f"election: must be between 0 and {MAX_ELECTION_ID}")
    if isinstance(round_number, bool) or not isinstance(round_number, int):
        raise DefinitionError(f"round: must be an integer, got {round_number!r}")
    if not 1 <= round_number <= MAX_ROUND_NUMBER:
        raise DefinitionError(f"round: must be between 1 and {MAX_ROUND_NUMBER}")


def definition_document(
    definition: RoundDefinition, *, election_id: int, round_number: int
) -> dict[str, JsonValue]:
    """The canonical-JSON-ready document of a round definition (see the module docstring)."""
    _check_ids(election_id, round_number)
    profile: dict[str, JsonValue] = dict(profile_options(definition.profile))
    return {
        "version": DEFINITION_VERSION,
        "election": election_id,
        "round": round_number,
        "kind": definition.kind,
        "seats": definition.seats,
        "candidates": list(definition.candidates),
        "profile": profile,
    }


def definition_hash(document: dict[str, Any]) -> str:
    """Lowercase hex SHA-256 of the domain tag and the document's canonical JSON."""
    return hashlib.sha256(DEFINITION_DOMAIN + canonical_json(document)).hexdigest()


def freeze_round(
    definition: RoundDefinition, *, election_id: int, round_number: int
) -> FrozenRound:
    """Freeze a round: build its document and hash it (the event payload when a round opens)."""
    document = definition_document(definition, election_id=election_id, round_number=round_number)
    return FrozenRound(election_id, round_number, document, definition_hash(document))
