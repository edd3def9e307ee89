"""Marked papers made in the test itself, by the data sets' own synthesis (scripts/reader)."""

import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
from fastapi import FastAPI

from app.papers import service as papers_service
from app.printing.layout import BALLOTS_DIR, load_layout
from app.reader import service as reader_service
from app.reader.read import PaperFor, round_file_reader
from app.settings import Settings
from app.setup import service as setup_service
from tests.builders import Api

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "reader"


def synth() -> ModuleType:
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    import synth as module

    return module


def draw_marks(
    raster: np.ndarray,
    boxes: list[object],
    drawn: list[str],
    *,
    seed: int = 0,
    outside: tuple[int, ...] = (),
    absorbs: tuple[float, float, float] | None = None,
    people: object | None = None,
) -> np.ndarray:
    """``raster`` (a printed paper at synth.RASTER_PX_MM) with ``drawn[i]`` in ``boxes[i]``
    (yes/no/abstain/blank or a hard kind), by a steady dark pen; with ``absorbs`` (the share of
    B, G, R light the ink takes) a coloured pen on a colour image; with ``people``
    (``human_marks.HumanMarks``) the marks people drew."""
    module = synth()
    rng = np.random.default_rng(seed)
    if absorbs is None:
        ink = np.zeros(raster.shape, dtype=np.float32)
        pen = module.Pen(0.5, 0.8)
    else:
        ink = np.zeros((*raster.shape, 3), dtype=np.float32)
        pen = module.Pen(0.5, 0.8, absorbs)
        raster = np.repeat(raster[..., None], 3, axis=2)
    for index, (box, kind) in enumerate(zip(boxes, drawn, strict=True)):
        if kind == "blank":
            continue
        transform = np.array([[0.8, 0.0, 0.1], [0.0, 0.8, 0.1]])
        if index in outside:
            transform[0, 2] += 0.7
        module.draw_strokes(ink, module.mark_strokes(rng, kind, people), box, pen, transform)
    return np.clip(raster.astype(np.float32) * (1.0 - ink), 0, 255).astype(np.uint8)


def write_names(
    image: np.ndarray, boxes: list[object], *, seed: int, pen: object | None = None
) -> np.ndarray:
    """``image`` (grey, at synth.RASTER_PX_MM) with a handwritten name in each write-in box of
    ``boxes`` (synth.write_name), by ``pen`` or else a steady dark one."""
    module = synth()
    rng = np.random.default_rng(seed)
    ink = np.zeros(image.shape, dtype=np.float32)
    for box in boxes:
        module.write_name(rng, ink, box, pen or module.Pen(0.5, 0.8))
    return np.clip(image.astype(np.float32) * (1.0 - ink), 0, 255).astype(np.uint8)


def photo_of_round_paper(
    app: FastAPI,
    settings: Settings,
    api: Api,
    round_id: int,
    tmp_path: Path,
    drawn: list[str],
    *,
    names_in: tuple[int, ...] = (),
    outline_erased: tuple[int, ...] = (),
) -> tuple[bytes, list[str]]:
    """The round's paper as the server prints it (A4, two per page, cut), marked, scanned; with a
    name written in the write-in boxes ``names_in``, and the printed outline of the write-in
    boxes ``outline_erased`` whited out (a box the reader cannot find where it reads it)."""
    module = synth()
    response = api.get(f"/api/rounds/{round_id}/papers.pdf", params={"copies": 1})
    pdf = tmp_path / "papers.pdf"
    pdf.write_bytes(response.content)
    dpi = module.RASTER_PX_MM * 25.4
    subprocess.run(
        ["pdftoppm", "-r", f"{dpi:.1f}", "-gray", "-png", "-singlefile", str(pdf),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    page = cv2.imread(str(tmp_path / "page.png"), cv2.IMREAD_GRAYSCALE)
    with app.state.sessionmaker.begin() as session:
        round_ = papers_service.get_round(session, round_id=round_id)
        election = setup_service.get_election(session, election_id=round_.election_id)
        congress = setup_service.get_congress(session, congress_id=election.congress_id)
        definition = papers_service.round_definition(round_)
        expected = reader_service._expected(
            definition,
            round_.number,
            papers_service.round_payload(round_, data_dir=settings.data_dir),
            election.title,
            congress.name,
        )
    (geometry,) = [g for g in expected.geometries if (g.width, g.height) == (210.0, 148.5)]
    raster = page[: round(geometry.height * module.RASTER_PX_MM)]
    raster = raster.copy()
    px = module.RASTER_PX_MM
    for index in outline_erased:
        box = geometry.write_in_boxes[index]
        top, left = round((box.y - 0.6) * px), round((box.x - 0.6) * px)
        bottom, right = round((box.y + box.h + 0.6) * px), round((box.x + box.w + 0.6) * px)
        edge = round(1.2 * px)  # the outline's band, 0.6 mm either side of the line
        inside = (slice(top + edge, bottom - edge), slice(left + edge, right - edge))
        kept = raster[inside].copy()
        raster[top:bottom, left:right] = 255
        raster[inside] = kept
    image = draw_marks(raster, list(geometry.mark_boxes), drawn, seed=11)
    image = write_names(image, [geometry.write_in_boxes[i] for i in names_in], seed=12)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return bytes(data.tobytes()), list(definition.candidates)


def paper_reader(printed: Any) -> PaperFor:
    """The reader's view of a synth.Printed paper: its round file and its layout."""
    layout = load_layout(BALLOTS_DIR / f"{printed.case.layout}.json")
    return round_file_reader(printed.round_data, layout=layout)


def scan(image: np.ndarray, *, dpi: int = 200, angle: float = 1.5) -> bytes:
    module = synth()
    scale = dpi / 25.4 / module.RASTER_PX_MM
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    out = (round(width * scale * 1.05), round(height * scale * 1.05))
    matrix[:, 2] += [(out[0] - width) / 2, (out[1] - height) / 2]  # the page centred
    scanned = cv2.warpAffine(image, matrix, out, flags=cv2.INTER_AREA, borderValue=(250, 250, 250))
    ok, data = cv2.imencode(".png", scanned)
    assert ok
    return bytes(data.tobytes())


def shot(image: np.ndarray, *, seed: int, camera: str = "tablet", **paper: bool) -> Any:
    """``synth.photograph``'s shot of ``image`` (``paper``: folded, sharpened)."""
    # The sensor noise comes from OpenCV's own generator: seeded here, a photo is the same
    # whichever tests ran before it in the process.
    cv2.setRNGSeed(seed)
    return synth().photograph(np.random.default_rng(seed), image, camera, **paper)


def photo(image: np.ndarray, *, seed: int, camera: str = "tablet") -> bytes:
    return bytes(shot(image, seed=seed, camera=camera).data)
