"""The login-card sheet as a person checks it: cards eight to a page, each QR code readable from
the raster, long names and congress titles kept off the QR code."""

from pathlib import Path

from app.printing.fonts import find_cjk_fonts
from app.printing.logincards import LoginCard, render_login_cards
from tests.printing.helpers import pages, scan_cards, text

LONG_NAME = "阿卜杜热合曼·买买提艾力·吐尔逊阿依古丽·穆罕默德"


def card(name: str, n: int, congress: str = "信息工程学院第五次学生代表大会") -> LoginCard:
    code = f"AAAA-BBBB-{n:04d}"
    return LoginCard(
        name=name,
        role_zh="计票人",
        congress=congress,
        code=code,
        login_url=f"http://192.168.1.20:8000/login?code={code}",
        site="http://192.168.1.20:8000/",
        valid_days=7,
    )


def test_eight_cards_a_page_and_every_code_readable(tmp_path: Path) -> None:
    cards = [card(LONG_NAME if n == 3 else f"计票员{n}", n, "大会" * 60) for n in range(9)]
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes(render_login_cards(cards, find_cjk_fonts()))
    assert pages(pdf) == 2
    found = scan_cards(pdf, page=1, dpi=120) + scan_cards(pdf, page=2, dpi=120)
    assert found == [c.login_url for c in cards]  # one code a card, in printed order
    printed = "".join(text(pdf, page=1).split())
    assert LONG_NAME in printed  # on two lines, both printed
    assert "…" in printed  # the congress title shortened, not shrunk to nothing
