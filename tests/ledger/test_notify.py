"""app.ledger.notify on SQLite: a commit of the app's sessions wakes the listeners registered for
the database in this process (the live hubs), once per congress; a rollback wakes nobody. On
PostgreSQL the NOTIFY at commit is proven by tests/live/test_listen.py."""

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from app.auth.roles import Principal, Role
from app.ledger import notify, store
from app.main import create_app
from app.settings import Settings
from app.setup import service as setup_service


class Woken:
    def __init__(self) -> None:
        self.congresses: list[int] = []

    def wake(self, congress_id: int) -> None:
        self.congresses.append(congress_id)


def _congress(factory: sessionmaker[Session]) -> int:
    admin = Principal(role=Role.admin, official_id=None, congress_id=None)
    with factory.begin() as session:
        congress = setup_service.create_congress(
            session, actor=admin, name="大会", delegates_total=5, starts_on=None, ends_on=None
        )
        return congress.id


def _append(session: Session, congress_id: int) -> None:
    store.append_event(
        session, congress_id=congress_id, type="test.appended", payload={}, actor_role="admin"
    )


def test_a_commit_wakes_the_listeners_of_every_app_over_the_database(
    app: FastAPI, settings: Settings
) -> None:
    if app.state.engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL: NOTIFY at commit (tests/live/test_listen.py)")
    factory: sessionmaker[Session] = app.state.sessionmaker
    congress_id = _congress(factory)
    other = create_app(settings)  # another app over the same file, as a second instance
    woken = Woken()
    notify.listen_locally(other.state.engine, woken)

    with factory.begin() as session:
        _append(session, congress_id)
        _append(session, congress_id)
        assert woken.congresses == []  # not before the commit
    assert woken.congresses == [congress_id]  # once for the transaction

    with factory() as session:
        _append(session, congress_id)
        session.rollback()  # its event is gone: nobody is woken for it,
        session.commit()  # not even by the session's next commit
    assert woken.congresses == [congress_id]
