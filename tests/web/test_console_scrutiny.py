"""/scrutiny in a real browser (issue 18 item 6): a discrepancy drawn with both passes and resolved
by picking the record that matches the paper, an unclear mark ruled (P6), the count status in words
(C1, I4), the decision with the engine's trace in Chinese (C1), the signatures over the decision's
hash (C2); a refusal of each action in the server's Chinese; a teller opening /scrutiny gets no
actions."""

import re
from typing import Any

from tests.builders import expect, login_official
from tests.web.conftest import CONSOLE_SIZES, axe_violations, see
from tests.web.counting_hall import (
    LI,
    LIU,
    OUYANG,
    PASS_A_1,
    PASS_B_1,
    PASSES_2,
    WANG,
    ZHANG,
    Page,
    collected_round,
    console,
    disputed_round,
    enter_pass,
    events,
    shoot,
)


def paper_region(page: Page, label: str) -> Any:
    return page.get_by_role("region", name=label)


def confirm(page: Page, ok: str) -> None:
    dialog = page.locator("dialog.confirm")
    dialog.wait_for()
    dialog.get_by_role("button", name=ok).click()


def test_scrutineers_adjudicate_decide_and_sign(live_server: Any, browser: Any) -> None:
    hall, (first, second) = disputed_round(live_server)
    api = hall.live.api
    page = console(hall, browser, hall.official("chief_scrutineer"), "/scrutiny")
    page.get_by_role("heading", name="主席团成员 · 第 1 轮（正式选举）").wait_for()

    # The count status in words: two batches wait for the scrutineers.
    page.get_by_text("1 个批次两遍录入不一致，待监票人裁定（见下方）").wait_for()
    see(page.get_by_text("1 个批次有无法辨认的符号，待监票人裁定（P6，见下方）")).to_be_visible()
    see(page.get_by_text("已核对选票 0 张 / 收回 8 张（C1）")).to_be_visible()
    # Deciding now is refused by the server, in Chinese; nothing is decided.
    page.get_by_role("button", name="作出决定").click()
    page.get_by_role("alert").filter(has_text="计票尚未完成（C1/I4）").wait_for()
    assert expect(api.get(f"/api/rounds/{hall.round_id}/decision"), 200)["decision_hash"] is None

    # The discrepancy, drawn like the paper, both passes side by side, the difference marked.
    dispute = paper_region(page, "第 1 批 · 两遍不一致的选票")
    papers = dispute.locator("figure.paper:not(.editing)")
    see(papers).to_have_count(2)
    first_pass, second_pass = papers.nth(0), papers.nth(1)
    see(first_pass.locator("figcaption")).to_have_text("第一遍（A）录入")
    see(second_pass.locator("figcaption")).to_have_text("第二遍（B）录入")
    see(first_pass.locator("tr th")).to_have_text([WANG, LIU, LI, ZHANG, OUYANG])
    see(first_pass.locator("tr .mark")).to_have_text(["✓", "×", "×", "✓", "×"])
    see(second_pass.locator("tr .mark")).to_have_text(["✓", "✓", "×", "✓", "×"])
    see(first_pass.locator("tr.diff th")).to_have_text(LIU)
    see(second_pass.locator("tr.diff")).to_have_count(1)
    see(first_pass.locator(".wbox")).to_have_count(3)  # three 另选他人 boxes, empty

    # Resolving needs a reason: the page says what is missing, nothing is sent.
    dispute.get_by_role("button", name="以第二遍为准").click()
    batch_one = page.get_by_role("article", name="第 1 批待裁定")
    batch_one.get_by_role("button", name="提交第 1 批裁定").click()
    batch_one.get_by_role("alert").filter(has_text="待填写裁定理由").wait_for()
    dispute.get_by_label("裁定理由").fill("核对原票：刘洋一栏为 ✓，第一遍录入有误")
    dispute.get_by_text("已裁定：以第二遍为准。").wait_for()
    batch_one.get_by_role("button", name="提交第 1 批裁定").click()
    page.get_by_text("第 1 批已裁定，核对完成。").wait_for()
    batch_one.wait_for(state="detached")

    # The unclear mark, drawn with its "?", ruled ✓ with a reason.
    unclear = paper_region(page, "第 2 批 · 有无法辨认符号的选票")
    drawn = unclear.locator("figure.paper")
    see(drawn.locator("tr").nth(2).locator(".mark")).to_have_text("?")
    ruling = unclear.get_by_role("group", name=f"{LI}：无法辨认的符号（?）裁定为")
    ruling.get_by_label("✓ 赞成").check()
    unclear.get_by_label("裁定理由").fill("原票李娜一栏为 ✓，笔迹较淡")
    page.get_by_role("button", name="提交第 2 批裁定").click()
    page.get_by_text("第 2 批已裁定，核对完成。").wait_for()
    page.get_by_text("全部选票已录入并核对完毕（C1、I4），可以作出决定。").wait_for()
    see(page.get_by_text("目前没有待裁定的选票。")).to_be_visible()

    resolved = events(hall, "batch.resolved")
    assert [e["payload"]["batch_id"] for e in resolved] == [first, second]
    assert resolved[0]["payload"]["records"] == [
        {"marks": ["yes", "yes", "no", "yes", "no"], "void": None, "write_ins": []}
    ]
    assert "以第二遍为准" in resolved[0]["payload"]["reason"]
    assert "第一遍录入有误" in resolved[0]["payload"]["reason"]
    assert resolved[1]["payload"]["records"] == [
        {"marks": ["yes", "no", "yes", "no", "no"], "void": None, "write_ins": []}
    ]
    assert "李娜 的符号裁定为赞成" in resolved[1]["payload"]["reason"]

    # Decide (C1), confirmed: the outcome and the engine's trace in Chinese.
    page.get_by_role("button", name="作出决定").click()
    confirm(page, "作出决定")
    page.get_by_role("heading", name="计票结果").wait_for()
    decision = expect(api.get(f"/api/rounds/{hall.round_id}/decision"), 200)
    assert decision["result"]["elected"] == [WANG, LIU]
    see(page.locator(".outcome")).to_have_text(f"{WANG}、{LIU} 当选")
    see(page.get_by_text("须另行选举：应选 1 名，候选人")).to_be_visible()
    see(
        page.get_by_text(
            "当选最低票数（过半数） 5 票：以实到人数 8 为基数，赞成票须超过 8 × ½ = 4 票"
        )
    ).to_be_visible()
    tally = page.locator("table.tally tbody tr")
    for i, name in enumerate([WANG, LIU, LI]):  # the hidden 另选他人 tag is not read
        see(tally.nth(i).locator("th")).to_have_text(name, use_inner_text=True)
    see(tally.nth(0).locator("td").last).to_have_text("当选")
    see(tally.nth(2).locator("td").last).to_have_text("未过半数（差 1 票）")
    trace = page.locator("ol.trace")
    see(trace.get_by_text(f"{WANG} 得赞成票 8 票，超过半数")).to_be_visible()
    see(trace.get_by_text(f"{LI} 得赞成票 4 票，未超过半数（差 1 票）")).to_be_visible()
    rules = trace.locator("li .rule-id").all_inner_texts()
    assert rules[0] == "Q1"
    assert {"I3", "I4", "M2", "M6"} <= set(rules)
    assert not re.search(r"\b(yes|seats_filled|supplementary|present)\b", page.inner_text("main"))

    # Sign (C2): the hash being signed is the decision's; the report opens as a PDF.
    hash_shown = page.locator("[data-hash]").inner_text().replace(" ", "")
    assert hash_shown == decision["decision_hash"]
    with page.expect_popup() as popup:
        page.get_by_role("button", name="查看选举结果报告单（PDF）").click()
    popup.value.close()
    page.get_by_text("还需要：总监票人签字、至少一名监票人签字（C2）。").wait_for()
    page.get_by_role("button", name="签字确认").click()
    confirm(page, "签字确认")
    page.get_by_text("总监票人 chief_scrutineer1号").wait_for()
    page.get_by_text("还需要：至少一名监票人签字（C2）。").wait_for()
    see(page.get_by_text("您已签字。")).to_be_visible()
    shoot(page, "console-scrutiny-signed-once")

    other = console(hall, browser, hall.official("scrutineer"), "/scrutiny")
    other.get_by_role("button", name="签字确认").click()
    confirm(other, "签字确认")
    other.get_by_text("已由总监票人和监票人签字确认（C2），本轮结果已冻结").wait_for()
    see(other.get_by_text("监票人 scrutineer1号")).to_be_visible()
    page.get_by_text("已由总监票人和监票人签字确认（C2）").wait_for()  # live on the first page
    certified = expect(api.get(f"/api/rounds/{hall.round_id}/decision"), 200)
    assert certified["certified"]
    assert sorted(s["role"] for s in certified["signatures"]) == ["chief_scrutineer", "scrutineer"]
    # The decided and certified round at every size: axe clean, no sideways scroll.
    for size, viewport in CONSOLE_SIZES.items():
        other.set_viewport_size(viewport)
        assert axe_violations(other) == [], size
        assert other.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
        shoot(other, f"console-scrutiny-decided-{size}")
    other.context.close()
    page.context.close()


