"""POST /api/rounds/{id}/read-paper (issue 22): a teller's photo in, proposed marks out — and no
image anywhere afterwards: no file written, no row changed, nothing logged."""

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.db import Base
from app.settings import Settings
from tests.builders import Api, expect, login_official, make_ready_election, open_round
from tests.reader.helpers import photo_of_round_paper

_WRITES: list[tuple[str, str]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # An audit hook cannot be removed: it records only while a test sets _WRITES.
    if _WRITES is not None and event == "open":
        path, mode = args[0], args[1]
        if isinstance(mode, str) and any(flag in mode for flag in "wax+"):
            _WRITES.append((str(path), mode))
        elif isinstance(mode, int) and mode & 0o3:  # os.open with O_WRONLY / O_RDWR
            _WRITES.append((str(path), str(mode)))


sys.addaudithook(_audit)


@pytest.fixture
def recording_writes() -> Iterator[list[tuple[str, str]]]:
    global _WRITES
    _WRITES = []
    try:
        yield _WRITES
    finally:
        _WRITES = None


def _row_counts(app: FastAPI) -> dict[str, int]:
    with app.state.sessionmaker.begin() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def test_a_teller_reads_a_photo_and_nothing_is_kept(
    app: FastAPI,
    settings: Settings,
    api: Api,
    tmp_path: Path,
    recording_writes: list[tuple[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ready = make_ready_election(api, delegates_total=10, present=8)
    round_ = open_round(api, ready.election.id)
    drawn = ["yes", "blank", "no", "yes", "abstain"]
    photo, candidates = photo_of_round_paper(app, settings, api, round_.id, tmp_path, drawn)
    teller = login_official(api, ready.congress.id, ready.officials["teller"][0].id)
    before = _row_counts(app)
    files_before = sorted(p for p in settings.data_dir.rglob("*"))
    recording_writes.clear()
    caplog.set_level(logging.DEBUG)
    caplog.clear()

    response = teller.client.post(
        f"/api/rounds/{round_.id}/read-paper",
        content=photo,
        headers={"Authorization": f"Bearer {teller.token}", "Content-Type": "image/jpeg"},
    )

    body = expect(response, 200)
    assert recording_writes == []  # the image never touched a file, nor did anything else
    # The test's own HTTP client logs its request line; the service logs nothing.
    assert [r for r in caplog.records if not r.name.startswith("httpx")] == []
    assert _row_counts(app) == before  # no table changed: no event, no paper, no session row
    assert sorted(p for p in settings.data_dir.rglob("*")) == files_before
    assert body["qr"].startswith("JP1.")
    assert [m["candidate"] for m in body["marks"]] == candidates
    assert [m["mark"] for m in body["marks"]] == drawn
    assert all(m["sure"] for m in body["marks"])
    assert body["unsure"] == 0
    assert body["write_ins_filled"] == [False, False, False]
    assert body["write_ins_sure"] == [True, True, True]
    assert body["message_zh"] == "全部标记已识别，请核对后确认"


def test_the_write_in_boxes_are_read_with_their_doubt(
    app: FastAPI, settings: Settings, api: Api, tmp_path: Path
) -> None:
    ready = make_ready_election(api, delegates_total=10, present=8)
    round_ = open_round(api, ready.election.id)
    drawn = ["yes", "blank", "no", "yes", "abstain"]
    photo, _ = photo_of_round_paper(
        app, settings, api, round_.id, tmp_path, drawn, names_in=(0,), outline_erased=(2,)
    )
    teller = login_official(api, ready.congress.id, ready.officials["teller"][0].id)
    body = expect(
        teller.post(
            f"/api/rounds/{round_.id}/read-paper",
            content=photo,
            headers={"Content-Type": "image/jpeg"},
        ),
        200,
    )
    assert body["unsure"] == 0
    assert body["write_ins_filled"][:2] == [True, False]
    assert body["write_ins_sure"] == [True, True, False]
    assert body["message_zh"] == (
        "全部标记已识别，请核对后确认；另选他人栏有 1 处书写，请录入姓名；"
        "另选他人栏有 1 处未能看清，请查看选票"
    )
    assert body["message_en"].endswith("1 write-in box(es) not read clearly: look at the paper")


def test_only_tellers_and_only_images(api: Api) -> None:
    ready = make_ready_election(api, delegates_total=10, present=8)
    round_ = open_round(api, ready.election.id)
    path = f"/api/rounds/{round_.id}/read-paper"
    jpeg = {"Content-Type": "image/jpeg"}
    anonymous = api.as_token(None).post(path, content=b"\xff\xd8", headers=jpeg)
    assert expect(anonymous, 401)["code"]
    scrutineer = login_official(api, ready.congress.id, ready.officials["scrutineer"][0].id)
    assert expect(scrutineer.post(path, content=b"\xff\xd8", headers=jpeg), 403)["code"]
    teller = login_official(api, ready.congress.id, ready.officials["teller"][0].id)
    garbage = expect(teller.post(path, content=b"not a photo", headers=jpeg), 422)
    assert garbage["code"] == "paper_not_read"
    assert garbage["message_zh"]
    blank = np.full((400, 300), 255, dtype=np.uint8)
    no_paper = expect(
        teller.post(path, content=bytes(cv2.imencode(".png", blank)[1]), headers=jpeg), 422
    )
    assert no_paper["code"] == "paper_not_read"
    too_large = teller.post(path, content=b"\0" * (16 * 1024 * 1024 + 1), headers=jpeg)
    assert expect(too_large, 413)["code"] == "payload_too_large"
