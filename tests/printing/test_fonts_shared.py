"""A face parsed once per process (app/printing/fonts.py ``_parsed_face``): a document made with it
is byte for byte the one fpdf2 makes parsing the face itself, and documents made one after
another, or open at once and made in two threads, each embed their own glyphs only. On Noto CJK
(CFF outlines: fpdf2 embeds the CFF table alone) and on a small TrueType face made here (fpdf2
embeds the whole subset font, its cmap and metrics too)."""

import io
import re
import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from fontTools.fontBuilder import FontBuilder  # type: ignore[import-untyped]
from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
from fpdf.fonts import TTFFont

from app.printing import fonts
from app.printing.fonts import FontFace, cjk_pdf, close_fonts, find_cjk_fonts

WHEN = datetime(2026, 12, 6, tzinfo=UTC)  # fpdf2 writes the creation time into the file
Text = tuple[str, str, int]


@dataclass(frozen=True)
class Case:
    faces: tuple[FontFace, FontFace]
    # A line in the regular face on the first page, one in the bold on the last. The documents
    # differ in their pages so that their font objects get different numbers. A Noto CJK
    # document costs about 0.4 s of CPU (fontTools subsets both faces): two of them.
    texts: tuple[Text, Text]


def truetype_face(path: Path) -> FontFace:
    """A TrueType face of a few letters, each a different shape."""
    letters = "ABCD"
    order = [".notdef", "space", *letters]
    glyphs = {}
    for n, name in enumerate(order):
        pen = TTGlyphPen(None)
        if name != "space":
            pen.moveTo((50, 0))
            pen.lineTo((50, 200 + 150 * n))
            pen.lineTo((100 + 100 * n, 700))
            pen.lineTo((550, 0))
            pen.closePath()
        glyphs[name] = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap({32: "space", **{ord(c): c for c in letters}})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (600 + 10 * n, 50) for n, name in enumerate(order)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Probe", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    builder.setupPost()
    builder.save(str(path))
    return FontFace(path)


class Document:
    """One of a case's texts, drawn in two steps so that two of them can be open at once."""

    def __init__(
        self, faces: tuple[FontFace, FontFace], regular: str, bold: str, pages: int
    ) -> None:
        self.pdf = cjk_pdf((148.0, 210.0), "test", faces)
        self.pdf.set_creation_date(WHEN)
        self.pdf.add_page()
        self.regular, self.bold, self.pages = regular, bold, pages

    def draw(self) -> None:
        self.pdf.set_font("cjk", "", 14)
        self.pdf.text(10, 20, self.regular)
        for _ in range(1, self.pages):
            self.pdf.add_page()
        self.pdf.set_font("cjk", "B", 14)
        self.pdf.text(10, 40, self.bold)

    def output(self) -> bytes:
        try:
            return bytes(self.pdf.output())
        finally:
            close_fonts(self.pdf)


def document(faces: tuple[FontFace, FontFace], regular: str, bold: str, pages: int) -> bytes:
    made = Document(faces, regular, bold, pages)
    made.draw()
    return made.output()


@pytest.fixture(scope="module", params=["noto-cjk", "truetype"])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Case:
    if request.param == "noto-cjk":
        return Case(
            find_cjk_fonts(), (("信息工程学院", "王宁刘洋", 1), ("欧阳晓东", "主席团选举", 3))
        )
    face = truetype_face(tmp_path_factory.mktemp("font") / "probe.ttf")
    return Case((face, face), (("ABBA", "CAD", 1), ("DAD", "BC", 3)))


@pytest.fixture(scope="module")
def unshared(case: Case) -> dict[Text, bytes]:
    """Each text made as fpdf2 makes it by itself, parsing the faces for the document."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fonts, "_parsed_face", lambda *_: None)
        return {texts: document(case.faces, *texts) for texts in case.texts}


def unicode_map(pdf: bytes) -> list[set[str]]:
    """Per embedded font, the printable characters of its ToUnicode map but the space (fpdf2
    always maps .notdef and the space): the glyphs of its subset."""
    found: dict[tuple[int, int], set[str]] = {}
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        for page in opened.pages:
            for font in page.Resources.get("/Font", {}).values():  # a page may have no text
                cmap = font.ToUnicode.read_bytes().decode("latin-1")
                codes = re.findall(r"<[0-9A-F]+> <([0-9A-F]+)>", cmap)
                chars = {chr(int(code, 16)) for code in codes}
                found[font.objgen] = {c for c in chars if c.isprintable() and c != " "}
    return list(found.values())


def test_every_slot_of_fpdf2s_font_is_either_shared_or_each_documents_own() -> None:
    assert not fonts.SHARED_SLOTS & fonts.OWN_SLOTS
    unknown = set(TTFFont.__slots__) - (fonts.SHARED_SLOTS | fonts.OWN_SLOTS)
    assert not unknown, f"fpdf2's TTFFont has new slots: shared or each document's own? {unknown}"
    assert set(TTFFont.__slots__) == fonts.SHARED_SLOTS | fonts.OWN_SLOTS


def test_an_fpdf2_font_with_other_slots_is_parsed_for_each_document(
    case: Case, unshared: dict[Text, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another fpdf2 (pyproject pins 2.8) is not second-guessed: nothing is shared."""
    monkeypatch.setattr(fonts, "OWN_SLOTS", fonts.OWN_SLOTS - {"subset"})
    assert fonts._parsed_face(case.faces[0], "") is None
    texts = case.texts[0]
    assert document(case.faces, *texts) == unshared[texts]


def test_the_face_is_parsed_once_and_documents_are_as_fpdf2_makes_them(
    case: Case, unshared: dict[Text, bytes], tmp_path: Path
) -> None:
    regular, bold = case.faces
    shared = fonts._parsed_face(regular, "")
    assert shared is not None
    assert fonts._parsed_face(regular, "") is shared
    assert fonts._parsed_face(bold, "B") is not shared
    made = [document(case.faces, *texts) for texts in case.texts]
    assert made == [unshared[texts] for texts in case.texts]
    for (regular_text, bold_text, _), pdf in zip(case.texts, made, strict=True):
        path = tmp_path / "made.pdf"
        path.write_bytes(pdf)
        read = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
        assert read.stdout.decode().split() == [regular_text, bold_text]
        assert sorted(map(sorted, unicode_map(pdf))) == sorted(
            [sorted(set(regular_text)), sorted(set(bold_text))]
        )


def test_two_documents_open_at_once_made_in_two_threads_keep_their_own_glyphs(
    case: Case, unshared: dict[Text, bytes]
) -> None:
    """The service renders papers in a thread pool: both documents are open before either is
    drawn, then each is drawn and written out in its own thread, at the same time."""
    opened = [Document(case.faces, *texts) for texts in case.texts]
    start = threading.Barrier(len(opened))
    made: dict[int, bytes] = {}

    def make(worker: int) -> None:
        start.wait()
        opened[worker].draw()
        made[worker] = opened[worker].output()

    threads = [threading.Thread(target=make, args=(worker,)) for worker in range(len(opened))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == {worker: unshared[texts] for worker, texts in enumerate(case.texts)}
