"""Round control ``/rounds`` (issue 18 item 4) in a real browser: opening round 1 is refused below
quorum (Q1) and accepted once the desk has checked enough delegates in, after showing what will be
frozen; the papers download as a PDF with the chosen options (pages counted, the QR code of a
rasterized page decoded); issuance (I1 refused, then recorded) and collection; an overcount (I2)
shows the void round and its rerun in red, also when the rerun could not open at once."""

import re
from pathlib import Path
from typing import Any

from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from tests.builders import (
    SEED_BALLOT_ORDER,
    add_candidate,
    check_in,
    expect,
    issue_and_collect,
    issue_code,
    make_congress,
    make_election,
    make_ready_election,
    make_roster,
    open_round,
    tie_round_opened,
)
from tests.chinese_text import page_offences
from tests.printing.helpers import pages, rasterize, scan
from tests.web.conftest import CONSOLE_SIZES, LAPTOP, LiveServer, axe_violations, screenshot, see
from tests.web.pages import admin_page

Page = Any  # playwright.sync_api.Page
# Composing the papers takes seconds on a busy machine (fonts subset, QR drawn).
PDF_TIMEOUT = 60_000


def _confirm(page: Page, ok: str, *says: str) -> None:
    dialog = page.get_by_role("dialog")
    for text in says:
        see(dialog).to_contain_text(text, use_inner_text=True)
    dialog.get_by_role("button", name=ok, exact=True).click()


def _check_in(page: Page, student_id: str) -> None:
    """The desk (another tab of the same session) checks a delegate in by scanner."""
    desk = page.context.new_page()
    desk.goto(page.url.replace("/rounds", "/checkin"))
    desk.get_by_label("学号或姓名").wait_for()
    desk.wait_for_function("document.activeElement && document.activeElement.id === 'desk-input'")
    desk.keyboard.type(student_id + "\n")
    desk.locator(".desk-answer", has_text="已签到").wait_for()
    desk.close()


def _check_out(page: Page, name: str) -> None:
    desk = page.context.new_page()
    desk.goto(page.url.replace("/rounds", "/checkin"))
    desk.get_by_label("学号或姓名").fill(name)
    desk.locator(".desk-results tr", has_text=name).get_by_role("button", name="签退").click()
    desk.get_by_role("dialog").get_by_role("button", name="签退").click()
    desk.locator(".desk-answer", has_text="已签退").wait_for()
    desk.close()


def _round(page: Page, number: int) -> Any:
    return page.locator(
        ".round-card", has=page.get_by_role("heading", name=re.compile(f"^第 {number} 轮"))
    )


