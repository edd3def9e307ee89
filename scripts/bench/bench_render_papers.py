"""Time to render the papers of one round for 3,000 delegates (the seed college's size).

Run: .venv/bin/python scripts/bench/bench_render_papers.py [--copies 3000] [--out FILE.pdf]
Prints the seconds (font loading and subsetting included) and the PDF's size.

With ``--documents N``: the CPU seconds of one small document (one paper), N made in a row, with
the Chinese faces parsed once per process (as the service does, app/printing/fonts.py) and parsed
for each document (as fpdf2 does by itself), alternately; the fastest and the median of each.
"""

import argparse
import secrets
import statistics
import time
from pathlib import Path

from app.papers.roundpapers import render_round_file
from app.printing import fonts
from app.printing.layout import Layout, load_layout

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
    parser.add_argument("--documents", type=int, default=0)
    args = parser.parse_args()
    layout = load_layout()
    if args.documents:
        per_document(layout, args.documents)
        return
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


def per_document(layout: Layout, documents: int) -> None:
    def one() -> None:
        render_round_file(ROUND, key=bytes(32), layout=layout, copies=1, per_page=1)

    parsed_once = fonts._parsed_face
    one()  # the imports and the first parse are not what is measured
    seconds: dict[str, list[float]] = {"parsed once": [], "parsed per document": []}
    for _ in range(documents):
        for mode, times in seconds.items():
            fonts._parsed_face = parsed_once if mode == "parsed once" else lambda *_: None
            started = time.process_time()
            one()
            times.append(time.process_time() - started)
    fonts._parsed_face = parsed_once
    for mode, times in seconds.items():
        print(
            f"one paper, faces {mode}: {min(times):.3f} s CPU fastest, "
            f"{statistics.median(times):.3f} s median ({documents} documents)"
        )


if __name__ == "__main__":
    main()
