"""`jipiao audit verify --expect-head HASH` pins the record to the signed paper report (issue 20
item 8): an insider with the database and the keys rewrites papers in both passes (the count and
the decision unchanged, so nothing needs re-deciding), re-hashes the chain and re-signs it. The
record is intact for `verify`; the head hash scanned from the report's QR code catches it."""

import json
import shlex
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.audit.verify import pinned_event
from app.cli import main
from app.ledger.chain import JsonValue, canonical_json, next_event
from app.ledger.replay import EVENTS_FILE, StoredEvent, parse_event_lines
from app.settings import Settings
from tests.builders import (
    FILLED,
    SEED_BALLOT_ORDER,
    Api,
    enter_batch,
    enter_batch_with_a_slip,
    expect,
    export,
    hall,
    rewrite,
    with_payload,
)
from tests.printing.helpers import rasterize, scan


def swap_two_papers_in_both_passes(events: list[StoredEvent]) -> list[StoredEvent]:
    """The 2nd and 3rd papers of the last batch exchange their marks, in pass A and in pass B."""
    entered = [s for s in events if s.event.type == "paper.entered"]
    last_batch = json.loads(canonical_json(entered[-1].event.payload))["batch_id"]
    swapped: dict[int, StoredEvent] = {}
    for tag in "ab":
        ours = []
        for stored in entered:
            payload = json.loads(canonical_json(stored.event.payload))
            if payload["batch_id"] == last_batch and payload["pass"] == tag:
                ours.append((stored, payload))
        (second, p2), (third, p3) = ours[1], ours[2]
        assert p2["record"] != p3["record"]
        p2["record"], p3["record"] = p3["record"], p2["record"]
        swapped[second.event.height] = with_payload(second, p2)
        swapped[third.event.height] = with_payload(third, p3)
    assert len(swapped) == 4
    return [swapped.get(s.event.height, s) for s in events]


def _renamed(value: JsonValue, renamed: dict[str, str]) -> JsonValue:
    if isinstance(value, str):
        return renamed.get(value, value)
    if isinstance(value, list):
        return [_renamed(v, renamed) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, renamed) for k, v in value.items()}
    return value


def insider_rewrite(record: Path, settings: Settings) -> None:
    """Swap two papers in both passes, then re-hash the chain with every later event that names
    an earlier one's hash (the signatures name the decision) pointing at its new hash, and
    re-sign: what an insider with the database and the keys can do."""
    events = swap_two_papers_in_both_passes(parse_event_lines((record / EVENTS_FILE).read_bytes()))
    renamed: dict[str, str] = {}
    head: tuple[int, str] | None = None
    rebuilt: list[StoredEvent] = []
    for stored in events:
        e = stored.event
        payload = _renamed(json.loads(canonical_json(e.payload)), renamed)
        assert isinstance(payload, dict)
        event, digest = next_event(
            chain=e.chain, head=head, type=e.type, payload=payload, at=e.at,
            actor_role=e.actor_role,
        )  # fmt: skip
        renamed[stored.hash] = digest
        rebuilt.append(StoredEvent(event, digest))
        head = (event.height, digest)
    rewrite(record, settings, lambda _events: rebuilt)


def test_the_report_pins_the_record(
    api: Api,
    app: FastAPI,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    h = hall(api, settings, seats=3)
    enter_batch(h, FILLED[:5])
    batch_id = enter_batch_with_a_slip(h, FILLED[5:])
    resolution = {
        "records": [{"marks": dict(zip(SEED_BALLOT_ORDER, FILLED[5], strict=True))}],
        "reason": "核对原票：李娜弃权",
    }
    expect(h.scrutineer.post(f"/api/batches/{batch_id}/resolution", json=resolution), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/decide"), 200)
    expect(h.chief.post(f"/api/rounds/{h.round_id}/sign"), 200)
    assert expect(h.scrutineer.post(f"/api/rounds/{h.round_id}/sign"), 200)["certified"]

    # The signed report: its QR code says what to type; the auditor adds the record's folder.
    response = h.chief.get(f"/api/rounds/{h.round_id}/report.pdf")
    assert response.status_code == 200, response.text
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    [typed] = scan(rasterize(pdf, dpi=150))
    command = shlex.split(typed)
    assert command[:4] == ["jipiao", "audit", "verify", "--expect-head"]
    head = command[4]
    record = export(app, settings, h.ready.election.id, tmp_path / "record")
    assert json.loads((record / "manifest.json").read_text())["body"]["head_hash"] == head

    assert main([*command[1:], str(record)]) == 0
    out = capsys.readouterr().out
    assert "record intact" in out
    assert f"matches the result report: {head}" in out

    # The same head typed from the paper in four groups of 16, in capitals: the same check.
    grouped = " ".join(head[i : i + 16] for i in range(0, 64, 16)).upper()
    assert main(["audit", "verify", "--expect-head", grouped, str(record)]) == 0
    capsys.readouterr()

    # The insider's rewrite: the chain, the signature and the recount all still hold ...
    insider_rewrite(record, settings)
    assert main(["audit", "verify", str(record)]) == 0
    assert "record intact" in capsys.readouterr().out
    # ... but the head printed on the report is no longer in the record.
    assert main([*command[1:], str(record)]) == 1
    out = capsys.readouterr().out
    assert "不一致 / differs" in out
    assert "报告单打印之后" in out
    assert "rewritten and re-signed after the report was printed" in out
    assert "record intact" not in out


def test_a_malformed_head_is_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("abc", "g" * 64, "0" * 63):
        assert main(["audit", "verify", "--expect-head", bad, str(tmp_path)]) == 2
        assert "64" in capsys.readouterr().err


def test_a_later_continuation_still_contains_the_printed_head() -> None:
    lines = [
        canonical_json({"hash": f"{n:064x}", "height": n, "payload": {"hash": "f" * 64}}) + b"\n"
        for n in range(5)
    ]
    events_file = b"".join(lines)
    pin = pinned_event(events_file, f"{2:064x}")
    assert pin is not None
    assert (pin.height, pin.after) == (2, 2)
    assert pinned_event(events_file, "f" * 64) is None  # a payload's "hash" is not an event's
