"""Synthetic photos and scans of the project's own printed, hand-marked papers (issue 22 item 5).

A paper is printed by the real renderer (``app.printing``), rasterised with pdftoppm, marked with
hand-drawn strokes (✓ × △ with varied size, slant, pressure and pen, half of the pens blue
ballpoints; on request some voters' 赞成 drawn as ○, or the marks people drew, ``human_marks.py``;
scribbles, doubled marks, faint marks, marks outside the box) and then photographed
by a simulated camera (tilt up to 20°, rotation, curl, uneven light and shadows, a white balance
a little off, blur, noise, JPEG) or put on a simulated flatbed.

Every random choice comes from one ``numpy`` generator, so a seed gives the same data again:
train on one seed, measure on another. Used by ``make_photos.py``, ``train_marks.py``,
``scripts/bench/bench_reader.py`` and ``tests/reader``.
"""

import itertools
import json
import math
import os
import pickle
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from app.papers.roundpapers import render_round_file
from app.printing.ballot import PaperGeometry, Rect, compose_paper, paper_geometries
from app.printing.layout import BALLOTS_DIR, PaperSize, load_layout
from app.rules.roundfile import parse_round

KEY = bytes(range(32))
RASTER_PX_MM = 12.0  # the printed paper before the camera sees it (≈ 305 dpi)
SEED_CANDIDATES = ["张伟", "王宁", "李娜", "欧阳晓东", "刘洋"]
THIRTY = [
    *("丁", "王宁", "方小红", "孔国强", "石建华", "叶晓东", "白文", "朱海燕", "刘志明", "许丽"),
    *("孙", "杜一", "李小红", "杨国强", "吴建华", "何晓东", "汪文", "宋海燕", "张志明", "陆丽"),
    *("陈", "林一", "罗小红", "周国强", "郑建华", "欧阳晓东", "司马相如", "胡海燕", "钟志明"),
    "黄丽",
]
TWELVE = [*THIRTY[:11], "王宁（二团）"]


def seed_round(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "信息工程学院第五届学生会主席团成员选举",
        "election": 7,
        "round": 1,
        "seats": 3,
        "candidates": list(SEED_CANDIDATES),
        "delegates_total": 189,
        "present": 180,
    }
    data.update(changes)
    return data


ROUNDS: dict[str, dict[str, Any]] = {
    "seed5": seed_round(),
    "tie2": seed_round(round_kind="tie", seats=1, candidates=["张伟", "王宁"], round=2),
    "twelve": seed_round(seats=5, candidates=TWELVE),
    "thirty": seed_round(seats=15, candidates=THIRTY),
}


@dataclass(frozen=True)
class PaperCase:
    """One printed paper: a round, a layout of ballots/, a paper size and papers per page."""

    round_name: str
    layout: str
    paper_size: PaperSize
    per_page: int

    @property
    def label(self) -> str:
        return f"{self.round_name}-{self.layout}-{self.paper_size}x{self.per_page}"


@dataclass
class Printed:
    case: PaperCase
    raster: np.ndarray  # grey, RASTER_PX_MM, one paper (a two-per-page sheet cut in half)
    geometry: PaperGeometry
    candidates: tuple[str, ...]  # ballot order, as the definition names them
    payload: str
    round_data: dict[str, Any]


def print_paper(case: PaperCase) -> Printed:
    layout = load_layout(BALLOTS_DIR / f"{case.layout}.json")
    data = ROUNDS[case.round_name]
    rendered = render_round_file(
        data,
        key=KEY,
        layout=layout,
        copies=1,
        paper_size=case.paper_size,
        per_page=case.per_page,
    )
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "p.pdf"
        pdf.write_bytes(rendered.pdf)
        dpi = RASTER_PX_MM * 25.4
        subprocess.run(
            ["pdftoppm", "-r", f"{dpi:.1f}", "-gray", "-png", "-singlefile", str(pdf),
             str(Path(tmp) / "p")],
            check=True,
        )  # fmt: skip
        page = cv2.imread(str(Path(tmp) / "p.png"), cv2.IMREAD_GRAYSCALE)
    round_input = parse_round(dict(data, collected=0))
    paper = compose_paper(
        round_input.definition,
        layout,
        round_number=data.get("round", 1),
        qr_payload=rendered.payload,
        title=data.get("title"),
    )
    (geometry,) = paper_geometries(paper, [(case.paper_size, case.per_page)])
    height = round(geometry.height * RASTER_PX_MM)
    return Printed(
        case,
        page[:height].copy(),
        geometry,
        tuple(round_input.definition.candidates),
        rendered.payload,
        data,
    )


