"""Q1 quorum, I1–I4 papers issued and collected."""

from fractions import Fraction

import pytest

from app.rules import (
    QuorumNotMet,
    RoundInputError,
    RoundVoid,
    SeatsFilled,
    count_round,
    required_present,
)
from tests.rules.helpers import FIVE, make_attendance, make_definition, papers_with_yes_counts


@pytest.mark.parametrize(
    ("delegates_total", "quorum", "strict", "required"),
    [
        (189, Fraction(4, 5), False, 152),  # RULES.md worked example 4: 151.2 → 152
        (190, Fraction(4, 5), False, 152),  # exactly 4/5 is enough: 以上 includes the number
        (190, Fraction(4, 5), True, 153),  # 超过五分之四 excludes it
        (189, Fraction(4, 5), True, 152),
        (189, Fraction(2, 3), False, 126),
        (3, Fraction(2, 3), False, 2),
        (1, Fraction(4, 5), False, 1),
    ],
)
def test_q1_required_present_is_exact(
    delegates_total: int, quorum: Fraction, strict: bool, required: int
) -> None:
    assert required_present(delegates_total, quorum, strict) == required


def test_q1_below_quorum_is_a_result_not_an_error() -> None:
    definition = make_definition()
    result = count_round(definition, make_attendance(189, 151, collected=0), [])
    assert isinstance(result.outcome, QuorumNotMet)
    assert not result.quorum.met
    assert result.quorum.required == 152
    assert not result.valid
    assert result.elected == ()
    assert result.next_round is None
    assert result.trace[0].rule == "Q1"


def test_q1_exactly_at_quorum_is_held() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {FIVE[0]: 152, FIVE[1]: 152, FIVE[2]: 152}, 152)
    result = count_round(definition, make_attendance(189, 152), papers)
    assert result.quorum.met
    assert isinstance(result.outcome, SeatsFilled)


def test_q1_strict_option_refuses_the_exact_fraction() -> None:
    definition = make_definition(quorum_strict=True)
    result = count_round(definition, make_attendance(190, 152, collected=0), [])
    assert isinstance(result.outcome, QuorumNotMet)
    assert result.quorum.required == 153


def test_q1_two_thirds_profile() -> None:
    definition = make_definition(quorum="2/3")
    papers = papers_with_yes_counts(definition, {FIVE[0]: 126}, 126)
    result = count_round(definition, make_attendance(189, 126), papers)
    assert result.quorum.met
    assert result.quorum.required == 126


def test_i1_more_issued_than_present_is_refused() -> None:
    with pytest.raises(RoundInputError) as error:
        make_attendance(189, 180, issued=181)
    assert error.value.rule == "I1"


def test_present_above_delegates_total_is_refused() -> None:
    with pytest.raises(RoundInputError) as error:
        make_attendance(189, 190)
    assert error.value.field == "present"


def test_negative_counts_are_refused() -> None:
    with pytest.raises(RoundInputError):
        make_attendance(189, 180, collected=-1)


def test_i2_overcount_voids_the_round_and_calls_a_rerun() -> None:
    # RULES.md worked example 5: 180 present, 181 collected.
    definition = make_definition()
    result = count_round(definition, make_attendance(189, 180, collected=181), [])
    assert isinstance(result.outcome, RoundVoid)
    assert not result.valid
    assert result.elected == ()
    rerun = result.next_round
    assert rerun is not None
    assert (rerun.kind, rerun.seats, rerun.candidates) == ("rerun", 3, definition.candidates)
    assert [entry.rule for entry in result.trace] == ["Q1", "I2"]


def test_i2_more_collected_than_issued_is_always_void() -> None:
    definition = make_definition()
    result = count_round(definition, make_attendance(189, 180, issued=170, collected=171), [])
    assert isinstance(result.outcome, RoundVoid)


def test_i2_issued_base_option() -> None:
    definition = make_definition(overcount_base="issued")
    result = count_round(definition, make_attendance(189, 180, issued=175, collected=176), [])
    assert isinstance(result.outcome, RoundVoid)
    assert "issued" in result.trace[-1].message_en


def test_i3_fewer_collected_than_present_stands_however_many_invalid() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {FIVE[0]: 91}, 100)
    result = count_round(definition, make_attendance(189, 180, collected=100), papers)
    assert result.valid
    assert "I3" in [entry.rule for entry in result.trace]


def test_i4_every_collected_paper_must_be_entered() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {FIVE[0]: 10}, 179)
    with pytest.raises(RoundInputError) as error:
        count_round(definition, make_attendance(189, 180), papers)
    assert error.value.rule == "I4"


def test_definition_needs_seats_and_candidates() -> None:
    with pytest.raises(RoundInputError) as error:
        make_definition(seats=0)
    assert error.value.field == "seats"
    with pytest.raises(RoundInputError) as error:
        make_definition(candidates=[])
    assert error.value.field == "candidates"
    with pytest.raises(RoundInputError) as error:
        make_definition(candidates=[FIVE[0], " "])
    assert error.value.field == "candidates[1]"


def test_delegates_total_must_be_positive() -> None:
    with pytest.raises(RoundInputError) as error:
        make_attendance(0, 0)
    assert error.value.field == "delegates_total"
