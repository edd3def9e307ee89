"""The golden path (issue 18): the seed's election run from an empty database through the pages
only, by every role on their own page, as people in the hall would — and the API read only to
assert numbers, never to act.

The secretariat logs in with the one-time code `jipiao serve` prints, sets the congress up at
/admin (189 delegates from an XLSX file, previewed first; 主席团成员, 3 seats, 5 candidates; the
officials of O2, a presidium member and an auditor) and prints the login cards; each official
logs in by opening the QR code of their card. 180 delegates are checked in at /checkin by a
scanner; round 1 is opened, printed (the tablets scan the QR code read back from the printed
PDF), issued and collected at /rounds; the chief teller makes the batch at /count; two tellers
enter both passes on two tablets (one paper misread on the second pass, one unclear mark); the
scrutineers adjudicate, decide and sign at /scrutiny: two elected, one seat short. The presidium
releases the result and confirms the supplementary round at /presidium; it is counted the same
way, decided, signed and released; the presidium downloads the report and the auditor the
election record.

It records, per role, the clicks (taps and picks; a scan or typing is no click) and the seconds on
the role's pages, and writes them to var/golden-path.json for the closing note.
"""

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from app.auth import service as auth_service
from app.main import create_app
from app.setup.demo import demo_names
from tests.builders import expect
from tests.printing.helpers import rasterize, scan, scan_cards
from tests.web.conftest import LAPTOP, SCREENSHOTS, TABLET, LiveServer, screenshot

pytestmark = pytest.mark.slow

DELEGATES = 189
PRESENT = 180
OFFICIALS = [  # O2, plus the presidium member and the auditor
    ("总监票人", "孙丽"),
    ("监票人", "周强"),
    ("监票人", "吴敏"),
    ("总计票人", "郑涛"),
    ("计票人", "冯军"),
    ("计票人", "陈静"),
    ("计票人", "褚磊"),
    ("计票人", "卫华"),
    ("计票人", "蒋勇"),
    ("大会主席团", "陈刚"),
    ("审计人员", "林芳"),
]


@dataclass
class Person:
    """One official at their own browser: the clicks they make and the seconds it takes."""

    role: str
    page: Any
    name: str = ""
    clicks: int = 0
    seconds: float = 0.0

    @contextmanager
    def working(self) -> Iterator[Any]:
        started = time.monotonic()
        try:
            yield self.page
        finally:
            self.seconds += time.monotonic() - started

    def click(self, locator: Any, *, force: bool = False) -> None:
        self.clicks += 1
        locator.click(force=force)

    def confirm(self, ok: str) -> None:
        dialog = self.page.locator("dialog.confirm")
        dialog.wait_for()
        self.click(dialog.get_by_role("button", name=ok, exact=True))
        dialog.wait_for(state="detached")


@dataclass
class Hall:
    live: LiveServer
    browser: Any
    tmp: Path
    people: dict[str, Person] = field(default_factory=dict)

    def open(self, who: str, role: str, url: str, viewport: dict[str, int] = LAPTOP) -> Person:
        context = self.browser.new_context(
            viewport=viewport, locale="zh-CN", accept_downloads=True, service_workers="block"
        )
        context.set_default_timeout(30000)  # a loaded 2-core test machine is slow, not wrong
        page = context.new_page()
        page.goto(url)
        person = Person(role, page)
        self.people[who] = person
        return person

    def api(self, path: str) -> Any:
        return expect(self.live.api.get(path), 200)


def roster_xlsx(path: Path) -> list[tuple[str, str]]:
    names = demo_names(DELEGATES, seed=2026)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["姓名", "代表团", "学号"])
    rows = []
    departments = ["计算机", "电子", "通信", "自动化", "软件", "数学"]
    for i, name in enumerate(names):
        student_id = str(2026_10001 + i)
        sheet.append([name, f"{departments[i % 6]}系代表团", student_id])
        rows.append((name, student_id))
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(buffer.getvalue())
    return rows


