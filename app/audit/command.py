"""``jipiao audit``: export the election record, verify it offline, compare two records.

Exit codes: 0 the record is intact; 1 it differs (the first difference is printed); 2 bad usage.

A record is a folder (``jipiao audit export``) or the zip the console downloads
(``GET /api/elections/{id}/record``, the page ``/audit``): ``verify`` and ``verify-diff`` take
either, so the command the auditors' page prints runs on the downloaded file as it is.

``verify --expect-head HASH`` pins the record to paper: an insider with the database and the keys
can rewrite papers (in both passes), re-decide, re-hash the chain and re-sign, and the record is
still intact; but every hash from the rewritten event on changes, so the head hash printed on the
signed result report (text and QR code) is no longer in the record. The check passes when the
record holds an event with that hash: the record then continues, unchanged, the chain the report
was printed from (events appended later, e.g. a later round, are pinned by their own report).
"""

import argparse
import sqlite3
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from app.audit import check_db
from app.ledger.replay import EVENTS_FILE, MANIFEST_FILE, RecordProblem, Replay, verify_extension

if TYPE_CHECKING:  # app.audit.verify is imported when a command needs it (a quick start)
    from app.audit.verify import Pin, VerifiedRecord


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    audit = sub.add_parser("audit", help="export and verify the election record")
    commands = audit.add_subparsers(dest="audit_command", required=True)

    export = commands.add_parser("export", help="export an election's record (events + manifest)")
    export.add_argument("election", type=int, metavar="ELECTION")
    export.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    export.set_defaults(handler=_export)

    verify = commands.add_parser("verify", help="verify a record offline (no database)")
    verify.add_argument("record", type=Path, metavar="DIR|ZIP")
    verify.add_argument(
        "--public-key", help="the key printed on the result report; refuse any other signer"
    )
    verify.add_argument(
        "--expect-head",
        metavar="HASH",
        help="the event-log head hash printed on the signed result report (text or QR code): "
        "refuse a record that does not contain it (a record rewritten and re-signed after the "
        "report was printed)",
    )
    verify.set_defaults(handler=_verify)

    diff = commands.add_parser(
        "verify-diff", help="check that NEW continues OLD (nothing removed or rewritten)"
    )
    diff.add_argument("old", type=Path, metavar="OLD", help="a record folder or downloaded zip")
    diff.add_argument("new", type=Path, metavar="NEW", help="a record folder or downloaded zip")
    diff.set_defaults(handler=_verify_diff)

    check_db.add_parser(commands)


@contextmanager
def _record_folder(path: Path) -> Iterator[Path]:
    """The record's folder: ``path`` itself, or the downloaded zip's two files unpacked into a
    temporary folder (only those two names are read from the archive: no path of the archive
    reaches the file system). A zip without them yields an empty folder, which the checks then
    report as a record they cannot read."""
    if not (path.is_file() and zipfile.is_zipfile(path)):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="jipiao-record-") as folder:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            for name in (EVENTS_FILE, MANIFEST_FILE):
                if name in names:
                    with archive.open(name) as source, (Path(folder) / name).open("wb") as target:
                        while chunk := source.read(8 * 1024 * 1024):
                            target.write(chunk)
        yield Path(folder)


def _print_problem(problem: RecordProblem) -> None:
    print(f"不一致 / differs: {problem.where}: {problem.message_zh} / {problem.message_en}")


def _export(args: argparse.Namespace) -> int:
    from app.audit.record import export_record
    from app.db import make_engine, make_sessionmaker
    from app.settings import Settings

    settings = Settings()
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            record = export_record(
                session,
                election_id=args.election,
                data_dir=settings.data_dir,
                directory=args.output,
            )
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"已导出 / exported {record.event_count} events to {record.directory}")
    print(f"链头 / head: {record.head_hash}")
    print(f"公钥 / public key: {record.public_key}")
    return 0


LARGE_RECORD_BYTES = 8 * 1024 * 1024  # show a progress bar from this size of events.jsonl


def _verify(args: argparse.Namespace) -> int:
    with _record_folder(args.record) as folder:
        return _verify_folder(args, folder)


