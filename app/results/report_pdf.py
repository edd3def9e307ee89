"""The result report (选举结果报告单, RULES.md C4) as an A4 PDF, Chinese first, English second.

From the top: the congress, the title, the election and round, the date; the figures (应到, 实到,
papers printed/issued/remaining (destroyed)/collected, valid, invalid with the rule of each
invalid paper, the majority threshold — none in a tie round), each in digits and in capital
numerals, and the rule the round was decided by (M2, or plurality in a tie round, M7); every person
(listed and written in) with 赞成/不赞成/弃权, by yes votes with ties in stroke order (M11); who
is elected and the follow-up round; the certification sentence and the signature lines; and at the
right of the figures the event-log head hash in text and as a QR code, with the installation's
public-key fingerprint (blank lines to fill in by hand when none is given). Long person lists
continue on a second page.

The layout is data (``ballots/report.json``), schema ``jipiao-report-layout/1``: ``font`` (null or
a font file), ``title``/``title_en``, ``round_label`` (placeholders ``{round}``, ``{round_zh}``,
``{kind_zh}``), ``certification`` (the sentence above the signatures), ``signatures`` (a list of
``{"role", "label", "label_en", "count"}``, roles ``chief_scrutineer``, ``scrutineer``,
``chief_teller``, ``teller``; ``count`` blank lines at least), ``qr_size_mm`` (20–30).
"""

import json
from dataclasses import dataclass
from pathlib import Path

import segno

from app.printing.ballot import QUIET_MODULES, chinese_number, draw_qr_block
from app.printing.fonts import FontFace, cjk_pdf, close_fonts, find_cjk_fonts
from app.printing.layout import BALLOTS_DIR, LayoutError
from app.results.numerals import capital_numeral
from app.results.report import (
    ROUND_KIND_ZH,
    SIGNATURE_ROLES,
    CountLine,
    ResultReport,
)
from app.rules.words import MARK_WORD

REPORT_SCHEMA = "jipiao-report-layout/1"
DEFAULT_REPORT_LAYOUT = BALLOTS_DIR / "report.json"
MM_PER_PT = 25.4 / 72
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 15.0
BLACK = (0, 0, 0)
GREY = (100, 100, 100)
LIGHT = (235, 235, 235)
_KEYS = frozenset(
    {
        "schema",
        "font",
        "title",
        "title_en",
        "round_label",
        "certification",
        "signatures",
        "qr_size_mm",
    }
)
_SIGNATURE_KEYS = frozenset({"role", "label", "label_en", "count"})


@dataclass(frozen=True, slots=True)
class SignatureRole:
    role: str
    label: str
    label_en: str
    count: int


@dataclass(frozen=True, slots=True)
class ReportLayout:
    font: str | None
    title: str
    title_en: str
    round_label: str
    certification: str
    signatures: tuple[SignatureRole, ...]
    qr_size_mm: float
    source: str

    @property
    def signature_counts(self) -> tuple[tuple[str, int], ...]:
        return tuple((item.role, item.count) for item in self.signatures)


