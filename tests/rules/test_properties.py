"""Invariants of the engine, over generated rounds (hypothesis)."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from app.rules import (
    Attendance,
    Mark,
    PaperRecord,
    RoundDefinition,
    WriteIn,
    count_round,
    judge_paper,
    parse_profile,
)
from app.rules.roundfile import count_round_input, parse_round, result_to_json

POOL = ("丁一", "王宁", "李强", "周敏", "赵磊", "孙悦", "钱程")
WRITE_INS: tuple[WriteIn, ...] = ("孙一", "钱 二", "吴三", None, "王宁")
MARK_VALUES: tuple[Mark, ...] = ("yes", "no", "abstain", "blank", "illegible")


@st.composite
def rounds(draw: st.DrawFn) -> tuple[RoundDefinition, Attendance, list[PaperRecord]]:
    candidates = draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=6, unique=True))
    seats = draw(st.integers(1, max(1, len(candidates) - 1)))
    kind = draw(st.sampled_from(["regular", "supplementary", "tie"]))
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "majority_base": st.sampled_from(["present", "collected", "valid_papers"]),
                "over_selection_voids": st.booleans(),
                "empty_paper_valid": st.booleans(),
                "unclear_voids_paper": st.booleans(),
                "tie_policy": st.sampled_from(["tie_round", "vacant"]),
                "slate_size": st.sampled_from(["plus_one", "ratio_20"]),
            },
        )
    )
    definition = RoundDefinition(seats, tuple(candidates), kind, parse_profile(options))
    paper = st.builds(
        PaperRecord,
        st.tuples(*[st.sampled_from(MARK_VALUES) for _ in candidates]),
        st.lists(st.sampled_from(WRITE_INS), max_size=3).map(tuple)
        if kind != "tie"
        else st.just(()),
        st.sampled_from([None, None, None, None, "P1", "P4", "P9"]),
    )
    papers = draw(st.lists(paper, min_size=1, max_size=60))
    present = len(papers) + draw(st.integers(0, 5))
    attendance = Attendance(present, present, present, len(papers))
    return definition, attendance, papers


@settings(max_examples=300, deadline=None)
@given(rounds())
def test_each_printed_candidate_yes_no_abstain_sum_to_valid_papers(
    case: tuple[RoundDefinition, Attendance, list[PaperRecord]],
) -> None:
    definition, attendance, papers = case
    result = count_round(definition, attendance, papers)
    valid = result.tally.papers.valid
    assert result.tally.papers.valid + result.tally.papers.invalid == len(papers)
    for person in result.tally.candidates:
        assert person.yes + person.no + person.abstain == valid
    assert sum(result.tally.papers.invalid_by_rule.values()) == result.tally.papers.invalid


@settings(max_examples=300, deadline=None)
@given(rounds())
def test_never_more_elected_than_seats_and_only_with_a_majority(
    case: tuple[RoundDefinition, Attendance, list[PaperRecord]],
) -> None:
    definition, attendance, papers = case
    result = count_round(definition, attendance, papers)
    assert len(result.elected) <= definition.seats
    assert len(set(result.elected)) == len(result.elected)
    votes = {person.name: person.yes for person in result.tally.persons}
    if definition.kind != "tie":
        assert all(2 * votes[name] > result.majority.base for name in result.elected)
    if result.next_round is not None and result.next_round.kind != "rerun":
        assert result.next_round.seats == definition.seats - len(result.elected)


@settings(max_examples=200, deadline=None)
@given(rounds(), st.randoms(use_true_random=False))
def test_outcome_does_not_depend_on_paper_order(
    case: tuple[RoundDefinition, Attendance, list[PaperRecord]], rng: random.Random
) -> None:
    definition, attendance, papers = case
    shuffled = list(papers)
    rng.shuffle(shuffled)
    first = count_round(definition, attendance, papers)
    second = count_round(definition, attendance, shuffled)
    assert first.outcome == second.outcome
    assert first.tally.persons == second.tally.persons
    assert first.trace == second.trace


@settings(max_examples=150, deadline=None)
@given(rounds(), st.randoms(use_true_random=False))
def test_outcome_does_not_depend_on_the_order_candidates_are_given(
    case: tuple[RoundDefinition, Attendance, list[PaperRecord]], rng: random.Random
) -> None:
    definition, attendance, papers = case
    round_json = {
        "seats": definition.seats,
        "candidates": list(definition.candidates),
        "delegates_total": attendance.delegates_total,
        "present": attendance.present,
        "collected": attendance.collected,
        "round_kind": definition.kind,
        "papers": [
            {
                "marks": dict(zip(definition.candidates, paper.marks, strict=True)),
                "write_ins": list(paper.write_ins),
                "void": paper.void,
            }
            for paper in papers
        ],
    }
    reordered = dict(
        round_json, candidates=rng.sample(list(definition.candidates), k=len(definition.candidates))
    )
    outputs = []
    for data in (round_json, reordered):
        parsed = parse_round(data)
        outputs.append(result_to_json(count_round_input(parsed), parsed))
    assert outputs[0] == outputs[1]


@settings(max_examples=300, deadline=None)
@given(rounds(), st.data())
def test_more_yes_for_an_elected_person_never_unelects_them(
    case: tuple[RoundDefinition, Attendance, list[PaperRecord]], data: st.DataObject
) -> None:
    definition, attendance, papers = case
    before = count_round(definition, attendance, papers)
    if not before.elected:
        return
    person = data.draw(st.sampled_from(before.elected))
    if person not in definition.candidates:
        return
    slot = definition.candidates.index(person)
    candidates_to_flip = [
        index
        for index, paper in enumerate(papers)
        if paper.marks[slot] in ("no", "abstain", "blank")
    ]
    if not candidates_to_flip:
        return
    index = data.draw(st.sampled_from(candidates_to_flip))
    paper = papers[index]
    flipped = paper._replace(marks=(*paper.marks[:slot], "yes", *paper.marks[slot + 1 :]))
    if not (judge_paper(paper, definition).valid and judge_paper(flipped, definition).valid):
        return
    after = count_round(definition, attendance, [*papers[:index], flipped, *papers[index + 1 :]])
    assert person in after.elected
