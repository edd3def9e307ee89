"""The installation's two keys, and why they never change silently.

* the QR key, ``<data_dir>/secrets/qr.key``: the MAC key of every printed paper's QR payload
  (``app.papers.qr``); a new key refuses every paper already printed as ``qr_forged``;
* the record-signing key, ``<data_dir>/secrets/record-signing.key``: the Ed25519 seed that signs
  the exported record (``app.audit.record``); a new key signs the record as somebody else.

Both are created together, and only while the database holds no round and knows no keys
(``ensure_keys``, at every start of the service). Otherwise a missing key is ``KeysMissing`` — at
start and at any endpoint that needs it — never a new key: restore the keys (``jipiao keys restore
FILE``) or point ``JIPIAO_DATA_DIR`` at the folder that holds them.

Several instances on one database (behind a load balancer) must hold the same keys: a paper
printed by one is entered on another, a record exported by any is signed by the installation.
The keys stay in each instance's data folder, never in the database; their fingerprints are
recorded there by the first instance that starts (``installation_key``), and an instance whose
keys differ is refused at start (``KeysDiffer``, ``check_installation_keys``).

A key is never shown; its fingerprint is (printed at start and by ``GET /api/audit/keys``):
the QR key's is the first 16 hex digits of HMAC-SHA256(key, ``FINGERPRINT_MESSAGE``), the signing
key's the first 16 hex digits of SHA-256 of the raw public key (32 bytes).

A keys backup (``jipiao keys backup FILE``) is one JSON object (``BACKUP_FORMAT``) holding both
keys in hex with their fingerprints, written 0600 and never over an existing file. If the data
folder has a hall CA (``app.hall.tls``, made by ``jipiao serve --hall``) the backup holds it too
(``hall_ca``: its key and certificate, PEM): restored, the tablets that trust it keep trusting
the service on a spare laptop. A backup without it (older, or no hall mode) restores the same.
"""

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import exists, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from app import models
from app.errors import ServiceUnavailable
from app.hall.tls import CA_PATH, HallCa, HallCaError, load_ca, parse_ca
from app.keyfiles import KEY_BYTES, load_or_create_secret, load_secret, write_private, write_secret
from app.settings import Settings

QR_KEY_PATH = Path("secrets") / "qr.key"
SIGNING_KEY_PATH = Path("secrets") / "record-signing.key"
QR_WHAT = ("二维码密钥", "QR key")
SIGNING_WHAT = ("签名密钥", "signing key")
FINGERPRINT_MESSAGE = b"jipiao qr key fingerprint"
BACKUP_FORMAT = "jipiao-keys/1"


class KeysMissing(ServiceUnavailable):
    """A key file is missing although the database holds a round: a new key would break it."""


class KeysDiffer(ServiceUnavailable):
    """This instance's keys are not the ones the database's other instances hold."""


class KeyBackupError(RuntimeError):
    """A backup file that cannot be written, read or restored (the message says why)."""


@dataclass(frozen=True, slots=True)
class Fingerprints:
    data_dir: Path
    qr_key: str
    signing_key: str
    public_key: str  # the signing key's public half, hex (as printed on the report)
    hall_ca: str | None = None  # the hall CA's SHA-256 fingerprint, if the folder has one


def qr_fingerprint(key: bytes) -> str:
    return hmac.new(key, FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]


def public_key_of(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def signing_fingerprint(seed: bytes) -> str:
    return hashlib.sha256(public_key_of(seed)).hexdigest()[:16]


def fingerprints_of(data_dir: Path, qr_key: bytes, signing_seed: bytes) -> Fingerprints:
    return Fingerprints(
        data_dir, qr_fingerprint(qr_key), signing_fingerprint(signing_seed),
        public_key_of(signing_seed).hex(),
    )  # fmt: skip


def key_paths(data_dir: Path) -> tuple[Path, Path]:
    return data_dir / QR_KEY_PATH, data_dir / SIGNING_KEY_PATH


def keys_missing(data_dir: Path) -> KeysMissing:
    missing = [path for path in key_paths(data_dir) if not path.exists()]
    shown = "、".join(str(path) for path in missing)
    shown_en = ", ".join(str(path) for path in missing)
    return KeysMissing(
        "keys_missing",
        f"密钥文件缺失：{shown}。数据库中已有轮次或已记录本安装的密钥，不能生成新密钥（新密钥会使"
        "已印选票无法核验、记录由另一密钥签名，与其他实例不一致）。请从备份恢复密钥（密钥恢复"
        "命令），或把数据目录指向原来保存密钥的文件夹，然后重新启动服务。",
        f"key file(s) missing: {shown_en}. The database already holds a round or records this "
        "installation's keys, so no new key is made (a new QR key would refuse every printed "
        "paper as forged, a new signing key would sign the record as somebody else, and other "
        "instances on this database hold the recorded keys). Restore the keys with `jipiao keys "
        f"restore FILE` (JIPIAO_DATA_DIR={data_dir}), or set JIPIAO_DATA_DIR to the folder that "
        "holds secrets/qr.key and secrets/record-signing.key, then start again.",
    )


def require_qr_key(data_dir: Path) -> bytes:
    """The QR key; ``KeysMissing`` if its file is missing (never created here)."""
    key = load_secret(data_dir / QR_KEY_PATH, what=QR_WHAT)
    if key is None:
        raise keys_missing(data_dir)
    return key


def require_signing_seed(data_dir: Path) -> bytes:
    """The record-signing key's seed; ``KeysMissing`` if its file is missing."""
    seed = load_secret(data_dir / SIGNING_KEY_PATH, what=SIGNING_WHAT)
    if seed is None:
        raise keys_missing(data_dir)
    return seed


def signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """The installation's signing key: never created here, ``KeysMissing`` if its file is
    missing."""
    return Ed25519PrivateKey.from_private_bytes(require_signing_seed(data_dir))


def public_key_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


def database_has_round(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(models.Round.id.is_not(None)))))


