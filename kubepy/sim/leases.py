"""Node heartbeats for thousands of simulated nodes from one task.

Job: keep one Lease per simulated node in ``kube-node-lease`` renewed, as each kubelet does
(``renewTime`` every ``interval`` seconds, upstream's 10 s; ``leaseDurationSeconds`` 40), so
the node lifecycle controller sees the nodes alive.

Design: one task walks all leases once per interval in small slices (``slice_seconds``
apart), so 5,000 nodes cost a steady ~500 requests/s rather than a burst, and no task per
node sits waiting. A renewal is a merge PATCH of ``spec.renewTime`` (no read first, no
resourceVersion to conflict on); a lease that is gone (404) is created again. Each slice's
requests go out together but at most ``concurrency`` at a time; failures are counted and
logged once per round, and the next round simply tries again.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence

from kubepy.client import REAL_CLOCK, ApiError, Client, Clock, is_already_exists, is_not_found, micro_time
from kubepy.sim.objects import build_lease

__all__ = ["LeaseRenewer", "NODE_LEASE_NAMESPACE"]

log = logging.getLogger(__name__)

NODE_LEASE_NAMESPACE = "kube-node-lease"


class LeaseRenewer:
    """Creates and renews the Leases named by ``names()`` (read afresh each round)."""

    def __init__(
        self,
        client: Client,
        names: Callable[[], Sequence[str]],
        *,
        interval: float = 10.0,
        duration_seconds: int = 40,
        slice_seconds: float = 0.1,
        concurrency: int = 32,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        self.client = client
        self.names = names
        self.interval = interval
        self.duration_seconds = duration_seconds
        self.slice_seconds = slice_seconds
        self.clock = clock
        self.leases = client.resource("coordination.k8s.io/v1", "leases")
        self._sem = asyncio.Semaphore(concurrency)
        #: Renewals done and failed since start (for tests and logs).
        self.renewed = 0
        self.failed = 0
        self.rounds = 0

    async def create_all(self) -> None:
        """Create every lease now (an existing one is renewed instead)."""
        await asyncio.gather(*(self._create(n) for n in self.names()))

    async def _create(self, name: str) -> None:
        async with self._sem:
            try:
                await self.client.create(
                    self.leases, build_lease(name, micro_time(self.clock.time()), self.duration_seconds),
                    namespace=NODE_LEASE_NAMESPACE)
            except ApiError as e:
                if not is_already_exists(e):
                    raise
                await self._patch(name)

    async def _patch(self, name: str) -> None:
        await self.client.patch(self.leases, name, {"spec": {
            "holderIdentity": name, "leaseDurationSeconds": self.duration_seconds,
            "renewTime": micro_time(self.clock.time())}}, namespace=NODE_LEASE_NAMESPACE)

    async def renew(self, name: str) -> bool:
        """Renew one lease (recreating it if gone); False if that failed."""
        async with self._sem:
            try:
                try:
                    await self._patch(name)
                except ApiError as e:
                    if not is_not_found(e):
                        raise
                    await self.client.create(
                        self.leases, build_lease(name, micro_time(self.clock.time()), self.duration_seconds),
                        namespace=NODE_LEASE_NAMESPACE)
            except Exception as e:  # noqa: BLE001 - a heartbeat failure must not stop the others
                log.debug("lease %s: renewal failed: %r", name, e)
                self.failed += 1
                return False
            self.renewed += 1
            return True

    async def run_round(self) -> None:
        """Renew every lease once, spread evenly over ``interval``."""
        names = list(self.names())
        start = self.clock.monotonic()
        slices = max(1, int(self.interval / self.slice_seconds))
        per_slice = max(1, math.ceil(len(names) / slices))
        failed_before = self.failed
        for n, i in enumerate(range(0, len(names), per_slice)):
            await asyncio.gather(*(self.renew(name) for name in names[i:i + per_slice]))
            delay = start + (n + 1) * self.slice_seconds - self.clock.monotonic()
            if delay > 0:
                await self.clock.sleep(delay)
        self.rounds += 1
        if self.failed > failed_before:
            log.warning("lease renewal: %d of %d failed this round", self.failed - failed_before, len(names))

    async def run(self) -> None:
        """Renew forever (until cancelled), one round per ``interval``."""
        while True:
            start = self.clock.monotonic()
            await self.run_round()
            await self.clock.sleep(start + self.interval - self.clock.monotonic())
