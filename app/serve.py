"""Running the server: ``jipiao serve``, ``jipiao demo`` and ``jipiao db upgrade``."""

from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import delete

from app import auth, models
from app.auth import ROLE_NAMES_ZH
from app.db import is_sqlite, make_engine, make_sessionmaker, upgrade_database
from app.keys import Fingerprints, KeysMissing, ensure_keys
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
    """The keys (``app.keys.ensure_keys``); a missing key once a round exists ends the start
    with the message saying where the keys were expected and how to restore them."""
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            return ensure_keys(session, settings.data_dir)
    except KeysMissing as exc:
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
    (returned once, else None)."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade_database(settings)
    print_keys(start_keys(settings))
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            return auth.ensure_admin_token(session)
    finally:
        engine.dispose()


def serve(settings: Settings) -> None:
    token = first_start(settings)
    _print_urls(settings)
    if token is not None:
        print("管理员令牌（只显示这一次，请妥善保存）/ admin token (shown only this once):")
        print(f"  {token}")
        print("  请求头 / header:  Authorization: Bearer <token>")
    _run(settings)


@dataclass(frozen=True, slots=True)
class DemoReport:
    congress_id: int
    election_id: int
    created: bool
    admin_token: str
    logins: list[demo_setup.DemoLogin]


def prepare_demo(settings: Settings) -> DemoReport:
    """Migrate, create the demo congress if missing, and issue fresh credentials for it.

    Demo only: every earlier admin token is replaced by a new one, printed on each start.
    """
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade_database(settings)
    print_keys(start_keys(settings))
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            found = demo_setup.ensure_demo_congress(session)
            session.execute(
                delete(models.AuthSession).where(
                    models.AuthSession.role == auth.Role.admin,
                    models.AuthSession.official_id.is_(None),
                )
            )
            token = auth.create_admin_token(session)
            logins = demo_setup.issue_demo_logins(session, congress_id=found.congress_id)
    finally:
        engine.dispose()
    return DemoReport(found.congress_id, found.election_id, found.created, token, logins)


def print_demo(settings: Settings, report: DemoReport) -> None:
    base = settings.resolved_public_url()
    state = "已创建" if report.created else "已存在"
    print(
        f"演示大会{state} / demo congress {'created' if report.created else 'exists'}: "
        f"{demo_setup.DEMO_CONGRESS_NAME} (id {report.congress_id}), "
        f"选举 / election {demo_setup.DEMO_ELECTION_TITLE} (id {report.election_id})"
    )
    _print_urls(settings)
    print(f"  代表名单 / roster:   {base}/api/congresses/{report.congress_id}/delegates")
    print(f"  候选人 / candidates: {base}/api/elections/{report.election_id}/candidates")
    print(f"  计票平板 / teller tablet: {base}/tablet  (扫码或输入登录码 / scan or type a code)")
    print(f"  选举结果 / result:   {base}/api/elections/{report.election_id}/result")
    print(f"  主席团看板 / presidium dashboard: {base}/dashboard?election={report.election_id}")
    print(f"  大屏幕 / hall projector:          {base}/projector?election={report.election_id}")
    print("管理员令牌（演示模式每次启动重新生成）/ admin token (demo: new on every start):")
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
    }
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
    print_demo(settings, report)
    _run(settings)
