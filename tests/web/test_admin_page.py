"""/admin, the secretariat's page (issue 18 item 2), driven like a person: controls found by their
Chinese labels and button names, the API read only to assert. A congress is set up from nothing —
189 delegates from an XLSX file previewed before import, the election 主席团成员 with 3 seats and
5 candidates in stroke order, the O2 officials, their login cards (printed, cut out: each QR code
logs its official in) and the readiness checklist — and every refusal shows the server's Chinese
message on the page."""

import io
import re
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from app.auth import service as auth_service
from app.main import create_app
from app.setup.demo import demo_names
from tests.builders import (
    expect,
    login_official,
    make_ready_election,
    open_round,
    roster_csv,
)
from tests.chinese_text import page_offences
from tests.printing.helpers import scan_cards
from tests.web.conftest import CONSOLE_SIZES, LAPTOP, LiveServer, axe_violations, screenshot, see

O2 = [("chief_scrutineer", 1), ("chief_teller", 1), ("scrutineer", 2), ("teller", 5)]
ROLE_ZH = {
    "chief_scrutineer": "总监票人",
    "chief_teller": "总计票人",
    "scrutineer": "监票人",
    "teller": "计票人",
    "presidium": "大会主席团",
    "auditor": "审计人员",
}
OFFICIAL_NAMES = ["孙丽", "周强", "吴敏", "郑涛", "冯军", "陈静", "褚磊", "卫华", "蒋勇"]


def roster_xlsx(count: int) -> tuple[bytes, list[str]]:
    names = demo_names(count, seed=18)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["姓名", "代表团", "学号"])
    for i, name in enumerate(names):
        sheet.append([name, f"第{i % 6 + 1}代表团", 2026_00001 + i])  # a number, as Excel keeps it
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), names


