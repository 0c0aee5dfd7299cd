"""The disruption controller: keeps every PodDisruptionBudget's status current.

Job, as upstream's ``pkg/controller/disruption``: for each PDB, take the pods its selector
matches in its namespace and write

- ``expectedPods``: the number of pods there should be. With an integer ``minAvailable``
  simply the number of matched pods; with ``maxUnavailable`` or a percentage
  ``minAvailable``, the sum of ``spec.replicas`` of the pods' controllers (each counted
  once): a ReplicationController, a ReplicaSet's Deployment, a ReplicaSet no Deployment
  controls, a StatefulSet, else any kind that serves the ``scale`` subresource. Pods
  without a controller are left out (event ``UnmanagedPods``); a pod whose controller
  cannot be found fails the sync;
- ``desiredHealthy``: ``minAvailable`` (a percentage of ``expectedPods``, rounded up), or
  ``expectedPods - maxUnavailable`` (a percentage rounded up), never below 0;
- ``currentHealthy``: matched pods that are Ready, not being deleted, and not listed in
  ``disruptedPods`` (evicted a moment ago but not yet seen deleting);
- ``disruptionsAllowed``: ``currentHealthy - desiredHealthy``, at least 0, and 0 while no
  pod is expected;
- ``disruptedPods``: the entries the API server's eviction added are kept until the pod is
  gone, is being deleted, or ``DELETION_TIMEOUT`` (2 min) has passed since its eviction
  (event ``NotDeleted`` on the pod); the PDB is synced again when the next entry expires;
- ``observedGeneration`` and the ``DisruptionAllowed`` condition (``SufficientPods`` /
  ``InsufficientPods``). When the status cannot be computed, the fail-safe writes
  ``disruptionsAllowed: 0`` with reason ``SyncFailed`` (so evictions stop) and the key is
  retried with back-off.

The ``unhealthyPodEvictionPolicy`` does not change these numbers (upstream counts only Ready
pods whatever the policy); the API server's eviction applies it. Also as upstream: a pod
whose ``DisruptionTarget`` condition has been True for ``STALE_POD_DISRUPTION_TIMEOUT`` (2 min)
without the pod being deleted gets the condition reset to False.

Design: the decisions are pure functions over plain dicts (``scaled_value``,
``rebuild_disrupted_pods``, ``count_healthy``, ``updated_status``,
``stale_disruption_wait``) that the unit tests check with tables; ``DisruptionController``
only reads caches, asks the API for a scale where no informer covers the kind, and writes
the status with the cached resourceVersion (a conflict with an eviction's write is simply
retried). Pod, PDB and controller-scale changes enqueue the PDB keys concerned; pods
whose DisruptionTarget may go stale are queued as ``pod:<namespace>/<name>`` in the same
queue (a namespace cannot contain ``:``, so the two kinds of key never collide).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubepy.api.selectors import LabelSelector, SelectorError, from_label_selector_dict, selector_to_string
from kubepy.client import (
    ApiError,
    DeletedFinalStateUnknown,
    ResourceRef,
    deepcopy,
    is_conflict,
    is_not_found,
    meta_namespace_key,
    split_api_version,
)
from kubepy.client.events import rfc3339
from kubepy.controllers.base import Controller, tombstone_object
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.podcontrol import controller_of, is_ready

__all__ = [
    "DisruptionController",
    "new",
    "DELETION_TIMEOUT",
    "STALE_POD_DISRUPTION_TIMEOUT",
    "DISRUPTION_ALLOWED",
    "SUFFICIENT_PODS",
    "INSUFFICIENT_PODS",
    "SYNC_FAILED",
    "STALE_POD_KEY_PREFIX",
    "ControllerScale",
    "scaled_value",
    "uses_scale",
    "rebuild_disrupted_pods",
    "count_healthy",
    "updated_status",
    "fail_safe_status",
    "set_condition",
    "stale_disruption_wait",
]

Obj = dict[str, Any]

PODS = ResourceRef("", "v1", "pods", True)
PDBS = ResourceRef("policy", "v1", "poddisruptionbudgets", True)
RCS = ResourceRef("", "v1", "replicationcontrollers", True)
REPLICASETS = ResourceRef("apps", "v1", "replicasets", True)
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True)
STATEFULSETS = ResourceRef("apps", "v1", "statefulsets", True)

#: how long an evicted pod may stay in ``disruptedPods`` without being seen deleting
DELETION_TIMEOUT = 120.0
#: how long a DisruptionTarget=True condition may sit on a pod that is not deleting
STALE_POD_DISRUPTION_TIMEOUT = 120.0
#: how long a discovery document (for the scale subresource of other kinds) is reused
DISCOVERY_TTL = 60.0

DISRUPTION_ALLOWED = "DisruptionAllowed"
SUFFICIENT_PODS = "SufficientPods"
INSUFFICIENT_PODS = "InsufficientPods"
SYNC_FAILED = "SyncFailed"
DISRUPTION_TARGET = "DisruptionTarget"
TERMINATION_BY_KUBELET = "TerminationByKubelet"
STALE_POD_KEY_PREFIX = "pod:"

_APPS_GROUPS = ("apps", "extensions")


# -- pure decisions ----------------------------------------------------------------------------

def parse_time(value: Any) -> float | None:
    """An RFC 3339 timestamp as epoch seconds (None when missing or malformed)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def scaled_value(value: int | str, total: int) -> int:
    """An int-or-string against ``total``: ints as they are, ``"N%"`` as ceil(N% of total).

    ValueError for a string that is not a percentage (as upstream's
    GetScaledValueFromIntOrPercent with rounding up).
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if not value.endswith("%"):
            raise ValueError(f"invalid value for IntOrString: invalid type: string is not a percentage ({value!r})")
        try:
            percent = int(value[:-1])
        except ValueError:
            raise ValueError(f"invalid value for IntOrString: {value!r}") from None
        return math.ceil(percent * total / 100)
    raise ValueError(f"invalid value for IntOrString: {value!r}")


def uses_scale(pdb: Mapping[str, Any]) -> bool:
    """Whether ``expectedPods`` comes from the pods' controllers (maxUnavailable, or minAvailable as a percentage)."""
    spec = pdb.get("spec") or {}
    if spec.get("maxUnavailable") is not None:
        return True
    return isinstance(spec.get("minAvailable"), str)


