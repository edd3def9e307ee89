"""Fan-out of the live snapshots: one read per change and view, encoded once, sent to every stream.

A ``Channel`` is the feed of one (election, view) in one app worker. While it has listeners its
task waits for a wake-up of the congress (``app.live.signal``), reads the snapshot in a worker
thread, encodes it to the SSE message bytes there, and — when the chain height changed — hands the
same bytes to every listener. Wake-ups that arrive meanwhile are coalesced into the next read. With
a thousand dashboards open a change costs one read and a thousand socket writes, so the channel
paces itself: the next read starts no sooner than ``COALESCE_SECONDS`` after the last, nor sooner
than the last fan-out took (the event loop spends at most about half its time writing snapshots;
the tablets' requests pass through the same loop). The fan-out wakes ``FANOUT_SLICE`` streams per
loop iteration, so a paper entry waits for a slice, not for a thousand writes.

Without a wake-up the channel re-reads every ``recheck_seconds`` (a lost hint delays an update,
never loses it); at the same pace it ticks its listeners, which send a keep-alive when they had
nothing to send since the last tick and check their lifetime.

A ``Listener`` is one stream's wait: a single future per wait, settled by the channel (a new
snapshot, a tick) or by the stream's client going away — no task or timer per wake-up.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from app.live.signal import Hub

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.05
FANOUT_SLICE = 100

Reader = Callable[[], Awaitable[tuple[int, bytes]]]  # -> (chain height, the SSE message)
ChannelKey = tuple[int, str]  # (election id, view)


class Listener:
    """One stream's place in a channel."""

    __slots__ = ("_waiting", "gone", "ticks")

    def __init__(self) -> None:
        self._waiting: asyncio.Future[None] | None = None
        self.gone = False
        self.ticks = 0

    def wake(self) -> None:
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    def tick(self) -> None:
        self.ticks += 1
        self.wake()

    def leave(self) -> None:
        """The client went away: end the wait at once."""
        self.gone = True
        self.wake()

    async def wait(self) -> None:
        """Until a new snapshot, a tick, or the client's leaving."""
        waiting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting = waiting
        try:
            await waiting
        finally:
            self._waiting = None


class Channel:
    def __init__(
        self,
        channels: "Channels",
        key: ChannelKey,
        *,
        congress_id: int,
        read: Reader,
        recheck_seconds: float,
    ) -> None:
        self._channels = channels
        self._key = key
        self._congress_id = congress_id
        self._read = read
        self._recheck = recheck_seconds
        self._listeners: set[Listener] = set()
        # The latest snapshot read: (chain height, the SSE message), None before the first read.
        self.current: tuple[int, bytes] | None = None
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(), name=f"jipiao-live-{key[0]}-{key[1]}")
        self._ticker = loop.call_later(recheck_seconds, self._tick)

    def join(self) -> Listener:
        listener = Listener()
        self._listeners.add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        self._listeners.discard(listener)
        if not self._listeners:
            self._task.cancel()
            self._ticker.cancel()
            self._channels.closed(self._key, self)

    def _tick(self) -> None:
        for listener in self._listeners:
            listener.tick()
        self._ticker = asyncio.get_running_loop().call_later(self._recheck, self._tick)

    async def _publish(self, height: int, message: bytes) -> None:
        self.current = (height, message)
        listeners = list(self._listeners)
        for start in range(0, len(listeners), FANOUT_SLICE):
            for listener in listeners[start : start + FANOUT_SLICE]:
                listener.wake()
            await asyncio.sleep(0)  # the woken streams write before the next slice wakes

    async def _run(self) -> None:
        hub = self._channels.hub
        waiter = hub.subscribe(self._congress_id)
        loop = asyncio.get_running_loop()
        try:
            while True:
                waiter.flag.clear()  # a wake-up during the read means: read again
                started = loop.time()
                fanout = 0.0
                try:
                    height, message = await self._read()
                except Exception:
                    # E.g. the database is unreachable: the streams keep their last snapshot
                    # (and their keep-alives) until a read succeeds.
                    log.exception("live: reading the snapshot of %s failed", self._key)
                else:
                    if self.current is None or height != self.current[0]:
                        published = loop.time()
                        await self._publish(height, message)
                        fanout = loop.time() - published
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.flag.wait(), self._recheck)
                pause = max(COALESCE_SECONDS - (loop.time() - started), fanout)
                if pause > 0:
                    await asyncio.sleep(pause)
        finally:
            hub.unsubscribe(self._congress_id, waiter)


class Channels:
    """The channels of one app worker, by (election, view)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._open: dict[ChannelKey, Channel] = {}

    def join(
        self, key: ChannelKey, *, congress_id: int, read: Reader, recheck_seconds: float
    ) -> tuple[Channel, Listener]:
        channel = self._open.get(key)
        if channel is None:
            channel = Channel(
                self, key, congress_id=congress_id, read=read, recheck_seconds=recheck_seconds
            )
            self._open[key] = channel
        return channel, channel.join()

    def closed(self, key: ChannelKey, channel: Channel) -> None:
        if self._open.get(key) is channel:
            del self._open[key]
