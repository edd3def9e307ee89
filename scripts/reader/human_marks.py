"""Marks drawn by people: the $1 gesture logs (Wobbrock, Wilson and Li, UIST 2007), ten people
and a pilot each drawing every gesture ten times at three speeds with a stylus on a Pocket PC.

The synthetic marks of ``synth.py`` are a few points joined by a wobbling line; a person's ✓
curls at its start, a △ is flat or tall and its last stroke stops short of its start, a ○ is
egg-shaped with a gap or an overlap. These shapes, drawn into the boxes with ``synth.py``'s pens
and cameras, measure the reader on marks no generator of ours made (docs/reader.md, "The
sixteenth session").

    .venv/bin/python scripts/reader/human_marks.py extract DIR   # DIR: the logs' s01 … s11

writes ``scripts/reader/data/dollar1_marks.npz`` from the XML logs (see docs/reader.md for where
they were taken from). The gesture ``x`` is drawn there in one stroke (top left to bottom right,
up the right side, down to bottom left); the way up is cut out, which leaves the two strokes of
a × as that person drew them.
"""

import argparse
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("data") / "dollar1_marks.npz"
POINTS = 64  # each stroke resampled to this many points, evenly along its length
# What each gesture stands for in a box: a ✓, a ×, a △, a ○ (赞成, RULES P), or a scribble no
# teller reads as any mark.
MARKS = {"check": "yes", "x": "no", "triangle": "abstain", "circle": "circle"}
SCRIBBLES = ("star", "pigtail", "delete_mark", "question_mark", "rectangle", "caret")
# Shapes no generator of ours draws, not even the near misses (``synth.NEAR_MISSES``): the
# scribbles a reader trained on those is measured on.
UNSEEN = ("pigtail", "arrow", "left_curly_brace", "right_curly_brace", "left_sq_bracket",
          "right_sq_bracket")  # fmt: skip
GESTURES = tuple(dict.fromkeys((*MARKS, *SCRIBBLES, *UNSEEN)))
MARGIN = 0.05  # of the unit box: a mark's longer side fills the rest


def _points(path: Path) -> np.ndarray:
    root = ElementTree.parse(path).getroot()
    return np.array([(float(p.get("X", 0)), float(p.get("Y", 0))) for p in root.iter("Point")])


