"""The presidium's dashboard and the hall projector in a real browser (chromium).

A paper entered through the API appears on an open dashboard without a reload (SSE; its latency
is scripts/bench/bench_live.py's entry-to-screen p50/p99); the
projector shows nothing per candidate until the presidium releases the certified result (C3).
Screenshots (laptop, tablet, projector) go to var/screenshots/ (git-ignored).
"""

import json
from typing import Any

from tests.builders import (
    FILLED,
    LI,
    LIU,
    OUYANG,
    SEED_BALLOT_ORDER,
    WANG,
    Api,
    Hall,
    expect,
    hall,
    seed_paper,
)
from tests.web.conftest import SCREENSHOTS, LiveServer, see

Page = Any  # playwright.sync_api.Page
LAPTOP = {"width": 1366, "height": 768}
PORTRAIT_TABLET = {"width": 800, "height": 1280}
PROJECTOR = {"width": 1920, "height": 1080}


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _paper(h: Hall, tag: str, n: int, marks: list[str]) -> dict[str, Any]:
    return seed_paper(h.payload, f"{tag}-{n}", marks)


def _open(browser: Any, live: LiveServer, token: str, congress_id: int, path: str,
          viewport: dict[str, int]) -> tuple[Any, Page]:  # fmt: skip
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(20000)
    session = json.dumps({"token": token, "congress_id": congress_id, "role": "presidium"})
    context.add_init_script(f"localStorage.setItem('jipiao.session', {json.dumps(session)});")
    page = context.new_page()
    page.goto(f"{live.url}{path}")
    return context, page


def test_dashboard_live_and_projector_after_release(live_server: LiveServer, browser: Any) -> None:
    api: Api = live_server.api
    h = hall(api, live_server.settings, seats=3)
    congress_id = h.ready.congress.id
    election_id = h.ready.election.id
    body = {"declared_count": 8, "teller_a_id": h.teller_ids[0], "teller_b_id": h.teller_ids[1]}
    batch = expect(api.post(f"/api/rounds/{h.round_id}/batches", json=body), 201)
    papers = f"/api/batches/{batch['id']}/papers"
    assert h.presidium.token is not None

    token = h.presidium.token
    context, page = _open(
        browser, live_server, token, congress_id, f"/dashboard?election={election_id}", LAPTOP
    )
    projector_context, projector = _open(
        browser, live_server, token, congress_id, f"/projector?election={election_id}", PROJECTOR
    )
    try:
        entered = page.locator(f"#round-{h.round_id} [data-metric=entered]")
        see(entered).to_have_text("0 / 8")
        _shot(page, "dashboard-empty-laptop")

        # One paper through the API: on the open dashboard, no reload. How fast is measured by
        # scripts/bench/bench_live.py (entry-to-screen p50/p99), not by a timed test on a shared
        # machine.
        expect(h.tellers[0].post(papers, json=_paper(h, "a", 0, FILLED[0])), 201)
        see(page.locator(f"#round-{h.round_id} [data-metric=entered]")).to_have_text("1 / 8")
        wang = page.locator(f'.candidate[data-name="{WANG}"]')
        see(wang).to_contain_text("赞成 1")

        for n, marks in enumerate(FILLED):
            if n:
                expect(h.tellers[0].post(papers, json=_paper(h, "a", n, marks)), 201)
            expect(h.tellers[1].post(papers, json=_paper(h, "b", n, marks)), 201)
        page.locator(f"#round-{h.round_id} [data-metric=reconciled]", has_text="8 / 8").wait_for()
        for name, standing in [(WANG, "暂时当选"), (LIU, "暂时当选"), (LI, "暂时当选"),
                               (OUYANG, "暂未当选")]:  # fmt: skip
            row = page.locator(f'.candidate[data-name="{name}"] .standing')
            see(row).to_have_text(standing)
        see(page.locator(".threshold")).to_contain_text("过半数：至少 5 票")
        see(page.locator(f"#discrepancies-{h.round_id}")).to_have_text("差异待裁定 0")
        _shot(page, "dashboard-counted-laptop")
        page.set_viewport_size(PORTRAIT_TABLET)
        _shot(page, "dashboard-counted-tablet")

        # The projector: progress only, no candidate, until the presidium releases (C3).
        projector.locator("#collected", has_text="8").wait_for()
        see(projector.locator("#waiting")).to_be_visible()
        see(projector.locator("#result")).to_be_hidden()
        for name in SEED_BALLOT_ORDER:
            assert name not in projector.content()
        _shot(projector, "projector-before-release")

        expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
        expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
        expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
        for name in SEED_BALLOT_ORDER:  # certified, not yet released: still nothing
            assert name not in projector.content()
        expect(h.presidium.post(f"/api/rounds/{h.round_id}/release"), 200)
        projector.locator("#result").wait_for(state="visible")
        see(projector.locator("#elected li")).to_have_text([WANG, LIU, LI])
        _shot(projector, "projector-released")
        page.locator(f"#round-{h.round_id} .released").wait_for()
    finally:
        context.close()
        projector_context.close()
