"""P1–P9: judging one paper."""

import pytest

from app.rules import RoundInputError, judge_paper, tally_papers
from tests.rules.helpers import A, B, C, D, E, make_definition, make_paper


@pytest.mark.parametrize("rule", ["P1", "P4", "P9"])
def test_declared_void_paper_is_invalid_under_its_rule(rule: str) -> None:
    definition = make_definition()
    paper = make_paper(definition, yes=[A], void=rule)  # type: ignore[arg-type]
    judgement = judge_paper(paper, definition)
    assert not judgement.valid
    assert judgement.reason == rule


def test_p2_more_write_ins_than_no_marks_is_invalid() -> None:
    # RULES.md worked example 6: × on two candidates and three write-ins.
    definition = make_definition()
    paper = make_paper(definition, no=[A, B], write_ins=["孙一", "钱二", "吴三"])
    assert judge_paper(paper, definition).reason == "P2"


def test_p2_as_many_write_ins_as_no_marks_is_valid() -> None:
    definition = make_definition()
    paper = make_paper(definition, yes=[C], no=[A, B], write_ins=["孙一", "钱二"])
    judgement = judge_paper(paper, definition)
    assert judgement.valid
    assert judgement.write_ins == ("孙一", "钱二")


def test_p2_write_in_without_any_no_mark_is_invalid() -> None:
    definition = make_definition()
    paper = make_paper(definition, yes=[A], write_ins=["孙一"])
    assert judge_paper(paper, definition).reason == "P2"


def test_p3_over_selection_is_invalid() -> None:
    # RULES.md worked example 6: ✓ on three, × on one, one write-in, 3 seats.
    definition = make_definition(seats=3)
    paper = make_paper(definition, yes=[A, B, C], no=[D], write_ins=["孙一"])
    judgement = judge_paper(paper, definition)
    assert judgement.violations == ("P3",)


def test_p3_yes_marks_alone_over_seats() -> None:
    definition = make_definition(seats=3)
    paper = make_paper(definition, yes=[A, B, C, D])
    assert judge_paper(paper, definition).reason == "P3"


def test_p3_option_off_keeps_over_selected_paper() -> None:
    definition = make_definition(seats=3, over_selection_voids=False)
    paper = make_paper(definition, yes=[A, B, C, D])
    assert judge_paper(paper, definition).valid


def test_every_violation_is_recorded_first_is_the_reason() -> None:
    definition = make_definition(seats=1)
    paper = make_paper(definition, yes=[A], write_ins=["孙一"], void="P4")
    assert judge_paper(paper, definition).violations == ("P4", "P2", "P3")


def test_p5_empty_paper_is_valid_all_abstain() -> None:
    definition = make_definition()
    paper = make_paper(definition)
    tally = tally_papers(definition, [paper])
    assert tally.papers.valid == 1
    assert all(person.abstain == 1 for person in tally.candidates)


def test_p5_empty_paper_invalid_when_the_profile_says_so() -> None:
    definition = make_definition(empty_paper_valid=False)
    assert judge_paper(make_paper(definition), definition).reason == "P5"
    assert judge_paper(make_paper(definition, abstain=[A]), definition).valid


def test_p6_illegible_mark_counts_as_abstain_not_as_no() -> None:
    definition = make_definition()
    # The illegible mark is not a ×, so the write-in has only one × to lean on: still valid.
    paper = make_paper(definition, no=[A], illegible=[B], write_ins=["孙一"])
    judgement = judge_paper(paper, definition)
    assert judgement.valid
    tally = tally_papers(definition, [paper])
    b = next(person for person in tally.candidates if person.name == B)
    assert (b.yes, b.no, b.abstain) == (0, 0, 1)


def test_p6_illegible_mark_is_not_a_no_for_p2() -> None:
    definition = make_definition()
    paper = make_paper(definition, illegible=[A], write_ins=["孙一"])
    assert judge_paper(paper, definition).reason == "P2"


def test_p6_option_voids_the_whole_paper() -> None:
    definition = make_definition(unclear_voids_paper=True)
    paper = make_paper(definition, yes=[A], illegible=[B])
    assert judge_paper(paper, definition).reason == "P6"


def test_p7_names_are_compared_after_nfkc_and_whitespace_removal() -> None:
    definition = make_definition()
    paper = make_paper(definition, no=[A, B], write_ins=["孙 一", "孙一\u3000"])
    judgement = judge_paper(paper, definition)
    assert judgement.valid
    assert judgement.write_ins == ("孙一",)


def test_p7_write_in_of_a_printed_candidate_is_disregarded() -> None:
    definition = make_definition()
    # No × at all: a real write-in would fail P2, the disregarded one does not count.
    paper = make_paper(definition, yes=[A], write_ins=[f" {B} "])
    judgement = judge_paper(paper, definition)
    assert judgement.valid
    assert judgement.disregarded == (B,)
    tally = tally_papers(definition, [paper])
    assert tally.write_ins == ()
    assert next(p for p in tally.candidates if p.name == B).yes == 0
    assert "P7" in [entry.rule for entry in tally.trace]


def test_p7_disregarded_write_in_does_not_count_for_p3() -> None:
    definition = make_definition(seats=3)
    paper = make_paper(definition, yes=[A, B, C], no=[D], write_ins=[E])
    assert judge_paper(paper, definition).valid


def test_p7_illegible_write_in_counts_for_p2_and_p3_but_credits_nobody() -> None:
    definition = make_definition(seats=3)
    assert judge_paper(make_paper(definition, write_ins=[None]), definition).reason == "P2"
    paper = make_paper(definition, yes=[A, B, C], no=[D], write_ins=[None])
    assert judge_paper(paper, definition).reason == "P3"
    valid = make_paper(definition, yes=[A], no=[D], write_ins=[None])
    tally = tally_papers(definition, [valid])
    assert tally.papers.valid == 1
    assert tally.write_ins == ()


def test_p8_invalid_paper_counts_for_nobody() -> None:
    definition = make_definition()
    papers = [make_paper(definition, yes=[A, B, C, D]), make_paper(definition, yes=[A])]
    tally = tally_papers(definition, papers)
    assert (tally.papers.entered, tally.papers.valid, tally.papers.invalid) == (2, 1, 1)
    assert dict(tally.papers.invalid_by_rule) == {"P3": 1}
    assert next(p for p in tally.candidates if p.name == A).yes == 1


def test_tie_round_paper_with_write_ins_is_refused() -> None:
    definition = make_definition(seats=1, candidates=[C, D], kind="tie")
    with pytest.raises(RoundInputError) as error:
        judge_paper(make_paper(definition, no=[C], write_ins=["孙一"]), definition)
    assert error.value.rule == "M7"


def test_paper_with_wrong_number_of_marks_is_refused() -> None:
    definition = make_definition()
    other = make_definition(candidates=[A, B, C, D])
    with pytest.raises(RoundInputError):
        judge_paper(make_paper(other, yes=[A]), definition)


def test_empty_write_in_name_is_refused() -> None:
    definition = make_definition()
    with pytest.raises(RoundInputError):
        judge_paper(make_paper(definition, no=[A], write_ins=[" "]), definition)