def load_report_layout(path: Path = DEFAULT_REPORT_LAYOUT) -> ReportLayout:
    """Read and check a report layout file; ``LayoutError`` names the file and the key."""
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise LayoutError(f"{where}: cannot read the layout: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayoutError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise LayoutError(f"{where}: a layout must be a JSON object")
    unknown = set(data) - _KEYS
    if unknown:
        raise LayoutError(f"{where}: {sorted(unknown)[0]}: unknown key")
    if data.get("schema") != REPORT_SCHEMA:
        raise LayoutError(f'{where}: schema: must be "{REPORT_SCHEMA}"')

    def text(key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str):
            raise LayoutError(f"{where}: {key}: must be a string")
        return value

    font = data.get("font")
    if font is not None and not isinstance(font, str):
        raise LayoutError(f"{where}: font: must be a font file path or null")
    qr_size = data.get("qr_size_mm")
    if isinstance(qr_size, bool) or not isinstance(qr_size, int | float) or not 20 <= qr_size <= 30:
        raise LayoutError(f"{where}: qr_size_mm: must be between 20 and 30 (mm)")
    raw = data.get("signatures")
    if not isinstance(raw, list) or not raw:
        raise LayoutError(f"{where}: signatures: must be a non-empty list")
    signatures: list[SignatureRole] = []
    for index, item in enumerate(raw):
        at = f"{where}: signatures[{index}]"
        if not isinstance(item, dict) or set(item) != _SIGNATURE_KEYS:
            raise LayoutError(f"{at}: must be an object with {', '.join(sorted(_SIGNATURE_KEYS))}")
        if item["role"] not in SIGNATURE_ROLES:
            raise LayoutError(f"{at}.role: must be one of {', '.join(SIGNATURE_ROLES)}")
        if not isinstance(item["label"], str) or not isinstance(item["label_en"], str):
            raise LayoutError(f"{at}: label and label_en must be strings")
        count = item["count"]
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 12:
            raise LayoutError(f"{at}.count: must be an integer from 0 to 12")
        signatures.append(SignatureRole(item["role"], item["label"], item["label_en"], count))
    return ReportLayout(
        font=font,
        title=text("title"),
        title_en=text("title_en"),
        round_label=text("round_label"),
        certification=text("certification"),
        signatures=tuple(signatures),
        qr_size_mm=float(qr_size),
        source=where,
    )


def round_label(report: ResultReport, layout: ReportLayout) -> str:
    values = {
        "round": report.round_number,
        "round_zh": chinese_number(report.round_number),
        "kind_zh": ROUND_KIND_ZH[report.round_kind],
    }
    try:
        return layout.round_label.format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        raise LayoutError(
            f"{layout.source}: round_label: bad placeholder ({exc}); known: {', '.join(values)}"
        ) from None


class _Report:
    """fpdf2 on A4 in millimetres, with the Noto CJK faces embedded (subset)."""

    def __init__(self, fonts: tuple[FontFace, FontFace]) -> None:
        self.pdf = cjk_pdf("A4", "jipiao report", fonts)
        self.y = MARGIN

    def close(self) -> None:
        close_fonts(self.pdf)

    def width(self, text: str, em: float, *, bold: bool = False) -> float:
        self.pdf.set_font("cjk", "B" if bold else "", em / MM_PER_PT)
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
        align: str = "left",
    ) -> None:
        self.pdf.set_font("cjk", "B" if bold else "", em / MM_PER_PT)
        self.pdf.set_text_color(*colour)
        if align == "right":
            x -= self.width(text, em, bold=bold)
        elif align == "center":
            x -= self.width(text, em, bold=bold) / 2
        self.pdf.text(x, baseline, text)

    def rule(
        self,
        y: float,
        *,
        width: float = 0.2,
        colour: tuple[int, int, int] = BLACK,
        right: float = PAGE_W - MARGIN,
    ) -> None:
        self.pdf.set_draw_color(*colour)
        self.pdf.set_line_width(width)
        self.pdf.line(MARGIN, y, right, y)

    def ensure(self, height: float) -> None:
        """Start a new page when ``height`` mm do not fit below the current position."""
        if self.y + height > PAGE_H - MARGIN:
            self.pdf.add_page()
            self.y = MARGIN

    def wrap(self, text: str, em: float, width: float) -> list[str]:
        lines: list[str] = []
        line = ""
        for char in text:
            if line and self.width(line + char, em) > width:
                lines.append(line)
                line = ""
            line += char
        if line:
            lines.append(line)
        return lines


CELL = 5.4  # row height of the tables
EM = 3.6  # body text size (mm)
SMALL = 2.6


def _draw_header(doc: _Report, report: ResultReport, layout: ReportLayout) -> None:
    mid = PAGE_W / 2
    if report.congress:
        doc.text(mid, doc.y + 4, report.congress, 3.4, colour=GREY, align="center")
        doc.y += 6
    doc.text(mid, doc.y + 8, layout.title, 8.0, bold=True, align="center")
    doc.y += 10
    doc.text(mid, doc.y + 3.5, layout.title_en, 3.2, colour=GREY, align="center")
    doc.y += 7
    doc.text(MARGIN, doc.y + 5, report.election_title, 4.6, bold=True)
    doc.text(PAGE_W - MARGIN, doc.y + 5, round_label(report, layout), 4.2, align="right")
    doc.y += 7.5
    date = report.date
    doc.text(MARGIN, doc.y + 4, f"日期 Date：{date.year}年{date.month}月{date.day}日", EM)
    doc.text(
        PAGE_W - MARGIN,
        doc.y + 4,
        f"{date.isoformat()}　round {report.round_number}",
        SMALL,
        colour=GREY,
        align="right",
    )
    doc.y += 6.5
    doc.rule(doc.y, width=0.5)
    doc.y += 2


