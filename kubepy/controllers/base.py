"""The controller loop: informers → keys in a rate-limited queue → ``sync(key)``.

As upstream's controllers (style.md habit 4): event handlers only compute a key and
enqueue it; workers take keys one at a time (the queue never gives one key to two workers),
read desired and actual state from informer caches, write the difference through the API,
and raise to have the key retried with per-key exponential back-off. ``sync`` must be
idempotent: running it again with nothing changed writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from kubepy.client import (
    DeletedFinalStateUnknown,
    RateLimitingQueue,
    ShutDown,
    default_controller_rate_limiter,
    meta_namespace_key,
    object_of,
)
from kubepy.controllers.context import ControllerContext

log = logging.getLogger(__name__)

Obj = dict[str, Any]
MAX_RETRIES_LOGGED = 15


def key_of(obj: Mapping[str, Any] | DeletedFinalStateUnknown) -> str:
    """``namespace/name`` (or ``name`` for cluster-scoped objects)."""
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    return meta_namespace_key(obj)


def controller_ref(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with ``controller: true``, if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


class Controller:
    """Base of every controller; subclasses set NAME, wire informers, implement ``sync``."""

    NAME = "controller"
    WORKERS = 2

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.clock = ctx.clock
        self.recorder = ctx.recorder
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(
            name=self.NAME, rate_limiter=default_controller_rate_limiter(ctx.clock), clock=ctx.clock
        )
        self.log = logging.getLogger(f"kubepy.controllers.{self.NAME}")

    # -- wiring helpers -----------------------------------------------------------------------
    def enqueue(self, obj: Mapping[str, Any] | DeletedFinalStateUnknown) -> None:
        self.queue.add(key_of(obj))

    def enqueue_after(self, obj: Mapping[str, Any], delay: float) -> None:
        self.queue.add_after(key_of(obj), delay)

    def handle_all(self, informer: Any) -> None:
        """Enqueue the object itself on every add, update and delete."""
        informer.add_event_handler(
            on_add=self.enqueue,
            on_update=lambda old, new: self.enqueue(new),
            on_delete=self.enqueue,
        )

    def informers(self) -> list[Any]:
        """Informers this controller needs synced before its workers start."""
        return []

    # -- running --------------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        raise NotImplementedError

    async def run(self, workers: int | None = None) -> None:
        for inf in self.informers():
            await inf.wait_for_sync()
        tasks = [asyncio.create_task(self._worker(), name=f"{self.NAME}-{i}") for i in range(workers or self.WORKERS)]
        try:
            await asyncio.gather(*tasks)
        finally:
            self.queue.shutdown()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.sync(key)
            except asyncio.CancelledError:
                self.queue.done(key)
                raise
            except Exception as e:  # noqa: BLE001 - retried with back-off
                retries = self.queue.num_requeues(key)
                level = logging.INFO if retries < MAX_RETRIES_LOGGED else logging.DEBUG
                self.log.log(level, "error syncing %r (retry %d): %s", key, retries, e,
                             exc_info=self.log.isEnabledFor(logging.DEBUG))
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
            finally:
                self.queue.done(key)


def tombstone_object(obj: Any) -> Obj:
    """The object behind a delete notification (unwrapping DeletedFinalStateUnknown)."""
    out: Obj = object_of(obj)
    return out
