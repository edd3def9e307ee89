"""The dashboard and the hall projector tell the truth, in a real browser (chromium).

* no verdict before any paper is entered; the provisional figures (pass A) while counting;
  after the decision the recorded figures (已核对), after the signatures 已认证 — never pass A's
  figures, 临时 or 暂时当选 again (here pass A and the certified result differ by one vote);
* a tie round is decided by plurality (M7): no majority threshold shown;
* a void round says so, and a follow-up round starts with no verdict;
* the projector fits 1920×1080 and 1024×768 without scrolling, with 3 names and with 30, and
  shows 应到/实到/发出/收回/有效/无效/过半数 after release (C3).

Screenshots go to $JIPIAO_SHOTS (default var/screenshots/).
"""

import os
import re
from pathlib import Path
from typing import Any

from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.setup.demo import demo_names
from tests.builders import (
    LI,
    LIU,
    OUYANG,
    TIE_PAPERS,
    TIED,
    WANG,
    Api,
    Hall,
    decide_and_certify,
    enter_batch,
    enter_differing_batch,
    enter_round,
    expect,
    hall,
    issue_and_collect,
    login_as,
    login_official,
    make_ready_election,
    open_round,
)
from tests.web.conftest import SCREENSHOTS, LiveServer, see
from tests.web.pages import PROJECTORS, no_scrolling, open_page

Page = Any  # playwright.sync_api.Page
SHOTS = Path(os.environ.get("JIPIAO_SHOTS", str(SCREENSHOTS)))
LAPTOP = {"width": 1366, "height": 768}
NOT_AFTER_DECISION = ("临时", "暂时", "暂未")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def dashboard(browser: Any, live: LiveServer, h: Hall) -> tuple[Any, Page]:
    return open_page(browser, live, h.presidium, h.ready.congress.id,
                     f"/dashboard?election={h.ready.election.id}", LAPTOP)  # fmt: skip


def round_text(page: Page, round_id: int) -> str:
    text: str = page.locator(f"#round-{round_id}").inner_text()
    return text


def projector_figures(page: Page) -> dict[str, str]:
    figures = page.locator("#figures > div")
    return {
        figures.nth(i).locator("dt").inner_text(): figures.nth(i).locator("dd").inner_text()
        for i in range(figures.count())
    }


def test_dashboard_shows_the_decided_then_certified_numbers(
    live_server: LiveServer, browser: Any
) -> None:
    h = hall(live_server.api, live_server.settings, seats=3)
    context, page = dashboard(browser, live_server, h)
    try:
        card = page.locator(f"#round-{h.round_id} .tallies")
        card.wait_for()
        see(card).to_contain_text("尚未录入选票，暂无结果")
        for verdict in ("未当选", "当选", "另行选举", "过半数"):
            assert verdict not in round_text(page, h.round_id), verdict
        shot(page, "dashboard-0-papers")

        ouyang = page.locator(f'.candidate[data-name="{OUYANG}"] .numbers')

        def pass_a_only() -> None:
            page.locator(f"#round-{h.round_id} [data-metric=entered]", has_text="8 / 8").wait_for()
            see(ouyang).to_have_text(re.compile("^赞成 2 "))  # pass A's entry, marked 临时
            see(page.locator(f"#round-{h.round_id}")).to_contain_text("各候选人得票（临时）")
            shot(page, "dashboard-provisional")

        enter_differing_batch(h, pass_a_only)
        page.locator(f"#round-{h.round_id} [data-metric=reconciled]", has_text="8 / 8").wait_for()
        page.locator(f'.candidate[data-name="{OUYANG}"] .numbers', has_text="赞成 1 ").wait_for()
        shown = page.locator(f"#round-{h.round_id}")
        see(shown).to_contain_text("各候选人得票（临时）")  # not decided yet
        shot(page, "dashboard-reconciled-not-decided")

        expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
        page.locator('.tallies[data-mode="decided"]').wait_for()
        see(shown).to_contain_text("各候选人得票（已核对）")
        see(shown).to_contain_text("待总监票人和监票人签字认证")
        see(ouyang).to_have_text(re.compile("^赞成 1 "))  # the reconciled record (pass B)
        text = round_text(page, h.round_id)
        for word in NOT_AFTER_DECISION:
            assert word not in text, word
        shot(page, "dashboard-decided")

        expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
        expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
        page.locator('.tallies[data-mode="certified"]').wait_for()
        for sentence in (
            "第 1 轮 · 已认证",
            "各候选人得票（已认证）",
            "结果（已认证）：名额已满。当选：王宁、刘洋、李娜",
            "应到 10 · 实到 8 · 发出 8 · 收回 8 · 有效 8 · 无效 0",
            "过半数：至少 5 票（以实到人数 8 为基数）",
        ):
            see(shown).to_contain_text(sentence)
        see(ouyang).to_have_text("赞成 1 · 不赞成 7 · 弃权 0")
        see(page.locator(".candidate .standing")).to_have_text(
            ["当选", "当选", "当选", "未当选", "未当选"]
        )
        text = round_text(page, h.round_id)
        for word in NOT_AFTER_DECISION:
            assert word not in text, word
        shot(page, "dashboard-certified")

        # Certified, not yet released: the hall sees the progress only (C3), on any screen.
        for size in PROJECTORS:
            before_context, before = open_page(
                browser, live_server, h.presidium, h.ready.congress.id,
                f"/projector?election={h.ready.election.id}", size,
            )  # fmt: skip
            try:
                before.locator("#collected", has_text="8").wait_for()
                see(before.locator("#waiting")).to_have_text("计票已完成，等待大会主席团公布结果")
                see(before.locator("#result")).to_be_hidden()
                assert OUYANG not in before.content()
                no_scrolling(before)
                shot(before, f"projector-before-release-{size['width']}x{size['height']}")
            finally:
                before_context.close()

        expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)
        page.locator(f"#round-{h.round_id} .released").wait_for()
        for size in PROJECTORS:
            projector_context, projector = open_page(
                browser, live_server, h.presidium, h.ready.congress.id,
                f"/projector?election={h.ready.election.id}", size,
            )  # fmt: skip
            try:
                projector.locator("#result").wait_for(state="visible")
                see(projector.locator("#elected li")).to_have_text([WANG, LIU, LI])
                assert projector_figures(projector) == {
                    "应到": "10 人", "实到": "8 人", "发出": "8 张", "收回": "8 张",
                    "有效": "8 张", "无效": "0 张", "过半数": "至少 5 票",
                }  # fmt: skip
                rows = projector.locator("#tallies tr").all_inner_texts()
                assert any(r.split() == [OUYANG, "1", "7", "0"] for r in rows), rows
                no_scrolling(projector)
                shot(projector, f"projector-3-names-{size['width']}x{size['height']}")
            finally:
                projector_context.close()
    finally:
        context.close()


