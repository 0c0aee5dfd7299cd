"""The watch cache: current objects and a window of recent events, per resource.

One storage watch on ``/registry/`` feeds every resource's cache in revision order, so
LIST and WATCH are served from memory (upstream's cacher). Each cached object keeps its
JSON encoding, made once and shared by every LIST page and watch event that sends it.

Revisions: ``WatchCache.revision`` is the newest storage revision applied. A consistent
read waits until it reaches the store's current revision. A resource's event window
holds every event of that resource after ``window_start``; a watch from an older
revision gets 410 Expired, as upstream's does.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from kubepy.storage import EventType, Store, WatchEvent
from kubepy.storage.errors import Compacted

log = logging.getLogger(__name__)

WINDOW = 20_000  # events kept per resource for watch resumption
WATCHER_BACKLOG = 50_000  # undelivered events after which a slow watcher is dropped


class CachedObject:
    """One object version: the decoded dict (never mutated) and its JSON bytes."""

    __slots__ = ("key", "obj", "rev", "_raw", "_lines", "_views")

    def __init__(self, key: str, obj: dict[str, Any], rev: int, raw: bytes | None = None) -> None:
        self.key = key
        self.obj = obj
        self.rev = rev
        self._raw = raw
        self._lines: dict[str, bytes] | None = None
        self._views: dict[str, CachedObject] | None = None

    def view(self, name: str, make: Callable[[dict[str, Any]], dict[str, Any]]) -> CachedObject:
        """This object converted for another served version (made once, then shared)."""
        views = self._views
        if views is None:
            views = self._views = {}
        v = views.get(name)
        if v is None:
            v = views[name] = CachedObject(self.key, make(self.obj), self.rev)
        return v

    def event_line(self, kind: str) -> bytes:
        """``{"type":kind,"object":...}\n``, built once and shared by every watcher."""
        lines = self._lines
        if lines is None:
            lines = self._lines = {}
        line = lines.get(kind)
        if line is None:
            line = lines[kind] = b'{"type":"' + kind.encode() + b'","object":' + self.raw + b"}\n"
        return line

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = orjson.dumps(self.obj)
        return self._raw


def decode(key: str, value: bytes, rev: int) -> CachedObject:
    obj = orjson.loads(value)
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    meta["resourceVersion"] = str(rev)
    return CachedObject(key, obj, rev)


class CacheEvent:
    __slots__ = ("type", "cur", "prev", "rev")

    def __init__(self, type: EventType, cur: CachedObject, prev: CachedObject | None, rev: int) -> None:
        self.type = type
        self.cur = cur  # for DELETED: the last state, stamped with the deletion revision
        self.prev = prev
        self.rev = rev


Filter = Callable[[CachedObject], bool]


class Watcher:
    """A client watch: receives (type, object) pairs after filtering by its predicate."""

    __slots__ = ("prefix", "predicate", "pending", "_wake", "closed", "overflowed")

    def __init__(self, prefix: str, predicate: Filter | None) -> None:
        self.prefix = prefix
        self.predicate = predicate
        self.pending: collections.deque[tuple[str, CachedObject]] = collections.deque()
        self._wake: asyncio.Event = asyncio.Event()
        self.closed = False
        self.overflowed = False

    def _match(self, obj: CachedObject | None) -> bool:
        if obj is None or not obj.key.startswith(self.prefix):
            return False
        return self.predicate is None or self.predicate(obj)

    def offer(self, ev: CacheEvent) -> None:
        if self.closed:
            return
        new = self._match(ev.cur) if ev.type is not EventType.DELETED else False
        old = self._match(ev.prev) if ev.type is not EventType.ADDED else False
        if ev.type is EventType.DELETED:
            old = self._match(ev.cur)
        if new and old:
            kind = "MODIFIED"
        elif new:
            kind = "ADDED"
        elif old:
            kind = "DELETED"
        else:
            return
        self.pending.append((kind, ev.cur))
        if len(self.pending) > WATCHER_BACKLOG:
            self.overflowed = True
            self.closed = True
        self._wake.set()

    def push_initial(self, obj: CachedObject) -> None:
        self.pending.append(("ADDED", obj))

    async def next_batch(self, timeout: float | None) -> list[tuple[str, CachedObject]]:
        """Events ready now; waits up to ``timeout`` for the first (empty list on timeout)."""
        if not self.pending and not self.closed:
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        batch = list(self.pending)
        self.pending.clear()
        return batch

    def close(self) -> None:
        self.closed = True
        self._wake.set()


class ResourceCache:
    """Objects and recent events of one storage prefix (one resource)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.objects: dict[str, CachedObject] = {}
        self.events: collections.deque[CacheEvent] = collections.deque()
        self.window_start = 0
        self.watchers: set[Watcher] = set()
        self._sorted: list[str] | None = None
        self.loading: list[CacheEvent] | None = None

    # -- feeding ------------------------------------------------------------------------
    def load(self, items: Iterable[CachedObject], revision: int) -> None:
        for item in items:
            self.objects[item.key] = item
        self._sorted = None
        self.window_start = revision
        buffered, self.loading = self.loading, None
        for ev in buffered or ():
            if ev.rev > revision:
                self.apply(ev)

    def apply(self, ev: CacheEvent) -> None:
        if self.loading is not None:
            self.loading.append(ev)
            return
        if ev.type is EventType.DELETED:
            if self.objects.pop(ev.cur.key, None) is not None:
                self._sorted = None
        else:
            if ev.cur.key not in self.objects:
                self._sorted = None
            self.objects[ev.cur.key] = ev.cur
        self.events.append(ev)
        if len(self.events) > WINDOW:
            self.window_start = self.events.popleft().rev
        for w in list(self.watchers):
            w.offer(ev)
            if w.closed:
                self.watchers.discard(w)

    # -- reading ------------------------------------------------------------------------
    def sorted_keys(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(self.objects)
        return self._sorted

    def snapshot(self, prefix: str, start_after: str | None = None) -> Iterable[CachedObject]:
        """Objects whose key starts with ``prefix`` in key order (after ``start_after``)."""
        keys = self.sorted_keys()
        lo = bisect.bisect_left(keys, prefix)
        if start_after is not None:
            lo = max(lo, bisect.bisect_right(keys, start_after))
        objects = self.objects
        for i in range(lo, len(keys)):
            k = keys[i]
            if not k.startswith(prefix):
                break
            yield objects[k]

    def count(self, prefix: str) -> int:
        if prefix == self.prefix:
            return len(self.objects)
        return sum(1 for _ in self.snapshot(prefix))

    def get(self, key: str) -> CachedObject | None:
        return self.objects.get(key)

    def watch(self, prefix: str, predicate: Filter | None, after: int | None) -> Watcher:
        """Register a watcher; replay events after ``after`` (None: initial ADDED events).

        Raises Compacted when ``after`` is older than this resource's window.
        """
        w = Watcher(prefix, predicate)
        if after is None:
            for obj in self.snapshot(prefix):
                if predicate is None or predicate(obj):
                    w.push_initial(obj)
        else:
            if after < self.window_start:
                raise Compacted(requested=after, compacted=self.window_start)
            revs = [e.rev for e in self.events] if self.events and self.events[0].rev <= after else None
            start = bisect.bisect_right(revs, after) if revs is not None else 0
            for i in range(start, len(self.events)):
                ev = self.events[i]
                if ev.rev > after:
                    w.offer(ev)
        self.watchers.add(w)
        return w

    def stop(self, w: Watcher) -> None:
        w.close()
        self.watchers.discard(w)


class WatchCache:
    """All resource caches, fed by one storage watch."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.caches: dict[str, ResourceCache] = {}
        self.revision = 0
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Condition()
        self._ready = asyncio.Event()
        #: id(value bytes) -> (bytes, dict): objects the API server just encoded for a write,
        #: so the cache need not decode them again when the write's event arrives
        self._hints: dict[int, tuple[bytes, dict[str, Any]]] = {}

    def hint(self, value: bytes, obj: dict[str, Any]) -> None:
        """Offer the decoded form of a value about to be written (read-only from now on)."""
        self._hints[id(value)] = (value, obj)

    def drop_hint(self, value: bytes) -> None:
        self._hints.pop(id(value), None)

    async def start(self, prefixes: Iterable[str]) -> None:
        for p in prefixes:
            self.caches.setdefault(p, ResourceCache(p))
        result = await self.store.list("/registry/")
        rev = result.revision
        grouped: dict[str, list[CachedObject]] = {}
        for kv in result.items:
            cache = self._cache_for_key(kv.key)
            if cache is not None:
                grouped.setdefault(cache.prefix, []).append(decode(kv.key, kv.value, kv.mod_revision))
        for p, cache in self.caches.items():
            cache.load(grouped.get(p, ()), rev)
        self.revision = rev
        self._task = asyncio.create_task(self._run(rev), name="watchcache")
        self._ready.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for cache in self.caches.values():
            for w in list(cache.watchers):
                cache.stop(w)

    async def ensure(self, prefix: str) -> ResourceCache:
        """The cache of a prefix, created and loaded on first use (custom resources)."""
        cache = self.caches.get(prefix)
        if cache is not None:
            return cache
        cache = ResourceCache(prefix)
        cache.loading = []
        self.caches[prefix] = cache
        rev = self.revision
        result = await self.store.list(prefix, revision=rev)
        cache.load((decode(kv.key, kv.value, kv.mod_revision) for kv in result.items), rev)
        return cache

    def drop(self, prefix: str) -> None:
        cache = self.caches.pop(prefix, None)
        if cache is not None:
            for w in list(cache.watchers):
                cache.stop(w)

    def _cache_for_key(self, key: str) -> ResourceCache | None:
        # /registry/<res>/... or /registry/<group>/<res>/...
        i = key.find("/", 10)
        if i < 0:
            return None
        cache = self.caches.get(key[: i + 1])
        if cache is not None:
            return cache
        j = key.find("/", i + 1)
        if j < 0:
            return None
        return self.caches.get(key[: j + 1])

    async def _run(self, rev: int) -> None:
        while True:
            try:
                async for ev in self.store.watch("/registry/", rev):
                    self._apply(ev)
                    rev = ev.revision
            except asyncio.CancelledError:
                raise
            except Exception:  # pragma: no cover - store failure; retry
                log.exception("watch cache: storage watch failed; restarting")
                await asyncio.sleep(0.5)

    def _apply(self, ev: WatchEvent) -> None:
        cache = self._cache_for_key(ev.key)
        hint = self._hints.pop(id(ev.value), None) if self._hints else None
        if cache is not None:
            if hint is not None and hint[0] is ev.value and ev.type is not EventType.DELETED:
                obj = hint[1]
                obj["metadata"]["resourceVersion"] = str(ev.revision)
                cur = CachedObject(ev.key, obj, ev.revision)
            else:
                cur = decode(ev.key, ev.value, ev.revision)
            prev = None
            if ev.prev_value is not None and ev.type is EventType.MODIFIED:
                old = cache.objects.get(ev.key)
                prev = old if old is not None else decode(ev.key, ev.prev_value, 0)
            elif ev.type is EventType.DELETED:
                prev = cache.objects.get(ev.key)
            cache.apply(CacheEvent(ev.type, cur, prev, ev.revision))
        self.revision = ev.revision
        if self._waiters:
            self._notify()

    _waiters = 0

    def _notify(self) -> None:
        async def notify() -> None:
            async with self._progress:
                self._progress.notify_all()

        asyncio.get_running_loop().create_task(notify())

    async def wait_for(self, revision: int, timeout: float = 3.0) -> bool:
        """Wait until events up to ``revision`` are applied; False on timeout."""
        if self.revision >= revision:
            return True
        self._waiters += 1
        try:
            async with self._progress:
                return await asyncio.wait_for(
                    self._progress.wait_for(lambda: self.revision >= revision), timeout
                )
        except asyncio.TimeoutError:
            return False
        finally:
            self._waiters -= 1

    async def wait_fresh(self) -> None:
        """Consistent read: catch up with the store's current revision."""
        await self.wait_for(self.store.current_revision(), timeout=10.0)
