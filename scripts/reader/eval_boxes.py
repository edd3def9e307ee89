"""The sure rules on the boxes of a held-out folder, read once and cached (``inks.npz``).

Run: nice -n 19 .venv/bin/python scripts/reader/eval_boxes.py var/reader/test [--model FILE]
Each box is read by the real reader once (``train_marks.extract``); the networks and the sure
rules then run on the cached measurements, so a rule or a model is tried on a whole set in
seconds. Prints, for the default condition (scans and tablet photos): right, sure misreads at the
reader's threshold and looser ones (the margin), the unsure share by true mark, and how many
unsure boxes each rule holds back (first reason, any reason, the only reason). A paper the reader
does not locate is not in the cache: ``scripts/bench/bench_reader.py`` counts those.
"""

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_marks import extract, ink_of

from app.reader.classify import (
    CLASSES,
    MODEL_PATH,
    SURE_PROBABILITY,
    doubts,
    load_networks,
    network_probabilities,
    proposed,
)


def default_condition(condition: dict[str, object]) -> bool:
    return condition["kind"] == "scan" or condition.get("camera", "tablet") == "tablet"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--model", default=str(MODEL_PATH))
    parser.add_argument("--all", action="store_true", help="low-camera photos too")
    parser.add_argument("--show", action="store_true", help="list each sure misread, loosest")
    parser.add_argument("--threshold", type=float, default=SURE_PROBABILITY)
    args = parser.parse_args()
    folder = Path(args.folder)
    data = extract(folder)
    records = {}
    for line in (folder / "labels.jsonl").read_text().splitlines():
        record = json.loads(line)
        records[record["file"]] = record
    networks = load_networks(Path(args.model))
    seen: Counter[str] = Counter()
    threshold = args.threshold
    loose = (round(threshold - 0.1, 2), round(threshold - 0.2, 2))
    marks = right = unsure = 0
    sure_wrong = {threshold: 0, **dict.fromkeys(loose, 0)}
    by_truth: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # marks, right, unsure
    first: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    only: Counter[str] = Counter()
    hard_sure: Counter[str] = Counter()  # drawn faint, outside, scribbled…: must stay unsure
    for shape, numbers, label, file in zip(
        data["shapes"], data["scalars"], data["labels"], data["files"], strict=True
    ):
        record = records[str(file)]
        index = seen[str(file)]
        seen[str(file)] += 1
        if not args.all and not default_condition(record["condition"]):
            continue
        ink = ink_of(shape, numbers)
        probabilities = network_probabilities(ink, networks)
        mark = CLASSES[proposed(probabilities)]
        truth = CLASSES[int(label)]
        reasons = doubts(ink, probabilities, threshold)
        drawn = record["drawn"][index]
        marks += 1
        right += mark == truth
        unsure += bool(reasons)
        for key in (truth, "○") if drawn.startswith("circle") else (truth,):
            tally = by_truth[key]
            tally[0] += 1
            tally[1] += mark == truth
            tally[2] += bool(reasons)
        for level in sure_wrong:
            if mark != truth and not doubts(ink, probabilities, level):
                sure_wrong[level] += 1
                if args.show and level == min(loose):
                    print(f"  sure at {level}: {file} box {index} {drawn} read {mark}")
        if drawn not in ("yes", "circle", "no", "abstain", "blank") and not reasons:
            hard_sure[drawn] += 1
        if reasons:
            first[reasons[0]] += 1
            anywhere.update(reasons)
            if len(reasons) == 1:
                only[reasons[0]] += 1
    print(f"{folder}: {marks} boxes, right {100 * right / marks:.2f}%, "
          f"unsure {100 * unsure / marks:.2f}%")  # fmt: skip
    print("sure misreads at threshold", {level: sure_wrong[level] for level in sorted(sure_wrong)})
    for truth in (*CLASSES, "○"):  # ○: the 赞成 drawn as a circle, also in "yes"
        count, good, doubtful = by_truth[truth]
        if count:
            print(f"  truth {truth:<8} {count:>5}  right {100 * good / count:6.2f}%  "
                  f"unsure {100 * doubtful / count:6.2f}%")  # fmt: skip
    print("hard marks read sure (drawn: count):", dict(hard_sure))
    print("unsure, first reason:", dict(first.most_common()))
    print("unsure, any reason:  ", dict(anywhere.most_common()))
    print("unsure, only reason: ", dict(only.most_common()))


if __name__ == "__main__":
    main()