# The cases the data sets use: both layouts, A4 and A5, a paper cut from a two-per-page sheet,
# tie rounds (no write-in boxes), 5, 12 and 30 names. (Printing every combination loads
# the CJK font twice per case, which is slow on a shared machine.)
CASES = (
    PaperCase("seed5", "seed", "A4", 2),
    PaperCase("seed5", "blue", "A4", 1),
    PaperCase("seed5", "blue", "A5", 1),
    PaperCase("seed5", "blue", "A4", 2),
    PaperCase("tie2", "seed", "A4", 2),
    PaperCase("tie2", "blue", "A5", 1),
    PaperCase("twelve", "seed", "A4", 1),
    PaperCase("twelve", "blue", "A5", 1),
    PaperCase("thirty", "seed", "A4", 1),
)


def printed_papers(cache: Path, cases: tuple[PaperCase, ...] = CASES) -> list[Printed]:
    """``cases`` printed, each kept in ``cache`` once printed (printing loads the CJK font)."""
    cache.mkdir(parents=True, exist_ok=True)
    papers = []
    for case in cases:
        path = cache / f"{case.label}.pickle"
        if not path.exists():
            # Several sets are made at once: a reader must never see a half-written file.
            partial = path.with_suffix(f".{os.getpid()}.partial")
            partial.write_bytes(pickle.dumps(print_paper(case)))
            partial.replace(path)
            print(f"printed {case.label}", flush=True)
        papers.append(pickle.loads(path.read_bytes()))
    return papers


# --- strokes -------------------------------------------------------------------------------------

MARK_KINDS = ("yes", "no", "abstain", "blank")
HARD_KINDS = ("scribble", "doubled", "filled", "outside", "faint", "cross_out")
# Training sets also draw scribbles of other shapes: a random scribble of a few strokes can come
# close to a ×, and the networks learn the difference only from many such near misses. The
# held-out sets keep HARD_KINDS (the scribbles a reader is measured on are not the ones it saw).
TRAINING_HARD_KINDS = (*HARD_KINDS, "scrawl")
# Shapes near a mark that are none (``near_miss``): a ∧, a ?, a □, a × with a base, a ☆ (not a
# loop: a ✓ begun with a curl is still a ✓). On marks people drew, the networks, never shown
# one, were sure of a ? as a ✓ and of a × with a base as a × (docs/reader.md, "The sixteenth
# session"). Training sets made with ``--near-misses`` draw them as often as the other hard kinds
# together.
NEAR_MISS_KINDS = (*TRAINING_HARD_KINDS, *("near_miss",) * len(TRAINING_HARD_KINDS))
NEAR_MISSES = ("caret", "question", "square", "based_cross", "star")


def _curve(
    rng: np.random.Generator, points: list[tuple[float, float]], wobble: float
) -> np.ndarray:
    """A hand-drawn path through ``points`` (unit box coordinates): subdivided, with a smooth
    random wobble."""
    out = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        steps = 12
        bend = rng.normal(0, wobble)
        for step in range(steps):
            t = step / steps
            nx, ny = -(y1 - y0), x1 - x0
            curve = bend * math.sin(math.pi * t)
            out.append((x0 + (x1 - x0) * t + nx * curve, y0 + (y1 - y0) * t + ny * curve))
    out.append(points[-1])
    path = np.array(out, dtype=np.float64)
    path += rng.normal(0, wobble * 0.08, path.shape)
    return path


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


class PeoplesMarks(Protocol):
    """Marks people drew (``human_marks.HumanMarks``): a mark's strokes, None for a kind they
    did not draw."""

    def mark(self, rng: np.random.Generator, kind: str) -> list[np.ndarray] | None: ...


def mark_strokes(
    rng: np.random.Generator, kind: str, people: PeoplesMarks | None = None
) -> list[np.ndarray]:
    """Strokes of one mark in unit box coordinates (0…1 is the box's inside); with ``people``,
    a person's where they drew that kind."""
    drawn = people.mark(rng, kind) if people is not None else None
    if drawn is not None:
        return drawn
    wobble = _u(rng, 0.01, 0.08)
    if kind == "yes":
        start = (_u(rng, 0.1, 0.32), _u(rng, 0.38, 0.65))
        bottom = (_u(rng, 0.33, 0.52), _u(rng, 0.72, 0.93))
        end = (_u(rng, 0.72, 0.97), _u(rng, 0.03, 0.3))
        return [_curve(rng, [start, bottom, end], wobble)]
    if kind == "no":
        a = _curve(
            rng,
            [
                (_u(rng, 0.05, 0.28), _u(rng, 0.05, 0.28)),
                (_u(rng, 0.72, 0.95), _u(rng, 0.72, 0.95)),
            ],
            wobble,
        )
        b = _curve(
            rng,
            [
                (_u(rng, 0.72, 0.95), _u(rng, 0.05, 0.28)),
                (_u(rng, 0.05, 0.28), _u(rng, 0.72, 0.95)),
            ],
            wobble,
        )
        return [a, b]
    if kind == "abstain":
        top = (_u(rng, 0.38, 0.62), _u(rng, 0.05, 0.22))
        left = (_u(rng, 0.05, 0.22), _u(rng, 0.75, 0.93))
        right = (_u(rng, 0.78, 0.95), _u(rng, 0.75, 0.93))
        gap = (top[0] + _u(rng, -0.08, 0.08), top[1] + _u(rng, -0.05, 0.1))
        if rng.random() < 0.5:
            return [_curve(rng, [top, left, right, gap], wobble)]
        return [_curve(rng, [top, left], wobble), _curve(rng, [left, right, gap], wobble)]
    if kind == "circle":
        return [_circle(rng, wobble)]
    if kind == "scribble":
        points = [(_u(rng, 0.1, 0.9), _u(rng, 0.1, 0.9)) for _ in range(int(rng.integers(6, 16)))]
        return [_curve(rng, points, wobble)]
    if kind == "scrawl":
        return _scrawl(rng, wobble)
    if kind == "near_miss":
        return [_curve(rng, _near_miss(rng, str(rng.choice(NEAR_MISSES))), wobble)]
    if kind == "doubled":
        first, second = rng.choice(["yes", "no", "abstain"], size=2, replace=False)
        return mark_strokes(rng, str(first), people) + mark_strokes(rng, str(second), people)
    if kind == "filled":
        ys = np.linspace(0.15, 0.85, int(rng.integers(8, 14)))
        points = [(0.15 if i % 2 else 0.85, float(y)) for i, y in enumerate(ys)]
        return [_curve(rng, points, 0.01)]
    if kind == "cross_out":
        # A mark, struck through with a heavy line: the voter changed their mind.
        base = mark_strokes(rng, str(rng.choice(["yes", "no", "abstain"])), people)
        strikes = [
            _curve(rng, [(0.05, 0.3 + 0.15 * i), (0.95, 0.35 + 0.15 * i)], 0.02) for i in range(3)
        ]
        return base + strikes
    raise ValueError(kind)


