"""A machine without the Chinese font (fonts-noto-cjk) cannot print: the server says what to
install at start, and the printing endpoints answer 503 ``font_missing`` — never a 500 (issue 17,
item 11a). The machine is simulated with ``JIPIAO_FONT_DIRS`` naming an empty folder."""

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.builders import FILLED, Api, enter_batch, expect, hall, make_ready_election, open_round

INSTALL = "apt-get install fonts-noto-cjk"


@pytest.fixture
def no_cjk_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    monkeypatch.setenv("JIPIAO_FONT_DIRS", str(empty))
    monkeypatch.delenv("JIPIAO_BALLOT_FONT", raising=False)


def _font_missing(body: dict[str, str]) -> None:
    assert body["code"] == "font_missing"
    assert "中文字体" in body["message_zh"]
    assert "思源黑体" in body["message_zh"]
    assert INSTALL in body["message_en"]


@pytest.mark.usefixtures("no_cjk_font")
def test_printing_without_a_chinese_font_says_what_to_install(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    _font_missing(expect(api.get(f"/api/rounds/{round_.id}/papers.pdf"), 503))

    h = hall(api, settings, seats=3)
    enter_batch(h, FILLED)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    _font_missing(expect(h.presidium.get(f"/api/rounds/{h.round_id}/report.pdf"), 503))

    # A font file named in the setting that is not there: the same code, saying which file.
    missing = str(settings.data_dir / "missing.ttc")
    monkeypatch.setenv("JIPIAO_BALLOT_FONT", missing)
    body = expect(h.presidium.get(f"/api/rounds/{h.round_id}/report.pdf"), 503)
    assert body["code"] == "font_missing"
    assert "找不到字体文件" in body["message_zh"]
    assert missing in body["message_en"]
    assert INSTALL in body["message_en"]

    # A file that is there but no font: the same, not a 500.
    not_a_font = settings.data_dir / "notes.ttf"
    not_a_font.write_text("这不是字体")
    monkeypatch.setenv("JIPIAO_BALLOT_FONT", str(not_a_font))
    for path in (f"/api/rounds/{round_.id}/papers.pdf", f"/api/rounds/{h.round_id}/report.pdf"):
        body = expect(api.get(path), 503)
        assert body["code"] == "font_missing"
        assert "not a usable font" in body["message_en"]

    # With the font back, the same requests print.
    monkeypatch.delenv("JIPIAO_BALLOT_FONT")
    monkeypatch.delenv("JIPIAO_FONT_DIRS")
    response = h.presidium.get(f"/api/rounds/{h.round_id}/report.pdf")
    assert response.status_code == 200, response.text
    assert api.get(f"/api/rounds/{round_.id}/papers.pdf").status_code == 200


def _start_log(settings: Settings) -> list[str]:
    """What the server logs while it starts and stops (uvicorn's error log)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("uvicorn.error")
    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        with TestClient(create_app(settings)):
            pass
    finally:
        logger.removeHandler(handler)
    return [record.getMessage() for record in records]


def test_the_server_says_at_start_what_to_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert not [line for line in _start_log(settings) if "font" in line]  # fonts installed here
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    monkeypatch.setenv("JIPIAO_FONT_DIRS", str(empty))
    monkeypatch.delenv("JIPIAO_BALLOT_FONT", raising=False)
    (line,) = [line for line in _start_log(settings) if "font" in line]
    assert INSTALL in line
    assert "JIPIAO_BALLOT_FONT" in line
    assert "\n" not in line
