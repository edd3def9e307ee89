"""``jipiao backup FILE`` / ``jipiao restore FILE``: the SQLite database together with its keys.

A backup is a zip holding ``jipiao.sqlite3`` (a consistent copy made with ``VACUUM INTO`` while
the service may be running) and ``keys.json`` (the keys backup of ``app.keys``); it is written
0600 and never over an existing file. Restoring into a data folder refuses to overwrite a
database there, or a key that differs from the backup's; the service then starts on that folder
and the count continues: every paper printed before the backup is still accepted.

PostgreSQL: back the database up with ``pg_dump`` and the keys with ``jipiao keys backup``.
"""

import sqlite3
import tempfile
import zipfile
from pathlib import Path

from sqlalchemy.engine import make_url

from app.keys import (
    Fingerprints,
    KeyBackupError,
    backup_document,
    current_fingerprints,
    parse_backup,
    restore_keys,
    write_private_file,
)
from app.settings import Settings

DATABASE_MEMBER = "jipiao.sqlite3"
KEYS_MEMBER = "keys.json"


def _sqlite_path(settings: Settings) -> Path:
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() != "sqlite" or not url.database:
        raise KeyBackupError(
            "数据库不是 SQLite 文件：请用 pg_dump 备份数据库，用 jipiao keys backup 备份密钥 / "
            "the database is not an SQLite file: back it up with pg_dump, and the keys with "
            "`jipiao keys backup FILE`"
        )
    return Path(url.database)


def backup(settings: Settings, target: Path) -> Fingerprints:
    """Write the database and its keys into the new zip ``target`` (0600)."""
    database = _sqlite_path(settings)
    if not database.is_file():
        raise KeyBackupError(f"{database}: 数据库不存在 / no database")
    keys = backup_document(settings.data_dir)  # KeysMissing before any file is written
    with tempfile.TemporaryDirectory(dir=target.parent if target.parent.is_dir() else None) as tmp:
        copy = Path(tmp) / DATABASE_MEMBER
        connection = sqlite3.connect(database, timeout=settings.sqlite_busy_timeout_ms / 1000)
        try:
            connection.execute("VACUUM INTO ?", (str(copy),))
        finally:
            connection.close()
        buffer_path = Path(tmp) / "backup.zip"
        with zipfile.ZipFile(buffer_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(copy, DATABASE_MEMBER)
            archive.writestr(KEYS_MEMBER, keys)
        write_private_file(target, buffer_path.read_bytes())
    return current_fingerprints(settings.data_dir)


def restore(settings: Settings, source: Path) -> Fingerprints:
    """Put the backup's database and keys into the configured data folder (nothing replaced)."""
    database = _sqlite_path(settings)
    if database.exists() and database.stat().st_size > 0:
        raise KeyBackupError(
            f"{database}: 数据库已存在，不会覆盖 / a database exists already; it is not replaced"
        )
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
            if not {DATABASE_MEMBER, KEYS_MEMBER} <= names:
                raise KeyBackupError(
                    f"{source}: 不是数据库备份文件 / not a database backup "
                    f"({DATABASE_MEMBER} and {KEYS_MEMBER})"
                )
            keys = parse_backup(archive.read(KEYS_MEMBER), f"{source}:{KEYS_MEMBER}")
            content = archive.read(DATABASE_MEMBER)
    except (OSError, zipfile.BadZipFile) as exc:
        raise KeyBackupError(f"{source}: 无法读取 / cannot read: {exc}") from None
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    found = restore_keys(settings.data_dir, keys)  # refuses different keys first
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    database.unlink(missing_ok=True)  # an empty file only (checked above)
    write_private_file(database, content)
    return found
