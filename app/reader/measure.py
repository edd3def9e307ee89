"""The ink in one box, with the printed paper taken away.

A box is straightened to ``PX_PER_MM`` with its own fitted offset, the paper's white is divided out
(shadows, uneven light), and every printed line near it — its own outline, a neighbour's outline,
the rule under a name — is masked from the known geometry, so what remains is the voter's ink:
inside the box (the mark) and in a ring around it (a mark that strays outside).
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from app.printing.ballot import PaperGeometry, Rect
from app.reader.locate import PX_PER_MM, Floats, Gray, darkness, outline_template, straighten

RING_MM = 2.5  # the ring around a box where stray ink is looked for
MASK_MM = 0.55  # half-width of the band masked over a printed line (its width, blur, fit error)
GRID = 32  # the mark's shape, resampled to GRID × GRID for the classifier
INK_LEVEL = 0.22  # darkness counted as ink (a ballpoint stroke is 0.4–0.8, paper noise < 0.1)
OUTLINE_MARGIN_MM = 0.75  # around the outline where its fit is measured (as it was found)
TRACE_LEVEL = 0.08  # smoothed darkness that is a trace of something: faint ink, a pencil, a smear
# A faint stroke is looked for as a line: its darkness averaged along LINE_MM in each of 12
# directions, the paper beside it taken away. Noise averages out along a line, a stroke does not.
LINE_MM = 2.0
LINE_EDGE_MM = 1.1  # … not this near the box's sides, where the printed outline's blur lies
HALO_MM = 2.0  # how far into the box the printed outline's blur is measured
HALO_CORNER_MM = 1.5  # … along its sides, their ends left out (two sides' blur meets there)

Map = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class BoxInk:
    """What was measured in one box (areas in mm² of ink)."""

    inside: float  # ink inside the box, its outline band excluded
    outside: float  # ink in the ring around the box, printed lines excluded
    peak: float  # the darkest stroke's level (faint ink stays low)
    trace: float  # any trace inside the box (smoothed darkness ≥ TRACE_LEVEL), faint ink included
    faintest: float  # the box's darkest smoothed spot: above the paper's noise, something is there
    shape: Map  # GRID × GRID: the traces inside the box (darkness, 0…1)
    fit_score: float
    outline: float = 1.0  # the printed outline's darkness here: what this camera makes of black
    # How clearly the outline is where the box was placed, the inside left out (1 = a perfect
    # square): ``fit_score`` counts a heavy mark against the outline, this does not.
    outline_fit: float = 1.0
    # The most line-like stroke in the middle of the box: how much darker than the paper beside
    # it, along LINE_MM (a faint pen's thin stroke that the smoothed ``faintest`` averages away).
    line: float = 0.0
    # ``trace`` and ``faintest`` with the printed outline's own blur taken away (as measured along
    # its sides): on a blurred photo that blur reaches past the masked band into a blank box.
    clear_trace: float = 0.0
    clear_faintest: float = 0.0
    # The line filter's median answer in the box: what this photo's noise (sharpened, JPEG)
    # makes of blank paper, against which ``line`` is judged.
    line_noise: float = 0.0


def _px(area: Rect, x: float, y: float) -> tuple[int, int]:
    """A point of the paper (mm) in the straightened ``area``'s pixels."""
    return round((x - area.x) * PX_PER_MM), round((y - area.y) * PX_PER_MM)


def _boxes_near(geometry: PaperGeometry, area: Rect) -> Iterator[Rect]:
    """Every mark and write-in box that reaches into ``area``."""
    for box in (*geometry.mark_boxes, *geometry.write_in_boxes):
        if not (
            box.x > area.x + area.w
            or box.x + box.w < area.x
            or box.y > area.y + area.h
            or box.y + box.h < area.y
        ):
            yield box


def _printed_mask(geometry: PaperGeometry, area: Rect, size: tuple[int, int]) -> Gray:
    """1 where the paper itself is printed near ``area`` (box outlines, name rules, headings)."""
    mask = np.zeros(size, dtype=np.uint8)
    half = max(1, round(MASK_MM * PX_PER_MM))
    px = functools.partial(_px, area)
    for box in _boxes_near(geometry, area):
        cv2.rectangle(mask, px(box.x, box.y), px(box.x + box.w, box.y + box.h), 1, 2 * half)
    for x0, x1, y in geometry.row_rules:
        cv2.line(mask, px(x0, y), px(x1, y), 1, 2 * half)
    # The column headings (表决) sit just above the first row's boxes.
    heading_bottom = geometry.rows_top - 0.3
    if area.y < heading_bottom:
        cv2.rectangle(mask, px(area.x, area.y), px(area.x + area.w, heading_bottom), 1, -1)
    return mask


