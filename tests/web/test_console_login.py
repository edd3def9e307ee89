"""The console's front door ``/`` (issue 18 item 1): a one-time code typed there logs an
official in and lands on their own first page; the secretariat logs in the same way with the code
``jipiao serve`` prints; a refusal shows the server's Chinese message; ``?next=`` never leads off
the site nor to another role's page."""

import re
from typing import Any

from app.auth import service as auth_service
from tests.builders import issue_code, make_congress, make_official
from tests.web.conftest import CONSOLE_SIZES, LAPTOP, LiveServer, axe_violations, screenshot, see


def _log_in(live: LiveServer, browser: Any, code: str, path: str = "/") -> Any:
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    context.set_default_timeout(20000)
    page = context.new_page()
    page.goto(f"{live.url}{path}")
    page.get_by_label("登录码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()
    return page


def _admin_code(live: LiveServer) -> str:
    from app.main import create_app

    app = create_app(live.settings)
    with app.state.sessionmaker.begin() as session:
        return auth_service.issue_admin_login_code(session)


def test_official_lands_on_their_page(live_server: LiveServer, browser: Any) -> None:
    congress = make_congress(live_server.api)
    teller = make_official(live_server.api, congress.id, role="teller", name="郑五")
    code = issue_code(live_server.api, congress.id, teller.id).code
    page = _log_in(live_server, browser, code)
    page.wait_for_url(re.compile(r".*/tablet$"))
    page.goto(f"{live_server.url}/")
    see(page.get_by_role("heading", name="您好，郑五")).to_be_visible()
    see(page.get_by_role("link", name="计票平板")).to_be_visible()
    page.context.close()


def test_secretariat_logs_in_with_its_code_and_next_stays_on_site(
    live_server: LiveServer, browser: Any
) -> None:
    page = _log_in(live_server, browser, _admin_code(live_server), "/?next=/checkin")
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/checkin$"))
    session = page.evaluate("JSON.parse(localStorage.getItem('jipiao.session'))")
    assert session["role"] == "admin"
    assert session["name"] == "大会秘书处"
    page.context.close()
    page = _log_in(live_server, browser, _admin_code(live_server), "/?next=//evil.example/")
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/admin$"))
    page.context.close()


def test_wrong_code_shows_the_reason_in_chinese(live_server: LiveServer, browser: Any) -> None:
    page = _log_in(live_server, browser, "AAAA-BBBB-CCCC")
    alert = page.get_by_role("alert")
    alert.filter(has_text="登录码无效").wait_for()
    assert "invalid" not in alert.inner_text()
    assert page.url.endswith("/")
    page.context.close()


def test_front_door_is_accessible_at_every_size(live_server: LiveServer, browser: Any) -> None:
    for size, viewport in CONSOLE_SIZES.items():
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        page.get_by_label("登录码").wait_for()
        assert axe_violations(page) == [], size
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size
        screenshot(page, f"console-login-{size}")
        context.close()


def test_a_confirmed_action_is_sent_once(live_server: LiveServer, browser: Any) -> None:
    """jp.act after jp.confirm: the event is over when the question is answered, yet the tapped
    button must stay disabled until the answer is back (a second tap sends nothing)."""
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.evaluate(
        """() => {
        window.sent = 0;
        const button = document.createElement("button");
        button.textContent = "开启";
        button.addEventListener("click", async (event) => {
          if (!(await jp.confirm("确定开启？", "确定开启"))) return;
          await jp.act(event, () => {
            window.sent += 1;
            return new Promise((r) => setTimeout(r, 800));
          });
        });
        document.body.appendChild(button);
      }"""
    )
    page.get_by_role("button", name="开启", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="确定开启").click()
    opened = page.get_by_role("button", name="开启", exact=True)
    assert opened.is_disabled()
    opened.click(force=True)
    page.wait_for_function("() => !document.querySelector('button[aria-busy]')")
    assert page.evaluate("window.sent") == 1
    context.close()
