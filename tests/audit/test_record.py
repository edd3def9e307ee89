"""The exported election record: signature, chain and manifest checks, tamper detection."""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.audit.record import check_record
from app.cli import main
from app.keys import signing_key
from app.ledger import replay
from app.ledger.replay import EVENTS_FILE, MANIFEST_FILE
from app.settings import Settings
from tests.builders import (
    Api,
    certified_record,
    export,
    record_congress,
)


@pytest.fixture
def record(api: Api, app: FastAPI, settings: Settings, tmp_path: Path) -> Path:
    _, election_id = record_congress(api)
    return export(app, settings, election_id, tmp_path / "record")


def test_exported_record_verifies(record: Path, settings: Settings) -> None:
    checked = check_record(record)
    assert checked.problem is None
    assert len(checked.events) >= 14  # congress, roster, election, candidates, 10 check-ins
    public = signing_key(settings.data_dir).public_key().public_bytes_raw().hex()
    assert checked.public_key == public
    assert check_record(record, expected_public_key=public.upper()).problem is None


def test_cli_verify(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(record)]) == 0
    out = capsys.readouterr().out
    assert "record intact" in out
    assert "delegate.checked_in: 10" in out


def test_a_recount_without_room_for_its_temporary_file_says_so(
    api: Api,
    app: FastAPI,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Every reconciled batch folded and written at once, into a temporary folder that is full.
    record = certified_record(api, app, settings, tmp_path / "record")
    monkeypatch.setattr(replay, "HOT_BATCHES", 0)
    monkeypatch.setattr(replay._Cold, "PENDING", 1)

    def full(*_: object, **__: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(replay.sqlite3, "connect", full)
    assert main(["audit", "verify", str(record)]) == 2
    err = capsys.readouterr().err
    assert "database or disk is full" in err
    assert "SQLITE_TMPDIR" in err
    assert "临时文件无法写入" in err


def test_another_signer_is_refused_when_the_key_is_pinned(record: Path) -> None:
    checked = check_record(record, expected_public_key="00" * 32)
    assert checked.problem is not None
    assert "another key" in checked.problem.message_en


def copy_record(record: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(record, target)
    return target


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_flipping_any_byte_is_detected(record: Path, tmp_path: Path, data: st.DataObject) -> None:
    target = copy_record(record, tmp_path / "tampered")
    name = data.draw(st.sampled_from([EVENTS_FILE, MANIFEST_FILE]))
    content = bytearray((target / name).read_bytes())
    index = data.draw(st.integers(0, len(content) - 1))
    content[index] ^= data.draw(st.integers(1, 255))
    (target / name).write_bytes(bytes(content))
    assert check_record(target).problem is not None


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_dropping_or_reordering_events_is_detected(
    record: Path, tmp_path: Path, data: st.DataObject
) -> None:
    target = copy_record(record, tmp_path / "tampered")
    lines = (target / EVENTS_FILE).read_bytes().splitlines(keepends=True)
    if data.draw(st.booleans()):
        del lines[data.draw(st.integers(0, len(lines) - 1))]
    else:
        first = data.draw(st.integers(0, len(lines) - 2))
        second = data.draw(st.integers(first + 1, len(lines) - 1))
        lines[first], lines[second] = lines[second], lines[first]
    (target / EVENTS_FILE).write_bytes(b"".join(lines))
    assert check_record(target).problem is not None


def test_verify_diff_accepts_a_continuation_and_refuses_a_rewrite(
    api: Api, app: FastAPI, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    congress_id, election_id = record_congress(api)
    old = export(app, settings, election_id, tmp_path / "old")
    delegates = api.get(f"/api/congresses/{congress_id}/delegates").json()
    absent = [d for d in delegates if not d["present"]]
    api.post(f"/api/congresses/{congress_id}/delegates/{absent[0]['id']}/check-in")
    new = export(app, settings, election_id, tmp_path / "new")
    assert main(["audit", "verify-diff", str(old), str(new)]) == 0
    assert "1 events added" in capsys.readouterr().out
    assert main(["audit", "verify-diff", str(new), str(old)]) == 1
    assert "removed" in capsys.readouterr().out

    # Another congress's record of the same length is not a continuation.
    _, other_election = record_congress(api)
    other = export(app, settings, other_election, tmp_path / "other")
    assert main(["audit", "verify-diff", str(old), str(other)]) == 1


def test_cli_export_and_unknown_election(
    api: Api,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, election_id = record_congress(api)
    monkeypatch.setenv("JIPIAO_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(settings.data_dir))
    out = tmp_path / "cli-record"
    assert main(["audit", "export", str(election_id), "-o", str(out)]) == 0
    assert check_record(out).problem is None
    assert main(["audit", "export", "999999", "-o", str(tmp_path / "none")]) == 2
    assert "999999" in capsys.readouterr().err


@pytest.mark.parametrize("field", ["public_key", "signature"])
def test_an_uppercased_hex_digit_in_the_manifest_is_detected(
    record: Path, tmp_path: Path, field: str
) -> None:
    # Found by the byte-flip property: 'b' ^ 0x20 is 'B', and bytes.fromhex reads both alike.
    target = copy_record(record, tmp_path / "tampered")
    manifest = (target / MANIFEST_FILE).read_text()
    value = json.loads(manifest)[field]
    index = next(i for i, char in enumerate(value) if char in "abcdef")
    changed = value[:index] + value[index].upper() + value[index + 1 :]
    (target / MANIFEST_FILE).write_text(manifest.replace(value, changed))
    problem = check_record(target).problem
    assert problem is not None
    assert problem.where == MANIFEST_FILE