def _other_boxes(geometry: PaperGeometry, box: Rect, area: Rect, size: tuple[int, int]) -> Gray:
    """1 inside every other box that reaches into ``area``: the ring (2.5 mm) is wider than the
    gap between two rows (2 mm), and a neighbour's mark near its own edge is that box's ink, read
    there, not a stray mark of this one (it held back blank boxes as "ink outside")."""
    mask = np.zeros(size, dtype=np.uint8)
    for other in _boxes_near(geometry, area):
        if other != box:
            corner = _px(area, other.x + other.w, other.y + other.h)
            cv2.rectangle(mask, _px(area, other.x, other.y), corner, 1, -1)
    return mask


@functools.cache
def _line_kernels() -> tuple[Map, ...]:
    """Oriented line filters at PX_PER_MM: a thin Gaussian ridge (σ 1 px) less a wide one (σ 3
    px) across, a LINE_MM window along; scaled so that a line 3 px wide answers its darkness."""
    length = LINE_MM * PX_PER_MM
    size = int(length) | 1
    centre = size // 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) - centre
    kernels = []
    for degrees in range(0, 180, 15):
        angle = np.radians(degrees)
        along = xs * np.cos(angle) + ys * np.sin(angle)
        across = -xs * np.sin(angle) + ys * np.cos(angle)
        window = (np.abs(along) <= length / 2).astype(np.float64)
        ridge = sum(
            sign * np.exp(-(across**2) / (2 * sigma**2)) / (np.sqrt(2 * np.pi) * sigma)
            for sign, sigma in ((1.0, 1.0), (-1.0, 3.0))
        )
        kernel = window * ridge / window.sum()
        line = (np.abs(across) <= 1.0).astype(np.float64)  # the unit line through the centre
        kernels.append((kernel / float((kernel * line).sum())).astype(np.float32))
    return tuple(kernels)


def line_contrast(inner: Map) -> tuple[float, float]:
    """The strongest line in ``inner`` (a box's inside, printed lines masked out), away from its
    sides: 0 on blank paper and its noise, a stroke's darkness on a stroke. And the median answer
    there, the best line of each point: what this photo's noise makes of blank paper (a stroke
    covers far less than half of a box)."""
    edge = round(LINE_EDGE_MM * PX_PER_MM)
    if min(inner.shape) <= 2 * edge:
        return 0.0, 0.0
    answers = [
        cv2.filter2D(inner, cv2.CV_32F, kernel, borderType=cv2.BORDER_REFLECT)
        for kernel in _line_kernels()
    ]
    best = np.max(answers, axis=0)[edge:-edge, edge:-edge]
    return float(best.max()), float(np.median(best))


