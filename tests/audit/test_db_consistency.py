"""A database row changed behind the log's back is detected: every column of every projected
table, row deletions, stuffed rows and a truncated log, on SQLite and PostgreSQL.

Each mutation runs in a transaction that is rolled back, so one election serves many mutations.
The counted installation is built once for the module on each database and each test gets a copy
of it (``installed``).
"""

import random
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import Column, Table, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app import models
from app.audit.consistency import (
    NO_TABLE_CHANGE,
    Consistency,
    UnknownEventError,
    check_congress,
    project,
)
from app.cli import main
from app.db import make_engine
from app.ledger import chain
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.rules import parse_profile, profile_options
from app.settings import Settings
from tests.builders import (
    O2_ROLES,
    SEED_BALLOT_ORDER,
    Api,
    Installed,
    add_candidate,
    copy_installation,
    expect,
    install_once,
    issue_and_collect,
    login_official,
    make_congress,
    make_election,
    make_official,
    make_ready_election,
    open_round,
    roster_csv,
    seed_paper,
    upload_roster,
)

# Columns the log does not hold, on purpose (app/audit/consistency.py says why).
NOT_IN_THE_LOG = {
    ("congress", "created_at"),
    ("election", "created_at"),
    ("official", "created_at"),
    ("official", "login_code_hash"),
    ("official", "login_code_expires_at"),
    ("official", "login_code_event"),  # the pending code's issuance, moved to its session
    ("round", "opened_at"),
    ("batch", "created_at"),
    ("paper_entry", "idempotency_key"),
    ("paper_entry", "request_hash"),
    ("paper_entry", "answer"),
    ("batch_resolution", "created_at"),
}
CHECKED_TABLES = (
    "congress",
    "delegate",
    "election",
    "candidate",
    "official",
    "round",
    "batch",
    "paper_entry",
    "batch_resolution",
    "event",
)
TABLES: dict[str, Table] = {
    t.name: t  # type: ignore[misc]
    for t in (
        models.Congress.__table__,
        models.Delegate.__table__,
        models.Election.__table__,
        models.Candidate.__table__,
        models.Official.__table__,
        models.Round.__table__,
        models.Batch.__table__,
        models.PaperEntry.__table__,
        models.BatchResolution.__table__,
        models.Event.__table__,
    )
}


@dataclass(frozen=True)
class Counted:
    settings: Settings
    congress_id: int
    other_congress_id: int


def _enter(tellers: list[Api], batch_id: int, payload: str, passes: list[list[list[str]]]) -> None:
    for tag, teller, papers in zip("ab", tellers, passes, strict=True):
        for marks in papers:
            paper = seed_paper(payload, f"{tag}-{batch_id}-{uuid.uuid4().hex}", marks)
            expect(teller.post(f"/api/batches/{batch_id}/papers", json=paper), 201)


def _resolved(marks: list[str]) -> dict[str, Any]:
    return {"marks": dict(zip(SEED_BALLOT_ORDER, marks, strict=True)), "write_ins": []}


YES3 = ["yes", "yes", "yes", "no", "no"]
OTHER = ["yes", "yes", "abstain", "yes", "no"]


