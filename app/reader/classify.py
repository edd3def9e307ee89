"""Name the mark in a box, and say whether the reading leaves no doubt.

Three voters, each giving five probabilities: two small convolutional networks on the ink's shape
(``GRID``², scaled to its darkest stroke) and the measured numbers — ink inside and outside the
box, the darkest stroke, enclosed holes (a △ has one), separate strokes — trained apart (another
seed) by ``scripts/reader/train_conv.py``; and a one-hidden-layer network on the stroke directions
(a 4 × 4 grid of 8-bin orientation histograms), the skeleton (where the thinned strokes end and
cross) and the same numbers, trained by ``scripts/reader/train_marks.py``. A mark is ``sure`` only
when all three name the same mark with high probability *and* nothing measured is unusual (ink
outside the box, faint ink, an outline not found clearly). Anything else goes to the teller.
"""

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from app.reader.measure import GRID, BoxInk

Vector = npt.NDArray[np.float32]

CLASSES = ("yes", "no", "abstain", "blank", "unclear")
CONV = "conv"  # the convolutional networks' view
MODEL_PATH = Path(__file__).with_name("marks_model.npz")

# The sure rules: each threshold keeps a doubtful reading in front of the teller.
SURE_PROBABILITY = 0.9  # 0 sure misreads down to 0.8 on two held-out seeds: a margin
BLANK_INSIDE_MM2 = 0.25  # a blank box: less ink than a dot of a pen
BLANK_TRACE_MM2 = 0.6  # … and hardly a trace of anything fainter (``BoxInk.clear_trace``)
BLANK_FAINTEST = 0.085  # … and no spot darker than a photo's noise (a faint stroke is 0.09+)
# … nor than this share of the printed outline's darkness: a blurred photo greys a faint stroke
# with the print (the printed outline's own blur taken away, ``BoxInk.clear_faintest``: blank
# boxes on scans and tablet photos 0.12 at most, seed 3's faint ✓ 0071.jpg 0.20).
BLANK_SHARE = 0.15
# … and no line darker than this (``BoxInk.line``) nor than LINE_NOISE times the line filter's
# median answer in the box (``BoxInk.line_noise``): a sharpening camera's noise is line-like, on
# blank boxes of tablet photos its strongest line is up to 4.7 times that median, a faint pen's
# stroke 5.2 times and more (the faintest a person sees, 0.032, on a sharpened blurred photo).
BLANK_LINE = 0.03
LINE_NOISE = 4.5
# A fainter line is held where it stands out more from the noise: faint pens on blurred tablet
# photos measure 0.021–0.030 at 7–10 times that median (training sets of seeds 14 and 26; a
# person sees them), noise-only lines of blank boxes under 0.03 rarely more than 5.5 times.
FAINT_LINE = 0.018
FAINT_LINE_NOISE = 5.5
MARK_TRACE_MM2 = 3.0  # a mark: at least a short stroke's trace (a clear mark leaves 6+)
OUTSIDE_MM2 = 0.25  # more ink than this around the box …
OUTSIDE_SHARE = 0.1  # … and than this share of the ink inside: the mark strays outside
FAINT_SHARE = 0.4  # a stroke lighter than this share of the printed outline's darkness is faint
# The box's printed outline is where the box was read, at least this clearly (its inside left
# out: a heavy mark is no doubt about the box; 1% of the training boxes are below it, mostly on
# blurred low-camera photos).
OUTLINE_FIT = 0.5
# A closed mark whose last stroke stops short of its start is still closed: a gap between two
# stroke ends up to BRIDGE_MM is bridged before its hole is looked for (the ends of a ✓ or × are
# farther apart). A mark every network reads △ is bridged up to TRIANGLE_GAP_MM: people leave up
# to 2.5 mm at the apex (the $1 logs' held-out subjects 7–11, seed 56: at 1.5 mm 8 of their 244
# △s stayed open, 5 read △ by every network at 0.97 and more, 4 of those closed at 2.5), and a
# ∧, its base missing, leaves its feet 4 mm and more apart. Not for a ○: one closed so is read by
# the convolutional networks alone (``_voters``), and a 2.5 mm gap in a small ○ is a C.
BRIDGE_MM = 1.5
TRIANGLE_GAP_MM = 2.5
# 赞成 may be a ○ (RULES P), the other closed mark: one that fills less of the smallest triangle
# around it than TRIANGLE_FILL is too round for a sure △, more than ROUND_FILL too angular for a
# sure ○ (``closed_shape``; on the synthetic sets a ○ fills 0.60–0.71, a △ 0.71–0.99, 1% under
# 0.8). A △ whose narrowest corner is under NARROWEST_CORNER (°) is a sliver: the held-out △s'
# are 39° and more but one, a scribble closed on itself 30°.
TRIANGLE_FILL = 0.76
ROUND_FILL = 0.72
# A ○ read by the convolutional networks alone must also be round: its convex outline and the
# ellipse fitted to it overlap at least ROUND_ELLIPSE (intersection over union). A person's small
# △ with rounded corners and its last stroke past the apex fills as little of its triangle as a
# ○ does (0.67–0.70) and was read as a sure ○ (seed 65's 0167.jpg, a low-camera photo; 0010.jpg
# at the looser 0.7). On nine sets the ○s filling up to ROUND_FILL overlap their ellipse 0.87
# and more but one in 1,582 (0.80), and 13 of the 15 △s that fill as little under 0.85.
ROUND_ELLIPSE = 0.85
NARROWEST_CORNER = 34.0
# A × is two strokes, four ends: another end is another stroke, a ✓ the × was drawn over (a
# doubled mark the networks read as a sure × on a sharpened blurred photo: 5 ends); one fewer is a
# λ or a Y, not two crossing strokes (a person's ✓ begun with a curl that crosses its long stroke,
# read as a sure × by every network on a blurred photo: 3 ends). Counted on the skeleton that
# keeps a thin diagonal stroke (``_thin``): on it 1,274 of the 1,283 ×s of four held-out sets
# read right have four ends.
CROSS_ENDS = 4
# A ✓ or a × both convolutional networks are sure of needs the strokes network only this much less
# sure (it naming the same mark): what it reads, stroke ends, crossings and holes, the rules for a
# ✓ and a × check themselves (``_holes``, ``_stroke_ends``). Not for a blank or a △: there it
# alone held back, on sets no network was trained on, a × drawn outside its box read blank and a
# scribble read △.
STROKES_SLACK = 0.2
BOX_MM = 10.0  # the printed mark box (9.5–10 mm): the shape's scale
EDGE_MM = 1.0  # a stroke end this near a side of the box stops at its outline