def _deleting(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def rebuild_disrupted_pods(
    pods: Iterable[Mapping[str, Any]], disrupted: Mapping[str, Any] | None, now: float,
) -> tuple[dict[str, Any], float | None, list[Mapping[str, Any]]]:
    """The ``disruptedPods`` to keep, when to look again, and the pods whose entry expired.

    An entry stays while its pod is among ``pods``, not being deleted, and was evicted less
    than DELETION_TIMEOUT ago; the recheck time is the earliest expiry of those kept.
    Timestamps are kept verbatim (they were written by the API server).
    """
    kept: dict[str, Any] = {}
    recheck: float | None = None
    expired: list[Mapping[str, Any]] = []
    if not disrupted:
        return kept, recheck, expired
    for pod in pods:
        if _deleting(pod):
            continue
        name = str((pod.get("metadata") or {}).get("name") or "")
        if name not in disrupted:
            continue
        evicted_at = parse_time(disrupted[name])
        deadline = None if evicted_at is None else evicted_at + DELETION_TIMEOUT
        if deadline is None or deadline <= now:
            expired.append(pod)
            continue
        kept[name] = disrupted[name]
        if recheck is None or deadline < recheck:
            recheck = deadline
    return kept, recheck, expired


def count_healthy(pods: Iterable[Mapping[str, Any]], disrupted: Mapping[str, Any], now: float) -> int:
    """Ready pods that are neither being deleted nor freshly evicted."""
    healthy = 0
    for pod in pods:
        if _deleting(pod):
            continue
        name = str((pod.get("metadata") or {}).get("name") or "")
        if name in disrupted:
            evicted_at = parse_time(disrupted[name])
            if evicted_at is not None and evicted_at + DELETION_TIMEOUT > now:
                continue
        if is_ready(pod):
            healthy += 1
    return healthy


def set_condition(conditions: list[Obj], want: Obj, now: str) -> None:
    """metav1 SetStatusCondition: replace the condition of ``want['type']`` in place,
    keeping its lastTransitionTime unless the status changes."""
    for i, cond in enumerate(conditions):
        if cond.get("type") == want["type"]:
            same = cond.get("status") == want["status"] and cond.get("lastTransitionTime")
            conditions[i] = {**want, "lastTransitionTime": cond["lastTransitionTime"] if same else now}
            return
    conditions.append({**want, "lastTransitionTime": now})


def _find_condition(status: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for cond in status.get("conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == type_:
            return cond
    return None


def _allowed_condition(allowed: int, observed_generation: int) -> Obj:
    ok = allowed > 0
    return {
        "type": DISRUPTION_ALLOWED,
        "status": "True" if ok else "False",
        "observedGeneration": observed_generation,
        "reason": SUFFICIENT_PODS if ok else INSUFFICIENT_PODS,
        "message": "",
    }


def _conditions_up_to_date(pdb: Mapping[str, Any]) -> bool:
    status = pdb.get("status") or {}
    cond = _find_condition(status, DISRUPTION_ALLOWED)
    if cond is None or status.get("observedGeneration", 0) != (pdb.get("metadata") or {}).get("generation", 0):
        return False
    if status.get("disruptionsAllowed", 0) > 0:
        return cond.get("status") == "True" and cond.get("reason") == SUFFICIENT_PODS
    return cond.get("status") == "False" and cond.get("reason") == INSUFFICIENT_PODS


def updated_status(
    pdb: Mapping[str, Any], *, current_healthy: int, desired_healthy: int, expected: int,
    disrupted: Mapping[str, Any], now: str,
) -> Obj | None:
    """The PDB (a copy) with its new status, or None when the status is already right."""
    allowed = current_healthy - desired_healthy
    if expected <= 0 or allowed <= 0:
        allowed = 0
    status = pdb.get("status") or {}
    generation = (pdb.get("metadata") or {}).get("generation", 0)
    if (status.get("currentHealthy", 0) == current_healthy
            and status.get("desiredHealthy", 0) == desired_healthy
            and status.get("expectedPods", 0) == expected
            and status.get("disruptionsAllowed", 0) == allowed
            and dict(status.get("disruptedPods") or {}) == dict(disrupted)
            and status.get("observedGeneration", 0) == generation
            and _conditions_up_to_date(pdb)):
        return None
    new = deepcopy(dict(pdb))
    conditions = [c for c in status.get("conditions") or () if isinstance(c, dict)]
    conditions = deepcopy({"c": conditions})["c"]
    new_status: Obj = {
        "currentHealthy": current_healthy,
        "desiredHealthy": desired_healthy,
        "expectedPods": expected,
        "disruptionsAllowed": allowed,
        "observedGeneration": generation,
    }
    if disrupted:
        new_status["disruptedPods"] = dict(disrupted)
    set_condition(conditions, _allowed_condition(allowed, generation), now)
    new_status["conditions"] = conditions
    new["status"] = new_status
    return new


def fail_safe_status(pdb: Mapping[str, Any], message: str, now: str) -> Obj | None:
    """The PDB (a copy) with no disruption allowed and reason SyncFailed; None if already so."""
    status = pdb.get("status") or {}
    observed = status.get("observedGeneration", 0)
    want = {"type": DISRUPTION_ALLOWED, "status": "False", "observedGeneration": observed,
            "reason": SYNC_FAILED, "message": message}
    cond = _find_condition(status, DISRUPTION_ALLOWED)
    if (status.get("disruptionsAllowed", 0) == 0 and cond is not None
            and all(cond.get(k) == v for k, v in want.items())):
        return None
    new = deepcopy(dict(pdb))
    new_status = new.setdefault("status", {})
    if not isinstance(new_status, dict):
        new_status = new["status"] = {}
    new_status["disruptionsAllowed"] = 0
    conditions = [c for c in new_status.get("conditions") or () if isinstance(c, dict)]
    set_condition(conditions, want, now)
    new_status["conditions"] = conditions
    return new


def stale_disruption_wait(pod: Mapping[str, Any], now: float) -> float | None:
    """Seconds until the pod's DisruptionTarget condition counts as stale (0: it is), or
    None when it has none that could go stale (deleting, finished, set by the kubelet)."""
    if _deleting(pod):
        return None
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return None
    cond = _find_condition(status, DISRUPTION_TARGET)
    if cond is None or cond.get("status") != "True" or cond.get("reason") == TERMINATION_BY_KUBELET:
        return None
    since = parse_time(cond.get("lastTransitionTime"))
    if since is None:
        return 0.0
    return max(0.0, STALE_POD_DISRUPTION_TIMEOUT - (now - since))


# -- controller lookup -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ControllerScale:
    """A pod's controller (by uid) and its desired number of replicas."""

    uid: str
    replicas: int


def _replicas(obj: Mapping[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _is_kind(ref: Mapping[str, Any], kind: str, groups: Iterable[str]) -> bool:
    group, _ = split_api_version(str(ref.get("apiVersion") or ""))
    return ref.get("kind") == kind and group in groups


DiscoveryFetch = Callable[[str], Awaitable[Obj | None]]


class DisruptionController(Controller):
    NAME = "disruption"
    WORKERS = 2

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        inf = ctx.informers
        self.pods = inf.informer(PODS)
        self.pdbs = inf.informer(PDBS)
        self.rcs = inf.informer(RCS)
        self.replicasets = inf.informer(REPLICASETS)
        self.deployments = inf.informer(DEPLOYMENTS)
        self.statefulsets = inf.informer(STATEFULSETS)
        #: PDB key -> (selector as written, parsed selector)
        self._selectors: dict[str, tuple[Any, LabelSelector]] = {}
        #: group version -> (monotonic time fetched, discovery document)
        self._discovery: dict[str, tuple[float, Obj]] = {}
        #: how discovery documents are read (unit tests replace it)
        self.fetch_discovery: DiscoveryFetch = self._fetch_discovery

        self.pdbs.add_event_handler(
            on_add=self.enqueue,
            on_update=lambda old, new: self.enqueue(new),
            on_delete=self._pdb_deleted,
        )
        self.pods.add_event_handler(
            on_add=self._pod_added,
            on_update=self._pod_updated,
            on_delete=self._pod_deleted,
        )
        for scaled in (self.rcs, self.replicasets, self.deployments, self.statefulsets):
            scaled.add_event_handler(on_update=self._scale_updated)

    def informers(self) -> list[Any]:
        return [self.pods, self.pdbs, self.rcs, self.replicasets, self.deployments, self.statefulsets]

    # -- event handlers (compute keys only) ---------------------------------------------------
    def _pdb_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        key = meta_namespace_key(tombstone_object(obj))
        self._selectors.pop(key, None)
        self.queue.add(key)

    def _pod_added(self, pod: Obj) -> None:
        self._enqueue_pdbs_of(pod)
        self._check_stale_disruption(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        self._enqueue_pdbs_of(new)
        if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels"):
            self._enqueue_pdbs_of(old)
        self._check_stale_disruption(new)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self._enqueue_pdbs_of(tombstone_object(obj))

    def _enqueue_pdbs_of(self, pod: Mapping[str, Any]) -> None:
        for pdb in self.pdbs_for_pod(pod):
            self.queue.add(meta_namespace_key(pdb))

    def _check_stale_disruption(self, pod: Mapping[str, Any]) -> None:
        wait = stale_disruption_wait(pod, self.clock.time())
        if wait is not None:
            self.queue.add_after(STALE_POD_KEY_PREFIX + meta_namespace_key(pod), wait)

    def _scale_updated(self, old: Obj, new: Obj) -> None:
        if _replicas(old) == _replicas(new):
            return
        ns = (new.get("metadata") or {}).get("namespace") or ""
        for pdb in self.pdbs.indexer.by_namespace(ns):
            if uses_scale(pdb):
                self.queue.add(meta_namespace_key(pdb))

    # -- selection ------------------------------------------------------------------------------
    def selector_of(self, pdb: Mapping[str, Any]) -> LabelSelector:
        """The PDB's parsed selector (as metav1.LabelSelectorAsSelector: none selects nothing,
        an empty one every pod); SelectorError if it does not parse."""
        key = meta_namespace_key(pdb)
        raw = (pdb.get("spec") or {}).get("selector")
        cached = self._selectors.get(key)
        if cached is not None and cached[0] == raw:
            return cached[1]
        parsed = from_label_selector_dict(raw)
        self._selectors[key] = (deepcopy({"s": raw})["s"], parsed)
        return parsed

    def pdbs_for_pod(self, pod: Mapping[str, Any]) -> list[Obj]:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        out = []
        for pdb in self.pdbs.indexer.by_namespace(meta.get("namespace") or ""):
            try:
                selector = self.selector_of(pdb)
            except SelectorError:
                continue
            if selector.matches(labels):
                out.append(pdb)
        return out

    def pods_for(self, pdb: Mapping[str, Any]) -> list[Obj]:
        selector = self.selector_of(pdb)
        ns = (pdb.get("metadata") or {}).get("namespace") or ""
        return [p for p in self.pods.indexer.by_namespace(ns)
                if selector.matches((p.get("metadata") or {}).get("labels") or {})]

    # -- expected pods --------------------------------------------------------------------------
    async def controller_scale(self, ref: Mapping[str, Any], namespace: str) -> ControllerScale | None:
        """The scale of the controller ``ref`` names (as upstream's finders, in their order);
        None when it does not exist (or is not the one the uid names). The kinds with an
        informer are answered from its cache; any other kind through its scale subresource."""
        name, uid = str(ref.get("name") or ""), str(ref.get("uid") or "")
        if _is_kind(ref, "ReplicationController", ("",)):
            return self._cached_scale(self.rcs.indexer.get_by_name(namespace, name), uid)
        if _is_kind(ref, "ReplicaSet", _APPS_GROUPS):
            rs = self.replicasets.indexer.get_by_name(namespace, name)
            if rs is None or rs["metadata"].get("uid") != uid:
                return None
            owner = controller_of(rs)
            if owner is not None and _is_kind(owner, "Deployment", _APPS_GROUPS):
                d = self.deployments.indexer.get_by_name(namespace, str(owner.get("name") or ""))
                found = self._cached_scale(d, str(owner.get("uid") or ""))
                if found is not None:
                    return found
            # a ReplicaSet of its own (or whose Deployment is gone): its own scale
            return ControllerScale(uid, _replicas(rs))
        if _is_kind(ref, "StatefulSet", ("apps",)):
            return self._cached_scale(self.statefulsets.indexer.get_by_name(namespace, name), uid)
        return await self.scale_subresource(ref, namespace)

    @staticmethod
    def _cached_scale(obj: Mapping[str, Any] | None, uid: str) -> ControllerScale | None:
        if obj is None or (obj.get("metadata") or {}).get("uid") != uid:
            return None
        return ControllerScale(uid, _replicas(obj))

    async def scale_subresource(self, ref: Mapping[str, Any], namespace: str) -> ControllerScale | None:
        """Any other controller kind: its ``scale`` subresource, found through discovery."""
        api_version, kind = str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
        group, version = split_api_version(api_version)
        plural = await self._plural_with_scale(api_version, kind)
        target = ResourceRef(group, version, plural, True)
        try:
            scale = await self.client.get(target, str(ref.get("name") or ""), namespace=namespace,
                                          subresource="scale")
        except ApiError as e:
            if is_not_found(e):
                return None
            raise
        if (scale.get("metadata") or {}).get("uid") != ref.get("uid"):
            return None
        return ControllerScale(str(ref.get("uid")), int((scale.get("spec") or {}).get("replicas") or 0))

    async def _plural_with_scale(self, api_version: str, kind: str) -> str:
        now = self.clock.monotonic()
        cached = self._discovery.get(api_version)
        if cached is not None and now - cached[0] < DISCOVERY_TTL:
            doc: Obj | None = cached[1]
        else:
            doc = await self.fetch_discovery(api_version)
            if doc is not None:
                self._discovery[api_version] = (now, doc)
        resources = [r for r in (doc or {}).get("resources") or () if isinstance(r, Mapping)]
        plural = next((str(r.get("name")) for r in resources
                       if r.get("kind") == kind and "/" not in str(r.get("name") or "")), None)
        if plural is None:
            raise LookupError(f'no matches for kind "{kind}" in version "{api_version}"')
        if not any(r.get("name") == f"{plural}/scale" for r in resources):
            group, _ = split_api_version(api_version)
            raise LookupError(f"{plural}.{group} does not implement the scale subresource" if group
                              else f"{plural} does not implement the scale subresource")
        return plural

    async def _fetch_discovery(self, api_version: str) -> Obj | None:
        path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        try:
            doc: Obj | None = await self.client.request("GET", path)
        except ApiError as e:
            if is_not_found(e):
                return None
            raise
        return doc

    async def expected_scale(self, pods: Iterable[Mapping[str, Any]]) -> tuple[int, list[str]]:
        """Sum of the replicas of the pods' controllers (each once), and the unmanaged pods' names."""
        scales: dict[str, int] = {}
        seen_refs: set[str] = set()
        unmanaged: list[str] = []
        for pod in pods:
            meta = pod.get("metadata") or {}
            ref = controller_of(pod)
            if ref is None:
                unmanaged.append(str(meta.get("name")))
                continue
            if str(ref.get("uid")) in seen_refs:
                continue
            found = await self.controller_scale(ref, str(meta.get("namespace") or ""))
            if found is None:
                raise LookupError(f'found no controllers for pod "{meta.get("name")}"')
            seen_refs.add(str(ref.get("uid")))
            scales[found.uid] = found.replicas
        return sum(scales.values()), unmanaged

    async def expected_pod_count(self, pdb: Mapping[str, Any], pods: list[Obj]) -> tuple[int, int, list[str]]:
        """(expectedPods, desiredHealthy, unmanaged pod names) for the PDB's spec."""
        spec = pdb.get("spec") or {}
        max_unavailable, min_available = spec.get("maxUnavailable"), spec.get("minAvailable")
        if max_unavailable is not None:
            expected, unmanaged = await self.expected_scale(pods)
            desired = max(0, expected - scaled_value(max_unavailable, expected))
            return expected, desired, unmanaged
        if isinstance(min_available, str):
            expected, unmanaged = await self.expected_scale(pods)
            return expected, scaled_value(min_available, expected), unmanaged
        if min_available is not None:
            return len(pods), scaled_value(min_available, len(pods)), []
        return 0, 0, []

    # -- sync -----------------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        if key.startswith(STALE_POD_KEY_PREFIX):
            await self.sync_stale_pod(key[len(STALE_POD_KEY_PREFIX):])
            return
        pdb = self.pdbs.indexer.get_by_key(key)
        if pdb is None:
            self._selectors.pop(key, None)
            return
        try:
            await self.try_sync(key, pdb)
        except ApiError as e:
            if is_conflict(e):
                raise  # someone (an eviction) wrote the status meanwhile: just retry
            await self.fail_safe(pdb, e)
            raise
        except (LookupError, ValueError, SelectorError) as e:
            await self.fail_safe(pdb, e)
            raise

    async def try_sync(self, key: str, pdb: Obj) -> None:
        try:
            pods = self.pods_for(pdb)
        except SelectorError as e:
            self.recorder.event(pdb, "Warning", "NoPods", f"Failed to get pods: {e}")
            raise
        if not pods:
            self.recorder.event(pdb, "Normal", "NoPods", "No matching pods found")
        try:
            expected, desired, unmanaged = await self.expected_pod_count(pdb, pods)
        except (ApiError, LookupError, ValueError) as e:
            self.recorder.event(pdb, "Warning", "CalculateExpectedPodCountFailed",
                                f"Failed to calculate the number of expected pods: {e}")
            raise
        if unmanaged:
            self.log.debug("unmanaged pods selected by %s: %s", key, unmanaged)
            self.recorder.event(
                pdb, "Warning", "UnmanagedPods",
                f"Pods selected by this PodDisruptionBudget (selector: "
                f"{selector_to_string((pdb.get('spec') or {}).get('selector'))}) were found to be unmanaged. "
                "As a result, the status of the PDB cannot be calculated correctly, which may result in "
                'undefined behavior. To account for these pods please set ".spec.minAvailable" field of the '
                "PDB to an integer value.")
        now = self.clock.time()
        status = pdb.get("status") or {}
        disrupted, recheck, expired = rebuild_disrupted_pods(pods, status.get("disruptedPods"), now)
        ns, name = (pdb.get("metadata") or {}).get("namespace"), (pdb.get("metadata") or {}).get("name")
        for pod in expired:
            self.log.info("pod %s was expected to be deleted by PDB %s but it wasn't", meta_namespace_key(pod), key)
            self.recorder.event(pod, "Warning", "NotDeleted",
                                f"Pod was expected by PDB {ns}/{name} to be deleted but it wasn't")
        healthy = count_healthy(pods, disrupted, now)
        new = updated_status(pdb, current_healthy=healthy, desired_healthy=desired, expected=expected,
                             disrupted=disrupted, now=rfc3339(now))
        if new is not None:
            try:
                await self.client.update_status(PDBS, new)
            except ApiError as e:
                if is_not_found(e):
                    return  # deleted meanwhile; its delete event is on its way
                raise
        if recheck is not None:
            self.queue.add_after(key, max(0.0, recheck - now))

    async def fail_safe(self, pdb: Obj, error: Exception) -> None:
        """Stop evictions when the status cannot be computed (upstream's failSafe)."""
        self.log.warning("failed to sync PDB %s: %s", meta_namespace_key(pdb), error)
        new = fail_safe_status(pdb, str(error), rfc3339(self.clock.time()))
        if new is None:
            return
        try:
            await self.client.update_status(PDBS, new)
        except ApiError as e:
            if not is_not_found(e):
                raise

    async def sync_stale_pod(self, pod_key: str) -> None:
        """Reset a DisruptionTarget condition left on a pod that was never deleted."""
        pod = self.pods.indexer.get_by_key(pod_key)
        if pod is None:
            return
        now = self.clock.time()
        wait = stale_disruption_wait(pod, now)
        if wait is None:
            return
        if wait > 0:
            self.queue.add_after(STALE_POD_KEY_PREFIX + pod_key, wait)
            return
        meta = pod["metadata"]
        patch = {
            "metadata": {"uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion")},
            "status": {"conditions": [{"type": DISRUPTION_TARGET, "status": "False", "reason": None,
                                       "message": None, "lastTransitionTime": rfc3339(now)}]},
        }
        await self.client.patch(PODS, meta["name"], patch, namespace=meta.get("namespace"), type="strategic",
                                subresource="status")
        self.log.info("reset stale DisruptionTarget condition to False on pod %s", pod_key)


def new(ctx: ControllerContext) -> DisruptionController:
    return DisruptionController(ctx)
