"""The ReplicaSet and ReplicationController controllers: keep N pods matching a selector.

Job: for every ReplicaSet (apps/v1) or ReplicationController (v1) — one implementation,
two ``Flavour``s differing only in kind, apiVersion and selector shape — claim the pods
that match (adopting orphans, releasing pods that stopped matching), create or delete pods
until the active ones number ``spec.replicas``, and report ``status`` (replicas,
fullyLabeledReplicas, readyReplicas, availableReplicas honouring minReadySeconds,
observedGeneration and a ReplicaFailure condition while creates or deletes fail).

Design, as upstream's replica_set.go:
- Expectations: before creating N pods (or deleting a set of pods) the controller records
  what it expects its informer to see, and does not count pods again for that object until
  every expected create/delete was observed (or 5 minutes passed). This is what keeps the
  count from over- or under-shooting while the cache lags behind the writes. Deletions are
  tracked per pod key (upstream's UIDTrackingControllerExpectations) so a pod that is seen
  being deleted twice (deletionTimestamp, then gone) is counted once.
- Creates go out in slow-start batches of 1, 2, 4, ... (a failing batch stops the rest, so
  a quota or admission error costs one request, not hundreds); at most 500 creates or
  deletes per sync (upstream's burstReplicas).
- Scale-down picks victims in upstream's ActivePods order: unscheduled, then pending, then
  not ready, then lower pod-deletion-cost, then pods doubled up on a node, then the most
  recently ready, then more restarts, then the newest (ready and creation times compared in
  logarithmic buckets, as upstream's LogarithmicScaleDown does).
- Candidate pods are found through two pod-cache indexes, by owner uid and "orphans of a
  namespace", instead of scanning every pod of the namespace on every sync: with 10,000
  pods in a namespace that scan would dominate the controller's cost.
- Status is written through the status subresource only when it changed.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubepy.client import (
    NORMAL,
    OWNER_UID_INDEX,
    WARNING,
    ApiError,
    DeletedFinalStateUnknown,
    deepcopy,
    is_conflict,
    is_not_found,
    meta_namespace_key,
    object_of,
    owner_uid_index,
)
from kubepy.client.events import rfc3339
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.expectations import Expectations
from kubepy.controllers.podcontrol import (
    active,
    adopt_patch,
    claim,
    controller_of,
    is_ready,
    pod_from_template,
    release_patch,
    selector_matches,
)

__all__ = [
    "BURST_REPLICAS",
    "ORPHAN_INDEX",
    "REPLICA_SET",
    "REPLICATION_CONTROLLER",
    "Flavour",
    "ReplicaSetController",
    "UIDTrackingExpectations",
    "calculate_status",
    "is_pod_available",
    "new_replicaset",
    "new_replicationcontroller",
    "orphan_index",
    "pods_to_delete",
    "slow_start_batch",
]

Obj = dict[str, Any]

#: upstream's burstReplicas: creates/deletes per sync
BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH = 1
STATUS_UPDATE_RETRIES = 1
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
#: pod-cache index: namespace of pods without a controller ownerReference
ORPHAN_INDEX = "kubepy-orphans-by-namespace"


def orphan_index(obj: Obj) -> list[str]:
    """Index objects that have no controller ownerReference by their namespace."""
    if controller_of(obj) is not None:
        return []
    ns = (obj.get("metadata") or {}).get("namespace")
    return [ns] if ns else []


# -- the two flavours ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Flavour:
    """What differs between ReplicaSet and ReplicationController."""

    name: str
    api_version: str
    kind: str
    plural: str
    map_selector: bool  # RC: spec.selector is a plain label map

    def selector(self, obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
        sel = (obj.get("spec") or {}).get("selector")
        if self.map_selector:
            return {"matchLabels": dict(sel)} if sel else None
        return sel if isinstance(sel, Mapping) else None


REPLICA_SET = Flavour("replicaset", "apps/v1", "ReplicaSet", "replicasets", False)
REPLICATION_CONTROLLER = Flavour("replicationcontroller", "v1", "ReplicationController", "replicationcontrollers", True)


# -- expectations that remember which pods they wait to see deleted -------------------------------

class UIDTrackingExpectations:
    """Expectations whose deletions are tracked by pod key, so each deletion counts once."""

    def __init__(self, expectations: Expectations) -> None:
        self.expectations = expectations
        self._deleting: dict[str, set[str]] = {}

    def satisfied(self, key: str) -> bool:
        return self.expectations.satisfied(key)

    def expect_creations(self, key: str, adds: int) -> None:
        self.expectations.expect(key, adds=adds)

    def creation_observed(self, key: str) -> None:
        self.expectations.observed_add(key)

    def lower_creations(self, key: str, n: int) -> None:
        if n > 0:
            self.expectations.lower(key, adds=n)

    def expect_deletions(self, key: str, pod_keys: Iterable[str]) -> None:
        keys = set(pod_keys)
        self._deleting[key] = keys
        self.expectations.expect(key, deletes=len(keys))

    def deletion_observed(self, key: str, pod_key: str) -> None:
        keys = self._deleting.get(key)
        if keys is not None and pod_key in keys:
            keys.discard(pod_key)
            self.expectations.observed_delete(key)

    def forget(self, key: str) -> None:
        self.expectations.forget(key)
        self._deleting.pop(key, None)


# -- pure decisions ---------------------------------------------------------------------------------

def _parse_time(value: Any) -> float | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _ready_since(pod: Mapping[str, Any]) -> float | None:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            if c.get("status") != "True":
                return None
            return _parse_time(c.get("lastTransitionTime"))
    return None


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> bool:
    """Ready, and (with minReadySeconds) ready for longer than that (upstream IsPodAvailable)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = _ready_since(pod)
    return since is not None and since + min_ready_seconds <= now


