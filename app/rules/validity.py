"""Judging one paper: rules P1–P9 in the order RULES.md prescribes.

Order: a declared void (P1, P4, P9), then write-in hygiene (P7), then P2, P3, then the profile's
optional P6 (an illegible mark voids the paper) and P5 (an empty paper is invalid). Every violated
rule is recorded; the first is the paper's reason.
"""

from dataclasses import dataclass

from app.rules.model import PaperRecord, RoundDefinition, RoundInputError, RuleId, normalize_name


@dataclass(frozen=True, slots=True)
class PaperJudgement:
    """The verdict on one paper, and what it credits if valid.

    ``write_ins`` are the distinct persons written in (normalized names, not printed candidates);
    ``illegible_write_ins`` count toward P2/P3 but credit nobody; ``disregarded`` are printed
    candidates' names written in a 另选他人 box, which the printed mark overrides (P7).
    """

    violations: tuple[RuleId, ...]
    write_ins: tuple[str, ...]
    illegible_write_ins: int
    disregarded: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.violations

    @property
    def reason(self) -> RuleId | None:
        return self.violations[0] if self.violations else None


def _read_write_ins(
    paper: PaperRecord, definition: RoundDefinition
) -> tuple[list[str], list[str], int]:
    """P7: the distinct persons credited, the printed candidates written in (disregarded), and
    how many write-ins cannot be read."""
    credited: list[str] = []
    disregarded: list[str] = []
    illegible = 0
    for written in paper.write_ins:
        if written is None:
            illegible += 1
            continue
        person = normalize_name(written)
        if not person:
            raise RoundInputError("P7", "write_ins", "另选他人姓名为空", "an empty write-in name")
        if person in definition.printed:
            if person not in disregarded:
                disregarded.append(person)
        elif person not in credited:
            credited.append(person)
    return credited, disregarded, illegible


def judge_paper(paper: PaperRecord, definition: RoundDefinition) -> PaperJudgement:
    """Decide whether ``paper`` is valid under P1–P9 and which write-ins it credits.

    P2: more write-ins than × marks voids the paper (另选他人数应少于或等于投不赞成票的人数);
    a write-in naming a printed candidate is disregarded and so needs no × (P7), while an
    illegible write-in still needs one. Edge: two write-ins of the same person count once (P7).
    """
    if len(paper.marks) != len(definition.candidates):
        raise RoundInputError(
            None,
            "marks",
            f"选票记录有 {len(paper.marks)} 个符号，候选人有 {len(definition.candidates)} 名",
            f"paper has {len(paper.marks)} marks for {len(definition.candidates)} candidates",
        )
    if paper.write_ins and not definition.has_write_ins:
        raise RoundInputError(
            "M7",
            "write_ins",
            "票数相等重新投票的选票没有“另选他人”栏",
            "a tie-round paper has no write-in boxes",
        )
    violations: list[RuleId] = []
    if paper.void is not None:
        violations.append(paper.void)
    credited, disregarded, illegible = _read_write_ins(paper, definition)
    write_in_count = len(credited) + illegible
    if write_in_count > paper.marks.count("no"):
        violations.append("P2")
    profile = definition.profile
    if profile.over_selection_voids and paper.marks.count("yes") + write_in_count > (
        definition.seats
    ):
        violations.append("P3")
    if profile.unclear_voids_paper and "illegible" in paper.marks:
        violations.append("P6")
    if (
        not profile.empty_paper_valid
        and not paper.write_ins
        and all(mark == "blank" for mark in paper.marks)
    ):
        violations.append("P5")
    return PaperJudgement(
        violations=tuple(violations),
        write_ins=tuple(credited),
        illegible_write_ins=illegible,
        disregarded=tuple(disregarded),
    )
