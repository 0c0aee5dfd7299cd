"""The controller work queue: deduplicated keys, delays, per-key back-off, one worker per key.

Job: ``RateLimitingQueue`` is what a controller's event handlers feed (``add(key)``) and
its workers drain (``key = await q.get()`` … ``q.done(key)``). Guarantees, as client-go's
workqueue gives them:
- a key waiting in the queue is queued once however often it is added;
- a key is never handed to two workers at once: added while being processed, it is
  held back and queued again when ``done`` is called;
- ``add_after(key, delay)`` queues later (the earliest of several pending delays wins);
- ``add_rate_limited(key)`` delays by the rate limiter: by default per-key exponential
  back-off 5 ms, 10 ms, … up to 1000 s, combined with an overall bucket of 10 qps / burst
  100 (``forget`` resets a key's back-off after a success; ``num_requeues`` counts them);
- ``shutdown`` stops new adds; ``get`` keeps handing out what is queued, then raises
  ``ShutDown``.

Design: a deque plus ``dirty``/``processing`` sets (client-go's Type), a heap of delayed
keys served by one timer task on the injected clock, and ``get`` waiting on a future per
idle worker (woken one per queued key). Everything runs on one event loop without locks;
tests drive delays with ``FakeClock``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, TypeVar

from kubepy.client.clock import REAL_CLOCK, Clock
from kubepy.client.ratelimit import RateLimiter, default_controller_rate_limiter

__all__ = ["RateLimitingQueue", "ShutDown"]

K = TypeVar("K", bound=Hashable)


class ShutDown(Exception):
    """The queue was shut down and has nothing left to hand out."""


class RateLimitingQueue(Generic[K]):
    def __init__(
        self,
        *,
        name: str = "",
        rate_limiter: RateLimiter | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        self.name = name
        self._clock = clock
        self.rate_limiter: RateLimiter = rate_limiter or default_controller_rate_limiter(clock)
        self._queue: collections.deque[K] = collections.deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._getters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._shutting_down = False
        # Delayed adds: key -> ready time, and a heap of (ready time, seq, key) possibly stale.
        self._waiting: dict[K, float] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._seq = itertools.count()
        self._timer: asyncio.Task[None] | None = None
        self._timer_deadline = float("inf")

    # -- adding ----------------------------------------------------------------------------

    def add(self, key: K) -> None:
        """Queue ``key`` (no-op if already queued, or after shutdown)."""
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return  # re-queued by done()
        self._queue.append(key)
        self._wake_one()

    def add_after(self, key: K, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds (at once if ``delay <= 0``)."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        ready = self._clock.monotonic() + delay
        current = self._waiting.get(key)
        if current is not None and current <= ready:
            return
        self._waiting[key] = ready
        heapq.heappush(self._heap, (ready, next(self._seq), key))
        if ready < self._timer_deadline or self._timer is None or self._timer.done():
            self._restart_timer()

    def add_rate_limited(self, key: K) -> None:
        """Queue ``key`` after the rate limiter's delay for it (back-off grows per call)."""
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: K) -> None:
        """Reset ``key``'s back-off (call after it was processed successfully)."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        return self.rate_limiter.num_requeues(key)

    # -- processing ------------------------------------------------------------------------

    async def get(self) -> K:
        """The next key, waiting for one; the caller must call ``done(key)`` when finished.

        Raises ShutDown once the queue is shut down and empty."""
        while True:
            if self._queue:
                key = self._queue.popleft()
                self._processing.add(key)
                self._dirty.discard(key)
                return key
            if self._shutting_down:
                raise ShutDown(self.name)
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    self._wake_one()  # we were woken for a key we will not take: pass it on
                else:
                    with contextlib.suppress(ValueError):
                        self._getters.remove(fut)
                raise

    def done(self, key: K) -> None:
        """Mark ``key`` finished; if it was added meanwhile it is queued again now."""
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one()

    def shutdown(self) -> None:
        """Refuse new keys; idle workers get ShutDown once the queue is drained."""
        self._shutting_down = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._heap.clear()
        self._waiting.clear()
        while self._getters:
            fut = self._getters.popleft()
            if not fut.done():
                fut.set_result(None)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def __len__(self) -> int:
        """Keys queued and ready (not counting delayed or in-process keys)."""
        return len(self._queue)

    @property
    def processing(self) -> frozenset[K]:
        return frozenset(self._processing)

    @property
    def waiting(self) -> int:
        """Keys waiting for a delay to pass."""
        return len(self._waiting)

    # -- internals -------------------------------------------------------------------------

    def _wake_one(self) -> None:
        while self._getters:
            fut = self._getters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    def _restart_timer(self) -> None:
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer_deadline = self._heap[0][0] if self._heap else float("inf")
        self._timer = asyncio.get_running_loop().create_task(self._run_timer(), name=f"workqueue {self.name} timer")

    async def _run_timer(self) -> None:
        while self._heap:
            ready, _, key = self._heap[0]
            now = self._clock.monotonic()
            if ready > now:
                self._timer_deadline = ready
                await self._clock.sleep(ready - now)
                continue
            heapq.heappop(self._heap)
            if self._waiting.get(key) == ready:
                del self._waiting[key]
                self.add(key)
        self._timer_deadline = float("inf")
