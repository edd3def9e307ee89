"""The paper reader on held-out synthetic photos and scans (issue 22 items 5 and 7).

Run: nice -n 19 .venv/bin/python scripts/bench/bench_reader.py var/reader/test
(the folder from scripts/reader/make_photos.py with a seed the networks were not trained on).

Prints marks right, sure misreads (a wrong mark reported as sure: must be 0) and unsure share,
by condition (scan / photo, the true mark, what was drawn, the pen's colour, resolution, blur,
tilt), papers not found, seconds per paper; then the teller's taps and seconds per paper for the
seed's 5-candidate paper, photo mode against tapping, from a keystroke-level model of the tablet
(stated below).
"""

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from app.printing.layout import BALLOTS_DIR, load_layout
from app.reader.locate import PaperNotFound
from app.reader.read import PaperFor, read_paper, round_file_reader

# Keystroke-level model of a teller at the tablet (seconds): K a tap, M looking at the paper to
# decide one mark, P pointing at a candidate's row, C the camera's shutter and the phone's focus.
TAP, LOOK, POINT, CAMERA = 0.3, 0.6, 0.8, 1.5


class Tally:
    def __init__(self) -> None:
        self.marks = 0
        self.right = 0
        self.sure_wrong = 0
        self.unsure = 0

    def add(self, truth: str, mark: str, sure: bool) -> None:
        self.marks += 1
        self.right += mark == truth
        self.sure_wrong += sure and mark != truth
        self.unsure += not sure

    def row(self, name: str) -> str:
        if not self.marks:
            return f"{name:<28} {'-':>6}"
        return (
            f"{name:<28} {self.marks:>6} {100 * self.right / self.marks:>8.2f}% "
            f"{self.sure_wrong:>6} {100 * self.unsure / self.marks:>7.2f}%"
        )


def bucket(condition: dict[str, Any]) -> list[str]:
    """The rows an image's marks count in. ``default`` is a scan or a tablet's photo (the case the
    reader is made for); the low-resolution camera's photos are their own rows."""
    kind = condition["kind"]
    camera = condition.get("camera", "tablet")
    keys = [kind]
    if kind == "scan" or camera == "tablet":
        keys.append("default (scan + tablet)")
    ppm = condition["px_per_mm"]
    if kind == "scan":
        keys.append(f"scan {round(ppm * 25.4)} dpi")
        return keys
    name = f"photo {camera}"
    keys.append(name)
    keys.append(
        f"{name} px/mm {'<4' if ppm < 4 else '4-7' if ppm < 7 else '7-10' if ppm < 10 else '≥10'}"
    )
    blur = condition["blur_px"]
    keys.append(f"{name} blur {'<0.8' if blur < 0.8 else '0.8-1.4' if blur < 1.4 else '≥1.4'}")
    keys.append(f"{name} tilt {'<10°' if condition['tilt_deg'] < 10 else '10-20°'}")
    keys.append(f"{name} shadow {'yes' if condition['shadow'] > 0.1 else 'no'}")
    return keys