def count_an_election(api: Api, settings: Settings) -> int:
    """A round with every kind of batch history: a discrepancy resolved, a batch re-entered, an
    unclear mark adjudicated; decided and certified. Plus removals and a check-out."""
    ready = make_ready_election(api, seats=3)  # 10 delegates, 8 present
    congress = ready.congress.id
    expect(api.delete(f"/api/congresses/{congress}/delegates/{ready.delegates[-1].id}"), 204)
    expect(api.post(f"/api/congresses/{congress}/delegates/{ready.delegates[-2].id}/check-in"), 200)
    expect(
        api.post(f"/api/congresses/{congress}/delegates/{ready.delegates[-2].id}/check-out"), 200
    )
    round_ = open_round(api, ready.election.id)
    issue_and_collect(api, round_.id, printed=10, issued=8, collected=8)
    payload = encode_payload(
        key=load_or_create_qr_key(settings.data_dir),
        election_id=ready.election.id,
        round_number=1,
        definition_hash=round_.definition_hash,
    )
    teller_ids = [o.id for o in ready.officials["teller"][:2]]
    tellers = [login_official(api, congress, i) for i in teller_ids]
    chief = login_official(api, congress, ready.officials["chief_scrutineer"][0].id)
    scrutineer = login_official(api, congress, ready.officials["scrutineer"][0].id)

    def batch(count: int) -> int:
        body = {"declared_count": count, "teller_a_id": teller_ids[0], "teller_b_id": teller_ids[1]}
        created = expect(api.post(f"/api/rounds/{round_.id}/batches", json=body), 201)
        return int(created["id"])

    first = batch(3)  # pass B mistypes one paper: a scrutineer gives the final record
    _enter(tellers, first, payload, [[YES3, YES3, OTHER], [YES3, YES3, YES3]])
    body = {"records": [_resolved(OTHER)], "reason": "核对原票"}
    expect(chief.post(f"/api/batches/{first}/resolution", json=body), 200)

    second = batch(3)  # too messy: entered again
    _enter(tellers, second, payload, [[YES3, OTHER, YES3], [YES3, YES3, YES3]])
    expect(scrutineer.post(f"/api/batches/{second}/reentry", json={"reason": "重新录入"}), 200)
    _enter(tellers, second, payload, [[YES3, OTHER, YES3], [OTHER, YES3, YES3]])

    unclear = ["yes", "unclear", "yes", "no", "no"]
    third = batch(2)  # an unclear mark: adjudicated
    _enter(tellers, third, payload, [[YES3, unclear], [unclear, YES3]])
    body = {"records": [_resolved(["yes", "no", "yes", "no", "no"])], "reason": "看不清，计为反对"}
    expect(scrutineer.post(f"/api/batches/{third}/resolution", json=body), 200)

    expect(chief.post(f"/api/rounds/{round_.id}/decide"), 200)
    expect(chief.post(f"/api/rounds/{round_.id}/sign"), 200)
    assert expect(scrutineer.post(f"/api/rounds/{round_.id}/sign"), 200)["certified"]
    return congress


def another_congress(api: Api) -> int:
    """Rows a mutation can move another congress's rows to without breaking a UNIQUE: a roster,
    officials and candidates with other names, a round with a batch, and an empty election."""
    congress = make_congress(api, name="第六次学生代表大会", delegates_total=10)
    rows = [(f"代表{i}", "", f"2027{i:05d}") for i in range(10)]
    expect(upload_roster(api, congress.id, roster_csv(rows)), 201)
    delegates = expect(api.get(f"/api/congresses/{congress.id}/delegates"), 200)
    for delegate in delegates[:8]:
        expect(api.post(f"/api/congresses/{congress.id}/delegates/{delegate['id']}/check-in"), 200)
    election = make_election(api, congress.id, title="常务代表", seats=1)
    make_election(api, congress.id, title="尚无轮次的选举", seats=1)
    for name in ("甲某", "乙某"):
        add_candidate(api, election.id, name)
    tellers = []
    for role, count in O2_ROLES.items():
        for n in range(count):
            official = make_official(api, congress.id, role=role, name=f"另{role}{n + 1}")
            if role == "teller":
                tellers.append(official.id)
    round_ = open_round(api, election.id)
    issue_and_collect(api, round_.id, printed=8, issued=8, collected=8)
    body = {"declared_count": 8, "teller_a_id": tellers[0], "teller_b_id": tellers[1]}
    expect(api.post(f"/api/rounds/{round_.id}/batches", json=body), 201)
    return congress.id


def _build(api: Api, settings: Settings) -> tuple[int, int]:
    return count_an_election(api, settings), another_congress(api)


