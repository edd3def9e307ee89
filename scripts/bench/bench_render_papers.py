"""Time to render the papers of one round for 3,000 delegates (the seed college's size).

Run: .venv/bin/python scripts/bench/bench_render_papers.py [--copies 3000] [--out FILE.pdf]
Prints the seconds (font loading and subsetting included) and the PDF's size.
"""

import argparse
import secrets
import time
from pathlib import Path

from app.papers.roundpapers import render_round_file
from app.printing.layout import load_layout

ROUND = {
    "title": "信息工程学院第五届学生会主席团成员选举",
    "election": 1,
    "round": 1,
    "seats": 3,
    "candidates": ["张伟", "王宁", "李娜", "欧阳晓东", "刘洋"],
    "delegates_total": 3000,
    "present": 3000,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=3000)
    parser.add_argument("--out", default="ballots/out/bench.pdf")
    args = parser.parse_args()
    layout = load_layout()
    for paper_size, per_page in (("A4", 2), ("A4", 1), ("A5", 1)):
        started = time.perf_counter()
        rendered = render_round_file(
            ROUND,
            key=secrets.token_bytes(32),
            layout=layout,
            copies=args.copies,
            paper_size=paper_size,  # type: ignore[arg-type]
            per_page=per_page,
        )
        seconds = time.perf_counter() - started
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(rendered.pdf)
        print(
            f"{args.copies} papers, {paper_size} × {per_page}/page: {seconds:.2f} s, "
            f"{len(rendered.pdf) / 1024:.0f} KiB ({len(rendered.pdf) / args.copies:.0f} B/paper)"
        )


if __name__ == "__main__":
    main()