def _near_miss(rng: np.random.Generator, shape: str) -> list[tuple[float, float]]:
    """The points one stroke of a ``NEAR_MISSES`` shape runs through (unit box)."""
    left, right = _u(rng, 0.05, 0.3), _u(rng, 0.7, 0.95)
    top, bottom = _u(rng, 0.05, 0.3), _u(rng, 0.7, 0.98)
    middle = (left + right) / 2 + _u(rng, -0.1, 0.1)
    if shape == "caret":  # ∧: its feet may stand on the box's bottom line
        return [(left, bottom), (middle, top), (right, bottom)]
    if shape == "question":
        turn = [
            (middle + (right - left) / 2 * math.cos(a), top + 0.2 + 0.2 * math.sin(a))
            for a in np.linspace(math.pi * 1.1, math.pi * 2.4, 7)
        ]
        return [*turn, (middle, 0.55 + _u(rng, 0, 0.1)), (middle + _u(rng, -0.05, 0.05), bottom)]
    if shape == "square":
        corners = [(left, top), (right, top), (right, bottom), (left, bottom)]
        start = int(rng.integers(0, 4))
        ring = corners[start:] + corners[:start]
        return [*ring, ring[0]]
    if shape == "based_cross":  # × with its feet joined (a "delete" mark), often not quite
        reach = left + _u(rng, 0.0, 0.15)
        return [(left, top), (right, bottom), (reach, bottom), (right, top)]
    if shape == "star":
        points = [
            (0.5 + 0.45 * math.sin(a), 0.55 - 0.45 * math.cos(a))
            for a in np.arange(5) * 4 * math.pi / 5 + _u(rng, -0.2, 0.2)
        ]
        return [*points, points[0]]
    raise ValueError(shape)


def _circle(rng: np.random.Generator, wobble: float) -> np.ndarray:
    """A ○ (赞成 may be a circle, RULES P): one stroke round an ellipse, begun anywhere on its top
    half and mostly anticlockwise, stopping a little short of its start or running past it, its
    radius drifting so that the two ends need not meet."""
    centre = np.array([_u(rng, 0.4, 0.6), _u(rng, 0.4, 0.6)])
    radii = np.array([_u(rng, 0.24, 0.44), _u(rng, 0.24, 0.44)])
    turn = _u(rng, -0.5, 0.5)
    start = _u(rng, -math.pi, 0.0)
    sweep = 2 * math.pi * _u(rng, 0.9, 1.12) * (1 if rng.random() < 0.8 else -1)
    t = np.linspace(0.0, 1.0, 60)
    angle = start - sweep * t
    drift = 1.0 + _u(rng, -0.12, 0.12) * t
    local = np.column_stack([np.cos(angle), np.sin(angle)]) * radii * drift[:, None]
    rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    # A hand's slow wobble: the radius swells and shrinks a little along the way.
    bends = cv2.resize(rng.normal(0, wobble, (5, 1)).astype(np.float32), (1, len(t)))
    path = centre + (local @ rotation.T) * (1.0 + bends)
    return np.asarray(path + rng.normal(0, wobble * 0.08, path.shape), dtype=np.float64)


