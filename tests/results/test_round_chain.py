"""Rounds chained through a whole election over HTTP, on both databases: no round gets stuck
(paper records are totally ordered), attendance frozen at issuance (Q1, Q3), reruns (I2, M7),
follow-up lists (M6-M10, O1). The offline tally and the audit replay agree with the service."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.audit.record import check_record
from app.cli import main
from app.ledger.replay import replay_rounds
from app.settings import Settings
from tests.audit.test_record import export
from tests.builders import SEED_BALLOT_ORDER, Api, expect
from tests.results.test_results_api import Hall, hall

WANG, LIU, LI, ZHANG, OUYANG = SEED_BALLOT_ORDER


def paper(
    marks: list[str], write_ins: list[str | None] | None = None, void: str | None = None
) -> dict[str, Any]:
    return {"marks": marks, "write_ins": write_ins or [], "void": void}


def enter_papers(
    h: Hall, papers: list[dict[str, Any]], *, round_id: int | None = None,
    payload: str | None = None, candidates: list[str] | None = None,
) -> None:  # fmt: skip
    """One batch, both passes entering the same papers (pass B in reverse order)."""
    round_id = h.round_id if round_id is None else round_id
    names = SEED_BALLOT_ORDER if candidates is None else candidates
    body = {"declared_count": len(papers), "teller_a_id": h.teller_ids[0],
            "teller_b_id": h.teller_ids[1]}  # fmt: skip
    batch = expect(h.api.post(f"/api/rounds/{round_id}/batches", json=body), 201)
    for tag, teller in zip("ab", h.tellers, strict=True):
        order = list(enumerate(papers))
        for n, p in order if tag == "a" else reversed(order):
            entry = {
                "idempotency_key": f"{round_id}-{batch['id']}-{tag}-{n}",
                "qr_payload": h.payload if payload is None else payload,
                "marks": dict(zip(names, p["marks"], strict=True)),
                "write_ins": p["write_ins"],
                "void": p["void"],
            }
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=entry), 201)


def cli_tally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: dict[str, Any]
) -> dict[str, Any]:
    path = tmp_path / "round.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    assert main(["tally", str(path)]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def replayed(app: FastAPI, settings: Settings, h: Hall, tmp_path: Path) -> Any:
    record = export(app, settings, h.ready.election.id, tmp_path / "record")
    replay = replay_rounds(check_record(record).events)
    assert replay.problem is None, replay.problem
    return replay


# ---------------------------------------------------------------- 1. no round gets stuck

FILLER = paper(["yes", "yes", "yes", "no", "no"])
# Records that did not compare: an all-blank paper and a void one (void None against "P4"); the
# same marks with an illegible write-in (None) and a name.
UNORDERED = [
    FILLER,
    paper(["blank"] * 5),
    FILLER,
    paper(["blank"] * 5, void="P4"),
    paper(["yes", "no", "yes", "no", "no"], [None]),
    FILLER,
    paper(["yes", "no", "yes", "no", "no"], ["赵六"]),
    FILLER,
]


def test_a_round_with_blank_void_and_illegible_write_in_papers_is_decided(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    h = hall(api, settings, seats=3)  # 10 delegates, 8 present, 8 issued and collected
    enter_papers(h, UNORDERED)
    decided = expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    result = decided["result"]
    assert result["papers"]["invalid_by_rule"] == {"P4": 1}
    assert result["elected"] == [WANG, LI]  # 6 yes each of 8 present (threshold 5)

    offline = cli_tally(tmp_path, capsys, {
        "seats": 3, "candidates": SEED_BALLOT_ORDER, "delegates_total": 10, "present": 8,
        "issued": 8, "collected": 8,
        "papers": [
            {"marks": dict(zip(SEED_BALLOT_ORDER, p["marks"], strict=True)),
             "write_ins": p["write_ins"], "void": p["void"]}
            for p in reversed(UNORDERED)
        ],
    })  # fmt: skip
    assert offline["papers"].pop("invalid_papers") == [{"index": 4, "rules": ["P4"]}]
    for key in ("papers", "majority", "tallies", "elected", "next_round", "trace"):
        assert offline[key] == result[key], key

    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    replay = replayed(app, settings, h, tmp_path)
    assert [(r.round_number, r.elected) for r in replay.certified] == [(1, [WANG, LI])]
