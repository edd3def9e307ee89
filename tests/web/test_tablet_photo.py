"""The tablet's photo mode (拍照识别, issue 22) in a real browser: the teller picks a photo (the
tablet's camera app hands the page a file), the marks are pre-filled, one unsure mark is
highlighted, the teller corrects it and submits; nothing of the photo stays in the page's storage.
"""

from pathlib import Path
from typing import Any

from tests.reader.helpers import photo_of_round_paper
from tests.web.conftest import LiveServer
from tests.web.pages import (
    TabletBatch,
    open_tablet,
    tablet_answer,
    tablet_batch,
    viewport_shot,
)


def _take_photo(
    page: Any,
    live_server: LiveServer,
    counting: TabletBatch,
    tmp_path: Path,
    drawn: list[str],
    **write_ins: tuple[int, ...],
) -> list[str]:
    """The round's paper marked with ``drawn``, handed to the photo mode as the camera app would;
    its candidates in ballot order."""
    photo, candidates = photo_of_round_paper(
        live_server.api.client.app,  # type: ignore[arg-type]
        live_server.settings,
        live_server.api,
        counting.round_id,
        tmp_path,
        drawn,
        **write_ins,
    )
    page.set_input_files(
        "#photo-input", files=[{"name": "paper.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    return candidates


def test_photo_mode_prefills_the_marks_and_keeps_no_image(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    counting = tablet_batch(live_server, papers=1)
    drawn = ["yes", "blank", "no", "scribble", "abstain"]
    context, page = open_tablet(live_server, browser, counting, counting.teller_a, by_qr=False)
    candidates = _take_photo(page, live_server, counting, tmp_path, drawn)
    page.locator("#scan-state[data-state='ok']").wait_for()
    page.locator("#photo-state", has_text="核对").wait_for()
    for name, mark in zip(candidates[:3], drawn[:3], strict=True):
        row = page.locator(f'.candidate[data-name="{name}"]')
        assert row.get_attribute("data-mark") == mark
        assert row.get_attribute("data-unsure") == "false"
    scribbled = page.locator(f'.candidate[data-name="{candidates[3]}"]')
    assert scribbled.get_attribute("data-unsure") == "true"  # shown to the teller
    viewport_shot(page, "tablet-photo-mode-1280x800")
    scribbled.locator(".mark-unclear").click()  # the teller decides: 无法辨认
    assert scribbled.get_attribute("data-unsure") == "false"
    page.click("#submit")
    assert tablet_answer(page)
    stored = page.evaluate(
        """async () => ({
            local: Object.keys(localStorage)
                .map((k) => k + "=" + localStorage.getItem(k))
                .join("\\n"),
            databases: indexedDB.databases ? (await indexedDB.databases()).length : 0,
        })"""
    )
    assert stored["databases"] == 0
    assert "image" not in stored["local"]
    assert "base64" not in stored["local"]
    assert len(stored["local"]) < 20000  # the queue and session, no picture
    context.close()


def test_photo_mode_sends_the_teller_to_the_write_in_boxes(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    # A name read in a write-in box is one to enter, a box not read clearly one to look at; a
    # submit with fewer names entered than the photo showed asks first.
    counting = tablet_batch(live_server, papers=3)

    def read(**write_ins: tuple[int, ...]) -> None:
        drawn = ["yes", "blank", "no", "yes", "abstain"]
        _take_photo(page, live_server, counting, tmp_path, drawn, **write_ins)

    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    context, page = open_tablet(live_server, browser, counting, counting.teller_a, by_qr=False)
    read(names_in=(0,), outline_erased=(2,))
    page.locator("#photo-state", has_text="未能看清").wait_for()
    assert page.inner_text("#photo-state") == (
        "全部标记已识别，请核对后确认；另选他人栏有 1 处书写，请录入姓名；"
        "另选他人栏有 1 处未能看清，请查看选票"
    )
    assert page.inner_text("#writein-read") == (
        "照片中有 1 处书写，请录入姓名；1 处未能看清，请查看选票上的另选他人栏"
    )
    assert page.get_attribute("#writein-section", "data-photo") == "unclear"
    for size, viewport in {
        "1280x800": {"width": 1280, "height": 800},
        "1440x900": {"width": 1440, "height": 900},
        "390x844": {"width": 390, "height": 844},
    }.items():
        page.set_viewport_size(viewport)
        page.locator("#writein-section").scroll_into_view_if_needed()
        viewport_shot(page, f"tablet-photo-write-ins-{size}")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.once("dialog", dismiss)
    page.click("#submit")
    assert asked == ["照片中另选他人栏有 1 处书写，只录入了 0 人。仍提交？"]
    assert page.inner_text("#writein-read")  # not submitted: the paper is still on screen
    page.click("#writein-illegible")  # the teller looked: the name cannot be read (P7)
    page.click("#submit")
    assert tablet_answer(page)
    assert page.inner_text("#writein-read") == ""
    assert page.get_attribute("#writein-section", "data-photo") == ""
    # Nothing read as written, one box not read clearly: the teller is asked whether they looked.
    read(outline_erased=(2,))
    page.locator("#writein-read", has_text="1 处未能看清").wait_for()
    page.once("dialog", dismiss)
    page.click("#submit")
    assert asked[1:] == ["另选他人栏有 1 处未能看清，未录入另选他人。已看过选票，仍提交？"]
    assert page.inner_text("#writein-read")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#submit")
    page.locator("#writein-read:empty").wait_for(state="attached")  # submitted: the next paper
    page.locator("#batch-progress", has_text="已上传 2 张").wait_for()
    # A paper declared void counts for nobody: no question about its write-in boxes.
    read(names_in=(0,), outline_erased=(2,))
    page.locator("#writein-read", has_text="1 处未能看清").wait_for()
    page.click('#void-choices .seg[data-void="P9"]')
    page.click("#submit")
    page.locator("#batch-progress", has_text="已上传 3 张").wait_for()
    assert len(asked) == 2
    context.close()
