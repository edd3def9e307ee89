"""Counting the papers of a round: validity per paper, then yes/no/abstain per person.

Identical papers are grouped first and each distinct paper is judged once; the counts are the
same as judging paper by paper (a differential test holds the engine to that).
"""

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, repeat
from typing import Protocol, overload, runtime_checkable

from app.rules.model import PaperRecord, RoundDefinition, RuleId, TraceEntry, paper_order
from app.rules.ordering import by_votes
from app.rules.validity import PaperJudgement, judge_paper
from app.rules.words import INVALID_REASON


@runtime_checkable
class CountedPapers(Protocol):
    """Papers given as each distinct paper and how many times it was cast: a recount of millions
    of papers (``app.ledger.replay``) keeps them so, and tallying them skips one hash per paper."""

    def counts(self) -> Mapping[PaperRecord, int]: ...


class Copies(Sequence[PaperRecord]):
    """A round's papers, each distinct paper repeated as often as it was cast, without a list of
    one item per paper (a record of millions of papers is recounted in bounded memory, a live
    tally read from the records' counts), in the order given."""

    def __init__(self, distinct: Sequence[tuple[PaperRecord, int]]) -> None:
        self._papers = [paper for paper, _ in distinct]
        self._ends = list(accumulate(n for _, n in distinct))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def counts(self) -> Counter[PaperRecord]:
        """Each distinct paper's copies (``CountedPapers``); two record texts
        may give one paper."""
        found: Counter[PaperRecord] = Counter()
        start = 0
        for paper, end in zip(self._papers, self._ends, strict=True):
            found[paper] += end - start
            start = end
        return found

    def __iter__(self) -> Iterator[PaperRecord]:
        start = 0
        for paper, end in zip(self._papers, self._ends, strict=True):
            yield from repeat(paper, end - start)
            start = end

    @overload
    def __getitem__(self, index: int) -> PaperRecord: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[PaperRecord]: ...

    def __getitem__(self, index: int | slice) -> PaperRecord | Sequence[PaperRecord]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._papers[bisect_right(self._ends, index)]


@dataclass(frozen=True, slots=True)
class PersonTally:
    """赞成/不赞成/弃权 for one person. A written-in person only has yes votes (另选他人)."""

    name: str
    write_in: bool
    yes: int
    no: int
    abstain: int


@dataclass(frozen=True, slots=True)
class PaperCounts:
    """Papers entered, valid, invalid; invalid papers by their reason (the first rule violated)."""

    entered: int
    valid: int
    invalid: int
    invalid_by_rule: Mapping[RuleId, int]
    disregarded_write_ins: int


@dataclass(frozen=True, slots=True)
class Tally:
    papers: PaperCounts
    candidates: tuple[PersonTally, ...]
    """Printed candidates in ballot order; ``yes + no + abstain == papers.valid`` for each."""
    write_ins: tuple[PersonTally, ...]
    """Written-in persons by votes, equal votes in stroke order (M11)."""
    judgements: Mapping[PaperRecord, PaperJudgement]
    trace: tuple[TraceEntry, ...]

    @property
    def persons(self) -> tuple[PersonTally, ...]:
        return self.candidates + self.write_ins


def tally_papers(definition: RoundDefinition, papers: Iterable[PaperRecord]) -> Tally:
    """Judge every paper (P1–P9) and count the valid ones per person.

    P5: a blank counts as abstaining, and so does an illegible mark (P6); P8: an invalid paper
    credits nobody. Edge: a write-in of a printed candidate is disregarded, the mark decides (P7).
    """
    candidates = definition.candidates
    seats_of = range(len(candidates))
    yes = [0] * len(candidates)
    no = [0] * len(candidates)
    write_in_yes: Counter[str] = Counter()
    invalid_by_rule: Counter[RuleId] = Counter()
    judgements: dict[PaperRecord, PaperJudgement] = {}
    entered = valid = disregarded = 0

    # In the one order of records (``paper_order``), not as given: the result (e.g. where a
    # write-in without stroke data is placed, B1) never depends on the order papers came in.
    counts = papers.counts() if isinstance(papers, CountedPapers) else Counter(papers)
    distinct = sorted(counts.items(), key=lambda item: paper_order(item[0]))
    for paper, copies in distinct:
        judgement = judge_paper(paper, definition)
        judgements[paper] = judgement
        entered += copies
        if judgement.disregarded:
            disregarded += copies
        if judgement.reason is not None:
            invalid_by_rule[judgement.reason] += copies
            continue
        valid += copies
        marks = paper.marks
        for index in seats_of:
            mark = marks[index]
            if mark == "yes":
                yes[index] += copies
            elif mark == "no":
                no[index] += copies
        for person in judgement.write_ins:
            write_in_yes[person] += copies

    candidate_tallies = tuple(
        PersonTally(name, False, yes[i], no[i], valid - yes[i] - no[i])
        for i, name in enumerate(candidates)
    )
    ranked = by_votes(list(write_in_yes.items()), definition.profile.name_order)
    write_in_tallies = tuple(PersonTally(name, True, votes, 0, 0) for name, votes in ranked)
    return Tally(
        papers=PaperCounts(
            entered=entered,
            valid=valid,
            invalid=entered - valid,
            invalid_by_rule=dict(sorted(invalid_by_rule.items())),
            disregarded_write_ins=disregarded,
        ),
        candidates=candidate_tallies,
        write_ins=write_in_tallies,
        judgements=judgements,
        trace=_paper_trace(entered, valid, invalid_by_rule, disregarded),
    )


# Why the rule applies to these papers here: P5 and P6 void a paper only under some profiles.
_PROFILE_NOTE: dict[RuleId, tuple[str, str]] = {
    "P5": ("（本规则设定为无效）", " (invalid under this profile)"),
    "P6": ("（本规则设定整张无效）", " (voids the paper under this profile)"),
}


def _paper_trace(
    entered: int, valid: int, invalid_by_rule: Mapping[RuleId, int], disregarded: int
) -> tuple[TraceEntry, ...]:
    trace = []
    for rule, count in sorted(invalid_by_rule.items()):
        reason_zh, reason_en = INVALID_REASON[rule]
        note_zh, note_en = _PROFILE_NOTE.get(rule, ("", ""))
        trace.append(
            TraceEntry(
                rule,
                f"无效票 {count} 张：{reason_zh}{note_zh}",
                f"{count} invalid paper(s): {reason_en}{note_en}",
            )
        )
    if disregarded:
        trace.append(
            TraceEntry(
                "P7",
                f"{disregarded} 张选票在“另选他人”栏写了本轮候选人的姓名，"
                "不作另选他人计，以其符号为准",
                f"{disregarded} paper(s) wrote a printed candidate in a write-in box: disregarded, "
                "the printed mark decides",
            )
        )
    if entered - valid:
        trace.append(
            TraceEntry(
                "P8",
                f"无效票 {entered - valid} 张计入收回选票，不计入任何人的得票",
                f"{entered - valid} invalid paper(s) count as collected and for nobody",
            )
        )
    trace.append(
        TraceEntry(
            "P5",
            f"有效票 {valid} 张；未划符号视为弃权",
            f"{valid} valid paper(s); a candidate left unmarked counts as abstaining",
        )
    )
    return tuple(trace)
