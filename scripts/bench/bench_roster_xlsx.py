"""Benchmark: reading a hostile roster XLSX (one cell in column XFD), time and peak memory.

    .venv/bin/python scripts/bench/bench_roster_xlsx.py [--rows 3000] [--rev GIT_REV]

Builds a roster of --rows delegates plus one cell in XFD1 (openpyxl writes the sheet's
<dimension> as A1:XFD...), then runs ``app.setup.roster.parse_roster`` on it in a child process
and prints the outcome, the wall time and the child's peak RSS. With --rev, ``roster.py`` of that
git revision is measured instead (e.g. the one before the size check; mind the memory: the old
reader pads every row to 16,384 cells).
"""

from __future__ import annotations

import argparse
import io
import resource
import subprocess
import sys
import time
import types
from pathlib import Path

from openpyxl import Workbook

from app.errors import AppError

ROOT = Path(__file__).resolve().parents[2]


def hostile(rows: int) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "代表团", "学号"])
    for n in range(rows):
        sheet.append([f"代表{n}", "第一代表团", f"2026{n:06d}"])
    sheet["XFD1"] = "x"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def roster_module(rev: str | None) -> types.ModuleType:
    if rev is None:
        from app.setup import roster

        return roster
    source = subprocess.run(
        ["git", "show", f"{rev}:app/setup/roster.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("roster_at_rev")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:app/setup/roster.py", "exec"), module.__dict__)
    return module


def child(rows: int, rev: str | None) -> None:
    data = hostile(rows)
    roster = roster_module(rev)
    start = time.perf_counter()
    try:
        parsed = roster.parse_roster(data, filename="hostile.xlsx")
        outcome = f"imported {len(parsed.rows)} rows"
    except AppError as refused:
        outcome = f"refused: {refused.code}"
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"file {len(data) / 1024:.0f} KB, {outcome}, {elapsed:.2f} s, peak RSS {peak_mb:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--rev", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.rev)
        return
    command = [sys.executable, __file__, "--child", "--rows", str(args.rows)]
    if args.rev:
        command += ["--rev", args.rev]
    subprocess.run(command, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
