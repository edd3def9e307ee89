"""Browser pages the tests share: a console page opened as an official already logged in through
the API (the page gets the session a login at ``/`` would have kept in ``localStorage``, and is then
driven like a person would, by labels and button names) or as the secretariat, the dashboard and
the projector, and the teller's tablet with a batch to enter."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from app.auth import service as auth_service
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from tests.builders import (
    Api,
    ReadyElection,
    expect,
    issue_and_collect,
    issue_code,
    login_official,
    make_ready_election,
    open_round,
)
from tests.web.conftest import LAPTOP, SCREENSHOTS, TABLET, LiveServer, see

Page = Any  # playwright.sync_api.Page (the package ships no stubs for mypy's strict mode here)


# ---------------------------------------------------------------- console pages


def session_of(admin: Api, person: Api) -> dict[str, Any]:
    """What ``POST /api/auth/login`` answered ``person`` (kept by the page in localStorage)."""
    me = expect(person.get("/api/auth/me"), 200)
    officials = expect(admin.get(f"/api/congresses/{me['congress_id']}/officials"), 200)
    name = next(o["name"] for o in officials if o["id"] == me["official_id"])
    return {
        "token": person.token,
        "role": me["role"],
        "role_zh": me["role_zh"],
        "official_id": me["official_id"],
        "name": name,
        "congress_id": me["congress_id"],
    }


def open_console(
    browser: Any, live: LiveServer, session: dict[str, Any], path: str, viewport: dict[str, int]
) -> Page:
    """A new browser context (its own localStorage) on ``path``; close with page.context.close().
    Downloads are accepted (the report PDF, the exports, the record)."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(20000)
    context.add_init_script(
        f"localStorage.setItem('jipiao.session', {json.dumps(json.dumps(session))});"
    )
    page = context.new_page()
    page.goto(f"{live.url}{path}")
    return page


def confirm(page: Page, sentence_part: str, ok: str) -> str:
    """Answer the one-sentence confirmation (jp.confirm) with its ``ok`` button; returns the
    sentence, which must contain ``sentence_part``."""
    dialog = page.get_by_role("dialog")
    sentence = dialog.locator("p")
    see(sentence).to_contain_text(sentence_part, use_inner_text=True)
    text: str = sentence.inner_text()
    dialog.get_by_role("button", name=ok, exact=True).click()
    dialog.wait_for(state="detached")
    return text