def admin_page(live: LiveServer, browser: Any, path: str = "/admin", viewport: Any = LAPTOP) -> Any:
    """The secretariat logged in at / with a one-time code, as `jipiao serve` prints it."""
    with create_app(live.settings).state.sessionmaker.begin() as session:
        code = auth_service.issue_admin_login_code(session)
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(20000)  # a shared, loaded test machine: slow, not wrong
    page = context.new_page()
    page.goto(f"{live.url}/?next={path}")
    page.get_by_label("登录码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r".*/admin"))
    page.get_by_role("heading", name="会务设置").wait_for()
    return page


def status_of(page: Any, section: str) -> Any:
    return page.locator(f"#{section} p.status[role=status]")


def confirm(page: Any, button: str) -> None:
    dialog = page.locator("dialog.confirm")
    dialog.wait_for()
    dialog.get_by_role("button", name=button).click()


def test_a_congress_set_up_from_nothing(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    api = live_server.api
    page = admin_page(live_server, browser)

    # Congress
    page.get_by_role("button", name="新建大会").click()
    page.get_by_label("大会名称").fill("信息工程学院第五次学生代表大会")
    page.get_by_label("应到人数").fill("189")
    page.get_by_role("button", name="创建大会").click()
    status_of(page, "congress").filter(has_text="已创建大会").wait_for()
    congress = expect(api.get("/api/congresses"), 200)[0]
    assert congress["delegates_total"] == 189
    assert f"congress={congress['id']}" in page.url
    assert page.get_by_role("link", name="打开签到台").get_attribute("href") == (
        f"/checkin?congress={congress['id']}"
    )
    delegates_path = f"/api/congresses/{congress['id']}/delegates"

    # Roster: preview first, nothing saved until 确认导入
    data, names = roster_xlsx(189)
    roster = tmp_path / "代表名单.xlsx"
    roster.write_bytes(data)
    page.get_by_label("名单文件").set_input_files(str(roster))
    page.get_by_role("button", name="预览名单").click()
    page.get_by_text("可导入 189 人，没有错误").wait_for()
    assert page.locator("#roster tbody tr").count() == 189
    see(page.get_by_text("读取 XLSX 文件：可导入 189 人")).to_be_visible()
    assert expect(api.get(delegates_path), 200) == []
    page.get_by_role("button", name="确认导入").click()
    status_of(page, "roster").filter(has_text="已导入 189 名代表").wait_for()
    assert len(expect(api.get(delegates_path), 200)) == 189
    page.get_by_text("名单共 189 人（应到 189 人），已签到 0 人").wait_for()

    # Election with the seed's rules (every option shown, the seed's value marked 默认)
    page.get_by_role("button", name="新建选举").click()
    page.get_by_label("选举名称").fill("主席团成员")
    page.get_by_label("应选人数").fill("3")
    page.get_by_text("选举规则（共 13 项）：全部为默认").click()
    quorum = page.get_by_label("选举所需出席比例（Q1）")
    see(quorum.locator("option:checked")).to_have_text("五分之四（默认）", use_inner_text=True)
    assert page.locator("#elections .rule select").count() == 13
    page.get_by_role("button", name="创建选举").click()
    status_of(page, "elections").filter(has_text="已创建选举“主席团成员”").wait_for()
    election = expect(api.get(f"/api/congresses/{congress['id']}/elections"), 200)[0]
    assert (election["title"], election["seats"]) == ("主席团成员", 3)

    # Five candidates from the roster, one of them found by pinyin initials
    chosen = names[:5]
    search = page.get_by_label("添加候选人：输入姓名或拼音首字母")
    for name in chosen[:4]:
        search.fill(name)
        page.get_by_role("button", name=f"添加候选人 {name}").click()
        status_of(page, "candidates").filter(has_text=f"已添加候选人 {name}").wait_for()
    last = chosen[4]
    suggestions = expect(
        api.get(f"/api/congresses/{congress['id']}/name-suggestions", params={"q": last}), 200
    )
    assert suggestions["names"] == [last]
    initials = _initials(last)
    search.fill(initials)
    page.get_by_role("button", name=f"添加候选人 {last}").click()
    status_of(page, "candidates").filter(has_text=f"已添加候选人 {last}").wait_for()
    listed = expect(api.get(f"/api/elections/{election['id']}/candidates"), 200)["candidates"]
    shown = page.locator("#candidates .cand-name").all_inner_texts()
    assert shown == [c["name"] for c in listed]  # stroke order, as the API gives it
    second = listed[1]
    page.get_by_role("button", name=f"为什么排在这里：第 2 位 {second['name']}").click()
    see(page.locator(f"#why-{second['id']}")).to_have_text(
        second["stroke_explanation"], use_inner_text=True
    )
    assert f"排在“{listed[0]['name']}”之后" in second["stroke_explanation"]
    page.get_by_text("差额选举：候选人 5 名，多于应选 3 名。").first.wait_for()

    # Officials for O2; a candidate as a teller is refused (O1) with the server's words
    page.get_by_label("工作人员姓名").fill(chosen[0])
    page.get_by_label("职务").select_option(label="计票人")
    page.get_by_role("button", name="添加工作人员").click()
    refusal = status_of(page, "officials").filter(has_text="（O1）")
    refusal.wait_for()
    see(refusal).to_contain_text("不得担任计票人", use_inner_text=True)
    assert "candidate" not in refusal.inner_text()
    people = iter(OFFICIAL_NAMES)
    for role, count in O2:
        for _ in range(count):
            name = next(people)
            page.get_by_label("工作人员姓名").fill(name)
            page.get_by_label("职务").select_option(label=ROLE_ZH[role])
            page.get_by_role("button", name="添加工作人员").click()
            status_of(page, "officials").filter(has_text=f"已添加{ROLE_ZH[role]} {name}").wait_for()
    for role, name in (("presidium", "陈刚"), ("auditor", "林芳")):
        page.get_by_label("工作人员姓名").fill(name)
        page.get_by_label("职务").select_option(label=ROLE_ZH[role])
        page.get_by_role("button", name="添加工作人员").click()
        status_of(page, "officials").filter(has_text=f"已添加{ROLE_ZH[role]} {name}").wait_for()
    page.get_by_text("✓ 选举工作人员配备齐全（O2）").wait_for()
    officials = expect(api.get(f"/api/congresses/{congress['id']}/officials"), 200)
    assert len(officials) == 11

    # Login cards: confirmation first, then a PDF whose QR codes log each official in
    page.get_by_role("button", name="全选").click()
    page.get_by_text("已选 11 人").wait_for()
    page.get_by_role("button", name="打印登录卡").click()
    dialog = page.locator("dialog.confirm")
    see(dialog).to_contain_text("此前未使用的登录码将立即作废", use_inner_text=True)
    with page.expect_download() as download:
        dialog.get_by_role("button", name="签发并打印").click()
    pdf = tmp_path / "cards.pdf"
    download.value.save_as(pdf)
    status_of(page, "cards").filter(has_text="已签发 11 个登录码").wait_for()
    urls = scan_cards(pdf, page=1) + scan_cards(pdf, page=2)
    assert len(urls) == 11
    assert all(url.startswith(f"{live_server.url}/login?code=") for url in urls)
    # The first card opened as a camera would open it; the others logged in with their code.
    card = browser.new_context(viewport=LAPTOP, locale="zh-CN").new_page()
    card.goto(urls[0])
    card.wait_for_url(re.compile(r".*/(scrutiny|count|tablet|presidium|audit)$"))
    session = card.evaluate("JSON.parse(localStorage.getItem('jipiao.session'))")
    assert session["congress_id"] == congress["id"]
    card.context.close()
    logged_in = {session["official_id"]}
    for url in urls[1:]:
        code = url.split("code=")[1]
        body = expect(api.as_token(None).post("/api/auth/login", json={"code": code}), 200)
        logged_in.add(body["official_id"])
    assert logged_in == {o["id"] for o in officials}

    # Readiness in words: 差额 ✓, O2 ✓, Q1 ✗ (nobody is checked in yet)
    page.get_by_role("button", name="刷新准备情况").click()
    items = page.locator("#readiness .checklist li")
    assert items.count() == 3
    texts = items.all_inner_texts()
    assert texts[0].startswith("✓")
    assert "差额选举：候选人 5 名，多于应选 3 名" in texts[0]
    assert texts[1].startswith("✓")
    assert "工作人员配备齐全" in texts[1]
    assert texts[2].startswith("✗")
    assert "已签到 0 人，须达到应到 189 人的五分之四，即至少 152 人" in texts[2]
    page.get_by_text("“主席团成员”还不能发出选票").wait_for()
    screenshot(page, "admin-golden-setup")
    page.context.close()


def _initials(name: str) -> str:
    from pypinyin import Style, pinyin

    return "".join(p[0][0] for p in pinyin(name, style=Style.FIRST_LETTER))


def test_bad_roster_rows_are_listed_and_nothing_is_imported(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    api = live_server.api
    congress = expect(
        api.post("/api/congresses", json={"name": "大会", "delegates_total": 10}), 201
    )
    page = admin_page(live_server, browser, f"/admin?congress={congress['id']}")
    rows = [
        ("王芳", "一团", "1"),
        ("李明", "一团", ""),
        ("赵六", "二团", "1"),
        ("钱七", "二团", "4"),
    ]
    path = tmp_path / "名单.csv"
    path.write_bytes(roster_csv(rows, encoding="gbk"))  # Excel's "CSV" on a Chinese Windows
    page.get_by_label("名单文件").set_input_files(str(path))
    page.get_by_role("button", name="预览名单").click()
    page.get_by_text("有 2 处错误，不能导入").wait_for()
    errors = page.locator("#roster table.errors tbody tr").all_inner_texts()
    assert [" ".join(e.split()) for e in errors] == [
        "3 学号 第 3 行学号为空",
        "4 学号 第 4 行学号 1 与第 2 行重复",
    ]
    see(page.get_by_text("读取 CSV（GBK）文件")).to_be_visible()
    assert page.get_by_role("button", name="确认导入").is_disabled()
    assert expect(api.get(f"/api/congresses/{congress['id']}/delegates"), 200) == []
    # A file that is no roster: the server's reason, nothing else.
    path.write_bytes("名字,班级\n王芳,一班\n".encode())
    page.get_by_label("名单文件").set_input_files(str(path))
    page.get_by_role("button", name="预览名单").click()
    status_of(page, "roster").filter(has_text="第 1 行应为表头").wait_for()
    page.context.close()


def test_delegates_candidates_and_officials_are_removed_after_a_confirmation(
    live_server: LiveServer, browser: Any
) -> None:
    api = live_server.api
    ready = make_ready_election(api, delegates_total=10, present=2)
    congress_id = ready.congress.id
    page = admin_page(live_server, browser, f"/admin?congress={congress_id}")
    page.get_by_text("名单共 10 人（应到 10 人），已签到 2 人").wait_for()

    # A checked-in delegate cannot be removed: the server's reason is shown.
    present = ready.delegates[0]
    page.get_by_label("搜索代表（姓名、学号或代表团）").fill(present.student_id)
    page.get_by_role("button", name=f"删除代表 {present.name}").click()
    confirm(page, "删除")
    status_of(page, "delegates").filter(has_text="已签到，请先办理签退").wait_for()
    absent = ready.delegates[9]
    page.get_by_label("搜索代表（姓名、学号或代表团）").fill(absent.student_id)
    page.get_by_role("button", name=f"删除代表 {absent.name}").click()
    confirm(page, "取消")
    assert len(expect(api.get(f"/api/congresses/{congress_id}/delegates"), 200)) == 10
    page.get_by_role("button", name=f"删除代表 {absent.name}").click()
    confirm(page, "删除")
    status_of(page, "delegates").filter(has_text=f"已从名单中删除 {absent.name}").wait_for()
    assert len(expect(api.get(f"/api/congresses/{congress_id}/delegates"), 200)) == 9

    page.get_by_role("button", name="删除候选人 欧阳晓东").click()
    confirm(page, "删除")
    status_of(page, "candidates").filter(has_text="已删除候选人 欧阳晓东").wait_for()
    # Someone who is not a delegate: offered as such, added by the name as typed.
    page.get_by_label("添加候选人：输入姓名或拼音首字母").fill("司马懿")
    page.get_by_text("代表名单中没有“司马懿”").wait_for()
    page.get_by_role("button", name="添加名单外的候选人 司马懿").click()
    status_of(page, "candidates").filter(has_text="已添加候选人 司马懿").wait_for()
    listed = expect(api.get(f"/api/elections/{ready.election.id}/candidates"), 200)
    assert "司马懿" in [c["name"] for c in listed["candidates"]]
    teller = ready.officials["teller"][4]
    page.get_by_role("button", name=f"删除工作人员 {teller.name}").click()
    confirm(page, "删除")
    status_of(page, "officials").filter(has_text=f"已删除计票人 {teller.name}").wait_for()
    page.get_by_text("✗ 选举工作人员配备不全").wait_for()
    staffing = page.locator("#readiness .checklist li").nth(1)
    staffing.filter(has_text="计票人应为 5 人，现有 4 人（O2）").wait_for()
    see(staffing).to_have_text(re.compile("^✗"), use_inner_text=True)
    # An election title taken: the server's words.
    page.get_by_role("button", name="新建选举").click()
    page.get_by_label("选举名称").fill("主席团成员")
    page.get_by_label("应选人数").fill("2")
    page.get_by_role("button", name="创建选举").click()
    status_of(page, "elections").filter(has_text="本次大会已有名为“主席团成员”的选举").wait_for()
    page.context.close()


def test_after_voting_began_changes_go_to_the_presidium(
    live_server: LiveServer, browser: Any
) -> None:
    api = live_server.api
    ready = make_ready_election(api, delegates_total=10, present=8)
    open_round(api, ready.election.id)
    congress_id = ready.congress.id
    page = admin_page(live_server, browser, f"/admin?congress={congress_id}")
    page.get_by_text("投票已经开始：添加、删除工作人员").wait_for()
    page.get_by_text("本选举已开始投票：候选人名单、应选人数和规则已冻结").wait_for()
    assert page.get_by_label("添加候选人：输入姓名或拼音首字母").count() == 0
    assert page.get_by_role("button", name="保存选举设置").is_disabled()

    page.get_by_label("工作人员姓名").fill("何新")
    page.get_by_label("职务").select_option(label="监票人")
    page.get_by_role("button", name="添加工作人员").click()
    alert = page.locator("#officials .card.refused")
    alert.filter(has_text="投票已经开始").wait_for()
    page.get_by_role("button", name="提交变更申请（须主席团确认）").click()
    status_of(page, "officials").filter(has_text="已提交申请：添加监票人 何新").wait_for()
    page.get_by_text("添加 · 监票人 何新").wait_for()
    changes = expect(api.get(f"/api/congresses/{congress_id}/official-changes"), 200)
    assert [(c["action"], c["name"], c["confirmed"]) for c in changes] == [("add", "何新", False)]
    names = [o["name"] for o in expect(api.get(f"/api/congresses/{congress_id}/officials"), 200)]
    assert "何新" not in names

    # Cards for counting roles: refused as such, offered as requests.
    teller = ready.officials["teller"][0]
    page.get_by_label(f"选择 {teller.name} 打印登录卡").check()
    page.get_by_role("button", name="打印登录卡").click()
    confirm(page, "签发并打印")
    status_of(page, "cards").filter(has_text="须经大会主席团成员确认").wait_for()
    page.get_by_role("button", name="提交变更申请（须主席团确认）").click()
    status_of(page, "officials").filter(has_text="已提交 1 项签发登录码的申请").wait_for()
    page.context.close()


def test_another_role_gets_no_actions(live_server: LiveServer, browser: Any) -> None:
    api = live_server.api
    ready = make_ready_election(api)
    presidium = api.post(
        f"/api/congresses/{ready.congress.id}/officials", json={"name": "陈刚", "role": "presidium"}
    )
    member = login_official(api, ready.congress.id, expect(presidium, 201)["id"])
    me = expect(member.get("/api/auth/me"), 200)
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    session = {
        "token": member.token,
        "role": me["role"],
        "role_zh": me["role_zh"],
        "official_id": me["official_id"],
        "name": "陈刚",
        "congress_id": ready.congress.id,
        "expires_at": "2099-01-01T00:00:00Z",
    }
    page.evaluate("s => localStorage.setItem('jipiao.session', JSON.stringify(s))", session)
    page.goto(f"{live_server.url}/admin")
    page.get_by_role("alert").filter(has_text="此页面不属于您的职责").wait_for()
    page.locator("#candidates .cand-name").first.wait_for()
    for button in ("新建大会", "新建选举", "添加工作人员", "打印登录卡", "预览名单", "确认导入"):
        assert page.get_by_role("button", name=button).count() == 0 or not (
            page.get_by_role("button", name=button).is_visible()
        ), button
    assert page.get_by_role("button", name=re.compile("^删除")).count() == 0 or all(
        not b.is_visible() for b in page.get_by_role("button", name=re.compile("^删除")).all()
    )
    assert page.get_by_label("大会名称").is_disabled()
    context.close()


def test_admin_page_is_chinese_accessible_and_fits_every_size(
    live_server: LiveServer, browser: Any
) -> None:
    api = live_server.api
    ready = make_ready_election(api, delegates_total=10, present=8)
    html = api.client.get("/admin").text
    assert '<html lang="zh-CN">' in html
    assert page_offences(html) == []
    for size, viewport in CONSOLE_SIZES.items():
        page = admin_page(live_server, browser, f"/admin?congress={ready.congress.id}", viewport)
        page.locator("#candidates .cand-name").first.wait_for()
        page.get_by_role("button", name="为什么排在这里：第 2 位 刘洋").click()
        page.locator("details.rules > summary").click()
        page.locator("#readiness .checklist li").first.wait_for()
        assert axe_violations(page) == [], size
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
        screenshot(page, f"admin-{size}")
        page.context.close()