def teller_model(records: list[tuple[list[str], list[str], list[bool], bool]]) -> None:
    """Taps and seconds per paper for the seed's paper: tapping vs photo mode (names written in
    the write-in boxes are typed alike in both: not counted)."""
    taps_tap, secs_tap, taps_photo, secs_photo = [], [], [], []
    for truth, marks, sure, write_in_doubt in records:
        marked = sum(1 for mark in truth if mark != "blank")
        # Tapping: scan the QR code (camera aims itself: one look), look at each candidate, tap
        # each non-blank mark, submit.
        taps = marked + 1
        taps_tap.append(taps)
        secs_tap.append(CAMERA + len(truth) * LOOK + marked * (POINT + TAP) + POINT + TAP)
        # Photo mode: photo button and shutter, check the pre-filled marks (a glance each), fix a
        # wrong or unsure one (point, tap), submit (one more tap if an unsure one is left as is).
        fixes = sum(1 for t, m, s in zip(truth, marks, sure, strict=True) if t != m)
        checks = sum(1 for s in sure if not s)
        left_unsure = sum(1 for t, m, s in zip(truth, marks, sure, strict=True) if not s and t == m)
        # A write-in box not read clearly and no name entered: a look at the paper's write-in
        # boxes and one more tap on the submit's question.
        taps = 2 + fixes + 1 + (1 if left_unsure else 0) + write_in_doubt
        taps_photo.append(taps)
        secs_photo.append(
            CAMERA
            + 2 * TAP
            + len(truth) * LOOK * 0.5
            + checks * LOOK
            + fixes * (POINT + TAP)
            + POINT
            + TAP * (1 + (1 if left_unsure else 0))
            + (LOOK + TAP) * write_in_doubt
        )
    if not records:
        print("no seed5 papers in this set")
        return
    print(f"\nteller, seed's 5-candidate paper ({len(records)} papers; keystroke-level model:")
    print(f"  tap {TAP} s, look at a mark {LOOK} s, point {POINT} s, camera {CAMERA} s)")
    print(f"  tapping:    {statistics.mean(taps_tap):.2f} taps, {statistics.mean(secs_tap):.1f} s")
    print(
        f"  photo mode: {statistics.mean(taps_photo):.2f} taps, "
        f"{statistics.mean(secs_photo):.1f} s (+ the server's reading time above)"
    )
    one_tap = sum(1 for t in taps_photo if t == 3)
    print(
        f"  papers confirmed with the submit tap alone (after the photo): {one_tap}/{len(records)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    folder = Path(args.folder)
    lines = (folder / "labels.jsonl").read_text().splitlines()
    if args.limit:
        lines = lines[: args.limit]
    readers: dict[str, PaperFor] = {}
    tallies: dict[str, Tally] = defaultdict(Tally)
    times: list[float] = []
    cpu_times: list[float] = []  # the process's own CPU: the machine's other jobs not counted
    missed: list[str] = []
    seed_records = []
    write_ins_right = write_ins_total = write_ins_unsure = write_ins_sure_wrong = 0
    only_write_ins_unsure = 0  # papers whose every mark is sure but a write-in box is not
    reasons: dict[str, int] = defaultdict(int)
    for line in lines:
        record = json.loads(line)
        case = record["case"]
        if case not in readers:
            data = json.loads((folder / "rounds" / f"{case}.json").read_text())
            layout = load_layout(BALLOTS_DIR / f"{case.split('-')[1]}.json")
            readers[case] = round_file_reader(data, layout=layout)
            # The geometry is composed once per round (the font loads): not a paper's time.
            first = (folder / record["file"]).read_bytes()
            with contextlib.suppress(PaperNotFound):
                read_paper(first, readers[case])
        data = (folder / record["file"]).read_bytes()
        started = time.perf_counter()
        cpu_started = time.process_time()
        try:
            reading = read_paper(data, readers[case])
        except PaperNotFound as exc:
            missed.append(f"{record['file']} {record['condition']} {exc.message_en}")
            for truth in record["truth"].values():
                for key in ["all", *bucket(record["condition"]), f"truth {truth}"]:
                    tallies[key].add(truth, "unread", False)
            continue
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
        marks, sures = [], []
        for (name, truth), drawn in zip(record["truth"].items(), record["drawn"], strict=True):
            found = reading.marks[name]
            marks.append(found.mark)
            sures.append(found.sure)
            if not found.sure:
                reasons[found.why] += 1
            keys = ["all", *bucket(record["condition"]), f"truth {truth}", f"drawn {drawn}"]
            if "default (scan + tablet)" in keys:
                keys.append(f"default truth {truth}")
                # Sets made before the blue pens have no "pen": all theirs were black.
                keys.append(f"default {record.get('pen', 'black')} pen")
                if drawn in ("yes", "circle", "no", "abstain", "blank"):  # circle: a ○ for 赞成
                    keys.append("default clear marks")
            for key in keys:
                tallies[key].add(truth, found.mark, found.sure)
            if found.sure and found.mark != truth:
                print(f"SURE MISREAD {record['file']} {name}: {truth} read {found.mark}",
                      file=sys.stderr)  # fmt: skip
        for truth_filled, read_filled, read_sure in zip(
            record["write_ins"], reading.write_ins_filled, reading.write_ins_sure, strict=True
        ):
            write_ins_total += 1
            write_ins_right += truth_filled == read_filled
            write_ins_unsure += not read_sure
            write_ins_sure_wrong += read_sure and truth_filled != read_filled
        only_write_ins_unsure += all(sures) and not all(reading.write_ins_sure)
        if case.startswith("seed5-"):
            write_in_doubt = not all(reading.write_ins_sure) and not any(record["write_ins"])
            seed_records.append((list(record["truth"].values()), marks, sures, write_in_doubt))
    print(f"{'condition':<28} {'marks':>6} {'right':>9} {'sure✗':>6} {'unsure':>8}")
    order = sorted(tallies, key=lambda key: (key != "all", not key.startswith("default"), key))
    for key in order:
        print(tallies[key].row(key))
    print("unsure, why:", dict(sorted(reasons.items(), key=lambda item: -item[1])))
    print(f"\npapers: {len(lines)}, not found: {len(missed)}")
    for line in missed:
        print(f"  {line}")
    if write_ins_total:
        print(
            f"write-in boxes: {write_ins_right}/{write_ins_total} filled/empty right, "
            f"{write_ins_unsure} unsure, {write_ins_sure_wrong} wrong and sure; papers whose only "
            f"doubt is a write-in box: {only_write_ins_unsure}"
        )
    if times:
        times.sort()
        print(
            f"seconds per paper: mean {statistics.mean(times):.3f}, median "
            f"{statistics.median(times):.3f}, p95 {times[int(0.95 * (len(times) - 1))]:.3f}"
        )
        cpu_times.sort()
        print(
            f"CPU seconds per paper: mean {statistics.mean(cpu_times):.3f}, median "
            f"{statistics.median(cpu_times):.3f}, "
            f"p95 {cpu_times[int(0.95 * (len(cpu_times) - 1))]:.3f}"
        )
    teller_model(seed_records)


if __name__ == "__main__":
    main()
