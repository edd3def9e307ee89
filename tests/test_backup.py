"""``jipiao backup`` / ``jipiao restore``: the SQLite database with its keys, restored elsewhere,
and the count continued there with the papers printed before the backup (issue 20 item 1); the
SQLite file is created 0600 (item 9)."""

import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import cli
from app.auth import service as auth_service
from app.db import upgrade_database
from app.keys import KeysMissing
from app.main import create_app
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.settings import Settings
from tests.builders import (
    SEED_BALLOT_ORDER,
    Api,
    expect,
    issue_and_collect,
    login_official,
    make_ready_election,
    open_round,
)

MARKS = ["yes", "no", "yes", "abstain", "yes"]


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url="", public_url="http://hall.example:8000")


def test_the_sqlite_file_is_created_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask: SQLite alone would make the file 0644
    try:
        settings = _settings(tmp_path / "data")
        upgrade_database(settings)
        with TestClient(create_app(settings)):
            pass
    finally:
        os.umask(previous)
    database = settings.data_dir / "jipiao.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    for suffix in ("-wal", "-shm"):
        side = Path(f"{database}{suffix}")
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) == 0o600


def test_backup_restored_elsewhere_continues_the_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hall = _settings(tmp_path / "hall")
    upgrade_database(hall)
    with TestClient(create_app(hall)) as client:
        with client.app.state.sessionmaker.begin() as session:  # type: ignore[attr-defined]
            token = auth_service.ensure_admin_token(session)
        assert token is not None
        api = Api(client, token)
        ready = make_ready_election(api)
        round_ = open_round(api, ready.election.id)
        issue_and_collect(api, round_.id, printed=8, issued=8, collected=8)
        printed_qr = encode_payload(  # what the papers printed in the hall carry
            key=load_or_create_qr_key(hall.data_dir),
            election_id=ready.election.id,
            round_number=1,
            definition_hash=round_.definition_hash,
        )
        tellers = [o.id for o in ready.officials["teller"]]
        body = {"declared_count": 8, "teller_a_id": tellers[0], "teller_b_id": tellers[1]}
        batch = expect(api.post(f"/api/rounds/{round_.id}/batches", json=body), 201)
        teller_a = login_official(api, ready.congress.id, tellers[0])
        teller_b = login_official(api, ready.congress.id, tellers[1])

        def enter(teller: Api, key: str) -> None:
            paper = {
                "idempotency_key": key,
                "qr_payload": printed_qr,
                "marks": dict(zip(SEED_BALLOT_ORDER, MARKS, strict=True)),
                "write_ins": [],
                "void": None,
            }
            expect(teller.post(f"/api/batches/{batch['id']}/papers", json=paper), 201)

        for n in range(4):
            enter(teller_a, f"a{n}")

        monkeypatch.setenv("JIPIAO_DATA_DIR", str(hall.data_dir))
        monkeypatch.delenv("JIPIAO_DATABASE_URL", raising=False)
        backup = tmp_path / "hall-backup.zip"
        assert cli.main(["backup", str(backup)]) == 0
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert cli.main(["backup", str(backup)]) == 1  # never overwritten
        assert "不会覆盖" in capsys.readouterr().err

    # A copy of the database without its keys cannot start (it would make new keys).
    bare = _settings(tmp_path / "bare")
    bare.data_dir.mkdir()
    (bare.data_dir / "jipiao.sqlite3").write_bytes((hall.data_dir / "jipiao.sqlite3").read_bytes())
    with pytest.raises(KeysMissing), TestClient(create_app(bare)):
        pass

    # Restored into a new data folder (another machine), the count goes on there.
    spare = _settings(tmp_path / "spare")
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(spare.data_dir))
    assert cli.main(["restore", str(backup)]) == 0
    assert cli.main(["restore", str(backup)]) == 1  # the database is there now: not replaced
    assert stat.S_IMODE((spare.data_dir / "jipiao.sqlite3").stat().st_mode) == 0o600
    with TestClient(create_app(spare)) as client:
        api = Api(client, token)
        teller_a, teller_b = Api(client, teller_a.token), Api(client, teller_b.token)
        for n in range(4, 8):
            enter(teller_a, f"a{n}")
        for n in range(8):
            enter(teller_b, f"b{n}")
        status = expect(api.get(f"/api/rounds/{round_.id}/count-status"), 200)
        assert (status["papers_entered"], status["papers_reconciled"]) == (8, 8)
        assert status["ready"] is True
