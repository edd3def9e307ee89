"""The installation secret that authenticates QR payloads (``app.papers.qr``).

It lives in ``<data_dir>/secrets/qr.key`` (see ``app.keyfiles`` and ``app.keys``). Losing it makes
printed papers unverifiable. ``load_or_create_qr_key`` is for the offline tools (``jipiao
ballot-paper``); the service never creates the key once a round exists (``app.keys``).
"""

from pathlib import Path

from app.keyfiles import KEY_BYTES, KeyFileError, load_or_create_secret

__all__ = ["KEY_BYTES", "KeyFileError", "key_path", "load_or_create_qr_key"]

KEY_RELATIVE_PATH = Path("secrets") / "qr.key"


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_RELATIVE_PATH


def load_or_create_qr_key(data_dir: Path) -> bytes:
    """The installation's QR key; created on first use."""
    return load_or_create_secret(key_path(data_dir), what=("二维码密钥", "QR key"))
