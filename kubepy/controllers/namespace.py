"""The namespace controller: empties a deleted namespace, then lets the API server remove it.

Job, as upstream's ``pkg/controller/namespace``: a namespace with a deletionTimestamp is
(1) marked ``status.phase: Terminating``; (2) emptied: every namespaced resource of every
served group that supports delete (from discovery, the preferred version of each) is
deleted with ``deletecollection`` where the resource supports it, else listed and deleted
one by one, always with ``propagationPolicy: Background``; (3) checked: what remains is
counted, per resource and per finalizer, into the status conditions
``NamespaceDeletionDiscoveryFailure``, ``NamespaceDeletionGroupVersionParsingFailure``,
``NamespaceDeletionContentFailure``, ``NamespaceContentRemaining`` and
``NamespaceFinalizersRemaining`` (reasons and messages as upstream); (4) once nothing
remains, finalized: ``PUT /api/v1/namespaces/<name>/finalize`` with ``kubernetes``
dropped from ``spec.finalizers``, after which the API server deletes the namespace.

Design: while content remains the key is re-queued after ``estimate/2 + 1`` seconds, the
estimate being the longest grace period of its still-running pods (upstream's rule), or
15 s when only finalizers hold objects back. A pod informer additionally re-queues a
terminating namespace at once when one of its pods goes away, so a namespace whose pods
finish early does not wait out the estimate. Namespace events are handled after
upstream's 5 s delay (``deletion_delay``), which lets every API server of an HA control
plane observe the deletion before content is listed. Deciding (pure functions over lists
and conditions) is kept apart from the API calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from kubepy.client import (
    ApiError,
    DeleteOptions,
    ResourceRef,
    is_conflict,
    is_not_found,
    object_of,
)
from kubepy.client.events import rfc3339
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.discovery import APIDiscovery, Discoverer, ServedResource

__all__ = [
    "NamespaceController",
    "new",
    "CONDITION_TYPES",
    "update_conditions",
    "content_conditions",
    "ResourcesRemaining",
]

Obj = dict[str, Any]

FINALIZER = "kubernetes"
#: delay before acting on a namespace event (upstream's namespaceDeletionGracePeriod)
DELETION_DELAY = 5.0
#: estimate used while only finalizers hold objects back (upstream: finalizerEstimateSeconds)
FINALIZER_ESTIMATE_SECONDS = 15
UPDATE_RETRIES = 5

DISCOVERY_FAILURE = "NamespaceDeletionDiscoveryFailure"
GV_PARSING_FAILURE = "NamespaceDeletionGroupVersionParsingFailure"
CONTENT_FAILURE = "NamespaceDeletionContentFailure"
CONTENT_REMAINING = "NamespaceContentRemaining"
FINALIZERS_REMAINING = "NamespaceFinalizersRemaining"
CONDITION_TYPES = (DISCOVERY_FAILURE, GV_PARSING_FAILURE, CONTENT_FAILURE, CONTENT_REMAINING, FINALIZERS_REMAINING)
OK_REASONS = {
    DISCOVERY_FAILURE: "ResourcesDiscovered",
    GV_PARSING_FAILURE: "ParsedGroupVersions",
    CONTENT_FAILURE: "ContentDeleted",
    CONTENT_REMAINING: "ContentRemoved",
    FINALIZERS_REMAINING: "ContentRemoved",
}
OK_MESSAGES = {
    DISCOVERY_FAILURE: "All resources successfully discovered",
    GV_PARSING_FAILURE: "All legacy kube types successfully parsed",
    CONTENT_FAILURE: "All content successfully deleted, may be waiting on finalization",
    CONTENT_REMAINING: "All content successfully removed",
    FINALIZERS_REMAINING: "All content successfully removed",
}

NAMESPACES = ResourceRef("", "v1", "namespaces", False)
PODS = ResourceRef("", "v1", "pods", True)


class ResourcesRemaining(Exception):
    """Content is still being removed; look again in about ``estimate`` seconds."""

    def __init__(self, estimate: int) -> None:
        super().__init__(f"some content remains in the namespace; estimate {estimate}s")
        self.estimate = estimate


@dataclass(kw_only=True)
class ContentTotals:
    #: resource (``plural.group``) -> objects remaining
    remaining: dict[str, int] = field(default_factory=dict)
    #: finalizer -> objects remaining that carry it
    finalizers: dict[str, int] = field(default_factory=dict)


def _condition(type_: str, reason: str, message: str, now: str, status: str = "True") -> Obj:
    return {"type": type_, "status": status, "lastTransitionTime": now, "reason": reason, "message": message}


def content_conditions(
    *, totals: ContentTotals, discovery_failed: Mapping[str, str], unparsable: Mapping[str, str],
    delete_errors: list[str], now: str,
) -> list[Obj]:
    """The failing conditions this pass found (types not listed are fine)."""
    out: list[Obj] = []
    if discovery_failed:
        details = ", ".join(f"{gv}: {err}" for gv, err in sorted(discovery_failed.items()))
        out.append(_condition(DISCOVERY_FAILURE, "DiscoveryFailed",
                              f"Discovery failed for some groups, {len(discovery_failed)} failing: "
                              f"unable to retrieve the complete list of server APIs: {details}", now))
    if unparsable:
        out.append(_condition(GV_PARSING_FAILURE, "GroupVersionParsingFailed",
                              "; ".join(err for _, err in sorted(unparsable.items())), now))
    remaining = sorted(f"{res} has {n} resource instances" for res, n in totals.remaining.items() if n)
    if remaining:
        out.append(_condition(CONTENT_REMAINING, "SomeResourcesRemain",
                              f"Some resources are remaining: {', '.join(remaining)}", now))
    by_finalizer = sorted(f"{f} in {n} resource instances" for f, n in totals.finalizers.items() if n)
    if by_finalizer:
        out.append(_condition(FINALIZERS_REMAINING, "SomeFinalizerRemain",
                              f"Some finalizers are remaining: {', '.join(by_finalizer)}", now))
    if delete_errors:
        msgs = sorted(delete_errors)
        out.append(_condition(CONTENT_FAILURE, "ContentDeletionFailed",
                              f"Failed to delete all resource types, {len(msgs)} remaining: {', '.join(msgs)}", now))
    return out


def update_conditions(status: Obj, failing: list[Obj], now: str) -> bool:
    """Set every managed condition type in ``status`` (the failing ones as given, the rest to
    their "ok" variant); lastTransitionTime moves only when the status flips. True if changed."""
    conditions: list[Obj] = status.setdefault("conditions", [])
    by_type = {c.get("type"): c for c in failing}
    changed = False
    for type_ in CONDITION_TYPES:
        want = by_type.get(type_) or _condition(type_, OK_REASONS[type_], OK_MESSAGES[type_], now, status="False")
        old = next((c for c in conditions if c.get("type") == type_), None)
        if old is None:
            conditions.append(dict(want))
            changed = True
        elif (old.get("status"), old.get("reason"), old.get("message")) != (
                want["status"], want["reason"], want["message"]):
            if old.get("status") != want["status"]:
                old["lastTransitionTime"] = now
            old.update(type=type_, status=want["status"], reason=want["reason"], message=want["message"])
            changed = True
    return changed


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None


def pod_termination_estimate(pods: list[Obj]) -> int:
    """The longest grace period among pods not yet finished (upstream's estimate)."""
    estimate = 0
    for pod in pods:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        if grace is not None and int(grace) > estimate:
            estimate = int(grace)
    return estimate


def _not_supported(e: ApiError) -> bool:
    return e.code in (404, 405) or e.reason in ("MethodNotAllowed", "NotFound")


class NamespaceController(Controller):
    NAME = "namespace"
    WORKERS = 5

    def __init__(self, ctx: ControllerContext, discovery: Discoverer | None = None, *,
                 deletion_delay: float = DELETION_DELAY) -> None:
        super().__init__(ctx)
        self.discovery: Discoverer = discovery or APIDiscovery(ctx.client)
        self.deletion_delay = deletion_delay
        self.namespaces = ctx.informers.informer(NAMESPACES)
        self.pods = ctx.informers.informer(PODS)
        #: (plural.group, verb) found unsupported; not tried again (upstream's operationNotSupportedCache)
        self.not_supported: set[tuple[str, str]] = set()
        self.namespaces.add_event_handler(on_add=self._namespace_changed,
                                          on_update=lambda old, new: self._namespace_changed(new))
        self.pods.add_event_handler(on_delete=self._pod_deleted)

    def informers(self) -> list[Any]:
        return [self.namespaces]

    def _namespace_changed(self, ns: Obj) -> None:
        if (ns.get("metadata") or {}).get("deletionTimestamp"):
            self.queue.add_after(str(ns["metadata"]["name"]), self.deletion_delay)

    def _pod_deleted(self, obj: Any) -> None:
        ns_name = str((object_of(obj).get("metadata") or {}).get("namespace") or "")
        ns = self.namespaces.indexer.get_by_key(ns_name)
        if ns is not None and (ns.get("metadata") or {}).get("deletionTimestamp"):
            self.queue.add(ns_name)

    def _now(self) -> str:
        return rfc3339(self.clock.time())

    # -- sync -----------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        if self.namespaces.indexer.get_by_key(key) is None:
            return
        try:
            await self.delete(key)
        except ResourcesRemaining as e:
            self.log.debug("content remains in namespace %s; checking again in %ds", key, e.estimate // 2 + 1)
            self.queue.add_after(key, e.estimate // 2 + 1)

    async def delete(self, name: str) -> None:
        """Upstream's namespacedResourcesDeleter.Delete: raise ResourcesRemaining while content
        remains, any other error to retry with back-off."""
        try:
            ns = await self.client.get(NAMESPACES, name)
        except ApiError as e:
            if is_not_found(e):
                return
            raise
        if not ns["metadata"].get("deletionTimestamp"):
            return
        ns = await self._retry_on_conflict(ns, self._set_terminating)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or ()):
            return
        estimate = await self.delete_all_content(ns)
        if estimate > 0:
            raise ResourcesRemaining(estimate)
        await self._retry_on_conflict(ns, self._finalize)

    async def _retry_on_conflict(self, ns: Obj, fn: Any) -> Obj | None:
        for attempt in range(UPDATE_RETRIES):
            try:
                out: Obj = await fn(ns)
                return out
            except ApiError as e:
                if is_not_found(e):
                    return None
                if not is_conflict(e) or attempt == UPDATE_RETRIES - 1:
                    raise
            try:
                ns = await self.client.get(NAMESPACES, ns["metadata"]["name"])
            except ApiError as e:
                if is_not_found(e):
                    return None
                raise
        return None

    async def _set_terminating(self, ns: Obj) -> Obj:
        status = ns.get("status") or {}
        if status.get("phase") == "Terminating":
            return ns
        ns = {**ns, "status": {**status, "phase": "Terminating"}}
        out: Obj = await self.client.update_status(NAMESPACES, ns)
        return out

    async def _finalize(self, ns: Obj) -> Obj:
        finalizers = [f for f in (ns.get("spec") or {}).get("finalizers") or () if f != FINALIZER]
        body: Obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": ns["metadata"],
                     "spec": {**(ns.get("spec") or {}), "finalizers": finalizers}}
        name = ns["metadata"]["name"]
        self.log.info("namespace %s is empty; finalizing", name)
        out = await self.client.request("PUT", f"/api/v1/namespaces/{name}/finalize", body=body)
        return out or ns

    async def delete_all_content(self, ns: Obj) -> int:
        """Delete everything in the namespace; update its conditions; return the estimate of
        seconds until the remaining content is gone (0: nothing remains). Errors on some
        resources do not stop the others; they are raised (after the status update)."""
        name = ns["metadata"]["name"]
        deleted_at = _parse_time(ns["metadata"].get("deletionTimestamp")) or self.clock.time()
        result = await self.discovery.discover()
        resources = [r for r in result.preferred if r.namespaced and r.supports("delete")]
        totals = ContentTotals()
        errors: list[str] = []
        estimate = 0
        for res in resources:
            try:
                res_estimate, remaining, finalizers = await self._delete_resource(res, name, deleted_at)
            except Exception as e:  # noqa: BLE001 - reported, the other resources go on
                errors.append(str(e))
                continue
            estimate = max(estimate, res_estimate)
            if remaining:
                totals.remaining[res.group_resource] = remaining
                for f, n in finalizers.items():
                    totals.finalizers[f] = totals.finalizers.get(f, 0) + n
        now = self._now()
        failing = content_conditions(totals=totals, discovery_failed=result.failed, unparsable=result.unparsable,
                                     delete_errors=errors, now=now)
        await self._write_conditions(ns, failing, now)
        problems = [f"discovery failed for {gv}: {err}" for gv, err in sorted(result.failed.items())]
        problems += list(result.unparsable.values()) + errors
        if problems:
            raise RuntimeError("; ".join(problems))
        return estimate

    async def _write_conditions(self, ns: Obj, failing: list[Obj], now: str) -> None:
        status = {**(ns.get("status") or {})}
        status["conditions"] = [dict(c) for c in status.get("conditions") or ()]
        if not update_conditions(status, failing, now):
            return
        try:
            await self.client.update_status(NAMESPACES, {**ns, "status": status})
        except ApiError as e:
            self.log.info("could not update the conditions of namespace %s: %s", ns["metadata"]["name"], e)

    async def _delete_resource(self, res: ServedResource, namespace: str, deleted_at: float) -> tuple[int, int, dict[str, int]]:
        """(estimate, remaining, finalizer counts) for one resource of the namespace."""
        estimate = 0
        if res.group == "" and res.plural == "pods":
            pods = (await self.client.list(res.ref, namespace=namespace)).get("items") or []
            estimate = pod_termination_estimate(pods)
            if self.clock.time() - deleted_at >= estimate:
                estimate = 0
        if not await self._delete_collection(res, namespace):
            await self._delete_each(res, namespace)
        items = await self._list(res, namespace)
        if items is None:
            return estimate, 0, {}
        finalizers: dict[str, int] = {}
        for item in items:
            for f in (item.get("metadata") or {}).get("finalizers") or ():
                finalizers[f] = finalizers.get(f, 0) + 1
        if not items:
            return estimate, 0, {}
        if estimate:
            return estimate, len(items), finalizers
        if finalizers:
            return FINALIZER_ESTIMATE_SECONDS, len(items), finalizers
        raise RuntimeError(f"unexpected items still remain in namespace: {namespace} for gvr: "
                           f"{res.group_resource}/{res.version}")

    async def _delete_collection(self, res: ServedResource, namespace: str) -> bool:
        key = (res.group_resource, "deletecollection")
        if not res.supports("deletecollection") or key in self.not_supported:
            return False
        try:
            await self.client.delete_collection(res.ref, namespace=namespace,
                                                options=DeleteOptions(propagation_policy="Background"))
        except ApiError as e:
            if _not_supported(e):
                self.not_supported.add(key)
                return False
            raise
        return True

    async def _list(self, res: ServedResource, namespace: str) -> list[Obj] | None:
        key = (res.group_resource, "list")
        if not res.supports("list") or key in self.not_supported:
            return None
        try:
            page = await self.client.list(res.ref, namespace=namespace)
        except ApiError as e:
            if _not_supported(e):
                self.not_supported.add(key)
                return None
            raise
        items: list[Obj] = page.get("items") or []
        return items

    async def _delete_each(self, res: ServedResource, namespace: str) -> None:
        items = await self._list(res, namespace)
        for item in items or ():
            try:
                await self.client.delete(res.ref, item["metadata"]["name"], namespace=namespace,
                                         options=DeleteOptions(propagation_policy="Background"))
            except ApiError as e:
                if not _not_supported(e):
                    raise


def new(ctx: ControllerContext) -> NamespaceController:
    return NamespaceController(ctx)

