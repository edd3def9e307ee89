"""The result report (选举结果报告单, RULES.md C4) checked as a person would: rasterize it with
pdftoppm and scan the head-hash QR code with zxing-cpp, read it with pdftotext -layout, and check
with pdffonts that every font is embedded."""

import dataclasses
import re
from pathlib import Path

import pytest

from app.printing.layout import LayoutError
from app.results.report import (
    Officials,
    ReportInput,
    ResultReport,
    compose_report,
)
from app.results.report_pdf import (
    DEFAULT_REPORT_LAYOUT,
    ReportLayout,
    load_report_layout,
    render_report,
)
from tests.printing.helpers import fonts, pages, rasterize, reading_order, scan, text
from tests.results.helpers import DATE, HEAD_HASH, counted, paper, round_file


def report_input(data: dict[str, object] | None = None, **changes: object) -> ReportInput:
    _, record = counted(round_file() if data is None else data)
    base = ReportInput(
        congress="南京航空航天大学金城学院信息工程学院第五次学生代表大会",
        election_title="信息工程学院第五届学生会主席团成员选举",
        round_number=record.number,
        round_kind=record.kind,
        date=DATE,
        printed=200,
        result=record.result,
        head_hash=HEAD_HASH,
        public_key_fingerprint="ed25519:3f9a 71c2 0b4e 88d1 5a6c 2e90 d7b3 4f18",
        officials=Officials(chief_scrutineer="周明", scrutineers=("吴芳", "郑华")),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def write(tmp_path: Path, report: ResultReport, layout: ReportLayout | None = None) -> Path:
    path = tmp_path / "report.pdf"
    path.write_bytes(render_report(report, layout or load_report_layout()))
    return path


def compose(inp: ReportInput) -> ResultReport:
    return compose_report(inp, load_report_layout().signature_counts)


def figure(page: str, label: str) -> tuple[int, str]:
    """The number and the capital numeral printed on the line of ``label``."""
    for line in page.splitlines():
        if line.strip().startswith(label):
            match = re.search(r"\s(\d+)\s+([零壹贰叁肆伍陆柒捌玖拾佰仟万]+)", line)
            assert match, line
            return int(match.group(1)), match.group(2)
    raise AssertionError(f"no line {label!r} in\n{page}")


def test_figures_in_digits_and_capital_numerals(tmp_path: Path) -> None:
    pdf = write(tmp_path, compose(report_input()))
    page = text(pdf)
    assert figure(page, "应到人数") == (189, "壹佰捌拾玖")
    assert figure(page, "实到人数") == (180, "壹佰捌拾")
    assert figure(page, "印制选票") == (200, "贰佰")
    assert figure(page, "发出选票") == (180, "壹佰捌拾")
    assert figure(page, "剩余选票") == (20, "贰拾")
    assert figure(page, "收回选票") == (180, "壹佰捌拾")
    assert figure(page, "有效票") == (170, "壹佰柒拾")
    assert figure(page, "无效票") == (10, "壹拾")
    assert figure(page, "其中 P2") == (3, "叁")
    assert figure(page, "其中 P3") == (2, "贰")
    assert figure(page, "其中 P4") == (5, "伍")
    assert figure(page, "当选最低票数") == (91, "玖拾壹")
    for heading in ("选举结果报告单", "信息工程学院第五届学生会主席团成员选举", "第一轮投票"):
        assert heading in page
    assert "2026年5月1日" in page


def test_persons_by_yes_votes_with_write_ins_and_result(tmp_path: Path) -> None:
    pdf = write(tmp_path, compose(report_input()))
    page = text(pdf)
    order = ["王宁", "李娜", "赵六", "张伟", "孙八", "钱七", "刘洋", "欧阳晓东"]
    table = page[page.index("二、得票情况") : page.index("三、选举结果")]
    assert reading_order(table, order) == order  # M11: by yes votes, ties in stroke order
    wang = next(line for line in table.splitlines() if "王宁" in line)
    assert re.search(r"王宁\s+130 壹佰叁拾\s+40 肆拾\s+0 零\s+当选", wang)
    zhao = next(line for line in table.splitlines() if "赵六" in line)
    assert "另选他人" in zhao
    assert "90 玖拾" in zhao
    result = page[page.index("三、选举结果") :]
    assert "王宁、李娜" in result
    assert "须另行选举：应选 1 名，候选人 张伟、赵六" in result


def test_signature_lines_for_the_officials(tmp_path: Path) -> None:
    pdf = write(tmp_path, compose(report_input()))
    page = text(pdf)
    signing = page[page.index("四、签名") :]
    assert signing.count("总监票人：") == 1
    assert signing.count("监票人：") == 1 + 2  # 总监票人 contains 监票人
    assert signing.count("计票人：") == 1 + 5  # 总计票人 and five 计票人 (seed 七)
    assert "周明" in signing
    assert "吴芳" in signing
    assert "郑华" in signing


def test_head_hash_qr_code_scans_from_the_raster(tmp_path: Path) -> None:
    pdf = write(tmp_path, compose(report_input()))
    assert pages(pdf) == 1
    assert "第 1 页 共 1 页" in text(pdf)
    # The QR code says what to type (issue 20 item 8): the auditor appends the record's folder.
    assert scan(rasterize(pdf, dpi=100)) == [f"jipiao audit verify --expect-head {HEAD_HASH}"]
    page = text(pdf)
    assert "事件日志头哈希" in page
    assert "jipiao audit verify" in page
    assert "--expect-head" in page
    printed = "".join(re.findall(r"\b[0-9a-f]{16}\b", page))
    assert printed == HEAD_HASH
    assert "ed25519:3f9a" in page


def test_every_font_is_embedded(tmp_path: Path) -> None:
    pdf = write(tmp_path, compose(report_input()))
    rows = fonts(pdf)
    assert rows
    for row in rows:
        name, emb = row[0], row[-5]
        assert emb == "yes", name
        assert "NotoSansCJK" in name


def test_no_fingerprint_leaves_lines_to_fill_in(tmp_path: Path) -> None:
    pdf = write(tmp_path, compose(report_input(public_key_fingerprint=None)))
    page = text(pdf)
    assert "本机公钥指纹" in page
    assert "ed25519" not in page


def test_thirty_persons_continue_on_a_second_page(tmp_path: Path) -> None:
    names = [
        f"{surname}{given}"
        for surname in "王李张刘陈杨"
        for given in ("一", "二", "三", "四", "五")
    ]
    papers = [paper(**dict.fromkeys(names[index % 30:index % 30 + 3], "yes"))
              for index in range(180)]  # fmt: skip
    data = round_file(candidates=names, papers=papers)
    pdf = write(tmp_path, compose(report_input(data)))
    assert pages(pdf) == 2
    assert scan(rasterize(pdf, page=1)) == [f"jipiao audit verify --expect-head {HEAD_HASH}"]
    second = text(pdf, page=2)
    assert "名次" in second  # the table's heading is repeated
    assert "四、签名" in second
    assert "第 1 页 共 2 页" in text(pdf, page=1)
    assert "第 2 页 共 2 页" in second


def test_a_void_round_names_the_rerun(tmp_path: Path) -> None:
    data = round_file(collected=181, issued=180, present=180)
    pdf = write(tmp_path, compose(report_input(data)))
    page = text(pdf)
    assert "本轮选举无效" in page
    assert "须重新选举：应选 3 名" in page
    assert figure(page, "收回选票") == (181, "壹佰捌拾壹")


def test_a_round_below_quorum(tmp_path: Path) -> None:
    data = round_file(present=151, collected=0, papers=[])
    report = compose(report_input(data, printed=151))
    assert report.elected == ()
    assert "不足法定人数" in report.outcome_zh
    assert "至少 152 人" in report.outcome_zh
    page = text(write(tmp_path, report))
    assert "不足法定人数" in page


def test_layout_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "report.json"
    bad.write_text('{"schema": "jipiao-report-layout/1", "colour": "red"}', encoding="utf-8")
    with pytest.raises(LayoutError, match="colour: unknown key"):
        load_report_layout(bad)
    source = DEFAULT_REPORT_LAYOUT.read_text(encoding="utf-8")
    bad.write_text(source.replace('"scrutineer", "label"', '"auditor", "label"'), "utf-8")
    with pytest.raises(LayoutError, match="role"):
        load_report_layout(bad)
    bad.write_text(source.replace('"qr_size_mm": 28', '"qr_size_mm": 90'), "utf-8")
    with pytest.raises(LayoutError, match="qr_size_mm"):
        load_report_layout(bad)
    bad.write_text(source.replace("{round_zh}", "{rnd}"), "utf-8")
    layout = load_report_layout(bad)
    with pytest.raises(LayoutError, match="round_label"):
        render_report(compose(report_input()), layout)