def test_open_print_issue_and_collect_round_one(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    api = live_server.api
    ready = make_ready_election(api, delegates_total=10, present=7)  # Q1: 8 of 10
    page = admin_page(live_server, browser, f"/rounds?congress={ready.congress.id}")
    open_button = page.get_by_role("button", name="开启第 1 轮")
    open_button.wait_for()

    # What will be frozen, before anything is.
    preview = page.locator(".open-preview")
    assert preview.locator(".name-order li").all_inner_texts() == SEED_BALLOT_ORDER
    text = preview.inner_text()
    assert "3 名" in text
    assert "7 人（法定人数至少 8 人，还差 1 人）" in text
    assert "选举所需出席比例：五分之四（Q1）" in text
    assert "✗" not in text  # drawn by CSS; the words say it
    assert "法定人数不足（Q1）：实到 7 人，至少须 8 人" in text

    open_button.click()
    _confirm(page, "开启", "候选人名单、应选人数和规则将冻结")
    preview.get_by_role("alert").filter(
        has_text="实到 7 人，不足法定人数 8 人（应到 10 人），不能发出选票（Q1）"
    ).wait_for()
    assert expect(api.get(f"/api/elections/{ready.election.id}/rounds"), 200)["rounds"] == []

    _check_in(page, ready.delegates[7].student_id)
    preview.get_by_text("8 人（法定人数至少 8 人，已达到）").wait_for(timeout=9000)  # polled
    open_button.click()
    _confirm(page, "开启", "确定开启？")
    card = _round(page, 1)
    card.wait_for()
    [round_] = expect(api.get(f"/api/elections/{ready.election.id}/rounds"), 200)["rounds"]
    page.get_by_text(
        f"第 1 轮已开启，定义已冻结（哈希 {round_['definition_hash'][:12]}…）"
    ).wait_for()
    assert card.locator(".name-order li").all_inner_texts() == SEED_BALLOT_ORDER
    frozen = card.locator(".frozen-def").inner_text()
    assert "实到（开启时）\n8 人" in frozen or "实到（开启时）\t8 人" in frozen, frozen
    assert round_["definition_hash"][:12] in frozen
    assert "本轮选举无效的标准：多于实到代表人数（I2）" in frozen
    see(card.get_by_role("heading", level=3)).to_contain_text(
        "已开启，尚未发出选票", use_inner_text=True
    )
    assert page.get_by_role("button", name="开启第 1 轮").count() == 0

    # Print: the options as controls; the PDF arrives through the session (no token in a URL).
    card.get_by_label("印制份数").fill("3")
    card.get_by_label("纸张大小").select_option("A5")
    card.get_by_label("每页张数").select_option("1")
    with page.expect_download(timeout=PDF_TIMEOUT) as info:
        card.get_by_role("button", name="下载第 1 轮选票（PDF）").click()
    pdf = tmp_path / "papers.pdf"
    info.value.save_as(pdf)
    assert info.value.suggested_filename == "主席团成员-第1轮选票.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pages(pdf) == 3
    payload = encode_payload(
        key=load_or_create_qr_key(live_server.settings.data_dir),
        election_id=ready.election.id,
        round_number=1,
        definition_hash=round_["definition_hash"],
    )
    assert scan(rasterize(pdf, page=2)) == [payload]
    card.get_by_text("已下载第 1 轮选票 3 份").wait_for(timeout=PDF_TIMEOUT)
    # The layout's defaults (A4, two papers a page) for the present count: 8 papers, 4 pages.
    card.get_by_label("印制份数").fill("")
    card.get_by_label("纸张大小").select_option("")
    card.get_by_label("每页张数").select_option("")
    with page.expect_download(timeout=PDF_TIMEOUT) as info:
        card.get_by_role("button", name="下载第 1 轮选票（PDF）").click()
    info.value.save_as(tmp_path / "default.pdf")
    assert pages(tmp_path / "default.pdf") == 4
    # A refusal of the printing endpoint reaches the page in Chinese.
    card.get_by_label("纸张大小").select_option("A5")
    card.get_by_label("每页张数").select_option("2")
    card.get_by_role("button", name="下载第 1 轮选票（PDF）").click()
    card.get_by_role("alert").filter(has_text="选票无法按所选纸张排版").wait_for(
        timeout=PDF_TIMEOUT
    )

    # Issuance: I1 shown as typed, refused by the server, then recorded.
    card.get_by_label("印制选票数").fill("10")
    card.get_by_label("发出选票数").fill("9")
    checks = card.locator(".round-checks li.bad")
    assert checks.all_inner_texts() == ["I1：发出 9 张，多于实到人数 8 人，不能登记"]
    card.get_by_role("button", name="登记第 1 轮发出选票").click()
    _confirm(page, "登记", "实到人数冻结为现在的 8 人", "剩余 1 张选票记为当众销毁")
    card.get_by_role("alert").filter(has_text="发出选票 9 张多于实到人数 8 人（I1）").wait_for()
    card.get_by_label("发出选票数").fill("8")
    card.get_by_role("button", name="登记第 1 轮发出选票").click()
    _confirm(page, "登记", "剩余 2 张选票记为当众销毁")
    card.get_by_text(
        "已登记：印制 10 张，发出 8 张，当众销毁 2 张；本轮实到冻结为 8 人。"
    ).wait_for()
    numbers = card.locator(".round-numbers").inner_text()
    assert re.sub(r"\s+", " ", numbers).strip() == "印制 10 发出 8 当众销毁 2 收回 —"
    see(card.get_by_role("heading", level=3)).to_contain_text("已发出选票", use_inner_text=True)

    # Collection.
    card.get_by_label("收回选票数").fill("8")
    assert card.locator(".round-checks li.bad").count() == 0
    card.get_by_role("button", name="登记第 1 轮收回选票").click()
    _confirm(page, "登记", "登记第 1 轮收回选票 8 张后不能更改")
    card.get_by_text("已登记收回 8 张").wait_for()
    see(card.get_by_role("heading", level=3)).to_contain_text("已收回选票", use_inner_text=True)
    link = card.get_by_role("link", name="第 1 轮计票批次")
    assert link.get_attribute("href") == f"/count?round={round_['id']}"
    assert card.get_by_role("link", name="看板").get_attribute("href") == (
        f"/dashboard?election={ready.election.id}"
    )
    after = expect(api.get(f"/api/rounds/{round_['id']}"), 200)
    assert (after["printed"], after["issued"], after["collected"], after["present"]) == (
        10,
        8,
        8,
        8,
    )
    assert after["status"] == "collected"
    page.context.close()


def test_not_competitive_and_staffing_refusals_are_shown(
    live_server: LiveServer, browser: Any
) -> None:
    """A congress with no officials yet (O2) and two elections, one with as many candidates as
    seats (六.4): each refusal in the server's words, beside the checklist that foretold it."""
    api = live_server.api
    congress = make_congress(api, delegates_total=5)
    check_in(api, congress.id, make_roster(api, congress.id, 5))
    uncontested = make_election(api, congress.id, title="主席团成员", seats=3)
    staffed_not = make_election(api, congress.id, title="委员", seats=3)
    for name in SEED_BALLOT_ORDER[:3]:
        add_candidate(api, uncontested.id, name)
    for name in SEED_BALLOT_ORDER:
        add_candidate(api, staffed_not.id, name)
    page = admin_page(live_server, browser, f"/rounds?congress={congress.id}")

    first = page.get_by_role("region", name="主席团成员", exact=True)
    first.get_by_role("button", name="开启第 1 轮").click()
    _confirm(page, "开启")
    refusal = "差额选举要求候选人多于应选名额：应选 3 名，现有候选人 3 名"
    first.get_by_role("alert").filter(has_text=refusal).wait_for()
    assert refusal in first.locator(".round-checks li.bad").all_inner_texts()

    second = page.get_by_role("region", name="委员", exact=True)
    second.get_by_role("button", name="开启第 1 轮").click()
    _confirm(page, "开启")
    second.get_by_role("alert").filter(has_text="选举工作人员配备不符合要求").wait_for()
    assert (
        "计票人应为 5 人，现有 0 人（O2）"
        in second.locator(".round-checks li.bad").all_inner_texts()
    )
    for election in (uncontested, staffed_not):
        assert expect(api.get(f"/api/elections/{election.id}/rounds"), 200)["rounds"] == []
    page.context.close()


def test_an_overcount_shows_the_void_round_and_its_rerun_in_red(
    live_server: LiveServer, browser: Any
) -> None:
    api = live_server.api
    ready = make_ready_election(api, delegates_total=10, present=8)
    page = admin_page(live_server, browser, f"/rounds?congress={ready.congress.id}")
    page.get_by_role("button", name="开启第 1 轮").click()
    _confirm(page, "开启")
    card = _round(page, 1)
    # Issuance checks Q1 again against the desk now: one delegate has left since the opening.
    _check_out(page, ready.delegates[1].name)
    card.locator(".round-checks li.bad", has_text="Q1：现在实到 7 人，法定人数至少 8 人").wait_for(
        timeout=9000
    )
    card.get_by_label("印制选票数").fill("8")
    card.get_by_label("发出选票数").fill("7")
    card.get_by_role("button", name="登记第 1 轮发出选票").click()
    _confirm(page, "登记", "实到人数冻结为现在的 7 人")
    card.get_by_role("alert").filter(
        has_text="实到 7 人，不足法定人数 8 人（应到 10 人），不能发出选票（Q1）"
    ).wait_for()
    _check_in(page, ready.delegates[1].student_id)
    card.locator(".round-checks li.ok", has_text="Q1：现在实到 8 人").wait_for(timeout=9000)
    card.get_by_label("发出选票数").fill("8")
    card.get_by_role("button", name="登记第 1 轮发出选票").click()
    _confirm(page, "登记", "实到人数冻结为现在的 8 人")
    card.get_by_label("收回选票数").wait_for()

    # A delegate leaves after the papers went out: the rerun will lack its quorum (7 of 8).
    _check_out(page, ready.delegates[0].name)
    card.get_by_label("收回选票数").fill("9")
    assert card.locator(".round-checks li.bad").all_inner_texts() == [
        "I2：收回 9 张，多于实到人数 8 人",
        "I2：收回 9 张，多于发出的选票 8 张",
        "登记后本轮选举将无效，须重新选举",
    ]
    card.get_by_role("button", name="登记第 1 轮收回选票").click()
    _confirm(
        page, "登记", "收回 9 张多于实到人数 8 人、发出的选票 8 张", "选举无效，须重新选举（I2）"
    )
    card.get_by_role("alert").filter(
        has_text="重新选举未能开启：实到 7 人，不足法定人数 8 人（应到 10 人），不能发出选票（Q1）"
    ).wait_for()
    void_box = card.locator(".void-box")
    see(void_box).to_contain_text(
        "收回选票 9 张，多于实到人数 8：选举无效，应重新选举", use_inner_text=True
    )
    see(void_box).to_contain_text("重新选举尚未开启", use_inner_text=True)
    rerun_button = page.get_by_role("button", name="开启第 2 轮（重新选举）")
    see(rerun_button).to_be_visible()

    _check_in(page, ready.delegates[0].student_id)
    page.get_by_text("8 人（法定人数至少 8 人，已达到）").wait_for(timeout=9000)
    rerun_button.click()
    _confirm(page, "开启", "开启第 2 轮重新选举后")
    rerun = _round(page, 2)
    rerun.wait_for()

    # Both in red: the void round with the rule's words and a link to its rerun, the rerun.
    assert "card" not in (card.get_attribute("class") or "").split()
    assert "void" in (card.get_attribute("class") or "").split()
    assert "rerun" in (rerun.get_attribute("class") or "").split()
    red = "rgb(198, 40, 40)"
    assert void_box.evaluate("e => getComputedStyle(e).borderTopColor") == red
    assert rerun.evaluate("e => getComputedStyle(e).borderLeftColor") == red
    see(card.get_by_role("heading", level=3)).to_contain_text(
        "第 1 轮 · 正式选举", use_inner_text=True
    )
    see(card.get_by_role("heading", level=3)).to_contain_text("已宣布无效", use_inner_text=True)
    see(void_box).to_contain_text(
        "I2：收回的选票多于实到人数（本轮 8 人）或多于发出的选票（8 张）时，本轮选举无效",
        use_inner_text=True,
    )
    see(rerun.get_by_role("heading", level=3)).to_contain_text(
        "第 2 轮 · 重新选举", use_inner_text=True
    )
    see(rerun).to_contain_text("第 1 轮无效，本轮为重新选举", use_inner_text=True)
    assert rerun.locator(".name-order li").all_inner_texts() == SEED_BALLOT_ORDER
    void_box.get_by_role("link", name="转到重新选举：第 2 轮 →").click()
    rounds = expect(api.get(f"/api/elections/{ready.election.id}/rounds"), 200)["rounds"]
    assert [(r["number"], r["kind"], r["status"]) for r in rounds] == [
        (1, "regular", "void"),
        (2, "rerun", "open"),
    ]
    assert page.url.endswith(f"#round-{rounds[1]['id']}")
    page.context.close()


def test_another_role_sees_the_rounds_and_no_actions(live_server: LiveServer, browser: Any) -> None:
    api = live_server.api
    ready = make_ready_election(api, delegates_total=10, present=8)
    code = issue_code(api, ready.congress.id, ready.officials["chief_teller"][0].id).code
    round_ = open_round(api, ready.election.id)
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    context.set_default_timeout(20000)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.get_by_label("登录码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(re.compile(r".*/count$"))
    page.goto(f"{live_server.url}/rounds")
    page.get_by_role("alert").filter(has_text="此页面不属于您的职责").wait_for()
    card = _round(page, 1)
    card.wait_for()
    assert card.get_by_role("button", name="下载第 1 轮选票（PDF）").is_disabled()
    assert card.get_by_role("button", name="登记第 1 轮发出选票").is_disabled()
    assert expect(api.get(f"/api/rounds/{round_.id}"), 200)["status"] == "open"
    context.close()


def test_rounds_page_is_accessible_at_every_size(live_server: LiveServer, browser: Any) -> None:
    api = live_server.api
    ready = make_ready_election(api, delegates_total=10, present=8)
    first = open_round(api, ready.election.id)
    issue_and_collect(api, first.id, printed=10, issued=8, collected=9)  # I2: void, rerun opens
    second = make_election(api, ready.congress.id, title="委员", seats=2)  # not opened: preview
    for name in SEED_BALLOT_ORDER[:4]:
        add_candidate(api, second.id, name)
    for size, viewport in CONSOLE_SIZES.items():
        page = admin_page(live_server, browser, f"/rounds?congress={ready.congress.id}", viewport)
        _round(page, 2).wait_for()
        page.get_by_role("button", name="开启第 1 轮").wait_for()
        _round(page, 2).get_by_label("印制选票数").fill("9")
        _round(page, 2).get_by_label("发出选票数").fill("9")
        assert axe_violations(page) == [], size
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, f"rounds-{size}")
        page.context.close()


def test_a_tie_round_shows_with_its_kind_and_state(live_server: LiveServer, browser: Any) -> None:
    """A follow-up round the presidium opened (M7): shown as a round of the election, with its
    kind in Chinese, where it came from, and the printing and issuance it now needs."""
    h, tie = tie_round_opened(live_server.api, live_server.settings)
    page = admin_page(live_server, browser, f"/rounds?congress={h.ready.congress.id}")
    first, second = _round(page, 1), _round(page, 2)
    second.wait_for()
    see(first.get_by_role("heading", level=3)).to_contain_text(
        "第 1 轮 · 正式选举", use_inner_text=True
    )
    see(first.get_by_role("heading", level=3)).to_contain_text("已认证", use_inner_text=True)
    heading = second.get_by_role("heading", level=3)
    see(heading).to_contain_text("第 2 轮 · 票数相等重新投票", use_inner_text=True)
    see(heading).to_contain_text("已开启，尚未发出选票", use_inner_text=True)
    see(second).to_contain_text(
        "由第 1 轮的计票结果产生，经大会主席团确认开启", use_inner_text=True
    )
    assert second.locator(".name-order li").all_inner_texts() == tie["candidates"]
    assert second.get_by_role("button", name="登记第 2 轮发出选票").is_enabled()
    assert page.get_by_role("button", name=re.compile("^开启")).count() == 0
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "rounds-tie-laptop")
    page.context.close()


def test_both_pages_text_is_chinese(client: Any) -> None:
    """tests/test_chinese.py's check of a served page, for /rounds and /checkin (their scripts'
    strings are walked there with every other script's)."""
    for path in ("/rounds", "/checkin"):
        response = client.get(path)
        assert response.status_code == 200
        assert '<html lang="zh-CN">' in response.text
        assert page_offences(response.text) == [], path
