"""Checking a rendered PDF as a person would: rasterize it, scan it, read its text and fonts."""

import subprocess
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image

from app.papers.roundpapers import RenderedPapers, render_round_file
from app.printing.layout import Layout, PaperSize, load_layout
from app.printing.logincards import COLUMNS, ROWS

KEY = bytes(range(32))
SEED_CANDIDATES = ["张伟", "王宁", "李娜", "欧阳晓东", "刘洋"]
SEED_ORDER = ["王宁", "刘洋", "李娜", "张伟", "欧阳晓东"]  # by surname strokes: 4, 6, 7, 7, 8


def round_file(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "信息工程学院第五届学生会主席团成员选举",
        "election": 7,
        "round": 1,
        "seats": 3,
        "candidates": SEED_CANDIDATES,
        "delegates_total": 189,
        "present": 180,
    }
    data.update(changes)
    return data


def render(
    tmp_path: Path,
    data: dict[str, Any] | None = None,
    *,
    layout: Layout | None = None,
    copies: int = 2,
    paper_size: PaperSize | None = None,
    per_page: int | None = None,
    name: str = "papers.pdf",
) -> tuple[RenderedPapers, Path]:
    rendered = render_round_file(
        round_file() if data is None else data,
        key=KEY,
        layout=layout or load_layout(),
        copies=copies,
        paper_size=paper_size,
        per_page=per_page,
    )
    path = tmp_path / name
    path.write_bytes(rendered.pdf)
    return rendered, path


def rasterize(pdf: Path, *, page: int = 1, dpi: int = 100) -> Image.Image:
    prefix = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile",
         str(pdf), str(prefix)],
        check=True,
    )  # fmt: skip
    with Image.open(prefix.with_suffix(".png")) as image:
        return image.convert("RGB")


def scan(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def scan_cards(pdf: Path, *, page: int, dpi: int = 150) -> list[str]:
    """The login cards of one page, each read on its own as a phone's camera looks at one card
    (zxing reading eight codes of a whole page at once sometimes misses one), in printed order;
    an empty place on the last page reads nothing."""
    image = rasterize(pdf, page=page, dpi=dpi)
    width, height = image.width / COLUMNS, image.height / ROWS
    found = []
    for row in range(ROWS):
        for column in range(COLUMNS):
            box = (column * width, row * height, (column + 1) * width, (row + 1) * height)
            found += scan(image.crop(tuple(round(x) for x in box)))
    return found


def text(pdf: Path, *, page: int = 1) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def fonts(pdf: Path) -> list[list[str]]:
    """``pdffonts`` rows below the header, split on whitespace."""
    output = subprocess.run(
        ["pdffonts", str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    return [line.split() for line in output.splitlines()[2:] if line.strip()]


def pages(pdf: Path) -> int:
    output = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    for line in output.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError("pdfinfo printed no page count")


def reading_order(page_text: str, names: list[str]) -> list[str]:
    """The names in the order a reader meets them (line by line, left to right), first paper."""
    found: dict[str, tuple[int, int]] = {}
    for line_number, line in enumerate(page_text.splitlines()):
        for name in names:
            column = line.find(name)
            if column >= 0 and name not in found:
                found[name] = (line_number, column)
    missing = [name for name in names if name not in found]
    assert not missing, f"not printed: {missing}"
    return sorted(names, key=lambda name: found[name])
