"""Find a printed paper in a photo or scan: its QR code, then every mark box of its geometry.

The QR code's four corners give a first map from the paper's millimetres to the image's pixels;
each mark box's printed outline is then looked for near where that map puts it, and the map is
fitted again to every box found (RANSAC), so a tilted, rotated or curled paper still lands on its
boxes. Everything happens on arrays in memory.
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from app.printing.ballot import PaperGeometry, Rect

Gray = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float64]

MAX_SIDE = 2600  # px: larger photos are scaled down first (a box keeps ≥ 6 px/mm on A4)
PX_PER_MM = 8.0  # the resolution boxes are straightened to
PAPER_SMOOTH_MM = 0.125  # the paper's level is found on a copy smoothed this much (σ, < a stroke)
OUTLINE_MM = 0.35
SEARCH_MM = 3.5  # how far from where the map puts it a box outline is looked for (< pitch / 2)
# Along a row the next box is a column away (≥ 36 mm in every layout), so the search may reach
# further there: a first map from the small QR code is most wrong far along the rows (its scale
# and perspective multiplied over the paper), and a curled paper's far column is off most.
ALONG_MM = 10.0
CLEAR_FIT = 0.5  # a paper whose boxes' median fit is below this is looked for again, wide
INSET_MM = 1.0  # a box's inside from this far within its outline is not part of the outline's match
PLACED_FIT = 0.5  # a box placed less clearly than this is looked for again, further
NEAR_MM = 1.5  # how far from the fitted map a box is looked for first
# A map a row off is told by its columns' ends (``_row_shift``), also where the map puts them
# within ROW_END_MM: a real box one row beyond one end found at ROW_END_FIT or more and
# ROW_END_GAIN more clearly than the other end. Seed 34's 0070.jpg, a map a row off on a
# low-camera photo (4 sure misreads): the real box beyond 0.50 (a ○ drawn over its outline), the
# other end 0.02 there but 0.51 within 3.5 mm (the write-in heading). On 1,297 papers placed right
# (seeds 19, 20, 26, 32, 33, 34) a place beyond an end measured at most 0.49, and at most 0.19
# more than the other end.
ROW_END_MM = 1.0
ROW_END_FIT = 0.4
ROW_END_GAIN = 0.25
# A curled paper magnifies one part of it more than the map that fits the whole paper: a box there
# looks wider or taller than printed (seed 19's 0065.jpg: its far column 0.7 mm wider), and a
# square of the printed size fits one side of its outline only. A box whose outline (its inside
# left out) fits less clearly than STRETCH_BELOW is tried wider, narrower, taller and shorter
# (by STRETCHES), and kept so where the outline fits STRETCH_GAIN better. Tried on every box placed
# under 0.8, the mark counted in, it cost 0.06 s of CPU a paper instead of 0.02 and made one
# more box of seeds 19 and 20 sure (on a low-camera photo).
STRETCHES = (0.94, 0.97, 1.03, 1.06)
STRETCH_BELOW = 0.7
STRETCH_GAIN = 0.03


class PaperNotFound(Exception):
    """No QR code, or not the paper's printed geometry, could be found in the image."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


def _gray(array: object) -> Gray:
    return np.asarray(array, dtype=np.uint8)


def decode_image(data: bytes) -> Gray:
    """The image decoded in memory (nothing is written anywhere), each pixel as dark as its
    darkest colour channel: a blue ballpoint, light in grey levels, is as dark as a black pen in
    red light, and the printed black lines and the white paper stay as they are."""
    if not data:
        raise PaperNotFound("图像为空", "the image is empty")
    array = np.frombuffer(data, dtype=np.uint8)
    # A 48 MP photo took 0.33 s of CPU to decode in full, 0.12 s at half its width and height (the
    # decoder scales the blocks as it decodes them); it is scaled to MAX_SIDE anyway.
    side = _jpeg_side(data)
    flags = (
        cv2.IMREAD_REDUCED_COLOR_4
        if side >= 4 * MAX_SIDE
        else cv2.IMREAD_REDUCED_COLOR_2
        if side >= 2 * MAX_SIDE
        else cv2.IMREAD_COLOR
    )
    image = cv2.imdecode(array, flags)
    if image is None:
        raise PaperNotFound("无法识别的图像格式（请用 JPEG 或 PNG）", "not a JPEG or PNG image")
    darkest = np.minimum(np.minimum(image[..., 0], image[..., 1]), image[..., 2])
    return _limit_size(_gray(darkest))