def database_knows_keys(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(models.InstallationKey.name.is_not(None)))))


def ensure_keys(session: Session, data_dir: Path) -> Fingerprints:
    """Both keys: created if missing while the database holds no round and knows no keys (another
    instance's: ``check_installation_keys``), else ``KeysMissing``."""
    if any(not path.exists() for path in key_paths(data_dir)) and (
        database_has_round(session) or database_knows_keys(session)
    ):
        raise keys_missing(data_dir)
    qr_path, signing_path = key_paths(data_dir)
    qr_key = load_or_create_secret(qr_path, what=QR_WHAT)
    seed = load_or_create_secret(signing_path, what=SIGNING_WHAT)
    return fingerprints_of(data_dir, qr_key, seed)


def _keys_differ(data_dir: Path, differing: list[tuple[str, str, str, str]]) -> KeysDiffer:
    shown_zh = "；".join(f"{zh}指纹 {mine}，本安装为 {theirs}" for zh, _, mine, theirs in differing)
    shown_en = "; ".join(
        f"{en} {mine}, the installation's {theirs}" for _, en, mine, theirs in differing
    )
    return KeysDiffer(
        "keys_differ",
        f"本实例数据目录（{data_dir}）中的密钥与同一数据库的其他实例不同（{shown_zh}）。同一数据库的"
        "所有实例必须使用同一套密钥（否则一个实例打印的选票会被另一实例当作伪造）：请在已有实例上"
        "用密钥备份命令导出密钥、在本实例上恢复（或让各实例共用同一数据目录），然后重新启动。",
        f"this instance's keys (JIPIAO_DATA_DIR={data_dir}) differ from the ones the other "
        f"instances on this database hold ({shown_en}). Every instance on one database needs the "
        "same keys (else papers printed by one are refused by another as forged): run `jipiao "
        "keys backup FILE` on an instance that works and `jipiao keys restore FILE` here (or "
        "share one data folder), then start again.",
    )


def _recorded(session: Session) -> dict[str, str]:
    query = select(models.InstallationKey.name, models.InstallationKey.fingerprint)
    return {row.name: row.fingerprint for row in session.execute(query)}


def check_installation_keys(session: Session, found: Fingerprints) -> None:
    """Record ``found`` as the installation's keys if the database knows none yet (the first
    instance to start), else ``KeysDiffer`` if they are not the recorded ones."""
    mine = {"qr_key": found.qr_key, "signing_key": found.signing_key}
    names = {"qr_key": QR_WHAT, "signing_key": SIGNING_WHAT}
    recorded = _recorded(session)
    if not recorded:
        try:
            with session.begin_nested():  # another instance starting at this moment may win
                session.add_all(
                    models.InstallationKey(name=name, fingerprint=fingerprint)
                    for name, fingerprint in mine.items()
                )
            return
        except IntegrityError:
            recorded = _recorded(session)
    differing = [
        (*names[name], fingerprint, recorded[name])
        for name, fingerprint in mine.items()
        if recorded.get(name, fingerprint) != fingerprint
    ]
    if differing:
        raise _keys_differ(found.data_dir, differing)


def configured_database_has_round(settings: Settings) -> bool:
    """For the offline tools: does the configured database (if there is one) hold a round?
    An SQLite file that does not exist is not created; a database without tables holds none."""
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        return False
    from app.db import make_engine  # app.db imports the settings only; keep this module light

    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            return database_has_round(session)
    except (OperationalError, ProgrammingError):
        return False  # not migrated: no round
    finally:
        engine.dispose()


