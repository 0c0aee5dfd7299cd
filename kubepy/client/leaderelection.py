"""Leader election on a coordination.k8s.io/v1 Lease, so several copies run and one acts.

Job: ``LeaderElector.run()`` tries every ``retry_period`` to take the Lease
``<namespace>/<name>``; once it holds it, it starts ``on_started_leading()`` as a task and
renews the Lease every ``retry_period``. If it cannot renew for ``renew_deadline`` it has
lost leadership: the leading task is cancelled, ``on_stopped_leading()`` is called and
``run()`` returns (callers usually exit, as upstream components do). Cancelling ``run()``
releases the Lease (clears ``holderIdentity``) when ``release_on_cancel`` is set, so
another candidate takes over at once instead of waiting ``lease_duration``.
``on_new_leader(identity)`` reports every change of holder observed.

Design: client-go's algorithm (tryAcquireOrRenew) over the public API only: read the
Lease; a Lease held by someone else counts as expired when its record has not changed for
``leaseDurationSeconds`` *as measured by our own monotonic clock since we first saw that
record* (so clocks of different machines never need to agree); writes are optimistic
(PUT with the read resourceVersion; a Conflict just means someone else won this round).
Timings default to upstream's: lease 15 s, renew deadline 10 s, retry 2 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from kubepy.client.clock import REAL_CLOCK, Clock
from kubepy.client.errors import ApiError, is_already_exists, is_not_found
from kubepy.client.resource import ResourceRef

__all__ = ["LeaderElector", "LeaderElectionConfig", "LeaseAPI", "LEASES", "micro_time", "JITTER_FACTOR"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]
LEASES = ResourceRef("coordination.k8s.io", "v1", "leases", True)
JITTER_FACTOR = 1.2


class LeaseAPI(Protocol):
    """The three calls an elector makes (``Client`` provides them; tests pass a fake)."""

    async def get(self, ref: ResourceRef, name: str, *, namespace: str | None = None) -> Obj: ...

    async def create(self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None) -> Obj: ...

    async def update(self, ref: ResourceRef, obj: Mapping[str, Any], *, namespace: str | None = None) -> Obj: ...


def micro_time(epoch_seconds: float) -> str:
    """MicroTime as the API writes it: ``2024-05-01T10:00:00.123456Z``."""
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, kw_only=True)
class LeaderElectionConfig:
    name: str
    namespace: str = "kube-system"
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        if not self.identity:
            raise ValueError("leader election needs a non-empty identity")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError("renew_deadline must be greater than retry_period * 1.2")


class LeaderElector:
    def __init__(
        self,
        client: LeaseAPI,
        config: LeaderElectionConfig,
        *,
        on_started_leading: Callable[[], Awaitable[None]],
        on_stopped_leading: Callable[[], None] | None = None,
        on_new_leader: Callable[[str], None] | None = None,
        clock: Clock = REAL_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.on_new_leader = on_new_leader
        self._clock = clock
        self._rng = rng or random.Random()
        self._observed: Obj | None = None  # the Lease spec last seen
        self._observed_rv = ""
        self._observed_time = 0.0  # our monotonic time when that spec was first seen
        self._reported_leader: str | None = None
        self._leading = False

    # -- state -----------------------------------------------------------------------------

    def is_leader(self) -> bool:
        return self._leading

    @property
    def leader(self) -> str:
        """The holder identity last observed ("" if none)."""
        return str((self._observed or {}).get("holderIdentity") or "")

    # -- main loop -------------------------------------------------------------------------

    async def run(self) -> None:
        """Acquire, lead until leadership is lost (then return), release when cancelled."""
        cfg = self.config
        lead_task: asyncio.Task[None] | None = None
        try:
            await self._acquire()
            self._leading = True
            log.info("%s: became leader of lease %s/%s", cfg.identity, cfg.namespace, cfg.name)
            lead_task = asyncio.get_running_loop().create_task(self._lead(), name=f"leading {cfg.name}")
            await self._renew_loop(lead_task)
        finally:
            was_leading = self._leading
            self._leading = False
            if lead_task is not None and not lead_task.done():
                lead_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await lead_task
            if was_leading:
                if cfg.release_on_cancel:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(self._release())
                if self.on_stopped_leading is not None:
                    try:
                        self.on_stopped_leading()
                    except Exception:
                        log.exception("on_stopped_leading failed")

    async def _lead(self) -> None:
        try:
            await self.on_started_leading()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: on_started_leading failed", self.config.identity)

    async def _acquire(self) -> None:
        while True:
            if await self._try(self.config.retry_period):
                return
            await self._clock.sleep(self._jittered(self.config.retry_period))

    async def _renew_loop(self, lead_task: asyncio.Task[None]) -> None:
        cfg = self.config
        while True:
            deadline = self._clock.monotonic() + cfg.renew_deadline
            renewed = False
            while self._clock.monotonic() < deadline:
                remaining = deadline - self._clock.monotonic()
                if await self._try(min(remaining, cfg.retry_period)):
                    renewed = True
                    break
                if self._observed is not None and self.leader and self.leader != cfg.identity:
                    break  # someone else holds it now: no point retrying
                await self._clock.sleep(min(cfg.retry_period, max(0.0, deadline - self._clock.monotonic())))
            if not renewed:
                log.warning("%s: failed to renew lease %s/%s; leadership lost", cfg.identity, cfg.namespace, cfg.name)
                return
            await self._clock.sleep(cfg.retry_period)

    def _jittered(self, period: float) -> float:
        return period * (1.0 + self._rng.random() * (JITTER_FACTOR - 1.0 if JITTER_FACTOR > 1 else 0.0))

    # -- one attempt -----------------------------------------------------------------------

    async def _try(self, timeout: float) -> bool:
        """One tryAcquireOrRenew; False on any failure (logged), never raises."""
        try:
            return await asyncio.wait_for(self._try_acquire_or_renew(), max(timeout, 0.05))
        except (ApiError, OSError, TimeoutError) as e:
            log.info("%s: lease attempt failed: %s", self.config.identity, e)
            return False
        except Exception as e:  # aiohttp errors and the like
            log.info("%s: lease attempt failed: %r", self.config.identity, e)
            return False

    def _record(self, *, acquire_time: str, transitions: int) -> Obj:
        cfg = self.config
        return {
            "holderIdentity": cfg.identity,
            "leaseDurationSeconds": max(1, round(cfg.lease_duration)),
            "acquireTime": acquire_time,
            "renewTime": micro_time(self._clock.time()),
            "leaseTransitions": transitions,
        }

    async def _try_acquire_or_renew(self) -> bool:
        cfg = self.config
        now = micro_time(self._clock.time())
        try:
            lease = await self.client.get(LEASES, cfg.name, namespace=cfg.namespace)
        except ApiError as e:
            if not is_not_found(e):
                raise
            spec = self._record(acquire_time=now, transitions=0)
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": cfg.name, "namespace": cfg.namespace},
                "spec": spec,
            }
            try:
                created = await self.client.create(LEASES, body, namespace=cfg.namespace)
            except ApiError as e2:
                if is_already_exists(e2):
                    return False
                raise
            self._observe(created)
            return True

        old: Obj = lease.get("spec") or {}
        self._observe(lease)
        holder = str(old.get("holderIdentity") or "")
        if holder and holder != cfg.identity:
            duration = old.get("leaseDurationSeconds") or cfg.lease_duration
            if self._observed_time + float(duration) > self._clock.monotonic():
                return False  # held by someone else and not expired
        if holder == cfg.identity:
            spec = self._record(acquire_time=str(old.get("acquireTime") or now),
                                transitions=int(old.get("leaseTransitions") or 0))
        else:
            spec = self._record(acquire_time=now, transitions=int(old.get("leaseTransitions") or 0) + 1)
        updated = dict(lease)
        updated["spec"] = spec
        try:
            result = await self.client.update(LEASES, updated, namespace=cfg.namespace)
        except ApiError as e:
            if e.code == 409:
                return False
            raise
        self._observe(result)
        return True

    def _observe(self, lease: Obj) -> None:
        spec: Obj = lease.get("spec") or {}
        if spec != self._observed:
            self._observed = dict(spec)
            self._observed_time = self._clock.monotonic()
        self._observed_rv = str((lease.get("metadata") or {}).get("resourceVersion") or "")
        holder = str(spec.get("holderIdentity") or "")
        if holder != self._reported_leader:
            self._reported_leader = holder
            if holder and self.on_new_leader is not None:
                try:
                    self.on_new_leader(holder)
                except Exception:
                    log.exception("on_new_leader failed")

    async def _release(self) -> None:
        """Give the Lease up (only if we still hold it): holder cleared, 1 s duration."""
        cfg = self.config
        lease = await self.client.get(LEASES, cfg.name, namespace=cfg.namespace)
        spec: Obj = lease.get("spec") or {}
        if spec.get("holderIdentity") != cfg.identity:
            return
        now = micro_time(self._clock.time())
        updated = dict(lease)
        updated["spec"] = {
            "leaseDurationSeconds": 1,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": int(spec.get("leaseTransitions") or 0),
        }
        await asyncio.wait_for(self.client.update(LEASES, updated, namespace=cfg.namespace), cfg.renew_deadline)
        log.info("%s: released lease %s/%s", cfg.identity, cfg.namespace, cfg.name)