# The JPEG markers that begin a frame header (SOF0–SOF15 but DHT, JPG and DAC), which holds the
# image's height and width.
_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_side(data: bytes) -> int:
    """The longer side a JPEG's frame header declares, without decoding it (0: not found)."""
    if data[:2] != b"\xff\xd8":
        return 0
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return 0
        marker = data[at + 1]
        if marker == 0xFF:  # a fill byte
            at += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            at += 2
        elif marker in _FRAME_MARKERS:
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return max(height, width)
        else:
            at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return 0


def _limit_size(image: Gray) -> Gray:
    side = max(image.shape[:2])
    if side <= MAX_SIDE:
        return image
    scale = MAX_SIDE / side
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.asarray(resized, dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class QrFound:
    payload: str
    corners: Floats  # 4×2, the symbol's top-left, top-right, bottom-right, bottom-left (as printed)


def find_qr(image: Gray) -> list[QrFound]:
    """Every QR code zxing-cpp finds, trying a sharpened and a rescaled copy when the first pass
    finds none (blur and low resolution are the usual reasons)."""
    attempts: list[tuple[Gray, float]] = [(image, 1.0)]
    blurred = cv2.GaussianBlur(image, (0, 0), 2.0)
    attempts.append((_gray(cv2.addWeighted(image, 2.0, blurred, -1.0, 0)), 1.0))
    if max(image.shape[:2]) < 1800:
        attempts.append((_gray(cv2.resize(image, None, fx=2.0, fy=2.0)), 2.0))
    else:
        attempts.append(
            (_gray(cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)), 0.5)
        )
    for candidate, scale in attempts:
        results = zxingcpp.read_barcodes(
            candidate, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        )
        found = []
        for result in results:
            if not result.valid:
                continue
            position = result.position
            points = [
                position.top_left,
                position.top_right,
                position.bottom_right,
                position.bottom_left,
            ]
            corners = np.array([[p.x, p.y] for p in points], dtype=np.float64) / scale
            found.append(QrFound(result.text, corners))
        if found:
            return found
    raise PaperNotFound("找不到选票上的二维码", "no QR code found on the paper")


def _corners(rect: Rect) -> Floats:
    return np.array(
        [
            [rect.x, rect.y],
            [rect.x + rect.w, rect.y],
            [rect.x + rect.w, rect.y + rect.h],
            [rect.x, rect.y + rect.h],
        ],
        dtype=np.float64,
    )


def project(homography: Floats, points_mm: Floats) -> Floats:
    """Millimetres on the paper → pixels in the image."""
    shaped = points_mm.reshape(-1, 1, 2).astype(np.float64)
    return np.asarray(cv2.perspectiveTransform(shaped, homography), dtype=np.float64).reshape(-1, 2)