def _orientation_histograms(shape: Vector) -> Vector:
    gx = cv2.Sobel(shape, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(shape, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)
    # Orientation modulo π: a stroke's two edges count as one direction.
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    bins = np.minimum((angle / np.pi * 8).astype(np.int32), 7)
    cells = 4
    size = shape.shape[0] // cells
    histogram = np.zeros((cells, cells, 8), dtype=np.float32)
    for row in range(cells):
        for col in range(cells):
            part = (slice(row * size, (row + 1) * size), slice(col * size, (col + 1) * size))
            histogram[row, col] = np.bincount(
                bins[part].ravel(), weights=magnitude[part].ravel(), minlength=8
            )
    total = float(histogram.sum())
    flat: Vector = (histogram / total if total > 0 else histogram).ravel().astype(np.float32)
    return flat


HOLE_PX = 6  # a gap in the ink at least this large (of GRID²) is an enclosed hole
MIDDLE_LEVEL = 0.35  # of the darkest stroke: the ink whose strokes are followed
# A small △ on a blurred photo is a grey ring whose hole the middle level fills; its middle stays
# lighter than the ring, so a closed mark is looked for at this level too.
RING_LEVEL = 0.6


def _enclosed(ink: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.int32], dict[int, int]]:
    """The gaps the ink (0/1) encloses: the gaps' labels and each enclosed one's area (px). A gap
    reaching the border is not enclosed (the padding joins it to the outside)."""
    gaps = np.pad(1 - ink, 1, constant_values=1)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(gaps, connectivity=4)
    outer = labels[0, 0]
    areas = {i: int(stats[i, cv2.CC_STAT_AREA]) for i in range(1, count) if i != outer}
    return np.asarray(labels[1:-1, 1:-1], dtype=np.int32), areas


