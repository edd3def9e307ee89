"""``jipiao audit verify`` and ``verify-diff`` take the zip the console downloads
(``GET /api/elections/{id}/record``) as it is: the command printed on ``/audit`` runs on the
downloaded file. Only the record's two files are read from the archive."""

import io
import json
import zipfile
from pathlib import Path

import pytest

from app.cli import main
from app.ledger.replay import EVENTS_FILE, MANIFEST_FILE
from tests.builders import Api, expect, login_as, record_congress


def download(auditor: Api, election_id: int, path: Path) -> Path:
    response = auditor.get(f"/api/elections/{election_id}/record")
    assert response.status_code == 200, response.text
    path.write_bytes(response.content)
    return path


def rezip(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            if name not in change:
                new.writestr(name, old.read(name))
        for name, content in change.items():
            if content is not None:
                new.writestr(name, content)
    return target


def test_verify_and_diff_take_the_downloaded_zip(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    congress_id, election_id = record_congress(api)
    auditor = login_as(api, congress_id, "auditor")
    old = download(auditor, election_id, tmp_path / "old.zip")
    assert main(["audit", "verify", str(old)]) == 0
    out = capsys.readouterr().out
    assert "record intact" in out
    head = json.loads(zipfile.ZipFile(old).read(MANIFEST_FILE))["body"]["head_hash"]
    assert main(["audit", "verify", str(old), "--expect-head", head]) == 0
    assert "matches the result report" in capsys.readouterr().out

    # A paper changed inside the archive, a manifest missing: refused (exit 1).
    events = zipfile.ZipFile(old).read(EVENTS_FILE)
    tampered = rezip(old, tmp_path / "tampered.zip", {EVENTS_FILE: events.replace(b"1", b"2", 1)})
    assert main(["audit", "verify", str(tampered)]) == 1
    assert "differs" in capsys.readouterr().out
    bare = rezip(old, tmp_path / "bare.zip", {MANIFEST_FILE: None})
    assert main(["audit", "verify", str(bare)]) == 1
    capsys.readouterr()

    # An earlier download and a later one: the later continues the earlier, not the reverse.
    delegates = expect(api.get(f"/api/congresses/{congress_id}/delegates"), 200)
    absent = [d for d in delegates if not d["present"]]
    expect(api.post(f"/api/congresses/{congress_id}/delegates/{absent[0]['id']}/check-in"), 200)
    new = download(auditor, election_id, tmp_path / "new.zip")
    assert main(["audit", "verify-diff", str(old), str(new)]) == 0
    assert "1 events added" in capsys.readouterr().out
    assert main(["audit", "verify-diff", str(new), str(old)]) == 1


def test_nothing_but_the_record_is_unpacked(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    congress_id, election_id = record_congress(api)
    record = download(login_as(api, congress_id, "auditor"), election_id, tmp_path / "r.zip")
    buffer = io.BytesIO(record.read_bytes())
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("../escaped.txt", b"not a record file")
    hostile = tmp_path / "sub" / "hostile.zip"
    hostile.parent.mkdir()
    hostile.write_bytes(buffer.getvalue())
    assert main(["audit", "verify", str(hostile)]) == 0
    assert "record intact" in capsys.readouterr().out
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "sub" / "escaped.txt").exists()