def _verify_folder(args: argparse.Namespace, folder: Path) -> int:
    from app.audit.verify import normalized_head

    expected_head = None
    if args.expect_head is not None:
        expected_head = normalized_head(args.expect_head)
        if expected_head is None:
            print(
                "error: --expect-head: 应为报告单上印的 64 位十六进制哈希 / "
                "must be the 64 hex digits printed on the result report",
                file=sys.stderr,
            )
            return 2
    events_path = folder / EVENTS_FILE
    verified = _verified_with_progress(folder, args.public_key, events_path)
    if verified is None:
        return 2
    if verified.problem is not None:
        _print_problem(verified.problem)
        return 1
    replay = verified.replay
    assert replay is not None
    if replay.problem is not None:
        _print_problem(replay.problem)
        return 1
    count, signer = verified.event_count, verified.public_key
    pin = None if expected_head is None else _pinned(events_path, expected_head)
    if expected_head is not None and pin is None:
        return 1
    print(f"记录完整 / record intact: {count} events, signed by {signer}")
    print(f"链头 / head: {verified.body.get('head_hash')}")
    if expected_head is not None:
        assert pin is not None
        print(
            f"与报告单一致 / matches the result report: {expected_head} 是第 {pin.height} 号事件"
            f"的哈希 / is the hash of event {pin.height}; 其后 {pin.after} 个事件 / "
            f"{pin.after} event(s) after it"
        )
    _print_recount(verified.kinds, replay)
    return 0


def _verified_with_progress(
    folder: Path, public_key: str | None, events_path: Path
) -> "VerifiedRecord | None":
    """``verify_record`` with a progress bar for a large record; None (said on stderr) when the
    recount's temporary file cannot be written."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from app.audit.verify import verify_record

    large = events_path.is_file() and events_path.stat().st_size >= LARGE_RECORD_BYTES
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not large,
    )
    try:
        with bar:
            checking = bar.add_task("哈希链与重新计票 / chain and recount", total=None)
            return verify_record(
                folder,
                expected_public_key=public_key,
                progress=lambda done, total: bar.update(checking, completed=done, total=total),
            )
    except sqlite3.Error as exc:
        # The recount of a large record keeps its reconciled batches in a temporary SQLite file
        # (app.ledger.replay._Cold); a full or unwritable temporary folder ends it here.
        print(
            f"error: 重新计票用的临时文件无法写入（{exc}）：请用环境变量 SQLITE_TMPDIR 指定一个"
            f"可写且有空间的目录后重试 / the recount's temporary file could not be written "
            f"({exc}): set SQLITE_TMPDIR to a writable folder with room and run it again",
            file=sys.stderr,
        )
        return None


def _pinned(events_path: Path, expected_head: str) -> "Pin | None":
    """The event whose hash the result report printed, or None (said on stdout)."""
    from app.audit.verify import pinned_event_in

    with events_path.open("rb") as events_file:
        pin = pinned_event_in(events_file, expected_head)
    if pin is None:
        print(
            f"不一致 / differs: 记录中没有报告单上印的链头哈希 {expected_head}："
            "报告单打印之后，此前的记录被改写并重新签名，或这不是该大会的记录 / "
            "the record holds no event "
            "with the head hash printed on the result report: the record before it was "
            "rewritten and re-signed after the report was printed, or this is another "
            "congress's record"
        )
    return pin


def _print_recount(kinds: Counter[str], replay: Replay) -> None:
    """The events by type, then what the recount recomputed and who was elected."""
    for kind, count in sorted(kinds.items()):
        print(f"  {kind}: {count}")
    print(
        f"重新计票一致 / recount agrees: {replay.decisions_checked} decision(s) recomputed, "
        f"{len(replay.certified)} certified round(s)"
    )
    for election_id, elected in sorted(replay.elected_by_election().items()):
        names = "、".join(f"{name}（第 {number} 轮 / round {number}）" for name, number in elected)
        print(f"选举 / election {election_id} 当选 / elected: {names or '—'}")


def _verify_diff(args: argparse.Namespace) -> int:
    from app.audit.record import check_record

    with _record_folder(args.old) as old_folder, _record_folder(args.new) as new_folder:
        old = check_record(old_folder)
        new = check_record(new_folder)
    for label, checked in (("OLD", old), ("NEW", new)):
        if checked.problem is not None:
            print(f"{label}:", end=" ")
            _print_problem(checked.problem)
            return 1
    if old.public_key != new.public_key:
        print("不一致 / differs: the two records are signed by different keys")
        return 1
    problem = verify_extension(old.events, new.events)
    if problem is not None:
        _print_problem(problem)
        return 1
    added = len(new.events) - len(old.events)
    print(f"NEW 延续 OLD / NEW continues OLD: {added} events added, none removed or rewritten")
    return 0
