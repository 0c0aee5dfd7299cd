"""The CRD controller inside the API server: names, establishing, serving and cleanup.

Upstream's apiextensions-apiserver runs several controllers on CRD informers; this one
loop does their jobs in order for each changed CRD (keys from a watch on the CRD cache,
deduplicated, one at a time):

1. naming (``NamingConditionController``): the requested plural, singular, short names,
   kind and list kind are accepted unless another CRD of the same group already uses
   them; the result goes to ``status.acceptedNames`` and the ``NamesAccepted`` condition
   (reasons ``NoConflicts`` / ``PluralConflict`` / ``SingularConflict`` /
   ``ShortNamesConflict`` / ``KindConflict`` / ``ListKindConflict``);
2. serving: the served versions are registered (``serving.Serving``) *before* the
   ``Established`` condition is written, so a client that waited for it can use the API;
3. establishing: ``Established=True`` (``InitialNamesAccepted``);
4. finalizing (``CRDFinalizer``): a CRD with a deletionTimestamp gets ``Terminating``,
   stops accepting creates, has all its custom resources deleted (their own finalizers
   are honoured: the CRD waits, re-checking every ``recheck`` seconds), then loses the
   ``customresourcecleanup.apiextensions.k8s.io`` finalizer and goes away, and its
   resources are unregistered.

``start()`` does one full pass over the stored CRDs before returning, so the API server
reports ready only once existing custom resources are served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from kubepy.api.crd import definition
from kubepy.apiserver import errors
from kubepy.apiserver.crds.serving import Serving
from kubepy.apiserver.registry.generic import ResourceStore, WriteOptions
from kubepy.apiserver.watchcache import Watcher

if TYPE_CHECKING:
    from kubepy.apiserver.server import APIServer

log = logging.getLogger(__name__)

__all__ = ["CRDController", "compute_names"]

Obj = dict[str, Any]
MANAGER = "kube-apiserver"


def _names_of(accepted: Obj) -> tuple[set[str], set[str]]:
    resources = {accepted.get("plural", ""), accepted.get("singular", ""), *(accepted.get("shortNames") or ())}
    kinds = {accepted.get("kind", ""), accepted.get("listKind", "")}
    return {r for r in resources if r}, {k for k in kinds if k}


def compute_names(crd: Obj, others: list[Obj]) -> tuple[Obj, Obj]:
    """(new acceptedNames, NamesAccepted condition) of ``crd`` given the other CRDs."""
    spec = crd.get("spec") or {}
    group = spec.get("group")
    requested: Obj = dict(spec.get("names") or {})
    accepted: Obj = dict((crd.get("status") or {}).get("acceptedNames") or {})
    used_resources: set[str] = set()
    used_kinds: set[str] = set()
    for other in others:
        if (other.get("spec") or {}).get("group") != group:
            continue
        res, kinds = _names_of((other.get("status") or {}).get("acceptedNames") or {})
        used_resources |= res
        used_kinds |= kinds
    new = dict(accepted)
    cond: Obj = {"type": "NamesAccepted", "status": "Unknown"}

    def conflict(reason: str, message: str) -> None:
        cond.update(status="False", reason=reason, message=message)

    for key, reason, used in (("plural", "PluralConflict", used_resources),
                              ("singular", "SingularConflict", used_resources)):
        want = requested.get(key, "")
        if want != accepted.get(key) and want in used:
            conflict(reason, f'"{want}" is already in use')
        else:
            new[key] = want
    shorts = list(requested.get("shortNames") or ())
    if shorts != list(accepted.get("shortNames") or ()):
        taken = [s for s in shorts if s in used_resources and s not in (accepted.get("shortNames") or ())]
        if taken:
            conflict("ShortNamesConflict", f'"{taken[0]}" is already in use')
        else:
            new["shortNames"] = shorts
    if not shorts:
        new.pop("shortNames", None)
    for key, reason in (("kind", "KindConflict"), ("listKind", "ListKindConflict")):
        want = requested.get(key, "")
        if want != accepted.get(key) and want in used_kinds:
            conflict(reason, f'"{want}" is already in use')
        else:
            new[key] = want
    cats = list(requested.get("categories") or ())
    if cats:
        new["categories"] = cats
    else:
        new.pop("categories", None)
    if cond["status"] == "Unknown":
        cond.update(status="True", reason="NoConflicts", message="no conflicts found")
    return new, cond


def _set_condition(status: Obj, cond: Obj, now: str) -> bool:
    """Put ``cond`` into ``status.conditions``; True if anything changed."""
    conds: list[Obj] = list(status.get("conditions") or ())
    for i, c in enumerate(conds):
        if c.get("type") == cond["type"]:
            if all(c.get(k) == cond.get(k) for k in ("status", "reason", "message")):
                return False
            new = dict(cond)
            new["lastTransitionTime"] = now if c.get("status") != cond["status"] else c.get("lastTransitionTime", now)
            conds[i] = new
            status["conditions"] = conds
            return True
    conds.append({**cond, "lastTransitionTime": now})
    status["conditions"] = conds
    return True


class CRDController:
    def __init__(self, server: APIServer, *, recheck: float = 0.5) -> None:
        self.server = server
        self.serving = Serving(server)
        self.recheck = recheck
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._watcher: Watcher | None = None
        self._later: dict[str, asyncio.TimerHandle] = {}

    # -- plumbing ---------------------------------------------------------------------
    @property
    def store(self) -> ResourceStore:
        return self.server.stores[("apiextensions.k8s.io", "v1", "customresourcedefinitions")]

    def _crds(self) -> list[Obj]:
        cache = self.store.cache
        return [c.obj for c in cache.snapshot(cache.prefix)]

    async def start(self) -> None:
        cache = self.store.cache
        await self.server.watch_cache.wait_fresh()
        self._watcher = cache.watch(cache.prefix, None, self.server.watch_cache.revision)
        for crd in self._crds():
            await self._reconcile_logged(crd["metadata"]["name"])
        self._tasks.append(asyncio.create_task(self._watch(), name="crd-watch"))
        self._tasks.append(asyncio.create_task(self._work(), name="crd-worker"))

    async def stop(self) -> None:
        for handle in self._later.values():
            handle.cancel()
        self._later.clear()
        if self._watcher is not None:
            self.store.cache.stop(self._watcher)
        for t in self._tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()

    def enqueue(self, name: str) -> None:
        if name not in self._queued:
            self._queued.add(name)
            self._queue.put_nowait(name)

    def _enqueue_later(self, name: str, delay: float) -> None:
        if name in self._later:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._later.pop(name, None)
            self.enqueue(name)

        self._later[name] = loop.call_later(delay, fire)

    async def _watch(self) -> None:
        cache = self.store.cache
        while True:
            watcher = self._watcher
            if watcher is None or watcher.closed:
                self._watcher = watcher = cache.watch(cache.prefix, None, None)
            batch = await watcher.next_batch(None)
            for _, obj in batch:
                self.enqueue(obj.obj["metadata"]["name"])

    async def _work(self) -> None:
        while True:
            name = await self._queue.get()
            self._queued.discard(name)
            await self._reconcile_logged(name)

    async def _reconcile_logged(self, name: str) -> None:
        try:
            await self.reconcile(name)
        except errors.StatusError as e:
            if e.code == 409:
                self.enqueue(name)  # lost a race with another writer: read again
            else:
                log.warning("crd %s: %s", name, e.message)
                self._enqueue_later(name, 1.0)
        except Exception:  # pragma: no cover - logged and retried
            log.exception("crd %s: reconcile failed", name)
            self._enqueue_later(name, 1.0)

    # -- the reconcile ------------------------------------------------------------------
    async def reconcile(self, name: str) -> None:
        cur = await self.store.current("", name)
        if cur is None:
            self.serving.unserve(name)
            return
        crd: Obj = cur.obj
        if crd["metadata"].get("deletionTimestamp"):
            await self._finalize(crd)
            return
        others = [c for c in self._crds() if c["metadata"]["name"] != name]
        accepted, names_cond = compute_names(crd, others)
        status: Obj = dict(crd.get("status") or {})
        now = self.server.now_rfc3339()
        changed = status.get("acceptedNames") != accepted
        status["acceptedNames"] = accepted
        changed |= _set_condition(status, names_cond, now)
        established = definition.is_condition_true(crd, "Established")
        if names_cond["status"] == "True" or established:
            serving_crd = dict(crd, status=status)
            await self.serving.serve(serving_crd)
            changed |= _set_condition(status, {
                "type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted"}, now)
        else:
            changed |= _set_condition(status, {
                "type": "Established", "status": "False", "reason": "NotAccepted",
                "message": "not all names are accepted"}, now)
        if changed:
            await self._write_status(crd, status)

    async def _write_status(self, crd: Obj, status: Obj) -> Obj:
        new = dict(crd, status=status)
        new["metadata"] = dict(crd["metadata"])
        out, _ = await self.store.update("", crd["metadata"]["name"], new,
                                         WriteOptions(field_manager=MANAGER), subresource="status")
        return out

    async def _finalize(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        finalizers = list(crd["metadata"].get("finalizers") or ())
        if definition.CLEANUP_FINALIZER not in finalizers:
            return
        await self.serving.serve(crd, terminating=True)
        status: Obj = dict(crd.get("status") or {})
        now = self.server.now_rfc3339()
        if definition.condition(crd, "Terminating") is None and _set_condition(status, {
                "type": "Terminating", "status": "True", "reason": "InstanceDeletionInProgress",
                "message": "CustomResource deletion is in progress"}, now):
            crd = await self._write_status(crd, status)
            status = dict(crd.get("status") or {})
        rs = self.serving.store_for(name)
        remaining = 0
        if rs is not None:
            await self.server.watch_cache.wait_fresh()
            opts = WriteOptions(field_manager=MANAGER)
            for cached in list(rs.cache.snapshot(rs.cache.prefix)):
                meta = cached.obj["metadata"]
                if meta.get("deletionTimestamp"):
                    remaining += 1
                    continue
                try:
                    await rs.delete(meta.get("namespace", ""), meta["name"], {"propagationPolicy": "Background"}, opts)
                except errors.StatusError as e:
                    if e.code != 404:
                        raise
            await self.server.watch_cache.wait_fresh()
            remaining = len(rs.cache.objects)
        if remaining:
            if _set_condition(status, {
                    "type": "Terminating", "status": "True", "reason": "InstanceDeletionCheck",
                    "message": f"could not confirm zero CustomResources remaining: {remaining} remaining"}, now):
                await self._write_status(crd, status)
            self._enqueue_later(name, self.recheck)
            return
        _set_condition(status, {"type": "Terminating", "status": "True", "reason": "InstanceDeletionCompleted",
                                "message": "removed all instances"}, now)
        crd = await self._write_status(crd, status)

        def drop_finalizer(obj: Obj) -> Obj:
            fins = [f for f in obj["metadata"].get("finalizers") or () if f != definition.CLEANUP_FINALIZER]
            if fins:
                obj["metadata"]["finalizers"] = fins
            else:
                obj["metadata"].pop("finalizers", None)
            return obj

        await self.store.patch("", name, drop_finalizer, WriteOptions(field_manager=MANAGER))
