"""The ``jipiao`` command line: serve, demo, db, tally, sort-names.

Exit codes: 0 success; 2 bad input (one clear line on stderr naming the field); 1 other failure.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from app.names import DEFAULT_NAME_ORDER, UnknownCharacterError, sort_names
from app.settings import Settings

EXIT_BAD_INPUT = 2


def _read_text(path: str | None, stdin: TextIO) -> str:
    if path is None or path == "-":
        return stdin.read()
    return Path(path).read_text(encoding="utf-8-sig")


def _cmd_serve(_args: argparse.Namespace) -> int:
    from app import serve

    serve.serve(Settings())
    return 0


def _cmd_demo(_args: argparse.Namespace) -> int:
    from app import serve

    serve.demo(Settings())
    return 0


def _cmd_db(_args: argparse.Namespace) -> int:
    from app import serve

    serve.db_upgrade(Settings())
    return 0


def _cmd_tally(args: argparse.Namespace) -> int:
    from app.rules import roundfile

    try:
        text = _read_text(args.round_file, sys.stdin)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.round_file}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        print(
            f"error: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            file=sys.stderr,
        )
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jipiao", description="计票 — election tallying")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="start the HTTP service").set_defaults(handler=_cmd_serve)
    sub.add_parser("demo", help="start the service with a demo congress").set_defaults(
        handler=_cmd_demo
    )

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations (Alembic) up to head").set_defaults(
        handler=_cmd_db
    )

    tally = sub.add_parser("tally", help="decide one round from a ROUND.json file")
    tally.add_argument("round_file", metavar="ROUND.json", help="round file ('-' for stdin)")
    tally.set_defaults(handler=_cmd_tally)

    names = sub.add_parser("sort-names", help="print names in ballot (surname-stroke) order")
    names.add_argument("file", nargs="?", help="one name per line (default: stdin)")
    names.add_argument(
        "--convention",
        choices=["single_given_name_first", "character_by_character"],
        default=DEFAULT_NAME_ORDER,
    )
    names.add_argument("--explain", action="store_true", help="print each name's sort key")
    names.set_defaults(handler=_cmd_sort_names)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
