"""Running the server: ``jipiao serve``, ``jipiao demo``, ``jipiao db upgrade`` and ``jipiao admin
rotate``.

The admin token is shown once, and only where it is not kept: on a terminal it is printed; when
the output goes elsewhere (a service's journal, ``docker compose logs``, a file: logs that are
kept) it is written to ``ADMIN_TOKEN_FILE`` in the data folder (0600) and only that file's path is
printed. It never goes through the logging module. ``jipiao admin rotate`` replaces it.

``jipiao demo`` marks its data folder (``DEMO_MARKER``): the demo prints its admin token and
every login code on each start, so ``jipiao serve`` refuses a demo folder unless started with
``--demo`` (nor a database holding the demo congress: a demo folder from before the mark), and
``jipiao demo`` refuses a folder whose database already has an admin token but neither the mark
nor the demo congress (a real installation: the demo would replace its admin token).
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import segno
import uvicorn
from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import models
from app.auth import service as auth_service
from app.auth.roles import ROLE_NAMES_ZH
from app.db import is_sqlite, make_engine, make_sessionmaker, startup_lock, upgrade_database
from app.hall import start as hall
from app.hall.tls import HallCertificates
from app.keys import (
    Fingerprints,
    KeysDiffer,
    KeysMissing,
    check_installation_keys,
    ensure_keys,
)
from app.main import create_app
from app.settings import Settings
from app.setup import demo as demo_setup


def db_upgrade(settings: Settings) -> None:
    """Apply the Alembic migrations up to head."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade_database(settings)
    print(f"数据库已升级到最新版本 / database upgraded: {_shown_url(settings)}")


def _shown_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url()).render_as_string(hide_password=True)


def _print_urls(settings: Settings) -> None:
    base = settings.resolved_public_url()
    print(f"jipiao 计票 服务地址 / service:        {base}")
    print(f"  接口文档 / API docs (offline):     {base}/docs")
    print(f"  健康检查 / health:                 {base}/api/health")


def start_keys(settings: Settings) -> Fingerprints:
    """The keys (``app.keys.ensure_keys``), checked against the ones the database's other
    instances hold (``check_installation_keys``); a missing key once a round exists, or keys
    that differ, end the start with the message saying where the keys were expected and how
    to restore them."""
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            found = ensure_keys(session, settings.data_dir)
            check_installation_keys(session, found)
            return found
    except (KeysMissing, KeysDiffer) as exc:
        raise SystemExit(f"错误 / error: {exc.message_zh}\n{exc.message_en}") from None
    finally:
        engine.dispose()


def print_keys(found: Fingerprints) -> None:
    print(f"数据目录 / data folder:              {found.data_dir}")
    print(f"  二维码密钥指纹 / QR key fingerprint:      {found.qr_key}")
    print(f"  签名密钥指纹 / signing key fingerprint:   {found.signing_key}")
    print("  （与审计页及备份文件中的指纹核对 / compare with /api/audit/keys and the backup）")


