"""The printable ballot paper (RULES.md B1–B4; seed 六.4, 六.6): compose it, lay it out, render it.

Every paper of a round is identical (no per-paper number, B3): one page is drawn once with fpdf2
and then repeated by reference with pikepdf — each page of the output points at the same content
stream and font — so thousands of papers take well under a second and add a few hundred bytes per
page.

A paper, from the top: the title band in the layout's colour (B4) with the congress and election;
the heading, the round and seats, the symbol legend and the marking instructions (六.6) beside the
round's QR code (error correction H, ≥ 30 mm, quiet zone kept clear); the candidates in ballot
order, row by row, each name with its mark box to the right (B2) and a namesake's second field
beside the name (STROKE_ORDER.md); then ``seats`` 另选他人 boxes — none on a tie-round paper (M7).
Sizes are physical: names at least 5 mm (em), mark boxes at least 8 mm. When the candidates do not
fit the chosen paper at those sizes, ``PaperOverflowError`` says so instead of shrinking further.
"""

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pikepdf
import segno
from fpdf import FPDF

from app.printing.fonts import FontFace, cjk_pdf, close_fonts, find_cjk_fonts
from app.printing.layout import PAGE_MM, Layout, LayoutError, PaperSize
from app.rules.model import RoundDefinition

MM_PER_PT = 25.4 / 72
MARGIN = 7.0
QUIET_MODULES = 4
MIN_NAME_EM = 5.0
MIN_BOX = 8.0
# (row pitch, mark box, name em) from the most comfortable to the smallest allowed.
ROW_SIZES = ((12.0, 10.0, 6.2), (11.0, 9.5, 5.8), (10.0, 8.5, 5.4), (9.0, 8.0, 5.0))
INSTRUCTION_EMS = (3.1, 2.8)
COLUMN_GUTTER = 8.0
WRITE_IN_BOX = (38.0, 11.0)
BLACK = (0, 0, 0)
GREY = (110, 110, 110)
WHITE = (255, 255, 255)
_ANNOTATION = re.compile(r"\s*[（(]([^（）()]*)[）)]\s*$")
_NO_LINE_START = set("，。、；：？！）》」』”’,.;:?!)")
_ZH_DIGITS = "零一二三四五六七八九"


class PaperOverflowError(ValueError):
    """The paper's content does not fit the chosen paper size at the minimum physical sizes."""


@dataclass(frozen=True, slots=True)
class BallotPaper:
    """Everything printed on one paper of a round (identical for every paper)."""

    logo_text: str
    title: str
    heading: str
    round_label: str
    seats_line: str
    symbols_line: str
    candidates: tuple[tuple[str, str], ...]  # (name, second field or "") in ballot order
    write_in_boxes: int  # seats on a paper with 另选他人 boxes; 0 on a tie round (M7)
    instructions: tuple[str, ...]
    tie_round_note: str
    qr_payload: str
    qr_size_mm: float
    band_colour: tuple[int, int, int]
    band_mark: str
    candidates_header: str
    mark_header: str
    write_in_label: str
    write_in_header: str


def split_candidate(candidate: str) -> tuple[str, str]:
    """``"王宁（二团）"`` → ``("王宁", "二团")``: the name and the field telling namesakes apart."""
    match = _ANNOTATION.search(candidate)
    if match is None:
        return candidate.strip(), ""
    return candidate[: match.start()].strip(), match.group(1).strip()


