"""Opening a console page as an official already logged in through the API (the tests of the
presidium's and the auditors' pages): the page gets the session a login at ``/`` would have kept
in ``localStorage``, and is then driven like a person would, by labels and button names."""

import json
from typing import Any

from tests.builders import Api, expect
from tests.web.conftest import LiveServer

Page = Any  # playwright.sync_api.Page


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
    dialog.wait_for()
    text: str = dialog.locator("p").inner_text()
    assert sentence_part in text, text
    dialog.get_by_role("button", name=ok, exact=True).click()
    dialog.wait_for(state="detached")
    return text


def no_horizontal_scroll(page: Page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, (width, inner)