def _count_row(doc: _Report, line: CountLine, indent: float = 0.0, *, bold: bool = False) -> None:
    x_label, x_value, x_capital = MARGIN + 2 + indent, MARGIN + 108, MARGIN + 116
    baseline = doc.y + CELL * 0.68
    doc.text(x_label, baseline, line.label_zh, EM, bold=bold)
    label_w = doc.width(line.label_zh, EM, bold=bold)
    doc.text(x_label + label_w + 2, baseline, line.label_en, SMALL, colour=GREY)
    doc.text(x_value, baseline, str(line.value), EM, bold=True, align="right")
    doc.text(x_capital, baseline, line.capital, EM, bold=bold)
    doc.y += CELL
    doc.rule(doc.y, width=0.1, colour=(190, 190, 190), right=COUNTS_RIGHT)


COUNTS_RIGHT = MARGIN + 140  # the figures' table; the proof column (hash, QR) is to its right


def _draw_counts(doc: _Report, report: ResultReport, layout: ReportLayout) -> None:
    proof_bottom = _draw_proof(doc, report, layout, COUNTS_RIGHT + 4, doc.y + 1)
    doc.text(MARGIN, doc.y + 4.5, "一、计票情况", 4.2, bold=True)
    doc.text(MARGIN + 28, doc.y + 4.5, "Figures", SMALL, colour=GREY)
    doc.text(MARGIN + 108, doc.y + 4.5, "数字", SMALL, colour=GREY, align="right")
    doc.text(MARGIN + 116, doc.y + 4.5, "大写 in capitals", SMALL, colour=GREY)
    doc.y += 6.5
    doc.rule(doc.y, width=0.3, right=COUNTS_RIGHT)
    for line in report.counts:
        _count_row(doc, line)
        if line.key == "invalid":
            for rule_line in report.invalid_by_rule:
                shown = CountLine(
                    rule_line.key,
                    f"其中 {rule_line.key}：{rule_line.label_zh}",
                    "",
                    rule_line.value,
                    rule_line.capital,
                )
                _count_row(doc, shown, indent=6)
    if report.threshold is not None:
        _count_row(doc, report.threshold, bold=True)
    # The rule the round was decided by (M2, or plurality in a tie round, M7).
    baseline = doc.y + CELL * 0.68
    doc.text(MARGIN + 2, baseline, f"当选规则：{report.rule_zh}", EM, bold=True)
    doc.y += CELL
    doc.text(MARGIN + 2, doc.y + CELL * 0.5, report.rule_en, SMALL, colour=GREY)
    doc.y += CELL * 0.8
    doc.y = max(doc.y, proof_bottom) + 3


PERSON_COLUMNS = (
    # (heading zh, heading en, x of the column's left edge from MARGIN)
    ("名次", "", 0.0),
    ("姓名", "name", 12.0),
    (MARK_WORD["yes"], "yes", 50.0),
    (MARK_WORD["no"], "no", 92.0),
    (MARK_WORD["abstain"], "abstain", 128.0),
    ("当选", "elected", 161.0),
)


def _person_header(doc: _Report) -> None:
    doc.pdf.set_fill_color(*LIGHT)
    doc.pdf.rect(MARGIN, doc.y, PAGE_W - 2 * MARGIN, CELL + 1, style="F")
    for zh, en, x in PERSON_COLUMNS:
        doc.text(MARGIN + x + 1, doc.y + CELL * 0.7, zh, 3.2, bold=True)
        doc.text(MARGIN + x + 1 + doc.width(zh, 3.2, bold=True) + 1, doc.y + CELL * 0.7, en, 2.2)
    doc.y += CELL + 1


def _draw_persons(doc: _Report, report: ResultReport) -> None:
    doc.ensure(6.5 + 2 * CELL + 2)
    doc.text(MARGIN, doc.y + 4.5, "二、得票情况（按得赞成票多少排列）", 4.2, bold=True)
    doc.text(MARGIN + 74, doc.y + 4.5, "Votes, by yes votes; ties in stroke order", SMALL)
    doc.y += 6.5
    _person_header(doc)
    for person in report.persons:
        if doc.y + CELL > PAGE_H - MARGIN:
            doc.pdf.add_page()
            doc.y = MARGIN
            _person_header(doc)
        baseline = doc.y + CELL * 0.68
        x = [MARGIN + column[2] for column in PERSON_COLUMNS]
        doc.text(x[0] + 8, baseline, str(person.rank), EM, align="right")
        doc.text(x[1] + 1, baseline, person.name, EM, bold=True)
        if person.write_in:
            name_w = doc.width(person.name, EM, bold=True)
            doc.text(x[1] + 2 + name_w, baseline, "（另选他人）", 2.6, colour=GREY)
        for column, value in ((2, person.yes), (3, person.no), (4, person.abstain)):
            if person.write_in and column > 2:
                doc.text(x[column] + 9, baseline, "—", EM, colour=GREY, align="right")
                continue
            doc.text(x[column] + 9, baseline, str(value), EM, bold=column == 2, align="right")
            doc.text(x[column] + 11, baseline, capital_numeral(value), 3.0)
        if person.elected:
            doc.text(x[5] + 1, baseline, "当选", EM, bold=True)
        doc.y += CELL
        doc.rule(doc.y, width=0.1, colour=(190, 190, 190))
    doc.y += 3


