"""The frozen round definition and its hash (issue "Ballot papers", item 1)."""

import hashlib

import pytest

from app.ledger.chain import canonical_json
from app.papers.definition import (
    DEFINITION_DOMAIN,
    DefinitionError,
    definition_hash,
    freeze_round,
)
from app.rules.model import RoundDefinition
from app.rules.profiles import parse_profile

SEED = RoundDefinition(seats=3, candidates=("王宁", "刘洋", "李娜", "张伟", "欧阳晓东"))


def test_document_holds_everything_the_paper_and_the_count_depend_on() -> None:
    frozen = freeze_round(SEED, election_id=7, round_number=1)
    assert frozen.document == {
        "version": 2,
        "election": 7,
        "round": 1,
        "kind": "regular",
        "seats": 3,
        "candidates": ["王宁", "刘洋", "李娜", "张伟", "欧阳晓东"],
        "profile": frozen.document["profile"],
    }  # not ``present``: frozen at issuance, after the papers were printed with this hash (Q3)
    profile = frozen.document["profile"]
    assert isinstance(profile, dict)
    assert profile["quorum"] == "4/5"
    assert profile["over_selection_voids"] is True


def test_hash_is_sha256_of_domain_and_canonical_json() -> None:
    frozen = freeze_round(SEED, election_id=7, round_number=1)
    expected = hashlib.sha256(DEFINITION_DOMAIN + canonical_json(frozen.document)).hexdigest()
    assert frozen.hash == expected == definition_hash(dict(frozen.document))
    assert len(frozen.hash) == 64


def test_same_definition_same_hash() -> None:
    first = freeze_round(SEED, election_id=7, round_number=1)
    again = freeze_round(
        RoundDefinition(seats=3, candidates=SEED.candidates), election_id=7, round_number=1
    )
    assert first.hash == again.hash


@pytest.mark.parametrize(
    ("definition", "election_id", "round_number"),
    [
        (
            RoundDefinition(seats=3, candidates=("刘洋", "王宁", "李娜", "张伟", "欧阳晓东")),
            7,
            1,
        ),
        (RoundDefinition(seats=2, candidates=SEED.candidates), 7, 1),
        (RoundDefinition(seats=3, candidates=SEED.candidates, kind="rerun"), 7, 1),
        (
            RoundDefinition(
                seats=3, candidates=SEED.candidates, profile=parse_profile({"quorum": "2/3"})
            ),
            7,
            1,
        ),
        (SEED, 8, 1),
        (SEED, 7, 2),
    ],
    ids=["order", "seats", "kind", "profile", "election", "round"],
)
def test_every_frozen_field_changes_the_hash(
    definition: RoundDefinition, election_id: int, round_number: int
) -> None:
    base = freeze_round(SEED, election_id=7, round_number=1).hash
    other = freeze_round(definition, election_id=election_id, round_number=round_number)
    assert other.hash != base


@pytest.mark.parametrize(
    ("election_id", "round_number", "message"),
    [(-1, 1, "election: must be between"), (10**9, 1, "election: must be between"),
     (True, 1, "election: must be an integer id, got True"),
     ("7", 1, "election: must be an integer id, got '7'"),
     (1, 0, "round: must be between"), (1, 10**4, "round: must be between"),
     (1, True, "round: must be an integer, got True"),
     (1, 1.0, "round: must be an integer, got 1.0")],
)  # fmt: skip
def test_ids_that_cannot_go_on_a_paper_are_refused(
    election_id: int, round_number: int, message: str
) -> None:
    with pytest.raises(DefinitionError, match=f"^{message}"):
        freeze_round(SEED, election_id=election_id, round_number=round_number)