def _resample(stroke: np.ndarray, count: int = POINTS, until: float | None = None) -> np.ndarray:
    """``count`` points evenly along the stroke, up to ``until`` of its length (all of it)."""
    steps = np.r_[0.0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    at = np.linspace(0.0, steps[-1] if until is None else until, count)
    return np.column_stack([np.interp(at, steps, stroke[:, axis]) for axis in (0, 1)])


def _split_cross(path: np.ndarray) -> list[np.ndarray] | None:
    """The two strokes of a one-stroke x: to its lowest right point, then from its highest right
    point after it. None where the drawing does not go so (another order of strokes)."""
    x, y = (path - path.min(axis=0)).T / max(float(np.ptp(path, axis=0).max()), 1.0)
    first_end = int(np.argmax(x + y))
    second_start = first_end + int(np.argmax((x - y)[first_end:]))
    first, second = path[: first_end + 1], path[second_start:]
    if len(first) < 4 or len(second) < 4:
        return None
    down_right = first[-1] - first[0]
    down_left = second[-1] - second[0]
    if min(down_right[0], down_right[1], -down_left[0], down_left[1]) <= 0:
        return None
    return [first, second]


def _unit(strokes: list[np.ndarray], smallest: float = 1.0) -> list[np.ndarray]:
    """The strokes scaled into the unit box, centred, the longer side filling it but a margin
    (a drawing less than ``smallest`` across is not blown up: a dot stays a dot)."""
    every = np.vstack(strokes)
    low, size = every.min(axis=0), np.ptp(every, axis=0)
    scale = (1 - 2 * MARGIN) / max(float(size.max()), smallest)
    offset = 0.5 - size * scale / 2
    return [(stroke - low) * scale + offset for stroke in strokes]


def extract(logs: Path, out: Path = DATA) -> dict[str, int]:
    """Every log of the gestures used, as unit-box strokes; returns the count per gesture."""
    arrays: dict[str, np.ndarray] = {}
    counts = {}
    for gesture in GESTURES:
        samples, subjects = [], []
        for path in sorted(logs.glob(f"*/*/{gesture}[0-9][0-9].xml")):
            path_points = _points(path)
            strokes = _split_cross(path_points) if gesture == "x" else [path_points]
            if strokes is None:
                continue
            unit = _unit([_resample(stroke) for stroke in strokes])
            samples.append(np.round(np.stack(unit) * 255).astype(np.uint8))
            match = re.match(r"s(\d+)", path.parent.parent.name)
            subjects.append(int(match.group(1)) if match else 0)
        arrays[f"{gesture}.strokes"] = np.stack(samples)
        arrays[f"{gesture}.subject"] = np.array(subjects, dtype=np.uint8)
        counts[gesture] = len(samples)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    return counts


def _bend(rng: np.random.Generator, stroke: np.ndarray, amount: float) -> np.ndarray:
    """The stroke moved by a smooth field along its length: two slow waves an axis, as a hand
    that draws the same shape again never follows its last line."""
    along = np.linspace(0.0, 1.0, len(stroke))[:, None]
    waves = np.zeros_like(stroke)
    for _ in range(2):
        frequency = rng.uniform(0.3, 1.5, 2)
        phase = rng.uniform(0, 2 * np.pi, 2)
        waves += rng.uniform(-amount, amount, 2) * np.sin(2 * np.pi * frequency * along + phase)
    return stroke + waves


# How much shorter (−) or longer (+) a closed mark's last stroke is drawn again, of its length:
# people's △ overshoots its start or leaves a gap, their ○ overlaps. A ○ is not cut short: it
# would open into a C, which is no ○.
REACH = {"abstain": (-0.03, 0.08), "circle": (0.0, 0.08)}


def _reach(rng: np.random.Generator, stroke: np.ndarray, kind: str) -> np.ndarray:
    """The stroke's end drawn on past where it stopped, along its last direction, or cut short."""
    length = float(np.hypot(*np.diff(stroke, axis=0).T).sum())
    change = rng.uniform(*REACH[kind])
    direction = stroke[-1] - stroke[-min(6, len(stroke))]
    direction = direction / max(float(np.hypot(*direction)), 1e-9)
    drawn_on = np.vstack([stroke, stroke[-1] + max(change, 0.0) * length * direction])
    return _resample(drawn_on, len(stroke), until=length * (1 + change))


def varied(rng: np.random.Generator, strokes: list[np.ndarray], kind: str) -> list[np.ndarray]:
    """A person's mark drawn again a little otherwise: wider or narrower, sheared, bent, and a
    closed mark's last stroke drawn on or short; scaled into the unit box again."""
    stretch = np.exp(rng.uniform(-0.35, 0.35))
    shear = rng.uniform(-0.25, 0.25)
    linear = np.array([[stretch, shear], [0.0, 1.0 / stretch]])
    moved = [_bend(rng, stroke @ linear.T, rng.uniform(0.0, 0.04)) for stroke in strokes]
    if kind in REACH and rng.random() < 0.5:
        moved[-1] = _reach(rng, moved[-1], kind)
    return _unit(moved, smallest=0.05)


@dataclass(frozen=True)
class HumanMarks:
    """The people's marks of some subjects, drawn in place of ``synth.mark_strokes``."""

    strokes: dict[str, np.ndarray]  # gesture → (samples, strokes, POINTS, 2), unit box
    # The people's scribbles drawn for a hard mark ``scribble``: a held-out set's, none for a
    # training set's (the reader is measured on scribbles it was not trained on).
    scribbles: tuple[str, ...] = SCRIBBLES
    # A training set's marks, each drawn again a little otherwise (``varied``): six people's
    # 180 drawings of a mark are few, and the held-out people draw their own way.
    vary: bool = False

    @classmethod
    def load(
        cls,
        subjects: set[int],
        *,
        scribbles: tuple[str, ...] = SCRIBBLES,
        vary: bool = False,
        path: Path = DATA,
    ) -> "HumanMarks":
        with np.load(path) as data:
            return cls(
                {
                    gesture: data[f"{gesture}.strokes"][
                        np.isin(data[f"{gesture}.subject"], sorted(subjects))
                    ].astype(np.float64)
                    / 255
                    for gesture in GESTURES
                },
                scribbles,
                vary,
            )

    def gesture(self, rng: np.random.Generator, gesture: str) -> list[np.ndarray]:
        samples = self.strokes[gesture]
        return list(samples[int(rng.integers(0, len(samples)))])

    def mark(self, rng: np.random.Generator, kind: str) -> list[np.ndarray] | None:
        """A person's strokes for ``kind``; None where the people drew nothing of that kind (the
        synthetic strokes are used: a box filled in, a doubled mark's second stroke …)."""
        drawn = {mark: gesture for gesture, mark in MARKS.items()}
        if kind in drawn:
            strokes = self.gesture(rng, drawn[kind])
            return varied(rng, strokes, kind) if self.vary else strokes
        if kind == "scribble" and self.scribbles:
            return self.gesture(rng, str(rng.choice(self.scribbles)))
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["extract"])
    parser.add_argument("logs", type=Path, help="the $1 gesture logs: s01 (pilot), s02 … s11")
    args = parser.parse_args()
    for gesture, count in extract(args.logs).items():
        print(f"{gesture}: {count}")
    print(f"→ {DATA} ({DATA.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
