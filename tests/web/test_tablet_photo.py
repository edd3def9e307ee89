"""The tablet's photo mode (拍照识别, issue 22) in a real browser: the teller picks a photo (the
tablet's camera app hands the page a file), the marks are pre-filled, one unsure mark is
highlighted, the teller corrects it and submits; nothing of the photo stays in the page's storage.
"""

from pathlib import Path
from typing import Any

from tests.reader.helpers import photo_of_round_paper
from tests.web.conftest import LiveServer
from tests.web.pages import open_tablet, tablet_answer, tablet_batch, viewport_shot


def test_photo_mode_prefills_the_marks_and_keeps_no_image(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    counting = tablet_batch(live_server, papers=1)
    drawn = ["yes", "blank", "no", "scribble", "abstain"]
    photo, candidates = photo_of_round_paper(
        live_server.api.client.app,  # type: ignore[arg-type]
        live_server.settings,
        live_server.api,
        counting.round_id,
        tmp_path,
        drawn,
    )
    context, page = open_tablet(live_server, browser, counting, counting.teller_a, by_qr=False)
    page.set_input_files(
        "#photo-input", files=[{"name": "paper.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
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