def _topology(shape: Vector) -> tuple[float, float]:
    """(enclosed holes, separate ink parts) of the ink at a middle level."""
    peak = float(shape.max())
    if peak <= 0:
        return 0.0, 0.0
    ink = (shape >= MIDDLE_LEVEL * peak).astype(np.uint8)
    parts, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    strokes = sum(1 for index in range(1, parts) if stats[index, cv2.CC_STAT_AREA] >= 4)
    holes = sum(1 for area in _enclosed(ink)[1].values() if area >= HOLE_PX)
    return float(min(holes, 3)), float(min(strokes, 4))


_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _thin(ink: npt.NDArray[np.uint8], *, keep_diagonals: bool = False) -> npt.NDArray[np.uint8]:
    """The ink's one-pixel skeleton (Zhang–Suen thinning): a stroke's width and blur gone, its
    course, ends and crossings left. Zhang–Suen erases a diagonal stroke two pixels wide
    altogether (a ×'s lighter stroke lost an arm: 5% of the sure ×s had three ends);
    ``keep_diagonals`` is Lü and Wang's mend (1986): a pixel with two neighbours is kept. The
    networks learned from the plain skeleton."""
    fewest = 3 if keep_diagonals else 2
    image = np.pad(ink, 1).astype(np.uint8)
    height, width = ink.shape
    while True:
        changed = False
        for step in (0, 1):
            around = [
                image[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] for dy, dx in _NEIGHBOURS
            ]
            p2, _, p4, _, p6, _, p8, _ = around
            count = sum(part.astype(np.int32) for part in around)
            rises = sum(
                ((around[i] == 0) & (around[(i + 1) % 8] == 1)).astype(np.int32) for i in range(8)
            )
            if step == 0:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            centre = image[1:-1, 1:-1]
            delete = (centre == 1) & (count >= fewest) & (count <= 6) & (rises == 1) & side
            if delete.any():
                centre[delete] = 0
                changed = True
        if not changed:
            return image[1:-1, 1:-1].copy()


