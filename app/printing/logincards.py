"""The officials' login cards (issue 18 item 2): one card per official, eight to an A4 page.

A card carries the official's name and role, the congress, the one-time login code in large
letters and its login QR code (``auth.login_url``: a tablet's or phone's camera opens the login
page with the code filled in). Dashed lines between the cards and around them are where the sheet
is cut. The font is the papers' embedded CJK font (``fonts.find_cjk_fonts``); without one the
caller gets 503 ``font_missing`` — the router looks the font up BEFORE issuing any code, so a
missing font never leaves officials with new codes nobody can print.
"""

from dataclasses import dataclass

import segno
from fpdf import FPDF

from app.printing.ballot import QUIET_MODULES, Canvas, draw_qr_block
from app.printing.fonts import FontFace, close_fonts

PAGE_W, PAGE_H = 210.0, 297.0
COLUMNS, ROWS = 2, 4
CARD_W, CARD_H = PAGE_W / COLUMNS, PAGE_H / ROWS
PAD = 6.0
BAND_H = 8.0
QR_BLOCK = 36.0  # mm, quiet zone included: ~1 mm modules for a 60-character address
RED = (183, 28, 28)
BLACK = (0, 0, 0)
GREY = (95, 99, 104)
CUT = (150, 150, 150)
WHITE = (255, 255, 255)


@dataclass(frozen=True, slots=True)
class LoginCard:
    name: str
    role_zh: str
    congress: str
    code: str
    login_url: str  # what the QR code encodes
    site: str  # where to type the code instead: the console's front door
    valid_days: int


class _Sheet(Canvas):
    def __init__(self, fonts: tuple[FontFace, FontFace]) -> None:
        super().__init__((PAGE_W, PAGE_H), "jipiao login-cards", fonts)

    def fitted(
        self, text: str, em: float, width: float, *, bold: bool = False, floor: float = 0.5
    ) -> float:
        """The largest size ≤ ``em`` (down to ``floor`` × em) at which ``text`` fits ``width``."""
        size = em
        while size > em * floor and self.width(text, size, bold=bold) > width:
            size *= 0.92
        return size


def _cut_lines(pdf: FPDF) -> None:
    pdf.set_draw_color(*CUT)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=2)
    for column in range(COLUMNS + 1):
        x = min(max(column * CARD_W, 0.3), PAGE_W - 0.3)
        pdf.line(x, 0, x, PAGE_H)
    for row in range(ROWS + 1):
        y = min(max(row * CARD_H, 0.3), PAGE_H - 0.3)
        pdf.line(0, y, PAGE_W, y)
    pdf.set_dash_pattern()


def _card(sheet: _Sheet, card: LoginCard, left: float, top: float) -> None:
    pdf = sheet.pdf
    x0, y0 = left + PAD, top + PAD
    inner_w = CARD_W - 2 * PAD

    # Band: what the card is, and for which congress.
    pdf.set_fill_color(*RED)
    pdf.rect(x0, y0, inner_w, BAND_H, style="F")
    title = "工作人员登录卡"
    sheet.text(x0 + 2, y0 + BAND_H / 2 + 1.3, title, 3.6, bold=True, colour=WHITE)
    room = inner_w - 6 - sheet.width(title, 3.6, bold=True)
    em = sheet.fitted(card.congress, 2.8, room, floor=0.85)  # then shortened, never tiny
    congress = card.congress
    while len(congress) > 1 and sheet.width(congress, em) > room:
        congress = congress[:-2] + "…"
    sheet.text(
        x0 + inner_w - 2 - sheet.width(congress, em),
        y0 + BAND_H / 2 + 1.0,
        congress,
        em,
        colour=WHITE,
    )

    # The QR code on the right, the person and the code on the left.
    body_top = y0 + BAND_H + 2.5
    qr = segno.make_qr(card.login_url, error="m")
    modules = qr.symbol_size(border=0)[0]
    module = QR_BLOCK / (modules + 2 * QUIET_MODULES)
    qr_x = x0 + inner_w - QR_BLOCK
    draw_qr_block(pdf, qr, qr_x, body_top, module, QR_BLOCK)
    text_w = qr_x - x0 - 3

    # A long name (a transliteration) gets smaller, then a second line: never under the QR code.
    name_em = sheet.fitted(card.name, 7.0, text_w, bold=True)
    lines = sheet.wrap(card.name, name_em, text_w, bold=True)
    y = body_top + name_em
    for line in lines[:2]:
        sheet.text(x0, y, line, name_em, bold=True)
        y += name_em * 1.15
    y += 6.5 - name_em * 1.15
    sheet.text(x0, y, card.role_zh, sheet.fitted(card.role_zh, 4.6, text_w), bold=True, colour=RED)
    y += 8.0
    sheet.text(x0, y, "一次性登录码", 2.8, colour=GREY)
    y += 6.2
    sheet.text(x0, y, card.code, sheet.fitted(card.code, 5.0, text_w, bold=True), bold=True)

    # Below both: how to use it.
    y = body_top + QR_BLOCK + 3.4
    sheet.text(x0, y, "用相机扫描二维码即可登录；或打开下面的地址，输入登录码。", 2.6)
    for line in sheet.wrap(card.site, 2.6, inner_w)[:2]:
        y += 3.6
        sheet.text(x0, y, line, 2.6, colour=GREY)
    y += 3.6
    sheet.text(
        x0,
        y,
        f"仅限本人使用；使用一次即失效，{card.valid_days} 天内有效；重新签发后本卡作废。",
        2.6,
        colour=GREY,
    )


def render_login_cards(cards: list[LoginCard], fonts: tuple[FontFace, FontFace]) -> bytes:
    """A PDF of the cards, ``COLUMNS × ROWS`` to an A4 page, in the given order."""
    if not cards:
        raise ValueError("cards: at least one")
    sheet = _Sheet(fonts)
    try:
        sheet.pdf.set_title("工作人员登录卡")
        per_page = COLUMNS * ROWS
        for index, card in enumerate(cards):
            slot = index % per_page
            if slot == 0:
                sheet.pdf.add_page()
                _cut_lines(sheet.pdf)
            row, column = divmod(slot, COLUMNS)
            _card(sheet, card, column * CARD_W, row * CARD_H)
        return bytes(sheet.pdf.output())
    finally:
        close_fonts(sheet.pdf)
