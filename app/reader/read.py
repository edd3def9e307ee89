"""Read one paper: image bytes and the round's expected paper in, a proposal for the teller out.

The expected paper is composed by the same code that printed it (``app.printing.ballot``), for
every paper size and papers-per-page the layout can be printed with; the image decides which.
"""

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.errors import AppError
from app.papers.qr import parse_payload
from app.papers.roundpapers import compose_round_file
from app.printing.ballot import BallotPaper, PaperGeometry, paper_geometries
from app.printing.layout import PAPER_SIZES, Layout, PaperSize
from app.reader.classify import OUTLINE_FIT, MarkReading, classify
from app.reader.locate import Gray, Located, PaperNotFound, decode_image, find_qr, locate
from app.reader.measure import BoxInk, measure_box

ALL_VARIANTS: tuple[tuple[PaperSize, int], ...] = tuple(
    (size, per_page) for size in PAPER_SIZES for per_page in (1, 2)
)
WRITE_IN_MM2 = 4.0  # ink in a write-in box that counts as a name written
# … or this much trace of anything, the printed outline's blur taken away: on a small photo a
# name's strokes stay under the ink level (seed 20's low-camera 0000.jpg, 3.1 px/mm: written
# boxes 0.3–1.6 mm² of ink, 30–61 mm² of trace; empty boxes whose outline is found up to 16).
WRITE_IN_TRACE_MM2 = 20.0
# A reading is sure a fifth away from that level and no nearer (seeds 19 and 20, outlines found:
# empty boxes at most 15.6 mm² of trace, written ones at least 30.3).
WRITE_IN_SURE_TRACE_MM2 = 1.2 * WRITE_IN_TRACE_MM2
WRITE_IN_EMPTY_TRACE_MM2 = 0.8 * WRITE_IN_TRACE_MM2
# More than this share of a paper's box outlines not found where its map puts them: no mark of
# the paper is sure. A curled paper's column bending away leaves up to a third (seed 5's 0059.jpg:
# 4 of 12); a map twisted by a first map 8 mm out mostly more (on seeds 2/3/5 this holds back 44
# of the 53 sure misreads the row check leaves there).
UNFOUND_SHARE = 1 / 3
PLACE_DOUBT = "the paper's boxes not found where its map puts them"


@dataclass(frozen=True, slots=True)
class ExpectedPaper:
    """A round's paper as printed: its QR payload, candidates and every possible geometry."""

    qr_payload: str
    candidates: tuple[str, ...]  # ballot order, the names a paper record uses
    geometries: tuple[PaperGeometry, ...]


def expected_paper(
    paper: BallotPaper,
    candidates: Sequence[str],
    *,
    variants: Sequence[tuple[PaperSize, int]] = ALL_VARIANTS,
    font: str | None = None,
) -> ExpectedPaper:
    geometries = paper_geometries(paper, variants, font=font)
    return ExpectedPaper(paper.qr_payload, tuple(candidates), geometries)


PaperFor = Callable[[str], ExpectedPaper]


def round_file_reader(data: object, *, layout: Layout) -> PaperFor:
    """``paper_for`` for the paper ``jipiao ballot-paper`` prints from a ROUND.json.

    Without the installation's key the payload's MAC cannot be checked here: the election, round
    and definition hash it names must be the file's (the printed ``qr`` lets the caller check the
    rest). The paper is composed with the payload read, since its length sets the QR block's size.
    """
    composed = compose_round_file(data, key=bytes(32), layout=layout)
    expected_body = parse_payload(composed.payload)
    assert expected_body is not None
    cache: dict[str, ExpectedPaper] = {}

    def paper_for(payload: str) -> ExpectedPaper:
        found = parse_payload(payload)
        if found is None or found.body != expected_body.body:
            raise WrongPaper(payload)
        if payload not in cache:
            paper = dataclasses.replace(composed.paper, qr_payload=payload)
            cache[payload] = expected_paper(paper, composed.candidates, font=layout.font)
        return cache[payload]

    return paper_for


