"""Shared fixtures: a freshly migrated database per test, on SQLite and on PostgreSQL.

* SQLite: the migrations run once into a template file; each test gets a copy.
* PostgreSQL (127.0.0.1:5432, or ``JIPIAO_TEST_POSTGRES_URL``): one database
  ``jipiao_test_<random>`` per run, migrated once and dropped at the end; every table is emptied
  and every sequence restarted before each test. If nothing listens on the port the PostgreSQL
  variants are skipped with the reason; if a server answers but the database cannot be used,
  the tests FAIL.

A test that takes the ``api`` (or ``settings``/``app``) fixture runs once per database:
``test_x[sqlite]`` and ``test_x[postgresql]``.
"""

import gc
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import Base, upgrade_database
from app.main import create_app
from app.settings import Settings
from tests.builders import PUBLIC_URL, Api, admin_token_of, certified_record

POSTGRES_URL = os.environ.get(
    "JIPIAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    upgrade_database(Settings(database_url=f"sqlite:///{path}", data_dir=folder))
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


def _postgres_reachable(url: str) -> bool:
    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), 2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of this run's migrated PostgreSQL database (dropped at the end)."""
    if not _postgres_reachable(POSTGRES_URL):
        pytest.skip(f"PostgreSQL not reachable at {make_url(POSTGRES_URL).render_as_string()}")
    admin = make_url(POSTGRES_URL)
    name = f"jipiao_test_{uuid.uuid4().hex[:12]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_database(Settings(database_url=url))
        yield url
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def new_postgres_database(postgres_database: str) -> Iterator[Callable[[str | None], str]]:
    """Makes another database for the run and gives its URL: migrated and empty, or a copy of a
    database made earlier (its URL: nothing may be connected to it). All dropped at the end."""
    admin = make_url(POSTGRES_URL)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    base = make_url(postgres_database).database
    made: list[str] = []

    def new(template: str | None) -> str:
        name = f"{base}_{len(made) + 1}"
        copied = "" if template is None else f' TEMPLATE "{make_url(template).database}"'
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copied}')
        made.append(name)
        url = admin.set(database=name).render_as_string(hide_password=False)
        if template is None:
            upgrade_database(Settings(database_url=url))
        return url

    yield new
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_empty(postgres_database: str) -> Iterator[Callable[[], None]]:
    """Empties every table and restarts every sequence (ids start at 1 again), on one engine for
    the run: DELETE on a test's few rows takes about a millisecond where TRUNCATE of every table
    takes 30–270 ms (it makes new files for each table)."""
    engine = create_engine(postgres_database)
    deletes = [text(f'DELETE FROM "{t.name}"') for t in reversed(Base.metadata.sorted_tables)]
    restart = text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'")

    def empty() -> None:
        with engine.begin() as conn:
            for delete in deletes:
                conn.execute(delete)
            conn.execute(restart)

    yield empty
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "jipiao.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    request.getfixturevalue("postgres_empty")()
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, public_url=PUBLIC_URL)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def admin_token(app: FastAPI) -> str:
    return admin_token_of(app)


@pytest.fixture
def api(client: TestClient, admin_token: str) -> Api:
    """The HTTP API as the admin (``api.as_token(...)`` for another caller)."""
    return Api(client, admin_token)


@pytest.fixture
def certified(api: Api, app: FastAPI, settings: Settings, tmp_path: Path) -> Path:
    """A round certified through the API, its election's record exported (``certified_record``):
    the audit tests rewrite it as an insider with the installation key would."""
    return certified_record(api, app, settings, tmp_path / "record")


WEB = Path(__file__).resolve().parent / "web"