def first_start(settings: Settings) -> str | None:
    """Migrate, check (or make) the keys, and create the admin token if there is none yet
    (returned once, else None). One instance at a time (``startup_lock``): replicas starting
    together would otherwise migrate together and each make an admin token."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with startup_lock(settings):
        upgrade_database(settings)
        print_keys(start_keys(settings))
        engine = make_engine(settings)
        try:
            with make_sessionmaker(engine).begin() as session:
                return auth_service.ensure_admin_token(session)
        finally:
            engine.dispose()


ADMIN_TOKEN_FILE = "admin-token"
DEMO_MARKER = "DEMO"
_DEMO_MARK_TEXT = (
    "本数据目录由 jipiao demo 创建，仅供演示：管理员令牌与登录码每次启动都会打印。\n"
    "This data folder was made by `jipiao demo`, for a demonstration only: its admin token and\n"
    "login codes are printed at every start. `jipiao serve` refuses it without --demo.\n"
)


def is_demo_folder(data_dir: Path) -> bool:
    return (data_dir / DEMO_MARKER).exists()


def _demo_refusal(settings: Settings) -> str:
    return (
        f"错误：{settings.data_dir} 是演示数据目录（其管理员令牌和登录码已公开打印），"
        "请换用新的数据目录（JIPIAO_DATA_DIR），或加 --demo 继续演示 / error: "
        f"{settings.data_dir} is a demo data folder (its admin token and login codes were "
        "printed): use a new JIPIAO_DATA_DIR, or `jipiao serve --demo` to go on with the demo"
    )


def refuse_demo_folder(settings: Settings) -> None:
    """``jipiao serve`` without ``--demo`` on a folder ``jipiao demo`` made: one line, and stop."""
    if is_demo_folder(settings.data_dir):
        raise SystemExit(_demo_refusal(settings))


def _holds_demo_congress(session: Session) -> bool:
    """The demo congress is there (a demo folder made before folders were marked)."""
    found = session.scalars(
        select(models.Congress.id).where(models.Congress.name == demo_setup.DEMO_CONGRESS_NAME)
    ).first()
    return found is not None


def _refuse_demo_database(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            if _holds_demo_congress(session):
                raise SystemExit(_demo_refusal(settings))
    finally:
        engine.dispose()


def hand_over_admin_token(
    settings: Settings, token: str, *, out: TextIO | None = None, first: bool = True
) -> None:
    """Show a new admin token once: printed on a terminal, else written to ``ADMIN_TOKEN_FILE``
    (0600) in the data folder with only its path printed, so that it stays out of kept logs."""
    out = out or sys.stdout
    when = "只显示这一次" if first else "新令牌，旧令牌已失效"
    when_en = "shown only this once" if first else "new token; the old one no longer works"
    if out.isatty():
        print(f"管理员令牌（{when}，请妥善保存）/ admin token ({when_en}):", file=out)
        print(f"  {token}", file=out)
        print("  请求头 / header:  Authorization: Bearer <token>", file=out)
        return
    path = settings.data_dir / ADMIN_TOKEN_FILE
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    print(
        f"管理员令牌已写入 {path}（输出不是终端，令牌不进日志；读取后请删除该文件）/ "
        f"admin token ({when_en}) written to {path}, not to this output (it may be a kept log): "
        "read it, then delete the file",
        file=out,
    )


def issue_admin_code(settings: Settings) -> str:
    """A one-time login code for the secretariat's console (``jipiao admin login-code``)."""
    upgrade_database(settings)
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            return auth_service.issue_admin_login_code(session)
    finally:
        engine.dispose()


def print_admin_code(settings: Settings, code: str, *, out: TextIO | None = None) -> None:
    """The secretariat's login code with its link, and its QR code drawn in the terminal."""
    out = out or sys.stdout
    url = auth_service.login_url(settings, code)
    print(
        f"秘书处一次性登录码（{auth_service.ADMIN_CODE_HOURS} 小时内有效，只能用一次）/ "
        "secretariat's one-time login code:",
        file=out,
    )
    print(f"  {code}   登录 / log in: {url}", file=out)
    if out.isatty():
        segno.make_qr(url, error="m").terminal(out=out, compact=True)


def hand_over_admin_code(settings: Settings, *, out: TextIO | None = None) -> None:
    """At each start: a login code for the console, shown only on a terminal (a code in a kept
    log would open an admin session for whoever reads the log first)."""
    out = out or sys.stdout
    if out.isatty():
        print_admin_code(settings, issue_admin_code(settings), out=out)
        return
    print(
        "秘书处登录码：请在终端运行 jipiao admin login-code / "
        "the secretariat's login code: run `jipiao admin login-code` on a terminal",
        file=out,
    )


def serve(settings: Settings, *, demo: bool = False) -> None:
    if not demo:
        refuse_demo_folder(settings)
    token = first_start(settings)
    if not demo:
        _refuse_demo_database(settings)
    certificates = hall.prepare(settings)
    _print_urls(settings)
    if certificates is not None:
        hall.print_hall(settings, certificates)
    hand_over_admin_code(settings)
    if token is not None:
        hand_over_admin_token(settings, token)
    elif (settings.data_dir / ADMIN_TOKEN_FILE).exists():
        print(
            f"提醒：{settings.data_dir / ADMIN_TOKEN_FILE} 仍保存着管理员令牌，读取后请删除 / "
            "reminder: the admin token file is still there; delete it once read"
        )
    _run(settings)


def _has_admin_token(session: Session) -> bool:
    return (
        session.scalars(
            select(models.AuthSession.id).where(auth_service.permanent_admin_token())
        ).first()
        is not None
    )


def _replace_admin_token(session: Session) -> str:
    session.execute(delete(models.AuthSession).where(auth_service.permanent_admin_token()))
    return auth_service.create_admin_token(session)


def rotate_admin_token(settings: Settings) -> str:
    """``jipiao admin rotate``: a new admin token; every earlier one answers 401 from now on
    (the running service reads the token's row on every request)."""
    upgrade_database(settings)
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            return _replace_admin_token(session)
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class DemoReport:
    congress_id: int
    election_id: int
    created: bool
    admin_token: str
    logins: list[demo_setup.DemoLogin]
    admin_code: str


