"""The check-in desk ``/checkin`` (issue 18 item 3) in a real browser: the secretariat checks
delegates in by a typed 学号, by a USB scanner's keystrokes (the focus stays in the one field),
by name or pinyin initials; checks one out after confirming; the present count, each election's
quorum line and every 代表团's 实到/应到 follow, also for another desk's check-ins (polled)."""

import re
from typing import Any

from tests.builders import (
    expect,
    make_congress,
    make_election,
    make_roster,
    roster_csv,
    upload_roster,
)
from tests.web.conftest import CONSOLE_SIZES, LAPTOP, LiveServer, axe_violations, screenshot, see
from tests.web.pages import admin_page

Page = Any  # playwright.sync_api.Page

ROSTER = [
    ("王小明", "计算机系代表团", "2023001"),
    ("王晓梅", "外语系代表团", "2023002"),
    ("李华", "计算机系代表团", "2023003"),
    ("单田芳", "外语系代表团", "2023004"),
    ("张伟", "数学系代表团", "2023005"),
]


def _desk(live: LiveServer, *, delegates_total: int = 6) -> int:
    congress = make_congress(live.api, delegates_total=delegates_total)
    expect(upload_roster(live.api, congress.id, roster_csv(ROSTER)), 201)
    make_election(live.api, congress.id, title="主席团成员")  # 4/5 of 6: 4.8 → 5
    make_election(live.api, congress.id, title="委员", profile={"quorum": "2/3"})  # 4
    return congress.id


def _answer(page: Page) -> str:
    return str(page.locator(".desk-answer").inner_text())


def _wait_answer(page: Page, *texts: str) -> str:
    answer = page.locator(".desk-answer")
    for text in texts:
        answer.filter(has_text=text).wait_for()
    return _answer(page)


def _field_has_focus(page: Page) -> bool:
    """The focus is back in the field (it returns a frame after the answer is shown)."""
    page.wait_for_function("document.activeElement && document.activeElement.id === 'desk-input'")
    return True


def _present(page: Page) -> str:
    return str(page.get_by_test_id("present").inner_text())


def test_check_in_by_typed_id_scanner_and_pinyin_search(
    live_server: LiveServer, browser: Any
) -> None:
    congress_id = _desk(live_server)
    page = admin_page(live_server, browser, f"/checkin?congress={congress_id}")
    field = page.get_by_label("学号或姓名")
    field.wait_for()
    page.get_by_text("至少 5 人（应到 6 人的 4/5 以上）").wait_for()
    assert _field_has_focus(page)
    quorum = page.locator(".quorum-line", has_text="主席团成员")
    see(quorum).to_contain_text("还差 5 人", use_inner_text=True)

    # Typed 学号 and the button.
    field.fill("2023001")
    page.get_by_role("button", name="按学号签到").click()
    text = _wait_answer(page, "王小明", "已签到")
    assert "计算机系代表团" in text
    assert _present(page) == "1"
    assert _field_has_focus(page)
    assert field.input_value() == ""

    # A scanner: keystrokes and Enter into the focused field, twice in a row, nothing clicked.
    page.keyboard.type("2023002\n")
    page.keyboard.type("2023003\n")
    _wait_answer(page, "李华", "已签到")
    assert _present(page) == "3"
    see(page.locator(".desk-recent")).to_contain_text(
        "王晓梅 · 外语系代表团 · 已签到", use_inner_text=True
    )
    # The same card again: the server's answer, with who it is.
    page.keyboard.type("2023003\n")
    text = _wait_answer(page, "李华 已经签到，不重复计数")
    assert "计算机系代表团" in text
    assert _present(page) == "3"
    # A card not on the roster.
    page.keyboard.type("2099999\n")
    _wait_answer(page, "代表名单中没有学号 2099999")
    assert "bad" in (page.locator(".desk-answer").get_attribute("class") or "")
    # The focus was taken elsewhere (a click on the page): the scanner's keys still land.
    page.get_by_role("heading", name="实到人数").click()
    page.keyboard.type("2023005\n")
    _wait_answer(page, "张伟", "已签到")
    assert _present(page) == "4"
    assert _field_has_focus(page)

    # Pinyin initials: both 王小明 (present) and 王晓梅 (present) are found; 单田芳 by s or d.
    field.fill("stf")
    row = page.locator(".desk-results tr", has_text="单田芳")
    row.wait_for()
    row.get_by_role("button", name="签到").click()
    _wait_answer(page, "单田芳", "已签到")
    assert _present(page) == "5"
    assert _field_has_focus(page)
    see(quorum).to_contain_text("已达到，可以发票", use_inner_text=True)
    delegation = page.locator("table.delegations tr", has_text="外语系代表团")
    assert delegation.locator("td").all_inner_texts() == ["外语系代表团", "2", "2"]

    # Check-out asks first; 取消 changes nothing, 签退 takes the delegate off the count.
    field.fill("wxm")
    row = page.locator(".desk-results tr", has_text="王小明")
    row.wait_for()
    assert page.locator(".desk-results tbody tr").count() == 2  # 王小明, 王晓梅
    row.get_by_role("button", name="签退").click()
    dialog = page.get_by_role("dialog")
    see(dialog).to_contain_text("签退后 王小明 不再计入实到人数", use_inner_text=True)
    dialog.get_by_role("button", name="取消").click()
    assert _present(page) == "5"
    assert _field_has_focus(page)
    row.get_by_role("button", name="签退").click()
    page.get_by_role("dialog").get_by_role("button", name="签退").click()
    _wait_answer(page, "王小明", "已签退")
    assert _present(page) == "4"
    see(quorum).to_contain_text("还差 1 人", use_inner_text=True)
    see(page.locator(".quorum-line", has_text="委员")).to_contain_text(
        "已达到", use_inner_text=True
    )
    row.get_by_role("button", name="签到").wait_for()
    assert _field_has_focus(page)

    # Assert through the API: the page did it.
    attendance = expect(live_server.api.get(f"/api/congresses/{congress_id}/attendance"), 200)
    assert attendance["present"] == 4
    present = expect(
        live_server.api.get(f"/api/congresses/{congress_id}/delegates", params={"present": True}),
        200,
    )
    assert sorted(d["student_id"] for d in present) == ["2023002", "2023003", "2023004", "2023005"]
    page.context.close()


