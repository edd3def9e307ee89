"""The rehearsal's papers: what the delegates marked (the truth), what two tablets enter for it,
and what the rules say the round's result must be.

Each round's yes counts are planned so that the election needs follow-up rounds (the seed shape,
3 seats and 5 candidates): the first round elects one person and leaves two seats short (M6), the
supplementary round elects one and ties two at the last seat (M5), the tie round decides by
plurality (M7). Around the plan, the papers are random (``--seed``): other marks, write-ins,
invalid papers (P2, P3, P4), unclear marks the scrutineers decide (P6), and a few entry mistakes
in one pass of a batch that double entry must catch (O3, C1).
"""

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from app.rules import (
    SEED_PROFILE,
    Attendance,
    Mark,
    PaperRecord,
    RoundDefinition,
    RoundKind,
    VoidRule,
    count_round,
    paper_order,
)
from app.rules.model import UNCLEAR
from app.rules.roundfile import round_result_json

BATCH_SIZE = 25  # the chief teller's bundles (≈20–50 papers)
OTHER_MARKS = ("no", "abstain", "blank")
OTHER_WEIGHTS = (5, 3, 2)


class Entered(NamedTuple):
    """A paper as a teller entered it: marks may be ``"unclear"``."""

    marks: tuple[str, ...]
    write_ins: tuple[str | None, ...] = ()
    void: str | None = None

    def body(self, candidates: Sequence[str]) -> dict[str, Any]:
        return {
            "marks": dict(zip(candidates, self.marks, strict=True)),
            "write_ins": list(self.write_ins),
            "void": self.void,
        }


def _paper(
    marks: Sequence[str], write_ins: Sequence[str | None] = (), void: str | None = None
) -> PaperRecord:
    return PaperRecord(
        cast(tuple[Mark, ...], tuple(marks)), tuple(write_ins), cast(VoidRule | None, void)
    )


def entered(paper: PaperRecord) -> Entered:
    return Entered(tuple(paper.marks), tuple(paper.write_ins), paper.void)


@dataclass(frozen=True, slots=True)
class BatchPlan:
    truth: list[PaperRecord]
    pass_a: list[Entered]
    pass_b: list[Entered]  # entered in another order than pass A (blind, by another teller)
    differences: int  # papers one pass entered differently from the paper
    unclear: int  # papers both passes entered with an unclear mark

    @property
    def disputed(self) -> bool:
        return self.differences > 0 or self.unclear > 0

    def resolution(self) -> list[PaperRecord]:
        """What the scrutineers find on the disputed papers: every paper of the batch except those
        both passes entered alike and clearly (the multiset difference, C1)."""
        agreed = Counter(self.pass_a) & Counter(self.pass_b)
        clear = Counter({r: n for r, n in agreed.items() if UNCLEAR not in r.marks})
        rest = Counter(entered(p) for p in self.truth) - clear
        by_entry = {entered(p): p for p in self.truth}
        return sorted((by_entry[r] for r in rest.elements()), key=paper_order)


@dataclass(frozen=True, slots=True)
class RoundPlan:
    truth: list[PaperRecord]
    batches: list[BatchPlan]

    @property
    def differences(self) -> int:
        return sum(b.differences for b in self.batches)

    @property
    def unclear(self) -> int:
        return sum(b.unclear for b in self.batches)


def expected_result(
    *,
    kind: RoundKind,
    seats: int,
    candidates: Sequence[str],
    delegates_total: int,
    present: int,
    issued: int,
    papers: Sequence[PaperRecord],
) -> dict[str, Any]:
    """The round's result as the rules engine gives it for the papers the delegates marked."""
    definition = RoundDefinition(
        seats=seats, candidates=tuple(candidates), kind=kind, profile=SEED_PROFILE
    )
    attendance = Attendance(
        delegates_total=delegates_total, present=present, issued=issued, collected=len(papers)
    )
    return round_result_json(count_round(definition, attendance, sorted(papers, key=paper_order)))


