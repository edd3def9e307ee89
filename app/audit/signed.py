"""Reading an exported record and checking its signed manifest (no database, no export code:
``jipiao audit verify`` starts quickly)."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.ledger.chain import JsonValue, canonical_json
from app.ledger.replay import EVENTS_FILE, MANIFEST_FILE, RecordProblem, signed_message


@dataclass(frozen=True, slots=True)
class SignedManifest:
    """A record whose manifest is canonical and signed; ``events.jsonl`` is not read yet."""

    body: dict[str, JsonValue]
    public_key: str


@dataclass(frozen=True, slots=True)
class SignedRecord:
    """A record whose manifest is canonical and signed; its events are not checked yet."""

    events_file: bytes  # events.jsonl
    body: dict[str, JsonValue]
    public_key: str


_PUBLIC_KEY_HEX = re.compile(r"[0-9a-f]{64}")
_SIGNATURE_HEX = re.compile(r"[0-9a-f]{128}")


def open_record(
    directory: Path, *, expected_public_key: str | None = None
) -> SignedRecord | RecordProblem:
    """Read the record and check its manifest: canonical form and signature (by
    ``expected_public_key`` when given)."""
    signed = open_manifest(directory, expected_public_key=expected_public_key)
    if isinstance(signed, RecordProblem):
        return signed
    try:
        events_file = (directory / EVENTS_FILE).read_bytes()
    except OSError as exc:
        return RecordProblem(str(directory), f"cannot read the record: {exc}", "无法读取记录")
    return SignedRecord(events_file, signed.body, signed.public_key)


def open_manifest(
    directory: Path, *, expected_public_key: str | None = None
) -> SignedManifest | RecordProblem:
    """Check the record's manifest: canonical form and signature (by ``expected_public_key``
    when given); ``events.jsonl`` is only opened (it must be there), not read."""
    try:
        manifest_file = (directory / MANIFEST_FILE).read_bytes()
        manifest = json.loads(manifest_file)
        with (directory / EVENTS_FILE).open("rb"):
            pass
    except (OSError, ValueError) as exc:
        return RecordProblem(str(directory), f"cannot read the record: {exc}", "无法读取记录")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("body"), dict):
        return RecordProblem(MANIFEST_FILE, "not a record manifest", "不是记录清单")
    try:
        canonical = canonical_json(manifest) + b"\n"
    except ValueError:
        canonical = b""
    if canonical != manifest_file:
        return RecordProblem(
            MANIFEST_FILE, "the manifest is not in canonical form", "清单不是规范编码"
        )
    body: dict[str, JsonValue] = manifest["body"]
    public_key = manifest.get("public_key")
    signature = manifest.get("signature")
    if not isinstance(public_key, str) or not isinstance(signature, str):
        return RecordProblem(MANIFEST_FILE, "no public key or signature", "缺少公钥或签名")
    # Exactly as written (lowercase hex): bytes.fromhex would also take "AB" for "ab", and a
    # record with a changed byte would pass.
    if not _PUBLIC_KEY_HEX.fullmatch(public_key) or not _SIGNATURE_HEX.fullmatch(signature):
        return RecordProblem(
            MANIFEST_FILE,
            "the public key or signature is not lowercase hex of the right length",
            "公钥或签名不是规定长度的小写十六进制",
        )
    if expected_public_key is not None and public_key != expected_public_key.lower():
        return RecordProblem(
            MANIFEST_FILE,
            "signed by another key than the one printed on the result report",
            "签名公钥与结果报告单上的公钥不符",
        )
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(signature), signed_message(body)
        )
    except (ValueError, InvalidSignature):
        return RecordProblem(MANIFEST_FILE, "the signature does not match", "签名校验失败")
    return SignedManifest(body, public_key)