def test_a_burst_of_scans_is_queued_not_dropped(live_server: LiveServer, browser: Any) -> None:
    """Scans typed faster than the answers come back: each is sent, in order, once."""
    congress = make_congress(live_server.api, delegates_total=30)
    delegates = make_roster(live_server.api, congress.id, 30)
    page = admin_page(live_server, browser, f"/checkin?congress={congress.id}")
    page.get_by_label("学号或姓名").wait_for()
    _field_has_focus(page)
    burst = [d.student_id for d in delegates] + [delegates[0].student_id]
    page.keyboard.type("".join(f"{student_id}\n" for student_id in burst))
    _wait_answer(page, f"{delegates[0].name} 已经签到，不重复计数")
    assert _present(page) == "30"
    recent = page.locator(".desk-recent li").all_inner_texts()
    assert [line.split(" ", 1)[1] for line in recent[:2]] == [
        f"{delegates[0].name} 已经签到，不重复计数 · {delegates[0].delegation}",
        f"{delegates[29].name} · {delegates[29].delegation} · 已签到",
    ]
    events = expect(live_server.api.get(f"/api/congresses/{congress.id}/events"), 200)
    checked_in = [e["payload"]["delegate_id"] for e in events if e["type"] == "delegate.checked_in"]
    assert checked_in == [d.id for d in delegates]
    page.context.close()


def test_another_desks_check_in_shows_within_seconds(live_server: LiveServer, browser: Any) -> None:
    congress_id = _desk(live_server)
    watching = admin_page(live_server, browser, f"/checkin?congress={congress_id}")
    other = admin_page(live_server, browser, f"/checkin?congress={congress_id}")
    other.get_by_label("学号或姓名").wait_for()
    other.keyboard.type("2023004\n")
    _wait_answer(other, "单田芳", "已签到")
    # The watching desk polls every 4 s.
    watching.locator('[data-testid="present"]', has_text="1").wait_for(timeout=9000)
    row = watching.locator("table.delegations tr", has_text="外语系代表团")
    assert row.locator("td").all_inner_texts() == ["外语系代表团", "1", "2"]
    watching.context.close()
    other.context.close()


def test_another_role_sees_the_counts_and_no_actions(live_server: LiveServer, browser: Any) -> None:
    from tests.builders import issue_code, make_official

    congress_id = _desk(live_server)
    presidium = make_official(live_server.api, congress_id, role="presidium", name="周主席")
    code = issue_code(live_server.api, congress_id, presidium.id).code
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    context.set_default_timeout(20000)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.get_by_label("登录码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r".*/presidium$"))
    page.goto(f"{live_server.url}/checkin")
    page.get_by_role("alert").filter(has_text="此页面不属于您的职责").wait_for()
    page.get_by_text("至少 5 人（应到 6 人的 4/5 以上）").wait_for()
    assert page.get_by_label("学号或姓名").is_disabled()
    assert page.get_by_role("button", name="按学号签到").is_disabled()
    page.keyboard.type("2023001\n")
    assert _present(page) == "0"
    context.close()


def test_checkin_is_accessible_at_every_size(live_server: LiveServer, browser: Any) -> None:
    congress_id = _desk(live_server)
    for n, (size, viewport) in enumerate(CONSOLE_SIZES.items()):
        page = admin_page(live_server, browser, f"/checkin?congress={congress_id}", viewport)
        page.get_by_label("学号或姓名").wait_for()
        page.keyboard.type(f"{ROSTER[n][2]}\n")
        _wait_answer(page, ROSTER[n][0])
        page.get_by_label("学号或姓名").fill("wxm")
        page.locator(".desk-results tr", has_text="王晓梅").wait_for()
        assert axe_violations(page) == [], size
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
        screenshot(page, f"checkin-{size}")
        page.context.close()
