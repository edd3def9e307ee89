"""Schemathesis over the whole API (issue 20, item 7): generated requests, positive and negative,
as the admin and as a teller, against the app in-process on SQLite; any 5xx or any response
outside its declared schema fails. Bounded (``MAX_EXAMPLES`` per operation and mode,
deterministic, each request sent as both callers): about a minute and a half; marked ``slow``.
``JIPIAO_FUZZ_DATABASE_URL`` points it at a migrated PostgreSQL database of its own (emptied
before each test)."""

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy import create_engine, text

from app.auth import service as auth_service
from app.db import Base
from app.main import create_app
from app.settings import Settings
from tests.builders import Api, login_as, make_ready_election, open_round

MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, response_schema_conformance]
BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
LIVE = "/api/elections/{election_id}/live"


@dataclass(frozen=True)
class Fuzzed:
    app: FastAPI
    admin: str
    teller: str


@pytest.fixture
def fuzzed(sqlite_template: Path, tmp_path: Path) -> Iterator[Fuzzed]:
    """The app on a copy of the SQLite template, with a congress, an election, an open round."""
    url = os.environ.get("JIPIAO_FUZZ_DATABASE_URL")
    if url is None:
        database = tmp_path / "jipiao.sqlite3"
        shutil.copyfile(sqlite_template, database)
        url = f"sqlite:///{database}"
    else:  # a PostgreSQL database of its own, emptied before each test
        engine = create_engine(url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    app = create_app(Settings(database_url=url, data_dir=tmp_path))
    with app.state.sessionmaker.begin() as session:
        admin = auth_service.ensure_admin_token(session)
    assert admin is not None
    with TestClient(app) as client:
        api = Api(client, admin)
        ready = make_ready_election(api)
        open_round(api, ready.election.id)
        teller = login_as(api, ready.congress.id, "teller", name="测试计票人")
        assert teller.token is not None
        yield Fuzzed(app, admin, teller.token)


def _runner(
    cases: SearchStrategy[schemathesis.Case], callers: dict[str, dict[str, str]]
) -> Callable[[], None]:
    @given(case=cases)
    @BOUNDED
    def run(case: schemathesis.Case) -> None:
        if case.headers:  # the caller's Accept, not a generated one
            case.headers = {k: v for k, v in case.headers.items() if k.lower() != "accept"}
        for role, headers in callers.items():
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except Exception as failure:
                raise AssertionError(f"as {role}: {failure}") from failure

    return run


def fuzz(app: FastAPI, tokens: dict[str, str], *, only: str | None = None) -> list[str]:
    """``MAX_EXAMPLES`` generated requests per operation and mode (positive, negative), each sent
    once per caller (generating a request costs far more than answering it); the failures of
    every operation. The live route is asked for its JSON snapshot (its event stream never ends
    by itself)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    if only is not None:
        schema = schema.include(path=only)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        callers = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
        if operation.path == LIVE:
            for headers in callers.values():
                headers["Accept"] = "application/json"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = _runner(operation.as_strategy(generation_mode=mode), callers)
            try:
                run()
            except Unsatisfiable:
                pass  # no negative request exists (e.g. an operation with no input)
            except Exception as failure:  # collected, reported by the caller
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    return failures


@pytest.mark.slow
def test_api_as_admin_and_as_teller(fuzzed: Fuzzed) -> None:
    failures = fuzz(fuzzed.app, {"admin": fuzzed.admin, "teller": fuzzed.teller})
    assert not failures, "\n\n".join(failures)


def test_the_fuzzer_reports_a_server_error(fuzzed: Fuzzed) -> None:
    """The guard itself: a route that fails with a 500 for the teller only is reported, as the
    teller's (each generated request really is sent as both callers)."""
    teller = f"Bearer {fuzzed.teller}"

    @fuzzed.app.get("/api/boom", tags=["health"])
    def boom(request: Request, n: int = 0) -> dict[str, int]:
        if request.headers.get("authorization") == teller:
            raise RuntimeError(n)
        return {"n": n}

    tokens = {"admin": fuzzed.admin, "teller": fuzzed.teller}
    failures = fuzz(fuzzed.app, tokens, only="/api/boom")
    # In-process, the server's exception itself reaches the test (the 500 it would send too).
    assert [failure.split(" (")[0] for failure in failures] == ["GET /api/boom"] * 2, failures
    assert all(": as teller: " in failure for failure in failures), failures
    assert fuzz(fuzzed.app, {"admin": fuzzed.admin}, only="/api/boom") == []
