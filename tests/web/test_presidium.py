"""The presidium's page ``/presidium`` (issue 18 item 7) in a real browser: the live tallies and
the presidium's decisions, each driven by its Chinese label and button like a person would, each
with its one-sentence confirmation, its success and its refusal (the server's message_zh) seen on
the page. The API is read only to assert; the set-up (counting, signing) is other roles' work."""

import json
import re
from typing import Any

from tests.builders import (
    FILLED,
    LI,
    LIU,
    OUYANG,
    SEED_BALLOT_ORDER,
    SHORT,
    TIED,
    WANG,
    WRITTEN_IN,
    ZHANG,
    ZHAO,
    Hall,
    enter,
    enter_batch,
    expect,
    hall,
    make_official,
    new_batch,
)
from tests.chinese_text import page_offences
from tests.web.conftest import CONSOLE_SIZES, LAPTOP, LiveServer, axe_violations, screenshot, see
from tests.web.pages import confirm, no_horizontal_scroll, open_console, session_of

Page = Any


def decided(h: Hall, papers: list[list[str]]) -> None:
    enter_batch(h, papers)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)


def presidium_page(
    browser: Any, live: LiveServer, h: Hall, viewport: dict[str, int] = LAPTOP
) -> Page:
    session = session_of(h.api, h.presidium)
    page = open_console(
        browser, live, session, f"/presidium?election={h.ready.election.id}", viewport
    )
    page.locator(f"#round-{h.round_id}").wait_for()
    return page


def rounds_of(h: Hall) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = expect(
        h.api.get(f"/api/elections/{h.ready.election.id}/rounds"), 200
    )["rounds"]
    return listed


def stage(frame: Any) -> tuple[str, str | None, str]:
    """What a projector shows: its text, its number of table columns and its type size."""
    text: str = frame.locator("#stage").inner_text()
    columns = frame.locator("body").get_attribute("data-columns")
    size: str = frame.evaluate("getComputedStyle(document.documentElement).fontSize")
    return text, columns, size


