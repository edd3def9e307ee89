"""Benchmark: the rules engine on 1,000,000 five-candidate papers held in memory.

Prints papers per second for tally_papers (group identical papers, judge each distinct paper
once, count) and for the whole count_round, on one core. Goal: ≥ 1,000,000 papers/s.

    .venv/bin/python scripts/bench/bench_engine.py [--papers N] [--repeat R]
"""

import argparse
import random
import time

from app.rules import (
    Attendance,
    Mark,
    PaperRecord,
    RoundDefinition,
    WriteIn,
    count_round,
    tally_papers,
)

CANDIDATES = ("丁一", "王宁", "李强", "周敏", "赵磊")
MARKS: tuple[Mark, ...] = ("yes", "no", "abstain", "blank", "illegible")
WRITE_INS: tuple[WriteIn, ...] = ("孙一", "钱二", None)


def make_papers(count: int, seed: int) -> list[PaperRecord]:
    """Realistic papers: mostly ✓ for a few favourites, some ×, a few write-ins and voids."""
    rng = random.Random(seed)
    papers = []
    for _ in range(count):
        marks = tuple(rng.choices(MARKS, weights=(45, 20, 15, 18, 2), k=len(CANDIDATES)))
        write_ins: tuple[WriteIn, ...] = ()
        if rng.random() < 0.05:
            write_ins = (rng.choice(WRITE_INS),)
        papers.append(PaperRecord(marks, write_ins, "P4" if rng.random() < 0.001 else None))
    return papers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    definition = RoundDefinition(3, CANDIDATES)
    started = time.perf_counter()
    papers = make_papers(args.papers, seed=2026)
    print(
        f"generated {len(papers):,} papers in {time.perf_counter() - started:.2f} s "
        f"({len(set(papers)):,} distinct)"
    )
    attendance = Attendance(len(papers), len(papers), len(papers), len(papers))
    for label, run in (
        ("tally_papers", lambda: tally_papers(definition, papers)),
        ("count_round", lambda: count_round(definition, attendance, papers)),
    ):
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - started)
        print(
            f"{label:>13}: best of {args.repeat}: {best:.3f} s = {len(papers) / best:,.0f} papers/s"
        )
    result = count_round(definition, attendance, papers)
    print("elected:", ", ".join(result.elected), "| valid:", result.tally.papers.valid)


if __name__ == "__main__":
    main()
