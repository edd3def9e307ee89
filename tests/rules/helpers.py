"""Typed builders for rules-engine tests."""

from collections.abc import Iterable, Mapping

from app.rules import (
    Attendance,
    Mark,
    PaperRecord,
    RoundDefinition,
    RoundKind,
    VoidRule,
    WriteIn,
    parse_profile,
)

# Distinct first-character stroke counts (丁 2, 王 4, 李 7, 周 8, 赵 9): ballot order is this order.
A, B, C, D, E = "丁一", "王宁", "李强", "周敏", "赵磊"
FIVE = (A, B, C, D, E)


def make_definition(
    seats: int = 3,
    candidates: Iterable[str] = FIVE,
    *,
    kind: RoundKind = "regular",
    ineligible: Iterable[str] = (),
    **options: object,
) -> RoundDefinition:
    return RoundDefinition(
        seats=seats,
        candidates=tuple(candidates),
        kind=kind,
        profile=parse_profile(options),
        ineligible=frozenset(ineligible),
    )


def make_attendance(
    delegates_total: int = 189,
    present: int = 180,
    *,
    issued: int | None = None,
    collected: int | None = None,
) -> Attendance:
    return Attendance(
        delegates_total=delegates_total,
        present=present,
        issued=present if issued is None else issued,
        collected=present if collected is None else collected,
    )


def make_paper(
    definition: RoundDefinition,
    *,
    yes: Iterable[str] = (),
    no: Iterable[str] = (),
    abstain: Iterable[str] = (),
    illegible: Iterable[str] = (),
    write_ins: Iterable[WriteIn] = (),
    void: VoidRule | None = None,
) -> PaperRecord:
    marks: dict[str, Mark] = {}
    for mark, names in (("yes", yes), ("no", no), ("abstain", abstain), ("illegible", illegible)):
        for name in names:
            assert name not in marks, f"{name} marked twice"
            marks[name] = mark  # type: ignore[assignment]
    return PaperRecord(
        tuple(marks.get(name, "blank") for name in definition.candidates),
        tuple(write_ins),
        void,
    )


def papers_with_yes_counts(
    definition: RoundDefinition, counts: Mapping[str, int], total: int
) -> list[PaperRecord]:
    """``total`` valid papers on which each candidate gets exactly ``counts[name]`` yes votes and
    abstains elsewhere; yes marks are spread cyclically so no paper holds more than ``seats``."""
    rows: list[dict[str, Mark]] = [{} for _ in range(total)]
    cursor = 0
    for name, count in sorted(counts.items(), key=lambda item: -item[1]):
        assert count <= total
        for step in range(count):
            rows[(cursor + step) % total][name] = "yes"
        cursor = (cursor + count) % total
    papers = []
    for row in rows:
        assert sum(1 for mark in row.values() if mark == "yes") <= definition.seats
        papers.append(
            PaperRecord(tuple(row.get(name, "abstain") for name in definition.candidates))
        )
    return papers
