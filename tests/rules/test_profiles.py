"""Rules profile options as RULES.md spells them."""

from fractions import Fraction

import pytest

from app.rules import SEED_PROFILE, ProfileError, parse_profile, profile_options


def test_seed_profile_defaults() -> None:
    assert SEED_PROFILE.quorum == Fraction(4, 5)
    assert SEED_PROFILE.majority_base == "present"
    assert SEED_PROFILE.name_order == "single_given_name_first"
    assert SEED_PROFILE.tie_policy == "tie_round"
    assert SEED_PROFILE.over_selection_voids
    assert SEED_PROFILE.empty_paper_valid
    assert not SEED_PROFILE.unclear_voids_paper


def test_options_round_trip() -> None:
    options = {
        "quorum": "2/3",
        "quorum_strict": True,
        "majority_base": "valid_papers",
        "slate_size": "ratio_20",
        "supplementary_pool": "listed_only",
        "tie_policy": "vacant",
        "name_order": "character_by_character",
    }
    profile = parse_profile(options)
    assert profile.quorum == Fraction(2, 3)
    assert parse_profile(profile_options(profile)) == profile
    assert {k: profile_options(profile)[k] for k in options} == options


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"quorum": 0.8}, "quorum"),
        ({"quorum": "0.8"}, "quorum"),
        ({"quorum": "5/4"}, "quorum"),
        ({"quorum": "1/0"}, "quorum"),
        ({"quorum": "a/b"}, "quorum"),
        ({"majority_base": "everyone"}, "majority_base"),
        ({"over_selection_voids": "yes"}, "over_selection_voids"),
        ({"tie_polcy": "vacant"}, "tie_polcy"),
    ],
)
def test_bad_options_are_refused_with_the_option_named(
    options: dict[str, object], option: str
) -> None:
    with pytest.raises(ProfileError) as error:
        parse_profile(options)
    assert error.value.option == option
    assert error.value.message_zh