def outline_halo(raw: Map, ring: int, *, falling: bool = True) -> Map:
    """The printed outline's blur inside the box whose outline runs ``ring`` px within ``raw``:
    for each side, the darkness by distance from it (the median along the side, its corners left
    out, so a mark crossing it does not count; never rising away from the side unless not
    ``falling``), the sides summed where they meet, as blur adds them. 0 outside the box and
    beyond HALO_MM."""
    height, width = raw.shape
    inner = raw[ring : height - ring, ring : width - ring]
    reach = round(HALO_MM * PX_PER_MM)
    corner = round(HALO_CORNER_MM * PX_PER_MM)
    rows, columns = inner.shape
    if min(rows, columns) <= 2 * max(reach, corner):
        return np.zeros_like(raw)
    middle_rows, middle_columns = inner[corner:-corner, :], inner[:, corner:-corner]

    def band(profile: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        full = np.zeros(max(rows, columns), dtype=np.float32)
        near = np.maximum(profile[:reach], 0.0)
        full[:reach] = np.minimum.accumulate(near) if falling else near
        return full

    left = band(np.median(middle_rows, axis=0))
    right = band(np.median(middle_rows[:, ::-1], axis=0))
    top = band(np.median(middle_columns, axis=1))
    bottom = band(np.median(middle_columns[::-1, :], axis=1))
    across = left[:columns] + right[:columns][::-1]
    down = top[:rows] + bottom[:rows][::-1]
    halo = np.zeros_like(raw)
    halo[ring : height - ring, ring : width - ring] = across[None, :] + down[:, None]
    return halo


def line_in_box(raw: Map, ring: int) -> tuple[float, float]:
    """``line_contrast`` inside the box whose outline runs ``ring`` px within ``raw`` (printed
    lines masked out). A camera that sharpens rings the printed outline with a light band and,
    past it, a grey one (the paper's level there is the light band's): a line along each side,
    the same all along it, not a stroke. Such bands are taken away first."""
    height, width = raw.shape
    banded = np.maximum(raw - outline_halo(raw, ring, falling=False), 0.0)
    return line_contrast(np.ascontiguousarray(banded[ring : height - ring, ring : width - ring]))


def _traces(darkness: Map, ring: int) -> tuple[float, float]:
    """Inside the box ``ring`` px within ``darkness``, smoothed: the area (mm²) of any trace
    (≥ TRACE_LEVEL) and the darkest spot."""
    height, width = darkness.shape
    smooth = cv2.GaussianBlur(darkness, (0, 0), 1.2)[ring : height - ring, ring : width - ring]
    trace = float((smooth >= TRACE_LEVEL).sum()) / (PX_PER_MM * PX_PER_MM)
    return trace, float(np.percentile(smooth, 99.9)) if smooth.size else 0.0


def measure_box(
    image: Gray, homography: Floats, geometry: PaperGeometry, box: Rect, fit_score: float
) -> BoxInk:
    area = Rect(box.x - RING_MM, box.y - RING_MM, box.w + 2 * RING_MM, box.h + 2 * RING_MM)
    raw = darkness(straighten(image, homography, area, PX_PER_MM))
    height, width = raw.shape
    ring = round(RING_MM * PX_PER_MM)
    own = np.zeros((height, width), dtype=np.uint8)
    cv2.rectangle(own, (ring, ring), (width - ring, height - ring), 1, 1)
    # The outline is a thin black line printed where the voter's pen writes: its darkness is what
    # this photo's blur, light and exposure make of a dark stroke (a faint mark is much lighter).
    outline = float(np.percentile(raw[own > 0], 75))
    margin = round(OUTLINE_MARGIN_MM * PX_PER_MM)
    template, template_mask = outline_template(box, PX_PER_MM, margin / PX_PER_MM)
    near = raw[ring - margin :, ring - margin :][: template.shape[0], : template.shape[1]]
    outline_fit = 0.0
    if near.shape == template.shape:
        match = cv2.matchTemplate(near, template, cv2.TM_CCOEFF_NORMED, mask=template_mask)
        outline_fit = float(np.nan_to_num(match[0, 0], nan=0.0, posinf=0.0, neginf=0.0))
    halo = outline_halo(raw, ring)
    printed = _printed_mask(geometry, area, (height, width))
    raw = np.where(printed > 0, 0.0, raw).astype(np.float32)
    ink = np.where(raw >= INK_LEVEL, raw, 0.0).astype(np.float32)
    inner = ink[ring : height - ring, ring : width - ring]
    pixel_mm2 = 1.0 / (PX_PER_MM * PX_PER_MM)
    trace, faintest = _traces(raw, ring)
    clear_trace, clear_faintest = _traces(np.maximum(raw - halo, 0.0).astype(np.float32), ring)
    inside = float(inner.sum()) * pixel_mm2
    strays = np.where(_other_boxes(geometry, box, area, (height, width)) > 0, 0.0, ink)
    outside = (float(strays.sum()) - float(inner.sum())) * pixel_mm2
    # The shape from every trace, not only confident ink: a blurred thin stroke keeps its form.
    within = np.ascontiguousarray(raw[ring : height - ring, ring : width - ring])
    line, line_noise = line_in_box(raw, ring)
    traced = np.where(within >= TRACE_LEVEL, within, 0.0).astype(np.float32)
    shape = np.asarray(
        cv2.resize(traced, (GRID, GRID), interpolation=cv2.INTER_AREA), dtype=np.float32
    )
    peak = float(np.percentile(inner, 99.5)) if inner.size else 0.0
    return BoxInk(
        inside,
        outside,
        peak,
        trace,
        faintest,
        shape,
        fit_score,
        outline,
        outline_fit,
        line,
        clear_trace,
        clear_faintest,
        line_noise,
    )