def prepare_demo(settings: Settings) -> DemoReport:
    """Migrate, create the demo congress if missing, and issue fresh credentials for it.

    Demo only: every earlier admin token is replaced by a new one, printed on each start.
    """
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade_database(settings)
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            if (
                not is_demo_folder(settings.data_dir)
                and _has_admin_token(session)
                and not _holds_demo_congress(session)
            ):
                raise SystemExit(
                    f"错误：{settings.data_dir} 的数据库已有管理员令牌，不是演示数据目录，"
                    "演示会替换其令牌；请换用新的数据目录（JIPIAO_DATA_DIR）"
                    f" / error: the database of {settings.data_dir} already has an admin token "
                    "and is not a demo folder; the demo would replace it: use a new "
                    "JIPIAO_DATA_DIR"
                )
    finally:
        engine.dispose()
    (settings.data_dir / DEMO_MARKER).write_text(_DEMO_MARK_TEXT, encoding="utf-8")
    print_keys(start_keys(settings))
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            found = demo_setup.ensure_demo_congress(session)
            token = _replace_admin_token(session)
            logins = demo_setup.issue_demo_logins(session, congress_id=found.congress_id)
            admin_code = auth_service.issue_admin_login_code(session)
    finally:
        engine.dispose()
    return DemoReport(
        found.congress_id, found.election_id, found.created, token, logins, admin_code
    )


def print_demo(
    settings: Settings, report: DemoReport, certificates: HallCertificates | None = None
) -> None:
    base = settings.resolved_public_url()
    state = "已创建" if report.created else "已存在"
    print(
        f"演示大会{state} / demo congress {'created' if report.created else 'exists'}: "
        f"{demo_setup.DEMO_CONGRESS_NAME} (id {report.congress_id}), "
        f"选举 / election {demo_setup.DEMO_ELECTION_TITLE} (id {report.election_id})"
    )
    _print_urls(settings)
    print(f"  工作人员登录 / officials' console: {base}/")
    print(f"  计票平板 / teller tablet: {base}/tablet  (扫码或输入登录码 / scan or type a code)")
    print(f"  主席团看板 / presidium dashboard: {base}/dashboard?election={report.election_id}")
    print(f"  大屏幕 / hall projector:          {base}/projector?election={report.election_id}")
    if certificates is not None:  # before the login codes: a tablet trusts the CA first
        hall.print_hall(settings, certificates)
    print_admin_code(settings, report.admin_code)
    print(
        "管理员令牌（供脚本调用接口；演示模式每次启动重新生成）/ "
        "admin token for scripts (demo: new on every start):"
    )
    print(f"  {report.admin_token}")
    print('工作人员一次性登录码 / one-time login codes (POST /api/auth/login {"code": ...}):')
    for login in report.logins:
        role = f"{ROLE_NAMES_ZH[login.role]} {login.role.value}"
        print(
            f"  {role:<24} {login.name:<6} {login.code}   "
            f"登录 / log in: {base}/login?code={login.code}   "
            f"二维码 / QR: {base}/api/auth/login-qr.svg?code={login.code}"
        )


def worker_app() -> FastAPI:
    """The app of one uvicorn worker process (``JIPIAO_WORKERS`` > 1): settings from the
    environment, as ``jipiao serve`` read them."""
    return create_app(Settings())


def _run(settings: Settings) -> None:
    # Open live streams (the dashboard) would hold a shutdown for their whole lifetime.
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "timeout_graceful_shutdown": 5,
    } | hall.run_options(settings)
    redirect = hall.start_redirect(settings)
    try:
        _run_app(settings, options)
    finally:
        if redirect is not None:
            redirect.stop()


def _run_app(settings: Settings, options: dict[str, Any]) -> None:
    if settings.workers <= 1:
        uvicorn.run(create_app(settings), **options)
        return
    if is_sqlite(settings.resolved_database_url()):
        raise SystemExit(
            "JIPIAO_WORKERS > 1 需要 PostgreSQL（SQLite 只唤醒本进程的实时流）/ "
            "JIPIAO_WORKERS > 1 needs PostgreSQL (SQLite wakes the live streams of its own "
            "process only)"
        )
    # Each worker builds its app from the environment (``worker_app``): the settings must be
    # there, as ``jipiao serve`` read them (Settings() in app.cli).
    uvicorn.run("app.serve:worker_app", factory=True, workers=settings.workers, **options)


def demo(settings: Settings) -> None:
    report = prepare_demo(settings)
    print_demo(settings, report, hall.prepare(settings))
    _run(settings)
