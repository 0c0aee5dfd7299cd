"""Clocks for the client machinery: the real one and a fake one tests drive by hand.

Job: every timer in kubepy.client (workqueue delays and back-off, token buckets, reflector
back-off, informer resync, leader-election deadlines) reads time and sleeps through a
``Clock`` handed in by its constructor, never through ``time``/``asyncio.sleep`` directly.

Design: as client-go's workqueue takes a ``clock.Clock`` and trio ships ``MockClock``,
tests swap in ``FakeClock`` and move time with ``advance`` instead of waiting. A clock
offers a monotonic reading (for deadlines and intervals), a wall reading (for timestamps
written into objects) and ``sleep``; the fake keeps both readings in step.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol

__all__ = ["Clock", "RealClock", "FakeClock", "REAL_CLOCK"]


class Clock(Protocol):
    """Time source. ``monotonic`` and ``sleep`` must agree: after ``await sleep(d)``,
    ``monotonic()`` has advanced by at least ``d``. All methods are cheap."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (only differences matter)."""
        ...

    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch (for timestamps in objects)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the caller for ``seconds`` (returns at once, after one yield, if <= 0)."""
        ...


class RealClock:
    """The process's clocks and the event loop's sleep."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


REAL_CLOCK = RealClock()


class FakeClock:
    """A clock that only moves when a test calls ``advance`` (or ``set``).

    Sleepers wake, in deadline order, when time reaches their deadline; they resume at the
    event loop's next turns, so a test typically does ``clock.advance(d)`` and then lets the
    loop run (``await asyncio.sleep(0)`` a few times, or ``await clock.settle()``).
    """

    def __init__(self, start: float = 1000.0, wall_start: float = 1_714_557_600.0) -> None:
        self._now = start
        self._wall_offset = wall_start - start
        self._seq = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self._now

    def time(self) -> float:
        return self._now + self._wall_offset

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), fut))
        await fut

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    @property
    def sleepers(self) -> int:
        """How many sleeps are pending (cancelled ones excluded)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def next_deadline(self) -> float | None:
        live = [d for d, _, f in self._sleepers if not f.done()]
        return min(live) if live else None

    async def settle(self, turns: int = 10) -> None:
        """Let the event loop run a few turns so woken tasks make progress."""
        for _ in range(turns):
            await asyncio.sleep(0)
