"""The installation secret: created once, 0600, outside the database."""

import stat
import threading
from pathlib import Path

import pytest

from app.papers.keys import KEY_BYTES, KeyFileError, key_path, load_or_create_qr_key


def test_created_on_first_use_with_private_permissions(tmp_path: Path) -> None:
    key = load_or_create_qr_key(tmp_path)
    path = key_path(tmp_path)
    assert path == tmp_path / "secrets" / "qr.key"
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text() == key.hex() + "\n"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_reused_afterwards(tmp_path: Path) -> None:
    assert load_or_create_qr_key(tmp_path) == load_or_create_qr_key(tmp_path)


def test_another_installation_has_another_key(tmp_path: Path) -> None:
    assert load_or_create_qr_key(tmp_path / "a") != load_or_create_qr_key(tmp_path / "b")


def test_concurrent_first_starts_agree(tmp_path: Path) -> None:
    keys: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(load_or_create_qr_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1
    assert len(keys) == 8


def test_a_damaged_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    path = key_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("not hex\n")
    with pytest.raises(KeyFileError, match="not a valid QR key"):
        load_or_create_qr_key(tmp_path)
