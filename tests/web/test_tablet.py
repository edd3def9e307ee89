"""The teller's tablet in a real browser (chromium) against the real service.

(a) two tablets enter one batch blind with one deliberate difference; a scrutineer resolves it over
    the API; the batch reconciles. (b) a tablet loses the network mid-batch, keeps entering (the
    page shows 未上传 N 张, also after a reload), comes back, and the server holds each paper once.
Screenshots at tablet (1280×800) and phone (390×844) sizes go to var/screenshots/ (git-ignored).
"""

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segno
from PIL import Image
from pypinyin import Style, lazy_pinyin

from tests.builders import (
    Api,
    expect,
    issue_code,
    login_official,
)
from tests.web.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    TABLET,
    LiveServer,
    see,
)
from tests.web.pages import (
    Page,
    TabletBatch,
    open_tablet,
    scan_paper,
    tablet_answer,
    tablet_batch,
    viewport_shot,
)


@dataclass(frozen=True)
class Paper:
    marks: dict[str, str]  # candidate → yes | no | abstain | unclear (absent: blank)
    write_in_query: str | None = None  # typed into 另选他人 …
    write_in_pick: str | None = None  # … then this suggestion is tapped
    void: str | None = None


def _enter(page: Page, counting: TabletBatch, paper: Paper, *, shot: str | None = None) -> int:
    """Enter one paper as a teller would; returns the taps it took (scanning is no tap)."""
    scan_paper(page, counting.payload)
    taps = 0
    for name, mark in paper.marks.items():
        page.locator(f'.candidate[data-name="{name}"] .mark-{mark}').click()
        taps += 1
    if paper.write_in_query is not None:
        page.fill("#writein-input", paper.write_in_query)
        taps += 1  # the field (typing is not counted as taps)
        page.locator("#writein-suggestions .suggestion", has_text=paper.write_in_pick).click()
        taps += 1
    if paper.void is not None:
        page.locator(f'#void-choices [data-void="{paper.void}"]').click()
        taps += 1
    if shot is not None:
        viewport_shot(page, shot)
    page.click("#submit")
    taps += 1
    counting.taps.append(taps)
    return taps


def _batch(api: Api, counting: TabletBatch) -> dict[str, Any]:
    listed = expect(api.get(f"/api/rounds/{counting.round_id}/batches"), 200)
    (batch,) = [b for b in listed["batches"] if b["id"] == counting.batch_id]
    found: dict[str, Any] = batch
    return found