_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}


@dataclass(slots=True)
class _Rank:
    """What ActivePods ordering looks at, computed once per pod."""

    uid: str
    unassigned: bool
    phase: int
    ready: bool
    cost: int
    doubled: int
    ready_time: float | None
    restarts: int
    created: float | None


def _deletion_cost(pod: Mapping[str, Any]) -> int:
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(DELETION_COST_ANNOTATION)
    if raw is None:
        return 0
    try:
        value = int(str(raw))
    except ValueError:
        return 0
    return value if -(2**31) <= value < 2**31 else 0


def _log_bucket(t: float, now: float) -> int:
    d = (now - t) * 1e9
    return int(math.log2(d)) if d > 0 else -1


def _after_or_zero(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None
    return a > b


def _time_less(a: float | None, b: float | None, ua: str, ub: str, now: float) -> bool | None:
    """Newer first, in logarithmic buckets (ties in a bucket: by uid); None when equal."""
    if a == b:
        return None
    if a is None or b is None:
        return _after_or_zero(a, b)
    diff = _log_bucket(a, now) - _log_bucket(b, now)
    if diff == 0:
        return ua < ub
    return diff < 0


def _rank_cmp(now: float) -> Callable[[_Rank, _Rank], int]:
    def less(a: _Rank, b: _Rank) -> bool | None:
        if a.unassigned != b.unassigned:
            return a.unassigned
        if a.phase != b.phase:
            return a.phase < b.phase
        if a.ready != b.ready:
            return not a.ready
        if a.cost != b.cost:
            return a.cost < b.cost
        if a.doubled != b.doubled:
            return a.doubled > b.doubled
        if a.ready and b.ready:
            r = _time_less(a.ready_time, b.ready_time, a.uid, b.uid, now)
            if r is not None:
                return r
        if a.restarts != b.restarts:
            return a.restarts > b.restarts
        return _time_less(a.created, b.created, a.uid, b.uid, now)

    def cmp(a: _Rank, b: _Rank) -> int:
        if less(a, b):
            return -1
        if less(b, a):
            return 1
        return 0

    return cmp


def pods_to_delete(
    pods: Sequence[Mapping[str, Any]], related: Iterable[Mapping[str, Any]], count: int, now: float
) -> list[Mapping[str, Any]]:
    """The ``count`` pods to delete first, in upstream's ActivePodsWithRanks order.

    ``related`` are the active pods of this owner and its siblings (same controller): a pod
    sharing its node with more of them is "doubled up" and goes first."""
    if count >= len(pods):
        return list(pods)
    per_node: dict[str, int] = {}
    for p in related:
        node = (p.get("spec") or {}).get("nodeName")
        if node:
            per_node[node] = per_node.get(node, 0) + 1
    ranked: list[tuple[_Rank, Mapping[str, Any]]] = []
    for p in pods:
        meta, spec, status = p.get("metadata") or {}, p.get("spec") or {}, p.get("status") or {}
        node = spec.get("nodeName") or ""
        ready = is_ready(p)
        restarts = max((int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or ()), default=0)
        ranked.append((_Rank(
            uid=str(meta.get("uid") or ""), unassigned=not node, phase=_PHASE_ORDINAL.get(status.get("phase", ""), 0),
            ready=ready, cost=_deletion_cost(p), doubled=per_node.get(node, 0) if node else 0,
            ready_time=_ready_since(p) if ready else None, restarts=restarts,
            created=_parse_time(meta.get("creationTimestamp")),
        ), p))
    key = functools.cmp_to_key(_rank_cmp(now))
    ranked.sort(key=lambda rp: key(rp[0]))
    return [p for _, p in ranked[:count]]


def _template_labels_match(template_labels: Mapping[str, str], pod: Mapping[str, Any]) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in template_labels.items())


