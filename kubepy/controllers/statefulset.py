"""The StatefulSet controller: pods with stable ordinal identities, created, updated and removed in order.

Job: for every StatefulSet keep ``replicas`` pods named ``<set>-<ordinal>`` (ordinals from
``spec.ordinals.start``), each with the ``statefulset.kubernetes.io/pod-name`` and
``apps.kubernetes.io/pod-index`` labels, ``hostname``/``subdomain`` set from its name and
``serviceName``, and one PVC ``<template>-<set>-<ordinal>`` per volumeClaimTemplate, owned as
the ``persistentVolumeClaimRetentionPolicy`` says. As upstream's ``defaultStatefulSetControl``:

- history: the set's template is recorded in ControllerRevisions (``history.py``);
  ``status.currentRevision`` is what the pods run, ``status.updateRevision`` what they should
  run; every pod carries its revision in the ``controller-revision-hash`` label;
- ``OrderedReady``: pods are created one at a time in ordinal order, each Running, Ready (and
  available for ``minReadySeconds``) before the next; scale-down removes the highest ordinal
  first, one at a time, and only when every remaining pod is healthy. ``Parallel`` creates and
  removes in slow-start batches without waiting;
- failed or succeeded pods are deleted and made again on a later sync;
- ``RollingUpdate``: once every pod is healthy, the highest-ordinal pod not at the update
  revision (and at or above ``partition``) is deleted and comes back at the new revision; one
  at a time, waiting for it to be available again. ``OnDelete`` leaves that to the user;
- status: replicas, readyReplicas, availableReplicas, currentReplicas, updatedReplicas,
  current/update revisions, collisionCount, observedGeneration; written only when it changed;
- events as upstream's StatefulPodControl: ``SuccessfulCreate`` "create Pod web-0 in
  StatefulSet web successful", ``SuccessfulDelete``, ``FailedCreate``... and claim events.

Design: the decisions are pure functions over plain dicts (identity, storage, claim ownership,
ordering, status) that the tests table-check; ``StatefulSetController.sync`` walks upstream's
``updateStatefulSet`` step by step and does the writes. There are no expectations: ordinal
names make a duplicate create fail with AlreadyExists, which is retried.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kubepy.api.selectors import SelectorError, from_label_selector_dict
from kubepy.client import (
    ApiError,
    DeletedFinalStateUnknown,
    deepcopy,
    is_already_exists,
    is_conflict,
    is_invalid,
    is_not_found,
    split_key,
)
from kubepy.controllers.base import Controller, key_of, tombstone_object
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.history import (
    REVISION_LABEL,
    History,
    apply_revision,
    find_equal_revisions,
    equal_revision,
    new_revision,
    next_revision,
    revisions_to_truncate,
    sort_revisions,
    template_patch,
)
from kubepy.controllers.podcontrol import (
    adopt_patch,
    claim,
    controller_of,
    owner_for_ref,
    owner_reference,
    owners_selecting,
    pod_from_template,
    release_patch,
)

Obj = dict[str, Any]

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
MAX_BATCH = 500
STATUS_RETRIES = 5

_ORDINAL = re.compile(r"(.*)-([0-9]+)$")
_INT32_MAX = 2**31 - 1


# -- pod state -------------------------------------------------------------------------------------

def parse_time(value: Any) -> float | None:
    """Seconds since the epoch of a meta/v1 Time (RFC 3339), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def _ready_condition(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c  # type: ignore[no-any-return]
    return None


def pod_ready(pod: Mapping[str, Any]) -> bool:
    c = _ready_condition(pod)
    return c is not None and c.get("status") == "True"


def pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> bool:
    """``podutil.IsPodAvailable``: Ready, and for at least ``min_ready_seconds``."""
    c = _ready_condition(pod)
    if c is None or c.get("status") != "True":
        return False
    if not min_ready_seconds:
        return True
    since = parse_time(c.get("lastTransitionTime"))
    return since is not None and since + min_ready_seconds < now


def phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_created(pod: Mapping[str, Any]) -> bool:
    """Known to the API server (every stored pod has a phase; a pod we only built has none)."""
    return phase(pod) != ""


def is_terminating(pod: Mapping[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def running_and_ready(pod: Mapping[str, Any]) -> bool:
    return phase(pod) == "Running" and pod_ready(pod)


def is_healthy(pod: Mapping[str, Any]) -> bool:
    return running_and_ready(pod) and not is_terminating(pod)


def is_unavailable(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> bool:
    return not is_healthy(pod) or not pod_available(pod, min_ready_seconds, now)


def pod_revision(pod: Mapping[str, Any]) -> str:
    return str(((pod.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL) or "")


# -- identity ----------------------------------------------------------------------------------------

def parent_and_ordinal(pod: Mapping[str, Any]) -> tuple[str, int]:
    """The set a pod's name points at and its ordinal (``("", -1)`` for other names)."""
    m = _ORDINAL.search(str(pod["metadata"].get("name") or ""))
    if m is None:
        return "", -1
    ordinal = int(m.group(2)) if len(m.group(2)) <= 10 else -1
    return m.group(1), ordinal if 0 <= ordinal <= _INT32_MAX else -1


def ordinal_of(pod: Mapping[str, Any]) -> int:
    return parent_and_ordinal(pod)[1]


def start_ordinal(sts: Mapping[str, Any]) -> int:
    ordinals = (sts.get("spec") or {}).get("ordinals") or {}
    return int(ordinals.get("start") or 0)


def replicas_of(sts: Mapping[str, Any]) -> int:
    r = (sts.get("spec") or {}).get("replicas")
    return 1 if r is None else int(r)


def end_ordinal(sts: Mapping[str, Any]) -> int:
    return start_ordinal(sts) + replicas_of(sts) - 1


def in_ordinal_range(pod: Mapping[str, Any], sts: Mapping[str, Any]) -> bool:
    return start_ordinal(sts) <= ordinal_of(pod) <= end_ordinal(sts)


def pod_name(sts: Mapping[str, Any], ordinal: int) -> str:
    return f"{sts['metadata']['name']}-{ordinal}"


def claim_name(template: Mapping[str, Any], sts: Mapping[str, Any], ordinal: int) -> str:
    return f"{(template.get('metadata') or {}).get('name', '')}-{sts['metadata']['name']}-{ordinal}"


def is_member(sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    return bool(parent_and_ordinal(pod)[0] == sts["metadata"]["name"])


def identity_matches(sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    parent, ordinal = parent_and_ordinal(pod)
    meta = pod["metadata"]
    labels = meta.get("labels") or {}
    return (ordinal >= 0 and parent == sts["metadata"]["name"] and meta.get("name") == pod_name(sts, ordinal)
            and meta.get("namespace", "") == sts["metadata"].get("namespace", "")
            and labels.get(POD_NAME_LABEL) == meta.get("name"))


def claim_templates(sts: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((sts.get("spec") or {}).get("volumeClaimTemplates") or [])


def storage_matches(sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    ordinal = ordinal_of(pod)
    if ordinal < 0:
        return False
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or ()}
    for template in claim_templates(sts):
        volume = volumes.get((template.get("metadata") or {}).get("name"))
        pvc = (volume or {}).get("persistentVolumeClaim")
        if not pvc or pvc.get("claimName") != claim_name(template, sts, ordinal):
            return False
    return True


def pod_claims(sts: Mapping[str, Any], ordinal: int) -> list[tuple[str, Obj]]:
    """``getPersistentVolumeClaims``: (template name, claim to create) per claim template."""
    selector_labels = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    out: list[tuple[str, Obj]] = []
    for template in claim_templates(sts):
        tmeta = template.get("metadata") or {}
        meta: Obj = {k: deepcopy(v) if isinstance(v, dict) else v for k, v in tmeta.items()
                     if k in ("labels", "annotations", "finalizers")}
        meta["name"] = claim_name(template, sts, ordinal)
        meta["namespace"] = sts["metadata"].get("namespace", "")
        meta["labels"] = {**(tmeta.get("labels") or {}), **selector_labels}
        pvc: Obj = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                    "spec": deepcopy(dict(template.get("spec") or {}))}
        out.append((str(tmeta.get("name", "")), pvc))
    return out


def update_storage(sts: Mapping[str, Any], pod: Obj) -> None:
    """Point the pod's claim volumes at its claims; other volumes are kept after them."""
    claims = pod_claims(sts, ordinal_of(pod))
    names = {name for name, _ in claims}
    volumes: list[Obj] = [{"name": name, "persistentVolumeClaim": {"claimName": c["metadata"]["name"]}}
                          for name, c in claims]
    spec = pod.setdefault("spec", {})
    volumes += [v for v in spec.get("volumes") or () if v.get("name") not in names]
    if volumes:
        spec["volumes"] = volumes


def update_identity(sts: Mapping[str, Any], pod: Obj) -> None:
    ordinal = ordinal_of(pod)
    meta = pod["metadata"]
    meta["name"] = pod_name(sts, ordinal)
    meta["namespace"] = sts["metadata"].get("namespace", "")
    labels = meta.get("labels")
    if not isinstance(labels, dict):
        labels = meta["labels"] = {}
    labels[POD_NAME_LABEL] = meta["name"]
    labels[POD_INDEX_LABEL] = str(ordinal)


def new_pod(sts: Mapping[str, Any], ordinal: int) -> Obj:
    """``newStatefulSetPod``: from the template, named and labelled for ``ordinal``."""
    spec = sts.get("spec") or {}
    pod = pod_from_template(spec.get("template") or {}, sts, name=pod_name(sts, ordinal))
    update_identity(sts, pod)
    pod["spec"]["hostname"] = pod["metadata"]["name"]
    if spec.get("serviceName"):
        pod["spec"]["subdomain"] = spec["serviceName"]
    update_storage(sts, pod)
    return pod


def partition_of(sts: Mapping[str, Any]) -> int | None:
    strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
    ru = strategy.get("rollingUpdate")
    if not isinstance(ru, Mapping):
        return None
    return int(ru.get("partition") or 0)


def strategy_type(sts: Mapping[str, Any]) -> str:
    return str(((sts.get("spec") or {}).get("updateStrategy") or {}).get("type") or "RollingUpdate")


def new_versioned_pod(current_set: Mapping[str, Any], update_set: Mapping[str, Any], current_revision: str,
                      update_revision: str, ordinal: int) -> Obj:
    """A missing pod is made at the current revision when it is below the partition (or below
    the current replicas without one), else at the update revision (as upstream, whose
    condition only checks the strategy type on the first branch)."""
    partition = partition_of(current_set)
    current_replicas = int((current_set.get("status") or {}).get("currentReplicas") or 0)
    start = start_ordinal(current_set)
    use_current = (
        (strategy_type(current_set) == "RollingUpdate" and partition is None and ordinal < start + current_replicas)
        or (partition is not None and ordinal < start + partition)
    )
    if use_current:
        pod = new_pod(current_set, ordinal)
        pod["metadata"]["labels"][REVISION_LABEL] = current_revision
    else:
        pod = new_pod(update_set, ordinal)
        pod["metadata"]["labels"][REVISION_LABEL] = update_revision
    return pod


# -- claim ownership (persistentVolumeClaimRetentionPolicy) --------------------------------------------

SET_KIND = ("apps/v1", "StatefulSet")
POD_KIND = ("v1", "Pod")


def retention_policy(sts: Mapping[str, Any]) -> tuple[str, str]:
    """(whenScaled, whenDeleted), ``Retain`` where unset."""
    p = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    return str(p.get("whenScaled") or "Retain"), str(p.get("whenDeleted") or "Retain")


def _matches_ref(ref: Mapping[str, Any], obj: Mapping[str, Any], kind: tuple[str, str]) -> bool:
    return bool(ref.get("apiVersion") == kind[0] and ref.get("kind") == kind[1]
                and ref.get("name") == obj["metadata"].get("name"))


def _uid(obj: Mapping[str, Any]) -> str:
    return str(obj["metadata"].get("uid") or "")


def _refs(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((obj.get("metadata") or {}).get("ownerReferences") or ())


def has_owner_ref(target: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    uid = _uid(owner)
    return any(r.get("uid") == uid for r in _refs(target))


def has_stale_owner_ref(target: Mapping[str, Any], obj: Mapping[str, Any], kind: tuple[str, str]) -> bool:
    """A reference that names ``obj`` but carries another uid (an earlier incarnation)."""
    for ref in _refs(target):
        if _matches_ref(ref, obj, kind):
            return ref.get("uid") != _uid(obj)
    return False


def has_unexpected_controller(pvc: Mapping[str, Any], sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    if retention_policy(sts) == ("Retain", "Retain"):
        return False
    for ref in _refs(pvc):
        if _matches_ref(ref, sts, SET_KIND):
            if ref.get("uid") != _uid(sts):
                return True
            continue
        if _matches_ref(ref, pod, POD_KIND):
            if ref.get("uid") != _uid(pod):
                return True
            continue
        if ref.get("controller"):
            return True
    return False


def _has_non_controller_owner(pvc: Mapping[str, Any], sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    uids = {_uid(sts), _uid(pod)} - {""}
    return any(r.get("uid") in uids and not r.get("controller") for r in _refs(pvc))


def claim_owner_up_to_date(pvc: Mapping[str, Any], sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """``isClaimOwnerUpToDate``: Retain/Retain → no refs; Delete on set deletion → the set;
    Delete on scale-down → the pod, once it is out of range; both → one or the other."""
    if has_stale_owner_ref(pvc, sts, SET_KIND) or has_stale_owner_ref(pvc, pod, POD_KIND):
        return True
    if has_unexpected_controller(pvc, sts, pod):
        return not (has_owner_ref(pvc, sts) or has_owner_ref(pvc, pod))
    if _has_non_controller_owner(pvc, sts, pod):
        return False
    scaled, deleted = retention_policy(sts)
    on_set, on_pod = has_owner_ref(pvc, sts), has_owner_ref(pvc, pod)
    scaled_down = not in_ordinal_range(pod, sts)
    if scaled == "Delete" and deleted == "Delete":
        return scaled_down != on_set and scaled_down == on_pod
    if scaled == "Delete":
        return not on_set and scaled_down == on_pod
    if deleted == "Delete":
        return on_set and not on_pod
    return not on_set and not on_pod


def claim_owner_refs(pvc: Mapping[str, Any], sts: Mapping[str, Any], pod: Mapping[str, Any]) -> list[Obj]:
    """``updateClaimOwnerRefForSetAndPod``: the claim's ownerReferences as the policy wants them."""
    unexpected = has_unexpected_controller(pvc, sts, pod)
    refs = [dict(r) for r in _refs(pvc) if not (_matches_ref(r, sts, SET_KIND) or _matches_ref(r, pod, POD_KIND))]
    if unexpected:
        return refs
    scaled, deleted = retention_policy(sts)
    scaled_down = not in_ordinal_range(pod, sts)
    if scaled == "Delete" and scaled_down:
        refs.append(owner_reference(_with_kind(pod, POD_KIND)))
    if deleted == "Delete" and not (scaled == "Delete" and scaled_down):
        refs.append(owner_reference(_with_kind(sts, SET_KIND)))
    return refs


def _with_kind(obj: Mapping[str, Any], kind: tuple[str, str]) -> Mapping[str, Any]:
    if obj.get("apiVersion") and obj.get("kind"):
        return obj
    return {**obj, "apiVersion": kind[0], "kind": kind[1]}


# -- status ------------------------------------------------------------------------------------------

def compute_status(pod_lists: Sequence[Sequence[Mapping[str, Any]]], *, min_ready_seconds: int, now: float,
                   current_revision: str, update_revision: str) -> dict[str, int]:
    counts = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "currentReplicas": 0, "updatedReplicas": 0}
    for pods in pod_lists:
        for pod in pods:
            created = is_created(pod)
            if created:
                counts["replicas"] += 1
            if running_and_ready(pod):
                counts["readyReplicas"] += 1
                if pod_available(pod, min_ready_seconds, now):
                    counts["availableReplicas"] += 1
            if created and not is_terminating(pod):
                rev = pod_revision(pod)
                if rev == current_revision:
                    counts["currentReplicas"] += 1
                if rev == update_revision:
                    counts["updatedReplicas"] += 1
    return counts


def complete_rolling_update(sts: Mapping[str, Any], status: Obj) -> None:
    """Every pod updated and ready: the update revision becomes the current one."""
    replicas = replicas_of(sts)
    if (strategy_type(sts) == "RollingUpdate" and status["updatedReplicas"] == replicas
            and status["readyReplicas"] == replicas and status["replicas"] == replicas):
        status["currentReplicas"] = status["updatedReplicas"]
        status["currentRevision"] = status["updateRevision"]


_STATUS_FIELDS = ("replicas", "currentReplicas", "readyReplicas", "updatedReplicas", "availableReplicas")


def status_changed(sts: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """``inconsistentStatus``: a newer observedGeneration or any count or revision differs."""
    old = sts.get("status") or {}
    if int(status.get("observedGeneration") or 0) > int(old.get("observedGeneration") or 0):
        return True
    if any(int(status.get(f) or 0) != int(old.get(f) or 0) for f in _STATUS_FIELDS):
        return True
    return any(str(status.get(f) or "") != str(old.get(f) or "") for f in ("currentRevision", "updateRevision"))


def wire_status(status: Mapping[str, Any], conditions: Any = None) -> Obj:
    """The status as Go would write it (omitempty fields left out when zero)."""
    out: Obj = {"replicas": status["replicas"], "availableReplicas": status["availableReplicas"]}
    for f in ("observedGeneration", "readyReplicas", "currentReplicas", "updatedReplicas",
              "currentRevision", "updateRevision"):
        if status.get(f):
            out[f] = status[f]
    out["collisionCount"] = status.get("collisionCount", 0)
    if conditions:
        out["conditions"] = conditions
    return out


# -- the controller ----------------------------------------------------------------------------------

class StatefulSetController(Controller):
    NAME = "statefulset"
    WORKERS = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        f = ctx.informers
        self.sets_ref = self.client.resource("apps/v1", "statefulsets")
        self.pods_ref = self.client.resource("v1", "pods")
        self.pvcs_ref = self.client.resource("v1", "persistentvolumeclaims")
        self.sets = f.for_resource("apps/v1", "statefulsets")
        self.pods = f.for_resource("v1", "pods")
        self.revisions = f.for_resource("apps/v1", "controllerrevisions")
        self.pvcs = f.for_resource("v1", "persistentvolumeclaims")
        self.history = History(self.client, self.revisions.indexer)
        self.sets.add_event_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new),
                                    on_delete=self.enqueue)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted)

    def informers(self) -> list[Any]:
        return [self.sets, self.pods, self.revisions, self.pvcs]

    def now(self) -> float:
        return self.clock.time()

    # -- event handlers ---------------------------------------------------------------------------
    def _set_for_ref(self, namespace: str, ref: Mapping[str, Any] | None) -> Obj | None:
        return owner_for_ref(self.sets.indexer, namespace, ref, "StatefulSet")

    def _sets_selecting(self, pod: Mapping[str, Any]) -> list[Obj]:
        return owners_selecting(self.sets.indexer, pod)

    def _pod_added(self, pod: Obj) -> None:
        ns = pod["metadata"].get("namespace", "")
        ref = controller_of(pod)
        if ref is not None:
            sts = self._set_for_ref(ns, ref)
            if sts is not None:
                self.enqueue(sts)
            return
        for sts in self._sets_selecting(pod):
            self.enqueue(sts)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        ns = new["metadata"].get("namespace", "")
        labels_changed = (old["metadata"].get("labels") or {}) != (new["metadata"].get("labels") or {})
        old_ref, new_ref = controller_of(old), controller_of(new)
        ref_changed = (old_ref or {}).get("uid") != (new_ref or {}).get("uid")
        if ref_changed and old_ref is not None:
            prev = self._set_for_ref(ns, old_ref)
            if prev is not None:
                self.enqueue(prev)
        if new_ref is not None:
            sts = self._set_for_ref(ns, new_ref)
            if sts is None:
                return
            self.enqueue(sts)
            mrs = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
            if mrs > 0 and not pod_ready(old) and pod_ready(new):
                self.enqueue_after(sts, float(mrs) + 1.0)
            return
        if labels_changed or ref_changed:
            for sts in self._sets_selecting(new):
                self.enqueue(sts)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = tombstone_object(obj)
        sts = self._set_for_ref(pod["metadata"].get("namespace", ""), controller_of(pod))
        if sts is not None:
            self.enqueue(sts)

    # -- sync -------------------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        cached = self.sets.indexer.get_by_key(key)
        if cached is None:
            return
        sts = deepcopy(cached)
        try:
            selector = from_label_selector_dict((sts.get("spec") or {}).get("selector"))
        except SelectorError as e:
            self.log.warning("StatefulSet %s has an invalid selector: %s", key, e)
            return  # not transient: a retry would fail the same way
        await self._adopt_orphan_revisions(sts, selector)
        pods = await self._claim_pods(sts, selector)
        status = await self.update_stateful_set(sts, pods)
        mrs = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        if mrs > 0 and status is not None and status["availableReplicas"] != replicas_of(sts):
            self.enqueue_after(sts, float(mrs))

    async def _can_adopt(self, sts: Mapping[str, Any]) -> bool:
        """Recheck with a live read that the set is not being deleted (upstream's RecheckDeletionTimestamp)."""
        if sts["metadata"].get("deletionTimestamp"):
            return False
        fresh = await self.client.get(self.sets_ref, sts["metadata"]["name"], namespace=sts["metadata"]["namespace"])
        if fresh["metadata"].get("uid") != sts["metadata"].get("uid"):
            raise RuntimeError(f"original StatefulSet {key_of(sts)} is gone: got uid {fresh['metadata'].get('uid')}")
        return not fresh["metadata"].get("deletionTimestamp")

    async def _adopt_orphan_revisions(self, sts: Obj, selector: Any) -> None:
        revisions = self.history.list(sts, lambda r: selector.matches(r["metadata"].get("labels") or {}))
        orphans = [r for r in revisions if controller_of(r) is None]
        if not orphans:
            return
        if not await self._can_adopt(sts):
            raise RuntimeError("can't adopt ControllerRevisions: the StatefulSet is being deleted")
        for rev in orphans:
            await self.history.adopt(sts, rev)

    async def _claim_pods(self, sts: Obj, selector: Any) -> list[Obj]:
        ns = sts["metadata"]["namespace"]
        candidates = self.pods.indexer.by_namespace(ns)

        def matches(pod: Mapping[str, Any]) -> bool:
            return bool(selector.matches(pod["metadata"].get("labels") or {})) and is_member(sts, pod)

        owned, adopt, release = claim(sts, candidates, matches)
        adopted_ok: set[str] = set()
        if adopt and await self._can_adopt(sts):
            for pod in adopt:
                try:
                    await self.client.patch(self.pods_ref, pod["metadata"]["name"], adopt_patch(sts, pod),
                                            namespace=ns, type="strategic")
                    adopted_ok.add(pod["metadata"]["uid"])
                except ApiError as e:
                    if not is_not_found(e):
                        raise
        for pod in release:
            try:
                await self.client.patch(self.pods_ref, pod["metadata"]["name"], release_patch(sts, pod),
                                        namespace=ns, type="strategic")
            except ApiError as e:
                if not (is_not_found(e) or is_invalid(e)):
                    raise
        adopt_uids = {p["metadata"]["uid"] for p in adopt}
        return [dict(p) for p in owned if p["metadata"]["uid"] not in adopt_uids or p["metadata"]["uid"] in adopted_ok]

    # -- revisions --------------------------------------------------------------------------------
    async def _revisions(self, sts: Obj, revisions: list[Obj]) -> tuple[Obj, Obj, int]:
        """``getStatefulSetRevisions``: (current, update, collision count), creating or renumbering
        the update revision as needed."""
        collision_count = int((sts.get("status") or {}).get("collisionCount") or 0)
        template_labels = (((sts.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
        update = new_revision(sts, data=template_patch(sts), revision=next_revision(revisions),
                              collision_count=collision_count, template_labels=template_labels)
        equal = find_equal_revisions(revisions, update)
        if equal and equal_revision(revisions[-1], equal[-1]):
            update = revisions[-1]
        elif equal:
            update = await self.history.set_revision_number(equal[-1], int(update["revision"]))
        else:
            update, collision_count = await self.history.create(sts, update, collision_count)
        current_name = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revisions if r["metadata"]["name"] == current_name), None)
        return (current or update), update, collision_count

    async def update_stateful_set(self, sts: Obj, pods: list[Obj]) -> Obj | None:
        """``UpdateStatefulSet``: revisions, pods, status, then history truncation."""
        selector = from_label_selector_dict((sts.get("spec") or {}).get("selector"))
        revisions = sort_revisions(self.history.list(sts, lambda r: selector.matches(r["metadata"].get("labels") or {})))
        current: Obj | None = None
        update: Obj | None = None
        status: Obj | None = None
        error: BaseException | None = None
        try:
            current, update, collision_count = await self._revisions(sts, revisions)
            status, err = await self._update_pods(sts, current, update, collision_count, pods)
            if status is None:
                raise err or RuntimeError("no status")
            try:
                await self._write_status(sts, status)
            except Exception as status_err:  # noqa: BLE001 - reported after the pods' error, if any
                if err is None:
                    err = status_err
                else:
                    self.log.info("could not update status of %s: %s", key_of(sts), status_err)
            error = err
        except Exception as e:  # noqa: BLE001 - history is still truncated, then the error is raised
            error = e
        await self._truncate_history(sts, pods, revisions, current, update)
        if error is not None:
            raise error
        return status

    async def _truncate_history(self, sts: Obj, pods: Sequence[Obj], revisions: list[Obj], current: Obj | None,
                                update: Obj | None) -> None:
        live = {pod_revision(p) for p in pods}
        live.update(r["metadata"]["name"] for r in (current, update) if r is not None)
        limit = (sts.get("spec") or {}).get("revisionHistoryLimit")
        for rev in revisions_to_truncate(revisions, live, 10 if limit is None else int(limit)):
            await self.history.delete(rev)

    # -- pods -------------------------------------------------------------------------------------
    async def _update_pods(self, sts: Obj, current: Obj, update: Obj, collision_count: int,
                           pods: list[Obj]) -> tuple[Obj | None, BaseException | None]:
        """``updateStatefulSet``: returns the status to record and the error that stopped it."""
        spec = sts.get("spec") or {}
        mrs = int(spec.get("minReadySeconds") or 0)
        now = self.now()
        current_set = apply_revision(sts, current)
        update_set = apply_revision(sts, update)
        cur_name, upd_name = current["metadata"]["name"], update["metadata"]["name"]
        status: Obj = {"observedGeneration": int(sts["metadata"].get("generation") or 0),
                       "currentRevision": cur_name, "updateRevision": upd_name, "collisionCount": collision_count}

        def recount(*lists: Sequence[Mapping[str, Any]]) -> None:
            status.update(compute_status(lists, min_ready_seconds=mrs, now=now,
                                         current_revision=cur_name, update_revision=upd_name))

        recount(pods)
        start = start_ordinal(sts)
        count = replicas_of(sts)
        slots: list[Obj | None] = [None] * count
        condemned: list[Obj] = []
        for pod in pods:
            if in_ordinal_range(pod, sts):
                slots[ordinal_of(pod) - start] = pod
            elif ordinal_of(pod) >= 0:
                condemned.append(pod)
        replicas: list[Obj] = [
            p if p is not None else new_versioned_pod(current_set, update_set, cur_name, upd_name, start + i)
            for i, p in enumerate(slots)
        ]
        condemned.sort(key=ordinal_of, reverse=True)
        first_unavailable: Obj | None = next((p for p in replicas if is_unavailable(p, mrs, now)), None)
        if first_unavailable is None:
            first_unavailable = next((p for p in reversed(condemned) if is_unavailable(p, mrs, now)), None)

        if sts["metadata"].get("deletionTimestamp"):
            return status, None
        monotonic = spec.get("podManagementPolicy") != "Parallel"

        try:
            if await self._run_for_all(len(replicas), lambda i: self._process_replica(
                    sts, update_set, monotonic, replicas, i, mrs), monotonic):
                recount(replicas, condemned)
                return status, None
            if await self._run_for_all(len(condemned), lambda i: self._fix_claims(update_set, condemned[i]), monotonic):
                recount(replicas, condemned)
                return status, None
            if await self._run_for_all(len(condemned), lambda i: self._process_condemned(
                    sts, first_unavailable, monotonic, condemned, i, mrs), monotonic):
                recount(replicas, condemned)
                return status, None
        except Exception as e:  # noqa: BLE001 - the status so far is still recorded
            recount(replicas, condemned)
            return status, e

        recount(replicas, condemned)
        if strategy_type(sts) == "OnDelete":
            return status, None
        update_min = partition_of(sts) or 0
        for target in range(len(replicas) - 1, update_min - 1, -1):
            pod = replicas[target]
            if pod_revision(pod) != upd_name and not is_terminating(pod):
                try:
                    await self._delete_pod(sts, pod)
                except ApiError as e:
                    if not is_not_found(e):
                        return status, e
                status["currentReplicas"] -= 1
                return status, None
            if is_unavailable(pod, mrs, self.now()):
                return status, None
        return status, None

    async def _run_for_all(self, n: int, fn: Callable[[int], Awaitable[bool]], monotonic: bool) -> bool:
        """Monotonic: one by one, stopping at the first that says so. Parallel: slow-start
        batches (1, 2, 4, ...), every pod visited; errors raised after their batch."""
        if monotonic:
            for i in range(n):
                if await fn(i):
                    return True
            return False
        done, batch = 0, 1
        while done < n:
            size = min(batch, n - done, MAX_BATCH)
            results = await asyncio.gather(*(fn(i) for i in range(done, done + size)), return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]
            done += size
            batch = size * 2
        return False

    async def _process_replica(self, sts: Obj, update_set: Obj, monotonic: bool, replicas: list[Obj], i: int,
                               mrs: int) -> bool:
        pod = replicas[i]
        if phase(pod) in ("Failed", "Succeeded"):
            if not is_terminating(pod):
                await self._delete_pod(sts, pod)
            return True  # a new pod is made once this one is gone
        if not is_created(pod):
            if self._claims_stale(sts, pod):
                return True
            await self._create_pod(sts, pod)
            if monotonic:
                return True
        if phase(pod) == "Pending":
            await self._create_missing_claims(sts, pod)
        if monotonic and (is_terminating(pod) or not running_and_ready(pod) or not pod_available(pod, mrs, self.now())):
            return True
        if identity_matches(sts, pod) and storage_matches(sts, pod) and self._claims_match_policy(update_set, pod):
            return False
        await self._update_pod(update_set, deepcopy(pod))
        return False

    async def _fix_claims(self, update_set: Obj, pod: Obj) -> bool:
        if not self._claims_match_policy(update_set, pod):
            await self._update_claims_for_policy(update_set, pod)
        return False

    async def _process_condemned(self, sts: Obj, first_unavailable: Obj | None, monotonic: bool,
                                 condemned: list[Obj], i: int, mrs: int) -> bool:
        pod = condemned[i]
        if is_terminating(pod):
            return monotonic
        if monotonic and pod is not first_unavailable and (
                not running_and_ready(pod) or not pod_available(pod, mrs, self.now())):
            return True
        await self._delete_pod(sts, pod)
        return True

    # -- writes: pods -------------------------------------------------------------------------------
    def _pod_event(self, verb: str, sts: Obj, pod: Mapping[str, Any], err: BaseException | None) -> None:
        name = pod["metadata"].get("name")
        set_name = sts["metadata"]["name"]
        if err is None:
            self.recorder.event(sts, "Normal", f"Successful{verb.title()}",
                                f"{verb} Pod {name} in StatefulSet {set_name} successful")
        else:
            self.recorder.event(sts, "Warning", f"Failed{verb.title()}",
                                f"{verb} Pod {name} in StatefulSet {set_name} failed error: {_message(err)}")

    def _claim_event(self, verb: str, sts: Obj, pod: Mapping[str, Any], pvc: Mapping[str, Any],
                     err: BaseException | None) -> None:
        name, claim_ = pod["metadata"].get("name"), pvc["metadata"]["name"]
        set_name = sts["metadata"]["name"]
        if err is None:
            self.recorder.event(sts, "Normal", f"Successful{verb.title()}",
                                f"{verb} Claim {claim_} Pod {name} in StatefulSet {set_name} success")
        else:
            self.recorder.event(sts, "Warning", f"Failed{verb.title()}",
                                f"{verb} Claim {claim_} for Pod {name} in StatefulSet {set_name} failed error: "
                                f"{_message(err)}")

    async def _create_pod(self, sts: Obj, pod: Obj) -> None:
        """``CreateStatefulPod``: claims first, then the pod; AlreadyExists is returned silently."""
        try:
            await self._create_claims(sts, pod)
        except Exception as e:
            self._pod_event("create", sts, pod, e)
            raise
        try:
            await self.client.create(self.pods_ref, pod, namespace=sts["metadata"]["namespace"])
        except ApiError as e:
            if is_already_exists(e):
                raise
            self._pod_event("create", sts, pod, e)
            raise
        self._pod_event("create", sts, pod, None)

    async def _delete_pod(self, sts: Obj, pod: Mapping[str, Any]) -> None:
        try:
            await self.client.delete(self.pods_ref, pod["metadata"]["name"], namespace=sts["metadata"]["namespace"])
        except ApiError as e:
            self._pod_event("delete", sts, pod, e)
            raise
        self._pod_event("delete", sts, pod, None)

    async def _update_pod(self, update_set: Obj, pod: Obj) -> None:
        """``UpdateStatefulPod``: fix identity, storage and claim ownership; conflicts retried."""
        ns = update_set["metadata"]["namespace"]
        attempted = False
        err: BaseException | None = None
        for _ in range(STATUS_RETRIES):
            consistent = True
            if not identity_matches(update_set, pod):
                update_identity(update_set, pod)
                consistent = False
            try:
                if not storage_matches(update_set, pod):
                    update_storage(update_set, pod)
                    consistent = False
                    await self._create_claims(update_set, pod)
                if not self._claims_match_policy(update_set, pod):
                    await self._update_claims_for_policy(update_set, pod)
                    consistent = False
            except Exception as e:
                self._pod_event("update", update_set, pod, e)
                raise
            if consistent:
                return
            attempted = True
            try:
                await self.client.update(self.pods_ref, pod, namespace=ns)
                err = None
                break
            except ApiError as e:
                err = e
                if not is_conflict(e):
                    break
                try:
                    pod = await self.client.get(self.pods_ref, pod["metadata"]["name"], namespace=ns)
                except ApiError:
                    break
        if attempted:
            self._pod_event("update", update_set, pod, err)
        if err is not None:
            raise err

    # -- writes: claims -----------------------------------------------------------------------------
    def _cached_claim(self, namespace: str, name: str) -> Obj | None:
        pvc: Obj | None = self.pvcs.indexer.get_by_name(namespace, name)
        return pvc

    async def _create_claims(self, sts: Obj, pod: Mapping[str, Any]) -> None:
        """Create the pod's missing claims (owned as the retention policy says)."""
        errors: list[str] = []
        for _, pvc in pod_claims(sts, ordinal_of(pod)):
            existing = self._cached_claim(pvc["metadata"]["namespace"], pvc["metadata"]["name"])
            if existing is not None:
                if existing["metadata"].get("deletionTimestamp"):
                    errors.append(f"pvc {pvc['metadata']['name']} is being deleted")
                continue
            refs = [r for r in claim_owner_refs(pvc, sts, pod) if r.get("uid")]
            if refs:
                pvc["metadata"]["ownerReferences"] = refs
            try:
                await self.client.create(self.pvcs_ref, pvc, namespace=pvc["metadata"]["namespace"])
            except ApiError as e:
                if is_already_exists(e):
                    continue  # our cache is behind: the claim is there
                errors.append(f"failed to create PVC {pvc['metadata']['name']}: {_message(e)}")
                self._claim_event("create", sts, pod, pvc, e)
                continue
            self._claim_event("create", sts, pod, pvc, None)
        if errors:
            raise RuntimeError("; ".join(errors))

    async def _create_missing_claims(self, sts: Obj, pod: Obj) -> None:
        await self._create_claims(sts, pod)
        try:
            await self._update_claims_for_policy(sts, pod)
        except Exception as e:
            self._pod_event("update", sts, pod, e)
            raise

    def _claims_stale(self, sts: Obj, pod: Mapping[str, Any]) -> bool:
        """``PodClaimIsStale``: with Delete-on-scale-down, a claim still owned by an earlier pod of
        this name blocks the new pod until the garbage collector removed it."""
        if retention_policy(sts)[0] == "Retain":
            return False
        for _, pvc in pod_claims(sts, ordinal_of(pod)):
            existing = self._cached_claim(pvc["metadata"]["namespace"], pvc["metadata"]["name"])
            if existing is not None and has_stale_owner_ref(existing, pod, POD_KIND):
                return True
        return False

    def _claims_match_policy(self, sts: Obj, pod: Mapping[str, Any]) -> bool:
        for _, pvc in pod_claims(sts, ordinal_of(pod)):
            existing = self._cached_claim(pvc["metadata"]["namespace"], pvc["metadata"]["name"])
            if existing is not None and not claim_owner_up_to_date(existing, sts, pod):
                return False
        return True

    async def _update_claims_for_policy(self, sts: Obj, pod: Mapping[str, Any]) -> None:
        for _, pvc in pod_claims(sts, ordinal_of(pod)):
            existing = self._cached_claim(pvc["metadata"]["namespace"], pvc["metadata"]["name"])
            if existing is None:
                continue
            if has_unexpected_controller(existing, sts, pod):
                self.recorder.event(sts, "Warning", "ConflictingController",
                                    f"PersistentVolumeClaim {pvc['metadata']['name']} has a conflicting OwnerReference "
                                    "that acts as a manging controller, the retention policy is ignored for this claim")
            if claim_owner_up_to_date(existing, sts, pod):
                continue
            updated = deepcopy(existing)
            updated["metadata"]["ownerReferences"] = claim_owner_refs(existing, sts, pod)
            if not updated["metadata"]["ownerReferences"]:
                del updated["metadata"]["ownerReferences"]
            await self.client.update(self.pvcs_ref, updated, namespace=updated["metadata"]["namespace"])

    # -- writes: status -------------------------------------------------------------------------------
    async def _write_status(self, sts: Obj, status: Obj) -> None:
        complete_rolling_update(sts, status)
        if not status_changed(sts, status):
            return
        body = deepcopy(sts)
        ns, name = split_key(key_of(sts))
        for attempt in range(STATUS_RETRIES):
            body["status"] = wire_status(status, (body.get("status") or {}).get("conditions"))
            try:
                await self.client.update_status(self.sets_ref, body, namespace=ns)
                return
            except ApiError as e:
                if not is_conflict(e) or attempt == STATUS_RETRIES - 1:
                    raise
                body = await self.client.get(self.sets_ref, name, namespace=ns)


def _message(err: BaseException) -> str:
    if isinstance(err, ApiError):
        return err.message or str(err)
    return str(err)


def new(ctx: ControllerContext) -> StatefulSetController:
    return StatefulSetController(ctx)