def test_two_tablets_enter_one_batch_blind_and_the_scrutineer_resolves_the_difference(
    live_server: LiveServer, browser: Any
) -> None:
    counting = tablet_batch(live_server, papers=3)
    wang, liu, li, zhang, ouyang = counting.candidates  # ballot order (stroke order)
    roster_name = counting.ready.delegates[0].name
    typical = Paper({wang: "yes", liu: "yes", li: "yes", zhang: "no", ouyang: "abstain"})
    initials = "".join(lazy_pinyin(roster_name, style=Style.FIRST_LETTER))  # 王小明 → wxm
    with_write_in = Paper(
        {wang: "yes", liu: "no"}, write_in_query=initials, write_in_pick=roster_name
    )
    declared_void = Paper({}, void="P4")
    # Tablet B misreads the typical paper: × instead of △ for the last candidate.
    misread = Paper({wang: "yes", liu: "yes", li: "yes", zhang: "no", ouyang: "no"})
    papers_b = [declared_void, misread, with_write_in]  # its own order: passes are multisets

    # Service workers off here so that page.route sees the tablet's requests.
    context_a, page_a = open_tablet(
        live_server, browser, counting, counting.teller_a, by_qr=True, service_workers="block"
    )
    context_b, page_b = open_tablet(
        live_server,
        browser,
        counting,
        counting.teller_b,
        by_qr=False,
        shots="phone-390x844",
        service_workers="block",
        viewport=PHONE,
    )
    try:
        see(page_a.locator("#batch-title")).to_contain_text("第一遍（A）", use_inner_text=True)
        see(page_b.locator("#batch-title")).to_contain_text("第二遍（B）", use_inner_text=True)
        viewport_shot(page_a, "tablet-empty-1280x800")

        # Pass A. The first paper's answer is lost on the way back (the server did store it):
        # the tablet must retry with the same key and the server must record it once.
        lost = {"done": False}

        def lose_first_answer(route: Any) -> None:
            if lost["done"]:
                route.continue_()
                return
            lost["done"] = True
            route.fetch()  # reaches the server, which records the paper …
            route.abort("connectionreset")  # … but the tablet never hears back

        page_a.route("**/api/batches/*/papers", lose_first_answer)
        assert _enter(page_a, counting, typical) == 6  # ✓✓✓×△ + 提交
        page_a.locator("#unsent", has_text="未上传 1 张").wait_for()
        page_a.evaluate("window.JipiaoTablet.flush()")  # as the retry timer would, sooner
        answer = tablet_answer(page_a)
        assert answer.startswith("上一张：有效票")
        assert answer.endswith("✓3 ×1 △1")  # what was entered, in the served glyphs
        page_a.unroute("**/api/batches/*/papers")
        see(page_a.locator("#unsent")).to_be_hidden()

        _enter(page_a, counting, with_write_in, shot="tablet-marked-1280x800")
        assert "有效票" in tablet_answer(page_a)
        viewport_shot(page_a, "tablet-answer-1280x800")
        _enter(page_a, counting, declared_void)
        # The reason in the result report's words (app/rules/words.py, via /web/vocabulary.js).
        assert "无效票 P4：有可识别身份的记号" in tablet_answer(page_a)
        see(page_a.locator("#batch-progress")).to_contain_text(
            "本批 3 张 · 已上传 3 张", use_inner_text=True
        )
        scan_paper(page_a, counting.payload)  # a fourth paper in a batch of three: refused locally
        page_a.click("#submit")
        page_a.locator('#last-result[data-kind="warn"]', has_text="本遍已录满 3 张").wait_for()

        viewport_shot(page_b, "phone-empty-390x844")
        for n, paper in enumerate(papers_b):
            _enter(page_b, counting, paper, shot="phone-marked-390x844" if n == 1 else None)
            tablet_answer(page_b)
        viewport_shot(page_b, "phone-after-3-390x844")
    finally:
        context_a.close()
        context_b.close()

    api = live_server.api
    assert _batch(api, counting)["progress"] == {
        "batch_id": counting.batch_id,
        "declared": 3,
        "pass_a": 3,
        "pass_b": 3,
        "status": "discrepancy",
        "generation": 1,
    }
    scrutineer = login_official(api, counting.ready.congress.id, counting.ready.officials[
        "scrutineer"][0].id)  # fmt: skip
    queue = expect(scrutineer.get(f"/api/rounds/{counting.round_id}/adjudication"), 200)
    (item,) = queue["batches"]
    assert item["records_needed"] == 1
    (only_a,) = item["only_in_pass_a"]
    (only_b,) = item["only_in_pass_b"]
    assert only_a["marks"][ouyang] == "abstain"
    assert only_b["marks"][ouyang] == "no"
    # The scrutineer looks at the paper: △ — pass A was right.
    resolution = {"records": [only_a], "reason": "监票人核对原票：第二遍把△录成了×"}
    expect(scrutineer.post(f"/api/batches/{counting.batch_id}/resolution", json=resolution), 200)
    assert _batch(api, counting)["progress"]["status"] == "reconciled"
    assert counting.taps[0] == 6