def test_tie_round_released_with_its_preview_then_confirmed(
    live_server: LiveServer, browser: Any
) -> None:
    h = hall(live_server.api, live_server.settings, seats=2)
    decided(h, TIED)
    before = expect(h.presidium.get(f"/api/elections/{h.ready.election.id}/live"), 200)
    page = presidium_page(browser, live_server, h)
    try:
        card = page.get_by_role("region", name="公布第 1 轮结果")
        preview = page.frame_locator("iframe.projector-frame")
        preview.locator("#result").wait_for(state="visible")
        frame = next(f for f in page.frames if "preview=" in f.url)
        previews = {"1920x1080": stage(frame)}
        assert "末位票数相等" in previews["1920x1080"][0]
        page.get_by_label("大屏尺寸").select_option("1024x768")
        frame.wait_for_function("innerWidth === 1024")
        frame.wait_for_function(
            "document.documentElement.scrollHeight <= innerHeight"
        )  # fitted again
        previews["1024x768"] = stage(frame)
        screenshot(page, "presidium-release-preview")
        # The follow-up round waits for the release (C3 before M5).
        tie_button = page.get_by_role("button", name="开启第 2 轮票数相等重新投票")
        assert tie_button.is_disabled()
        see(page.locator("main")).to_contain_text(
            "须先向会场公布第 1 轮结果（C3）", use_inner_text=True
        )

        card.get_by_role("button", name="向会场公布第 1 轮结果").click()
        confirm(page, "第 1 轮的得票和当选人将立即显示在会场大屏上，不能撤回", "公布")
        page.get_by_role("status").filter(has_text="第 1 轮的结果已向会场公布").wait_for()
        card.wait_for(state="detached")
        assert rounds_of(h)[0]["status"] == "certified"
        released = expect(h.api.get(f"/api/elections/{h.ready.election.id}/live"), 200)
        assert released["rounds"][0]["released"] is not None

        # Another presidium member's page that missed the release (its stream stuck on the state
        # before it) is refused with the server's reason.
        stale = open_console(browser, live_server, session_of(h.api, h.presidium), "/", LAPTOP)
        try:
            body = f"event: snapshot\nid: {before['height']}\ndata: {json.dumps(before)}\n\n"
            stale.route(
                re.compile(r".*/api/elections/\d+/live\?token=.*"),
                lambda route: route.fulfill(
                    status=200, headers={"Content-Type": "text/event-stream"}, body=body
                ),
            )
            stale.goto(f"{live_server.url}/presidium?election={h.ready.election.id}")
            stale_card = stale.get_by_role("region", name="公布第 1 轮结果")
            stale_card.get_by_role("button", name="向会场公布第 1 轮结果").click()
            confirm(stale, "不能撤回", "公布")
            stale_card.get_by_role("alert").filter(has_text="本轮结果已公布").wait_for()
        finally:
            stale.context.close()

        # The hall's screen shows exactly what the preview showed, at both sizes.
        for size, (width, height) in (("1920x1080", (1920, 1080)), ("1024x768", (1024, 768))):
            hall_page = open_console(browser, live_server, session_of(h.api, h.presidium),
                                     f"/projector?election={h.ready.election.id}",
                                     {"width": width, "height": height})  # fmt: skip
            try:
                hall_page.locator("#result").wait_for(state="visible")
                assert stage(hall_page) == previews[size], size
            finally:
                hall_page.context.close()

        # The tie round: exactly the tied persons, the rule in words.
        follow = page.get_by_role("region", name="第 1 轮的后续轮次")
        see(follow).to_contain_text("末位票数相等，须重新投票（应选 1 名）", use_inner_text=True)
        see(follow).to_contain_text("引擎建议：刘洋、李娜", use_inner_text=True)
        see(follow).to_contain_text(
            "只在票数相等的 2 人之间进行，名单不能修改", use_inner_text=True
        )
        # A delegate leaves the hall: 7 present of 10, below the quorum (Q1).
        congress = h.ready.congress.id
        gone = f"/api/congresses/{congress}/delegates/{h.ready.delegates[0].id}"
        expect(h.api.post(f"{gone}/check-out"), 200)
        tie_button.click()
        confirm(page, "候选人名单（刘洋、李娜）和应选名额（1 名）将冻结", "开启")
        follow.get_by_role("alert").filter(has_text="实到 7 人，不足法定人数 8 人").wait_for()
        assert len(rounds_of(h)) == 1
        expect(h.api.post(f"{gone}/check-in"), 200)
        tie_button.click()
        confirm(page, "候选人名单（刘洋、李娜）和应选名额（1 名）将冻结", "开启")
        page.get_by_role("status").filter(has_text="已开启第 2 轮票数相等重新投票").wait_for()
        follow.wait_for(state="detached")
        second = rounds_of(h)[1]
        assert (second["kind"], second["seats"], second["candidates"]) == ("tie", 1, [LIU, LI])
        page.locator(f"#round-{second['id']}").wait_for()
    finally:
        page.context.close()