def straighten(image: Gray, homography: Floats, rect: Rect, px_per_mm: float) -> Gray:
    """The image under ``rect`` (mm) resampled to ``px_per_mm``, as if scanned flat."""
    width = round(rect.w * px_per_mm)
    height = round(rect.h * px_per_mm)
    # patch pixel → mm → image pixel
    to_mm = np.array(
        [[1 / px_per_mm, 0, rect.x], [0, 1 / px_per_mm, rect.y], [0, 0, 1]], dtype=np.float64
    )
    patch = cv2.warpPerspective(
        image,
        homography @ to_mm,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return _gray(patch)


def darkness(patch: Gray) -> npt.NDArray[np.float32]:
    """0 for the paper's white, towards 1 for ink: the local paper level (a closing wider than a
    stroke) divides out uneven light and shadows. The level is taken from a lightly smoothed
    copy (PAPER_SMOOTH_MM): a closing picks the brightest pixel near each point, and on a noisy
    photo (a camera's sharpening sharpens its noise) that was the noise's peak, not the paper:
    every blank box then looked grey (seed 2's photos sharpened: 7.7% of the marks unsure, 5.4%
    with the smoothed level; unsharpened, the same 4.9%)."""
    values = patch.astype(np.float32)
    size = max(3, int(2.2 * PX_PER_MM) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    smooth = cv2.GaussianBlur(values, (0, 0), PAPER_SMOOTH_MM * PX_PER_MM)
    paper = cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, kernel)
    paper = cv2.GaussianBlur(paper, (0, 0), PX_PER_MM)
    paper = np.maximum(paper, 1.0)
    result: npt.NDArray[np.float32] = np.clip((paper - values) / paper, 0.0, 1.0)
    return result


def outline_template(
    box: Rect, px_per_mm: float, margin_mm: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The box's printed outline, and the mask it is compared under: the box's inside is left
    out, so a voter's heavy mark does not lower how clearly its outline is found."""
    width = round((box.w + 2 * margin_mm) * px_per_mm)
    height = round((box.h + 2 * margin_mm) * px_per_mm)
    template = np.zeros((height, width), dtype=np.float32)
    start = round(margin_mm * px_per_mm)
    right = round((margin_mm + box.w) * px_per_mm)
    bottom = round((margin_mm + box.h) * px_per_mm)
    thickness = max(1, round(OUTLINE_MM * px_per_mm))
    cv2.rectangle(template, (start, start), (right, bottom), 1.0, thickness)
    mask = np.ones((height, width), dtype=np.float32)
    inset = round(INSET_MM * px_per_mm)
    cv2.rectangle(mask, (start + inset, start + inset), (right - inset, bottom - inset), 0.0, -1)
    return template, mask


@dataclass(frozen=True, slots=True)
class BoxFit:
    """Where a box's outline was found: its offset (mm) from the map's prediction, and how
    clearly (normalised correlation of the outline with a drawn square, 1 = perfect); for a box
    that looks wider or taller than printed, its scale along x and y about its centre."""

    dx: float
    dy: float
    score: float
    sx: float = 1.0
    sy: float = 1.0


def fit_box(
    image: Gray,
    homography: Floats,
    box: Rect,
    search_mm: float = SEARCH_MM,
    along_mm: float | None = None,
    *,
    with_inside: bool = True,
) -> BoxFit:
    """Look for the box's printed outline within ``search_mm`` of where the map puts it (across
    its row) and ``along_mm`` along its row (``search_mm`` when not given). The box's inside is
    left out of the match unless ``with_inside``: then the score is also lowered by a heavy mark,
    as the classifier's networks were trained to read it."""
    along = search_mm if along_mm is None else along_mm
    margin = 0.8
    area = Rect(
        box.x - along - margin,
        box.y - search_mm - margin,
        box.w + 2 * (along + margin),
        box.h + 2 * (search_mm + margin),
    )
    patch = darkness(straighten(image, homography, area, PX_PER_MM))
    template, mask = outline_template(box, PX_PER_MM, margin)
    if with_inside:
        mask = np.ones_like(mask)
    scores = cv2.matchTemplate(patch, template, cv2.TM_CCOEFF_NORMED, mask=mask)
    # A flat patch (no outline, no texture) has no defined correlation.
    scores = np.nan_to_num(scores, nan=0.0, posinf=0.0, neginf=0.0)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    return BoxFit(bx / PX_PER_MM - along, by / PX_PER_MM - search_mm, float(best))


@dataclass(frozen=True, slots=True)
class Located:
    """A paper found in an image: its geometry, the map mm → px and each mark box's fit."""

    geometry: PaperGeometry
    homography: Floats
    box_fits: tuple[BoxFit, ...]
    write_in_fits: tuple[BoxFit, ...]
    qr_payload: str

    def box_homography(self, fit: BoxFit, box: Rect) -> Floats:
        """The map with ``box``'s own offset and scale applied (a curled paper moves each box a
        little, and magnifies some)."""
        cx, cy = box.x + box.w / 2, box.y + box.h / 2
        scale = np.array(
            [[fit.sx, 0, cx * (1 - fit.sx)], [0, fit.sy, cy * (1 - fit.sy)], [0, 0, 1]],
            dtype=np.float64,
        )
        result: Floats = self.homography @ _translation(fit.dx, fit.dy) @ scale
        return result


def _qr_maps(geometry: PaperGeometry, qr: QrFound) -> list[Floats]:
    """First maps from the QR symbol's corners alone: the homography, and an affine one (a
    32 mm square says little about perspective: its guess is multiplied over the paper)."""
    maps = []
    homography, _ = cv2.findHomography(_corners(geometry.qr_symbol), qr.corners)
    if homography is not None:
        maps.append(np.asarray(homography, dtype=np.float64))
    affine, _ = cv2.estimateAffine2D(_corners(geometry.qr_symbol), qr.corners)
    if affine is not None:
        maps.append(np.vstack([np.asarray(affine, dtype=np.float64), [0.0, 0.0, 1.0]]))
    if not maps:
        raise PaperNotFound("二维码位置无法确定", "the QR code's corners are degenerate")
    return maps


def _along_reach(geometry: PaperGeometry) -> float:
    """How far along its row a box may be looked for: ``ALONG_MM``, or less than half the gap to
    the nearest other box in the same row."""
    boxes = (*geometry.mark_boxes, *geometry.write_in_boxes)
    reach = ALONG_MM
    for index, box in enumerate(geometry.mark_boxes):
        for other_index, other in enumerate(boxes):
            if other_index == index or other.y >= box.y + box.h or other.y + other.h <= box.y:
                continue
            gap = max(other.x - (box.x + box.w), box.x - (other.x + other.w))
            reach = min(reach, max(SEARCH_MM, gap / 2 - 1.0))
    return reach


def _outward(
    image: Gray,
    geometry: PaperGeometry,
    qr: QrFound,
    homography: Floats,
    limit: int,
    *,
    wide: bool = False,
) -> tuple[list[BoxFit], Floats]:
    """Find up to ``limit`` boxes, nearest the QR code first, refitting the map after each group:
    every search stays within ``SEARCH_MM`` across a row (less than half a row) — ``wide``, it
    reaches ``_along_reach`` along it, with the box's inside left out of the match — so a box is
    never taken for its neighbour, and the map grows out over the paper as it is confirmed."""
    boxes = geometry.mark_boxes
    symbol = geometry.qr_symbol
    centre = (symbol.x + symbol.w / 2, symbol.y + symbol.h / 2)
    order = sorted(
        range(len(boxes)),
        key=lambda i: (boxes[i].x - centre[0]) ** 2 + (boxes[i].y - centre[1]) ** 2,
    )[:limit]
    fits = [BoxFit(0.0, 0.0, 0.0)] * len(boxes)
    along = _along_reach(geometry) if wide else SEARCH_MM
    done = 0
    group = 2
    while done < len(order):
        for index in order[done : done + group]:
            fits[index] = fit_box(
                image, homography, boxes[index], SEARCH_MM, along, with_inside=not wide
            )
        done += group
        group *= 2
        homography = _refit(geometry, homography, fits, qr)
    return fits, homography


def _refit(
    geometry: PaperGeometry, homography: Floats, fits: Sequence[BoxFit], qr: QrFound
) -> Floats:
    """Fit the map again to the QR corners and every box outline found clearly."""
    source: list[Floats] = [_corners(geometry.qr_symbol)]
    target: list[Floats] = [qr.corners]
    for box, fit in zip(geometry.mark_boxes, fits, strict=True):
        if fit.score < 0.35:
            continue
        moved = Rect(box.x + fit.dx, box.y + fit.dy, box.w, box.h)
        source.append(_corners(box))
        target.append(project(homography, _corners(moved)))
    src = np.concatenate(source)
    dst = np.concatenate(target)
    if len(src) < 8:
        return homography
    refined, _ = cv2.findHomography(src, dst, cv2.RANSAC, 3.0)
    if refined is None:
        return homography
    result = np.asarray(refined, dtype=np.float64)
    return result


def _placed(image: Gray, homography: Floats, box: Rect) -> BoxFit:
    """The box's place, its score counting the mark in (as the networks were trained to read
    it). A box whose outline is not found clearly within ``NEAR_MM`` of the fitted map is looked
    for again within ``SEARCH_MM``: on a curled paper one column can bend away from the map that
    fits the others (seed 5's 0059.jpg: its right-hand column 1.5–2 mm off), and so can the
    write-in boxes at the paper's foot."""
    near = fit_box(image, homography, box, NEAR_MM)
    if near.score >= PLACED_FIT:
        return near
    return _looked_further(image, homography, box, near)


def _looked_further(image: Gray, homography: Floats, box: Rect, fit: BoxFit) -> BoxFit:
    """``fit``, or the box's place within ``SEARCH_MM`` where its outline is found more clearly."""
    further = fit_box(image, homography, box, SEARCH_MM)
    return further if further.score > fit.score else fit


def _finished(image: Gray, located: Located) -> Located:
    """The paper's boxes placed for measuring, once its map is chosen: a box found only at the
    near search's edge is looked for further (the best place may lie beyond: seed 19's 0065.jpg,
    a curled paper's far column 1.9 mm off), and a box is tried stretched. Not before the map is
    chosen: placed so, the boxes of a map a row off find other print clearly enough to win (seed
    20's 0184.jpg)."""
    edge = NEAR_MM - 0.5 / PX_PER_MM

    def refined(box: Rect, fit: BoxFit) -> BoxFit:
        if NEAR_MM >= max(abs(fit.dx), abs(fit.dy)) >= edge and fit.score >= PLACED_FIT:
            fit = _looked_further(image, located.homography, box, fit)
        return _stretched(image, located.homography, box, fit)

    geometry = located.geometry
    return dataclasses.replace(
        located,
        box_fits=tuple(map(refined, geometry.mark_boxes, located.box_fits)),
        write_in_fits=tuple(map(refined, geometry.write_in_boxes, located.write_in_fits)),
    )


def _stretched(image: Gray, homography: Floats, box: Rect, fit: BoxFit) -> BoxFit:
    """``fit``, or the box tried wider or narrower, then taller or shorter, where its outline
    fits clearly better so."""
    cx, cy = box.x + box.w / 2, box.y + box.h / 2

    def rect(sx: float, sy: float, dx: float, dy: float) -> Rect:
        return Rect(cx + dx - sx * box.w / 2, cy + dy - sy * box.h / 2, sx * box.w, sy * box.h)

    def outline(sx: float, sy: float, dx: float, dy: float) -> BoxFit:
        found = fit_box(image, homography, rect(sx, sy, dx, dy), 0.75, with_inside=False)
        return BoxFit(dx + found.dx, dy + found.dy, found.score, sx, sy)

    unstretched = best = outline(1.0, 1.0, fit.dx, fit.dy)
    if unstretched.score >= STRETCH_BELOW:
        return fit
    for axis in (0, 1):
        base = best
        for stretch in STRETCHES:
            sx = base.sx * stretch if axis == 0 else base.sx
            sy = base.sy * stretch if axis == 1 else base.sy
            tried = outline(sx, sy, base.dx, base.dy)
            if tried.score > best.score + STRETCH_GAIN:
                best = tried
    if best is unstretched:
        return fit
    # The score the networks read, the mark counted in, where the stretched outline fits.
    placed = fit_box(image, homography, rect(best.sx, best.sy, best.dx, best.dy), 0.0)
    return dataclasses.replace(best, score=placed.score)


def locate(image: Gray, geometries: Sequence[PaperGeometry], qr: QrFound) -> Located:
    """The paper whose QR code is ``qr``: which of ``geometries`` (paper size, one or two per
    page) it was printed with, and where each of its boxes is.

    When its boxes are not found clearly, the search is done again wide (further along the rows,
    a mark not counted against its outline) and the placing whose outlines are found more clearly
    is kept: a curled paper's far column can be beyond the narrow search, and a heavy mark on a
    blurred photo can make a wrong paper size look as likely as the right one. Wide is not the
    first search: where the narrow one finds the paper, the wide one sometimes takes a name's
    strokes for a box. Where the narrow search finds no paper at all (a steep photo whose first
    map, from the small QR code, is off by more than the narrow reach at the nearest boxes), the
    wide one is kept only if it finds the outlines clearly, their insides left out."""
    return _finished(image, _chosen(image, geometries, qr))


def _chosen(image: Gray, geometries: Sequence[PaperGeometry], qr: QrFound) -> Located:
    try:
        located = _locate(image, geometries, qr, wide=False)
    except PaperNotFound as refusal:
        try:
            wider = _locate(image, geometries, qr, wide=True)
        except PaperNotFound:
            raise refusal from None
        if _outlines_found(image, wider) < CLEAR_FIT:
            raise refusal from None
        return wider
    if _clarity(located) >= CLEAR_FIT:
        return located
    try:
        wider = _locate(image, geometries, qr, wide=True)
    except PaperNotFound:
        return located
    # Which placing is the paper: its outlines, not the marks counted against them. A blurred
    # photo of a paper with a ○ in most boxes (seed 45's 0036.jpg) measured 0.347 placed off and
    # 0.346 placed right, its outlines 0.22 and 0.88.
    if _outlines_found(image, wider) > _outlines_found(image, located):
        return wider
    return located


def _clarity(located: Located) -> float:
    return float(np.median([fit.score for fit in located.box_fits]))


def _outlines_found(image: Gray, located: Located) -> float:
    """How clearly the box outlines are where ``located`` puts them, their insides left out (the
    median): what tells a paper found from one that is not. ``_clarity`` counts the marks against
    the outlines: a blurred small photo of a paper marked in every box measured 0.34 placed right
    (seed 18's 0063.jpg, its outlines 0.76) and was refused."""
    scores = [
        fit_box(image, located.box_homography(fit, box), box, 0.5, with_inside=False).score
        for box, fit in zip(located.geometry.mark_boxes, located.box_fits, strict=True)
    ]
    return float(np.median(scores))


def _locate(
    image: Gray, geometries: Sequence[PaperGeometry], qr: QrFound, *, wide: bool
) -> Located:
    # A few boxes nearest the QR code rank the paper sizes: a wrong one finds no outlines where
    # its boxes would be. On a steep or curled photo the first map can be too far off for those
    # few to tell (seed 2's 0114.jpg: its own size 0.38, a wrong one 0.40); its own size then
    # fits clearly once every box is looked for, so where the first is not clear the others are
    # placed too and the clearest is kept.
    # Each first map (the QR code's homography and its affine guess) is ranked alike: the few
    # boxes nearest the QR code can prefer a map that is off at the far column (seed 30's
    # 0017.jpg, an A5 paper at 11 px/mm: the affine map's six boxes 0.5, then every box 0.35).
    ranked: list[tuple[float, PaperGeometry, Floats]] = []
    for geometry in geometries:
        for first in _qr_maps(geometry, qr):
            fits, homography = _outward(image, geometry, qr, first, 6, wide=wide)
            found = [fit.score for fit in fits if fit.score > 0.0]
            score = float(np.median(found)) if found else 0.0
            if score >= 0.3:
                ranked.append((score, geometry, homography))
    if not ranked:
        raise PaperNotFound(
            "找到二维码，但找不到选票的方框（版式或纸张大小不符？）",
            "found the QR code but not the paper's boxes (another layout or paper size?)",
        )
    ranked.sort(key=lambda candidate: candidate[0], reverse=True)
    located: Located | None = None
    refusal: PaperNotFound | None = None
    for _score, geometry, homography in ranked:
        try:
            placed = _placed_paper(image, geometry, qr, homography, wide=wide)
        except PaperNotFound as exc:
            refusal = refusal or exc
            continue
        if located is None or _clarity(placed) > _clarity(located):
            located = placed
        if _clarity(located) >= CLEAR_FIT:
            break
    if located is None:
        assert refusal is not None
        raise refusal
    return located


def _placed_paper(
    image: Gray, geometry: PaperGeometry, qr: QrFound, homography: Floats, *, wide: bool
) -> Located:
    """Every box of ``geometry`` placed, from a map that found the few nearest the QR code."""
    _, homography = _outward(image, geometry, qr, homography, len(geometry.mark_boxes), wide=wide)
    homography = _settled(image, geometry, qr, homography, wide=wide)
    shift = _row_shift(image, geometry, homography)
    if shift:
        # Every box of a column sits on its neighbour's outline: move the map back by one row
        # and look again; a paper that still does not fit its columns is not read.
        homography = _settled(image, geometry, qr, homography @ _translation(0.0, shift), wide=wide)
        if _row_shift(image, geometry, homography):
            raise PaperNotFound(
                "选票的方框与版式对不上（可能错了一行），请手工录入",
                "the paper's boxes do not line up with its layout (a row off?): enter it by hand",
            )
    fits = [_placed(image, homography, box) for box in geometry.mark_boxes]
    write_ins = [_placed(image, homography, box) for box in geometry.write_in_boxes]
    return Located(geometry, homography, tuple(fits), tuple(write_ins), qr.payload)


def _settled(
    image: Gray, geometry: PaperGeometry, qr: QrFound, homography: Floats, *, wide: bool
) -> Floats:
    """The map fitted again, twice, to every box found within 1.5 mm of it."""
    for _ in range(2):
        fits = [
            fit_box(image, homography, box, 1.5, with_inside=not wide)
            for box in geometry.mark_boxes
        ]
        homography = _refit(geometry, homography, fits, qr)
    return homography


def _translation(dx: float, dy: float) -> Floats:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], dtype=np.float64)