def _scrawl(rng: np.random.Generator, wobble: float) -> list[np.ndarray]:
    """A scribble unlike ``scribble``'s: a zigzag of five to eight points (the nearest to a ×;
    fewer points draw a clean ✓ too often), a coil of loops, or a few separate short strokes."""
    shape = rng.random()
    if shape < 0.5:
        points = [
            (_u(rng, 0.05, 0.95), _u(rng, 0.05, 0.95)) for _ in range(int(rng.integers(5, 9)))
        ]
        return [_curve(rng, points, wobble)]
    if shape < 0.75:
        turns = _u(rng, 2.5, 6)
        t = np.linspace(0, 1, int(40 * turns))
        radius = _u(rng, 0.12, 0.3)
        centre_y = _u(rng, 0.35, 0.65)
        xs = 0.15 + 0.7 * t + radius * np.cos(2 * np.pi * turns * t)
        ys = centre_y + radius * np.sin(2 * np.pi * turns * t) * _u(rng, 0.6, 1.2)
        coil = np.column_stack([xs, ys]) + rng.normal(0, wobble * 0.1, (len(t), 2))
        return [coil]
    return [
        _curve(
            rng,
            [(_u(rng, 0.05, 0.95), _u(rng, 0.05, 0.95)) for _ in range(int(rng.integers(2, 4)))],
            wobble,
        )
        for _ in range(int(rng.integers(2, 5)))
    ]


@dataclass
class MarkPlan:
    """What is drawn in one box and what a careful teller would record."""

    drawn: str  # yes/no/abstain/blank or a hard kind
    truth: str  # yes/no/abstain/blank/unclear
    faint: bool = False
    outside: bool = False


def plan_mark(
    rng: np.random.Generator, hard_share: float = 0.12, hard_kinds: tuple[str, ...] = HARD_KINDS
) -> MarkPlan:
    if rng.random() < hard_share:
        kind = str(rng.choice(hard_kinds))
        if kind == "faint":
            mark = str(rng.choice(["yes", "no", "abstain"]))
            return MarkPlan(mark, mark, faint=True)
        if kind == "outside":
            mark = str(rng.choice(["yes", "no", "abstain"]))
            return MarkPlan(mark, "unclear", outside=True)
        return MarkPlan(kind, "unclear")
    kind = str(rng.choice(MARK_KINDS, p=[0.42, 0.22, 0.14, 0.22]))
    return MarkPlan(kind, kind)


@dataclass
class Pen:
    width_mm: float
    darkness: float  # 0…1 of the light the ink absorbs: the pen's pressure
    # The share of each channel's light (B, G, R) the ink absorbs at full pressure: a black pen
    # takes all three alike, a blue ballpoint most of the red and little of the blue.
    absorbs: tuple[float, float, float] = (1.0, 1.0, 1.0)


BLUE_SHARE = 0.5  # voters' pens: about half blue ballpoints, half black


def _ink_colour(rng: np.random.Generator, blue: bool) -> tuple[float, float, float]:
    if not blue:
        return (1.0, 1.0, 1.0)
    # A blue ballpoint on white paper photographs around RGB (30, 50, 150).
    red, green, blue_level = _u(rng, 15, 70), _u(rng, 30, 90), _u(rng, 120, 190)
    return (1 - blue_level / 255, 1 - green / 255, 1 - red / 255)


def random_pen(rng: np.random.Generator, faint: bool = False, blue: bool | None = None) -> Pen:
    if blue is None:
        blue = bool(rng.random() < BLUE_SHARE)
    colour = _ink_colour(rng, blue)
    if faint:
        # Faint in the channel where the ink is darkest: 0.1–0.2 of its light absorbed, each
        # stroke's pressure (±10%) included, as a faint grey stroke was.
        return Pen(_u(rng, 0.2, 0.35), _u(rng, 0.11, 0.18) / max(colour), colour)
    # A blue ballpoint's colour is already its full pressure's: lighter pressure only.
    darkness = _u(rng, 0.55, 1.0) if blue else _u(rng, 0.4, 0.9)
    return Pen(_u(rng, 0.25, 0.9), darkness, colour)