def thirty(live: LiveServer) -> tuple[Api, int, int, int]:
    """An election of 30 candidates for 15 seats, counted, certified and released; returns the
    presidium, the congress, the election and the round."""
    api = live.api
    names = demo_names(30, seed=4242)
    ready = make_ready_election(api, seats=15, candidates=names)
    round_ = open_round(api, ready.election.id)
    issue_and_collect(api, round_.id, printed=10, issued=8, collected=8)
    congress = ready.congress.id
    tellers = [login_official(api, congress, o.id) for o in ready.officials["teller"][:2]]
    chief = login_official(api, congress, ready.officials["chief_scrutineer"][0].id)
    scrutineer = login_official(api, congress, ready.officials["scrutineer"][0].id)
    presidium = login_as(api, congress, "presidium")
    payload = encode_payload(
        key=load_or_create_qr_key(live.settings.data_dir),
        election_id=ready.election.id,
        round_number=1,
        definition_hash=round_.definition_hash,
    )
    order = round_.candidates
    body = {"declared_count": 8, "teller_a_id": ready.officials["teller"][0].id,
            "teller_b_id": ready.officials["teller"][1].id}  # fmt: skip
    batch = expect(api.post(f"/api/rounds/{round_.id}/batches", json=body), 201)
    for tag, teller in zip("ab", tellers, strict=True):
        for n in range(8):
            # The first 15 in ballot order get 6 yes each, the others 1: 15 elected (M3).
            marks = {
                name: ("yes" if (j + n) % 4 else "no")
                if j < 15
                else ("yes" if j == 15 + n else "no")
                for j, name in enumerate(order)
            }
            paper = {"idempotency_key": f"{tag}-{n}", "qr_payload": payload, "marks": marks,
                     "write_ins": [], "void": None}  # fmt: skip
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=paper), 201)
    expect(chief.post(f"/api/rounds/{round_.id}/decide"), 200)
    expect(chief.post(f"/api/rounds/{round_.id}/sign"), 200)
    expect(scrutineer.post(f"/api/rounds/{round_.id}/sign"), 200)
    expect(presidium.post(f"/api/rounds/{round_.id}/release"), 200)
    return presidium, congress, ready.election.id, round_.id


