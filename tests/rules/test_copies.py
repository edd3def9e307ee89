"""``app.rules.Copies``: a round's papers as each distinct paper and its count (the recount of a
record and the live tally give them so), seen as the papers one by one."""

from collections import Counter

import pytest

from app.rules import Copies, PaperRecord, tally_papers
from app.rules.tally import CountedPapers
from tests.rules.helpers import make_definition

X = PaperRecord(marks=("yes",))
Y = PaperRecord(marks=("no",))


def test_the_papers_are_each_distinct_paper_as_often_as_cast() -> None:
    papers = Copies([(X, 2), (Y, 1)])
    assert len(papers) == 3
    assert list(papers) == [X, X, Y]
    assert [papers[0], papers[1], papers[2]] == [X, X, Y]
    assert [papers[-1], papers[-3]] == [Y, X]
    assert papers[1:] == [X, Y]
    for outside in (3, -4):
        with pytest.raises(IndexError):
            papers[outside]
    empty = Copies([])
    assert (len(empty), list(empty)) == (0, [])
    with pytest.raises(IndexError):
        empty[0]


def test_the_papers_are_tallied_from_their_counts_as_one_by_one() -> None:
    # Two record texts may give one paper: counted together.
    papers = Copies([(X, 2), (Y, 1), (X, 3)])
    assert papers.counts() == Counter(list(papers)) == Counter({X: 5, Y: 1})
    definition = make_definition(1, ["丁一"])
    assert isinstance(papers, CountedPapers)
    assert tally_papers(definition, papers) == tally_papers(definition, list(papers))
