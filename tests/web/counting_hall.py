"""A round with its papers collected, for the /count and /scrutiny browser tests: 10 delegates, 8
present, 3 seats, 8 papers collected; and the officials logged in on the console's front door.

The tellers' two passes go through the API (the tablet has its own tests); everything the pages
under test do is done on the pages.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from tests.builders import (
    SEED_BALLOT_ORDER,
    Api,
    ReadyElection,
    expect,
    issue_and_collect,
    issue_code,
    login_as,
    login_official,
    make_ready_election,
    open_round,
    seed_paper,
)
from tests.web.conftest import LAPTOP, LiveServer, screenshot

Page = Any  # playwright.sync_api.Page (no stubs for mypy's strict mode here)
WANG, LIU, LI, ZHANG, OUYANG = SEED_BALLOT_ORDER

# The eight papers as cast (ballot order 王宁 刘洋 李娜 张伟 欧阳晓东): 王宁 8, 刘洋 6, 李娜 4
# (one of them the unclear mark, ruled ✓), 张伟 2, 欧阳晓东 2 — threshold 5: two elected, one seat
# short.
CAST = [
    ["yes", "yes", "yes", "no", "no"],
    ["yes", "yes", "yes", "no", "no"],
    ["yes", "yes", "no", "yes", "no"],
    ["yes", "yes", "no", "no", "yes"],
    ["yes", "yes", "yes", "no", "no"],
    ["yes", "yes", "no", "yes", "no"],
    ["yes", "no", "yes", "no", "no"],
    ["yes", "no", "no", "no", "yes"],
]
# Batch 1 = papers 1–4: pass A misreads paper 3 (刘洋 × instead of ✓); pass B is right.
PASS_A_1 = [CAST[0], CAST[1], ["yes", "no", "no", "yes", "no"], CAST[3]]
PASS_B_1 = CAST[:4]
# Batch 2 = papers 5–8: both passes read 李娜's mark on paper 7 as unclear (?).
PASSES_2 = [CAST[4], CAST[5], ["yes", "no", "unclear", "no", "no"], CAST[7]]


@dataclass(frozen=True)
class Hall:
    live: LiveServer
    ready: ReadyElection
    round_id: int
    payload: str

    @property
    def congress_id(self) -> int:
        return self.ready.congress.id

    def official(self, role: str, n: int = 0) -> int:
        return self.ready.officials[role][n].id


def collected_round(live: LiveServer) -> Hall:
    api = live.api
    ready = make_ready_election(api, delegates_total=10, present=8)
    round_ = open_round(api, ready.election.id)
    issue_and_collect(api, round_.id, printed=10, issued=8, collected=8)
    payload = encode_payload(
        key=load_or_create_qr_key(live.settings.data_dir),
        election_id=round_.election_id,
        round_number=round_.number,
        definition_hash=round_.definition_hash,
    )
    return Hall(live, ready, round_.id, payload)


def enter_pass(hall: Hall, teller: Api, batch_id: int, papers: list[list[str]], tag: str) -> None:
    for n, marks in enumerate(papers):
        body = seed_paper(hall.payload, f"{tag}-{batch_id}-{n}", marks)
        expect(teller.post(f"/api/batches/{batch_id}/papers", json=body), 201)


def disputed_round(live: LiveServer) -> tuple[Hall, list[int]]:
    """Two batches of four, both passes entered: batch 1 with one discrepancy, batch 2 with one
    unclear mark. Batches made by the secretariat through the API (the /count tests make theirs
    on the page)."""
    hall = collected_round(live)
    api = live.api
    tellers = [hall.official("teller", n) for n in range(4)]
    sessions = [login_official(api, hall.congress_id, t) for t in tellers]
    batches = []
    for k in range(2):
        body = {
            "declared_count": 4,
            "teller_a_id": tellers[2 * k],
            "teller_b_id": tellers[2 * k + 1],
        }
        batches.append(
            expect(api.post(f"/api/rounds/{hall.round_id}/batches", json=body), 201)["id"]
        )
    enter_pass(hall, sessions[0], batches[0], PASS_A_1, "a")
    enter_pass(hall, sessions[1], batches[0], PASS_B_1, "b")
    enter_pass(hall, sessions[2], batches[1], PASSES_2, "a")
    enter_pass(hall, sessions[3], batches[1], PASSES_2, "b")
    return hall, batches


def events(hall: Hall, kind: str) -> list[dict[str, Any]]:
    """The chain's events of one type as an auditor reads them (with the paper records)."""
    auditor = login_as(hall.live.api, hall.congress_id, "auditor")
    listed = expect(auditor.get(f"/api/congresses/{hall.congress_id}/events"), 200)
    return [e for e in listed if e["type"] == kind]


def console(
    hall: Hall, browser: Any, official_id: int, path: str, viewport: dict[str, int] = LAPTOP
) -> Page:
    """A browser tab where the official logged in on the front door, then opened ``path``."""
    code = issue_code(hall.live.api, hall.congress_id, official_id).code
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(20000)
    page = context.new_page()
    page.goto(f"{hall.live.url}/")
    page.get_by_label("登录码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/")  # landed on the role's first page
    page.goto(f"{hall.live.url}{path}")
    return page


def shoot(page: Page, name: str) -> None:
    """A full-page screenshot from the top (the sticky top bar stays where it belongs)."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)