def secretariat_sets_up(hall: Hall) -> tuple[int, int, list[tuple[str, str]], list[str]]:
    """At / and /admin: congress, roster, election, candidates, officials, login cards."""
    with create_app(hall.live.settings).state.sessionmaker.begin() as session:
        code = auth_service.issue_admin_login_code(
            session
        )  # printed by `jipiao serve` on its terminal
    s = hall.open("secretariat", "大会秘书处", f"{hall.live.url}/")
    with s.working() as page:
        page.get_by_label("登录码").fill(code)
        s.click(page.get_by_role("button", name="登录", exact=True))
        page.get_by_role("heading", name="会务设置").wait_for()
        s.click(page.get_by_role("button", name="新建大会"))
        page.get_by_label("大会名称").fill("信息工程学院第五次学生代表大会")
        page.get_by_label("应到人数").fill(str(DELEGATES))
        s.click(page.get_by_role("button", name="创建大会"))
        page.locator("#congress p.status").filter(has_text="已创建大会").wait_for()

        roster_file = hall.tmp / "代表名单.xlsx"
        roster = roster_xlsx(roster_file)
        page.get_by_label("名单文件").set_input_files(str(roster_file))
        s.click(page.get_by_role("button", name="预览名单"))
        page.get_by_text(f"可导入 {DELEGATES} 人，没有错误").wait_for()
        s.click(page.get_by_role("button", name="确认导入"))
        page.locator("#roster p.status").filter(has_text=f"已导入 {DELEGATES} 名代表").wait_for()

        s.click(page.get_by_role("button", name="新建选举"))
        page.get_by_label("选举名称").fill("主席团成员")
        page.get_by_label("应选人数").fill("3")
        s.click(page.get_by_role("button", name="创建选举"))
        page.locator("#elections p.status").filter(has_text="已创建选举“主席团成员”").wait_for()

        search = page.get_by_label("添加候选人：输入姓名或拼音首字母")
        chosen = [name for name, _ in roster[:5]]
        for name in chosen:
            search.fill(name)
            s.click(page.get_by_role("button", name=f"添加候选人 {name}"))
            page.locator("#candidates p.status").filter(has_text=f"已添加候选人 {name}").wait_for()

        for role_zh, name in OFFICIALS:
            page.get_by_label("工作人员姓名").fill(name)
            page.get_by_label("职务").select_option(label=role_zh)
            s.clicks += 1  # the pick
            s.click(page.get_by_role("button", name="添加工作人员"))
            page.locator("#officials p.status").filter(
                has_text=f"已添加{role_zh} {name}"
            ).wait_for()

        s.click(page.get_by_role("button", name="全选"))
        s.click(page.get_by_role("button", name="打印登录卡"))
        with page.expect_download() as download:
            s.confirm("签发并打印")
        cards = hall.tmp / "登录卡.pdf"
        download.value.save_as(cards)
        screenshot(page, "golden-admin")
    congress_id = int(re.search(r"congress=(\d+)", s.page.url).group(1))  # type: ignore[union-attr]
    (election,) = hall.api(f"/api/congresses/{congress_id}/elections")
    assert len(hall.api(f"/api/congresses/{congress_id}/delegates")) == DELEGATES
    urls = scan_cards(cards, page=1) + scan_cards(cards, page=2)
    assert len(set(urls)) == len(urls) == len(OFFICIALS)
    return congress_id, election["id"], roster, urls


def officials_log_in(hall: Hall, urls: list[str]) -> None:
    """Each official opens the QR code of their card (as a phone's camera would)."""
    seen: dict[str, int] = {}
    for url in urls:
        probe = hall.browser.new_context(viewport=LAPTOP, locale="zh-CN").new_page()
        probe.goto(url)
        probe.wait_for_url(re.compile(r".*/(scrutiny|count|tablet|presidium|audit)$"))
        session = probe.evaluate("JSON.parse(localStorage.getItem('jipiao.session'))")
        probe.context.close()
        role = session["role"]
        seen[role] = seen.get(role, 0) + 1
        who = role if role not in ("scrutineer", "teller") else f"{role}{seen[role]}"
        if who in ("teller3", "teller4", "teller5", "scrutineer2"):
            continue  # they stay at their desks in this election
        # The session the card's page kept, carried into the person's own browser.
        viewport = TABLET if role == "teller" else LAPTOP
        context = hall.browser.new_context(
            viewport=viewport, locale="zh-CN", accept_downloads=True, service_workers="block"
        )
        context.set_default_timeout(30000)
        context.add_init_script(
            f"localStorage.setItem('jipiao.session', {json.dumps(json.dumps(session))});"
        )
        page = context.new_page()
        hall.people[who] = Person(session["role_zh"], page, session["name"])
    assert {"chief_scrutineer", "scrutineer1", "chief_teller", "teller1", "teller2",
            "presidium", "auditor"} <= set(hall.people)  # fmt: skip


