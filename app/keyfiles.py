"""Installation secrets kept outside the database, in ``<data_dir>/secrets/`` (folder 0700).

Each is 32 random bytes written as 64 hex digits and a newline (mode 0600). They are created
only while the database holds no round (``app.keys.ensure_keys``, at start); afterwards a missing
key is an error, never a new key. A database export never contains them: back them up with
``jipiao keys backup`` (or ``jipiao backup``, the database and its keys together).
"""

import os
import secrets
from pathlib import Path

KEY_BYTES = 32


class KeyFileError(RuntimeError):
    """The key file exists but is not a key this module wrote."""


def _read(path: Path, what: tuple[str, str]) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"{path}: 不是有效的{what[0]} / not a valid {what[1]} ({KEY_BYTES * 2} hex digits)"
        )
    return key


def load_secret(path: Path, *, what: tuple[str, str]) -> bytes | None:
    """The secret in ``path``, or None if there is no such file (never created here)."""
    if not path.exists():
        return None
    return _read(path, what)


def write_private(path: Path, content: bytes, *, replace: bool = False) -> bool:
    """Write ``content`` into ``path`` (0600, folder 0700), never half: the file is written under
    a temporary name and then linked into place (``replace``: moved over the old file). Without
    ``replace`` an existing file is kept (another process was first); True if written."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def write_secret(path: Path, key: bytes) -> bool:
    """Write ``key`` into ``path`` (0600, atomically) unless the file exists; True if written."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"a key has {KEY_BYTES} bytes")
    return write_private(path, (key.hex() + "\n").encode("ascii"))


def load_or_create_secret(path: Path, *, what: tuple[str, str]) -> bytes:
    """The secret in ``path``, created (atomically, 0600) if it does not exist yet.

    ``what`` names the key in Chinese and English for the error message.

    Two processes starting at once end up with the same key: the new file is written under a
    temporary name and linked into place, which fails if another process got there first.
    """
    if path.exists():
        return _read(path, what)
    write_secret(path, secrets.token_bytes(KEY_BYTES))
    return _read(path, what)
