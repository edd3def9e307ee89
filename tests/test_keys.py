"""The installation's keys never change silently (issue 20 item 1).

Once the database holds a round, a missing key stops the start (and the endpoint that needs it)
instead of being replaced by a new one that would refuse every printed paper as forged.
"""

import hashlib
import hmac
import json
import shutil
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import cli, serve
from app.keys import KeysMissing, current_fingerprints, ensure_keys, public_key_of
from app.main import create_app
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.settings import Settings
from tests.builders import (
    Api,
    expect,
    issue_and_collect,
    login_as,
    make_ready_election,
    open_round,
)
from tests.printing.helpers import round_file


def _files(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((data_dir / "secrets").iterdir())}


def test_data_dir_is_resolved_to_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIPIAO_DATA_DIR", raising=False)
    assert Settings().data_dir == tmp_path.resolve() / "var"
    assert Settings(data_dir=Path("elsewhere/../data")).data_dir == tmp_path.resolve() / "data"
    monkeypatch.setenv("JIPIAO_DATA_DIR", "relative")
    assert Settings().data_dir == tmp_path.resolve() / "relative"


def test_keys_moved_after_a_round_stop_the_start_and_the_endpoint(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    ready = make_ready_election(api)
    round_ = open_round(api, ready.election.id)
    before = _files(settings.data_dir)
    assert set(before) == {"qr.key", "record-signing.key"}  # made at start (no round then)
    moved = tmp_path / "moved-secrets"
    shutil.move(settings.data_dir / "secrets", moved)

    # The running service: the record would be signed with a new key — refused, nothing made.
    auditor = login_as(api, ready.congress.id, "auditor")
    answer = expect(auditor.get(f"/api/elections/{ready.election.id}/record"), 503)
    assert answer["code"] == "keys_missing"
    assert str(settings.data_dir / "secrets" / "record-signing.key") in answer["message_en"]
    assert "jipiao keys restore" in answer["message_en"]
    assert "恢复" in answer["message_zh"]
    assert not (settings.data_dir / "secrets").exists()

    # A new start on the same database: refused, with where and how.
    with pytest.raises(KeysMissing) as refused, TestClient(create_app(settings)):
        pass
    assert str(settings.data_dir / "secrets" / "qr.key") in refused.value.message_en
    assert not (settings.data_dir / "secrets").exists()
    with pytest.raises(SystemExit) as stopped:
        serve.first_start(settings)
    assert "jipiao keys restore" in str(stopped.value.code)
    assert not (settings.data_dir / "secrets").exists()

    # Put back: the start succeeds with the same keys, and the printed papers still scan.
    shutil.move(moved, settings.data_dir / "secrets")
    with TestClient(create_app(settings)) as client:
        again = Api(client, api.token)
        issue_and_collect(again, round_.id, printed=8, issued=8, collected=8)
        payload = encode_payload(
            key=bytes.fromhex(before["qr.key"].decode().strip()),
            election_id=ready.election.id,
            round_number=1,
            definition_hash=round_.definition_hash,
        )
        teller = login_as(again, ready.congress.id, "teller", name="新计票人")
        scanned = teller.post(f"/api/rounds/{round_.id}/scan", json={"payload": payload})
        assert expect(scanned, 200)["verdict"] == "this_round"
    assert _files(settings.data_dir) == before


def test_keys_are_made_at_start_while_no_round_exists(settings: Settings) -> None:
    assert not (settings.data_dir / "secrets").exists()
    with TestClient(create_app(settings)):
        pass
    assert set(_files(settings.data_dir)) == {"qr.key", "record-signing.key"}
    for path in (settings.data_dir / "secrets").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_fingerprints_at_start_and_on_the_audit_api(
    api: Api, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    serve.first_start(settings)
    printed = capsys.readouterr().out
    qr_key = load_or_create_qr_key(settings.data_dir)
    seed = bytes.fromhex(_files(settings.data_dir)["record-signing.key"].decode().strip())
    qr_fp = hmac.new(qr_key, b"jipiao qr key fingerprint", hashlib.sha256).hexdigest()[:16]
    signing_fp = hashlib.sha256(public_key_of(seed)).hexdigest()[:16]
    assert str(settings.data_dir) in printed
    assert settings.data_dir.is_absolute()
    assert qr_fp in printed
    assert signing_fp in printed
    assert qr_key.hex() not in printed
    assert seed.hex() not in printed

    ready = make_ready_election(api)
    auditor = login_as(api, ready.congress.id, "auditor")
    answer = expect(auditor.get("/api/audit/keys"), 200)
    assert answer == {
        "data_dir": str(settings.data_dir),
        "qr_key_fingerprint": qr_fp,
        "signing_key_fingerprint": signing_fp,
        "public_key": public_key_of(seed).hex(),
    }
    assert qr_key.hex() not in json.dumps(answer)
    assert seed.hex() not in json.dumps(answer)
    expect(api.as_token(None).get("/api/audit/keys"), 401)


def _cli(monkeypatch: pytest.MonkeyPatch, data_dir: Path, *argv: str) -> int:
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(data_dir))
    return cli.main(list(argv))


def test_keys_backup_and_restore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, other = tmp_path / "first", tmp_path / "second", tmp_path / "other"
    qr_key = load_or_create_qr_key(first)
    assert _cli(monkeypatch, first, "keys", "backup", str(tmp_path / "k.json")) == 1  # no signer
    assert "record-signing.key" in capsys.readouterr().err
    assert not (tmp_path / "k.json").exists()

    with pytest.raises(KeysMissing):  # the same refusal, never a new key
        current_fingerprints(first)

    class _NoRounds:  # a database with no round: ensure_keys may make the missing key
        def scalar(self, _statement: object) -> bool:
            return False

    made = ensure_keys(_NoRounds(), first)  # type: ignore[arg-type]
    assert load_or_create_qr_key(first) == qr_key
    backup = tmp_path / "keys.json"
    assert _cli(monkeypatch, first, "keys", "backup", str(backup)) == 0
    out = capsys.readouterr().out
    assert made.qr_key in out
    assert made.signing_key in out
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    document = json.loads(backup.read_text())
    assert document["qr_key"] == qr_key.hex()
    assert document["qr_key_fingerprint"] == made.qr_key

    backup.write_text(backup.read_text())  # an existing file is never overwritten
    before = backup.read_bytes()
    assert _cli(monkeypatch, first, "keys", "backup", str(backup)) == 1
    assert "不会覆盖" in capsys.readouterr().err
    assert backup.read_bytes() == before

    assert _cli(monkeypatch, second, "keys", "restore", str(backup)) == 0
    assert _files(second) == _files(first)
    for path in (second / "secrets").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _cli(monkeypatch, second, "keys", "restore", str(backup)) == 0  # the same: fine

    load_or_create_qr_key(other)  # a different key there: refused, nothing replaced
    kept = _files(other)
    assert _cli(monkeypatch, other, "keys", "restore", str(backup)) == 1
    assert "不会替换" in capsys.readouterr().err
    assert _files(other) == kept

    (tmp_path / "junk.json").write_text("{}")
    assert _cli(monkeypatch, other, "keys", "restore", str(tmp_path / "junk.json")) == 1
    assert "not a keys backup" in capsys.readouterr().err


def test_keys_lost_before_the_first_round_are_not_remade_once_recorded(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    # The first start recorded the keys' fingerprints: another instance on this database may
    # hold them, so a lost key is restored, never remade (issue 21; test_cluster.py).
    ready = make_ready_election(api)
    before = _files(settings.data_dir)
    moved = tmp_path / "moved-secrets"
    shutil.move(settings.data_dir / "secrets", moved)
    answer = expect(api.post(f"/api/elections/{ready.election.id}/rounds"), 503)
    assert answer["code"] == "keys_missing"
    assert "records this installation's keys" in answer["message_en"]
    assert not (settings.data_dir / "secrets").exists()
    shutil.move(moved, settings.data_dir / "secrets")
    open_round(api, ready.election.id)
    assert _files(settings.data_dir) == before


def test_the_ballot_paper_tool_makes_no_qr_key_once_a_round_exists(
    api: Api,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ready = make_ready_election(api)
    open_round(api, ready.election.id)
    qr_path = settings.data_dir / "secrets" / "qr.key"
    qr_path.unlink()  # the signing key stays: a new QR key would go unnoticed at the next start
    source = tmp_path / "round.json"
    source.write_text(json.dumps(round_file(issued=2, collected=2), ensure_ascii=False), "utf-8")
    monkeypatch.setenv("JIPIAO_DATABASE_URL", settings.resolved_database_url())
    code = _cli(monkeypatch, settings.data_dir, "ballot-paper", str(source), "-o",
                str(tmp_path / "papers.pdf"))  # fmt: skip
    assert code == 1
    assert "jipiao keys restore" in capsys.readouterr().err
    assert not qr_path.exists()
    assert not (tmp_path / "papers.pdf").exists()
