"""The ``jipiao`` command line: serve, demo, admin, db, keys, backup, restore, tally, sort-names,
ballot-paper, read-paper, report.

Exit codes: 0 success; 2 bad input (one clear line on stderr naming the field); 1 other failure.
"""

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app.audit import command as audit_command
from app.names import DEFAULT_NAME_ORDER, UnknownCharacterError, sort_names

if TYPE_CHECKING:
    from app.keys import Fingerprints
    from app.results.exports import ElectionRecord
    from app.results.report import ReportInput
    from app.rules.model import PaperRecord
    from app.settings import Settings

EXIT_BAD_INPUT = 2


def _settings() -> "Settings":
    """The settings, imported only by the commands that read them: pydantic-settings takes
    about a quarter of a second to import, at the start of every ``jipiao audit verify``."""
    from app.settings import Settings

    return Settings()


def _read_text(path: str | None, stdin: TextIO) -> str:
    if path is None or path == "-":
        return stdin.read()
    return Path(path).read_text(encoding="utf-8-sig")


class _BadInput(Exception):
    """Input the command cannot use; the message is the one line printed after ``error:``."""


def _round_json(path: str) -> object:
    """The decoded round file (``-``: stdin)."""
    try:
        text = _read_text(path, sys.stdin)
    except (OSError, UnicodeDecodeError) as exc:
        raise _BadInput(f"cannot read {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadInput(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


def _listen_settings(args: argparse.Namespace) -> "Settings | None":
    """The settings with ``--host``/``--port`` (they win over JIPIAO_HOST/JIPIAO_PORT), or None
    (after one line on stderr) if that address cannot be listened on: checked before anything
    is printed or issued (URLs, admin token, login codes)."""
    from app.portcheck import port_problem

    # Into the environment as well: worker processes (JIPIAO_WORKERS > 1) read their settings
    # from there (app.serve.worker_app).
    if args.host is not None:
        os.environ["JIPIAO_HOST"] = args.host
    if args.port is not None:
        os.environ["JIPIAO_PORT"] = str(args.port)
    os.environ["JIPIAO_HALL_HTTP_PORT"] = "0"  # hall mode only with --hall
    if args.hall:
        from app.hall.start import configure

        problem = configure(os.environ, port=_settings().port)
        if problem is not None:
            print(f"错误 / error: {problem}", file=sys.stderr)
            return None
    settings = _settings()
    problem = port_problem(settings.host, settings.port)
    if problem is None and settings.hall_http_port:
        problem = port_problem(settings.host, settings.hall_http_port)
    if problem is not None:
        print(f"错误 / error: {problem}", file=sys.stderr)
        return None
    return settings


def _cmd_serve(args: argparse.Namespace) -> int:
    from app import serve

    settings = _listen_settings(args)
    if settings is None:
        return 1
    serve.serve(settings, demo=args.demo)
    return 0


def _cmd_admin(args: argparse.Namespace) -> int:
    """``jipiao admin rotate``: a new admin token (shown once); the old one answers 401.
    ``jipiao admin login-code``: a one-time login code for the secretariat's console."""
    from app import serve

    settings = _settings()
    serve.refuse_demo_folder(settings)
    if args.admin_command == "login-code":
        serve.print_admin_code(settings, serve.issue_admin_code(settings))
        return 0
    token = serve.rotate_admin_token(settings)
    serve.hand_over_admin_token(settings, token, first=False)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from app import serve

    settings = _listen_settings(args)
    if settings is None:
        return 1
    serve.demo(settings)
    return 0


def _cmd_db(_args: argparse.Namespace) -> int:
    from app import serve

    serve.db_upgrade(_settings())
    return 0


def _print_fingerprints(found: "Fingerprints") -> None:
    print(f"数据目录 / data folder: {found.data_dir}")
    print(f"二维码密钥指纹 / QR key fingerprint: {found.qr_key}")
    print(f"签名密钥指纹 / signing key fingerprint: {found.signing_key}")
    if found.hall_ca is not None:
        print(f"会场证书指纹 / hall CA fingerprint (SHA-256): {found.hall_ca}")


def _keys_step(step: "Callable[[], Fingerprints]", done: str) -> int:
    """Run a backup or restore step of the keys (alone or with the database): its refusal is one
    line on stderr and exit 1; done, the line ``done`` and the keys' fingerprints."""
    from app.keyfiles import KeyFileError
    from app.keys import KeyBackupError, KeysMissing

    try:
        found = step()
    except KeysMissing as exc:
        print(f"error: {exc.message_zh} / {exc.message_en}", file=sys.stderr)
        return 1
    except (KeyBackupError, KeyFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(done)
    _print_fingerprints(found)
    return 0


def _cmd_keys(args: argparse.Namespace) -> int:
    """``jipiao keys backup FILE`` / ``jipiao keys restore FILE`` (see ``app.keys``)."""
    from app.keys import backup_keys, restore_keys_file

    data_dir = _settings().data_dir
    if args.keys_command == "backup":
        return _keys_step(
            lambda: backup_keys(data_dir, args.file),
            f"已备份两把密钥 / both keys backed up: {args.file} (0600)",
        )
    return _keys_step(
        lambda: restore_keys_file(data_dir, args.file),
        f"已恢复两把密钥 / both keys restored from {args.file}",
    )


def _cmd_backup(args: argparse.Namespace) -> int:
    """``jipiao backup FILE`` / ``jipiao restore FILE``: the SQLite database with its keys."""
    from app import backup

    settings = _settings()
    if args.command == "backup":
        return _keys_step(
            lambda: backup.backup(settings, args.file),
            f"已备份数据库与密钥 / database and keys backed up: {args.file} (0600)",
        )
    return _keys_step(
        lambda: backup.restore(settings, args.file),
        f"已恢复数据库与密钥 / database and keys restored from {args.file}",
    )


def _cmd_tally(args: argparse.Namespace) -> int:
    from app.rules import roundfile

    try:
        data = _round_json(args.round_file)
    except _BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        round_input = roundfile.parse_round(data)
    except roundfile.RoundFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        result = roundfile.count_round_input(round_input)
    except roundfile.RoundFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    json.dump(
        roundfile.result_to_json(result, round_input), sys.stdout, ensure_ascii=False, indent=2
    )
    sys.stdout.write("\n")
    return 0


def _cmd_rehearse(args: argparse.Namespace) -> int:
    from app.rehearse.command import rehearse

    return rehearse(papers=args.papers, export=args.export, seed=args.seed)


def _cmd_sort_names(args: argparse.Namespace) -> int:
    from app.names import explain_name

    try:
        text = _read_text(args.file, sys.stdin)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    names = [line.strip() for line in text.splitlines() if line.strip()]
    try:
        result = sort_names(names, args.convention)
    except UnknownCharacterError as exc:
        print(f"error: 无法确定笔画 / no stroke data: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in result.warnings:
        print(f"warning: {warning.message_zh} / {warning.message_en}", file=sys.stderr)
    for name in result.names:
        if args.explain:
            print(f"{name}\t{explain_name(name, args.convention)}")
        else:
            print(name)
    return 0


def _cmd_ballot_paper(args: argparse.Namespace) -> int:
    from app.keys import KeysMissing, qr_key_for_tool
    from app.papers.keys import KeyFileError
    from app.papers.roundpapers import render_round_file
    from app.printing.ballot import PaperOverflowError
    from app.printing.fonts import FontMissingError
    from app.printing.layout import DEFAULT_LAYOUT, LayoutError, load_layout
    from app.rules.roundfile import RoundFileError

    try:
        data = _round_json(args.round_file)
    except _BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.copies is not None and args.copies < 1:
        print("error: --copies: must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        layout = load_layout(Path(args.layout) if args.layout else DEFAULT_LAYOUT)
        key = qr_key_for_tool(_settings())
        rendered = render_round_file(
            data,
            key=key,
            layout=layout,
            copies=args.copies,
            paper_size=args.paper_size,
            per_page=args.per_page,
        )
    except (RoundFileError, LayoutError, PaperOverflowError, KeyFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeysMissing as exc:
        print(f"error: {exc.message_zh} / {exc.message_en}", file=sys.stderr)
        return 1
    except FontMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    output = Path(args.output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(rendered.pdf)
    except OSError as exc:
        print(f"error: cannot write {output}: {exc}", file=sys.stderr)
        return 1
    print(
        f"{output}: {rendered.copies} 张选票 / papers; "
        f"definition {rendered.frozen.hash}; QR {rendered.payload}",
        file=sys.stderr,
    )
    return 0


def _cmd_read_paper(args: argparse.Namespace) -> int:
    """``jipiao read-paper IMAGE ROUND.json``: the marks a photo or scan of a paper shows."""
    from app.printing.fonts import FontMissingError
    from app.printing.layout import DEFAULT_LAYOUT, LayoutError, load_layout
    from app.reader.locate import PaperNotFound
    from app.reader.read import read_paper, round_file_reader
    from app.rules.roundfile import RoundFileError

    try:
        data = _round_json(args.round_file)
        image = Path(args.image).read_bytes()
    except _BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: cannot read {args.image}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        layout = load_layout(Path(args.layout) if args.layout else DEFAULT_LAYOUT)
        reading = read_paper(image, round_file_reader(data, layout=layout))
    except (RoundFileError, LayoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PaperNotFound as exc:
        print(f"error: {exc.message_zh} / {exc.message_en}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FontMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(reading.to_json(), ensure_ascii=False, indent=2))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """``jipiao report``: the result report PDF of a round file, and its exports."""
    import datetime

    from app.printing.fonts import FontMissingError
    from app.printing.layout import LayoutError
    from app.results import exports
    from app.results.report import Officials, compose_report, report_input_from_round_file
    from app.results.report_pdf import DEFAULT_REPORT_LAYOUT, load_report_layout, render_report
    from app.rules.roundfile import RoundFileError

    try:
        data = _round_json(args.round_file)
    except _BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.printed is not None and args.printed < 0:
        print("error: --printed: must not be negative", file=sys.stderr)
        return EXIT_BAD_INPUT
    now = datetime.datetime.now(datetime.UTC)
    officials = Officials(
        chief_scrutineer=args.chief_scrutineer,
        scrutineers=tuple(args.scrutineer),
        chief_teller=args.chief_teller,
        tellers=tuple(args.teller),
    )
    try:
        layout = load_report_layout(Path(args.layout) if args.layout else DEFAULT_REPORT_LAYOUT)
        report_input, round_input = report_input_from_round_file(
            data,
            printed=args.printed,
            head_hash=args.head_hash,
            public_key_fingerprint=args.fingerprint,
            officials=officials,
            today=now.astimezone().date(),
        )
        pdf = render_report(compose_report(report_input, layout.signature_counts), layout)
    except (RoundFileError, LayoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FontMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    record = _round_file_record(data, report_input, round_input.papers, args.title_en)
    outputs: list[tuple[str | None, bytes]] = [
        (args.output, pdf),
        (args.json, exports.dump_json(exports.results_json(record)).encode()),
        (args.csv, exports.results_csv(record).encode("utf-8-sig")),
        (args.xlsx, exports.results_xlsx(record) if args.xlsx else b""),
        (args.nist_err, exports.dump_json(exports.nist_err(record, generated_at=now)).encode()),
        (args.nist_cvr, exports.dump_json(exports.nist_cvr(record, generated_at=now)).encode()),
    ]
    return _write_outputs(outputs)


def _round_file_record(
    data: object,
    report_input: "ReportInput",
    papers: "tuple[PaperRecord, ...]",
    title_en: str | None,
) -> "ElectionRecord":
    """The one round of a round file as an election record, for the exports."""
    from app.results import exports

    election = data.get("election", 0) if isinstance(data, dict) else 0
    return exports.ElectionRecord(
        election_id=str(election),
        title=report_input.election_title,
        title_en=title_en or report_input.election_title,
        congress=report_input.congress,
        date=report_input.date,
        rounds=(
            exports.RoundRecord(
                report_input.round_number,
                report_input.round_kind,
                report_input.result,
                papers,
            ),
        ),
    )


def _write_outputs(outputs: list[tuple[str | None, bytes]]) -> int:
    """Write each asked-for file (its path on stderr); 1 at the first that cannot be written."""
    for path, content in outputs:
        if path is None:
            continue
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        except OSError as exc:
            print(f"error: cannot write {target}: {exc}", file=sys.stderr)
            return 1
        print(f"{target}", file=sys.stderr)
    return 0


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port (1–65535): {text}")
    return port


def build_parser() -> argparse.ArgumentParser:
    """The ``jipiao`` command line.

    Long because it is the command line's one declaration: every command and its options, in the
    order ``--help`` lists them."""
    parser = argparse.ArgumentParser(prog="jipiao", description="计票 — election tallying")
    sub = parser.add_subparsers(dest="command", required=True)

    starters: dict[str, argparse.ArgumentParser] = {}
    for name, handler, text in (
        ("serve", _cmd_serve, "start the HTTP service"),
        ("demo", _cmd_demo, "start the service with a demo congress"),
    ):
        starter = starters[name] = sub.add_parser(name, help=text)
        starter.add_argument(
            "--host", help="address to listen on (default: JIPIAO_HOST, else 127.0.0.1)"
        )
        starter.add_argument(
            "--port", type=_port, help="port to listen on (default: JIPIAO_PORT, else 8000)"
        )
        starter.add_argument(
            "--hall",
            action="store_true",
            help="hall mode: listen on this machine's LAN address (or --host) over https with "
            "a local CA, plain http on the next port serves /ca and redirects to https",
        )
        starter.set_defaults(handler=handler)
    starters["serve"].add_argument(
        "--demo", action="store_true", help="serve a data folder made by `jipiao demo`"
    )

    admin = sub.add_parser("admin", help="the admin token and the secretariat's login codes")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    admin_sub.add_parser(
        "rotate", help="make a new admin token (shown once); the old one answers 401 from now on"
    ).set_defaults(handler=_cmd_admin)
    admin_sub.add_parser(
        "login-code",
        help="print a one-time login code (and its QR code) for the secretariat's console",
    ).set_defaults(handler=_cmd_admin)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations (Alembic) up to head").set_defaults(
        handler=_cmd_db
    )

    keys = sub.add_parser(
        "keys",
        help="back up or restore the installation's two keys (QR key, signing key) and hall CA",
    )
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_backup = keys_sub.add_parser(
        "backup", help="write both keys into FILE (0600; an existing FILE is never overwritten)"
    )
    keys_backup.add_argument("file", type=Path, metavar="FILE")
    keys_backup.set_defaults(handler=_cmd_keys)
    keys_restore = keys_sub.add_parser(
        "restore", help="put the keys of FILE into the data folder (a different key is refused)"
    )
    keys_restore.add_argument("file", type=Path, metavar="FILE")
    keys_restore.set_defaults(handler=_cmd_keys)

    backup = sub.add_parser(
        "backup", help="back up the SQLite database with its keys into FILE (a zip, 0600)"
    )
    backup.add_argument("file", type=Path, metavar="FILE")
    backup.set_defaults(handler=_cmd_backup)
    restore = sub.add_parser(
        "restore",
        help="restore a `jipiao backup` FILE into the data folder (no database there yet)",
    )
    restore.add_argument("file", type=Path, metavar="FILE")
    restore.set_defaults(handler=_cmd_backup)

    tally = sub.add_parser("tally", help="decide one round from a ROUND.json file")
    tally.add_argument("round_file", metavar="ROUND.json", help="round file ('-' for stdin)")
    tally.set_defaults(handler=_cmd_tally)

    audit_command.add_parser(sub)

    rehearse = sub.add_parser(
        "rehearse",
        help="rehearse a whole election of the seed's shape through the HTTP API (temporary "
        "SQLite database): check-in to certified result, record exported and verified",
    )
    rehearse.add_argument(
        "--papers",
        type=int,
        default=180,
        help="delegates present, 20–5000 (default 180 of 189, as in the seed)",
    )
    rehearse.add_argument(
        "--export", type=Path, metavar="DIR", help="write the record, papers and reports here"
    )
    rehearse.add_argument("--seed", type=int, default=5, help="the generated votes' seed")
    rehearse.set_defaults(handler=_cmd_rehearse)

    names = sub.add_parser("sort-names", help="print names in ballot (surname-stroke) order")
    names.add_argument("file", nargs="?", help="one name per line (default: stdin)")
    names.add_argument(
        "--convention",
        choices=["single_given_name_first", "character_by_character"],
        default=DEFAULT_NAME_ORDER,
    )
    names.add_argument("--explain", action="store_true", help="print each name's sort key")
    names.set_defaults(handler=_cmd_sort_names)

    papers = sub.add_parser(
        "ballot-paper", help="print a round's ballot papers (PDF) from a ROUND.json file"
    )
    papers.add_argument("round_file", metavar="ROUND.json", help="round file ('-' for stdin)")
    papers.add_argument("-o", "--output", required=True, help="the PDF to write")
    papers.add_argument("--copies", type=int, help="papers to print (default: issued or present)")
    papers.add_argument("--layout", help="layout file (default: ballots/seed.json)")
    papers.add_argument("--paper-size", choices=["A4", "A5"], help="default: the layout's")
    papers.add_argument("--per-page", type=int, choices=[1, 2], help="default: the layout's")
    papers.set_defaults(handler=_cmd_ballot_paper)

    reader = sub.add_parser(
        "read-paper",
        help="propose the marks of one paper from a photo or scan (JPEG/PNG) and its ROUND.json",
    )
    reader.add_argument("image", metavar="IMAGE", help="photo or scan of one paper")
    reader.add_argument("round_file", metavar="ROUND.json", help="round file ('-' for stdin)")
    reader.add_argument("--layout", help="layout the paper was printed with (default: seed.json)")
    reader.set_defaults(handler=_cmd_read_paper)

    report = sub.add_parser(
        "report", help="the result report (选举结果报告单) PDF and exports of a ROUND.json file"
    )
    report.add_argument("round_file", metavar="ROUND.json", help="round file ('-' for stdin)")
    report.add_argument("-o", "--output", required=True, help="the report PDF to write")
    report.add_argument("--printed", type=int, help="papers printed (default: issued)")
    report.add_argument("--json", help="write the results as JSON")
    report.add_argument("--csv", help="write the votes as CSV (UTF-8 with BOM, for Excel)")
    report.add_argument("--xlsx", help="write the results as an Excel workbook")
    report.add_argument("--nist-err", help="write NIST SP 1500-100 election results (JSON)")
    report.add_argument("--nist-cvr", help="write NIST SP 1500-103 cast vote records (JSON)")
    report.add_argument("--layout", help="report layout (default: ballots/report.json)")
    report.add_argument("--head-hash", help="event-log head hash (default: the file's SHA-256)")
    report.add_argument("--fingerprint", help="the installation's public-key fingerprint")
    report.add_argument("--title-en", help="the election's English title (exports)")
    report.add_argument("--chief-scrutineer", help="name under the 总监票人 line")
    report.add_argument("--scrutineer", action="append", default=[], help="监票人 (repeat)")
    report.add_argument("--chief-teller", help="name under the 总计票人 line")
    report.add_argument("--teller", action="append", default=[], help="计票人 (repeat)")
    report.set_defaults(handler=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
