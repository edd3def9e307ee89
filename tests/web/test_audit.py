"""The auditors' page ``/audit`` (issue 18 item 8) in a real browser: the chain's state in words
(and where it breaks), the key fingerprints, the election record downloaded, and the offline
command the page prints — run here as printed with the project's ``jipiao`` — verifies that very
file, pinned to the head hash printed on the result report, and compares it with an earlier copy;
the duties view as tables; axe and screenshots at the four console sizes."""

import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.builders import FILLED, enter_batch, expect, hall, login_as
from tests.web.conftest import CONSOLE_SIZES, LAPTOP, LiveServer, axe_violations, screenshot, see
from tests.web.pages import no_horizontal_scroll, open_console, session_of

JIPIAO = Path(sys.executable).parent / "jipiao"


def run(command: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """The printed command, as printed, in the folder the browser saved the record to."""
    argv = shlex.split(command)
    assert argv[0] == "jipiao", command
    return subprocess.run([str(JIPIAO), *argv[1:]], cwd=folder, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def report_head(api: Any, round_id: int) -> str:
    """The head hash printed on the result report, four lines of sixteen hex digits."""
    response = api.get(f"/api/rounds/{round_id}/report.pdf")
    assert response.status_code == 200, response.text
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.content,
                          capture_output=True, check=True, timeout=60).stdout.decode()  # fmt: skip
    return "".join(re.findall(r"\b[0-9a-f]{16}\b", text)[:4])


def download_record(page: Any, folder: Path) -> Path:
    with page.expect_download() as download:
        page.get_by_role("button", name="下载选举记录").click()
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return path


def test_audit_chain_record_command_and_duties(
    live_server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    h = hall(live_server.api, live_server.settings, seats=3)
    enter_batch(h, FILLED)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    head = report_head(h.presidium, h.round_id)
    congress = h.ready.congress.id
    auditor = login_as(h.api, congress, "auditor")
    page = open_console(browser, live_server, session_of(h.api, auditor), "/audit", LAPTOP)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    folder = tmp_path / "downloads"
    folder.mkdir()
    try:
        verified = expect(auditor.get(f"/api/congresses/{congress}/events/verify"), 200)
        chain = page.get_by_role("region", name="事件链状态")
        status = chain.get_by_role("status")
        status.filter(has_text=f"链完整：共 {verified['length']} 个事件，哈希链没有断裂").wait_for()
        see(chain).to_contain_text(verified["head"], use_inner_text=True)
        keys = expect(auditor.get("/api/audit/keys"), 200)
        fingerprints = page.get_by_role("region", name="密钥指纹")
        see(fingerprints).to_contain_text(keys["public_key"], use_inner_text=True)

        # The record, and the command printed for it, run as printed.
        record = page.get_by_role("region", name="选举记录与离线核验")
        first = download_record(page, folder)
        assert re.fullmatch(r"record-election\d+-\d{8}-\d{6}\.zip", first.name), first.name
        command = record.get_by_label("离线核验命令")
        assert command.input_value() == (
            f"jipiao audit verify {first.name} --public-key {keys['public_key']}"
        )
        # The report's head hash typed as printed (four groups): the command pins the record.
        record.get_by_label(re.compile("报告单上印的链头哈希")).fill(
            " ".join(head[i : i + 16] for i in range(0, 64, 16))
        )
        printed = command.input_value()
        assert printed.endswith(f" --expect-head {head}")
        done = run(printed, folder)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "记录完整" in done.stdout
        assert "与报告单一致" in done.stdout
        record.get_by_role("button", name="复制核验命令").click()
        record.get_by_role("status").filter(has_text="已复制").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == printed
        # Refused: a head the record does not hold (another report), and a mistyped one.
        record.get_by_label(re.compile("报告单上印的链头哈希")).fill("0" * 64)
        wrong = run(command.input_value(), folder)
        assert wrong.returncode == 1
        assert "不一致" in wrong.stdout
        record.get_by_label(re.compile("报告单上印的链头哈希")).fill(head[:60])
        record.get_by_role("alert").filter(has_text="链头哈希应为 64 位十六进制数字").wait_for()
        assert "--expect-head" not in command.input_value()

        # A later copy (a delegate checked in since) continues the earlier one.
        late = h.ready.delegates[9]
        expect(h.api.post(f"/api/congresses/{congress}/delegates/{late.id}/check-in"), 200)
        page.wait_for_timeout(1100)  # the file names tell the seconds apart
        second = download_record(page, folder)
        assert second.name != first.name
        assert record.get_by_label("之前的副本").input_value() == first.name
        diff = record.get_by_label("比较命令").input_value()
        assert diff == f"jipiao audit verify-diff {first.name} {second.name}"
        compared = run(diff, folder)
        assert compared.returncode == 0, compared.stdout + compared.stderr
        assert "NEW 延续 OLD" in compared.stdout
        reverse = run(f"jipiao audit verify-diff {second.name} {first.name}", folder)
        assert reverse.returncode == 1

        # The duties: both signatures with their sessions, every code issued.
        duties = page.get_by_role("region", name="分工制约：签字与登录码")
        signed = duties.locator("table").first.locator("tbody tr")
        assert signed.count() == 2
        see(signed.nth(0)).to_contain_text("chief_scrutineer1号", use_inner_text=True)
        see(signed.nth(0)).to_contain_text("总监票人", use_inner_text=True)
        see(signed.nth(1)).to_contain_text("监票人", use_inner_text=True)
        assert duties.locator("table").nth(1).locator("tbody tr").count() >= 5

        for size, viewport in CONSOLE_SIZES.items():
            page.set_viewport_size(viewport)
            assert axe_violations(page) == [], size
            no_horizontal_scroll(page)
            screenshot(page, f"audit-{size}")
        page.set_viewport_size(LAPTOP)

        # A row changed behind the log's back: the chain's words say where.
        with sqlite3.connect(live_server.settings.database_url.removeprefix("sqlite:///")) as db:
            db.execute("UPDATE delegate SET name = '改过的名字' WHERE id = ?", (late.id,))
        chain.get_by_role("button", name="重新校验").click()
        status.filter(has_text="链不完整：哈希链完整，但数据库有 1 处与事件日志不一致").wait_for()
        see(chain).to_contain_text("改过的名字", use_inner_text=True)
        screenshot(page, "audit-chain-broken")
    finally:
        page.context.close()


def test_a_presidium_member_opening_audit_gets_no_actions(
    live_server: LiveServer, browser: Any
) -> None:
    h = hall(live_server.api, live_server.settings, seats=3)
    page = open_console(browser, live_server, session_of(h.api, h.presidium), "/audit", LAPTOP)
    try:
        page.get_by_role("alert").filter(has_text="此页面不属于您的职责（大会主席团）").wait_for()
        page.get_by_role("region", name="事件链状态").get_by_role("status").filter(
            has_text="链完整"
        ).wait_for()
        assert page.locator("main button, main input, main textarea").count() == 0
    finally:
        page.context.close()