def test_offline_tablet_queues_papers_and_sends_each_exactly_once(
    live_server: LiveServer, browser: Any
) -> None:
    counting = tablet_batch(live_server, papers=5)
    wang, liu, li, zhang, ouyang = counting.candidates
    papers = [
        Paper({wang: "yes", liu: "yes", li: "yes", zhang: "no", ouyang: "abstain"}),
        Paper({wang: "no", liu: "yes"}),
        Paper({li: "yes", zhang: "yes", ouyang: "yes", wang: "yes"}),  # P3 over-selection
        Paper({zhang: "unclear", wang: "yes"}),  # pending adjudication (P6)
        Paper({}),  # all blank: valid, all abstain (P5)
    ]
    context, page = open_tablet(live_server, browser, counting, counting.teller_a, by_qr=False)
    try:
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        _enter(page, counting, papers[0])
        assert tablet_answer(page).startswith("上一张：有效票")

        context.set_offline(True)
        _enter(page, counting, papers[1])
        _enter(page, counting, papers[2])
        page.locator("#unsent", has_text="未上传 2 张").wait_for()
        page.locator('#net[data-state="offline"]').wait_for()
        see(page.locator("#last-result")).to_contain_text("离线", use_inner_text=True)
        viewport_shot(page, "tablet-offline-1280x800")

        # A reload while offline: the page comes from the service worker's cache and the
        # queue from localStorage — nothing is lost.
        page.reload()
        page.locator("#unsent", has_text="未上传 2 张").wait_for()
        assert page.evaluate("navigator.serviceWorker.controller !== null")
        # The served words came from the cache too: the buttons still say what they do.
        see(page.locator(".mark-unclear .mlabel").first).to_have_text(
            "无法辨认", use_inner_text=True
        )
        see(page.locator('#void-choices [data-void="P9"]')).to_have_text(
            "P9 全票无法辨认", use_inner_text=True
        )
        _enter(page, counting, papers[3])
        page.locator("#unsent", has_text="未上传 3 张").wait_for()
        keys = page.evaluate(
            "JSON.parse(localStorage.getItem('jipiao.queue')).map(e => e.body.idempotency_key)"
        )
        assert len(set(keys)) == 3
        page.set_viewport_size(PHONE)
        viewport_shot(page, "phone-offline-390x844")
        page.set_viewport_size(TABLET)

        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.locator("#unsent").wait_for(state="hidden")
        assert "待裁定" in tablet_answer(page)
        # A forged code is refused with the server's reason (P1) and the way to enter it as P1.
        page.keyboard.type("JP1.1.1.AAAAAAAA.AAAAAAAAAAAAAAAA\n")
        page.locator('#scan-state[data-state="bad"]', has_text="P1").wait_for()
        see(page.locator("#scan-as-p1")).to_be_visible()
        _enter(page, counting, papers[4])
        assert tablet_answer(page).startswith("上一张：有效票")
        viewport_shot(page, "tablet-back-online-1280x800")
    finally:
        context.close()

    teller = login_official(live_server.api, counting.ready.congress.id, counting.teller_a)
    own = expect(teller.get(f"/api/batches/{counting.batch_id}/papers"), 200)
    entered = own["papers"]
    assert len(entered) == 5
    assert len({p["paper_id"] for p in entered}) == 5
    assert sorted(p["status"] for p in entered) == [
        "invalid",
        "pending",
        "valid",
        "valid",
        "valid",
    ]
    assert _batch(live_server.api, counting)["progress"]["pass_a"] == 5


def _y4m_of_qr(payload: str, path: Path) -> None:
    """A short grey-scale video (Y4M) of the paper's QR code, for chromium's fake camera."""
    buffer = io.BytesIO()
    segno.make_qr(payload, error="m").save(buffer, kind="png", scale=10, border=4)
    code = Image.open(buffer).convert("L")
    code.thumbnail((440, 440))
    frame = Image.new("L", (640, 480), 255)
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    chroma = bytes([128]) * (320 * 240 * 2)
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            out.write(b"FRAME\n" + frame.tobytes() + chroma)


def test_camera_reads_the_papers_qr_code(
    live_server: LiveServer, playwright: Any, tmp_path: Path
) -> None:
    counting = tablet_batch(live_server, papers=1)
    video = tmp_path / "paper.y4m"
    _y4m_of_qr(counting.payload, video)
    camera_args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + camera_args
    )
    try:
        context, page = open_tablet(live_server, browser, counting, counting.teller_a, by_qr=False)
        context.grant_permissions(["camera"])
        page.click("#scan-camera")
        page.locator('#scan-state[data-state="ok"]').wait_for()
        engine = page.evaluate("window.JipiaoScanner.engine")
        assert engine in {"BarcodeDetector", "jsQR"}
        viewport_shot(page, f"tablet-camera-{engine}-1280x800")
        page.locator(f'.candidate[data-name="{counting.candidates[0]}"] .mark-yes').click()
        page.click("#submit")
        assert tablet_answer(page).startswith("上一张：有效票")
    finally:
        browser.close()


