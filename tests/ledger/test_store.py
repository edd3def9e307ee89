"""app.ledger.store on both databases: appends in the caller's transaction, no forks under
concurrency, rollback leaves no event."""

import threading

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app import models
from app.auth.roles import Principal, Role
from app.ledger import chain, store
from app.setup import service as setup_service

ADMIN = Principal(role=Role.admin, official_id=None, congress_id=None)


def _congress(factory: sessionmaker[Session]) -> int:
    with factory.begin() as session:
        congress = setup_service.create_congress(
            session, actor=ADMIN, name="大会", delegates_total=5, starts_on=None, ends_on=None
        )
        return congress.id


def test_concurrent_appends_never_fork(app: FastAPI) -> None:
    factory: sessionmaker[Session] = app.state.sessionmaker
    congress_id = _congress(factory)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for i in range(6):
                with factory.begin() as session:
                    store.append_event(
                        session,
                        congress_id=congress_id,
                        type="test.appended",
                        payload={"worker": index, "i": i},
                        actor_role="admin",
                    )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory.begin() as session:
        rows = store.list_events(session, congress_id=congress_id)
        assert [row.height for row in rows] == list(range(1 + 8 * 6))
        assert store.verify_congress_chain(session, congress_id=congress_id) == []


def test_same_height_twice_is_refused_by_the_database(app: FastAPI) -> None:
    factory: sessionmaker[Session] = app.state.sessionmaker
    congress_id = _congress(factory)
    with factory.begin() as session:
        head = session.scalars(select(models.Event)).one()
        session.add(
            models.Event(
                congress_id=congress_id,
                height=head.height,
                parent=head.parent,
                hash="f" * 64,
                type="fork",
                payload="{}",
                at=head.at,
                actor_role="admin",
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_rolled_back_transaction_leaves_no_event(app: FastAPI) -> None:
    factory: sessionmaker[Session] = app.state.sessionmaker
    congress_id = _congress(factory)

    def failing_use_case() -> None:
        with factory.begin() as session:
            store.append_event(
                session, congress_id=congress_id, type="x", payload={}, actor_role="admin"
            )
            raise RuntimeError("the use case failed after appending")

    with pytest.raises(RuntimeError):
        failing_use_case()
    with factory.begin() as session:
        assert [row.type for row in store.list_events(session, congress_id=congress_id)] == [
            "congress.created"
        ]


def test_stored_event_round_trips_to_its_hash(app: FastAPI) -> None:
    factory: sessionmaker[Session] = app.state.sessionmaker
    congress_id = _congress(factory)
    with factory.begin() as session:
        row = store.append_event(
            session,
            congress_id=congress_id,
            type="x",
            payload={"名": "王芳", "n": [1, None, True]},
            actor_role="presidium",
        )
        assert chain.event_hash(store.to_chain_event(row)) == row.hash
        assert row.payload == '{"n":[1,null,true],"名":"王芳"}'