def test_projector_fits_thirty_names(live_server: LiveServer, browser: Any) -> None:
    presidium, congress, election_id, _ = thirty(live_server)
    for size in PROJECTORS:
        context, page = open_page(browser, live_server, presidium, congress,
                                  f"/projector?election={election_id}", size)  # fmt: skip
        try:
            page.locator("#result").wait_for(state="visible")
            assert page.locator("#elected li").count() == 15
            assert page.locator("#tallies tbody tr").count() == 30
            no_scrolling(page)
            # Every name is on screen, in type still readable from the hall.
            for cell in page.locator("#tallies tbody td:first-child, #elected li").all():
                box = cell.bounding_box()
                assert box is not None
                assert box["x"] >= 0, box
                assert box["x"] + box["width"] <= size["width"], box
                assert box["y"] >= 0, box
                assert box["y"] + box["height"] <= size["height"], box
            cell_px = page.evaluate(
                "() => parseFloat(getComputedStyle(document.querySelector('#tallies td')).fontSize)"
            )
            assert cell_px >= 12, cell_px
            assert projector_figures(page)["过半数"] == "至少 5 票"
            shot(page, f"projector-30-names-{size['width']}x{size['height']}")
        finally:
            context.close()


def test_tie_round_on_dashboard_and_projector(live_server: LiveServer, browser: Any) -> None:
    settings = live_server.settings
    h = hall(live_server.api, settings, seats=2)
    enter_batch(h, TIED)
    decide_and_certify(h, h.round_id)
    expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)
    tie = expect(h.presidium.post(f"/api/rounds/{h.round_id}/follow-up", json={}), 201)
    context, page = dashboard(browser, live_server, h)
    try:
        # The follow-up round, before its first paper: no verdict.
        page.locator(f"#round-{tie['id']} .tallies").wait_for()
        text = round_text(page, tie["id"])
        assert "第 2 轮（票数相等重新投票）" in text
        assert "尚未录入选票，暂无结果" in text
        for verdict in ("未当选", "另行选举", "过半数"):
            assert verdict not in text, verdict
        assert "末位票数相等，需重新投票" in round_text(
            page, h.round_id
        )  # round 1: certified tie outcome
        shot(page, "dashboard-tie-round-open")

        issue_and_collect(h.api, tie["id"], printed=10, issued=8, collected=8)
        enter_round(h, settings, tie, TIE_PAPERS)
        page.locator(f"#round-{tie['id']} [data-metric=reconciled]", has_text="8 / 8").wait_for()
        text = round_text(page, tie["id"])
        assert "得赞成票多者当选（M7）" in text
        assert "过半数" not in text  # a tie round applies no majority threshold
        decide_and_certify(h, tie["id"])
        page.locator(f'#round-{tie["id"]} .tallies[data-mode="certified"]').wait_for()
        text = round_text(page, tie["id"])
        assert "得赞成票多者当选（M7）" in text
        assert "过半数" not in text
        assert "结果（已认证）：名额已满。当选：刘洋" in text
        shot(page, "dashboard-tie-round-certified")
        expect(h.presidium.post(f"/api/rounds/{tie['id']}/release"), 200)
    finally:
        context.close()
    for size in PROJECTORS:
        context, page = open_page(browser, live_server, h.presidium, h.ready.congress.id,
                                  f"/projector?election={h.ready.election.id}", size)  # fmt: skip
        try:
            page.locator("#result").wait_for(state="visible")
            see(page.locator("#elected li")).to_have_text([WANG, LIU])  # M9
            figures = projector_figures(page)
            assert figures["当选规则"] == "得赞成票多者当选"
            assert "过半数" not in figures
            assert "过半数" not in page.locator("body").inner_text()
            no_scrolling(page)
            shot(page, f"projector-tie-round-{size['width']}x{size['height']}")
        finally:
            context.close()


def test_void_round_and_its_rerun_on_the_dashboard(live_server: LiveServer, browser: Any) -> None:
    api = live_server.api
    ready = make_ready_election(api, seats=3)  # 8 present
    round_ = open_round(api, ready.election.id)
    expect(api.post(f"/api/rounds/{round_.id}/issuance", json={"printed": 10, "issued": 8}), 200)
    expect(api.post(f"/api/rounds/{round_.id}/collection", json={"collected": 9}), 200)  # I2
    rounds = expect(api.get(f"/api/elections/{ready.election.id}/rounds"), 200)["rounds"]
    assert [(r["number"], r["status"]) for r in rounds] == [(1, "void"), (2, "open")]
    presidium = login_as(api, ready.congress.id, "presidium")
    context, page = open_page(browser, live_server, presidium, ready.congress.id,
                              f"/dashboard?election={ready.election.id}", LAPTOP)  # fmt: skip
    try:
        page.locator(f"#round-{round_.id} .tallies").wait_for()
        void = round_text(page, round_.id)
        assert "第 1 轮 · 无效" in void
        assert "本轮选举无效" in void
        rerun = rounds[1]
        text = round_text(page, rerun["id"])
        assert "尚未录入选票，暂无结果" in text
        for verdict in ("未当选", "另行选举", "过半数"):
            assert verdict not in text, verdict
        shot(page, "dashboard-void-and-rerun")
    finally:
        context.close()