def desk_checks_in(hall: Hall, congress_id: int, roster: list[tuple[str, str]]) -> None:
    s = hall.people["secretariat"]
    with s.working() as page:
        page.goto(f"{hall.live.url}/checkin?congress={congress_id}")
        field_ = page.get_by_label("学号或姓名")
        field_.wait_for()
        for _, student_id in roster[:PRESENT]:
            page.keyboard.type(student_id + "\n")  # the USB scanner: keystrokes and Enter
        page.get_by_test_id("present").filter(has_text=str(PRESENT)).wait_for()
        screenshot(page, "golden-checkin")
    assert hall.api(f"/api/congresses/{congress_id}/attendance")["present"] == PRESENT


def round_papers(hall: Hall, congress_id: int, number: int) -> str:
    """At /rounds: open (round 1 only: a follow-up round is the presidium's), print, issue,
    collect. Returns the QR payload read back from the printed paper."""
    s = hall.people["secretariat"]
    with s.working() as page:
        page.goto(f"{hall.live.url}/rounds?congress={congress_id}")
        if number == 1:
            s.click(page.get_by_role("button", name="开启第 1 轮"))
            s.confirm("开启")
        card = page.get_by_role("article", name=re.compile(f"^第 {number} 轮"))
        button = card.get_by_role("button", name=f"下载第 {number} 轮选票（PDF）")
        with page.expect_download(timeout=180000) as download:
            s.click(button)
        papers = hall.tmp / f"papers-{number}.pdf"
        download.value.save_as(papers)
        card.get_by_label("印制选票数").fill(str(PRESENT + 2))
        card.get_by_label("发出选票数").fill(str(PRESENT))
        s.click(card.get_by_role("button", name=f"登记第 {number} 轮发出选票"))
        s.confirm("登记")
        card.get_by_label("收回选票数").fill(str(PRESENT))
        s.click(card.get_by_role("button", name=f"登记第 {number} 轮收回选票"))
        s.confirm("登记")
        card.get_by_role("heading", level=3).filter(has_text="已收回选票").wait_for()
        screenshot(page, f"golden-rounds-{number}")
    (payload,) = set(scan(rasterize(papers, page=1, dpi=200)))
    return payload


def chief_teller_batches(hall: Hall, round_id: int) -> None:
    c = hall.people["chief_teller"]
    with c.working() as page:
        page.goto(f"{hall.live.url}/count?round={round_id}")
        page.get_by_label("本批张数").fill(str(PRESENT))
        page.get_by_label("第一遍录入计票人").select_option(label=hall.people["teller1"].name)
        page.get_by_label("第二遍录入计票人").select_option(label=hall.people["teller2"].name)
        c.clicks += 2
        c.click(page.get_by_role("button", name="新建批次"))
        page.locator("tr[data-batch='1']").wait_for()


# A USB scanner is a keyboard: each character a keydown at the focused element, then Enter.
SCANNER = """(text) => {
  const target = document.activeElement || document.body;
  for (const key of [...text, "Enter"]) {
    target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
  }
}"""