def _draw_outcome(doc: _Report, report: ResultReport, layout: ReportLayout) -> None:
    width = PAGE_W - 2 * MARGIN - 4
    lines: list[tuple[str, float, bool, tuple[int, int, int]]] = []
    elected = "、".join(report.elected) if report.elected else "无"
    for line in doc.wrap(f"当选人（按姓氏笔画为序）：{elected}", 4.0, width):
        lines.append((line, 4.0, True, BLACK))
    for line in doc.wrap(f"结果：{report.outcome_zh}", EM, width):
        lines.append((line, EM, False, BLACK))
    for line in doc.wrap(report.outcome_en, SMALL, width):
        lines.append((line, SMALL, False, GREY))
    if report.follow_up_zh and report.follow_up_en:
        for line in doc.wrap(report.follow_up_zh, EM, width):
            lines.append((line, EM, True, BLACK))
        for line in doc.wrap(report.follow_up_en, SMALL, width):
            lines.append((line, SMALL, False, GREY))
    if report.history:
        lines.append(("本轮经过（更正与裁定）", EM, True, BLACK))
        for zh, en in report.history:
            for line in doc.wrap(zh, EM, width):
                lines.append((line, EM, False, BLACK))
            for line in doc.wrap(en, SMALL, width):
                lines.append((line, SMALL, False, GREY))
    for line in doc.wrap(layout.certification, EM, width):
        lines.append((line, EM, False, BLACK))
    height = 7 + sum(em * 1.55 for _, em, _, _ in lines)
    doc.ensure(height)
    doc.text(MARGIN, doc.y + 4.5, "三、选举结果", 4.2, bold=True)
    doc.text(MARGIN + 26, doc.y + 4.5, "Result", SMALL, colour=GREY)
    doc.y += 7
    for text, em, bold, colour in lines:
        doc.text(MARGIN + 2, doc.y + em * 1.1, text, em, bold=bold, colour=colour)
        doc.y += em * 1.55
    doc.y += 2


SIGN_W = (PAGE_W - 2 * MARGIN) / 3
SIGN_H = 10.5