@pytest.fixture(scope="module")
def counted_sqlite(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Installed[tuple[int, int]]:
    folder = tmp_path_factory.mktemp("counted")
    shutil.copyfile(sqlite_template, folder / "jipiao.sqlite3")
    return install_once(folder, f"sqlite:///{folder / 'jipiao.sqlite3'}", _build)


@pytest.fixture(scope="module")
def counted_postgresql(
    tmp_path_factory: pytest.TempPathFactory, new_postgres_database: Callable[[str | None], str]
) -> Installed[tuple[int, int]]:
    return install_once(tmp_path_factory.mktemp("counted"), new_postgres_database(None), _build)


@pytest.fixture
def installed(database_url: str, request: pytest.FixtureRequest) -> Installed[tuple[int, int]]:
    """The counted installation of the test's database, built once for the module."""
    sqlite = database_url.startswith("sqlite")
    counted: Installed[tuple[int, int]] = request.getfixturevalue(
        "counted_sqlite" if sqlite else "counted_postgresql"  # only the test's database is used
    )
    return counted


@pytest.fixture
def settings(
    settings: Settings, installed: Installed[tuple[int, int]], request: pytest.FixtureRequest
) -> Settings:
    """A copy of the counted installation, made before the app starts on it."""
    copy_installation(installed, settings.data_dir)  # on SQLite, over the empty database
    if installed.database_url.startswith("sqlite"):
        return settings
    new_database: Callable[[str | None], str] = request.getfixturevalue("new_postgres_database")
    return Settings(
        database_url=new_database(installed.database_url),
        data_dir=settings.data_dir,
        public_url=settings.public_url,
    )


@pytest.fixture
def admin_token(installed: Installed[tuple[int, int]]) -> str:
    return installed.admin_token


@pytest.fixture
def counted(installed: Installed[tuple[int, int]], settings: Settings) -> Counted:
    return Counted(settings, *installed.built)


@pytest.fixture
def session(counted: Counted) -> Iterator[Session]:
    engine = make_engine(counted.settings)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _ids(session: Session, table: Table) -> list[Any]:
    return list(session.scalars(select(table.c.id)))


def _rows_of(session: Session, congress_id: int, table: str) -> list[Any]:
    """Primary keys of the rows of ``table`` that belong to the congress."""
    m = models
    queries: dict[str, Any] = {
        "congress": select(m.Congress.id).where(m.Congress.id == congress_id),
        "delegate": select(m.Delegate.id).where(m.Delegate.congress_id == congress_id),
        "election": select(m.Election.id).where(m.Election.congress_id == congress_id),
        "official": select(m.Official.id).where(m.Official.congress_id == congress_id),
        "event": select(m.Event.id).where(m.Event.congress_id == congress_id),
        "candidate": select(m.Candidate.id)
        .join(m.Election)
        .where(m.Election.congress_id == congress_id),
        "round": select(m.Round.id).join(m.Election).where(m.Election.congress_id == congress_id),
        "batch": select(m.Batch.id)
        .join(m.Round)
        .join(m.Election)
        .where(m.Election.congress_id == congress_id),
        "paper_entry": select(m.PaperEntry.id)
        .join(m.Batch)
        .join(m.Round)
        .join(m.Election)
        .where(m.Election.congress_id == congress_id),
        "batch_resolution": select(m.BatchResolution.id)
        .join(m.Batch)
        .join(m.Round)
        .join(m.Election)
        .where(m.Election.congress_id == congress_id),
    }
    return sorted(session.scalars(queries[table]))


def checked_columns() -> list[tuple[str, str]]:
    return [
        (name, column.name)
        for name in CHECKED_TABLES
        for column in TABLES[name].columns
        if not column.primary_key and (name, column.name) not in NOT_IN_THE_LOG
    ]


def _changed_values(session: Session, column: Column[Any], value: Any) -> list[Any]:
    """Other values for ``value``, the most plausible first (a real forger keeps types valid)."""
    if column.foreign_keys:
        (fk,) = column.foreign_keys
        others = [i for i in _ids(session, fk.column.table) if i != value]  # type: ignore[arg-type]
        return others[:5]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1]
    if isinstance(value, str):
        if not value:
            return ["x"]
        return [value[:-1] + chr(ord(value[-1]) + 1), value + "改"]
    if isinstance(value, datetime):
        return [value + timedelta(hours=1)]
    if isinstance(value, date):
        return [value + timedelta(days=1)]
    if isinstance(value, list):
        if len(set(value)) > 1:
            return [list(reversed(value))]
        return [[*value, value[0] if value else "某"], []]
    if isinstance(value, dict):
        options = profile_options(parse_profile(value))
        flag = next(k for k, v in options.items() if isinstance(v, bool))
        return [{**value, flag: not options[flag]}]
    assert value is None, (column, value)
    if column.name == "starts_on" or column.name == "ends_on":
        return [date(2026, 11, 14)]
    return [1, "X"] if column.type.python_type is int else ["X"]