def tablet_enters(
    hall: Hall, who: str, number: int, payload: str, papers: list[dict[int, str]]
) -> None:
    """A teller's pass on the tablet: the batch card, then every paper scanned and tapped."""
    t = hall.people[who]
    with t.working() as page:
        page.goto(f"{hall.live.url}/tablet")
        card = page.locator(".batch-card", has_text=f"第 {number} 轮 · 第 1 批")
        change = page.locator("#change-batch")
        deadline = time.monotonic() + 30
        while not card.is_visible():
            if time.monotonic() > deadline:
                screenshot(page, f"golden-tablet-stuck-{who}")
                raise AssertionError(page.inner_text("body"))
            if change.is_visible():  # the tablet reopens the batch it last entered
                t.click(change)
            page.wait_for_timeout(100)
        t.click(card)
        page.locator(".candidate").first.wait_for()
        names = page.locator(".candidate").evaluate_all("(c) => c.map((e) => e.dataset.name)")
        # A teller goes on to the next paper at once: the tablet keeps each paper before it
        # uploads it, and uploads them in order behind the teller.
        # After the first paper the same buttons are tapped without Playwright's waits for a
        # stable layout (two animation frames a tap): still a real tap at the button's place.
        for n, marks in enumerate(papers):
            if n == 0:
                page.keyboard.type(payload + "\n")  # the scanner: keystrokes and Enter
            else:  # the same keystrokes, sent in one go (one round trip, not seventy)
                page.evaluate(SCANNER, payload)
            for column, mark in marks.items():
                mark_button = page.locator(f'.candidate[data-name="{names[column]}"] .mark-{mark}')
                t.click(mark_button, force=n > 0)
            t.click(page.locator("#submit"), force=n > 0)
        uploads_finish(page, len(papers), f"{who}-{number}")


def uploads_finish(page: Any, papers: int, name: str) -> None:
    """Waits while the tablet uploads what it kept: as long as the count goes up (a loaded
    machine is slow), but not past 30 s without one more paper uploaded."""
    progress = page.locator("#batch-progress")
    uploaded, deadline = -1, 0.0
    while uploaded < papers:
        shown = re.search(r"已上传 (\d+) 张", progress.inner_text())
        now = int(shown[1]) if shown else 0
        if now > uploaded:
            uploaded, deadline = now, time.monotonic() + 30
        elif time.monotonic() > deadline:
            screenshot(page, f"golden-tablet-upload-{name}")
            raise AssertionError(page.inner_text("body"))
        page.wait_for_timeout(200)


def scrutineers_decide_and_sign(hall: Hall, round_id: int, disputes: bool) -> None:
    chief = hall.people["chief_scrutineer"]
    with chief.working() as page:
        page.goto(f"{hall.live.url}/scrutiny?round={round_id}")
        if disputes:
            dispute = page.get_by_role("region", name="第 1 批 · 两遍不一致的选票")
            chief.click(dispute.get_by_role("button", name="以第一遍为准"))
            dispute.get_by_label("裁定理由").fill("核对原票：第二遍把 ✓ 录成了 ×")
            unclear = page.get_by_role("region", name="第 1 批 · 有无法辨认符号的选票")
            ruling = unclear.get_by_role("group", name=re.compile("无法辨认的符号（\\?）裁定为"))
            chief.click(ruling.get_by_label("△ 弃权"))
            unclear.get_by_label("裁定理由").fill("原票该栏涂改，按弃权计")
            chief.click(page.get_by_role("button", name="提交第 1 批裁定"))
            page.get_by_text("第 1 批已裁定，核对完成。").wait_for()
        page.get_by_text("全部选票已录入并核对完毕").wait_for()
        chief.click(page.get_by_role("button", name="作出决定"))
        chief.confirm("作出决定")
        page.get_by_role("heading", name="计票结果").wait_for()
        screenshot(page, f"golden-scrutiny-decided-{round_id}")
        chief.click(page.get_by_role("button", name="签字确认"))
        chief.confirm("签字确认")
        page.get_by_text("您已签字。").wait_for()
    other = hall.people["scrutineer1"]
    with other.working() as page:
        page.goto(f"{hall.live.url}/scrutiny?round={round_id}")
        other.click(page.get_by_role("button", name="签字确认"))
        other.confirm("签字确认")
        page.get_by_text("已由总监票人和监票人签字确认（C2）").wait_for()


def presidium_releases(hall: Hall, election_id: int, number: int) -> None:
    p = hall.people["presidium"]
    with p.working() as page:
        page.goto(f"{hall.live.url}/presidium?election={election_id}")
        release = page.get_by_role("button", name=f"向会场公布第 {number} 轮结果")
        p.click(release)
        p.confirm("公布")
        release.wait_for(state="detached")