def calculate_status(
    obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], *, now: float,
    manage_error: Exception | None = None, scaling_up: bool = True,
) -> Obj:
    """The status for ``obj`` given its active pods (observedGeneration is set on write).

    Zero counts other than ``replicas`` are left out, as the Go types' omitempty does."""
    spec = obj.get("spec") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    fully = ready = available = 0
    for p in pods:
        if _template_labels_match(template_labels, p):
            fully += 1
        if is_ready(p):
            ready += 1
            if is_pod_available(p, min_ready, now):
                available += 1
    old = obj.get("status") or {}
    status: Obj = {"replicas": len(pods)}
    for field, value in (("fullyLabeledReplicas", fully), ("readyReplicas", ready),
                         ("availableReplicas", available)):
        if value:
            status[field] = value
    if old.get("observedGeneration"):
        status["observedGeneration"] = old["observedGeneration"]
    conditions = [dict(c) for c in old.get("conditions") or ()]
    failure = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
    if manage_error is not None and failure is None:
        conditions.append({
            "type": "ReplicaFailure", "status": "True",
            "reason": "FailedCreate" if scaling_up else "FailedDelete",
            "message": str(manage_error), "lastTransitionTime": rfc3339(now),
        })
    elif manage_error is None and failure is not None:
        conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
    if conditions:
        status["conditions"] = conditions
    return status


