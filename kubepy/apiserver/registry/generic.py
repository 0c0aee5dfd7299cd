"""Generic REST storage for one resource: create, update, patch, delete over the Store.

What upstream's ``genericregistry.Store`` does: object metadata bookkeeping (uid,
creationTimestamp, generateName, resourceVersion from the storage revision), the
strategy hooks, admission, validation, optimistic concurrency (compare-and-swap on the
revision, retried when the client gave no resourceVersion), graceful deletion,
finalizers and the propagation-policy finalizers the garbage collector acts on.
Reads come from the watch cache; writes go to the store.
"""

from __future__ import annotations

import functools
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson

from kubepy.api import conversion
from kubepy.api.naming import random_suffix
from kubepy.api.resources import ResourceInfo
from kubepy.apiserver import errors
from kubepy.apiserver.admission import Attributes, Chain
from kubepy.apiserver.authn import UserInfo
from kubepy.apiserver.registry.fieldmanager import FieldManager
from kubepy.apiserver.registry.strategy import Obj, Strategy
from kubepy.apiserver.watchcache import CachedObject, ResourceCache, WatchCache
from kubepy.storage import Store
from kubepy.storage.errors import Conflict, KeyExists, KeyNotFound

MAX_RETRIES = 8
GC_FINALIZERS = ("orphan", "foregroundDeletion")


@functools.lru_cache(maxsize=64)
def _rfc3339_second(second: int) -> str:
    return datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339(ts: float) -> str:
    """metav1.Time on the wire: RFC 3339 in UTC with whole seconds."""
    return _rfc3339_second(int(ts))


class _UIDs:
    """UUIDv4 strings from a pooled os.urandom buffer: one syscall per 256 objects."""

    def __init__(self) -> None:
        self._pool = b""
        self._next = 0

    def __call__(self) -> str:
        if self._next >= len(self._pool):
            self._pool, self._next = os.urandom(16 * 256), 0
        raw = self._pool[self._next : self._next + 16]
        self._next += 16
        return str(uuid.UUID(bytes=raw, version=4))


new_uid = _UIDs()


def copy_obj(cached: CachedObject) -> Obj:
    """A private deep copy of a cached object (JSON round trip is the fastest deep copy)."""
    obj: Obj = orjson.loads(cached.raw)
    return obj


@dataclass(slots=True)
class WriteOptions:
    user: UserInfo | None = None
    dry_run: bool = False
    #: the request's fieldManager, or the one upstream derives from the User-Agent
    field_manager: str = ""
    warnings: list[str] = field(default_factory=list)
    #: the write is a server-side apply: managedFields were computed by the apply itself
    applied: bool = False