def test_short_round_supplementary_list_edited_cancelled_then_seats_reduced(
    live_server: LiveServer, browser: Any
) -> None:
    h = hall(live_server.api, live_server.settings, seats=3)
    decided(h, SHORT)  # 王宁 and 刘洋 elected, one seat short
    page = presidium_page(browser, live_server, h)
    try:
        page.get_by_role("button", name="向会场公布第 1 轮结果").click()
        confirm(page, "不能撤回", "公布")
        follow = page.get_by_role("region", name="第 1 轮的后续轮次")
        text = follow.inner_text()
        assert "当选人数不足，须另行选举 1 名" in text
        assert "引擎建议：李娜、张伟" in text
        assert "差额选举（M6）：候选人至少比应选名额多 1 名（另行选举 1 名，至少 2 名）" in text
        slate = follow.get_by_role("group", name=re.compile("另行选举候选人名单"))
        assert slate.get_by_label(LI).is_checked()
        assert slate.get_by_label(ZHANG).is_checked()
        assert not slate.get_by_label(OUYANG).is_checked()
        assert slate.get_by_label(WANG).count() == 0  # elected: not offered
        opening = follow.get_by_role("button", name="确认名单，开启第 2 轮另行选举")

        # Refusals: an elected person added, then a list that is not 差额.
        follow.get_by_label("添加候选人").fill(WANG)
        follow.get_by_role("button", name="添加", exact=True).click()
        assert slate.get_by_label(WANG).is_checked()
        opening.click()
        confirm(page, "候选人名单（李娜、张伟、王宁）", "开启")
        alert = follow.get_by_role("alert")
        alert.filter(has_text="王宁 已在第 1 轮当选，不能再列为另行选举候选人（M9）").wait_for()
        slate.get_by_label(WANG).uncheck()
        follow.get_by_label("添加候选人").fill("teller1号")  # a teller of the congress (O1)
        follow.get_by_role("button", name="添加", exact=True).click()
        opening.click()
        confirm(page, "候选人名单（李娜、张伟、teller1号）", "开启")
        alert.filter(has_text="teller1号 是本次大会的选举工作人员，不能作为候选人（O1）").wait_for()
        slate.get_by_label("teller1号").uncheck()
        slate.get_by_label(ZHANG).uncheck()
        opening.click()
        confirm(page, "候选人名单（李娜）", "开启")
        alert.filter(
            has_text="另行选举 1 名，候选人应至少 2 名（差额选举，M6）；现有 1 名"
        ).wait_for()
        assert len(rounds_of(h)) == 1

        # The edited list: the proposal and 欧阳晓东.
        slate.get_by_label(ZHANG).check()
        slate.get_by_label(OUYANG).check()
        # Sent once: while the answer is awaited the button stays disabled, a second tap is lost.
        held: list[Any] = []
        page.route(re.compile(r".*/follow-up$"), lambda route: held.append(route))
        opening.click()
        confirm(page, "候选人名单（李娜、张伟、欧阳晓东）和应选名额（1 名）将冻结", "开启")
        page.wait_for_function("() => document.querySelector('button[aria-busy=true]') !== null")
        assert opening.is_disabled()
        opening.click(force=True)
        assert page.get_by_role("dialog").count() == 0
        assert len(held) == 1
        held[0].continue_()
        page.unroute(re.compile(r".*/follow-up$"))
        page.get_by_role("status").filter(
            has_text="已开启第 2 轮另行选举：李娜、张伟、欧阳晓东（按姓氏笔画排列），应选 1 名"
        ).wait_for()
        second = rounds_of(h)[1]
        assert (second["kind"], second["seats"]) == ("supplementary", 1)
        assert second["candidates"] == [LI, ZHANG, OUYANG]

        # M10 is not offered while round 2 is open; cancelling round 2 needs a reason.
        reduce = page.get_by_role("region", name="减少名额")
        reduce.wait_for(state="detached")

        other = page.locator("details.other", has_text="第 2 轮（另行选举）")
        other.locator("summary").click()
        cancel = other.get_by_role("button", name="撤销第 2 轮")
        cancel.click()
        confirm(page, "第 2 轮（另行选举）作废（尚未发出选票）", "撤销")
        other.get_by_role("alert").filter(has_text="请写明理由").wait_for()
        other.get_by_label("撤销理由").fill("主席团决定减少名额")
        cancel.click()
        confirm(page, "撤销", "撤销")
        page.get_by_role("status").filter(has_text="第 2 轮（另行选举）已撤销").first.wait_for()
        assert rounds_of(h)[1]["status"] == "cancelled"

        reduce.get_by_role("button", name="减少名额，不再选举").click()
        confirm(page, "应选名额减为已当选的 2 名", "减少名额")
        reduce.get_by_role("alert").filter(has_text="请写明理由").wait_for()
        reduce.get_by_label("减少名额的理由").fill("时间不足，不再另行选举")
        reduce.get_by_role("button", name="减少名额，不再选举").click()
        confirm(page, "应选名额减为已当选的 2 名", "减少名额")
        page.get_by_role("status").filter(
            has_text="名额已由 3 名减为 2 名，本项选举结束"
        ).wait_for()
        result = expect(h.api.get(f"/api/elections/{h.ready.election.id}/result"), 200)
        assert (result["seats"], result["seats_reduced_from"], result["complete"]) == (2, 3, True)
        summary = page.get_by_role("region", name="主席团成员")
        summary.filter(has_text="已由 3 名减少名额").wait_for()
        see(summary).to_contain_text("选举完成", use_inner_text=True)
        reduce.wait_for(state="detached")
    finally:
        page.context.close()