def _columns(boxes: Sequence[Rect]) -> list[list[Rect]]:
    """The mark boxes one above the other, top first: a column of the candidates' table."""
    columns: dict[float, list[Rect]] = {}
    for box in boxes:
        columns.setdefault(round(box.x, 1), []).append(box)
    return [sorted(column, key=lambda box: box.y) for column in columns.values()]


def _row_shift(image: Gray, geometry: PaperGeometry, homography: Floats) -> float:
    """0 when the map puts every column on its own boxes; else the shift (mm down the column)
    that moves it back. A map a whole row off reads each mark from its neighbour's box, the
    outlines all found: only the column's ends tell, one of them on an outline printed nowhere
    in the layout, the place one row beyond the other end on a real box. Outlines only (a mark
    inside is no doubt about the place). Looked for within ``SEARCH_MM`` and, since the map is
    fitted to the column's other boxes, also within ``ROW_END_MM`` of where it puts them: there
    other print found further away does not count against a real box."""

    def outline(box: Rect, reach: float) -> float:
        return fit_box(image, homography, box, reach, with_inside=False).score

    for column in _columns(geometry.mark_boxes):
        if len(column) < 2:
            continue
        first, last = column[0], column[-1]
        pitch = column[1].y - first.y
        before = Rect(first.x, first.y - pitch, first.w, first.h)
        after = Rect(last.x, last.y + pitch, last.w, last.h)
        for beyond, end, shift in ((before, last, -pitch), (after, first, pitch)):
            found = outline(beyond, SEARCH_MM)
            if found >= PLACED_FIT and found > outline(end, SEARCH_MM):
                return shift
            near = outline(beyond, ROW_END_MM)
            if near >= ROW_END_FIT and near > outline(end, ROW_END_MM) + ROW_END_GAIN:
                return shift
    return 0.0