def qr_key_for_tool(settings: Settings) -> bytes:
    """The QR key for ``jipiao ballot-paper``: made on first use only if the configured database
    holds no round (with the signing key, as at a start), else ``KeysMissing``."""
    existing = load_secret(settings.data_dir / QR_KEY_PATH, what=QR_WHAT)
    if existing is not None:
        return existing
    if configured_database_has_round(settings):
        raise keys_missing(settings.data_dir)
    return load_or_create_secret(settings.data_dir / QR_KEY_PATH, what=QR_WHAT)


def current_fingerprints(data_dir: Path) -> Fingerprints:
    """The fingerprints of the keys in ``data_dir`` (``KeysMissing`` if one is missing), and of
    its hall CA if there is one."""
    found = fingerprints_of(data_dir, require_qr_key(data_dir), require_signing_seed(data_dir))
    ca = load_ca(data_dir)
    if ca is None:
        return found
    return replace(found, hall_ca=ca.sha256())


# ---------------------------------------------------------------- backup and restore


def backup_document(data_dir: Path) -> bytes:
    qr_key, seed = require_qr_key(data_dir), require_signing_seed(data_dir)
    found = fingerprints_of(data_dir, qr_key, seed)
    document = {
        "format": BACKUP_FORMAT,
        "qr_key": qr_key.hex(),
        "signing_key": seed.hex(),
        "qr_key_fingerprint": found.qr_key,
        "signing_key_fingerprint": found.signing_key,
        "public_key": found.public_key,
    }
    ca = load_ca(data_dir)
    if ca is not None:
        document["hall_ca"] = ca.pem().decode("ascii")
        document["hall_ca_fingerprint"] = ca.sha256()
    return (json.dumps(document, indent=2) + "\n").encode("ascii")


def write_private_file(path: Path, content: bytes) -> None:
    """Write a new file 0600; ``KeyBackupError`` if it exists already (never overwritten)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyBackupError(
            f"{path}: 文件已存在，不会覆盖 / the file exists already; it is not overwritten"
        ) from None
    except OSError as exc:
        raise KeyBackupError(f"{path}: 无法写入 / cannot write: {exc.strerror}") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def backup_keys(data_dir: Path, target: Path) -> Fingerprints:
    """Write both keys into the new file ``target`` (0600)."""
    write_private_file(target, backup_document(data_dir))
    return current_fingerprints(data_dir)


@dataclass(frozen=True, slots=True)
class BackupKeys:
    qr_key: bytes
    signing_seed: bytes
    hall_ca: HallCa | None


def parse_backup(content: bytes, source: str) -> BackupKeys:
    """The keys of a keys backup (and its hall CA, if it has one)."""
    try:
        document = json.loads(content)
        if document.get("format") != BACKUP_FORMAT:
            raise ValueError("format")
        qr_key = bytes.fromhex(document["qr_key"])
        seed = bytes.fromhex(document["signing_key"])
        if len(qr_key) != KEY_BYTES or len(seed) != KEY_BYTES:
            raise ValueError("length")
        hall_ca = document.get("hall_ca")
        ca = None if hall_ca is None else parse_ca(hall_ca.encode("ascii"), source)
    except (ValueError, KeyError, TypeError, AttributeError, HallCaError):
        raise KeyBackupError(
            f"{source}: 不是密钥备份文件 / not a keys backup ({BACKUP_FORMAT})"
        ) from None
    return BackupKeys(qr_key, seed, ca)


def restore_keys(data_dir: Path, keys: BackupKeys) -> Fingerprints:
    """Put the keys (and the hall CA) into ``data_dir``; a different key or CA already there is
    refused (nothing written). The same one already there is left alone."""
    for path, key, what in zip(
        key_paths(data_dir), (keys.qr_key, keys.signing_seed), (QR_WHAT, SIGNING_WHAT), strict=True
    ):
        existing = load_secret(path, what=what)
        if existing is not None and existing != key:
            raise KeyBackupError(
                f"{path}: 已有另一把{what[0]}，不会替换 / holds a different {what[1]}; it is not "
                "replaced (move it away first if it is really wrong)"
            )
    existing_ca = load_ca(data_dir) if keys.hall_ca is not None else None
    if keys.hall_ca and existing_ca and existing_ca.der() != keys.hall_ca.der():
        raise KeyBackupError(
            f"{data_dir / CA_PATH}: 已有另一个会场证书，不会替换 / holds a different hall CA; "
            "it is not replaced (move it away first if it is really wrong)"
        )
    for path, key in zip(key_paths(data_dir), (keys.qr_key, keys.signing_seed), strict=True):
        if not path.exists():
            write_secret(path, key)
    if keys.hall_ca is not None and existing_ca is None:
        write_private(data_dir / CA_PATH, keys.hall_ca.pem())
    return current_fingerprints(data_dir)


def restore_keys_file(data_dir: Path, source: Path) -> Fingerprints:
    try:
        content = source.read_bytes()
    except OSError as exc:
        raise KeyBackupError(f"{source}: 无法读取 / cannot read: {exc.strerror}") from None
    return restore_keys(data_dir, parse_backup(content, str(source)))