def mutate(session: Session, table: str, key: Any, column: str) -> bool:
    """Change one cell to another value; False if the database refuses every candidate."""
    t = TABLES[table]
    value = session.execute(select(t.c[column]).where(t.c.id == key)).scalar_one()
    for changed in _changed_values(session, t.c[column], value):
        try:
            with session.begin_nested():
                session.execute(update(t).where(t.c.id == key).values({column: changed}))
            return True
        except DBAPIError:
            continue
    return False


def assert_detected(result: Consistency, table: str, column: str) -> None:
    if table == "event":  # the chain breaks, or (its tail moved away) explains fewer rows
        assert not result.ok, column
    else:
        assert table in {m.table for m in result.mismatches}, (column, result.mismatches)


def test_the_untouched_database_agrees_with_the_log(counted: Counted, session: Session) -> None:
    result = check_congress(session, congress_id=counted.congress_id)
    assert result.ok, (result.chain_problems, result.mismatches)
    assert result.rows >= 10 + 5 + 9 + 8 * 2 + 3  # delegates, candidates, officials, entries…
    kinds = {
        row.type
        for row in session.scalars(
            select(models.Event).where(models.Event.congress_id == counted.congress_id)
        )
    }
    assert {"batch.resolved", "batch.reentry_ordered", "round.certified"} <= kinds
    assert {"batch.discrepancy", "batch.needs_adjudication", "delegate.removed"} <= kinds


def test_the_api_reports_a_changed_row(counted: Counted, api: Api, session: Session) -> None:
    path = f"/api/congresses/{counted.congress_id}/events/verify"
    before = expect(api.get(path), 200)
    assert before["ok"]
    assert before["mismatches"] == []
    assert before["rows_checked"] > 0
    entry = _rows_of(session, counted.congress_id, "paper_entry")[0]
    t = TABLES["paper_entry"]
    record = session.execute(select(t.c.record).where(t.c.id == entry)).scalar_one()
    forged = (
        record.replace('"no"', '"yes"', 1)
        if '"no"' in record
        else record.replace('"yes"', '"no"', 1)
    )
    session.execute(update(t).where(t.c.id == entry).values(record=forged))
    session.commit()
    after = expect(api.get(path), 200)
    assert not after["ok"]
    (mismatch,) = after["mismatches"]
    assert (mismatch["table"], mismatch["key"], mismatch["column"]) == (
        "paper_entry",
        entry,
        "record",
    )
    assert mismatch["in_database"] == forged
    assert mismatch["from_log"] == record
    assert "paper_entry" in mismatch["message_zh"]
    assert "event log" in mismatch["message_en"]


def test_changing_any_column_is_detected(counted: Counted, session: Session) -> None:
    """Every column the log holds, in rows at both ends of each table (the first rows of a
    table are set up early, the last ones late in the count)."""
    unchanged = []
    for table, column in checked_columns():
        rows = _rows_of(session, counted.congress_id, table)
        assert rows, f"the election left no {table} rows to tamper with"
        keys = dict.fromkeys([*rows[:2], *rows[-2:]])
        if not [k for k in keys if _mutated_and_detected(session, counted, table, k, column)]:
            unchanged.append(f"{table}.{column}")
    assert not unchanged, f"no value could be changed: extend _changed_values for {unchanged}"


def _mutated_and_detected(
    session: Session, counted: Counted, table: str, key: Any, column: str
) -> bool:
    try:
        if not mutate(session, table, key, column):
            return False
        assert_detected(check_congress(session, congress_id=counted.congress_id), table, column)
        return True
    finally:
        session.rollback()