def plan_round(
    rng: random.Random,
    *,
    kind: RoundKind,
    seats: int,
    candidates: Sequence[str],
    present: int,
    write_in_names: Sequence[str],
    differences: int,
) -> RoundPlan:
    truth = _papers(rng, kind, seats, list(candidates), present, write_in_names)
    rng.shuffle(truth)
    return _entries(rng, truth, differences=differences)


# ---------------------------------------------------------------- what the delegates mark


def _yes_targets(
    rng: random.Random, kind: RoundKind, seats: int, candidates: list[str], present: int
) -> dict[str, int]:
    """Yes votes per candidate (M2 threshold = present // 2 + 1, seed profile M1)."""
    threshold = present // 2 + 1
    step = max(1, present // 20)
    order = list(candidates)
    rng.shuffle(order)
    targets: dict[str, int] = {}
    if kind == "tie":
        # M7: plurality among the tied, one clear winner; a paper holds one yes (P3).
        for rank, name in enumerate(order):
            top = present // 2 if rank == 0 else present * 3 // 10 - (rank - 1) * (step + 1)
            targets[name] = max(0, top - rng.randint(0, step))
        return targets
    if kind == "supplementary" and seats >= 2 and len(order) >= seats + 1:
        # M8 then M5: seats - 1 clearly elected, the next two tied with a majority.
        for rank, name in enumerate(order[: seats - 1]):
            targets[name] = threshold + 1 + rng.randint(0, step) + (seats - 2 - rank)
        for name in order[seats - 1 : seats + 1]:
            targets[name] = threshold
        below = threshold - 2
        for name in order[seats + 1 :]:
            targets[name] = max(0, below)
            below -= step + 1
        return targets
    # A first round (M6: seats short) or a one-seat supplementary round (M3: filled).
    elected = max(1, seats - 2) if kind != "supplementary" else seats
    for rank, name in enumerate(order[:elected]):
        targets[name] = present * 3 // 4 - rng.randint(0, step) - rank * 2
    below = threshold - 2 - rng.randint(0, step)
    for name in order[elected:]:
        targets[name] = max(0, below)
        below -= step + rng.randint(0, 1)
    return targets


def _papers(
    rng: random.Random,
    kind: RoundKind,
    seats: int,
    candidates: list[str],
    present: int,
    write_in_names: Sequence[str],
) -> list[PaperRecord]:
    blank = ("blank",) * len(candidates)
    invalid: list[PaperRecord] = []
    # P3 over-selection: a yes on one more candidate than seats.
    over = tuple("yes" if i <= seats else "blank" for i in range(len(candidates)))
    for _ in range(max(1, present // 60)):
        invalid.append(_paper(over))
    with_write_ins = kind == "regular" and len(write_in_names) >= 2
    if with_write_ins:
        # P2: two write-ins and only one ×; P4: identifying marks, declared void.
        no_once = ("no",) + ("blank",) * (len(candidates) - 1)
        invalid.append(_paper(no_once, (write_in_names[0], write_in_names[1])))
        invalid.append(_paper(blank, (), "P4"))
    valid = present - len(invalid)
    written = max(1, present // 60) if with_write_ins else 0
    # A paper with a write-in has room for one yes less (P3) and needs a × (P2).
    capacity = [seats - 1] * written + [seats] * (valid - written)
    yes_on: list[set[int]] = [set() for _ in range(valid)]
    targets = _yes_targets(rng, kind, seats, candidates, present)
    for name, target in sorted(targets.items(), key=lambda item: -item[1]):
        index = candidates.index(name)
        ranked = sorted(range(valid), key=lambda p: (-capacity[p], rng.random()))
        chosen = [p for p in ranked[:target] if capacity[p] > 0]
        if len(chosen) < target:
            raise ValueError(f"cannot give {name} {target} yes votes on {valid} valid papers")
        for p in chosen:
            yes_on[p].add(index)
            capacity[p] -= 1
    papers: list[PaperRecord] = []
    for p in range(valid):
        marks = [
            "yes" if i in yes_on[p] else rng.choices(OTHER_MARKS, OTHER_WEIGHTS)[0]
            for i in range(len(candidates))
        ]
        write_ins: tuple[str, ...] = ()
        if p < written:
            others = [i for i in range(len(candidates)) if marks[i] != "yes"]
            marks[rng.choice(others)] = "no"
            write_ins = (write_in_names[p % 2],)
        papers.append(_paper(marks, write_ins))
    return papers + invalid


# ---------------------------------------------------------------- what the tablets enter


def _mistake(rng: random.Random, paper: PaperRecord) -> Entered:
    """A teller's slip on one paper: a mark read as another, or a write-in left out."""
    if paper.write_ins and rng.random() < 0.5:
        return Entered(tuple(paper.marks), (), paper.void)
    marks = list(paper.marks)
    index = rng.randrange(len(marks))
    marks[index] = rng.choice([m for m in ("yes", "no", "abstain", "blank") if m != marks[index]])
    return Entered(tuple(marks), tuple(paper.write_ins), paper.void)


def _unclear(paper: PaperRecord, number: int) -> tuple[PaperRecord, Entered]:
    """A mark neither teller can read. The scrutineers read the first of a round as the yes it is;
    the second they find illegible (P6), which counts as the abstention the mark was."""
    marks: list[str] = list(paper.marks)
    wanted = ("yes",) if number == 0 else ("abstain", "blank")
    index = next(i for i, m in enumerate(marks) if m in wanted)
    if number > 0:
        marks[index] = "illegible"
    shown = list(marks)
    shown[index] = UNCLEAR
    truth = _paper(marks, paper.write_ins, paper.void)
    return truth, Entered(tuple(shown), tuple(paper.write_ins), paper.void)


def _entries(rng: random.Random, truth: list[PaperRecord], *, differences: int) -> RoundPlan:
    count = math.ceil(len(truth) / BATCH_SIZE) if len(truth) > BATCH_SIZE else 2
    count = min(count, len(truth))
    bounds = [len(truth) * i // count for i in range(count + 1)]
    # Two unclear marks (P6) on valid papers without write-ins: a yes, and a mark that is no vote.
    shown = [entered(p) for p in truth]
    taken: set[int] = set()
    for number, marks in enumerate((("yes",), ("abstain", "blank"))):
        fitting = [
            i
            for i, p in enumerate(truth)
            if p.void is None
            and not p.write_ins
            and i not in taken
            and any(m in marks for m in p.marks)
        ]
        if fitting:
            i = rng.choice(fitting)
            taken.add(i)
            truth[i], shown[i] = _unclear(truth[i], number)
    # One slip each in distinct batches, in one pass only (A, B, A, …), never on an unclear paper.
    mistaken = rng.sample(range(count), min(differences, count))
    batches: list[BatchPlan] = []
    for number in range(count):
        chunk = slice(bounds[number], bounds[number + 1])
        chunk_truth, chunk_shown = truth[chunk], shown[chunk]
        pass_a, pass_b = list(chunk_shown), list(chunk_shown)
        slips = 0
        if number in mistaken:
            wrong = pass_a if mistaken.index(number) % 2 == 0 else pass_b
            clear = [i for i, r in enumerate(chunk_shown) if UNCLEAR not in r.marks]
            i = rng.choice(clear)
            wrong[i] = _mistake(rng, chunk_truth[i])
            slips = 1
        rng.shuffle(pass_b)
        unclear = sum(UNCLEAR in r.marks for r in chunk_shown)
        batches.append(BatchPlan(chunk_truth, pass_a, pass_b, slips, unclear))
    return RoundPlan(truth, batches)
