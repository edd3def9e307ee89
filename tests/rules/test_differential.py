"""Differential test: the engine against a deliberately naive paper-by-paper count.

310,000 random papers of five candidates (≈ 1.55 million ballot positions, the length of the
VVSG accuracy acceptance run), under several profiles; zero differences allowed.
"""

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass

import pytest

from app.rules import (
    Mark,
    PaperRecord,
    RoundDefinition,
    WriteIn,
    parse_profile,
    tally_papers,
)

CANDIDATES = ("丁一", "王宁", "李强", "周敏", "赵磊")
WRITE_IN_POOL: tuple[WriteIn, ...] = (
    "孙一",
    "孙 一",
    "钱二",
    "ｗｕ三",
    "wu三",
    None,
    "王宁",
    " 赵磊",
)
MARKS: tuple[Mark, ...] = ("yes", "no", "abstain", "blank", "illegible")
PROFILES: tuple[dict[str, object], ...] = (
    {},
    {"over_selection_voids": False},
    {"empty_paper_valid": False, "unclear_voids_paper": True},
    {"over_selection_voids": False, "empty_paper_valid": False},
)
PAPERS_PER_PROFILE = 77_500  # 4 × 77,500 = 310,000 papers, 1,550,000 ballot positions


@dataclass
class NaiveCount:
    yes: dict[str, int]
    no: dict[str, int]
    abstain: dict[str, int]
    write_ins: Counter[str]
    valid: int
    invalid_by_rule: Counter[str]


def naive_count(seats: int, options: dict[str, object], papers: list[PaperRecord]) -> NaiveCount:
    """Paper by paper, as a teller would, straight from the wording of RULES.md."""
    count = NaiveCount(
        dict.fromkeys(CANDIDATES, 0),
        dict.fromkeys(CANDIDATES, 0),
        dict.fromkeys(CANDIDATES, 0),
        Counter(),
        0,
        Counter(),
    )
    for paper in papers:
        reasons = []
        if paper.void:
            reasons.append(paper.void)
        names = []
        unreadable = 0
        for written in paper.write_ins:
            if written is None:
                unreadable += 1
                continue
            name = "".join(unicodedata.normalize("NFKC", written).split())
            if name in CANDIDATES or name in names:
                continue
            names.append(name)
        crosses = sum(1 for mark in paper.marks if mark == "no")
        ticks = sum(1 for mark in paper.marks if mark == "yes")
        if len(names) + unreadable > crosses:
            reasons.append("P2")
        if options.get("over_selection_voids", True) and ticks + len(names) + unreadable > seats:
            reasons.append("P3")
        if options.get("unclear_voids_paper", False) and "illegible" in paper.marks:
            reasons.append("P6")
        empty = not paper.write_ins and all(mark == "blank" for mark in paper.marks)
        if not options.get("empty_paper_valid", True) and empty:
            reasons.append("P5")
        if reasons:
            count.invalid_by_rule[reasons[0]] += 1
            continue
        count.valid += 1
        for candidate, mark in zip(CANDIDATES, paper.marks, strict=True):
            if mark == "yes":
                count.yes[candidate] += 1
            elif mark == "no":
                count.no[candidate] += 1
            else:
                count.abstain[candidate] += 1
        for name in names:
            count.write_ins[name] += 1
    return count


def random_paper(rng: random.Random) -> PaperRecord:
    marks = tuple(rng.choices(MARKS, weights=(40, 25, 15, 15, 5), k=len(CANDIDATES)))
    write_ins = tuple(rng.choices(WRITE_IN_POOL, k=rng.choices((0, 1, 2, 3), (70, 20, 7, 3))[0]))
    void = rng.choices((None, "P1", "P4", "P9"), weights=(97, 1, 1, 1))[0]
    return PaperRecord(marks, write_ins, void)  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("options", PROFILES)
def test_engine_equals_naive_count(options: dict[str, object]) -> None:
    rng = random.Random(f"jipiao-{sorted(options.items())}")
    seats = 3
    papers = [random_paper(rng) for _ in range(PAPERS_PER_PROFILE)]
    definition = RoundDefinition(seats, CANDIDATES, "regular", parse_profile(options))
    engine = tally_papers(definition, papers)
    naive = naive_count(seats, options, papers)

    assert engine.papers.entered == PAPERS_PER_PROFILE
    assert engine.papers.valid == naive.valid
    assert dict(engine.papers.invalid_by_rule) == dict(naive.invalid_by_rule)
    for person in engine.candidates:
        assert (person.yes, person.no, person.abstain) == (
            naive.yes[person.name],
            naive.no[person.name],
            naive.abstain[person.name],
        ), person.name
    assert {p.name: p.yes for p in engine.write_ins} == dict(naive.write_ins)
    # The generator must exercise every branch it is meant to compare.
    assert naive.valid > 0
    assert {"P2", "P1", "P4", "P9"} <= set(naive.invalid_by_rule)
    assert len(naive.write_ins) >= 3
