"""The printed ballot paper, checked as a person would (issue "Ballot papers", items 3 and 5):
rasterize with pdftoppm, scan the QR code with zxing-cpp and verify it, read the text with
pdftotext -layout, check the fonts with pdffonts."""

import json
from pathlib import Path

import pikepdf
import pytest

from app.papers import qr
from app.printing.ballot import PaperOverflowError, split_candidate
from app.printing.layout import BALLOTS_DIR, PaperSize, load_layout
from tests.printing.helpers import (
    KEY,
    SEED_ORDER,
    fonts,
    pages,
    rasterize,
    reading_order,
    render,
    round_file,
    scan,
    text,
)

# 30 distinct names of 1 to 4 characters (common characters with stroke data).
THIRTY = [
    *("丁", "王宁", "方小红", "孔国强", "石建华", "叶晓东", "白文", "朱海燕", "刘志明", "许丽"),
    *("孙", "杜一", "李小红", "杨国强", "吴建华", "何晓东", "汪文", "宋海燕", "张志明", "陆丽"),
    *(
        "陈",
        "林一",
        "罗小红",
        "周国强",
        "郑建华",
        "欧阳晓东",
        "司马相如",
        "胡海燕",
        "钟志明",
        "黄丽",
    ),
]


def thirty_names() -> list[str]:
    assert len(set(THIRTY)) == 30
    return list(THIRTY)


def test_a_scanned_paper_verifies_as_this_round(tmp_path: Path) -> None:
    rendered, pdf = render(tmp_path)
    image = rasterize(pdf)
    codes = scan(image)
    assert codes == [rendered.payload, rendered.payload]  # two papers on the A4 page
    verdict = qr.verify_payload(
        codes[0], key=KEY, election_id=7, round_number=1, definition_hash=rendered.frozen.hash
    )
    assert verdict == qr.ThisRound()
    # The same scan at the counting of round 2 of the election is told apart.
    assert qr.verify_payload(
        codes[0], key=KEY, election_id=7, round_number=2, definition_hash=rendered.frozen.hash
    ) == qr.OtherRound(1)


def test_qr_code_is_level_h_and_at_least_30_mm(tmp_path: Path) -> None:
    import zxingcpp

    _, pdf = render(tmp_path, per_page=1, copies=1)
    dpi = 100
    results = zxingcpp.read_barcodes(rasterize(pdf, dpi=dpi))
    assert len(results) == 1
    assert results[0].ec_level == "H"
    position = results[0].position
    width_px = abs(position.top_right.x - position.top_left.x)
    assert width_px / dpi * 25.4 >= 29.5  # corner to corner of the finder patterns' outer edge


def test_candidates_in_stroke_order_with_a_box_each(tmp_path: Path) -> None:
    _, pdf = render(tmp_path, per_page=1, copies=1)
    page = text(pdf)
    assert reading_order(page, SEED_ORDER) == SEED_ORDER
    for word in ["另选他人", "选票", "第一轮投票", "应选 3 名", "赞成 ✓", "不赞成 ×", "弃权 △"]:
        assert word in page, word
    flat = page.replace(" ", "").replace("\n", "")
    assert "蓝色或黑色墨水" in flat
    assert "不得委托他人代为投票" in flat
    assert "另选他人数应少于或等于投不赞成票的人数" in flat


def test_every_font_is_embedded(tmp_path: Path) -> None:
    _, pdf = render(tmp_path)
    rows = fonts(pdf)
    assert rows
    for row in rows:
        # name, type…, encoding, emb, sub, uni, object id, generation: "emb" is 5th from the end.
        assert row[-5] == "yes", row
        assert "NotoSansCJK" in row[0]


def test_no_per_paper_number_every_page_is_the_same_drawing(tmp_path: Path) -> None:
    rendered, pdf = render(tmp_path, copies=7)
    assert pages(pdf) == 4  # 2 per page, the last page holds one paper
    with pikepdf.open(pdf) as document:
        streams = {page.obj.Contents.objgen for page in document.pages}
    assert len(streams) == 2  # the full page, repeated by reference, and the half page
    assert text(pdf, page=1) == text(pdf, page=3)
    assert text(pdf, page=4).count("选票") * 2 == text(pdf, page=1).count("选票")
    assert scan(rasterize(pdf, page=4)) == [rendered.payload]


def test_tie_round_paper_has_no_write_in_boxes(tmp_path: Path) -> None:
    data = round_file(round_kind="tie", round=2, seats=1, candidates=["李娜", "张伟"])
    _, pdf = render(tmp_path, data, per_page=1, copies=1)
    page = text(pdf)
    assert "另选他人：" not in page
    assert "不设“另选他人”栏" in page.replace(" ", "")
    assert "另选他人数应少于" not in page.replace(" ", "").replace("\n", "")
    assert "重新投票（票数相等）" in page


def write_in_boxes(pdf: Path) -> int:
    """The 38 × 11 mm rectangles drawn on the first page (the 另选他人 boxes)."""
    points = 72 / 25.4
    with pikepdf.open(pdf) as document:
        operations = pikepdf.parse_content_stream(document.pages[0])
    count = 0
    for instruction in operations:
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            continue
        operands, operator = instruction.operands, instruction.operator
        if (
            str(operator) == "re"
            and abs(abs(float(operands[2])) - 38 * points) < 0.5
            and abs(abs(float(operands[3])) - 11 * points) < 0.5
        ):
            count += 1
    return count


