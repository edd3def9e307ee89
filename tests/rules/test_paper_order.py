"""Paper records are totally ordered in one place (``paper_order``), and the engine's result does
not depend on the order the papers come in."""

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from app.rules import PaperRecord, count_round, paper_order, tally_papers
from app.rules.roundfile import round_result_json
from tests.rules.helpers import A, B, C, make_attendance, make_definition

records = st.builds(
    PaperRecord,
    st.tuples(*[st.sampled_from(["yes", "no", "abstain", "blank", "illegible"])] * 3),
    st.lists(st.sampled_from(["孙一", "吴三", None, "Zed", "Amy"]), max_size=3).map(tuple),
    st.sampled_from([None, "P1", "P4", "P9"]),
)


@given(st.lists(records, max_size=30))
def test_any_papers_sort_and_the_order_is_total(papers: list[PaperRecord]) -> None:
    ordered = sorted(papers, key=paper_order)
    for first, second in pairwise(ordered):
        assert paper_order(first) <= paper_order(second)
        assert (paper_order(first) == paper_order(second)) == (first == second)


def test_none_sorts_where_records_compared_before() -> None:
    blank = PaperRecord(("blank",) * 3)
    void = PaperRecord(("blank",) * 3, void="P4")
    named = PaperRecord(("no", "no", "no"), ("孙一",))
    illegible = PaperRecord(("no", "no", "no"), (None,))
    assert sorted([void, blank], key=paper_order) == [blank, void]
    assert sorted([illegible, named], key=paper_order) == [named, illegible]


def test_the_result_does_not_depend_on_the_order_of_the_papers() -> None:
    # Write-ins without stroke data are placed after the others in the order first met (B1):
    # the engine meets them in the one order of records, whatever order it was given.
    definition = make_definition(1, (A, B, C))
    papers = [
        PaperRecord(("no", "no", "no"), ("Zed",)),
        PaperRecord(("no", "no", "no"), ("Amy",)),
        PaperRecord(("no", "no", "no"), (None,)),
        PaperRecord(("blank",) * 3, void="P9"),
    ]
    forward = tally_papers(definition, papers)
    backward = tally_papers(definition, list(reversed(papers)))
    assert [t.name for t in forward.write_ins] == [t.name for t in backward.write_ins]
    attendance = make_attendance(present=180, issued=180, collected=4)
    assert round_result_json(count_round(definition, attendance, papers)) == round_result_json(
        count_round(definition, attendance, list(reversed(papers)))
    )