def test_one_batch_with_a_discrepancy_and_an_unclear_mark(live_server: Any, browser: Any) -> None:
    hall = collected_round(live_server)
    api = hall.live.api
    tellers = [hall.official("teller", n) for n in range(2)]
    body = {"declared_count": 8, "teller_a_id": tellers[0], "teller_b_id": tellers[1]}
    batch = expect(api.post(f"/api/rounds/{hall.round_id}/batches", json=body), 201)["id"]
    sessions = [login_official(api, hall.congress_id, t) for t in tellers]
    # Pass A misreads paper 3 and reads paper 7's 李娜 as "?"; pass B reads paper 7 as "?" too.
    enter_pass(hall, sessions[0], batch, PASS_A_1 + PASSES_2, "a")
    enter_pass(hall, sessions[1], batch, PASS_B_1 + PASSES_2, "b")
    page = console(hall, browser, hall.official("chief_scrutineer"), "/scrutiny")
    dispute = paper_region(page, "第 1 批 · 两遍不一致的选票")
    unclear = paper_region(page, "第 1 批 · 有无法辨认符号的选票")
    dispute.get_by_role("button", name="以第二遍为准").click()
    dispute.get_by_label("裁定理由").fill("原票刘洋一栏为 ✓")
    submit = page.get_by_role("button", name="提交第 1 批裁定")
    submit.click()
    alert = page.get_by_role("article", name="第 1 批待裁定").get_by_role("alert")
    alert.filter(has_text="还有 1 张未裁定完").wait_for()
    see(alert).to_contain_text("每个无法辨认的符号（?）都要裁定")
    unclear.get_by_label("无效（按弃权计）").check()
    unclear.get_by_label("裁定理由").fill("原票李娜一栏涂改，无法辨认")
    submit.click()
    page.get_by_text("第 1 批已裁定，核对完成。").wait_for()
    [resolved] = events(hall, "batch.resolved")
    assert sorted(r["marks"] for r in resolved["payload"]["records"]) == [
        ["yes", "no", "illegible", "no", "no"],
        ["yes", "yes", "no", "yes", "no"],
    ]
    reason = resolved["payload"]["reason"]
    assert "两遍不一致的选票：以第二遍为准。理由：原票刘洋一栏为 ✓" in reason
    assert "李娜 的符号裁定为无效（按弃权计）。理由：原票李娜一栏涂改，无法辨认" in reason
    page.context.close()