def test_a_tablet_handed_to_another_teller_keeps_the_first_tellers_unsent_papers(
    live_server: LiveServer, browser: Any
) -> None:
    counting = tablet_batch(live_server, papers=2)
    wang = counting.candidates[0]
    context, page = open_tablet(live_server, browser, counting, counting.teller_a, by_qr=False)
    page.on("dialog", lambda dialog: dialog.accept())  # 「还有 1 张未上传，确定退出？」
    try:
        page.goto(f"{live_server.url}/login?code=AAAA-BBBB-CCCC")
        page.locator("#login-status", has_text="登录码无效").wait_for()
        page.goto(f"{live_server.url}/tablet")
        page.locator(".candidate").first.wait_for()

        context.set_offline(True)
        _enter(page, counting, Paper({wang: "yes"}))
        page.locator("#unsent", has_text="未上传 1 张").wait_for()
        page.click("#logout")
        context.set_offline(False)

        # Teller B logs in on the same tablet: A's paper stays queued, B's own goes up.
        code_b = issue_code(live_server.api, counting.ready.congress.id, counting.teller_b).code
        page.fill("#login-code", code_b)
        page.click("#login-form button[type=submit]")
        page.locator(".batch-card", has_text="第二遍（B）").click()
        page.locator("#batch-title", has_text="第二遍（B）").wait_for()
        _enter(page, counting, Paper({wang: "no"}))
        assert tablet_answer(page).startswith("上一张：有效票")
        see(page.locator("#unsent")).to_have_text("未上传 1 张", use_inner_text=True)
        progress = _batch(live_server.api, counting)["progress"]
        assert (progress["pass_a"], progress["pass_b"]) == (0, 1)

        page.click("#logout")
        code_a = issue_code(live_server.api, counting.ready.congress.id, counting.teller_a).code
        page.fill("#login-code", code_a)
        page.click("#login-form button[type=submit]")
        page.locator(".batch-card", has_text="第一遍（A）").click()
        page.locator("#unsent").wait_for(state="hidden")
        progress = _batch(live_server.api, counting)["progress"]
        assert (progress["pass_a"], progress["pass_b"]) == (1, 1)
    finally:
        context.close()


def test_a_refusal_of_the_last_tellers_token_does_not_log_the_next_one_out(
    live_server: LiveServer, browser: Any
) -> None:
    """Teller A's paper goes up as the tablet comes back online, A logs out, B logs in, and only
    then is A's paper refused for A's ended session (401): B stays logged in, A's paper stays
    queued for A. (A whole-suite run once failed on this race: the late 401 logged B out.)"""
    counting = tablet_batch(live_server, papers=2)
    wang = counting.candidates[0]
    context, page = open_tablet(live_server, browser, counting, counting.teller_a, by_qr=False)
    page.on("dialog", lambda dialog: dialog.accept())  # 「还有 1 张未上传，确定退出？」
    held: list[Any] = []
    page.route("**/api/batches/*/papers", lambda route: held.append(route))
    try:
        context.set_offline(True)
        _enter(page, counting, Paper({wang: "yes"}))
        page.locator("#unsent", has_text="未上传 1 张").wait_for()
        context.set_offline(False)  # the tablet sends A's paper: held here, unanswered
        for _ in range(200):  # the route's handler runs while Playwright waits
            if held:
                break
            page.wait_for_timeout(50)
        assert len(held) == 1
        page.click("#logout")
        code_b = issue_code(live_server.api, counting.ready.congress.id, counting.teller_b).code
        page.fill("#login-code", code_b)
        page.click("#login-form button[type=submit]")
        page.locator(".batch-card", has_text="第二遍（B）").wait_for()
        with page.expect_response(lambda response: response.status == 401):
            held[0].fulfill(status=401, json={"code": "unauthorized"})
        page.wait_for_function("() => new Promise((done) => setTimeout(() => done(true), 100))")
        see(page.locator(".batch-card", has_text="第二遍（B）")).to_be_visible()
        see(page.locator("#login-form")).to_be_hidden()
        see(page.locator("#unsent")).to_have_text("未上传 1 张")
    finally:
        page.unroute("**/api/batches/*/papers")
        context.close()