def test_ineligible_ruling_correction_and_void(live_server: LiveServer, browser: Any) -> None:
    h = hall(live_server.api, live_server.settings, seats=3)
    make_official(h.api, h.ready.congress.id, role="teller", name=ZHAO)
    batch = new_batch(h, h.round_id, 8)
    enter(h, batch, WRITTEN_IN, payload=h.payload, candidates=SEED_BALLOT_ORDER, tag="1")
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    page = presidium_page(browser, live_server, h)
    try:
        other = page.locator("details.other", has_text="第 1 轮 · ")
        other.locator("summary").click()
        # The ruling's part appears once the round's decision has loaded (a fetch of its own).
        other.get_by_text(
            "赵六 是本次大会的工作人员（计票人），请大会主席团裁定其是否具备被选举资格"
        ).wait_for()
        # P7: a written-in official ruled ineligible; refused without a reason.
        other.get_by_label("另选的人").select_option(ZHAO)
        ruling = other.get_by_role("button", name="裁定不具备被选举资格")
        ruling.click()
        confirm(page, "赵六 不参加第 1 轮及以后各轮的排名（选票仍有效）", "裁定")
        other.get_by_role("alert").filter(has_text="请写明理由").wait_for()
        other.get_by_label("裁定理由").fill("赵六是本次大会的计票人（O1）")
        ruling.click()
        confirm(page, "本轮须重新决定、重新签字确认", "裁定")
        page.get_by_role("status").filter(has_text="已裁定 赵六 不具备被选举资格").first.wait_for()
        assert rounds_of(h)[0]["status"] == "counting"

        # Decided anew without 赵六 and certified (the scrutineers' work), then a correction.
        again = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
        assert again["result"]["elected"] == [WANG, LIU]
        expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
        expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
        other = page.locator("details.other", has_text="第 1 轮 · 已认证")
        other.wait_for()
        if other.get_attribute("open") is None:
            other.locator("summary").click()
        other.get_by_role("button", name="选择批次").click()
        other.get_by_label("第 1 批（8 张）").check()
        correction = other.get_by_role("button", name="下令更正第 1 轮")
        correction.click()
        confirm(page, "第 1 轮的结果作废，第 1 批须由两遍重新录入", "下令更正")
        other.get_by_role("alert").filter(has_text="请写明理由").wait_for()
        other.get_by_label("更正理由").fill("复核发现第 1 批录入有误，重新清点")
        correction.click()
        confirm(page, "第 1 批须由两遍重新录入", "下令更正")
        page.get_by_role("status").filter(
            has_text="已下令更正第 1 轮：第 1 批重新录入"
        ).first.wait_for()
        events = expect(h.api.get(f"/api/congresses/{h.ready.congress.id}/events"), 200)
        [ordered] = [e for e in events if e["type"] == "round.correction_ordered"]
        assert ordered["payload"]["batches"] == [batch]
        assert rounds_of(h)[0]["status"] == "counting"

        # 六.8: the round declared void; its rerun opens (8 present, quorum 8).
        other = page.locator("details.other", has_text="第 1 轮 · 计票中")
        other.wait_for()
        if other.get_attribute("open") is None:
            other.locator("summary").click()
        void = other.get_by_role("button", name="宣布第 1 轮无效")
        void.click()
        confirm(page, "第 1 轮作废、不计结果，须按当前实到人数重新选举", "宣布无效")
        other.get_by_role("alert").filter(has_text="请写明理由").wait_for()
        other.get_by_label("宣布无效的理由").fill("投票箱封条破损")
        void.click()
        confirm(page, "不能撤回", "宣布无效")
        page.get_by_role("status").filter(
            has_text="第 1 轮已宣布无效。已开启第 2 轮重新选举"
        ).first.wait_for()
        assert [(r["number"], r["status"]) for r in rounds_of(h)] == [(1, "void"), (2, "open")]
    finally:
        page.context.close()


