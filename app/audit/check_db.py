"""``jipiao audit check-db CONGRESS``: does the database say what its event log says?

Exit codes: 0 every table agrees with the log; 1 the chain is broken or rows differ (each named);
2 no such congress.
"""

import argparse
import sys

SHOWN = 50  # differences printed in full; the count says how many more


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    check = commands.add_parser(
        "check-db", help="compare every table of a congress with its event log (needs the database)"
    )
    check.add_argument("congress", type=int, metavar="CONGRESS")
    check.set_defaults(handler=_check_db)


def _check_db(args: argparse.Namespace) -> int:
    from app import models
    from app.audit.consistency import check_congress
    from app.db import make_engine, make_sessionmaker
    from app.settings import Settings

    engine = make_engine(Settings())
    try:
        with make_sessionmaker(engine).begin() as session:
            if session.get(models.Congress, args.congress) is None:
                print(f"error: no congress {args.congress}", file=sys.stderr)
                return 2
            result = check_congress(session, congress_id=args.congress)
    finally:
        engine.dispose()
    for problem in result.chain_problems:
        print(
            f"事件链 / chain, height {problem.height}: {problem.message_zh} / {problem.message_en}"
        )
    for mismatch in result.mismatches[:SHOWN]:
        print(f"不一致 / differs: {mismatch.message_zh} / {mismatch.message_en}")
    if len(result.mismatches) > SHOWN:
        print(f"… 另有 / and {len(result.mismatches) - SHOWN} more")
    if not result.ok:
        return 1
    print(
        f"数据库与事件日志一致 / the database agrees with the event log: "
        f"{result.events} events, {result.rows} rows checked"
    )
    return 0