def test_deleting_any_row_is_detected(counted: Counted, session: Session) -> None:
    undeletable = []
    for table in CHECKED_TABLES[1:]:  # deleting the congress deletes everything it checks
        detected = 0
        for key in _rows_of(session, counted.congress_id, table)[:5]:
            try:
                with session.begin_nested():
                    session.execute(delete(TABLES[table]).where(TABLES[table].c.id == key))
            except DBAPIError:
                session.rollback()
                continue  # still referenced (e.g. an official who entered a batch)
            result = check_congress(session, congress_id=counted.congress_id)
            session.rollback()
            assert not result.ok, (table, key)
            detected += 1
        if not detected:
            undeletable.append(table)
    assert not undeletable


def test_a_stuffed_paper_entry_is_detected(counted: Counted, session: Session) -> None:
    t = TABLES["paper_entry"]
    entry = _rows_of(session, counted.congress_id, "paper_entry")[0]
    row = dict(session.execute(select(t).where(t.c.id == entry)).mappings().one())
    stuffed = str(uuid.uuid4())
    session.execute(insert(t).values({**row, "id": stuffed, "idempotency_key": "extra"}))
    result = check_congress(session, congress_id=counted.congress_id)
    assert [(m.table, m.key, m.column) for m in result.mismatches] == [
        ("paper_entry", stuffed, None)
    ]
    assert "not in the event log" in result.mismatches[0].message_en


def test_a_delegate_added_behind_the_log_is_detected(counted: Counted, session: Session) -> None:
    t = TABLES["delegate"]
    session.execute(
        insert(t).values(
            congress_id=counted.congress_id,
            name="冒名",
            delegation="",
            student_id="20269999",
            present=True,
        )
    )
    result = check_congress(session, congress_id=counted.congress_id)
    assert [(m.table, m.column) for m in result.mismatches] == [("delegate", None)]


def test_a_truncated_log_is_detected(counted: Counted, session: Session) -> None:
    """Dropping the last events keeps a valid chain; the tables then say more than the log."""
    events = _rows_of(session, counted.congress_id, "event")
    checked = 0
    for keep in random.Random(7).sample(range(1, len(events)), 12):
        dropped = set(
            session.scalars(select(models.Event.type).where(models.Event.id.in_(events[keep:])))
        )
        session.execute(delete(models.Event).where(models.Event.id.in_(events[keep:])))
        result = check_congress(session, congress_id=counted.congress_id)
        session.rollback()
        assert not result.chain_problems  # the shorter chain is itself valid…
        if dropped <= NO_TABLE_CHANGE:
            continue  # …and no table row came from the dropped events
        assert result.mismatches, keep  # …but the tables hold what it no longer explains
        checked += 1
    assert checked >= 8


@hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_mutations_are_detected(
    counted: Counted, session: Session, data: st.DataObject
) -> None:
    table, column = data.draw(st.sampled_from(checked_columns()), label="column")
    key = data.draw(st.sampled_from(_rows_of(session, counted.congress_id, table)), label="row")
    try:
        assume(mutate(session, table, key, column))
        assert_detected(check_congress(session, congress_id=counted.congress_id), table, column)
    finally:
        session.rollback()


def test_an_event_type_the_check_does_not_know_is_refused() -> None:
    event = chain.Event(
        chain=1, height=0, parent=chain.GENESIS_PARENT, type="paper.teleported", payload={},
        at="2026-11-14T11:05Z", actor_role="admin",
    )  # fmt: skip
    with pytest.raises(UnknownEventError):
        project([event])


def test_cli_check_db(
    counted: Counted,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JIPIAO_DATABASE_URL", counted.settings.resolved_database_url())
    monkeypatch.setenv("JIPIAO_DATA_DIR", str(counted.settings.data_dir))
    assert main(["audit", "check-db", str(counted.congress_id)]) == 0
    assert "agrees with the event log" in capsys.readouterr().out
    t = TABLES["round"]
    session.execute(update(t).where(t.c.election_id.in_(
        select(models.Election.id).where(models.Election.congress_id == counted.congress_id)
    )).values(collected=t.c.collected + 1))  # fmt: skip
    session.commit()
    assert main(["audit", "check-db", str(counted.congress_id)]) == 1
    out = capsys.readouterr().out
    assert "round 1: collected is 9 in the database, 8 in the event log" in out
    assert main(["audit", "check-db", "999999"]) == 2
    assert "999999" in capsys.readouterr().err