def no_horizontal_scroll(page: Page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, (width, inner)


def admin_page(
    live: LiveServer, browser: Any, path: str, viewport: dict[str, int] = LAPTOP
) -> Page:
    """A browser logged in as the secretariat with the one-time code, opened at ``path``."""
    with live.api.client.app.state.sessionmaker.begin() as session:  # type: ignore[attr-defined]
        code = auth_service.issue_admin_login_code(session)
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(20000)
    page = context.new_page()
    page.goto(f"{live.url}/?next={path}")
    page.get_by_label("登录码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    # Anchored: the login page's own address (/?next=/checkin) ends like the page's.
    page.wait_for_url(re.compile(r"^http://[^/]+" + re.escape(path.split("?")[0]) + r"(\?.*)?$"))
    return page


# ---------------------------------------------------------------- the dashboard and the projector


def open_page(browser: Any, live: LiveServer, api: Api, congress_id: int, path: str,
              viewport: dict[str, int]) -> tuple[Any, Page]:  # fmt: skip
    """``path`` (the dashboard, the projector) in a new context whose stored session holds
    ``api``'s token; returns (context, page)."""
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(20000)
    session = json.dumps({"token": api.token, "congress_id": congress_id, "role": "presidium"})
    context.add_init_script(f"localStorage.setItem('jipiao.session', {json.dumps(session)});")
    page = context.new_page()
    page.goto(f"{live.url}{path}")
    return context, page


# The hall projectors' screens.
PROJECTORS = [{"width": 1920, "height": 1080}, {"width": 1024, "height": 768}]


def no_scrolling(page: Page) -> None:
    """The page fits its window: no scrolling down, nor across."""
    height, inner_h, width, inner_w = page.evaluate(
        "() => [document.documentElement.scrollHeight, innerHeight,"
        " document.documentElement.scrollWidth, innerWidth]"
    )
    assert height <= inner_h, (height, inner_h)
    assert width <= inner_w, (width, inner_w)


# ---------------------------------------------------------------- the teller's tablet


@dataclass
class TabletBatch:
    """A round of ``make_ready_election`` with one batch made by the chief teller for tellers A
    and B; ``taps``: how many taps each paper entered on a tablet took."""

    ready: ReadyElection
    round_id: int
    candidates: list[str]
    payload: str
    batch_id: int
    teller_a: int
    teller_b: int
    taps: list[int] = field(default_factory=list)


def tablet_batch(live: LiveServer, *, papers: int) -> TabletBatch:
    """The round's ``papers`` papers collected and one batch of them, nothing entered yet."""
    api = live.api
    ready = make_ready_election(api, delegates_total=10, present=8)
    round_ = open_round(api, ready.election.id)
    issue_and_collect(api, round_.id, printed=8, issued=8, collected=papers)
    chief_teller = login_official(api, ready.congress.id, ready.officials["chief_teller"][0].id)
    teller_a, teller_b = (o.id for o in ready.officials["teller"][:2])
    body = {"declared_count": papers, "teller_a_id": teller_a, "teller_b_id": teller_b}
    batch = expect(chief_teller.post(f"/api/rounds/{round_.id}/batches", json=body), 201)
    payload = encode_payload(
        key=load_or_create_qr_key(live.settings.data_dir),
        election_id=round_.election_id,
        round_number=round_.number,
        definition_hash=round_.definition_hash,
    )
    return TabletBatch(
        ready, round_.id, round_.candidates, payload, batch["id"], teller_a, teller_b
    )


def open_tablet(
    live: LiveServer,
    browser: Any,
    counting: TabletBatch,
    official_id: int,
    *,
    by_qr: bool,
    shots: str | None = None,
    **ctx: Any,
) -> tuple[Any, Page]:
    """A context for one teller: logged in (login-QR URL or the code typed), batch chosen."""
    context = browser.new_context(**({"viewport": TABLET, "locale": "zh-CN"} | ctx))
    context.set_default_timeout(20000)
    page = context.new_page()
    code = issue_code(live.api, counting.ready.congress.id, official_id).code
    if by_qr:  # what the login QR encodes: <public_url>/login?code=…
        page.goto(f"{live.url}/login?code={code}")
        page.wait_for_url(re.compile(r".*/tablet$"))
    else:
        page.goto(f"{live.url}/tablet")
        page.fill("#login-code", code)
        if shots:
            viewport_shot(page, f"{shots}-login")
        page.click("#login-form button[type=submit]")
    card = page.locator(".batch-card", has_text="第 1 批")
    if shots:
        card.wait_for()
        viewport_shot(page, f"{shots}-batches")
    card.click()
    page.locator(".candidate").first.wait_for()
    return context, page


def scan_paper(page: Page, payload: str) -> None:
    """A USB/Bluetooth scanner: fast keystrokes ending in Enter, wherever the focus is."""
    page.keyboard.type(payload + "\n")
    page.locator('#scan-state[data-state="ok"], #scan-state[data-state="unchecked"]').wait_for()


def tablet_answer(page: Page) -> str:
    """The tablet's answer to the paper just submitted, once shown."""
    result = page.locator(
        '#last-result[data-kind="valid"], #last-result[data-kind="invalid"],'
        ' #last-result[data-kind="pending"]'
    )
    result.wait_for()
    text: str = result.inner_text()
    return text


def viewport_shot(page: Page, name: str) -> None:
    """A screenshot of what the screen shows (not the full page) under var/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
