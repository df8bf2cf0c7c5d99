"""One NATS connection per process, on its own event loop thread, callable from any thread.

Why a thread of its own: frames arrive on uvicorn's loop, on worker threads (device intake, RTSP readers)
and in the partition worker; nats-py is asyncio and its connection belongs to one loop. Each caller hands
its coroutine over and waits for the answer with a bound, so a stalled broker costs a caller a timeout, not
a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TypeVar

from service.cluster.broker import BrokerUnavailable, FrameBroker
from service.config.broker_settings import BrokerSettings

T = TypeVar("T")


class BrokerLink:
    """A started `FrameBroker` (connected, stream in place) and the loop it lives on."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self.broker = FrameBroker(settings)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="clearway-nats", daemon=True)

    def start(self) -> BrokerLink:
        """Connect and make sure the stream exists; BrokerUnavailable (with the URL) when the broker is not there."""
        self._thread.start()
        try:
            self.call(self._open, self.settings.connect_timeout_s + self.settings.request_timeout_s * 2)
        except BaseException:
            self.close()
            raise
        return self

    async def _open(self) -> None:
        await self.broker.connect()
        await self.broker.ensure_stream()

    def submit(self, work: Callable[[], Awaitable[T]]) -> Future[T]:
        """Run `work()` on the link's loop; the future answers in the caller's thread."""
        return asyncio.run_coroutine_threadsafe(_call(work), self.loop)

    def call(self, work: Callable[[], Awaitable[T]], timeout: float) -> T:
        """Run `work()` on the link's loop and wait at most `timeout` seconds for it."""
        future = self.submit(work)
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            future.cancel()
            raise BrokerUnavailable(f"NATS did not answer within {timeout:.0f} s") from None

    def close(self) -> None:
        """Disconnect (unsettled frames go to the next owner after the ack wait) and stop the loop."""
        if self._thread.is_alive():
            with contextlib.suppress(BrokerUnavailable):
                self.call(self.broker.close, self.settings.request_timeout_s)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()