def _status_equal(obj: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    old = obj.get("status") or {}
    for field in ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
        if int(old.get(field) or 0) != int(new.get(field) or 0):
            return False
    if int((obj.get("metadata") or {}).get("generation") or 0) != int(old.get("observedGeneration") or 0):
        return False
    return list(old.get("conditions") or []) == list(new.get("conditions") or [])


async def slow_start_batch(count: int, initial: int, fn: Callable[[], Awaitable[None]]) -> tuple[int, Exception | None]:
    """Call ``fn`` ``count`` times in concurrent batches of initial, 2×, 4×, ...; stop after
    the first batch with a failure. Returns (successes, first error)."""
    remaining = count
    successes = 0
    batch = min(remaining, initial)
    while batch > 0:
        results = await asyncio.gather(*(fn() for _ in range(batch)), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        for r in errors:
            if not isinstance(r, Exception):
                raise r
        successes += batch - len(errors)
        if errors:
            first = errors[0]
            assert isinstance(first, Exception)
            return successes, first
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


# -- the controller ---------------------------------------------------------------------------------

class ReplicaSetController(Controller):
    """Keeps the pods of ReplicaSets (or ReplicationControllers) at their replica counts."""

    NAME = "replicaset"
    WORKERS = 5

    def __init__(self, ctx: ControllerContext, flavour: Flavour = REPLICA_SET) -> None:
        self.NAME = flavour.name
        super().__init__(ctx)
        self.flavour = flavour
        self.ref = self.client.resource(flavour.api_version, flavour.plural)
        self.pods_ref = self.client.resource("v1", "pods")
        self.expectations = UIDTrackingExpectations(Expectations(ctx.clock))
        self.rs_informer = ctx.informers.for_resource(flavour.api_version, flavour.plural)
        self.pod_informer = ctx.informers.for_resource(
            "v1", "pods", indexers={OWNER_UID_INDEX: owner_uid_index, ORPHAN_INDEX: orphan_index})
        self.rs_informer.add_event_handler(on_add=self.enqueue, on_update=self._update_rs, on_delete=self._delete_rs)
        self.pod_informer.add_event_handler(on_add=self._add_pod, on_update=self._update_pod,
                                            on_delete=self._delete_pod)

    def informers(self) -> list[Any]:
        return [self.rs_informer, self.pod_informer]

    # -- event handlers (compute keys, enqueue) ---------------------------------------------------
    def _update_rs(self, old: Obj, new: Obj) -> None:
        self.enqueue(new)

    def _delete_rs(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        rs = object_of(obj)
        key = meta_namespace_key(rs)
        self.expectations.forget(key)
        self.queue.add(key)

    def _resolve(self, namespace: str, ref: Mapping[str, Any] | None) -> Obj | None:
        if ref is None or ref.get("kind") != self.flavour.kind:
            return None
        rs = self.rs_informer.indexer.get_by_name(namespace, str(ref.get("name") or ""))
        if rs is None or rs["metadata"].get("uid") != ref.get("uid"):
            return None
        return rs

    def _matching_owners(self, pod: Mapping[str, Any]) -> list[Obj]:
        ns = pod["metadata"].get("namespace", "")
        labels = pod["metadata"].get("labels") or {}
        if not labels:
            return []
        out = []
        for rs in self.rs_informer.indexer.by_namespace(ns):
            try:
                if selector_matches(self.flavour.selector(rs))(pod):
                    out.append(rs)
            except ValueError:
                continue
        return out

    def _add_pod(self, pod: Obj) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._delete_pod(pod)
            return
        ref = controller_of(pod)
        if ref is not None:
            rs = self._resolve(pod["metadata"].get("namespace", ""), ref)
            if rs is not None:
                key = meta_namespace_key(rs)
                self.expectations.creation_observed(key)
                self.queue.add(key)
            return
        for rs in self._matching_owners(pod):
            self.enqueue(rs)

    def _update_pod(self, old: Obj, cur: Obj) -> None:
        if old["metadata"].get("resourceVersion") == cur["metadata"].get("resourceVersion"):
            return
        label_changed = (old["metadata"].get("labels") or {}) != (cur["metadata"].get("labels") or {})
        if cur["metadata"].get("deletionTimestamp"):
            self._delete_pod(cur)
            if label_changed:
                self._delete_pod(old)
            return
        ns = cur["metadata"].get("namespace", "")
        cur_ref, old_ref = controller_of(cur), controller_of(old)
        ref_changed = cur_ref != old_ref
        if ref_changed and old_ref is not None:
            rs = self._resolve(ns, old_ref)
            if rs is not None:
                self.enqueue(rs)
        if cur_ref is not None:
            rs = self._resolve(ns, cur_ref)
            if rs is None:
                return
            self.enqueue(rs)
            min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
            if min_ready > 0 and not is_ready(old) and is_ready(cur):
                self.enqueue_after(rs, min_ready + 1.0)
            return
        if label_changed or ref_changed:
            for rs in self._matching_owners(cur):
                self.enqueue(rs)

    def _delete_pod(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = object_of(obj)
        rs = self._resolve(pod["metadata"].get("namespace", ""), controller_of(pod))
        if rs is None:
            return
        key = meta_namespace_key(rs)
        self.expectations.deletion_observed(key, meta_namespace_key(pod))
        self.queue.add(key)

    # -- sync ------------------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        rs = self.rs_informer.indexer.get_by_key(key)
        if rs is None:
            self.expectations.forget(key)
            return
        needs_sync = self.expectations.satisfied(key)
        matches = selector_matches(self.flavour.selector(rs))
        pods = await self._claim_pods(rs, matches)
        filtered = [p for p in pods if active(p)]
        manage_error: Exception | None = None
        replicas = int((rs.get("spec") or {}).get("replicas", 1) or 0)
        scaling_up = len(filtered) < replicas
        if needs_sync and not rs["metadata"].get("deletionTimestamp"):
            try:
                await self._manage_replicas(rs, key, filtered, replicas)
            except Exception as e:  # noqa: BLE001 - reported in status, then retried
                manage_error = e
        now = self.clock.time()
        status = calculate_status(rs, filtered, now=now, manage_error=manage_error, scaling_up=scaling_up)
        updated = await self._update_status(rs, status)
        spec = updated.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        new_status = updated.get("status") or {}
        if (manage_error is None and min_ready > 0
                and int(new_status.get("readyReplicas") or 0) == int(spec.get("replicas", 1) or 0)
                and int(new_status.get("availableReplicas") or 0) != int(spec.get("replicas", 1) or 0)):
            self.queue.add_after(key, _remaining_min_ready(filtered, min_ready, now))
        if manage_error is not None:
            raise manage_error

    async def _claim_pods(self, rs: Obj, matches: Callable[[Mapping[str, Any]], bool]) -> list[Mapping[str, Any]]:
        meta = rs["metadata"]
        index = self.pod_informer.indexer
        owned = index.by_index(OWNER_UID_INDEX, meta["uid"])
        orphans = index.by_index(ORPHAN_INDEX, meta.get("namespace", ""))
        mine, adopt, release = claim(rs, [*owned, *orphans] if orphans else owned, matches)
        if not adopt and not release:
            return mine
        result = [p for p in mine if p not in adopt]
        if adopt and await self._can_adopt(rs):
            for pod in adopt:
                try:
                    result.append(await self.client.patch(
                        self.pods_ref, pod["metadata"]["name"], adopt_patch(rs, pod),
                        namespace=pod["metadata"].get("namespace"), type="strategic"))
                except ApiError as e:
                    if not (is_not_found(e) or e.code == 422):
                        raise
        for pod in release:
            try:
                await self.client.patch(self.pods_ref, pod["metadata"]["name"], release_patch(rs, pod),
                                        namespace=pod["metadata"].get("namespace"), type="strategic")
            except ApiError as e:
                if not (is_not_found(e) or e.code == 422):
                    raise
        return result

    async def _can_adopt(self, rs: Obj) -> bool:
        """Re-read the owner (uncached) before adopting: it must still exist, be the same
        object and not be going away (upstream's RecheckDeletionTimestamp)."""
        meta = rs["metadata"]
        try:
            fresh = await self.client.get(self.ref, meta["name"], namespace=meta.get("namespace"))
        except ApiError as e:
            if is_not_found(e):
                return False
            raise
        return bool(fresh["metadata"].get("uid") == meta["uid"] and not fresh["metadata"].get("deletionTimestamp"))

    async def _manage_replicas(self, rs: Obj, key: str, filtered: list[Mapping[str, Any]], replicas: int) -> None:
        diff = len(filtered) - replicas
        if diff < 0:
            count = min(-diff, BURST_REPLICAS)
            self.expectations.expect_creations(key, count)
            template = (rs.get("spec") or {}).get("template") or {}
            meta = rs["metadata"]

            async def create_one() -> None:
                pod = pod_from_template(template, rs)
                try:
                    created = await self.client.create(self.pods_ref, pod, namespace=meta.get("namespace"))
                except Exception as e:
                    self.recorder.event(rs, WARNING, "FailedCreate", f"Error creating: {e}")
                    raise
                self.recorder.event(rs, NORMAL, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")

            successes, error = await slow_start_batch(count, SLOW_START_INITIAL_BATCH, create_one)
            # creates that failed or were never attempted will not be observed
            self.expectations.lower_creations(key, count - successes)
            if error is not None:
                raise error
        elif diff > 0:
            count = min(diff, BURST_REPLICAS)
            related = self._related_pods(rs, filtered)
            victims = pods_to_delete(list(filtered), related, count, self.clock.time())
            victim_keys = [meta_namespace_key(p) for p in victims]
            self.expectations.expect_deletions(key, victim_keys)

            async def delete_one(pod: Mapping[str, Any]) -> None:
                pmeta = pod["metadata"]
                try:
                    await self.client.delete(self.pods_ref, pmeta["name"], namespace=pmeta.get("namespace"))
                except Exception as e:
                    self.expectations.deletion_observed(key, meta_namespace_key(pod))
                    if isinstance(e, ApiError) and is_not_found(e):
                        return
                    self.recorder.event(rs, WARNING, "FailedDelete", f"Error deleting: {e}")
                    raise
                self.recorder.event(rs, NORMAL, "SuccessfulDelete", f"Deleted pod: {pmeta['name']}")

            results = await asyncio.gather(*(delete_one(p) for p in victims), return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException) and not isinstance(r, Exception):
                    raise r
            errors = [r for r in results if isinstance(r, Exception)]
            if errors:
                raise errors[0]

    def _related_pods(self, rs: Obj, own: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Active pods of this object and of its siblings (same controlling owner)."""
        owner = controller_of(rs)
        if owner is None:
            return own
        index = self.pod_informer.indexer
        related: list[Mapping[str, Any]] = []
        for sibling in self.rs_informer.indexer.by_namespace(rs["metadata"].get("namespace", "")):
            sref = controller_of(sibling)
            if sref is None or sref.get("uid") != owner.get("uid"):
                continue
            related.extend(p for p in index.by_index(OWNER_UID_INDEX, sibling["metadata"]["uid"]) if active(p))
        return related

    async def _update_status(self, rs: Obj, status: Obj) -> Obj:
        if _status_equal(rs, status):
            return rs
        generation = (rs.get("metadata") or {}).get("generation")
        cur = deepcopy(rs)
        for attempt in range(STATUS_UPDATE_RETRIES + 1):
            new_status = dict(status)
            if generation:
                new_status["observedGeneration"] = generation
            else:
                new_status.pop("observedGeneration", None)
            cur["status"] = new_status
            try:
                updated: Obj = await self.client.update_status(self.ref, cur)
                return updated
            except ApiError as e:
                if not is_conflict(e) or attempt >= STATUS_UPDATE_RETRIES:
                    raise
            meta = rs["metadata"]
            cur = await self.client.get(self.ref, meta["name"], namespace=meta.get("namespace"))
        return cur  # pragma: no cover - the loop returns or raises


def _remaining_min_ready(pods: list[Mapping[str, Any]], min_ready: int, now: float) -> float:
    """Seconds until the next ready pod becomes available (at least a second)."""
    waits = []
    for p in pods:
        since = _ready_since(p)
        if since is not None and since + min_ready > now:
            waits.append(since + min_ready - now)
    return max(1.0, min(waits) if waits else float(min_ready))


def new_replicaset(ctx: ControllerContext) -> ReplicaSetController:
    return ReplicaSetController(ctx, REPLICA_SET)


def new_replicationcontroller(ctx: ControllerContext) -> ReplicaSetController:
    return ReplicaSetController(ctx, REPLICATION_CONTROLLER)
