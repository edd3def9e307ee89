"""``jipiao sort-names`` end to end: the real command line in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "sort-names", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_stdin_default_convention_puts_single_given_names_first() -> None:
    done = _run(stdin="王小洪\n王刚\n王长河\n  \n李强\n")
    assert (done.returncode, done.stderr) == (0, "")
    assert _lines(done.stdout) == ["王刚", "王小洪", "王长河", "李强"]


def test_character_by_character_convention() -> None:
    done = _run("--convention", "character_by_character", stdin="王刚\n王长河\n王小洪\n李强\n")
    assert (done.returncode, done.stderr) == (0, "")
    assert _lines(done.stdout) == ["王小洪", "王长河", "王刚", "李强"]


def test_file_input_reproduces_a_published_list(tmp_path: Path) -> None:
    published = [
        line
        for line in (DATA / "npc14_tianjin.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    path = tmp_path / "names.txt"
    path.write_text("\n".join(reversed(published)) + "\n", encoding="utf-8")
    done = _run(str(path), "--convention", "character_by_character")
    assert (done.returncode, done.stderr) == (0, "")
    assert _lines(done.stdout) == published


def test_explain_prints_one_line_per_name() -> None:
    done = _run("--explain", stdin="王宁\n艾力更·依明巴海（维吾尔族）\n叶申\n")
    assert (done.returncode, done.stderr) == (0, "")
    lines = _lines(done.stdout)
    assert len(lines) == 3
    assert lines[0] == "王宁\t王(4画 1121 #88) ∅ 宁(5画 44512 #410) [single_given_name_first]"
    name, explanation = lines[1].split("\t")
    assert name == "艾力更·依明巴海（维吾尔族）"
    assert explanation.startswith("艾(5画 12234 ")
    assert explanation.endswith("[single_given_name_first]")
    assert lines[2].startswith("叶申\t叶(5画 25112 #297 左右) ∅ 申(5画 25112 #297 整体)")


def test_explain_character_by_character_has_no_empty_slot() -> None:
    done = _run("--explain", "--convention", "character_by_character", stdin="王宁\n")
    assert (done.returncode, done.stderr) == (0, "")
    assert _lines(done.stdout) == [
        "王宁\t王(4画 1121 #88) 宁(5画 44512 #410) [character_by_character]"
    ]


def test_extension_a_character_warns_on_stderr_and_exits_0() -> None:
    done = _run(stdin="刘鑫\n刘䶮\n刘馨\n")
    assert done.returncode == 0
    assert _lines(done.stdout) == ["刘馨", "刘䶮", "刘鑫"]
    warnings = _lines(done.stderr)
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: ")
    assert "U+4DAE" in warnings[0]
    assert "刘䶮" in warnings[0]


def test_duplicate_name_warns_and_keeps_input_order() -> None:
    done = _run(stdin="张伟（男）\n王宁\n张伟（女）\n")
    assert done.returncode == 0
    assert _lines(done.stdout) == ["王宁", "张伟（男）", "张伟（女）"]
    assert len(_lines(done.stderr)) == 1
    assert "同名" in done.stderr


def test_character_without_stroke_count_is_one_error_line_and_exit_2() -> None:
    done = _run(stdin="王宁\n李A\n")
    assert done.returncode == 2
    assert done.stdout == ""
    errors = _lines(done.stderr)
    assert len(errors) == 1
    assert errors[0].startswith("error: ")
    assert "U+0041" in errors[0]
    assert "李A" in errors[0]


def test_empty_input_prints_nothing() -> None:
    for stdin in ("", "\n  \n"):
        done = _run(stdin=stdin)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
