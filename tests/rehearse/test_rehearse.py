"""``jipiao rehearse``: the whole election through the real HTTP API, end to end.

One rehearsal runs as a subprocess (``--papers 20``) for the checks of a good run; two more run
in-process with a broken answer slipped in, which must end in exit 1.
"""

import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.rehearse import command
from app.rehearse.client import Api
from app.rules import Attendance, PaperRecord, RoundDefinition, count_round, paper_order

# Whole elections through a real server: the full suite runs them, the inner loop does not.
pytestmark = pytest.mark.slow

PAPERS = 20
ELECTED_LINE = re.compile(r"^\s*当选 / elected: (.+)$", re.MULTILINE)
ELECTED_NAME = re.compile(r"([^、（]+)（第 (\d+) 轮 / round \d+）")
INJECTED = re.compile(r"注入差异 / injected differences (\d+), 不清楚的符号 / unclear marks (\d+)")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    record: Path


def jipiao(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=180
    )


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Run:
    record = tmp_path_factory.mktemp("rehearsal") / "record"
    done = jipiao("rehearse", "--papers", str(PAPERS), "--export", str(record))
    return Run(done.returncode, done.stdout, done.stderr, record)


def events(record: Path) -> list[dict[str, Any]]:
    lines = (record / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def printed_elected(stdout: str) -> list[tuple[str, int]]:
    lines = ELECTED_LINE.findall(stdout)
    assert lines, stdout
    return [(name, int(n)) for name, n in ELECTED_NAME.findall(lines[-1])]


def recount(record: Path) -> list[tuple[str, int]]:
    """The elected persons from the exported events, counted here with app.rules: the passes of
    every batch compared as multisets, the scrutineers' records added, each round decided."""
    log = events(record)
    delegates_total = next(
        e["payload"]["delegates_total"] for e in log if e["type"] == "congress.created"
    )
    rounds: dict[int, dict[str, Any]] = {}
    batch_round: dict[int, int] = {}
    passes: dict[tuple[int, str], Counter[str]] = {}
    resolved: dict[int, list[str]] = {}
    for event in log:
        payload = event["payload"]
        match event["type"]:
            case "round.opened":
                rounds[payload["round_id"]] = {"definition": payload["definition"]}
            case "round.papers_issued":
                rounds[payload["round_id"]]["issued"] = payload["issued"]
                rounds[payload["round_id"]]["present"] = payload["present"]
            case "round.papers_collected":
                rounds[payload["round_id"]]["collected"] = payload["collected"]
            case "batch.created":
                batch_round[payload["batch_id"]] = payload["round_id"]
            case "paper.entered":
                key = (payload["batch_id"], payload["pass"])
                passes.setdefault(key, Counter())[json.dumps(payload["record"])] += 1
            case "batch.resolved":
                resolved[payload["batch_id"]] = [json.dumps(r) for r in payload["records"]]
    elected: list[tuple[str, int]] = []
    for round_id, round_ in sorted(rounds.items()):
        papers: list[PaperRecord] = []
        for batch_id in (b for b, r in batch_round.items() if r == round_id):
            agreed = passes[(batch_id, "a")] & passes[(batch_id, "b")]
            final = [t for t in agreed.elements() if "unclear" not in t]
            for text in final + resolved.get(batch_id, []):
                data = json.loads(text)
                papers.append(
                    PaperRecord(tuple(data["marks"]), tuple(data["write_ins"]), data["void"])
                )
        definition = round_["definition"]
        result = count_round(
            RoundDefinition(
                seats=definition["seats"],
                candidates=tuple(definition["candidates"]),
                kind=definition["kind"],
            ),
            Attendance(
                delegates_total=delegates_total,
                present=round_["present"],
                issued=round_["issued"],
                collected=round_["collected"],
            ),
            sorted(papers, key=paper_order),
        )
        elected += [(name, definition["round"]) for name in result.elected]
    return elected


def test_a_rehearsal_goes_through_and_its_record_verifies(rehearsal: Run) -> None:
    assert rehearsal.code == 0, rehearsal.stderr
    assert "离线核验一致 / offline verify agrees" in rehearsal.stdout
    assert sorted(p.name for p in rehearsal.record.iterdir()) == [
        "events.jsonl", "manifest.json",
        "papers-round1.pdf", "papers-round2.pdf", "papers-round3.pdf",
        "report-round1.pdf", "report-round2.pdf", "report-round3.pdf",
    ]  # fmt: skip
    verified = jipiao("audit", "verify", str(rehearsal.record))
    assert verified.returncode == 0, verified.stdout
    assert "重新计票一致 / recount agrees: 3 decision(s) recomputed" in verified.stdout


def test_printed_elected_equal_an_independent_recount(rehearsal: Run) -> None:
    assert rehearsal.code == 0, rehearsal.stderr
    elected = printed_elected(rehearsal.stdout)
    assert elected == recount(rehearsal.record)
    assert len(elected) == 3  # the seed's 3 seats
    # The first round fills a seat and needs a follow-up; the seats fill in a later round.
    assert elected[0][1] == 1
    assert max(n for _, n in elected) >= 2
    kinds = [e["payload"]["kind"] for e in events(rehearsal.record) if e["type"] == "round.opened"]
    assert kinds == ["regular", "supplementary", "tie"]


def test_injected_differences_were_made_and_resolved(rehearsal: Run) -> None:
    assert rehearsal.code == 0, rehearsal.stderr
    injected = [(int(d), int(u)) for d, u in INJECTED.findall(rehearsal.stdout)]
    assert len(injected) == 3
    assert all(d >= 2 for d, _ in injected)
    log = events(rehearsal.record)
    tellers = {
        e["payload"]["batch_id"]: (e["payload"]["teller_a_id"], e["payload"]["teller_b_id"])
        for e in log
        if e["type"] == "batch.created"
    }
    assert all(a != b for a, b in tellers.values())  # O3
    discrepancies = [e["payload"] for e in log if e["type"] == "batch.discrepancy"]
    assert len(discrepancies) == sum(d for d, _ in injected)
    for found in discrepancies:
        assert len(found["only_in_pass_a"]) == len(found["only_in_pass_b"]) == 1
    unclear = sum(len(e["payload"]["unclear"]) for e in log if "unclear" in e["payload"])
    assert unclear == sum(u for _, u in injected) > 0
    resolutions = {
        e["payload"]["batch_id"]: e["payload"] for e in log if e["type"] == "batch.resolved"
    }
    disputed = {p["batch_id"] for p in discrepancies} | {
        e["payload"]["batch_id"] for e in log if e["type"] == "batch.needs_adjudication"
    }
    assert set(resolutions) == disputed
    assert {r["author_role"] for r in resolutions.values()} <= {"scrutineer", "chief_scrutineer"}
    resolved_marks = [m for r in resolutions.values() for rec in r["records"] for m in rec["marks"]]
    assert "unclear" not in resolved_marks
    assert "illegible" in resolved_marks  # P6: a mark the scrutineers could not read either


def test_a_tampered_record_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    download = command.Rehearsal.download_record

    def tampered(self: command.Rehearsal, election_id: int) -> Path:
        directory = download(self, election_id)
        path = directory / "events.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        index = next(i for i, line in enumerate(lines) if '"paper.entered"' in line)
        lines[index] = lines[index].replace('"yes"', '"no"', 1)
        path.write_text("".join(lines), encoding="utf-8")
        return directory

    monkeypatch.setattr(command.Rehearsal, "download_record", tampered)
    code = main(["rehearse", "--papers", str(PAPERS), "--export", str(tmp_path / "record")])
    err = capsys.readouterr().err
    assert code == 1
    assert "the offline verify disagrees" in err
    assert "离线核验不一致" in err


def test_a_wrong_decision_from_the_server_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    post = Api.post

    def broken(self: Api, path: str, json_body: Any = None, *, expect: int = 200) -> Any:
        answer = post(self, path, json_body, expect=expect)
        if path.endswith("/decide"):
            answer["result"]["tallies"][0]["yes"] += 1
        return answer

    monkeypatch.setattr(Api, "post", broken)
    code = main(["rehearse", "--papers", str(PAPERS)])
    captured = capsys.readouterr()
    assert code == 1
    assert "round 1: the server's decision differs from the rules engine's count" in captured.err
    assert re.search(
        r"result\.tallies\[[^]]+\]\.yes: (\d+) \(server\), (\d+) \(expected\)", captured.err
    )
    assert "第 2 轮" not in captured.out  # stopped at the first round


def test_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rehearse", "--papers", "5"]) == 2
    assert "--papers: must be between 20 and 5000" in capsys.readouterr().err
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["rehearse", "--export", str(a_file)]) == 2
    assert "is not a directory" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["rehearse", "--papers", "many"])
    assert exited.value.code == 2


def test_a_refused_request_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Papers whose QR code is not the server's: the tablets' scan refuses them (P1).
    monkeypatch.setattr(command, "encode_payload", lambda **_: "JP1.1.1.AAAAAAAA.AAAAAAAAAAAAAAAA")
    code = main(["rehearse", "--papers", str(PAPERS)])
    err = capsys.readouterr().err
    assert code == 1
    assert "POST /api/rounds/1/scan answered 422 (expected 200) qr_forged" in err
    assert "返回 422（应为 200）qr_forged" in err