def _place_grid(mask: npt.NDArray[np.bool_]) -> Vector:
    """How many of ``mask``'s points fall in each third × third of the box (capped at 2)."""
    ys, xs = np.nonzero(mask)
    grid = np.zeros((3, 3), dtype=np.float32)
    size = mask.shape[0]
    for y, x in zip(ys, xs, strict=True):
        grid[min(2, 3 * y // size), min(2, 3 * x // size)] += 1
    flat: Vector = (np.minimum(grid, 2) / 2).ravel().astype(np.float32)
    return flat


@dataclass(frozen=True, slots=True)
class Skeleton:
    """The ink at a middle level and its one-pixel skeleton: where the strokes end and cross."""

    ink: npt.NDArray[np.uint8]
    on: npt.NDArray[np.bool_]
    ends: npt.NDArray[np.bool_]
    crossings: npt.NDArray[np.bool_]
    junctions: int  # separate crossing knots


def _skeleton(
    shape: Vector, level: float = MIDDLE_LEVEL, *, keep_diagonals: bool = False
) -> Skeleton:
    peak = float(shape.max())
    ink = (shape >= level * peak).astype(np.uint8) if peak > 0 else np.zeros_like(shape, np.uint8)
    thinned = _thin(ink, keep_diagonals=keep_diagonals)
    padded = np.pad(thinned, 1).astype(np.int32)
    height, width = thinned.shape
    around = [padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] for dy, dx in _NEIGHBOURS]
    # Runs of skeleton around a pixel: one run is a stroke's end, three or more a branch; a
    # crossing thins to a small knot whose pixels have four neighbours or more (a diagonal step
    # has at most three).
    runs = sum(((around[i] == 0) & (around[(i + 1) % 8] == 1)).astype(np.int32) for i in range(8))
    neighbours = sum(around)
    on = thinned == 1
    crossings = on & ((runs >= 3) | (neighbours >= 4))
    knots, _ = cv2.connectedComponents(crossings.astype(np.uint8), connectivity=8)
    return Skeleton(ink, on, on & (runs == 1), crossings, knots - 1)


def _stroke_ends(found: Skeleton) -> int:
    """The strokes' ends, a crossing's knot left out: where two thin strokes cross, the skeleton
    can thin to two pixels side by side, each with its neighbours in one run, as an end has (a
    clean × counted six ends). The networks learned from ``Skeleton.ends`` as it is."""
    return int((found.ends & ~found.crossings).sum())


def _skeleton_features(shape: Vector) -> Vector:
    """Where the strokes end and cross, how long they are, and the largest enclosed hole: a ✓ has
    two ends (upper left, upper right) and no crossing, a × four ends in the corners and a
    crossing in the middle, a △ a hole; a blank box nothing. Robust to pen width and blur."""
    found = _skeleton(shape)
    ink = found.ink
    height, width = ink.shape
    hole = max(_enclosed(ink)[1].values(), default=0)
    ys, xs = np.nonzero(ink)
    extent = (
        [(xs.max() - xs.min() + 1) / width, (ys.max() - ys.min() + 1) / height]
        if len(xs)
        else [0.0, 0.0]
    )
    centroid = [xs.mean() / width, ys.mean() / height] if len(xs) else [0.5, 0.5]
    numbers = np.array(
        [
            min(int(found.ends.sum()), 8) / 8,
            min(found.junctions, 4) / 4,
            min(int(found.on.sum()), 160) / 160,
            min(hole / (height * width), 0.5) * 2,
            *extent,
            *centroid,
        ],
        dtype=np.float32,
    )
    return np.concatenate([numbers, _place_grid(found.ends), _place_grid(found.crossings)])


def _closed(
    ink: BoxInk, level: float = MIDDLE_LEVEL, reach_mm: float = BRIDGE_MM
) -> npt.NDArray[np.uint8]:
    """The ink at ``level`` of its darkest with the gaps a △ or a ○ may leave bridged
    (``_bridged``, two ends on one side of the box too)."""
    return _bridged(_skeleton(_scaled(ink), level), reach_mm=reach_mm, sides=True)


def _bridged(found: Skeleton, *, reach_mm: float, sides: bool) -> npt.NDArray[np.uint8]:
    """``found``'s ink with gaps bridged: between two stroke ends closer than ``reach_mm`` (a
    △'s last stroke stops short of its start), with ``sides`` between two ends on the same side
    of the box (its base drawn over the printed outline, which is masked out with the outline),
    and any gap of a pixel or two."""
    mask = found.ink.copy()
    size = mask.shape[0]
    reach = reach_mm * size / BOX_MM
    edge = EDGE_MM * size / BOX_MM
    ys, xs = np.nonzero(found.ends)
    for first in range(len(xs)):
        for second in range(first + 1, len(xs)):
            a = (int(xs[first]), int(ys[first]))
            b = (int(xs[second]), int(ys[second]))
            near = math.hypot(a[0] - b[0], a[1] - b[1]) <= reach
            same_side = sides and any(
                max(abs(a[axis] - side), abs(b[axis] - side)) <= edge
                for axis in (0, 1)
                for side in (0, size - 1)
            )
            if near or same_side:
                cv2.line(mask, a, b, 1, 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    return np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel), dtype=np.uint8)


