"""`jipiao ballot-paper ROUND.json -o papers.pdf`: the organizers' path without a server."""

import json
from pathlib import Path

import pytest

from app.cli import main
from app.papers import qr
from app.papers.keys import load_or_create_qr_key
from tests.printing.helpers import SEED_ORDER, pages, rasterize, reading_order, round_file, scan
from tests.printing.helpers import text as pdf_text


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "var"
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(folder))
    return folder


def run(tmp_path: Path, data: object, *args: str) -> tuple[int, Path]:
    source = tmp_path / "round.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out" / "papers.pdf"
    return main(["ballot-paper", str(source), "-o", str(out), *args]), out


def test_prints_papers_from_a_tally_round_file(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = round_file(issued=5, collected=5, papers=[{"marks": {"王宁": "yes"}}])
    code, out = run(tmp_path, data, "--paper-size", "A5", "--per-page", "1")
    assert code == 0
    assert pages(out) == 5  # copies default to `issued`
    assert reading_order(pdf_text(out), SEED_ORDER) == SEED_ORDER
    [payload] = scan(rasterize(out))
    key = load_or_create_qr_key(data_dir)  # the key the command created on first use
    parsed = qr.parse_payload(payload)
    assert parsed is not None
    assert (parsed.election_id, parsed.round_number) == (7, 1)
    assert (
        qr.verify_payload(payload, key=key, election_id=7, round_number=1, definition_hash="0" * 64)
        == qr.OtherDefinition()
    )  # authentic under the created key; hash checked in test_ballot_pdf
    assert "papers" in capsys.readouterr().err


def test_copies_option(tmp_path: Path, data_dir: Path) -> None:
    code, out = run(tmp_path, round_file(), "--copies", "3")
    assert code == 0
    assert pages(out) == 2
    assert data_dir.exists()


@pytest.mark.parametrize(
    ("data", "args", "message"),
    [
        ({"seats": 3}, (), "candidates: missing"),
        (round_file(seats=0), (), "seats"),
        (round_file(round=0), (), "round"),
        (round_file(candidates=["王宁", "王宁"]), (), "appears twice"),
        (round_file(), ("--copies", "0"), "--copies"),
        (round_file(), ("--layout", "/nonexistent/layout.json"), "cannot read the layout"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data: object,
    args: tuple[str, ...],
    message: str,
) -> None:
    code, _ = run(tmp_path, data, *args)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_missing_font_is_explained(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JIPIAO_BALLOT_FONT", str(tmp_path / "missing.ttc"))
    code, _ = run(tmp_path, round_file())
    err = capsys.readouterr().err
    assert code == 1
    assert "找不到字体文件" in err
    assert "font file not found" in err
