"""`jipiao report ROUND.json -o report.pdf [--json] [--csv] [--xlsx] [--nist-err] [--nist-cvr]`."""

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.cli import main
from app.results.report import round_file_hash
from tests.printing.helpers import rasterize, scan, text
from tests.results.helpers import HEAD_HASH, round_file
from tests.results.nist import assert_valid


def run(tmp_path: Path, data: object, *args: str) -> tuple[int, Path]:
    source = tmp_path / "round.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out" / "report.pdf"
    return main(["report", str(source), "-o", str(out), *args]), out


def test_writes_the_report_and_every_export(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, pdf = run(
        tmp_path,
        round_file(),
        "--printed", "200",
        "--head-hash", HEAD_HASH,
        "--fingerprint", "ed25519:abcd",
        "--chief-scrutineer", "周明",
        "--scrutineer", "吴芳",
        "--json", str(out / "r.json"),
        "--csv", str(out / "r.csv"),
        "--xlsx", str(out / "r.xlsx"),
        "--nist-err", str(out / "err.json"),
        "--nist-cvr", str(out / "cvr.json"),
    )  # fmt: skip
    assert code == 0
    page = text(pdf)
    assert "剩余选票" in page
    assert "贰拾" in page
    assert "周明" in page
    assert scan(rasterize(pdf)) == [f"jipiao audit verify --expect-head {HEAD_HASH}"]
    results = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert results["rounds"][0]["elected"] == ["王宁", "李娜"]
    assert results["date"] == "2026-05-01"
    rows = list(csv.DictReader(io.StringIO((out / "r.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0]["name"] == "王宁"
    assert load_workbook(out / "r.xlsx").sheetnames[0] == "汇总 Summary"
    for name, kind in (("err.json", "err"), ("cvr.json", "cvr")):
        assert_valid(kind, json.loads((out / name).read_text(encoding="utf-8")))
    assert len(json.loads((out / "cvr.json").read_text(encoding="utf-8"))["CVR"]) == 180


def test_without_an_event_log_the_round_file_hash_is_printed(tmp_path: Path) -> None:
    data = round_file()
    code, pdf = run(tmp_path, data)
    assert code == 0
    assert scan(rasterize(pdf)) == [round_file_hash(data)]
    assert "轮次文件哈希" in text(pdf)


@pytest.mark.parametrize(
    ("data", "args", "message"),
    [
        (round_file(seats=0), (), "seats"),
        (round_file(collected=179), (), "I4"),
        (round_file(), ("--printed", "150"), "printed: 150 papers printed but 180 issued"),
        (round_file(), ("--printed", "-1"), "--printed"),
        (round_file(date="May 1"), (), "date: must be YYYY-MM-DD"),
        (round_file(round=0), (), "round: must be a positive integer"),
        (round_file(title=3), (), "title: must be a string"),
        ([1, 2], (), "JSON object"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data: object,
    args: tuple[str, ...],
    message: str,
) -> None:
    code, pdf = run(tmp_path, data, *args)
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert message in err
    assert not pdf.exists()


def test_malformed_json_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "round.json"
    source.write_text("{", encoding="utf-8")
    assert main(["report", str(source), "-o", str(tmp_path / "r.pdf")]) == 2
    assert "malformed JSON" in capsys.readouterr().err


def test_tally_is_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "round.json"
    source.write_text(json.dumps(round_file(), ensure_ascii=False), encoding="utf-8")
    assert main(["tally", str(source)]) == 0
    assert json.loads(capsys.readouterr().out)["elected"] == ["王宁", "李娜"]
