"""Shared informers: one reflector and one cache per resource, many event handlers.

Job: ``SharedInformer`` runs a ``Reflector`` into an ``Indexer`` and tells registered
handlers what changed: ``on_add(obj)``, ``on_update(old, new)``, ``on_delete(obj)``. After a
relist, objects that vanished while the watch was down are reported to ``on_delete`` as
``DeletedFinalStateUnknown(key, last_known_obj)`` (their real final state was never
seen). ``has_synced``/``wait_for_sync`` tell when the first list is in the cache; a
``resync_period`` re-delivers every cached object as ``on_update(obj, obj)`` so
level-triggered controllers re-check everything now and then. ``InformerFactory`` hands
out one informer per (resource, namespace, label selector, field selector), so every
controller in a process shares one watch and one cache per resource.

Design: as client-go's sharedIndexInformer, minus the DeltaFIFO and per-listener
goroutines: in one asyncio loop the reflector's store calls can update the cache and
call the handlers directly, in order. Handlers are plain functions and must be quick
(controllers only compute a key and enqueue it); an exception in one is logged and does
not stop the others. A handler added to a running informer first gets ``on_add`` for
every cached object. After a relist, ``on_update`` fires only for objects whose
resourceVersion changed (the resync timer covers "tell me everything again").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubepy.client.backoff import Backoff
from kubepy.client.cache import NAMESPACE_INDEX, IndexFunc, Indexer, namespace_index
from kubepy.client.clock import REAL_CLOCK, Clock
from kubepy.client.reflector import ListerWatcher, Reflector, ResourceListerWatcher
from kubepy.client.resource import ResourceRef
from kubepy.client.rest import Client

__all__ = [
    "SharedInformer",
    "InformerFactory",
    "EventHandler",
    "DeletedFinalStateUnknown",
    "object_of",
]

log = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeletedFinalStateUnknown:
    """A deletion noticed by a relist: ``obj`` is the last state the cache had."""

    key: str
    obj: Obj


def object_of(obj: Obj | DeletedFinalStateUnknown) -> Obj:
    """The object in an ``on_delete`` argument, tombstone or not."""
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


AddHandler = Callable[[Obj], None]
UpdateHandler = Callable[[Obj, Obj], None]
DeleteHandler = Callable[[Obj | DeletedFinalStateUnknown], None]


@dataclass(eq=False, slots=True)
class EventHandler:
    """One registration; any of the three callbacks may be None."""

    on_add: AddHandler | None = None
    on_update: UpdateHandler | None = None
    on_delete: DeleteHandler | None = None


def _rv(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class SharedInformer:
    """A cache of one resource kept current by a reflector, with change notifications."""

    def __init__(
        self,
        lister_watcher: ListerWatcher,
        *,
        name: str = "",
        indexers: Mapping[str, IndexFunc] | None = None,
        resync_period: float = 0.0,
        clock: Clock = REAL_CLOCK,
        backoff: Backoff | None = None,
        page_size: int = 500,
        min_watch_timeout: int = 300,
    ) -> None:
        self.name = name or type(lister_watcher).__name__
        self.indexer = Indexer(indexers)
        self.resync_period = resync_period
        self._clock = clock
        self._handlers: list[EventHandler] = []
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reflector = Reflector(
            lister_watcher, _InformerStore(self), name=self.name, page_size=page_size,
            min_watch_timeout=min_watch_timeout, clock=clock, backoff=backoff,
        )

    # -- handlers --------------------------------------------------------------------------

    def add_event_handler(
        self,
        on_add: AddHandler | None = None,
        on_update: UpdateHandler | None = None,
        on_delete: DeleteHandler | None = None,
    ) -> EventHandler:
        """Register callbacks; returns a handle for ``remove_event_handler``. Objects already
        in the cache are delivered to ``on_add`` at once."""
        handler = EventHandler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if on_add is not None:
            for obj in self.indexer.list():
                self._call(on_add, obj)
        return handler

    def remove_event_handler(self, handler: EventHandler) -> None:
        with contextlib.suppress(ValueError):
            self._handlers.remove(handler)

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        self.indexer.add_indexers(indexers)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start list/watch (and resync) in the running loop; no-op if already running."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name=f"informer {self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def run(self) -> None:
        """List/watch until cancelled."""
        if self.resync_period > 0:
            resync = asyncio.get_running_loop().create_task(self._resync_loop())
            try:
                await self.reflector.run()
            finally:
                resync.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await resync
        else:
            await self.reflector.run()

    def has_synced(self) -> bool:
        """True once the first list has been delivered to the cache and the handlers."""
        return self._synced.is_set()

    async def wait_for_sync(self, timeout: float | None = None) -> bool:
        """Wait until ``has_synced()``; False if ``timeout`` (seconds) passes first."""
        if self._synced.is_set():
            return True
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            return False
        return True

    @property
    def last_sync_resource_version(self) -> str:
        return self.reflector.last_sync_resource_version

    async def _resync_loop(self) -> None:
        while True:
            await self._clock.sleep(self.resync_period)
            if self._synced.is_set():
                self.resync()

    def resync(self) -> None:
        """Deliver every cached object to ``on_update(obj, obj)``."""
        for obj in self.indexer.list():
            self._fire_update(obj, obj)

    # -- dispatch --------------------------------------------------------------------------

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("%s: event handler %r failed", self.name, fn)

    def _fire_add(self, obj: Obj) -> None:
        for h in tuple(self._handlers):
            if h.on_add is not None:
                self._call(h.on_add, obj)

    def _fire_update(self, old: Obj, new: Obj) -> None:
        for h in tuple(self._handlers):
            if h.on_update is not None:
                self._call(h.on_update, old, new)

    def _fire_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        for h in tuple(self._handlers):
            if h.on_delete is not None:
                self._call(h.on_delete, obj)


def strip_managed_fields(obj: Obj) -> None:
    """Drop ``metadata.managedFields`` before caching, as client-go's informers are usually
    told to: controllers never read them, and they are a large share of each object."""
    meta = obj.get("metadata")
    if meta is not None and "managedFields" in meta:
        del meta["managedFields"]


class _InformerStore:
    """The reflector's store: updates the informer's cache, then tells its handlers."""

    def __init__(self, informer: SharedInformer) -> None:
        self.informer = informer

    def replace(self, items: list[Obj], resource_version: str) -> None:
        inf = self.informer
        indexer = inf.indexer
        old = dict(indexer.items())
        for item in items:
            strip_managed_fields(item)
        indexer.replace(items)
        for key, obj in indexer.items():
            prev = old.pop(key, None)
            if prev is None:
                inf._fire_add(obj)
            elif _rv(prev) != _rv(obj):
                inf._fire_update(prev, obj)
        for key, gone in old.items():
            inf._fire_delete(DeletedFinalStateUnknown(key, gone))
        inf._synced.set()

    def add(self, obj: Obj) -> None:
        strip_managed_fields(obj)
        prev = self.informer.indexer.add(obj)
        if prev is None:
            self.informer._fire_add(obj)
        else:
            self.informer._fire_update(prev, obj)

    update = add

    def delete(self, obj: Obj) -> None:
        if self.informer.indexer.delete(obj) is not None:
            self.informer._fire_delete(obj)


InformerKey = tuple[ResourceRef, str | None, str | None, str | None]


class InformerFactory:
    """One shared informer per (resource, namespace, label selector, field selector).

    Ask for informers first, then ``start()`` (informers asked for later need another
    ``start()``), then ``await wait_for_sync()``, as with client-go's factory.
    """

    def __init__(
        self, client: Client, *, resync_period: float = 0.0, namespace: str | None = None,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        self.client = client
        self.resync_period = resync_period
        self.namespace = namespace
        self._clock = clock
        self._informers: dict[InformerKey, SharedInformer] = {}

    def informer(
        self,
        ref: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        indexers: Mapping[str, IndexFunc] | None = None,
        resync_period: float | None = None,
    ) -> SharedInformer:
        """The shared informer for this resource view, created on first request. Namespaced
        resources always get the ``namespace`` index; ``indexers`` are added to it. A shorter
        ``resync_period`` than the informer has lowers it (before it starts)."""
        ns = (namespace if namespace is not None else self.namespace) if ref.namespaced else None
        key: InformerKey = (ref, ns or None, label_selector or None, field_selector or None)
        inf = self._informers.get(key)
        wanted = self.resync_period if resync_period is None else resync_period
        if inf is None:
            base: dict[str, IndexFunc] = {NAMESPACE_INDEX: namespace_index} if ref.namespaced else {}
            name = str(ref) + (f" in {ns}" if ns else "") + (f" [{label_selector}]" if label_selector else "") + (
                f" [{field_selector}]" if field_selector else "")
            inf = SharedInformer(
                ResourceListerWatcher(self.client, ref, namespace=ns, label_selector=label_selector,
                                      field_selector=field_selector),
                name=name, indexers=base, resync_period=wanted, clock=self._clock,
            )
            self._informers[key] = inf
        elif wanted > 0 and (inf.resync_period == 0 or wanted < inf.resync_period) and not inf.running:
            inf.resync_period = wanted
        if indexers:
            inf.add_indexers(indexers)
        return inf

    def for_resource(self, api_version: str, plural: str, **kw: Any) -> SharedInformer:
        """``informer`` for a built-in resource named by apiVersion and plural."""
        return self.informer(self.client.resource(api_version, plural), **kw)

    @property
    def informers(self) -> list[SharedInformer]:
        return list(self._informers.values())

    def start(self) -> None:
        for inf in self._informers.values():
            inf.start()

    async def wait_for_sync(self, timeout: float | None = None) -> bool:
        """Wait for every started informer's first list; False on timeout."""
        started = [i for i in self._informers.values() if i.running or i.has_synced()]
        if not started:
            return True
        try:
            await asyncio.wait_for(asyncio.gather(*(i.wait_for_sync() for i in started)), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        await asyncio.gather(*(inf.stop() for inf in self._informers.values()))
