"""Vendored browser libraries are the published files, unmodified: each file's sha256 is the one
app/web/static/VENDORED.md records (a changed or replaced file fails here)."""

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLE = (ROOT / "app/web/static/VENDORED.md").read_text(encoding="utf-8")
VENDORED = {
    "jsQR.js": ROOT / "app/web/static/jsQR.js",
    "alpine.min.js": ROOT / "app/web/static/alpine.min.js",
    "axe.min.js": ROOT / "tests/web/vendor/axe.min.js",
}


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_vendored_file_is_the_recorded_one(name: str) -> None:
    recorded = re.search(rf"`{re.escape(name)}`.*?`([0-9a-f]{{64}})`", TABLE, re.S)
    assert recorded is not None, f"{name} has no sha256 in VENDORED.md"
    actual = hashlib.sha256(VENDORED[name].read_bytes()).hexdigest()
    assert actual == recorded.group(1)
