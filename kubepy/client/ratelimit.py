"""Rate limiters: a token bucket and the per-item limiters of controller workqueues.

Job: ``TokenBucket`` caps request rates (the REST client's QPS/burst, the workqueue's
overall 10 qps / burst 100); ``ItemExponentialLimiter`` gives each failing key its own
exponential delay (5 ms doubling to 1000 s); ``MaxOfLimiter`` combines them the way
client-go's ``DefaultControllerRateLimiter`` does.

Design: the bucket works by reservation, like Go's ``rate.Limiter.Reserve``: taking a
token may drive the balance negative, and the caller is told how long to wait for it.
That keeps it lock-free and exact under asyncio (no polling), and lets the workqueue
turn a reservation directly into an ``add_after`` delay. Everything reads an injected
clock.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from kubepy.client.clock import REAL_CLOCK, Clock

__all__ = [
    "TokenBucket",
    "RateLimiter",
    "ItemExponentialLimiter",
    "BucketLimiter",
    "MaxOfLimiter",
    "default_controller_rate_limiter",
]


class TokenBucket:
    """``qps`` tokens per second, at most ``burst`` saved up; starts full."""

    def __init__(self, qps: float, burst: int, *, clock: Clock = REAL_CLOCK) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError("a token bucket needs qps > 0 and burst >= 1")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock.monotonic()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before using it (0 if available now)."""
        self._refill()
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def try_take(self) -> bool:
        """Take a token only if one is available now."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    async def wait(self) -> None:
        """Wait for (and take) one token."""
        delay = self.reserve()
        if delay > 0:
            await self._clock.sleep(delay)


class RateLimiter(Protocol):
    """Per-item delays for re-queuing failed work (client-go ``workqueue.RateLimiter``)."""

    def when(self, item: Hashable) -> float:
        """Seconds to wait before ``item`` is processed again; records one more failure."""
        ...

    def forget(self, item: Hashable) -> None:
        """Stop tracking ``item`` (it succeeded)."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """Failures recorded for ``item`` since it was last forgotten."""
        ...


class ItemExponentialLimiter:
    """``base * 2**failures``, capped at ``cap``, per item."""

    def __init__(self, base: float = 0.005, cap: float = 1000.0) -> None:
        self.base = base
        self.cap = cap
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        n = self._failures.get(item, 0)
        self._failures[item] = n + 1
        if n >= 64:  # 2**64 * base overflows any sensible cap
            return self.cap
        return min(self.cap, self.base * 2.0**n)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketLimiter:
    """Overall rate limit: every ``when`` takes a token from one shared bucket."""

    def __init__(self, bucket: TokenBucket) -> None:
        self.bucket = bucket

    def when(self, item: Hashable) -> float:
        return self.bucket.reserve()

    def forget(self, item: Hashable) -> None:
        return None

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfLimiter:
    """The longest delay any of ``limiters`` asks for; requeues are the largest count."""

    def __init__(self, *limiters: RateLimiter) -> None:
        if not limiters:
            raise ValueError("MaxOfLimiter needs at least one limiter")
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(clock: Clock = REAL_CLOCK) -> MaxOfLimiter:
    """client-go's default: per item 5 ms → 1000 s, overall 10 qps with a burst of 100."""
    return MaxOfLimiter(
        ItemExponentialLimiter(0.005, 1000.0),
        BucketLimiter(TokenBucket(10.0, 100, clock=clock)),
    )