def test_correcting_marks_on_the_drawn_paper_and_its_refusal(
    live_server: Any, browser: Any
) -> None:
    hall, (first, _) = disputed_round(live_server)
    api = hall.live.api
    page = console(hall, browser, hall.official("scrutineer"), "/scrutiny")
    dispute = paper_region(page, "第 1 批 · 两遍不一致的选票")
    dispute.get_by_role("button", name="按原票改正符号").click()
    edited = dispute.locator("figure.editing")
    # Tap 刘洋's × : it becomes △, then blank, then 无效, then ✓.
    for expected in ("弃权", "未划（按弃权计）", "无效（按弃权计）", "赞成"):
        edited.get_by_role("button", name=re.compile(f"^{LIU}：")).click()
        edited.get_by_role("button", name=f"{LIU}：{expected}，点按更换").wait_for()
    # A write-in that is not a name: the server refuses, in Chinese; nothing is resolved.
    edited.get_by_label("第 1 栏").fill("12345")
    dispute.get_by_label("裁定理由").fill("按原票改正")
    page.get_by_role("button", name="提交第 1 批裁定").click()
    alert = page.get_by_role("article", name="第 1 批待裁定").get_by_role("alert")
    alert.filter(has_text="姓名").wait_for()
    shoot(page, "console-scrutiny-correcting")
    assert not re.search(r"[A-Za-z]{4,}", alert.inner_text())
    listed = expect(api.get(f"/api/rounds/{hall.round_id}/batches"), 200)["batches"]
    assert listed[0]["progress"]["status"] == "discrepancy"
    edited.get_by_label("第 1 栏").fill("")
    page.get_by_role("button", name="提交第 1 批裁定").click()
    page.get_by_text("第 1 批已裁定，核对完成。").wait_for()
    [resolved] = events(hall, "batch.resolved")
    assert resolved["payload"]["batch_id"] == first
    assert resolved["payload"]["records"][0]["marks"] == ["yes", "yes", "no", "yes", "no"]
    assert "按原票改正符号" in resolved["payload"]["reason"]
    page.context.close()


