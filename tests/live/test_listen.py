"""The LISTEN connection of an app on PostgreSQL (``app.live.listen``): each notification wakes
the streams of its congress; a lost connection is opened again, every stream is woken once (a
notification may have been missed meanwhile), and notifications are heard again."""

import asyncio

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

from app.ledger.notify import CHANNEL
from app.live import listen
from tests.builders import run_coroutine


def notify(engine: Engine, payload: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})


def end_the_listen_connection(engine: Engine) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query = :q"
                ),
                {"q": f"LISTEN {CHANNEL}"},
            ).scalar_one()
        )


def test_a_lost_listen_connection_is_opened_again_and_heard_again(app: FastAPI) -> None:
    engine: Engine = app.state.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite wakes the streams in the process")

    async def woken(flag: asyncio.Event) -> bool:
        try:
            await asyncio.wait_for(flag.wait(), 5)
        except TimeoutError:
            return False
        flag.clear()
        return True

    async def scenario() -> None:
        async with listen.running(app):
            hub = listen.hub_of(app)
            seven, eight = hub.subscribe(7), hub.subscribe(8)
            await asyncio.to_thread(notify, engine, "7")
            assert await woken(seven.flag)
            await asyncio.sleep(0.2)
            assert not eight.flag.is_set()  # another congress's streams sleep on
            assert await asyncio.to_thread(end_the_listen_connection, engine) == 1
            # Opened again: every stream woken once.
            assert await woken(seven.flag)
            assert await woken(eight.flag)
            await asyncio.to_thread(notify, engine, "8")
            assert await woken(eight.flag)
            await asyncio.to_thread(notify, engine, "not-a-congress")  # ignored
            await asyncio.to_thread(notify, engine, "7")
            assert await woken(seven.flag)
            assert not eight.flag.is_set()

    run_coroutine(scenario())
