"""The installation secret that authenticates QR payloads (``app.papers.qr``).

It lives outside the database, in ``<data_dir>/secrets/qr.key`` (mode 0600, folder 0700): 32 random
bytes written as 64 hex digits and a newline. It is created on first use; a database export or
backup therefore never contains it. Losing it makes printed papers unverifiable: back it up with
the installation, never with the vote log.
"""

import contextlib
import os
import secrets
from pathlib import Path

KEY_BYTES = 32
KEY_RELATIVE_PATH = Path("secrets") / "qr.key"


class KeyFileError(RuntimeError):
    """The key file exists but is not a key this module wrote."""


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_RELATIVE_PATH


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"{path}: 不是有效的二维码密钥 / not a valid QR key "
            f"({KEY_BYTES * 2} hex digits expected)"
        )
    return key


def load_or_create_qr_key(data_dir: Path) -> bytes:
    """The installation's QR key; created (atomically, 0600) if it does not exist yet.

    Two processes starting at once end up with the same key: the new file is written under a
    temporary name and linked into place, which fails if another process got there first.
    """
    path = key_path(data_dir)
    if path.exists():
        return _read(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: use theirs
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)