def test_changes_of_officials_confirmed_and_files_downloaded(
    live_server: LiveServer, browser: Any, tmp_path: Any
) -> None:
    h = hall(live_server.api, live_server.settings, seats=3)
    decided(h, FILLED)
    congress = h.ready.congress.id
    scrutineer = h.ready.officials["scrutineer"][1]
    changes = f"/api/congresses/{congress}/official-changes"
    expect(h.api.post(changes, json={"action": "login_code", "official_id": scrutineer.id}), 201)
    me = expect(h.presidium.get("/api/auth/me"), 200)["official_id"]
    expect(h.api.post(changes, json={"action": "login_code", "official_id": me}), 201)
    page = presidium_page(browser, live_server, h)
    try:
        table = page.get_by_role("region", name="待确认的工作人员变更")
        # Refused: a presidium member cannot confirm a change about themselves.
        table.get_by_role("button", name="确认：签发登录码 · presidium甲（大会主席团）").click()
        confirm(page, "「签发登录码 · presidium甲（大会主席团）」立即生效并记入事件链", "确认")
        table.get_by_role("alert").filter(has_text="主席团成员不能确认关于本人的变更").wait_for()

        table.get_by_role("button", name=f"确认：签发登录码 · {scrutineer.name}（监票人）").click()
        confirm(page, "立即生效并记入事件链，不能撤回", "确认")
        code = page.get_by_role("region", name=f"登录码：{scrutineer.name}（监票人）")
        code.wait_for()
        assert re.fullmatch(
            r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code.locator(".big-code").inner_text()
        )
        see(code).to_contain_text("登录码只显示这一次", use_inner_text=True)
        image = code.get_by_role("img", name=f"登录二维码：{scrutineer.name}")
        # Loaded and decoded (the code is made on the server after the confirmation's answer).
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        listed = expect(h.api.get(changes), 200)
        assert [c["confirmed"] for c in listed[-2:]] == [True, False]
        code.get_by_role("button", name="已交给本人，关闭").click()
        code.wait_for(state="detached")

        # The report PDF and the exports, fetched in the page's session.
        with page.expect_download() as report:
            page.get_by_role("button", name="下载第 1 轮选举结果报告单（PDF）").click()
        assert report.value.suggested_filename.endswith(".pdf")
        saved = tmp_path / "report.pdf"
        report.value.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
        starts = {"导出 JSON": b"{", "导出 CSV": b"\xef\xbb\xbf", "导出 XLSX": b"PK",
                  "导出 NIST 选举结果报告": b"{"}  # fmt: skip
        for label, start in starts.items():
            with page.expect_download() as export:
                page.get_by_role("button", name=label).click()
            path = tmp_path / export.value.suggested_filename
            export.value.save_as(path)
            assert path.read_bytes().startswith(start), label
    finally:
        page.context.close()


def test_a_scrutineer_opening_the_page_gets_no_actions(
    live_server: LiveServer, browser: Any
) -> None:
    h = hall(live_server.api, live_server.settings, seats=2)
    decided(h, TIED)
    session = session_of(h.api, h.scrutineer)
    page = open_console(browser, live_server, session,
                        f"/presidium?election={h.ready.election.id}", LAPTOP)  # fmt: skip
    try:
        page.locator(f"#round-{h.round_id}").wait_for()  # the live tallies: for reading
        alert = page.get_by_role("alert").filter(has_text="此页面不属于您的职责（监票人）")
        alert.wait_for()
        assert page.locator("main button, main select, main textarea, main input").count() == 0
        assert page.locator("iframe").count() == 0  # no preview of an unreleased result either
        assert "向会场公布" not in page.locator("main").inner_text()
    finally:
        page.context.close()


def test_presidium_page_at_the_console_sizes(live_server: LiveServer, browser: Any) -> None:
    h = hall(live_server.api, live_server.settings, seats=3)
    decided(h, SHORT)
    scrutineer = h.ready.officials["scrutineer"][1]
    change = {"action": "login_code", "official_id": scrutineer.id}
    expect(h.api.post(f"/api/congresses/{h.ready.congress.id}/official-changes", json=change), 201)
    session = session_of(h.api, h.presidium)
    path = f"/presidium?election={h.ready.election.id}"
    # Before the release (its preview), then after it (the supplementary round to confirm).
    for state in ("release", "follow-up"):
        for size, viewport in CONSOLE_SIZES.items():
            page = open_console(browser, live_server, session, path, viewport)
            try:
                page.locator(f"#round-{h.round_id}").wait_for()
                if state == "release":
                    page.frame_locator("iframe.projector-frame").locator("#result").wait_for()
                else:
                    page.get_by_role("region", name="第 1 轮的后续轮次").wait_for()
                    page.locator("details.other").first.locator("summary").click()
                assert axe_violations(page) == [], (state, size)
                no_horizontal_scroll(page)
                screenshot(page, f"presidium-{state}-{size}")
                if state == "release" and size == "phone":
                    page.get_by_role("button", name="向会场公布第 1 轮结果").click()
                    confirm(page, "不能撤回", "公布")
                    page.get_by_role("region", name="第 1 轮的后续轮次").wait_for()
            finally:
                page.context.close()


def test_the_pages_as_served_are_chinese(client: Any) -> None:
    for path in ("/presidium", "/audit"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert '<html lang="zh-CN">' in response.text
        assert page_offences(response.text) == [], path
