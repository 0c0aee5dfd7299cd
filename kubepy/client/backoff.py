"""Exponential back-off with jitter, bounded, on an injected clock.

Job: one small object that answers "how long until the next attempt?" for loops that retry
(REST retries, reflector list/watch failures, leader-election retries), and resets after a
success or after a quiet period.

Design: like client-go's ``wait.Backoff``/``BackoffManager``: the delay starts at
``initial``, is multiplied by ``factor`` after every failure up to ``cap``, and gets up to
``jitter`` x itself added at random so that many clients do not retry in lock step. If no
failure happened for ``reset_after`` seconds the next delay starts from ``initial`` again.
"""

from __future__ import annotations

import random

from kubepy.client.clock import REAL_CLOCK, Clock

__all__ = ["Backoff"]


class Backoff:
    def __init__(
        self,
        *,
        initial: float = 0.8,
        cap: float = 30.0,
        factor: float = 2.0,
        jitter: float = 1.0,
        reset_after: float = 120.0,
        clock: Clock = REAL_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or cap < initial or factor < 1:
            raise ValueError("back-off needs 0 < initial <= cap and factor >= 1")
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self.reset_after = reset_after
        self._clock = clock
        self._rng = rng or random.Random()
        self._current = initial
        self._last_failure: float | None = None

    def next_delay(self) -> float:
        """The delay before the next attempt; grows the following one."""
        now = self._clock.monotonic()
        if self._last_failure is not None and now - self._last_failure > self.reset_after:
            self._current = self.initial
        self._last_failure = now
        delay = self._current
        self._current = min(self.cap, self._current * self.factor)
        if self.jitter > 0:
            delay += self._rng.random() * self.jitter * delay
        return delay

    async def wait(self) -> None:
        """Sleep for ``next_delay()``."""
        await self._clock.sleep(self.next_delay())

    def reset(self) -> None:
        self._current = self.initial
        self._last_failure = None
