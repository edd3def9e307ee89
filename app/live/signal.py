"""Waking the live streams when a congress's chain grows: this worker's ``Hub``.

The ledger announces each append (``app.ledger.notify``): on PostgreSQL a NOTIFY that this
worker's LISTEN connection hears (``app.live.listen``), on SQLite an in-process call after the
commit to every hub registered for the database (``app.ledger.notify.listen_locally``).

What is woken is a channel per (election, view) and worker (``app.live.fanout``), not each
stream: one cross-thread call per channel, whatever the number of dashboards. A wake-up is only a
hint: the channel re-reads the committed state (and its chain height) in a short session of its
own and hands it to its streams only when the height changed. Channels also re-read now and then
without a hint, so a lost hint delays an update, never loses it.
"""

import asyncio
import threading
from dataclasses import dataclass, field


@dataclass(eq=False)
class Waiter:
    """One channel's wake-up flag, set from any thread via its event loop."""

    loop: asyncio.AbstractEventLoop
    flag: asyncio.Event = field(default_factory=asyncio.Event)

    def set(self) -> None:
        self.loop.call_soon_threadsafe(self.flag.set)


class Hub:
    """The live channels of one app (``app.live.fanout``), by congress; ``wake`` is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, set[Waiter]] = {}

    def subscribe(self, congress_id: int) -> Waiter:
        waiter = Waiter(asyncio.get_running_loop())
        with self._lock:
            self._waiters.setdefault(congress_id, set()).add(waiter)
        return waiter

    def unsubscribe(self, congress_id: int, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(congress_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[congress_id]

    def wake(self, congress_id: int) -> None:
        with self._lock:
            waiters = list(self._waiters.get(congress_id, ()))
        for waiter in waiters:
            try:
                waiter.set()
            except RuntimeError:  # its loop is closed: the channel is gone
                self.unsubscribe(congress_id, waiter)

    def wake_all(self) -> None:
        with self._lock:
            congresses = list(self._waiters)
        for congress_id in congresses:
            self.wake(congress_id)