def test_reentry_is_confirmed_and_shows_on_count(live_server: Any, browser: Any) -> None:
    hall, (first, _) = disputed_round(live_server)
    page = console(hall, browser, hall.official("scrutineer"), "/scrutiny")
    batch = page.get_by_role("article", name="第 1 批待裁定")
    batch.get_by_text("责令第 1 批重新录入…").click()
    batch.get_by_role("button", name="责令重新录入").click()
    batch.get_by_role("alert").filter(has_text="请写明责令重新录入的理由。").wait_for()
    batch.get_by_label("重新录入理由").fill("两遍差异无法对应原票")
    batch.get_by_role("button", name="责令重新录入").click()
    dialog = page.locator("dialog.confirm")
    see(dialog).to_contain_text("第 1 批两遍的录入将全部作废")
    dialog.get_by_role("button", name="取消").click()
    see(page.get_by_role("article", name="第 1 批待裁定")).to_be_visible()
    batch.get_by_role("button", name="责令重新录入").click()
    confirm(page, "责令重新录入")
    page.get_by_text("已责令第 1 批重新录入").wait_for()
    listed = expect(hall.live.api.get(f"/api/rounds/{hall.round_id}/batches"), 200)["batches"]
    assert listed[0]["id"] == first
    assert listed[0]["progress"]["generation"] == 2
    page.context.close()

    chief_teller = console(hall, browser, hall.official("chief_teller"), "/count")
    row = chief_teller.locator("tr[data-batch='1']")
    row.get_by_text("第 2 次录入").wait_for()
    see(row.locator(".reentry")).to_contain_text("两遍差异无法对应原票")
    chief_teller.context.close()


def test_a_teller_opening_scrutiny_gets_no_actions(live_server: Any, browser: Any) -> None:
    hall, _ = disputed_round(live_server)
    page = console(hall, browser, hall.official("teller", 4), "/scrutiny")
    page.get_by_role("alert").filter(has_text="此页面不属于您的职责（计票人）").wait_for()
    page.get_by_text("1 个批次两遍录入不一致，待监票人裁定（见下方）").wait_for()
    for name in ("作出决定", "以第一遍为准", "以第二遍为准", "签字确认", "责令重新录入"):
        assert not page.get_by_role("button", name=name).is_visible(), name
    assert page.get_by_role("button", name=re.compile("提交.*裁定")).count() == 0
    page.context.close()


def test_scrutiny_page_sizes_and_accessibility(live_server: Any, browser: Any) -> None:
    hall, _ = disputed_round(live_server)
    chief = hall.official("chief_scrutineer")
    for size, viewport in CONSOLE_SIZES.items():
        page = console(hall, browser, chief, "/scrutiny", viewport)
        paper_region(page, "第 1 批 · 两遍不一致的选票").wait_for()
        page.get_by_role("button", name="以第一遍为准").click()
        assert axe_violations(page) == [], size
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
        shoot(page, f"console-scrutiny-queue-{size}")
        page.context.close()
