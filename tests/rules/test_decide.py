"""M1–M8 and M11: who is elected, and which round follows."""

from app.rules import (
    SeatsFilled,
    SeatsLeftVacant,
    SupplementaryNeeded,
    TieRoundNeeded,
    count_round,
    majority_threshold,
    slate_size,
)
from tests.rules.helpers import (
    A,
    B,
    C,
    D,
    E,
    make_attendance,
    make_definition,
    make_paper,
    papers_with_yes_counts,
)


def test_m2_threshold_is_strictly_more_than_half() -> None:
    assert majority_threshold(180) == 91
    assert majority_threshold(181) == 91
    assert majority_threshold(0) == 1


def test_worked_example_1_three_elected_one_short() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {A: 150, B: 120, C: 91, D: 90, E: 60}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert (result.majority.base, result.majority.threshold) == (180, 91)
    assert isinstance(result.outcome, SeatsFilled)
    assert result.elected == (A, B, C)
    assert result.next_round is None
    assert "M3" in [entry.rule for entry in result.trace]
    assert any(D in entry.message_zh and "差 1 票" in entry.message_zh for entry in result.trace)


def test_worked_example_2_tie_at_the_last_seat() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {A: 150, B: 120, C: 100, D: 100}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, TieRoundNeeded)
    assert result.elected == (A, B)
    tie = result.next_round
    assert tie is not None
    assert (tie.kind, tie.seats, tie.candidates) == ("tie", 1, (C, D))


def test_worked_example_3_shortfall_proposes_next_two_by_votes() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {A: 150, B: 95, C: 80, D: 70, E: 60}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, SupplementaryNeeded)
    assert result.elected == (A, B)
    supplementary = result.next_round
    assert supplementary is not None
    assert (supplementary.kind, supplementary.seats) == ("supplementary", 1)
    assert supplementary.candidates == (C, D)


def test_m4_more_with_majority_than_seats_top_seats_elected() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {A: 150, B: 130, C: 120, D: 100}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert result.elected == (A, B, C)
    assert "M4" in [entry.rule for entry in result.trace]


def test_m4_tie_below_the_last_seat_does_not_matter() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {A: 140, B: 110, C: 100, D: 95, E: 95}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, SeatsFilled)
    assert result.elected == (A, B, C)


def test_m5_tied_group_that_fits_the_seats_is_elected() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {A: 170, B: 120, C: 120, D: 60}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, SeatsFilled)
    assert result.elected == (A, B, C)


def test_m5_three_tied_for_two_seats() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {A: 170, B: 120, C: 120, D: 120}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, TieRoundNeeded)
    assert result.elected == (A,)
    assert result.next_round is not None
    assert (result.next_round.seats, result.next_round.candidates) == (2, (B, C, D))


def test_m5_everyone_tied_at_the_top() -> None:
    definition = make_definition(seats=2, candidates=[A, B, C])
    papers = papers_with_yes_counts(definition, {A: 100, B: 100, C: 100}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, TieRoundNeeded)
    assert result.elected == ()
    assert result.next_round is not None
    assert (result.next_round.seats, result.next_round.candidates) == (2, (A, B, C))


def test_m7_vacant_tie_policy_leaves_the_seat_empty() -> None:
    definition = make_definition(tie_policy="vacant")
    papers = papers_with_yes_counts(definition, {A: 150, B: 120, C: 100, D: 100}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, SeatsLeftVacant)
    assert result.outcome.vacant == 1
    assert result.elected == (A, B)
    assert result.next_round is None


def test_m7_tie_round_is_decided_by_plurality_without_majority() -> None:
    definition = make_definition(seats=1, candidates=[C, D], kind="tie")
    papers = papers_with_yes_counts(definition, {C: 60, D: 50}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, SeatsFilled)
    assert result.elected == (C,)


def test_m7_new_tie_in_a_tie_round_gives_another_tie_round() -> None:
    definition = make_definition(seats=1, candidates=[C, D], kind="tie")
    papers = papers_with_yes_counts(definition, {C: 90, D: 90}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, TieRoundNeeded)
    assert result.next_round is not None
    assert (result.next_round.kind, result.next_round.candidates) == ("tie", (C, D))


def test_m7_tie_round_of_three_for_two_with_a_new_tie() -> None:
    definition = make_definition(seats=2, candidates=[B, C, D], kind="tie")
    papers = papers_with_yes_counts(definition, {B: 100, C: 70, D: 70}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, TieRoundNeeded)
    assert result.elected == (B,)
    assert result.next_round is not None
    assert (result.next_round.seats, result.next_round.candidates) == (1, (C, D))


def test_m6_proposal_includes_everyone_tied_at_the_cut() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {A: 150, B: 95, C: 80, D: 70, E: 70}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert result.next_round is not None
    assert result.next_round.candidates == (C, D, E)