def _holes(ink: BoxInk, *, close: bool = False) -> float:
    """Enclosed holes in the mark; with ``close``, after bridging the gaps (``_closed``)."""
    if not close:
        holes, _ = _topology(_scaled(ink))
        return holes
    holes, _ = _topology(_closed(ink).astype(np.float32))
    return holes


@dataclass(frozen=True, slots=True)
class ClosedShape:
    """The smallest triangle around a closed mark (the ink round its largest enclosed hole, gaps
    bridged, its convex outline): how much of it the mark fills, and its narrowest corner. A △
    fills most of it (its corners rounded by the pen's width); a ○, an ellipse, π/(3√3) ≈ 0.60,
    whatever its size and slant (an affine map keeps the ratio). A drawn △'s corners are about 40°
    and more; a sliver is a stroke drawn there and back (a scribble that closes on itself)."""

    fill: float
    narrowest: float  # degrees
    ellipse: float  # how much the convex outline and its fitted ellipse overlap (IoU)


def closed_shape(ink: BoxInk, reach_mm: float = BRIDGE_MM) -> ClosedShape | None:
    """``ClosedShape`` of the mark (its gaps up to ``reach_mm`` bridged), None without a hole. The
    outline, not the hole, is measured: a small △'s hole is a few pixels of GRID², rounded by
    them."""
    for level in (MIDDLE_LEVEL, RING_LEVEL):
        closed = _closed(ink, level, reach_mm)
        labels, areas = _enclosed(closed)
        holes = {index: area for index, area in areas.items() if area >= HOLE_PX}
        if holes:
            break
    else:
        return None
    hole = (labels == max(holes, key=holes.__getitem__)).astype(np.uint8)
    # The strokes round the hole, not a stray dot elsewhere in the box.
    _, parts = cv2.connectedComponents(closed, connectivity=8)
    around = (cv2.dilate(hole, np.ones((3, 3), np.uint8)) > 0) & (closed > 0)
    touching = np.unique(parts[around])
    mark = (np.isin(parts, touching[touching > 0]) | (hole > 0)).astype(np.uint8) * 255
    # Traced on a 4× copy: on the GRID² pixels an outline is a staircase.
    smooth = cv2.resize(mark, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(smooth > 127)
    hull = cv2.convexHull(np.column_stack([xs, ys]).astype(np.float32))
    area, corners = cv2.minEnclosingTriangle(hull)
    if area <= 0:
        return None
    points = np.asarray(corners, dtype=np.float64).reshape(3, 2)
    angles = []
    for index in range(3):
        first = points[(index + 1) % 3] - points[index]
        second = points[(index + 2) % 3] - points[index]
        cosine = float(first @ second) / float(np.linalg.norm(first) * np.linalg.norm(second))
        angles.append(math.degrees(math.acos(min(1.0, max(-1.0, cosine)))))
    fill = float(cv2.contourArea(hull)) / area
    outline = np.asarray(hull, dtype=np.float32)
    return ClosedShape(fill, min(angles), _ellipse_overlap(outline, smooth.shape))


def _ellipse_overlap(hull: npt.NDArray[np.float32], size: tuple[int, ...]) -> float:
    """Intersection over union of the convex outline ``hull`` and the ellipse fitted to it."""
    if len(hull) < 5:
        return 0.0
    (x, y), (width, height), angle = cv2.fitEllipse(hull)
    if not all(math.isfinite(value) for value in (x, y, width, height, angle)):
        return 0.0
    outline = np.zeros(size, dtype=np.uint8)
    cv2.fillPoly(outline, [np.round(hull).astype(np.int32)], 1)
    fitted = np.zeros(size, dtype=np.uint8)
    cv2.ellipse(fitted, ((x, y), (width, height), angle), 1, -1)
    union = int((outline | fitted).sum())
    return float((outline & fitted).sum()) / union if union else 0.0


def _numbers(ink: BoxInk, shape: Vector) -> Vector:
    """The measured numbers every network reads besides its view of the shape."""
    holes, strokes = _topology(shape)
    numbers: Vector = np.array(
        [
            min(ink.inside / 10.0, 3.0),
            min(ink.outside / 10.0, 3.0),
            ink.peak,
            min(ink.trace / 10.0, 3.0),
            holes / 3,
            strokes / 4,
            ink.fit_score,
            # Against the printed outline's darkness: the same pen reads alike in a sharp scan
            # and a blurred photo.
            min(ink.peak / max(ink.outline, 0.1), 2.0),
            min(ink.faintest / max(ink.outline, 0.1), 2.0),
        ],
        dtype=np.float32,
    )
    return numbers


def _scaled(ink: BoxInk) -> Vector:
    """The shape scaled to its darkest stroke: a light pen and a dark one look alike."""
    peak = max(float(ink.shape.max()), 1e-3)
    shape: Vector = (ink.shape / peak).astype(np.float32)
    return shape


def _conv_view(shape: Vector, numbers: Vector) -> Vector:
    """The convolutional networks' input: the shape's GRID² pixels, then the measured numbers."""
    return np.concatenate([shape.ravel(), numbers])


def conv_input(ink: BoxInk) -> Vector:
    """The convolutional networks' input alone (training: no skeleton to compute)."""
    shape = _scaled(ink)
    return _conv_view(shape, _numbers(ink, shape))


def features(ink: BoxInk) -> dict[str, Vector]:
    """The feature views the networks read."""
    shape = _scaled(ink)
    numbers = _numbers(ink, shape)
    hog = _orientation_histograms(shape) * 4
    return {
        "strokes": np.concatenate([hog, _skeleton_features(shape), numbers]),
        CONV: _conv_view(shape, numbers),
    }


VIEWS = ("strokes",)  # the one-hidden-layer networks, one per view
CONVS = ("conv", "conv2")  # the convolutional networks: one view, two seeds


@dataclass(frozen=True, slots=True)
class Network:
    """One hidden layer (ReLU), softmax over ``CLASSES``; inputs standardised."""

    mean: Vector
    scale: Vector
    w1: Vector
    b1: Vector
    w2: Vector
    b2: Vector

    def probabilities(self, x: Vector) -> Vector:
        z = (x - self.mean) / self.scale
        hidden = np.maximum(z @ self.w1 + self.b1, 0.0)
        logits = hidden @ self.w2 + self.b2
        logits = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(logits)
        result: Vector = (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)
        return result


@dataclass(frozen=True, slots=True)
class ConvNetwork:
    """3 × 3 convolutions (ReLU, then a 2 × 2 max-pool each) on the GRID² shape, then ``head``
    on what they found and the measured numbers. Kernels as torch lays them out, (out, in, 3, 3)."""

    kernels: tuple[Vector, ...]
    biases: tuple[Vector, ...]
    head: Network  # standardises the numbers only (``conv_from``)

    def probabilities(self, x: Vector) -> Vector:
        count = x.shape[0]
        cells = GRID * GRID
        maps = x[:, :cells].reshape(count, GRID, GRID, 1)
        for kernel, bias in zip(self.kernels, self.biases, strict=True):
            padded = np.pad(maps, ((0, 0), (1, 1), (1, 1), (0, 0)))
            # (count, height, width, in, 3, 3): the same order as the kernel's (in, 3, 3).
            windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
            _, height, width, channels = maps.shape
            flat = windows.reshape(count * height * width, channels * 9)
            # einsum, not BLAS: OpenBLAS spreads these small products over threads that mostly
            # wait (2.9 ms of CPU a box on the 2-core machine under load, 0.5 ms this way).
            products = np.einsum("pk,ok->po", flat, kernel.reshape(kernel.shape[0], -1))
            out = np.maximum(products + bias, 0.0)
            out = out.reshape(count, height // 2, 2, width // 2, 2, kernel.shape[0])
            maps = out.max(axis=(2, 4))
        # Flattened channel first, as torch flattens (count, channels, height, width).
        found = maps.transpose(0, 3, 1, 2).reshape(count, -1)
        return self.head.probabilities(np.concatenate([found, x[:, cells:]], axis=1))


def conv_from(data: Mapping[str, Vector], prefix: str = CONV) -> ConvNetwork:
    mean, scale = data[f"{prefix}.mean"], data[f"{prefix}.scale"]  # KeyError: no such network
    layers = sum(1 for key in data if key.startswith(f"{prefix}.kernel"))
    kernels = tuple(data[f"{prefix}.kernel{index}"] for index in range(layers))
    # The file standardises the measured numbers only: what the convolutions found goes to the
    # hidden layer as it is (mean 0, scale 1).
    found = kernels[-1].shape[0] * (GRID >> layers) ** 2
    return ConvNetwork(
        kernels,
        tuple(data[f"{prefix}.bias{index}"] for index in range(layers)),
        Network(
            np.concatenate([np.zeros(found, mean.dtype), mean]),
            np.concatenate([np.ones(found, scale.dtype), scale]),
            *(data[f"{prefix}.{part}"] for part in ("w1", "b1", "w2", "b2")),
        ),
    )


@functools.cache
def load_networks(path: Path = MODEL_PATH) -> dict[str, Network | ConvNetwork]:
    """Every voter, in a fixed order: the views' networks, then the convolutional ones. A model
    file without one of them is refused (KeyError): fewer voters would make a weaker ``sure``."""
    with np.load(path) as data:
        stored = dict(data)
    networks: dict[str, Network | ConvNetwork] = {
        view: Network(
            *(stored[f"{view}.{part}"] for part in ("mean", "scale", "w1", "b1", "w2", "b2"))
        )
        for view in VIEWS
    }
    for name in CONVS:
        networks[name] = conv_from(stored, name)
    return networks


@dataclass(frozen=True, slots=True)
class MarkReading:
    mark: str  # one of CLASSES
    sure: bool
    why: str  # why not sure ("" when sure)


def proposed(probabilities: Vector) -> int:
    """The mark proposed to the teller (an index of ``CLASSES``): the networks' mean."""
    return int(probabilities.mean(axis=0).argmax())


def _voters(
    probabilities: Vector, mark: str, *, circle: bool, threshold: float
) -> tuple[Vector, npt.NDArray[np.float64]]:
    """The networks whose word counts for ``mark``, and how sure each must be of it."""
    if circle:
        # A ○ is read by the convolutional networks and its round outline (``closed_shape``).
        # The strokes network reads directions, ends and crossings, which a ○ has none of; it
        # learned 赞成 mostly from ✓s and takes many a ○ for a coil of loops (unclear): on the
        # held-out sets it alone held half of the clear ○s unsure. On three sets no network was
        # trained on (seeds 26, 41 and 42: a quarter of the marks hard, coils among them) no
        # more marks were read wrongly and sure for it, at 0.9 nor at the looser 0.8 and 0.7.
        return probabilities[len(VIEWS) :], np.full(len(CONVS), threshold)
    floors = np.full(len(probabilities), threshold)
    if mark in ("yes", "no"):
        floors[: len(VIEWS)] -= STROKES_SLACK
    return probabilities, floors


def _cross_doubts(ink: BoxInk) -> list[str]:
    """The reasons a × is not sure that its strokes tell, read from one skeleton of its ink."""
    strokes = _skeleton(_scaled(ink), keep_diagonals=True)
    found = []
    # A gap a △'s last stroke may leave is bridged: a × drawn with a base (a scribble, not a ×)
    # can stop short of closing. Not two ends on one side: a × that fills its box has them.
    if _topology(_bridged(strokes, reach_mm=BRIDGE_MM, sides=False).astype(np.float32))[0] > 0:
        found.append("an enclosed hole in a ×")
    ends = _stroke_ends(strokes)
    if ends > CROSS_ENDS:
        found.append("more stroke ends than a ×")
    if ends < CROSS_ENDS:
        found.append("fewer stroke ends than a ×")
    return found


def doubts(ink: BoxInk, probabilities: Vector, threshold: float = SURE_PROBABILITY) -> list[str]:
    """Every reason the reading of one box is not sure (empty: sure), in the order ``classify``
    reports them. ``probabilities`` is one row per network."""
    best = proposed(probabilities)
    mark = CLASSES[best]
    closed = None
    if mark in ("yes", "abstain"):
        closed = closed_shape(ink, TRIANGLE_GAP_MM if mark == "abstain" else BRIDGE_MM)
    circle = (
        mark == "yes"
        and closed is not None
        and closed.fill <= ROUND_FILL
        and closed.ellipse >= ROUND_ELLIPSE
    )
    voters, floors = _voters(probabilities, mark, circle=circle, threshold=threshold)
    found = []
    if not (voters.argmax(axis=1) == best).all():
        found.append("the networks disagree")
    if (voters[:, best] < floors).any():
        found.append("low confidence")
    if ink.outline_fit < OUTLINE_FIT:
        found.append("box outline not found clearly")
    if ink.outside > max(OUTSIDE_MM2, OUTSIDE_SHARE * ink.inside):
        found.append("ink outside the box")
    if mark == "unclear":
        found.append("unclear mark")
    if mark == "blank" and (
        ink.inside > BLANK_INSIDE_MM2
        or ink.clear_trace > BLANK_TRACE_MM2
        or ink.clear_faintest > BLANK_FAINTEST
        or ink.clear_faintest > BLANK_SHARE * max(ink.outline, 0.1)
    ):
        found.append("some ink in a blank box")
    elif mark == "blank" and (
        ink.line > max(BLANK_LINE, LINE_NOISE * ink.line_noise)
        or ink.line > max(FAINT_LINE, FAINT_LINE_NOISE * ink.line_noise)
    ):
        found.append("a faint line in a blank box")
    if mark != "blank" and (
        ink.trace < MARK_TRACE_MM2
        or max(ink.peak, ink.faintest) < FAINT_SHARE * max(ink.outline, 0.1)
    ):
        # Against the outline printed beside it, not a fixed level: a blurred photo greys every
        # stroke, a faint pen or a half-erased mark stays lighter than the black print.
        found.append("faint or small mark")
    if mark == "abstain":
        if closed is None:
            found.append("a △ that does not close")
        elif closed.fill < TRIANGLE_FILL:
            found.append("a △ as round as a ○")
        elif closed.narrowest < NARROWEST_CORNER:
            found.append("a △ as thin as a stroke drawn there and back")
    if mark == "no":
        found.extend(_cross_doubts(ink))
    if mark == "yes" and not circle and _holes(ink) > 0:
        found.append("a ✓ or ○ with a corner like a △'s")
    return found


def network_probabilities(
    ink: BoxInk, networks: dict[str, Network | ConvNetwork] | None = None
) -> Vector:
    """One row of ``CLASSES`` probabilities per network."""
    nets = networks if networks is not None else load_networks()
    views = features(ink)
    return np.stack(
        [
            net.probabilities(views[CONV if name in CONVS else name][None, :])[0]
            for name, net in nets.items()
        ]
    )


def classify(ink: BoxInk, networks: dict[str, Network | ConvNetwork] | None = None) -> MarkReading:
    probabilities = network_probabilities(ink, networks)
    mark = CLASSES[proposed(probabilities)]
    found = doubts(ink, probabilities)
    return MarkReading(mark, not found, found[0] if found else "")
