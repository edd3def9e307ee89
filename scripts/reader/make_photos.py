"""Make a set of synthetic photos and scans of marked papers (see synth.py).

Run: nice -n 19 .venv/bin/python scripts/reader/make_photos.py --seed 1 --papers 400 \
        --out var/reader/1
Writes NNNN.jpg/.png, labels.jsonl (truth and camera conditions per image) and rounds/<case>.json.
These are synthetic papers only; the reader itself never writes an image.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import synth
from human_marks import SCRIBBLES, UNSEEN, HumanMarks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--papers", type=int, default=400)
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--hard-share", type=float, default=0.03, help="marks drawn unclear, faint or outside"
    )
    parser.add_argument(
        "--low-share", type=float, default=0.15, help="photos by the low-resolution camera"
    )
    parser.add_argument(
        "--max-side", type=int, default=0, help="make photos at most this large (training only)"
    )
    parser.add_argument(
        "--by-names",
        action="store_true",
        help="pick papers in proportion to their names (more boxes a photo, for training)",
    )
    parser.add_argument(
        "--training-scribbles",
        action="store_true",
        help="hard marks include scribbles of other shapes (training sets only)",
    )
    parser.add_argument(
        "--near-misses",
        action="store_true",
        help="with --training-scribbles: half of the hard marks shapes near a mark (training)",
    )
    parser.add_argument("--scan-share", type=float, default=0.25)
    parser.add_argument(
        "--blurred-share", type=float, default=0.0, help="tablet photos far off and out of focus"
    )
    parser.add_argument(
        "--circle-share", type=float, default=0.0, help="voters who mark 赞成 with ○, not ✓"
    )
    parser.add_argument(
        "--fold-share", type=float, default=0.0, help="photos of papers folded and opened again"
    )
    parser.add_argument(
        "--sharpen-share", type=float, default=0.0, help="photos the camera sharpened"
    )
    parser.add_argument(
        "--people",
        default="",
        help="draw the marks people drew (human_marks.py), of these subjects: e.g. 2-11",
    )
    parser.add_argument(
        "--people-scribbles",
        choices=["drawn", "unseen", "none"],
        default="drawn",
        help="with --people, their scribbles: the six first drawn, the ones no generator draws,"
        " or none (synthetic: a training set)",
    )
    parser.add_argument(
        "--people-vary",
        action="store_true",
        help="with --people, each mark drawn again a little otherwise (a training set)",
    )
    parser.add_argument("--cache", default="var/reader/printed", help="printed papers, reused")
    args = parser.parse_args()
    out = Path(args.out)
    (out / "rounds").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    printed = synth.printed_papers(Path(args.cache))
    people = None
    if args.people:
        low, _, high = args.people.partition("-")
        subjects = set(range(int(low), int(high or low) + 1))
        scribbles = {"drawn": SCRIBBLES, "unseen": UNSEEN, "none": ()}[args.people_scribbles]
        people = HumanMarks.load(subjects, scribbles=scribbles, vary=args.people_vary)
    for paper in printed:
        (out / "rounds" / f"{paper.case.label}.json").write_text(synth.round_json(paper))
    print(f"{len(printed)} papers printed in {time.perf_counter() - started:.0f} s", flush=True)
    hard_kinds = synth.HARD_KINDS
    if args.training_scribbles:
        hard_kinds = synth.NEAR_MISS_KINDS if args.near_misses else synth.TRAINING_HARD_KINDS
    names = np.array([len(paper.candidates) for paper in printed], dtype=float)
    weights = names / names.sum()
    with (out / "labels.jsonl").open("w") as labels:
        for index in range(args.papers):
            pick = (
                rng.choice(len(printed), p=weights)
                if args.by_names
                else rng.integers(0, len(printed))
            )
            paper = printed[int(pick)]
            shot, marked = synth.make_sample(
                rng,
                paper,
                scan_share=args.scan_share,
                blurred_share=args.blurred_share,
                circle_share=args.circle_share,
                fold_share=args.fold_share,
                sharpen_share=args.sharpen_share,
                people=people,
                hard_share=args.hard_share,
                low_share=args.low_share,
                max_side=args.max_side,
                hard_kinds=hard_kinds,
            )
            suffix = ".png" if shot.data[:4] == b"\x89PNG" else ".jpg"
            name = f"{index:04d}{suffix}"
            (out / name).write_bytes(shot.data)
            record = synth.label(marked, shot, paper)
            record["file"] = name
            labels.write(json.dumps(record, ensure_ascii=False, default=float) + "\n")
            labels.flush()
    print(f"{args.papers} images in {time.perf_counter() - started:.0f} s → {out}")


if __name__ == "__main__":
    main()
