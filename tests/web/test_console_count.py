"""/count in a real browser (issue 18 item 5): the chief teller splits the collected papers into
batches with two different tellers each (O3), sees the sum against 收回选票 and what is left, the
refusals (more than collected, the same teller twice) in the server's Chinese, each pass's progress
live, and a scrutineer's re-entry order; a teller opening /count gets no actions."""

from typing import Any

from tests.builders import expect, login_official, make_congress
from tests.web.conftest import CONSOLE_SIZES, axe_violations, see
from tests.web.counting_hall import (
    CAST,
    Hall,
    Page,
    collected_round,
    console,
    enter_pass,
    shoot,
)

NAME = "{role}{n}号"  # make_ready_election names officials like teller1号


def name(role: str, n: int) -> str:
    return NAME.format(role=role, n=n)


def figures(page: Page, **shown: str) -> None:
    for key, text in shown.items():
        see(page.locator(f"[data-figure={key}]")).to_have_text(text)


def create(page: Page, declared: int, a: str, b: str) -> None:
    page.get_by_label("本批张数").fill(str(declared))
    page.get_by_label("第一遍录入计票人").select_option(label=a)
    page.get_by_label("第二遍录入计票人").select_option(label=b)
    page.get_by_role("button", name="新建批次").click()


def test_chief_teller_makes_batches_and_follows_both_passes(live_server: Any, browser: Any) -> None:
    hall: Hall = collected_round(live_server)
    page = console(hall, browser, hall.official("chief_teller"), "/count")
    page.get_by_role("heading", name="主席团成员 · 第 1 轮（正式选举）").wait_for()
    figures(page, collected="8", declared="0", remaining="8")
    see(page.get_by_text("已分批 0 张，收回 8 张，还剩 8 张尚未分批。")).to_be_visible()

    # More than collected (I4): refused, nothing made.
    create(page, 9, name("teller", 1), name("teller", 2))
    alert = page.locator(".batch-form + .status.bad")
    alert.filter(has_text="各批次张数合计 9 多于收回选票 8 张（I4）").wait_for()
    # The same teller for both passes (O3): refused.
    create(page, 5, name("teller", 1), name("teller", 1))
    alert.filter(has_text="同一批次的两遍录入须由不同的计票人完成（O3）").wait_for()
    assert expect(hall.live.api.get(f"/api/rounds/{hall.round_id}/batches"), 200)["batches"] == []

    create(page, 5, name("teller", 1), name("teller", 2))
    page.get_by_text("已新建第 1 批（5 张）：第一遍 teller1号，第二遍 teller2号。").wait_for()
    figures(page, declared="5", remaining="3")
    page.get_by_text("还剩 3 张尚未分批").wait_for()
    # The form offers what is left and the next two tellers.
    see(page.get_by_label("本批张数")).to_have_value("3")
    create(page, 3, name("teller", 3), name("teller", 4))
    page.get_by_text("各批次合计 8 张，与收回选票数相符，已全部分批。").wait_for()
    see(page.get_by_role("button", name="新建批次")).to_be_hidden()

    listed = expect(hall.live.api.get(f"/api/rounds/{hall.round_id}/batches"), 200)
    assert [
        (b["declared_count"], b["teller_a_id"], b["teller_b_id"]) for b in listed["batches"]
    ] == [
        (5, hall.official("teller", 0), hall.official("teller", 1)),
        (3, hall.official("teller", 2), hall.official("teller", 3)),
    ]

    # Both passes arrive live: no reload.
    first, second = (b["id"] for b in listed["batches"])
    teller_a = login_official(hall.live.api, hall.congress_id, hall.official("teller", 0))
    enter_pass(hall, teller_a, first, CAST[:2], "a")
    row = page.locator("tr[data-batch='1']")
    row.get_by_text("2 / 5").wait_for()
    see(row.get_by_text("录入中")).to_be_visible()
    teller_c = login_official(hall.live.api, hall.congress_id, hall.official("teller", 2))
    teller_d = login_official(hall.live.api, hall.congress_id, hall.official("teller", 3))
    enter_pass(hall, teller_c, second, CAST[:3], "a")
    enter_pass(hall, teller_d, second, [CAST[0], CAST[1], CAST[3]], "b")
    page.locator("tr[data-batch='2']").get_by_text("两遍录入有差异，待裁定").wait_for()

    # A scrutineer orders batch 2 entered again: the order, its author and reason show here.
    scrutineer = login_official(hall.live.api, hall.congress_id, hall.official("scrutineer"))
    order = {"reason": "第 3 张两遍都看错，重新录入"}
    expect(scrutineer.post(f"/api/batches/{second}/reentry", json=order), 200)
    second_row = page.locator("tr[data-batch='2']")
    second_row.get_by_text("第 2 次录入").wait_for()
    reentry = second_row.locator(".reentry")
    see(reentry).to_contain_text("监票人 scrutineer1号")
    see(reentry).to_contain_text("责令重新录入（作废第 1 次录入）：第 3 张两遍都看错，重新录入")
    see(second_row.get_by_text("0 / 3")).to_have_count(2)
    shoot(page, "console-count-progress")
    page.context.close()