def _draw_signatures(doc: _Report, report: ResultReport, layout: ReportLayout) -> None:
    labels = {item.role: (item.label, item.label_en) for item in layout.signatures}
    rows = -(-len(report.signatures) // 3)
    doc.ensure(7 + rows * SIGN_H)
    doc.text(MARGIN, doc.y + 4.5, "四、签名", 4.2, bold=True)
    doc.text(MARGIN + 18, doc.y + 4.5, "Signatures", SMALL, colour=GREY)
    doc.y += 7
    for index, signature in enumerate(report.signatures):
        row, column = divmod(index, 3)
        x = MARGIN + column * SIGN_W
        top = doc.y + row * SIGN_H
        label, label_en = labels[signature.role]
        doc.text(x, top + 6.5, f"{label}：", EM, bold=True)
        line_x = x + doc.width(f"{label}：", EM, bold=True)
        doc.pdf.set_draw_color(*BLACK)
        doc.pdf.set_line_width(0.3)
        doc.pdf.line(line_x, top + 7.5, x + SIGN_W - 4, top + 7.5)
        caption = label_en + (f" · {signature.name}" if signature.name else "")
        doc.text(line_x, top + 9.9, caption, 2.4, colour=GREY)
    doc.y += rows * SIGN_H + 2
    _draw_signed(doc, report, labels)


def _draw_signed(doc: _Report, report: ResultReport, labels: dict[str, tuple[str, str]]) -> None:
    """Who signed in the service, with which session, and how its login code was issued."""
    if not report.signed:
        return
    doc.ensure(5 + len(report.signed) * 6.4)
    doc.text(MARGIN, doc.y + 3.5, "系统签字记录 / Signed in the service", 2.8, bold=True)
    doc.y += 5
    for signed in report.signed:
        role_zh = labels.get(signed.role, (signed.role, signed.role))[0]
        doc.text(MARGIN, doc.y + 2.8, signed.line_zh(role_zh), 2.6)
        doc.text(MARGIN, doc.y + 5.6, signed.line_en(), 2.2, colour=GREY)
        doc.y += 6.4


def verify_command(head_hash: str) -> str:
    """What the auditor types (the report's QR code holds it), followed by the record's folder:
    ``jipiao audit verify`` refuses a record that does not contain this head hash."""
    return f"jipiao audit verify --expect-head {head_hash}"


def _draw_proof(
    doc: _Report, report: ResultReport, layout: ReportLayout, x: float, top: float
) -> float:
    """The event-log head hash as a QR code (holding the command that checks the record against
    it) and in text, and the public-key fingerprint."""
    from_log = report.hash_source == "event_log"
    content = verify_command(report.head_hash) if from_log else report.head_hash
    qr = segno.make_qr(content, error="m", boost_error=False)
    modules = qr.symbol_size(border=0)[0]
    module = layout.qr_size_mm / modules
    block = layout.qr_size_mm + 2 * QUIET_MODULES * module
    width = PAGE_W - MARGIN - x
    pdf = doc.pdf
    y = top
    if report.hash_source == "event_log":
        doc.text(x, y + 3, "事件日志头哈希", 3.0, bold=True)
        doc.text(x, y + 6, "Event-log head hash", 2.3, colour=GREY)
    else:
        doc.text(x, y + 3, "轮次文件哈希 SHA-256", 3.0, bold=True)
        doc.text(x, y + 6, "Round-file hash (no event log)", 2.3, colour=GREY)
    y += 7
    x_qr = x + (width - block) / 2
    draw_qr_block(pdf, qr, x_qr, y, module, block)
    y += block + 1
    for line in [report.head_hash[i : i + 16] for i in range(0, len(report.head_hash), 16)]:
        doc.text(x + 1, y + 2.8, line, 2.9)
        y += 3.6
    if from_log:
        y += 1
        doc.text(x, y + 2.6, "核验记录 / to check the record:", 2.3, colour=GREY)
        y += 3.2
        for line in (
            "jipiao audit verify",
            "--expect-head <上方哈希 hash>",
            "<记录目录 record DIR>",
        ):
            doc.text(x + 1, y + 2.6, line, 2.3)
            y += 3.0
    y += 2
    doc.text(x, y + 3, "本机公钥指纹", 3.0, bold=True)
    doc.text(x, y + 6, "Public-key fingerprint", 2.3, colour=GREY)
    y += 7
    if report.public_key_fingerprint:
        for line in doc.wrap(report.public_key_fingerprint, 2.9, width - 1):
            doc.text(x + 1, y + 2.8, line, 2.9)
            y += 3.6
    else:
        for _ in range(2):
            y += 5
            pdf.set_draw_color(*BLACK)
            pdf.set_line_width(0.3)
            pdf.line(x, y, x + width, y)
    return y


def _draw_page_numbers(doc: _Report, report: ResultReport, layout: ReportLayout) -> None:
    """Every page names the report and its page count, so no page can be swapped unnoticed."""
    total = doc.pdf.pages_count
    for number in range(1, total + 1):
        doc.pdf.page = number
        doc.text(
            PAGE_W / 2,
            PAGE_H - MARGIN / 2,
            f"{layout.title} · {report.election_title} · 第{report.round_number}轮 · "
            f"第 {number} 页 共 {total} 页 · page {number} of {total}",
            2.4,
            colour=GREY,
            align="center",
        )


def render_report(report: ResultReport, layout: ReportLayout) -> bytes:
    """The report as a PDF (A4, fonts embedded); long person lists continue on a new page."""
    doc = _Report(find_cjk_fonts(layout.font))
    try:
        doc.pdf.set_title(f"{layout.title} {report.election_title}")
        doc.pdf.add_page()
        _draw_header(doc, report, layout)
        _draw_counts(doc, report, layout)
        _draw_persons(doc, report)
        _draw_outcome(doc, report, layout)
        _draw_signatures(doc, report, layout)
        _draw_page_numbers(doc, report, layout)
        return bytes(doc.pdf.output())
    finally:
        doc.close()