# The tests of the pure core (pyproject.toml's first import-linter contract lists its modules):
# marked ``pure``. ``./scripts/test`` runs them first, on their own, and fails unless they cover
# every branch of those modules; a pure test uses no database and no HTTP app.
PURE = (
    "tests/rules",
    "tests/names",
    "tests/ledger/test_chain.py",
    "tests/ledger/test_chain_fast_canonical.py",
    "tests/papers/test_definition.py",
    "tests/papers/test_qr.py",
    "tests/results/test_numerals.py",
    "tests/results/test_purity.py",
    "tests/results/test_report.py",
    "tests/audit/test_replay_format.py",
    "tests/audit/test_replay_folded.py",
    "tests/audit/test_replay_packed.py",
    "tests/audit/test_replay_recount.py",
    "tests/audit/test_verify_canonical.py",
    "tests/audit/test_verify_passes.py",
    "tests/audit/test_verify_stream.py",
)


# The longest files, longest first (measured with --durations): pytest-xdist hands a worker a
# whole file at a time, in collection order only with --no-loadscope-reorder (scripts/test passes
# it; by default it sorts the files by their number of tests, which put the golden path, one
# test, among the last). Starting these first lets the two workers finish together: on a
# machine where the rest's tests took 1,142 s, its workers ended at 574 and 569 s; the same
# durations replayed in pytest-xdist's own order end at 544 and 598 s.
LONGEST_FIRST = (
    "tests/limits/test_schemathesis.py",
    "tests/web/test_golden_path.py",
    "tests/printing/test_ballot_pdf.py",
    "tests/papers/test_rounds_api.py",
    "tests/audit/test_verify_fast.py",
    "tests/rehearse/test_rehearse.py",
    "tests/test_bench_cluster.py",
    "tests/ledger/test_chain_fast_canonical.py",
    # then the longest of ``--fast`` (one run, pure tests included), by CPU time measured per file
    "tests/reader/test_read.py",
    "tests/results/test_report_pdf.py",
    "tests/results/test_round_chain.py",
    "tests/results/test_presidium_api.py",
    "tests/rules/test_properties.py",
)


def pytest_configure() -> None:
    """The cyclic garbage collector less often than Python's default (700, 10, 10): its full
    collections walk a heap the app, fontTools and hypothesis have grown. Measured on tests/results
    and tests/counting (SQLite, one process, load 3-7): 4.2 s of GC in 38 CPU-s, 2.1 s at these
    thresholds. Reference counting still frees at once what is not in a cycle."""
    gc.set_threshold(10_000, 20, 20)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/web drives chromium: marked ``browser`` (``./scripts/test --fast``
    leaves them out); every test of ``PURE`` is marked ``pure``. The longest files run first
    (``LONGEST_FIRST``), then the other browser and slow files."""
    root = Path(__file__).resolve().parent.parent
    pure = [root / where for where in PURE]
    missing = [str(path) for path in pure if not path.exists()]
    if missing:  # a moved file would silently leave the coverage check
        raise pytest.UsageError(f"tests/conftest.py PURE names what is not there: {missing}")
    for item in items:
        path = Path(str(item.path))
        if WEB in path.parents:
            item.add_marker(pytest.mark.browser)
        if any(where == path or where in path.parents for where in pure):
            item.add_marker(pytest.mark.pure)
            if "database_url" in getattr(item, "fixturenames", ()):
                raise pytest.UsageError(f"{item.nodeid} is in PURE but uses the database")

    # Then the files that drive chromium or hold a slow test (15-60 s a test), then the rest: the
    # quick files last, so that a worker done first waits for a quick file only. (The seventeenth
    # session's 910 → 871 s for this order was noise: pytest-xdist reordered the files then.)
    heavy = {
        item.path
        for item in items
        if item.get_closest_marker("browser") or item.get_closest_marker("slow")
    }

    def rank(item: pytest.Item) -> int:
        where = Path(str(item.path)).relative_to(root).as_posix()
        if where in LONGEST_FIRST:
            return LONGEST_FIRST.index(where)
        return len(LONGEST_FIRST) + (item.path not in heavy)

    items.sort(key=rank)  # stable: within a rank, files keep their order
