"""`jipiao tally ROUND.json`: the public contract and its error paths."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.cli import main

A, B, C, D, E = "丁一", "王宁", "李强", "周敏", "赵磊"


def seed_round(counts: dict[str, int] | None = None, **changes: Any) -> dict[str, Any]:
    """A round file with these yes counts (default: RULES.md worked example 1)."""
    counts = counts or {A: 150, B: 120, C: 91, D: 90, E: 60}
    papers: list[dict[str, Any]] = [{"marks": {}} for _ in range(180)]
    cursor = 0
    for name, count in counts.items():
        for step in range(count):
            papers[(cursor + step) % 180]["marks"][name] = "yes"
        cursor = (cursor + count) % 180
    data: dict[str, Any] = {
        "seats": 3,
        "candidates": [E, D, C, B, A],
        "delegates_total": 189,
        "present": 180,
        "collected": 180,
        "papers": papers,
    }
    data.update(changes)
    return data


def run_tally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: object
) -> tuple[int, str, str]:
    path = tmp_path / "round.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    code = main(["tally", str(path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_worked_example_1_output_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_tally(tmp_path, capsys, seed_round())
    assert code == 0, err
    result = json.loads(out)
    assert result["quorum"] == {"met": True, "required": 152}
    assert result["round"]["valid"] is True
    assert result["round"]["void_rule"] is None
    assert result["papers"]["entered"] == 180
    assert result["papers"]["valid"] == 180
    assert result["papers"]["invalid"] == 0
    assert result["papers"]["invalid_by_rule"] == {}
    assert result["majority"]["base"] == 180
    assert result["majority"]["threshold"] == 91
    assert [t["name"] for t in result["tallies"]] == [A, B, C, D, E]  # ballot order
    assert result["tallies"][3] == {"name": D, "write_in": False, "yes": 90, "no": 0, "abstain": 90}
    assert result["elected"] == [A, B, C]
    assert result["next_round"] is None
    assert all({"rule", "message"} <= set(entry) for entry in result["trace"])


def test_tie_next_round(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # RULES.md worked example 2.
    code, out, _ = run_tally(tmp_path, capsys, seed_round({A: 150, B: 120, C: 100, D: 100}))
    assert code == 0
    result = json.loads(out)
    assert result["elected"] == [A, B]
    assert result["round"]["outcome"] == "tie_round"
    assert result["next_round"] == {"kind": "tie", "seats": 1, "candidates": [C, D]}


def test_supplementary_next_round(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # RULES.md worked example 3.
    data = seed_round({A: 150, B: 95, C: 80, D: 70, E: 60})
    code, out, _ = run_tally(tmp_path, capsys, data)
    assert code == 0
    result = json.loads(out)
    assert result["elected"] == [A, B]
    assert result["next_round"] == {"kind": "supplementary", "seats": 1, "candidates": [C, D]}


def test_quorum_not_met(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_tally(tmp_path, capsys, seed_round(present=151, collected=0, papers=[]))
    assert code == 0
    result = json.loads(out)
    assert result["quorum"] == {"met": False, "required": 152}
    assert result["round"]["valid"] is False
    assert result["round"]["void_rule"] == "Q1"
    assert result["elected"] == []
    assert result["next_round"] is None


def test_overcount_calls_a_rerun(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_tally(tmp_path, capsys, seed_round(collected=181, papers=[]))
    assert code == 0
    result = json.loads(out)
    assert result["round"] == {
        "valid": False,
        "void_rule": "I2",
        "kind": "regular",
        "seats": 3,
        "outcome": "void",
    }
    assert result["elected"] == []
    assert result["next_round"] == {"kind": "rerun", "seats": 3, "candidates": [A, B, C, D, E]}


def test_invalid_papers_are_listed_by_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = seed_round()
    data["papers"][0] = {"marks": {A: "no", B: "no"}, "write_ins": ["孙一", "钱二", "吴三"]}
    data["papers"][1] = {"marks": {A: "yes", B: "yes", C: "yes", D: "no"}, "write_ins": ["孙一"]}
    data["papers"][2] = {"marks": {}, "void": "P4"}
    code, out, _ = run_tally(tmp_path, capsys, data)
    assert code == 0
    result = json.loads(out)
    assert result["papers"]["invalid_by_rule"] == {"P2": 1, "P3": 1, "P4": 1}
    assert result["papers"]["invalid_papers"] == [
        {"index": 0, "rules": ["P2"]},
        {"index": 1, "rules": ["P3"]},
        {"index": 2, "rules": ["P4"]},
    ]
    assert result["papers"]["valid"] == 177


def test_profile_options_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_tally(
        tmp_path, capsys, seed_round(present=130, collected=0, papers=[], profile={"quorum": "2/3"})
    )
    assert code == 0
    assert json.loads(out)["quorum"] == {"met": True, "required": 126}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"papers": [{"marks": {"张三": "yes"}}] + [{}] * 179}, "papers[0].marks"),
        ({"papers": [{"marks": {A: "maybe"}}] + [{}] * 179}, "papers[0].marks"),
        ({"papers": [{"marks": {A: "unclear"}}] + [{}] * 179}, "adjudicated"),
        ({"present": -1}, "present"),
        ({"issued": 181}, "issued"),
        ({"present": 190}, "present"),
        ({"seats": 0}, "seats"),
        ({"seats": "3"}, "seats"),
        ({"papers": [{}] * 179}, "I4"),
        ({"candidates": [A, A, B]}, "candidates[1]"),
        ({"round_kind": "final"}, "round_kind"),
        ({"profile": {"quorum": 0.8}}, "profile.quorum"),
        ({"profile": {"majority": "present"}}, "profile.majority"),
        ({"colected": 180}, "colected"),
        ({"papers": [{"void": "P2"}] + [{}] * 179}, "papers[0].void"),
        ({"papers": [{"write_ins": [""]}] + [{}] * 179}, "papers[0].write_ins[0]"),
        ({"papers": [{"write_ins": "孙一"}] + [{}] * 179}, "papers[0].write_ins"),
        ({"papers": [{"marks": []}] + [{}] * 179}, "papers[0].marks"),
        ({"papers": [5] + [{}] * 179}, "papers[0]"),
        ({"papers": [{}] * 179 + [{"mark": {}}]}, "papers[179].mark"),
        ({"round_kind": "tie", "papers": [{"write_ins": ["孙一"]}] + [{}] * 179}, "M7"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, Any], needle: str
) -> None:
    data = seed_round()
    data.update(change)
    code, out, err = run_tally(tmp_path, capsys, data)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert needle in err
    assert "Traceback" not in err


@pytest.mark.parametrize("key", ["seats", "candidates", "delegates_total", "present", "collected"])
def test_missing_required_key(tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str) -> None:
    data = seed_round()
    del data[key]
    code, _, err = run_tally(tmp_path, capsys, data)
    assert code == 2
    assert f"{key}: missing" in err


@pytest.mark.parametrize("text", ["{", "[]", '"x"', ""])
def test_malformed_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    code, out, err = run_tally(tmp_path, capsys, text)
    assert code == 2
    assert out == ""
    assert err.startswith("error:")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tally", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_console_entry_point_reads_stdin() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", "tally", "-"],
        input=json.dumps(seed_round()),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["elected"] == [A, B, C]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"candidates": "丁一"}, "candidates: must be a list"),
        ({"candidates": [A, 3]}, "candidates[1]"),
        ({"candidates": []}, "candidates"),
        ({"profile": ["quorum"]}, "profile"),
        ({"papers": {"0": {}}}, "papers: must be a list"),
        ({"papers": [{"marks": {A: "yes", "丁 一": "no"}}] + [{}] * 179}, "marked twice"),
        ({"ineligible": [""]}, "ineligible[0]"),
        ({"delegates_total": 0, "present": 0, "collected": 0, "papers": []}, "delegates_total"),
    ],
)
def test_more_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: dict[str, Any], needle: str
) -> None:
    data = seed_round()
    data.update(change)
    code, out, err = run_tally(tmp_path, capsys, data)
    assert (code, out) == (2, "")
    assert needle in err


def test_vacant_tie_policy_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = seed_round({A: 150, B: 120, C: 100, D: 100}, profile={"tie_policy": "vacant"})
    code, out, _ = run_tally(tmp_path, capsys, data)
    assert code == 0
    result = json.loads(out)
    assert (result["round"]["outcome"], result["vacant"]) == ("seats_vacant", 1)
    assert result["elected"] == [A, B]
    assert result["next_round"] is None


def test_ineligible_write_in_struck(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = seed_round({A: 150, B: 120, C: 100})
    for paper in data["papers"][100:]:  # these carry two ✓ each: room for one write-in
        paper["marks"][D] = "no"
        paper["write_ins"] = ["孙悦"]
    data["ineligible"] = ["孙 悦"]
    code, out, _ = run_tally(tmp_path, capsys, data)
    assert code == 0
    result = json.loads(out)
    assert result["papers"]["valid"] == 180
    assert {"name": "孙悦", "write_in": True, "yes": 80, "no": 0, "abstain": 0} in result["tallies"]
    assert "孙悦" not in result["elected"]


def test_uncertain_name_order_is_traced_not_guessed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = seed_round({A: 150, B: 120, C: 100}, candidates=["䶮一", A, B, C, "Alice"])
    for paper in data["papers"][100:110]:
        paper["marks"][D] = "no"
    for paper in data["papers"]:
        paper["marks"].pop(D, None)
    data["papers"][100]["marks"]["Alice"] = "no"
    data["papers"][100]["write_ins"] = ["Bob"]
    code, out, _ = run_tally(tmp_path, capsys, data)
    assert code == 0
    result = json.loads(out)
    # 䶮 (Extension A) is placed by its Unicode stroke count; Latin names cannot be placed: last.
    assert [t["name"] for t in result["tallies"]] == [A, B, C, "䶮一", "Alice", "Bob"]
    b1 = [entry["message"] for entry in result["trace"] if entry["rule"] == "B1"]
    assert any("䶮" in message for message in b1)
    assert any("Alice" in message for message in b1)