@dataclass(frozen=True, slots=True)
class PaperReading:
    qr: str
    marks: dict[str, MarkReading]
    write_ins_filled: tuple[bool, ...]
    # Whether each write-in box's reading leaves no doubt: where it does not, the teller is sent
    # to look at the paper's write-in boxes (a name read as an empty box would go unentered).
    write_ins_sure: tuple[bool, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "qr": self.qr,
            "marks": {
                name: {"mark": reading.mark, "sure": reading.sure}
                for name, reading in self.marks.items()
            },
            "write_ins_filled": list(self.write_ins_filled),
            "write_ins_sure": list(self.write_ins_sure),
        }


class WrongPaper(PaperNotFound):
    """The QR code names another round (or is not ours): the marks are not read."""

    def __init__(self, payload: str) -> None:
        super().__init__(
            f"二维码 {payload} 不是这个轮次的选票",
            f"the QR code {payload} is not this round's paper",
        )
        self.payload = payload


def read_located(image: Gray, located: Located, candidates: Sequence[str]) -> PaperReading:
    geometry = located.geometry
    inks = [
        measure_box(image, located.box_homography(fit, box), geometry, box, fit.score)
        for box, fit in zip(geometry.mark_boxes, located.box_fits, strict=True)
    ]
    marks = {name: classify(ink) for name, ink in zip(candidates, inks, strict=True)}
    unfound = sum(ink.outline_fit < OUTLINE_FIT for ink in inks)
    map_in_doubt = unfound > UNFOUND_SHARE * len(inks)
    if map_in_doubt:
        # The map itself is in doubt: the boxes whose outlines it did find may be other
        # candidates' boxes (a map twisted or a row off), so none of them is sure.
        marks = {
            name: reading if not reading.sure else MarkReading(reading.mark, False, PLACE_DOUBT)
            for name, reading in marks.items()
        }
    filled, sure = [], []
    for box, fit in zip(geometry.write_in_boxes, located.write_in_fits, strict=True):
        ink = measure_box(image, located.box_homography(fit, box), geometry, box, fit.score)
        written = ink.inside >= WRITE_IN_MM2 or ink.clear_trace >= WRITE_IN_TRACE_MM2
        filled.append(written)
        sure.append(write_in_sure(ink, written=written) and not map_in_doubt)
    return PaperReading(located.qr_payload, marks, tuple(filled), tuple(sure))


def write_in_sure(ink: BoxInk, *, written: bool) -> bool:
    """A write-in box's reading leaves no doubt: its printed outline is where it was read, and
    what it holds is well away from the level that tells written from empty."""
    if ink.outline_fit < OUTLINE_FIT:
        return False  # placed on other print, or on blank paper: either reading can be wrong
    if written:
        return ink.clear_trace >= WRITE_IN_SURE_TRACE_MM2
    return ink.clear_trace < WRITE_IN_EMPTY_TRACE_MM2


def locate_paper(image: Gray, paper_for: PaperFor) -> tuple[Located, ExpectedPaper]:
    """Find this round's paper in ``image``.

    ``paper_for(payload)`` gives the paper a QR code's payload names, or raises when it is not a
    paper of the round being counted (another round's paper beside it is left alone). Two papers
    of this round in the picture are refused: every paper of a round carries the same code, and
    the one read might not be the one the teller is entering.
    """
    refusal: PaperNotFound | AppError | None = None
    ours = []
    for code in find_qr(image):
        try:
            ours.append((code, paper_for(code.payload)))
        except (PaperNotFound, AppError) as exc:  # raised again if no code is this round's
            refusal = refusal or exc
    if len(ours) > 1:
        raise PaperNotFound(
            f"照片中有 {len(ours)} 张本轮的选票，请每次只拍一张",
            f"{len(ours)} papers of this round are in the photo: photograph one at a time",
        )
    if not ours:
        assert refusal is not None
        raise refusal
    code, expected = ours[0]
    return locate(image, expected.geometries, code), expected


def read_paper(data: bytes, paper_for: PaperFor) -> PaperReading:
    """Read the marks of one paper from an encoded image (JPEG/PNG bytes, never stored)."""
    image = decode_image(data)
    located, expected = locate_paper(image, paper_for)
    return read_located(image, located, expected.candidates)