def chinese_number(value: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十; other numbers in digits."""
    if 1 <= value <= 9:
        return _ZH_DIGITS[value]
    if 10 <= value <= 99:
        tens, ones = divmod(value, 10)
        head = "" if tens == 1 else _ZH_DIGITS[tens]
        return head + "十" + (_ZH_DIGITS[ones] if ones else "")
    return str(value)


def _fill(template: str, where: str, **values: object) -> str:
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        raise LayoutError(
            f"{where}: bad placeholder in {template!r} ({exc}); known: {', '.join(values)}"
        ) from None


def compose_paper(
    definition: RoundDefinition,
    layout: Layout,
    *,
    round_number: int,
    qr_payload: str,
    title: str | None = None,
    logo_text: str | None = None,
) -> BallotPaper:
    """The paper of a round: the definition's candidates and seats in the layout's wording.

    ``title``/``logo_text`` override the layout's (the round file's ``title``/``congress``).
    """
    values = {
        "round": round_number,
        "round_zh": chinese_number(round_number),
        "seats": definition.seats,
        "seats_zh": chinese_number(definition.seats),
        "candidates": len(definition.candidates),
    }
    src = layout.source
    write_ins = definition.has_write_ins
    instructions = tuple(
        _fill(item.text, f"{src}: instructions", **values)
        for item in layout.instructions
        if (item.write_ins is None or item.write_ins == write_ins)
        and (
            item.over_selection_voids is None
            or item.over_selection_voids == definition.profile.over_selection_voids
        )
    )
    return BallotPaper(
        logo_text=layout.logo_text if logo_text is None else logo_text,
        title=layout.title if title is None else title,
        heading=layout.heading,
        round_label=_fill(layout.round_labels[definition.kind], f"{src}: round_labels", **values),
        seats_line=_fill(layout.seats_line, f"{src}: seats_line", **values),
        symbols_line=layout.symbols_line,
        candidates=tuple(split_candidate(name) for name in definition.candidates),
        write_in_boxes=definition.seats if write_ins else 0,
        instructions=instructions,
        tie_round_note=layout.tie_round_note,
        qr_payload=qr_payload,
        qr_size_mm=layout.qr_size_mm,
        band_colour=layout.band_colour,
        band_mark=layout.band_mark,
        candidates_header=layout.candidates_header,
        mark_header=layout.mark_header,
        write_in_label=layout.write_in_label,
        write_in_header=layout.write_in_header,
    )


@dataclass(frozen=True, slots=True)
class _Fit:
    pitch: float
    box: float
    name_em: float
    instruction_em: float
    columns: int
    name_width: float
    band_height: float
    title_em: float
    header_height: float
    instruction_lines: tuple[tuple[str, ...], ...]
    write_in_columns: int


class Canvas:
    """fpdf2 with the measurements a printed page needs, in millimetres (the ballot paper's and
    the login-card sheet's)."""

    def __init__(
        self, page_mm: tuple[float, float], title: str, fonts: tuple[FontFace, FontFace]
    ) -> None:
        self.pdf = cjk_pdf(page_mm, title, fonts)

    def close(self) -> None:
        close_fonts(self.pdf)

    def font(self, em: float, *, bold: bool = False) -> None:
        self.pdf.set_font("cjk", "B" if bold else "", em / MM_PER_PT)

    def width(self, text: str, em: float, *, bold: bool = False) -> float:
        self.font(em, bold=bold)
        return float(self.pdf.get_string_width(text))

    def text(
        self,
        x: float,
        baseline: float,
        text: str,
        em: float,
        *,
        bold: bool = False,
        colour: tuple[int, int, int] = BLACK,
    ) -> None:
        self.font(em, bold=bold)
        self.pdf.set_text_color(*colour)
        self.pdf.text(x, baseline, text)

    def wrap(self, text: str, em: float, width: float, *, bold: bool = False) -> tuple[str, ...]:
        """Break Chinese text (or an address, which has no spaces) at any character, never
        starting a line with closing punctuation."""
        self.font(em, bold=bold)
        lines: list[str] = []
        line = ""
        for char in text:
            if line and self.pdf.get_string_width(line + char) > width:
                if char in _NO_LINE_START and len(line) > 1:
                    lines.append(line[:-1])
                    line = line[-1]
                else:
                    lines.append(line)
                    line = ""
            line += char
        if line:
            lines.append(line)
        return tuple(lines)


def _baseline(top: float, height: float, em: float) -> float:
    """The baseline that centres a CJK line of size ``em`` in the band [top, top + height]."""
    return top + height / 2 + 0.36 * em


def _qr_block(paper: BallotPaper) -> tuple[segno.QRCode, float, float]:
    qr = segno.make_qr(paper.qr_payload, error="h", boost_error=False)
    modules = qr.symbol_size(border=0)[0]
    module = paper.qr_size_mm / modules
    return qr, module, paper.qr_size_mm + 2 * QUIET_MODULES * module


QR_CAPTION_EM = 2.4
QR_CAPTION = ("计票扫码 · 每张选票相同", "无编号 · 不含个人信息")


def _fit_title(canvas: Canvas, paper: BallotPaper, inner_w: float) -> tuple[float, float]:
    """(title size, band height): the congress line, then the election title shrunk (never below
    4 mm) to one line."""
    mark_w = canvas.width(paper.band_mark, 8.0, bold=True) + 4 if paper.band_mark else 0.0
    title_room = inner_w - 4 - mark_w
    title_em = 6.5
    while title_em > 4.0 and canvas.width(paper.title, title_em, bold=True) > title_room:
        title_em -= 0.25
    if canvas.width(paper.title, title_em, bold=True) > title_room:
        raise PaperOverflowError(f"title too long for the paper: {paper.title!r}")
    return title_em, 3.0 + title_em * 1.3 + (3.0 * 1.5 if paper.logo_text else 0.0)


def _fit_write_ins(
    canvas: Canvas, paper: BallotPaper, name_em: float, inner_w: float
) -> tuple[int, float]:
    """(boxes per row, height) of the 另选他人 boxes at this name size; none on a tie round."""
    if not paper.write_in_boxes:
        return 0, 8.0
    label_w = canvas.width(paper.write_in_label, name_em, bold=True) + 4
    boxes_per_row = max(1, int((inner_w - label_w + 4) // (WRITE_IN_BOX[0] + 4)))
    rows = -(-paper.write_in_boxes // boxes_per_row)
    return boxes_per_row, 6.0 + rows * (WRITE_IN_BOX[1] + 3)


def _fit(canvas: Canvas, paper: BallotPaper, width: float, height: float) -> _Fit:
    inner_w = width - 2 * MARGIN
    inner_h = height - 2 * MARGIN
    title_em, band_height = _fit_title(canvas, paper, inner_w)
    _, _, qr_block = _qr_block(paper)
    qr_total = qr_block + len(QR_CAPTION) * QR_CAPTION_EM * 1.4
    text_w = inner_w - qr_block - 2
    name_gap = 1.0
    tried: list[str] = []
    for pitch, box, name_em in ROW_SIZES:
        widths = [
            canvas.width(name, name_em, bold=True)
            + (name_gap + canvas.width(note, name_em * 0.6) if note else 0.0)
            for name, note in paper.candidates
        ]
        name_width = max(
            [*widths, canvas.width(paper.candidates_header, 3.4), canvas.width("王" * 4, name_em)]
        )
        column_w = 2 + name_width + 3 + box
        for instruction_em in INSTRUCTION_EMS:
            lines = tuple(
                canvas.wrap(f"{number}. {line}", instruction_em, text_w)
                for number, line in enumerate(paper.instructions, start=1)
            )
            text_h = 9.0 + 6.0 + 5.5 + sum(len(item) for item in lines) * instruction_em * 1.45
            header_height = max(text_h, qr_total) + 3
            boxes_per_row, write_in_h = _fit_write_ins(canvas, paper, name_em, inner_w)
            for columns in range(1, len(paper.candidates) + 1):
                if columns * column_w + (columns - 1) * COLUMN_GUTTER > inner_w:
                    break
                rows_needed = -(-len(paper.candidates) // columns)
                table_h = 7.0 + rows_needed * pitch + 3
                total = band_height + 3 + header_height + table_h + write_in_h
                if total <= inner_h:
                    return _Fit(
                        pitch,
                        box,
                        name_em,
                        instruction_em,
                        columns,
                        name_width,
                        band_height,
                        title_em,
                        header_height,
                        lines,
                        boxes_per_row,
                    )
                tried.append(f"{columns}×{rows_needed}")
    raise PaperOverflowError(
        f"{len(paper.candidates)} candidates and {paper.write_in_boxes} write-in boxes do not fit "
        f"a {width:.0f}×{height:.0f} mm paper at names ≥ {MIN_NAME_EM:g} mm and boxes ≥ "
        f"{MIN_BOX:g} mm; use a larger paper size or one paper per page "
        f"/ 选票内容放不下：请改用更大的纸张或每页一张"
    )


def draw_qr_block(
    pdf: FPDF, qr: segno.QRCode, x: float, y: float, module: float, block: float
) -> None:
    """The QR code in a white ``block`` (its quiet zone of ``QUIET_MODULES``) at (x, y)."""
    pdf.set_fill_color(*WHITE)
    pdf.rect(x, y, block, block, style="F")
    pdf.set_fill_color(*BLACK)
    origin_x = x + QUIET_MODULES * module
    origin_y = y + QUIET_MODULES * module
    # One rectangle per horizontal run of dark modules, grown by a hair so that rasterizers draw
    # no seams between neighbouring runs.
    seam = 0.02
    for row_index, row in enumerate(qr.matrix_iter(border=0)):
        start: int | None = None
        for col_index, dark in enumerate([*row, 0]):
            if dark and start is None:
                start = col_index
            elif not dark and start is not None:
                pdf.rect(
                    origin_x + start * module,
                    origin_y + row_index * module,
                    (col_index - start) * module + seam,
                    module + seam,
                    style="F",
                )
                start = None


def _draw_qr(canvas: Canvas, paper: BallotPaper, x: float, y: float) -> float:
    """Draw the QR code with its quiet zone at (x, y); return the block's height."""
    qr, module, block = _qr_block(paper)
    draw_qr_block(canvas.pdf, qr, x, y, module, block)
    caption_y = y + block
    for line in QR_CAPTION:
        caption_y += QR_CAPTION_EM * 1.4
        w = canvas.width(line, QR_CAPTION_EM)
        canvas.text(x + (block - w) / 2, caption_y - 0.6, line, QR_CAPTION_EM, colour=GREY)
    return caption_y - y


@dataclass(frozen=True, slots=True)
class Rect:
    """A rectangle on the page in millimetres, (x, y) its top-left corner."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class PaperGeometry:
    """Where everything of one paper is printed, in millimetres from the page's top-left corner.

    Computed once: the printer draws from it and the reader (``app.reader``) looks for it, so the
    two cannot disagree about where a mark box is.
    """

    left: float
    top: float
    width: float
    height: float
    band: Rect
    qr_block: Rect  # the QR code with its quiet zone (white)
    qr_module: float
    header_top: float
    table_top: float  # the candidates' table: its column headings; a rule 1.5 mm above
    table_x: float
    column_w: float
    rows_top: float
    mark_boxes: tuple[Rect, ...]  # in ballot order
    name_x: tuple[float, ...]  # where each candidate's name starts, in ballot order
    row_rules: tuple[tuple[float, float, float], ...]  # (x0, x1, y) under each candidate's name
    write_in_rule_y: float
    write_in_top: float
    write_in_label_w: float
    write_in_boxes: tuple[Rect, ...]

    @property
    def qr_symbol(self) -> Rect:
        """The QR symbol itself (finder pattern to finder pattern), without the quiet zone."""
        quiet = QUIET_MODULES * self.qr_module
        block = self.qr_block
        return Rect(block.x + quiet, block.y + quiet, block.w - 2 * quiet, block.h - 2 * quiet)


def _candidate_places(
    paper: BallotPaper, fit: _Fit, table_x: float, column_w: float, rows_top: float
) -> tuple[list[Rect], list[float], list[tuple[float, float, float]]]:
    """Each candidate's mark box, where its name starts, and the rule under it (ballot order)."""
    boxes: list[Rect] = []
    name_x: list[float] = []
    row_rules: list[tuple[float, float, float]] = []
    for index in range(len(paper.candidates)):
        row, column = divmod(index, fit.columns)
        cx = table_x + column * (column_w + COLUMN_GUTTER)
        row_top = rows_top + row * fit.pitch
        box_x = cx + 2 + fit.name_width + 3
        name_x.append(cx + 2)
        row_rules.append((cx, box_x - 1, row_top + fit.pitch))
        boxes.append(Rect(box_x, row_top + (fit.pitch - fit.box) / 2, fit.box, fit.box))
    return boxes, name_x, row_rules


def _write_in_places(
    canvas: Canvas, paper: BallotPaper, fit: _Fit, x0: float, top: float
) -> tuple[float, list[Rect]]:
    """(the label's width, the 另选他人 boxes) from ``top``."""
    label_w = canvas.width(paper.write_in_label, fit.name_em, bold=True) + 4
    box_w, box_h = WRITE_IN_BOX
    boxes = []
    for index in range(paper.write_in_boxes):
        row, column = divmod(index, fit.write_in_columns)
        boxes.append(
            Rect(x0 + label_w + column * (box_w + 4), top + row * (box_h + 3), box_w, box_h)
        )
    return label_w, boxes


def _geometry(
    canvas: Canvas,
    paper: BallotPaper,
    fit: _Fit,
    left: float,
    top: float,
    width: float,
    height: float,
) -> PaperGeometry:
    x0 = left + MARGIN
    inner_w = width - 2 * MARGIN
    y = top + MARGIN
    band = Rect(x0, y, inner_w, fit.band_height)
    y += fit.band_height + 3
    header_top = y
    _, module, qr_block = _qr_block(paper)
    block = Rect(x0 + inner_w - qr_block, y, qr_block, qr_block)
    y += fit.header_height
    table_top = y
    column_w = 2 + fit.name_width + 3 + fit.box
    table_w = fit.columns * column_w + (fit.columns - 1) * COLUMN_GUTTER
    table_x = x0 + (inner_w - table_w) / 2
    y += 7.0
    rows_top = y
    boxes, name_x, row_rules = _candidate_places(paper, fit, table_x, column_w, rows_top)
    rows = -(-len(paper.candidates) // fit.columns)
    y += rows * fit.pitch + 3
    write_in_rule_y = y
    label_w, write_ins = 0.0, list[Rect]()
    if paper.write_in_boxes:
        y += 6.0
        label_w, write_ins = _write_in_places(canvas, paper, fit, x0, y)
    return PaperGeometry(
        left=left,
        top=top,
        width=width,
        height=height,
        band=band,
        qr_block=block,
        qr_module=module,
        header_top=header_top,
        table_top=table_top,
        table_x=table_x,
        column_w=column_w,
        rows_top=rows_top,
        mark_boxes=tuple(boxes),
        name_x=tuple(name_x),
        row_rules=tuple(row_rules),
        write_in_rule_y=write_in_rule_y,
        write_in_top=y,
        write_in_label_w=label_w,
        write_in_boxes=tuple(write_ins),
    )


def _draw_paper(canvas: Canvas, paper: BallotPaper, fit: _Fit, geometry: PaperGeometry) -> None:
    _draw_band(canvas, paper, fit, geometry)
    _draw_header(canvas, paper, fit, geometry)
    _draw_candidates(canvas, paper, fit, geometry)
    _draw_write_ins(canvas, paper, fit, geometry)


def _draw_band(canvas: Canvas, paper: BallotPaper, fit: _Fit, geometry: PaperGeometry) -> None:
    """Title band (B4): the layout's colour, white text."""
    band = geometry.band
    canvas.pdf.set_fill_color(*paper.band_colour)
    canvas.pdf.rect(band.x, band.y, band.w, band.h, style="F")
    line_y = band.y + 1.5
    if paper.logo_text:
        canvas.text(band.x + 2, line_y + 3.0 * 1.05, paper.logo_text, 3.0, colour=WHITE)
        line_y += 3.0 * 1.5
    canvas.text(
        band.x + 2, line_y + fit.title_em * 0.95, paper.title, fit.title_em, bold=True, colour=WHITE
    )
    if paper.band_mark:
        mark_w = canvas.width(paper.band_mark, 8.0, bold=True)
        canvas.text(
            band.x + band.w - 2 - mark_w,
            _baseline(band.y, fit.band_height, 8.0),
            paper.band_mark,
            8.0,
            bold=True,
            colour=WHITE,
        )


def _draw_header(canvas: Canvas, paper: BallotPaper, fit: _Fit, geometry: PaperGeometry) -> None:
    """Header: heading, round, seats, legend and instructions on the left; the QR code on the
    right."""
    x0 = geometry.band.x
    _draw_qr(canvas, paper, geometry.qr_block.x, geometry.qr_block.y)
    text_y = geometry.header_top
    canvas.text(x0, text_y + 7.0 * 0.92, paper.heading, 7.0, bold=True)
    heading_w = canvas.width(paper.heading, 7.0, bold=True)
    canvas.text(x0 + heading_w + 5, text_y + 7.0 * 0.92, paper.round_label, 4.4, bold=True)
    text_y += 9.0
    canvas.text(x0, text_y + 3.8 * 0.92, paper.seats_line, 3.8)
    text_y += 6.0
    canvas.text(x0, text_y + 3.8 * 0.92, paper.symbols_line, 3.8, bold=True)
    text_y += 5.5
    em = fit.instruction_em
    for item in fit.instruction_lines:
        for index, line in enumerate(item):
            indent = 0.0 if index == 0 else canvas.width("1. ", em)
            canvas.text(x0 + indent, text_y + em * 0.95, line, em)
            text_y += em * 1.45


def _draw_candidates(
    canvas: Canvas, paper: BallotPaper, fit: _Fit, geometry: PaperGeometry
) -> None:
    """Candidates (B1, B2): ballot order row by row, the mark box right of each name."""
    pdf = canvas.pdf
    x0, inner_w, y = geometry.band.x, geometry.band.w, geometry.table_top
    pdf.set_draw_color(*BLACK)
    pdf.set_line_width(0.2)
    pdf.line(x0, y - 1.5, x0 + inner_w, y - 1.5)
    for column in range(min(fit.columns, len(paper.candidates))):
        cx = geometry.table_x + column * (geometry.column_w + COLUMN_GUTTER)
        canvas.text(cx + 2, y + 4.5, paper.candidates_header, 3.4, colour=GREY)
        header_w = canvas.width(paper.mark_header, 3.4)
        box_x = cx + 2 + fit.name_width + 3
        canvas.text(box_x + (fit.box - header_w) / 2, y + 4.5, paper.mark_header, 3.4, colour=GREY)
    rule_colour = (170, 170, 170)
    for index, (name, note) in enumerate(paper.candidates):
        row = index // fit.columns
        row_top = geometry.rows_top + row * fit.pitch
        name_x = geometry.name_x[index]
        baseline = _baseline(row_top, fit.pitch, fit.name_em)
        canvas.text(name_x, baseline, name, fit.name_em, bold=True)
        if note:
            name_w = canvas.width(name, fit.name_em, bold=True)
            canvas.text(name_x + name_w + 1.0, baseline, note, fit.name_em * 0.6, colour=GREY)
        rule_x0, rule_x1, rule_y = geometry.row_rules[index]
        pdf.set_draw_color(*rule_colour)
        pdf.set_line_width(0.15)
        pdf.line(rule_x0, rule_y, rule_x1, rule_y)
        pdf.set_draw_color(*BLACK)
        pdf.set_line_width(0.35)
        box = geometry.mark_boxes[index]
        pdf.rect(box.x, box.y, box.w, box.h, style="D")


def _draw_write_ins(canvas: Canvas, paper: BallotPaper, fit: _Fit, geometry: PaperGeometry) -> None:
    """另选他人 (B2): `seats` boxes; none on a tie round (M7)."""
    pdf = canvas.pdf
    x0, inner_w, y = geometry.band.x, geometry.band.w, geometry.write_in_rule_y
    pdf.set_draw_color(*BLACK)
    pdf.set_line_width(0.2)
    pdf.line(x0, y, x0 + inner_w, y)
    if not paper.write_in_boxes:
        canvas.text(x0, y + 5.5, paper.tie_round_note, 3.2, colour=GREY)
        return
    canvas.text(x0, y + 4.3, paper.write_in_header, 3.2, colour=GREY)
    _, box_h = WRITE_IN_BOX
    pdf.set_line_width(0.35)
    for index, box in enumerate(geometry.write_in_boxes):
        if index % fit.write_in_columns == 0:
            canvas.text(
                x0,
                _baseline(box.y, box_h, fit.name_em),
                paper.write_in_label,
                fit.name_em,
                bold=True,
            )
        pdf.rect(box.x, box.y, box.w, box.h, style="D")


def _draw_page(
    canvas: Canvas,
    paper: BallotPaper,
    fit: _Fit,
    paper_size: PaperSize,
    per_page: int,
    papers: int,
) -> None:
    """One page: ``papers`` papers in ``per_page`` slots, a dashed cut line between slots."""
    page_w, page_h = PAGE_MM[paper_size]
    slot_h = page_h / per_page
    canvas.pdf.add_page()
    for slot in range(papers):
        geometry = _geometry(canvas, paper, fit, 0.0, slot * slot_h, page_w, slot_h)
        _draw_paper(canvas, paper, fit, geometry)
    if per_page == 2:
        pdf = canvas.pdf
        pdf.set_draw_color(*GREY)
        pdf.set_line_width(0.2)
        pdf.set_dash_pattern(dash=2, gap=2)
        pdf.line(4, slot_h, page_w - 4, slot_h)
        pdf.set_dash_pattern()


def render_papers(
    paper: BallotPaper,
    *,
    copies: int,
    paper_size: PaperSize,
    per_page: int,
    font: str | None = None,
) -> bytes:
    """A PDF of ``copies`` identical papers, ``per_page`` (1 or 2) on each page.

    With two per page the paper is half the page (an A4 page gives two A5-sized papers, cut along
    the dashed line); an odd number of copies ends with a page holding one paper.
    """
    if copies < 1:
        raise ValueError("copies: must be at least 1")
    if per_page not in (1, 2):
        raise ValueError("per_page: must be 1 or 2")
    canvas = Canvas(PAGE_MM[paper_size], "jipiao ballot-paper", find_cjk_fonts(font))
    try:
        canvas.pdf.set_title(paper.title)
        page_w, page_h = PAGE_MM[paper_size]
        fit = _fit(canvas, paper, page_w, page_h / per_page)
        full_pages, rest = divmod(copies, per_page)
        if full_pages:
            _draw_page(canvas, paper, fit, paper_size, per_page, per_page)
        if rest:
            _draw_page(canvas, paper, fit, paper_size, per_page, rest)
        drawn = io.BytesIO(bytes(canvas.pdf.output()))
    finally:
        canvas.close()
    with pikepdf.open(drawn) as document:
        for _ in range(full_pages - 1):
            document.pages.insert(1, document.pages[0])
        out = io.BytesIO()
        document.save(
            out,
            compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            deterministic_id=True,
        )
    return out.getvalue()


def paper_geometries(
    paper: BallotPaper,
    variants: Sequence[tuple[PaperSize, int]],
    *,
    font: str | None = None,
) -> tuple[PaperGeometry, ...]:
    """Where ``render_papers`` prints everything of ``paper`` for each (paper size, papers per
    page) that fits, relative to the paper's own top-left corner (a paper cut from a two-per-page
    sheet starts at its slot's top). One canvas for all: loading the CJK font is the slow part."""
    canvas = Canvas(PAGE_MM["A4"], "jipiao ballot-paper", find_cjk_fonts(font))
    found: list[PaperGeometry] = []
    try:
        for paper_size, per_page in variants:
            if per_page not in (1, 2):
                raise ValueError("per_page: must be 1 or 2")
            page_w, page_h = PAGE_MM[paper_size]
            try:
                fit = _fit(canvas, paper, page_w, page_h / per_page)
            except PaperOverflowError:
                continue
            found.append(_geometry(canvas, paper, fit, 0.0, 0.0, page_w, page_h / per_page))
    finally:
        canvas.close()
    return tuple(found)