def test_m6_ratio_20_slate_size() -> None:
    plus_one = make_definition().profile
    ratio = make_definition(slate_size="ratio_20").profile
    assert [slate_size(n, plus_one) for n in (1, 2, 5, 6, 10)] == [2, 3, 6, 7, 11]
    assert [slate_size(n, ratio) for n in (1, 2, 5, 6, 10)] == [2, 3, 6, 8, 12]


def test_m6_pool_includes_written_in_persons_by_default() -> None:
    definition = make_definition(seats=2, candidates=[A, B, C])
    papers = papers_with_yes_counts(definition, {A: 150, B: 20, C: 10}, 180)
    # 40 papers carry a × on C and write in 孙一 (40 votes): more than B and C.
    for index in range(40):
        papers[index] = make_paper(definition, yes=[A], no=[C], write_ins=["孙一"])
    result = count_round(definition, make_attendance(189, 180), papers)
    assert result.elected == (A,)
    assert result.next_round is not None
    assert "孙一" in result.next_round.candidates
    listed = make_definition(seats=2, candidates=[A, B, C], supplementary_pool="listed_only")
    result_listed = count_round(listed, make_attendance(189, 180), papers)
    assert result_listed.next_round is not None
    assert "孙一" not in result_listed.next_round.candidates


def test_write_in_person_with_a_majority_is_elected() -> None:
    definition = make_definition(seats=1, candidates=[A, B])
    papers = [make_paper(definition, no=[A, B], write_ins=["孙一"]) for _ in range(100)]
    papers += [make_paper(definition, yes=[A]) for _ in range(80)]
    result = count_round(definition, make_attendance(189, 180), papers)
    assert result.elected == ("孙一",)
    assert [(p.name, p.write_in, p.yes) for p in result.tally.write_ins] == [("孙一", True, 100)]


def test_ineligible_person_is_struck_from_the_ranking_papers_stay_valid() -> None:
    definition = make_definition(seats=1, candidates=[A, B], ineligible=["孙一"])
    papers = [make_paper(definition, no=[A, B], write_ins=["孙一"]) for _ in range(100)]
    papers += [make_paper(definition, yes=[A]) for _ in range(80)]
    result = count_round(definition, make_attendance(189, 180), papers)
    assert result.tally.papers.valid == 180
    assert result.elected == ()
    assert isinstance(result.outcome, SupplementaryNeeded)
    assert result.next_round is not None
    assert "孙一" not in result.next_round.candidates


def test_m8_supplementary_round_still_needs_a_majority() -> None:
    definition = make_definition(seats=1, candidates=[C, D], kind="supplementary")
    papers = papers_with_yes_counts(definition, {C: 90, D: 80}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, SupplementaryNeeded)
    assert result.elected == ()
    rules = [entry.rule for entry in result.trace]
    assert "M8" in rules
    assert "M10" in rules


def test_m1_majority_bases() -> None:
    counts = {A: 75, B: 60}
    for base_kind, base, elected in [
        ("present", 180, ()),
        ("delegates_total", 189, ()),
        ("collected", 150, ()),  # 75 is exactly half: not a majority
        ("valid_papers", 140, (A,)),
    ]:
        definition = make_definition(seats=1, candidates=[A, B], majority_base=base_kind)
        papers = papers_with_yes_counts(definition, counts, 140)
        papers += [make_paper(definition, yes=[A, B], void="P4")] * 10
        result = count_round(definition, make_attendance(189, 180, collected=150), papers)
        assert result.majority.base == base, base_kind
        assert result.elected == elected, base_kind


def test_m11_elected_and_proposals_in_stroke_order_report_by_votes() -> None:
    definition = make_definition(seats=3)
    papers = papers_with_yes_counts(definition, {E: 150, C: 120, A: 100, B: 50}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert result.elected == (A, C, E)
    assert [p.name for p in result.tally.candidates] == [A, B, C, D, E]


def test_trace_cites_a_rule_for_every_decision() -> None:
    definition = make_definition()
    papers = papers_with_yes_counts(definition, {A: 150, B: 120, C: 91}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    rules = [entry.rule for entry in result.trace]
    assert rules[:3] == ["Q1", "I3", "I4"]
    assert "M2" in rules
    assert all(entry.message_zh and entry.message_en for entry in result.trace)


def test_m7_tie_round_with_no_more_persons_than_seats_elects_them() -> None:
    definition = make_definition(seats=2, candidates=[C, D], kind="tie")
    papers = papers_with_yes_counts(definition, {C: 10, D: 5}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, SeatsFilled)
    assert result.elected == (C, D)


def test_m6_nobody_left_to_propose_leaves_it_to_the_presidium() -> None:
    definition = make_definition(seats=2, candidates=[A, B], ineligible=[B])
    papers = papers_with_yes_counts(definition, {A: 150, B: 100}, 180)
    result = count_round(definition, make_attendance(189, 180), papers)
    assert isinstance(result.outcome, SupplementaryNeeded)
    assert result.elected == (A,)
    assert result.next_round is not None
    assert result.next_round.candidates == ()
    assert "nobody is left to propose" in result.trace[-1].message_en