class ResourceStore:
    """CRUD for one ResourceInfo."""

    def __init__(
        self,
        info: ResourceInfo,
        *,
        store: Store,
        cache: WatchCache,
        strategy: Strategy,
        admission: Chain,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.info = info
        self.store = store
        self.watch_cache = cache
        self.strategy = strategy
        self.admission = admission
        self.clock = clock
        self.converter = conversion.converter_for(info.group, info.version, info.kind)
        self.fields = FieldManager(info)

    def present(self, cached: CachedObject) -> CachedObject:
        """A cached (stored-form) object as this resource serves it."""
        if self.converter is None:
            return cached
        return cached.view(self.info.api_version, self.converter.from_storage)

    def _encode(self, obj: Obj) -> tuple[bytes, Obj]:
        """The stored form of a served object, encoded, and its dict (for the cache)."""
        stored = obj if self.converter is None else self.converter.to_storage(obj)
        return orjson.dumps(stored), stored

    @property
    def cache(self) -> ResourceCache:
        return self.watch_cache.caches[self.info.key_prefix()]

    def key(self, namespace: str, name: str) -> str:
        return self.info.key(namespace if self.info.namespaced else None, name)

    # -- reads ----------------------------------------------------------------------------
    async def current(self, namespace: str, name: str, *, fresh: bool = True) -> CachedObject | None:
        if fresh:
            await self.watch_cache.wait_fresh()
        cur = self.cache.get(self.key(namespace, name))
        return None if cur is None else self.present(cur)

    async def get(self, namespace: str, name: str) -> CachedObject:
        cur = await self.current(namespace, name)
        if cur is None:
            raise self.not_found(name)
        return cur

    def not_found(self, name: str) -> errors.StatusError:
        return errors.not_found(self.info.plural, self.info.group, name)

    async def _latest(self, key: str, attempt: int) -> CachedObject | None:
        """The current version: the cache first, the store itself after a conflict."""
        if attempt == 0:
            await self.watch_cache.wait_fresh()
            cur = self.cache.get(key)
            return None if cur is None else self.present(cur)
        kv = await self.store.get(key)
        if kv is None:
            return None
        from kubepy.apiserver.watchcache import decode

        return self.present(decode(key, kv.value, kv.mod_revision))

    # -- create ---------------------------------------------------------------------------
    async def create(self, namespace: str, obj: Obj, opts: WriteOptions) -> Obj:
        info = self.info
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        obj["apiVersion"], obj["kind"] = info.api_version, info.kind
        if info.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        for f in ("resourceVersion", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(f, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = rfc3339(self.clock())
        self.strategy.prepare_for_create(obj)
        if not opts.applied:
            obj = self.fields.track(None, obj, manager=opts.field_manager, subresource="",
                                    now=meta["creationTimestamp"])
            meta = obj["metadata"]
        generated = not meta.get("name") and bool(meta.get("generateName"))
        if generated:
            meta["name"] = meta["generateName"] + random_suffix()
        attrs = Attributes("CREATE", info, namespace, meta.get("name", ""), obj, None, opts.user, dry_run=opts.dry_run)
        await self.admission.run_mutating(attrs)
        errs = self.strategy.validate_create(obj)
        if errs:
            raise errors.invalid(info.kind, info.group, meta.get("name", ""), errs)
        await self.admission.run_validating(attrs)
        name = meta["name"]
        for attempt in range(MAX_RETRIES):
            if opts.dry_run:
                if self.cache.get(self.key(namespace, name)) is not None:
                    raise errors.already_exists(info.plural, info.group, name)
                return obj
            value, stored = self._encode(obj)
            self.watch_cache.hint(value, stored)
            try:
                rev = await self.store.create(self.key(namespace, name), value)
            except KeyExists:
                if generated and attempt + 1 < MAX_RETRIES:
                    name = meta["name"] = meta["generateName"] + random_suffix()
                    continue
                raise errors.already_exists(info.plural, info.group, name) from None
            finally:
                self.watch_cache.drop_hint(value)
            meta["resourceVersion"] = str(rev)
            return obj
        raise errors.internal("unreachable")  # pragma: no cover

    # -- update ---------------------------------------------------------------------------
    async def update(
        self,
        namespace: str,
        name: str,
        obj: Obj,
        opts: WriteOptions,
        *,
        subresource: str = "",
    ) -> tuple[Obj, bool]:
        """Replace an object (PUT); returns (object, created)."""
        key = self.key(namespace, name)
        for attempt in range(MAX_RETRIES):
            cur = await self._latest(key, attempt)
            if cur is None:
                if self.info.allow_create_on_update and not subresource:
                    obj.setdefault("metadata", {})["name"] = name
                    return await self.create(namespace, obj, opts), True
                raise self.not_found(name)
            new = obj if attempt == 0 else orjson.loads(orjson.dumps(obj))
            try:
                return await self._update_from(cur, new, opts, subresource=subresource, precondition=True), False
            except _Retry:
                continue
        raise errors.stale(self.info.plural, self.info.group, name)

    async def patch(
        self,
        namespace: str,
        name: str,
        mutate: Callable[[Obj], Obj],
        opts: WriteOptions,
        *,
        subresource: str = "",
    ) -> Obj:
        """Apply ``mutate`` (a patch) to the current object and write it, retrying on conflict."""
        key = self.key(namespace, name)
        for attempt in range(MAX_RETRIES):
            cur = await self._latest(key, attempt)
            if cur is None:
                raise self.not_found(name)
            new = mutate(copy_obj(cur))
            meta = new.get("metadata")
            # the copy carries the version it was read at: that is not a client precondition,
            # so a lost race is retried on a fresh read (a patch naming another version is not)
            copied = isinstance(meta, dict) and meta.get("resourceVersion") == cur.obj["metadata"].get(
                "resourceVersion")
            try:
                return await self._update_from(cur, new, opts, subresource=subresource, precondition=not copied)
            except _Retry:
                continue
        raise errors.stale(self.info.plural, self.info.group, name)

    async def _update_from(
        self, cur: CachedObject, new: Obj, opts: WriteOptions, *, subresource: str, precondition: bool
    ) -> Obj:
        info = self.info
        old = cur.obj
        old_meta = old["metadata"]
        name = old_meta["name"]
        if not isinstance(new.get("metadata"), dict):
            new["metadata"] = {}
        meta = new["metadata"]
        body_name = meta.get("name")
        if body_name and body_name != name:
            raise errors.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({name})"
            )
        if info.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and body_ns != old_meta.get("namespace"):
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
        rv = meta.get("resourceVersion")
        if rv and rv != old_meta.get("resourceVersion"):
            raise errors.stale(info.plural, info.group, name)
        conditional = bool(rv) and precondition
        new["apiVersion"], new["kind"] = info.api_version, info.kind
        meta["name"] = name
        if info.namespaced:
            meta["namespace"] = old_meta["namespace"]
        for f in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if f == "uid" and meta.get("uid") and meta["uid"] != old_meta.get("uid"):
                continue  # validation reports the immutable uid
            if f in old_meta:
                meta[f] = old_meta[f]
            else:
                meta.pop(f, None)
        if "managedFields" not in meta and "managedFields" in old_meta:
            meta["managedFields"] = old_meta["managedFields"]
        meta.pop("selfLink", None)
        if not opts.applied:
            new = self.fields.track(old, new, manager=opts.field_manager, subresource=subresource,
                                    now=rfc3339(self.clock()))
            meta = new["metadata"]
        if subresource == "status":
            self.strategy.prepare_for_status_update(new, old)
        elif subresource:
            self.strategy.prepare_for_subresource_update(subresource, new, old)
        else:
            self.strategy.prepare_for_update(new, old)
        attrs = Attributes("UPDATE", info, old_meta.get("namespace", ""), name, new, old, opts.user,
                           subresource=subresource, dry_run=opts.dry_run)
        await self.admission.run_mutating(attrs)
        if subresource == "status":
            errs = self.strategy.validate_status_update(new, old)
        elif subresource == "binding":
            errs = []  # the binding handler made a checked, server-side change
        else:
            errs = self.strategy.validate_update(new, old)
        if errs:
            raise errors.invalid(info.kind, info.group, name, errs)
        await self.admission.run_validating(attrs)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if new == old:
            return copy_obj(cur)  # no-op writes keep the resourceVersion, as upstream
        del meta["resourceVersion"]
        if opts.dry_run:
            meta["resourceVersion"] = old_meta["resourceVersion"]
            return new
        key = cur.key
        value = b""
        try:
            if meta.get("deletionTimestamp") and not meta.get("finalizers") and self._deletion_done(new):
                rev = await self.store.delete(key, expected_mod_revision=cur.rev)
            else:
                value, stored = self._encode(new)
                self.watch_cache.hint(value, stored)
                rev = await self.store.update(key, value, expected_mod_revision=cur.rev)
        except Conflict:
            if conditional:
                raise errors.stale(info.plural, info.group, name) from None
            raise _Retry() from None
        except KeyNotFound:
            raise self.not_found(name) from None
        finally:
            self.watch_cache.drop_hint(value)
        meta["resourceVersion"] = str(rev)
        return new

    def _deletion_done(self, obj: Obj) -> bool:
        """After the last finalizer goes, a deleting object is removed (unless still in grace)."""
        grace = obj["metadata"].get("deletionGracePeriodSeconds")
        if self.info.group == "" and self.info.plural == "namespaces":
            return not (obj.get("spec") or {}).get("finalizers")
        return not grace

    # -- delete ---------------------------------------------------------------------------
    async def delete(self, namespace: str, name: str, options: Obj, opts: WriteOptions) -> tuple[Obj, bool]:
        """DELETE; returns (object, deleted_now). ``options`` is a DeleteOptions dict."""
        info = self.info
        key = self.key(namespace, name)
        for attempt in range(MAX_RETRIES):
            cur = await self._latest(key, attempt)
            if cur is None:
                raise self.not_found(name)
            obj = copy_obj(cur)
            meta = obj["metadata"]
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != meta.get("uid"):
                raise errors.conflict(
                    info.plural, info.group, name,
                    f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}",
                )
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
                raise errors.conflict(
                    info.plural, info.group, name,
                    "Precondition failed: ResourceVersion in precondition: "
                    f"{pre['resourceVersion']}, ResourceVersion in object meta: {meta.get('resourceVersion')}",
                )
            attrs = Attributes("DELETE", info, namespace, name, None, cur.obj, opts.user, dry_run=opts.dry_run)
            await self.admission.run_mutating(attrs)
            await self.admission.run_validating(attrs)
            now = self.clock()
            changed = self._apply_propagation(obj, options)
            if self.strategy.delete_in_place(obj, rfc3339(now)):
                try:
                    return await self._write_deleting(cur, obj, opts), False
                except _Retry:
                    continue
            requested = options.get("gracePeriodSeconds")
            grace = self.strategy.grace_period(obj, int(requested) if requested is not None else None)
            pending = meta.get("deletionTimestamp")
            if grace > 0:
                current_grace = meta.get("deletionGracePeriodSeconds")
                if pending and current_grace is not None and current_grace <= grace and not changed:
                    return obj, False  # already deleting at least as fast
                meta["deletionTimestamp"] = rfc3339(now + grace)
                meta["deletionGracePeriodSeconds"] = grace
                try:
                    return await self._write_deleting(cur, obj, opts), False
                except _Retry:
                    continue
            if meta.get("finalizers"):
                if not pending:
                    meta["deletionTimestamp"] = rfc3339(now)
                    meta["deletionGracePeriodSeconds"] = 0
                elif not changed and meta.get("deletionGracePeriodSeconds") in (0, None):
                    return obj, False
                else:
                    meta["deletionGracePeriodSeconds"] = 0
                try:
                    return await self._write_deleting(cur, obj, opts), False
                except _Retry:
                    continue
            if opts.dry_run:
                return obj, True
            try:
                rev = await self.store.delete(key, expected_mod_revision=cur.rev)
            except Conflict:
                continue
            except KeyNotFound:
                raise self.not_found(name) from None
            meta["resourceVersion"] = str(rev)
            return obj, True
        raise errors.stale(info.plural, info.group, name)

    def _apply_propagation(self, obj: Obj, options: Obj) -> bool:
        """Add/remove the GC finalizers a propagation policy asks for; True if changed."""
        policy = options.get("propagationPolicy")
        orphan = options.get("orphanDependents")
        if policy is None and orphan is not None:
            policy = "Orphan" if orphan else "Background"
        if policy is None:
            return False
        meta = obj["metadata"]
        fins = list(meta.get("finalizers") or ())
        before = list(fins)
        fins = [f for f in fins if f not in GC_FINALIZERS]
        if policy == "Orphan":
            fins.append("orphan")
        elif policy == "Foreground":
            fins.append("foregroundDeletion")
        if fins == before:
            return False
        if fins:
            meta["finalizers"] = fins
        else:
            meta.pop("finalizers", None)
        return True

    async def _write_deleting(self, cur: CachedObject, obj: Obj, opts: WriteOptions) -> Obj:
        if opts.dry_run:
            return obj
        meta = obj["metadata"]
        meta.pop("resourceVersion", None)
        try:
            rev = await self.store.update(cur.key, self._encode(obj)[0], expected_mod_revision=cur.rev)
        except Conflict:
            raise _Retry() from None
        except KeyNotFound:
            raise self.not_found(meta["name"]) from None
        meta["resourceVersion"] = str(rev)
        return obj


class _Retry(Exception):
    """Internal: the compare-and-swap lost a race; read again and retry."""
