"""The reflector: keeps a store in step with the API server by list, then watch.

Job: ``Reflector.run`` lists a resource (following ``continue`` pages), hands the items to
its store with ``replace(items, resourceVersion)``, then watches from that
resourceVersion and applies each event with ``add``/``update``/``delete``. Bookmarks and
events move its ``last_sync_resource_version``; a watch that ends is resumed from it; a
410 Expired (the server no longer has that history) triggers a relist, first at the last
resourceVersion and, if that too is expired, with it unset (a consistent read), as
client-go's reflector does. Failures back off exponentially on the injected clock.

Design: the reflector only moves data. It talks to the API through a small
``ListerWatcher`` protocol (``ResourceListerWatcher`` adapts ``Client``), so tests feed it
from an in-process fake; and it writes to a ``ReflectorStore`` protocol, which the
informer implements to update its cache and fire handlers.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, Protocol

from kubepy.client.backoff import Backoff
from kubepy.client.clock import REAL_CLOCK, Clock
from kubepy.client.errors import ApiError, is_gone
from kubepy.client.resource import ResourceRef
from kubepy.client.rest import Client
from kubepy.client.watchstream import WatchEvent

__all__ = ["Reflector", "ListerWatcher", "ReflectorStore", "ResourceListerWatcher", "WatchIterator"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class WatchIterator(Protocol):
    """An open watch: async iterator of ``(type, object)``, closable."""

    def __aiter__(self) -> WatchIterator: ...

    async def __anext__(self) -> WatchEvent: ...

    async def aclose(self) -> None: ...


class ListerWatcher(Protocol):
    """Where a reflector reads from. ``list`` returns one page (a ``<Kind>List`` dict);
    ``watch`` returns a watch starting *after* ``resource_version``; both raise ApiError."""

    async def list(self, *, resource_version: str | None, limit: int | None, continue_: str | None) -> Obj: ...

    def watch(self, *, resource_version: str, timeout_seconds: int, allow_watch_bookmarks: bool) -> WatchIterator: ...


class ReflectorStore(Protocol):
    """Where a reflector writes to. Must not raise for handler errors (catch them)."""

    def replace(self, items: list[Obj], resource_version: str) -> None: ...

    def add(self, obj: Obj) -> None: ...

    def update(self, obj: Obj) -> None: ...

    def delete(self, obj: Obj) -> None: ...


class ResourceListerWatcher:
    """List and watch one resource through ``Client`` (optionally one namespace, selectors)."""

    def __init__(
        self, client: Client, ref: ResourceRef, *, namespace: str | None = None,
        label_selector: str | None = None, field_selector: str | None = None,
    ) -> None:
        self.client = client
        self.ref = ref
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector

    async def list(self, *, resource_version: str | None, limit: int | None, continue_: str | None) -> Obj:
        return await self.client.list(
            self.ref, namespace=self.namespace, label_selector=self.label_selector,
            field_selector=self.field_selector, limit=limit, continue_=continue_,
            resource_version=resource_version,
        )

    def watch(self, *, resource_version: str, timeout_seconds: int, allow_watch_bookmarks: bool) -> WatchIterator:
        return self.client.watch(
            self.ref, namespace=self.namespace, label_selector=self.label_selector,
            field_selector=self.field_selector, resource_version=resource_version,
            timeout_seconds=timeout_seconds, allow_watch_bookmarks=allow_watch_bookmarks,
        )


class _RelistNeeded(Exception):
    pass


class Reflector:
    """List-then-watch loop feeding ``store``; ``await run()`` until cancelled."""

    def __init__(
        self,
        lister_watcher: ListerWatcher,
        store: ReflectorStore,
        *,
        name: str = "",
        page_size: int = 500,
        min_watch_timeout: int = 300,
        clock: Clock = REAL_CLOCK,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.lister_watcher = lister_watcher
        self.store = store
        self.name = name or type(lister_watcher).__name__
        self.page_size = page_size
        self.min_watch_timeout = min_watch_timeout
        self._clock = clock
        self._backoff = backoff or Backoff(initial=0.8, cap=30.0, clock=clock)
        self._rng = rng or random.Random()
        #: The resourceVersion the store is known to be in step with ("" before the first list).
        self.last_sync_resource_version = ""
        self._rv_unavailable = False
        #: Completed lists (1 after the initial one; more after relists).
        self.list_count = 0
        self.watch_count = 0

    async def run(self) -> None:
        while True:
            try:
                await self._list()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("%s: list failed: %s", self.name, e)
                await self._backoff.wait()
                continue
            try:
                await self._watch_loop()
            except _RelistNeeded:
                continue

    def _relist_resource_version(self) -> str:
        if self._rv_unavailable:
            return ""
        return self.last_sync_resource_version or "0"

    async def _list(self) -> None:
        rv = self._relist_resource_version()
        try:
            items, list_rv = await self._list_pages(rv)
        except ApiError as e:
            if not is_gone(e) and not _too_large(e):
                raise
            log.info("%s: list at resourceVersion %r expired; listing the latest", self.name, rv)
            self._rv_unavailable = True
            items, list_rv = await self._list_pages("")
        self._rv_unavailable = False
        self.store.replace(items, list_rv)
        self.last_sync_resource_version = list_rv
        self.list_count += 1

    async def _list_pages(self, rv: str) -> tuple[list[Obj], str]:
        items: list[Obj] = []
        cont: str | None = None
        list_rv = ""
        while True:
            page = await self.lister_watcher.list(
                resource_version=None if cont else (rv or None),
                limit=self.page_size or None,
                continue_=cont,
            )
            page_items: list[Obj] = page.get("items") or []
            _fill_type_meta(page, page_items)
            items.extend(page_items)
            meta = page.get("metadata") or {}
            list_rv = str(meta.get("resourceVersion") or list_rv)
            cont = meta.get("continue") or None
            if not cont:
                return items, list_rv

    async def _watch_loop(self) -> None:
        while True:
            started = self._clock.monotonic()
            try:
                received = await self._watch_once()
            except asyncio.CancelledError:
                raise
            except ApiError as e:
                if is_gone(e):
                    log.info("%s: watch expired (%s); relisting", self.name, e.message)
                    raise _RelistNeeded() from e
                log.warning("%s: watch failed: %s; relisting after back-off", self.name, e)
                await self._backoff.wait()
                raise _RelistNeeded() from e
            except Exception as e:
                log.info("%s: watch broke (%r); resuming from %s", self.name, e, self.last_sync_resource_version)
                await self._backoff.wait()
                continue
            if received == 0 and self._clock.monotonic() - started < 1.0:
                # A watch that closes at once with nothing in it: do not spin.
                await self._backoff.wait()
            elif received:
                self._backoff.reset()

    async def _watch_once(self) -> int:
        timeout = self.min_watch_timeout + self._rng.randint(0, self.min_watch_timeout)
        stream = self.lister_watcher.watch(
            resource_version=self.last_sync_resource_version,
            timeout_seconds=timeout,
            allow_watch_bookmarks=True,
        )
        self.watch_count += 1
        received = 0
        try:
            async for kind, obj in stream:
                received += 1
                if kind == "ADDED":
                    self.store.add(obj)
                elif kind == "MODIFIED":
                    self.store.update(obj)
                elif kind == "DELETED":
                    self.store.delete(obj)
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    self.last_sync_resource_version = str(rv)
        finally:
            await stream.aclose()
        return received


def _too_large(e: ApiError) -> bool:
    causes = (e.details.get("causes") or ()) if e.code == 504 else ()
    return any(isinstance(c, dict) and c.get("reason") == "ResourceVersionTooLarge" for c in causes)


def _fill_type_meta(page: Obj, items: list[Obj]) -> None:
    """List items may come without kind/apiVersion (watch events carry them): fill them in from
    the list's own, so every cached object looks the same."""
    list_kind = str(page.get("kind") or "")
    api_version = page.get("apiVersion")
    if not list_kind.endswith("List") or not api_version:
        return
    kind = list_kind[: -len("List")]
    for item in items:
        if "kind" not in item:
            item["kind"] = kind
        if "apiVersion" not in item:
            item["apiVersion"] = api_version