def draw_strokes(
    ink: np.ndarray,
    strokes: list[np.ndarray],
    box: Rect,
    pen: Pen,
    transform: np.ndarray,
    rng: np.random.Generator | None = None,
) -> None:
    """Draw unit-box strokes into ``ink`` (RASTER_PX_MM; grey, or B, G, R absorbed), through a
    2×3 similarity ``transform`` of the unit box (scale, slant, offset) onto ``box``. With
    ``rng`` each stroke's pressure varies by ±10% (a hand presses each stroke its own way)."""
    shift = 4
    thickness = max(1, round(pen.width_mm * RASTER_PX_MM))
    for stroke in strokes:
        unit = np.hstack([stroke, np.ones((len(stroke), 1))]) @ transform.T
        px = np.column_stack([box.x + unit[:, 0] * box.w, box.y + unit[:, 1] * box.h])
        px *= RASTER_PX_MM
        # Only the stroke's own neighbourhood of the page is touched (a page is 9 M pixels).
        pad = thickness + 2
        x0 = max(0, int(px[:, 0].min()) - pad)
        y0 = max(0, int(px[:, 1].min()) - pad)
        x1 = min(ink.shape[1], int(px[:, 0].max()) + pad + 1)
        y1 = min(ink.shape[0], int(px[:, 1].max()) + pad + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        local = (px - [x0, y0]) * (1 << shift)
        points = np.round(local).astype(np.int32).reshape(-1, 1, 2)
        layer = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
        cv2.polylines(layer, [points], False, 1.0, thickness, cv2.LINE_AA, shift)
        pressure = min(1.0, pen.darkness * (_u(rng, 0.9, 1.1) if rng is not None else 1.0))
        view = ink[y0:y1, x0:x1]
        if ink.ndim == 2:
            np.maximum(view, layer * pressure, out=view)
            continue
        for channel, absorbs in enumerate(pen.absorbs):
            np.maximum(view[..., channel], layer * (pressure * absorbs), out=view[..., channel])


def _unit_transform(rng: np.random.Generator, outside: bool) -> np.ndarray:
    scale = _u(rng, 0.55, 1.08)
    angle = math.radians(_u(rng, -14, 14))
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    centre = np.array([0.5, 0.5]) + rng.normal(0, 0.05, 2)
    if outside:
        direction = rng.choice([-1.0, 1.0]) * _u(rng, 0.45, 0.75)
        centre[int(rng.integers(0, 2))] += direction
    linear = np.array([[cos, -sin], [sin, cos]])
    offset = centre - linear @ np.array([0.5, 0.5])
    return np.hstack([linear, offset.reshape(2, 1)])


def write_name(rng: np.random.Generator, ink: np.ndarray, box: Rect, pen: Pen) -> None:
    """A name of two or three handwritten characters in the write-in ``box``, each of 3–6
    strokes in its own cell."""
    chars = int(rng.integers(2, 4))
    for index in range(chars):
        strokes = [
            _curve(rng, [(_u(rng, 0, 1), _u(rng, 0, 1)) for _ in range(3)], 0.05)
            for _ in range(int(rng.integers(3, 7)))
        ]
        cell = Rect(box.x + 3 + index * 9, box.y + 2, 8, box.h - 4)
        draw_strokes(ink, strokes, cell, pen, np.array([[1.0, 0, 0], [0, 1.0, 0]]), rng)


@dataclass
class Marked:
    image: np.ndarray  # colour (B, G, R), RASTER_PX_MM
    truth: dict[str, str]
    plans: list[MarkPlan]
    write_ins: list[bool]
    pen: str = "black"  # the paper's pen: black or blue


def mark_paper(
    rng: np.random.Generator,
    printed: Printed,
    hard_share: float = 0.12,
    hard_kinds: tuple[str, ...] = HARD_KINDS,
    circle_share: float = 0.0,
    people: PeoplesMarks | None = None,
) -> Marked:
    """``circle_share`` of the voters mark 赞成 with ○ instead of ✓, every one on their paper
    (drawn only when asked for: the sets made without it stay the same photos). With ``people``
    the marks are people's (``human_marks.py``) where they drew that kind."""
    ink = np.zeros((*printed.raster.shape, 3), dtype=np.float32)
    pen = random_pen(rng)
    circles = bool(circle_share) and bool(rng.random() < circle_share)
    plans = []
    truth = {}
    for name, box in zip(printed.candidates, printed.geometry.mark_boxes, strict=True):
        plan = plan_mark(rng, hard_share, hard_kinds)
        if circles and plan.drawn == "yes":
            plan.drawn = "circle"
        plans.append(plan)
        truth[name] = plan.truth
        if plan.drawn == "blank":
            continue
        use = random_pen(rng, faint=True) if plan.faint else pen
        draw_strokes(
            ink,
            mark_strokes(rng, plan.drawn, people),
            box,
            use,
            _unit_transform(rng, plan.outside),
            rng,
        )
    write_ins = []
    for box in printed.geometry.write_in_boxes:
        filled = bool(rng.random() < 0.25)
        write_ins.append(filled)
        if filled:
            write_name(rng, ink, box, pen)
    image = printed.raster.astype(np.float32)[..., None] * (1.0 - ink)
    colour = "black" if pen.absorbs == (1.0, 1.0, 1.0) else "blue"
    return Marked(np.clip(image, 0, 255).astype(np.uint8), truth, plans, write_ins, colour)


# --- camera --------------------------------------------------------------------------------------


@dataclass
class Shot:
    data: bytes  # the encoded image, as a tablet or scanner would send it
    condition: dict[str, Any] = field(default_factory=dict)


def _encode(image: np.ndarray, quality: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return bytes(buffer.tobytes())


def _field(rng: np.random.Generator, size: tuple[int, int], amount: float) -> np.ndarray:
    """A smooth random field of up to ``amount`` over an image of ``size`` (w, h)."""
    coarse = rng.normal(0, 1, (3, 3)).astype(np.float32)
    field = cv2.resize(coarse, size, interpolation=cv2.INTER_CUBIC)
    peak = float(np.abs(field).max()) or 1.0
    return np.asarray(field * (amount / peak), dtype=np.float32)


@dataclass(frozen=True)
class Camera:
    """How a photo is taken: the sensor's frame, how much of it the paper fills, focus blur (px
    of the frame), sensor noise and the JPEG quality the image is sent with."""

    frames: tuple[tuple[int, int], ...]
    fill: tuple[float, float]
    blur: tuple[float, float]
    noise: tuple[float, float]
    jpeg: tuple[int, int]


CAMERAS = {
    # A tablet's rear camera (8–13 MP) held over a paper on a table: the paper fills most of the
    # frame (an A4 paper at 8–14 px/mm), focus blur of a pixel or two of the full frame.
    "tablet": Camera(
        ((3264, 2448), (4000, 3000), (4160, 3120)), (0.65, 0.95), (0.4, 2.4), (1, 5), (60, 95)
    ),
    # An old 2–5 MP phone or a paper far from the lens (A4 down to 3 px/mm), blur up to 1.8 px of
    # that small frame: far below a tablet's photo, kept as its own rows in the bench.
    "low": Camera(
        ((1600, 1200), (2048, 1536), (2592, 1944)), (0.6, 0.92), (0.0, 1.8), (1, 7), (45, 92)
    ),
    # The tablet where the reader is weakest (training only): held farther off (an A4 paper at
    # 5–9 px/mm) and out of focus.
    "blurred": Camera(
        ((3264, 2448), (4000, 3000), (4160, 3120)), (0.45, 0.7), (1.4, 2.6), (2, 6), (55, 90)
    ),
}


def fold(
    rng: np.random.Generator, paper: np.ndarray, px_per_mm: float
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The paper as it comes out of a ballot box: folded in two or three and opened again. Each
    part lies at its own small angle to the table (seen from above it is a little shorter
    across the crease), the parts catch the light differently, and each crease is a thin line
    darker or lighter than the paper. Returns the paper, where it is (1 on the paper), and what
    was done."""
    height, width = paper.shape[:2]
    across = rng.random() < 0.5  # creases across the paper's height (a horizontal line)
    length = height if across else width
    parts = int(rng.choice([2, 3]))
    creases = [length * (k / parts + _u(rng, -0.03, 0.03)) for k in range(1, parts)]
    edges = [0.0, *creases, float(length)]
    # Each part's slope (its cos seen from above) and light; positions along the folded axis.
    slopes = [math.cos(math.radians(_u(rng, 2, 14))) for _ in range(parts)]
    lights = [1 - _u(rng, 0, 0.15) for _ in range(parts)]
    # Seen from above, each part is shortened by its slope around the middle crease.
    anchor = creases[len(creases) // 2]
    seen = np.arange(length, dtype=np.float32)
    source = np.empty_like(seen)
    shade = np.ones_like(seen)
    # The part holding the anchor keeps it in place; the others follow, each part's own length.
    placed_edges = [0.0] * (parts + 1)
    anchor_index = len(creases) // 2 + 1
    placed_edges[anchor_index] = anchor
    for k in range(anchor_index, parts):
        placed_edges[k + 1] = placed_edges[k] + (edges[k + 1] - edges[k]) * slopes[k]
    for k in range(anchor_index - 1, -1, -1):
        placed_edges[k] = placed_edges[k + 1] - (edges[k + 1] - edges[k]) * slopes[k]
    for k in range(parts):
        inside = (seen >= placed_edges[k]) & (seen < placed_edges[k + 1])
        source[inside] = edges[k] + (seen[inside] - placed_edges[k]) / slopes[k]
        shade[inside] = lights[k]
    outside = (seen < placed_edges[0]) | (seen >= placed_edges[-1])
    source[outside] = -1.0  # off the paper
    shade = cv2.GaussianBlur(shade[None, :], (0, 0), 0.2 * px_per_mm)[0]
    line_width = _u(rng, 0.15, 0.45) * px_per_mm
    for crease in placed_edges[1:-1]:
        depth = _u(rng, 0.03, 0.14) * (1 if rng.random() < 0.7 else -0.6)
        shade *= 1 - depth * np.exp(-((seen - crease) ** 2) / (2 * line_width**2))
    if across:
        ys = np.repeat(source[:, None], width, axis=1)
        xs = np.repeat(np.arange(width, dtype=np.float32)[None, :], height, axis=0)
        light = shade[:, None]
    else:
        xs = np.repeat(source[None, :], height, axis=0)
        ys = np.repeat(np.arange(height, dtype=np.float32)[:, None], width, axis=1)
        light = shade[None, :]
    folded = cv2.remap(paper.astype(np.float32), xs, ys, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0, 0.0, 0.0))  # fmt: skip
    where = cv2.remap(np.ones((height, width), dtype=np.float32), xs, ys, cv2.INTER_NEAREST,
                      borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)  # fmt: skip
    folded *= light if paper.ndim == 2 else light[..., None]
    condition = {"folds": parts - 1, "fold_across": across}
    return folded, where, condition


def photograph(
    rng: np.random.Generator,
    paper: np.ndarray,
    camera: str = "tablet",
    max_side: int = 0,
    folded: bool = False,
    sharpened: bool = False,
) -> Shot:
    """A photo of the paper on a table: tilted, rotated, curled, lit unevenly, blurred, noisy,
    JPEG. With ``max_side`` a larger frame is made at that size directly, as the reader scales
    it (a quicker photo for training: the JPEG's blocks are then coarser than the camera's).
    ``folded``: the paper was folded and opened again (``fold``). ``sharpened``: the camera
    sharpens its picture before the JPEG (an unsharp mask, as phones and tablets do), which
    sharpens its noise too."""
    cam = CAMERAS[camera]
    height, width = paper.shape[:2]
    # A grey paper's maps (mask, light) multiply it as they are; a colour one's, each channel.
    per_pixel = (lambda field: field) if paper.ndim == 2 else (lambda field: field[..., None])
    out_w, out_h = cam.frames[int(rng.integers(0, len(cam.frames)))]
    if rng.random() < 0.5:
        out_w, out_h = out_h, out_w
    shrink = max_side / max(out_w, out_h) if 0 < max_side < max(out_w, out_h) else 1.0
    out_w, out_h = round(out_w * shrink), round(out_h * shrink)
    fill = _u(rng, *cam.fill)
    angle = _u(rng, -25, 25) + 90 * int(rng.choice([0, 0, 0, 1, 2, 3]))
    rad = math.radians(angle)
    span_w = abs(width * math.cos(rad)) + abs(height * math.sin(rad))
    span_h = abs(width * math.sin(rad)) + abs(height * math.cos(rad))
    scale = fill * min(out_w / span_w, out_h / span_h)
    # The paper at the camera's resolution first (area averaging, as a sensor does).
    small = cv2.resize(paper, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    on_paper = np.ones((sh, sw), dtype=np.float32)
    folding: dict[str, Any] = {}
    if folded:
        small, on_paper, folding = fold(rng, small, RASTER_PX_MM * scale)
    corners = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], dtype=np.float64)
    centred = corners - [sw / 2, sh / 2]
    placed = centred @ np.array([[math.cos(rad), math.sin(rad)], [-math.sin(rad), math.cos(rad)]])
    # Tilt: the side nearer the camera grows, the far side shrinks (up to 20°).
    tilt = math.radians(_u(rng, 0, 20))
    direction = _u(rng, 0, 2 * math.pi)
    axis = np.array([math.cos(direction), math.sin(direction)])
    reach = np.abs(placed @ axis).max()
    factor = 1 + 0.35 * math.sin(tilt) * (placed @ axis) / reach
    placed = placed * factor[:, None]
    placed += [out_w / 2, out_h / 2] + rng.normal(0, 0.03, 2) * [out_w, out_h]
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), placed.astype(np.float32))
    background = np.full((out_h, out_w), _u(rng, 30, 200), dtype=np.float32)
    background += cv2.resize(rng.normal(0, 25, (12, 16)).astype(np.float32), (out_w, out_h))
    background = per_pixel(background)
    if paper.ndim == 3:
        background = background * rng.uniform(0.75, 1.1, 3).astype(np.float32)  # the table's hue
    warped = cv2.warpPerspective(small, homography, (out_w, out_h), flags=cv2.INTER_LINEAR)
    mask = per_pixel(
        cv2.warpPerspective(on_paper, homography, (out_w, out_h), flags=cv2.INTER_NEAREST)
    )
    image = warped.astype(np.float32) * mask + background * (1 - mask)
    # Curl: a smooth displacement of up to a few millimetres (a bent or wavy sheet).
    curl = _u(rng, 0.3, 2.5) if rng.random() < 0.4 else 0.0
    if curl:
        amount = curl * RASTER_PX_MM * scale
        ys, xs = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
        xs += _field(rng, (out_w, out_h), amount)
        ys += _field(rng, (out_w, out_h), amount)
        image = cv2.remap(image, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Light: a gradient across the frame and a soft shadow (a hand, the tablet).
    light = 1 - _u(rng, 0, 0.4) * (0.5 + _field(rng, (out_w, out_h), 0.5))
    light *= _u(rng, 0.75, 1.0)
    shadow_depth = _u(rng, 0.0, 0.45) if rng.random() < 0.6 else 0.0
    if shadow_depth:
        shadow = np.zeros((out_h // 4, out_w // 4), dtype=np.float32)
        points = (rng.uniform(0, 1, (4, 2)) * [out_w // 4, out_h // 4]).astype(np.int32)
        cv2.fillPoly(shadow, [cv2.convexHull(points)], 1.0)
        shadow = cv2.GaussianBlur(shadow, (0, 0), _u(rng, 2.5, 15))
        light = light * (1 - shadow_depth * cv2.resize(shadow, (out_w, out_h)))
    image = image * per_pixel(light)
    if paper.ndim == 3:
        # The camera's white balance: the light's colour is never quite taken out.
        image = image * (1 + rng.normal(0, 0.04, 3)).astype(np.float32)
    blur = _u(rng, *cam.blur)
    if blur * shrink > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), blur * shrink)
    noise = _u(rng, *cam.noise)
    flat = image.reshape(out_h, -1)  # every channel's own sensor noise
    flat += cv2.randn(np.zeros(flat.shape, dtype=np.float32), 0.0, noise)
    sharpening: dict[str, Any] = {}
    if sharpened:
        radius, amount = _u(rng, 1.0, 2.5) * shrink, _u(rng, 0.5, 1.5)
        image = image + amount * (image - cv2.GaussianBlur(image, (0, 0), radius))
        sharpening = {"sharpen_px": round(radius / shrink, 2), "sharpen": round(amount, 2)}
    quality = int(rng.integers(cam.jpeg[0], cam.jpeg[1] + 1))
    encoded = _encode(np.clip(image, 0, 255).astype(np.uint8), quality)
    return Shot(
        encoded,
        {
            "kind": "photo",
            "camera": camera,
            "px_per_mm": round(float(scale * RASTER_PX_MM / shrink), 2),
            "tilt_deg": round(math.degrees(tilt), 1),
            "rotation_deg": round(angle, 1),
            "blur_px": round(blur, 2),
            "shadow": round(shadow_depth, 2),
            "curl_mm": round(curl, 2),
            "jpeg": quality,
            **folding,
            **sharpening,
        },
    )


def scan(rng: np.random.Generator, paper: np.ndarray) -> Shot:
    """A flatbed scan: flat and evenly lit, slightly skewed, 150–300 dpi."""
    dpi = float(rng.choice([150, 200, 300]))
    scale = dpi / 25.4 / RASTER_PX_MM
    height, width = paper.shape[:2]
    angle = _u(rng, -3, 3) + 180 * int(rng.random() < 0.25)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    out_w, out_h = round(width * scale * 1.06), round(height * scale * 1.06)
    matrix[:, 2] += [(out_w - width) / 2, (out_h - height) / 2]
    image = cv2.warpAffine(
        paper.astype(np.float32),
        matrix,
        (out_w, out_h),
        flags=cv2.INTER_AREA,
        borderValue=(250.0, 250.0, 250.0),
    )
    image = image * _u(rng, 0.9, 1.0) + rng.normal(0, _u(rng, 0.5, 3), image.shape)
    clipped = np.clip(image, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        _ok, buffer = cv2.imencode(".png", clipped)
        data = bytes(buffer.tobytes())
        quality = 100
    else:
        quality = int(rng.integers(75, 95))
        data = _encode(clipped, quality)
    return Shot(
        data,
        {"kind": "scan", "px_per_mm": round(dpi / 25.4, 2), "rotation_deg": round(angle, 1),
         "jpeg": quality},
    )  # fmt: skip


def make_sample(
    rng: np.random.Generator,
    printed: Printed,
    *,
    scan_share: float = 0.25,
    hard_share: float = 0.12,
    low_share: float = 0.0,
    max_side: int = 0,
    hard_kinds: tuple[str, ...] = HARD_KINDS,
    blurred_share: float = 0.0,
    circle_share: float = 0.0,
    fold_share: float = 0.0,
    sharpen_share: float = 0.0,
    people: PeoplesMarks | None = None,
) -> tuple[Shot, Marked]:
    """One marked paper, scanned (``scan_share``) or photographed; ``low_share`` of the photos by
    the ``low`` camera, ``blurred_share`` by the ``blurred`` one, the rest by a tablet;
    ``fold_share`` of them of a paper folded and opened again, ``sharpen_share`` sharpened by
    the camera."""
    marked = mark_paper(rng, printed, hard_share, hard_kinds, circle_share, people)
    if rng.random() < scan_share:
        shot = scan(rng, marked.image)
    else:
        camera = "low" if rng.random() < low_share else "tablet"
        # Drawn only when asked for: the sets made without it stay the same photos.
        if blurred_share and camera == "tablet" and rng.random() < blurred_share:
            camera = "blurred"
        folded = bool(fold_share) and rng.random() < fold_share  # drawn only when asked for
        sharpened = bool(sharpen_share) and rng.random() < sharpen_share
        shot = photograph(rng, marked.image, camera, max_side, folded, sharpened)
    shot.condition["paper"] = printed.case.label
    return shot, marked


def label(marked: Marked, shot: Shot, printed: Printed) -> dict[str, Any]:
    drawn = [
        plan.drawn + ("/faint" if plan.faint else "") + ("/outside" if plan.outside else "")
        for plan in marked.plans
    ]
    return {
        "case": printed.case.label,
        "truth": marked.truth,
        "drawn": drawn,
        "write_ins": marked.write_ins,
        "pen": marked.pen,
        "condition": shot.condition,
    }


def round_json(printed: Printed) -> str:
    return json.dumps(printed.round_data, ensure_ascii=False)