@pytest.mark.parametrize("seats", [1, 3, 7])
def test_write_in_boxes_equal_seats(tmp_path: Path, seats: int) -> None:
    names = [*thirty_names()[:8]]
    _, pdf = render(tmp_path, round_file(seats=seats, candidates=names), per_page=1, copies=1)
    assert write_in_boxes(pdf) == seats


def test_tie_round_draws_no_write_in_box(tmp_path: Path) -> None:
    data = round_file(round_kind="tie", seats=1, candidates=["李娜", "张伟"])
    _, pdf = render(tmp_path, data, per_page=1, copies=1)
    assert write_in_boxes(pdf) == 0


@pytest.mark.parametrize(
    ("paper_size", "per_page", "seats", "count"),
    [("A4", 1, 15, 30), ("A4", 1, 3, 30), ("A5", 1, 3, 20), ("A4", 2, 3, 12)],
)
def test_up_to_thirty_candidates_lay_out_without_overflow(
    tmp_path: Path, paper_size: PaperSize, per_page: int, seats: int, count: int
) -> None:
    names = thirty_names()[:count]
    data = round_file(candidates=names, seats=seats)
    rendered, pdf = render(
        tmp_path,
        data,
        paper_size=paper_size,
        per_page=per_page,
        copies=per_page,
    )
    order = [str(name) for name in rendered.frozen.document["candidates"]]  # type: ignore[union-attr]
    assert reading_order(text(pdf), order) == order
    assert scan(rasterize(pdf)) == [rendered.payload] * per_page


def test_single_character_and_four_character_names(tmp_path: Path) -> None:
    data = round_file(candidates=["丁", "欧阳晓东", "司马相如", "王"], seats=2)
    rendered, pdf = render(tmp_path, data, paper_size="A5", per_page=1, copies=1)
    order = [str(name) for name in rendered.frozen.document["candidates"]]  # type: ignore[union-attr]
    assert order[:2] == ["丁", "王"]
    assert reading_order(text(pdf), order) == order


def test_namesakes_are_told_apart_by_a_second_field(tmp_path: Path) -> None:
    data = round_file(candidates=["王宁（计算机一团）", "王宁（软件二团）", "李娜", "张伟"])
    _, pdf = render(tmp_path, data, per_page=1, copies=1)
    page = text(pdf)
    assert "王宁 计算机一团" in page
    assert "王宁 软件二团" in page
    assert split_candidate("王宁（计算机一团）") == ("王宁", "计算机一团")
    assert split_candidate("艾力更·依明巴海") == ("艾力更·依明巴海", "")


def test_too_many_for_a_small_paper_is_a_clear_error(tmp_path: Path) -> None:
    data = round_file(candidates=thirty_names(), seats=3)
    with pytest.raises(PaperOverflowError, match="do not fit"):
        render(tmp_path, data, paper_size="A4", per_page=2)


def test_different_elections_get_visibly_different_papers(tmp_path: Path) -> None:
    red, red_pdf = render(tmp_path, name="red.pdf", per_page=1, copies=1)
    blue_layout = load_layout(BALLOTS_DIR / "blue.json")
    blue, blue_pdf = render(
        tmp_path,
        round_file(election=8, title="信息工程学院学生会委员选举"),
        layout=blue_layout,
        name="blue.pdf",
        per_page=1,
        copies=1,
    )
    dpi = 50
    band = (int(20 / 25.4 * dpi), int(12 / 25.4 * dpi))  # 20 mm in, 12 mm down: inside the band
    red_pixel = rasterize(red_pdf, dpi=dpi).getpixel(band)
    blue_pixel = rasterize(blue_pdf, dpi=dpi).getpixel(band)
    assert isinstance(red_pixel, tuple)
    assert isinstance(blue_pixel, tuple)
    assert red_pixel[0] > 150 > red_pixel[2]
    assert blue_pixel[2] > 120 > blue_pixel[0]
    assert "乙" in text(blue_pdf)  # the band mark, visible on a black-and-white printer too
    assert red.payload != blue.payload


def test_layout_files_are_checked(tmp_path: Path) -> None:
    from app.printing.layout import LayoutError

    seed = json.loads((BALLOTS_DIR / "seed.json").read_text(encoding="utf-8"))
    changes: list[tuple[dict[str, object], str]] = [
        ({"band_colour": "red"}, "band_colour"),
        ({"qr_size_mm": 20}, "qr_size_mm"),
        ({"paper_size": "A3"}, "paper_size"),
        ({"per_page": 3}, "per_page"),
        ({"colour": "#000000"}, "unknown key"),
        ({"instructions": []}, "instructions"),
        ({"seats_line": "应选 {seat} 名"}, "placeholder"),
    ]
    for change, message in changes:
        path = tmp_path / "layout.json"
        merged = {**seed, **change}
        path.write_text(json.dumps(merged, ensure_ascii=False), encoding="utf-8")
        with pytest.raises(LayoutError, match=message):
            render(tmp_path, layout=load_layout(path))