def test_count_page_sizes_and_accessibility(live_server: Any, browser: Any) -> None:
    hall: Hall = collected_round(live_server)
    api = hall.live.api
    tellers = [hall.official("teller", n) for n in range(4)]
    body = {"declared_count": 5, "teller_a_id": tellers[0], "teller_b_id": tellers[1]}
    batch = expect(api.post(f"/api/rounds/{hall.round_id}/batches", json=body), 201)
    enter_pass(hall, login_official(api, hall.congress_id, tellers[0]), batch["id"], CAST[:3], "a")
    chief = hall.official("chief_teller")
    for size, viewport in CONSOLE_SIZES.items():
        page = console(hall, browser, chief, "/count", viewport)
        page.locator("tr[data-batch='1']").get_by_text("3 / 5").wait_for()
        page.get_by_role("button", name="新建批次").wait_for()
        assert axe_violations(page) == [], size
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
        shoot(page, f"console-count-{size}")
        page.context.close()


def test_a_teller_opening_count_gets_no_actions(live_server: Any, browser: Any) -> None:
    hall: Hall = collected_round(live_server)
    page = console(hall, browser, hall.official("teller"), "/count")
    page.get_by_role("alert").filter(has_text="此页面不属于您的职责（计票人）").wait_for()
    page.get_by_role("heading", name="主席团成员 · 第 1 轮（正式选举）").wait_for()
    assert (
        page.get_by_role("button", name="新建批次").count() == 0
        or not page.get_by_role("button", name="新建批次").is_visible()
    )
    page.context.close()


def test_the_secretariat_picks_the_congress_then_makes_a_batch(
    live_server: Any, browser: Any
) -> None:
    from app.auth import service as auth_service
    from app.main import create_app

    hall: Hall = collected_round(live_server)
    make_congress(live_server.api, name="第六次学生代表大会")
    with create_app(live_server.settings).state.sessionmaker.begin() as session:
        code = auth_service.issue_admin_login_code(session)
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(20000)
    page = context.new_page()
    page.goto(f"{live_server.url}/?next=/count")
    page.get_by_label("登录码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{live_server.url}/count")
    # The secretariat serves every congress: it picks this one first.
    page.get_by_role("link", name=hall.ready.congress.name).click()
    page.get_by_role("heading", name="主席团成员 · 第 1 轮（正式选举）").wait_for()
    page.get_by_role("button", name="新建批次").click()
    page.get_by_text("已新建第 1 批（8 张）").wait_for()
    page.get_by_text("各批次合计 8 张，与收回选票数相符，已全部分批。").wait_for()
    context.close()
