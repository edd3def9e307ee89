"""Write-ins on the teller's tablet in a real browser (issue 17, item 7): what is typed as a pinyin
search (``zqg``) is never sent as the name, also when submit is pressed before the suggestions
arrive; a name typed in Chinese characters is taken; a name in Latin letters only when ticked
外文姓名. Screenshots of the refusal at three sizes go to var/screenshots/ (git-ignored)."""

from typing import Any

from pypinyin import Style, lazy_pinyin

from tests.builders import expect, login_official
from tests.web.conftest import LiveServer, see
from tests.web.pages import (
    Page,
    open_tablet,
    scan_paper,
    tablet_answer,
    tablet_batch,
    viewport_shot,
)

SIZES = {"1024x768": (1024, 768), "800x1280": (800, 1280), "390x844": (390, 844)}


def _queued(page: Page) -> int:
    count: int = page.evaluate("JSON.parse(localStorage.getItem('jipiao.queue') || '[]').length")
    return count


def _mark_two_no(page: Page, names: list[str]) -> None:
    for name in names[:2]:  # two ×: room for write-ins (P2), none ✓ (P3)
        page.locator(f'.candidate[data-name="{name}"] .mark-no').click()


def test_pinyin_typed_and_submitted_before_the_suggestions_arrive_is_not_stored(
    live_server: LiveServer, browser: Any
) -> None:
    counting = tablet_batch(live_server, papers=3)
    roster_name = counting.ready.delegates[0].name
    initials = "".join(lazy_pinyin(roster_name, style=Style.FIRST_LETTER)).lower()
    # Service workers off so that page.route sees the tablet's requests.
    context, page = open_tablet(
        live_server, browser, counting, counting.teller_a, by_qr=False, service_workers="block"
    )
    held: list[Any] = []  # the suggestions requests, answered only when released

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/name-suggestions*", hold)
    try:
        scan_paper(page, counting.payload)
        _mark_two_no(page, counting.candidates)
        page.fill("#writein-input", "zqg")
        page.click("#submit")  # at once: no suggestion has arrived
        result = page.locator('#last-result[data-kind="warn"]')
        result.wait_for()
        text = result.inner_text()
        assert "这张还没有保存" in text, text
        assert "“zqg”是拼音查找" in text, text
        note = page.inner_text("#writein-note")
        assert "还没有选定姓名" in note, note
        assert page.input_value("#writein-input") == "zqg"  # kept, to be finished
        assert page.locator("#writein-chips .chip").count() == 0
        assert _queued(page) == 0
        see(page.locator("#unsent")).to_be_hidden()
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.locator("#writein-input").scroll_into_view_if_needed()
            viewport_shot(page, f"tablet-writein-refused-{size}")
        page.set_viewport_size({"width": 1280, "height": 800})

        # The suggestions arrive (none for zqg): submit is still refused, saying so.
        for route in held:
            route.continue_()
        held.clear()
        page.unroute("**/name-suggestions*")
        page.locator('#writein-suggestions[data-q="zqg"]').wait_for(state="attached")
        page.click("#submit")
        page.locator("#writein-note", has_text="没有姓名符合“zqg”").wait_for()
        assert _queued(page) == 0

        # The teller picks the name the search found; submit sends that name.
        page.fill("#writein-input", initials)
        found = page.locator(f'#writein-suggestions[data-q="{initials}"] .suggestion')
        found.first.wait_for()
        if found.count() == 1:
            page.press("#writein-input", "Enter")  # one name found: Enter takes it
        else:
            found.filter(has_text=roster_name).click()
        page.locator("#writein-chips .chip", has_text=roster_name).wait_for()
        page.click("#submit")
        assert tablet_answer(page).startswith("上一张：有效票")

        # A name typed in Chinese characters (. typed for ·) is taken as it is, also on submit.
        scan_paper(page, counting.payload)
        _mark_two_no(page, counting.candidates)
        page.fill("#writein-input", "艾力更.依明巴海")
        page.click("#submit")
        assert "有效票" in tablet_answer(page)

        # A name in Latin letters: refused until 外文姓名 is ticked, then sent as confirmed.
        scan_paper(page, counting.payload)
        _mark_two_no(page, counting.candidates)
        page.fill("#writein-input", "Smith")
        page.locator('#writein-suggestions[data-q="Smith"]').wait_for(state="attached")
        page.press("#writein-input", "Enter")
        page.locator("#writein-note", has_text="外文姓名，按原文录入").wait_for()
        assert page.locator("#writein-chips .chip").count() == 0
        page.check("#writein-latin")
        page.press("#writein-input", "Enter")
        page.locator("#writein-chips .chip", has_text="Smith（外文）").wait_for()
        viewport_shot(page, "tablet-writein-latin-1280x800")
        page.click("#submit")
        assert "有效票" in tablet_answer(page)
        assert not page.is_checked("#writein-latin")  # each paper is confirmed on its own
    finally:
        context.close()

    teller = login_official(live_server.api, counting.ready.congress.id, counting.teller_a)
    own = expect(teller.get(f"/api/batches/{counting.batch_id}/papers"), 200)["papers"]
    assert sorted(tuple(p["record"]["write_ins"]) for p in own) == sorted(
        [(roster_name,), ("艾力更·依明巴海",), ("Smith",)]
    )
    assert all(p["status"] == "valid" for p in own)


def test_offline_a_pinyin_search_cannot_be_submitted(live_server: LiveServer, browser: Any) -> None:
    counting = tablet_batch(live_server, papers=2)
    context, page = open_tablet(live_server, browser, counting, counting.teller_a, by_qr=False)
    try:
        scan_paper(page, counting.payload)
        context.set_offline(True)
        page.evaluate("window.dispatchEvent(new Event('offline'))")
        _mark_two_no(page, counting.candidates)
        page.fill("#writein-input", "wxm")
        page.click("#submit")
        page.locator("#writein-note", has_text="离线时无法按拼音查找").wait_for()
        assert _queued(page) == 0
        # A name in Chinese characters is queued offline as before, and sent once back online.
        page.fill("#writein-input", "王小明")
        page.click("#submit")
        page.locator("#unsent", has_text="未上传 1 张").wait_for()
        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.locator("#unsent").wait_for(state="hidden")
        assert "有效票" in tablet_answer(page)
    finally:
        context.close()
    teller = login_official(live_server.api, counting.ready.congress.id, counting.teller_a)
    own = expect(teller.get(f"/api/batches/{counting.batch_id}/papers"), 200)["papers"]
    assert [p["record"]["write_ins"] for p in own] == [["王小明"]]