def test_the_seeds_election_through_the_pages(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    hall = Hall(live_server, browser, tmp_path)
    started = time.monotonic()
    congress_id, election_id, roster, cards = secretariat_sets_up(hall)
    officials_log_in(hall, cards)
    desk_checks_in(hall, congress_id, roster)

    # Round 1: everyone votes ✓ for the first two names on the paper; one paper also has an
    # unclear mark in the third column; the second pass misreads one paper's second ✓ as ×.
    payload = round_papers(hall, congress_id, 1)
    (round_1,) = hall.api(f"/api/elections/{election_id}/rounds")["rounds"]
    chief_teller_batches(hall, round_1["id"])
    pass_a: list[dict[int, str]] = [{0: "yes", 1: "yes"} for _ in range(PRESENT)]
    pass_a[9] = {0: "yes", 1: "yes", 2: "unclear"}
    pass_b = [dict(marks) for marks in pass_a]
    pass_b[6] = {0: "yes", 1: "no"}
    tablet_enters(hall, "teller1", 1, payload, pass_a)
    tablet_enters(hall, "teller2", 1, payload, pass_b)
    scrutineers_decide_and_sign(hall, round_1["id"], disputes=True)
    decision = hall.api(f"/api/rounds/{round_1['id']}/decision")
    printed = round_1["candidates"]
    assert decision["result"]["elected"] == printed[:2]
    assert decision["result"]["next_round"]["kind"] == "supplementary"
    assert decision["result"]["next_round"]["seats"] == 1
    presidium_releases(hall, election_id, 1)

    # The presidium confirms the supplementary round the engine proposes.
    p = hall.people["presidium"]
    with p.working() as page:
        confirm_button = page.get_by_role("button", name="确认名单，开启第 2 轮另行选举")
        p.click(confirm_button)
        p.confirm("开启")
        confirm_button.wait_for(state="detached")
    round_2 = hall.api(f"/api/elections/{election_id}/rounds")["rounds"][-1]
    assert round_2["number"] == 2
    assert round_2["kind"] == "supplementary"

    # Round 2: 100 papers ✓ for the first name on it, 80 left blank (valid, count as abstain).
    payload = round_papers(hall, congress_id, 2)
    chief_teller_batches(hall, round_2["id"])
    votes: list[dict[int, str]] = [{0: "yes"} for _ in range(100)] + [{} for _ in range(80)]
    tablet_enters(hall, "teller1", 2, payload, votes)
    tablet_enters(hall, "teller2", 2, payload, votes)
    scrutineers_decide_and_sign(hall, round_2["id"], disputes=False)
    presidium_releases(hall, election_id, 2)

    with p.working() as page:
        with page.expect_download() as download:
            p.click(page.get_by_role("button", name="下载第 2 轮选举结果报告单（PDF）"))
        report = tmp_path / "report.pdf"
        download.value.save_as(report)
    assert report.read_bytes().startswith(b"%PDF")
    auditor = hall.people["auditor"]
    with auditor.working() as page:
        page.goto(f"{hall.live.url}/audit?election={election_id}")
        page.get_by_text("链完整").first.wait_for()
        with page.expect_download() as download:
            auditor.click(page.get_by_role("button", name="下载选举记录"))
        record = tmp_path / "record.zip"
        download.value.save_as(record)
    with zipfile.ZipFile(record) as archive:
        assert {"events.jsonl", "manifest.json"} <= set(archive.namelist())

    result = hall.api(f"/api/elections/{election_id}/result")
    elected = [person["name"] for person in result["elected"]]
    assert elected == [*printed[:2], round_2["candidates"][0]]
    verify = hall.api(f"/api/congresses/{congress_id}/events/verify")
    assert verify["ok"] is True

    effort = {
        who: {"role": person.role, "clicks": person.clicks, "seconds": round(person.seconds, 1)}
        for who, person in hall.people.items()
    }
    effort["total"] = {"seconds": round(time.monotonic() - started, 1)}
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "golden-path.json").write_text(
        json.dumps(effort, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    for person in hall.people.values():
        person.page.context.close()
