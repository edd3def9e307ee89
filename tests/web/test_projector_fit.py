"""The hall projector fits its screen (issue 18 item 10): at 1920×1080 and at 1024×768, with 5
names and with 30, some of them long (transliterated names of 11 to 15 characters), the released
result is on screen without scrolling, every name whole and inside the white result box, in type
still readable from the hall. Screenshots go to var/screenshots/."""

from typing import Any

import pytest

from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.setup.demo import demo_names
from tests.builders import (
    expect,
    issue_and_collect,
    login_as,
    login_official,
    make_ready_election,
    open_round,
)
from tests.web.conftest import LiveServer, screenshot
from tests.web.pages import PROJECTORS, no_scrolling, open_page

LONG_NAMES = [
    "阿卜杜热合曼·买买提依明",
    "努尔麦麦提·艾力·吐尔逊托合提",
    "热依拉·阿布都克热木·买合木提",
    "古丽米热·阿不都瓦依提",
    "玉素甫江·艾合买提江·阿卜杜拉",
]


def released_election(live: LiveServer, names: list[str], seats: int) -> tuple[Any, int, int]:
    """An election of ``names`` for ``seats`` seats: 8 papers, counted, certified and released;
    the first ``seats`` names in ballot order get a majority. Returns (presidium, congress,
    election)."""
    api = live.api
    ready = make_ready_election(api, seats=seats, candidates=names)
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
    body = {"declared_count": 8, "teller_a_id": ready.officials["teller"][0].id,
            "teller_b_id": ready.officials["teller"][1].id}  # fmt: skip
    batch = expect(api.post(f"/api/rounds/{round_.id}/batches", json=body), 201)
    for tag, teller in zip("ab", tellers, strict=True):
        for n in range(8):
            marks = {
                name: ("yes" if (j + n) % 4 else "no") if j < seats else "no"
                for j, name in enumerate(round_.candidates)
            }
            paper = {"idempotency_key": f"{tag}-{n}", "qr_payload": payload, "marks": marks,
                     "write_ins": [], "void": None}  # fmt: skip
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=paper), 201)
    expect(chief.post(f"/api/rounds/{round_.id}/decide"), 200)
    expect(chief.post(f"/api/rounds/{round_.id}/sign"), 200)
    expect(scrutineer.post(f"/api/rounds/{round_.id}/sign"), 200)
    expect(presidium.post(f"/api/rounds/{round_.id}/release"), 200)
    return presidium, congress, ready.election.id


def assert_fits(page: Any, size: dict[str, int], names: int, elected: int) -> float:
    """Everything on screen, no scrolling; returns the table's font size in px."""
    page.locator("#result").wait_for(state="visible")
    assert page.locator("#elected li").count() == elected
    assert page.locator("#tallies tbody tr").count() == names
    no_scrolling(page)
    # Inside the white result box, itself inside the screen (half a pixel for the rounding of
    # centred boxes).
    result = page.locator("#result").bounding_box()
    assert result is not None
    assert result["x"] >= 0, result
    assert result["x"] + result["width"] <= size["width"], result
    assert result["y"] >= 0, result
    assert result["y"] + result["height"] <= size["height"], result
    cells = page.locator("#tallies td, #tallies th, #elected li, #figures > div, h2, #outcome")
    for cell in cells.all():
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= result["x"] - 0.5, box
        assert box["x"] + box["width"] <= result["x"] + result["width"] + 0.5, box
        assert box["y"] >= result["y"] - 0.5, box
        assert box["y"] + box["height"] <= result["y"] + result["height"] + 0.5, box
    # A name is never cut: its cell is as wide as its text.
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('#tallies td:first-child, #elected li')]"
        ".filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)"
    )
    assert clipped == []
    cell_px: float = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('#tallies td')).fontSize)"
    )
    return cell_px


@pytest.mark.parametrize("count", [5, 30])
def test_projector_fits_with_long_names(live_server: LiveServer, browser: Any, count: int) -> None:
    names = LONG_NAMES + demo_names(count - len(LONG_NAMES), seed=77)
    seats = 3 if count == 5 else 15
    presidium, congress, election_id = released_election(live_server, names, seats)
    for size in PROJECTORS:
        context, page = open_page(browser, live_server, presidium, congress,
                                  f"/projector?election={election_id}", size)  # fmt: skip
        try:
            cell_px = assert_fits(page, size, count, seats)
            # Readable from the back of the hall: the fewer the names, the larger the type.
            assert cell_px >= (20 if count == 5 else 14), cell_px
            for name in LONG_NAMES:
                assert page.locator("#tallies td", has_text=name).count() == 1, name
            screenshot(page, f"projector-{count}-long-names-{size['width']}x{size['height']}")
        finally:
            context.close()
