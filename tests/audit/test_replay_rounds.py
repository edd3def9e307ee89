"""`jipiao audit verify` recounts every round offline (issue "Audit"): a full election through
the API with a discrepancy resolved by a scrutineer, and an insider with the installation key who
rewrites the record and re-signs it — the chain and signature hold, the recount does not."""

import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.audit.record import check_record
from app.cli import main
from app.ledger.chain import canonical_json
from app.ledger.replay import (
    EVENTS_FILE,
    MANIFEST_FILE,
    StoredEvent,
    compare_passes,
    final_record_texts,
    replay_rounds,
)
from app.settings import Settings
from tests.builders import (
    FILLED,
    LI,
    LIU,
    WANG,
    Api,
    enter_batch,
    enter_batch_with_a_slip,
    expect,
    export,
    hall,
    login_as,
    rewrite,
    with_payload,
)


def test_verify_recounts_and_prints_the_elected(
    certified: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", str(certified)]) == 0
    out = capsys.readouterr().out
    assert "recount agrees: 1 decision(s) recomputed, 1 certified round(s)" in out
    assert f"{WANG}（第 1 轮 / round 1）、{LIU}（第 1 轮 / round 1）、{LI}（第 1 轮" in out
    assert "batch.resolved: 1" in out

    replay = replay_rounds(check_record(certified).events)
    assert replay.problem is None
    assert [(r.round_number, r.elected) for r in replay.certified] == [(1, [WANG, LIU, LI])]


def test_a_rewritten_paper_resigned_with_the_key_fails_the_recount(
    certified: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    def flip_wang_on_one_paper(events: list[StoredEvent]) -> list[StoredEvent]:
        done: set[str] = set()
        out = []
        for stored in events:  # the same paper in both passes: the passes still agree
            payload = json.loads(canonical_json(stored.event.payload))
            if stored.event.type == "paper.entered" and payload["pass"] not in done:
                assert payload["record"]["marks"][0] == "yes"
                payload["record"]["marks"][0] = "no"
                done.add(payload["pass"])
                stored = with_payload(stored, payload)
            out.append(stored)
        assert done == {"a", "b"}
        return out

    rewrite(certified, settings, flip_wang_on_one_paper)
    assert main(["audit", "verify", str(certified)]) == 1
    out = capsys.readouterr().out
    assert f"round 1: {WANG} yes 8 recorded, 7 recomputed" in out
    problem = replay_rounds(check_record(certified).events).problem
    assert problem is not None
    decided = [
        s.event.height for s in check_record(certified).events if s.event.type == "round.decided"
    ]
    assert problem.where == f"event {decided[0]}"


def test_a_dropped_resolution_fails_the_recount(
    certified: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    rewrite(
        certified,
        settings,
        lambda events: [s for s in events if s.event.type != "batch.resolved"],
    )
    assert main(["audit", "verify", str(certified)]) == 1
    out = capsys.readouterr().out
    assert "round 1: cannot be recounted from the record: 7 final papers" in out
    assert "8 collected" in out


def test_a_certificate_naming_another_decision_is_refused(
    certified: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    def point_elsewhere(events: list[StoredEvent]) -> list[StoredEvent]:
        out = []
        for stored in events:
            if stored.event.type == "round.certified":
                payload = json.loads(canonical_json(stored.event.payload))
                payload["decision"] = "0" * 64
                stored = with_payload(stored, payload)
            out.append(stored)
        return out

    rewrite(certified, settings, point_elsewhere)
    assert main(["audit", "verify", str(certified)]) == 1
    assert "round.certified names 000000000000…" in capsys.readouterr().out


def test_the_auditor_downloads_the_record_and_verifies_it(
    api: Api, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = hall(api, settings, seats=3)
    enter_batch(h, FILLED)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    auditor = login_as(api, h.ready.congress.id, "auditor")
    response = auditor.get(f"/api/elections/{h.ready.election.id}/record")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == [EVENTS_FILE, MANIFEST_FILE]
        archive.extractall(tmp_path / "record")
    assert main(["audit", "verify", str(tmp_path / "record")]) == 0
    assert f"elected: {WANG}（第 1 轮" in capsys.readouterr().out
    expect(h.tellers[0].get(f"/api/elections/{h.ready.election.id}/record"), 403)
    expect(auditor.get("/api/elections/999999/record"), 404)


def test_the_progress_bar_on_a_large_record(
    certified: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("app.audit.command.LARGE_RECORD_BYTES", 0)
    assert main(["audit", "verify", str(certified)]) == 0
    assert "recount agrees" in capsys.readouterr().out


def test_final_records_shared_with_the_count() -> None:
    def text(*marks: str) -> str:
        return canonical_json({"marks": list(marks), "void": None, "write_ins": []}).decode()

    yes, no, unclear = text("yes"), text("no"), text("unclear")
    a = Counter({yes: 2, no: 1, unclear: 1})
    b = Counter({yes: 1, no: 2, unclear: 1})
    compared = compare_passes(a, b)
    assert compared.agreed == Counter({yes: 1, no: 1})
    assert compared.only_in_pass_a == Counter({yes: 1})
    assert compared.only_in_pass_b == Counter({no: 1})
    assert compared.unclear == Counter({unclear: 1})
    assert final_record_texts(a, b, [yes, no]) == sorted([yes, no, yes, no])
    assert final_record_texts(a, None, None) == sorted([yes, yes, no])  # single entry


def test_a_reentered_batch_is_recounted_from_its_new_generation(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h = hall(api, settings, seats=3)
    enter_batch(h, FILLED[:5])
    batch_id = enter_batch_with_a_slip(h, FILLED[5:])
    reentry = {"reason": "两遍不一致，重新录入"}
    expect(h.scrutineer.post(f"/api/batches/{batch_id}/reentry", json=reentry), 200)
    enter_batch_with_a_slip(h, FILLED[5:], batch_id=batch_id, slip=False)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)
    record = export(app, settings, h.ready.election.id, tmp_path / "record")
    assert main(["audit", "verify", str(record)]) == 0
    out = capsys.readouterr().out
    assert "batch.reentry_ordered: 1" in out
    assert f"elected: {WANG}（第 1 轮" in out
