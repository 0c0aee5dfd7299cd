"""The DaemonSet controller: one daemon pod on every node that should run it.

Job: as upstream's ``pkg/controller/daemon``. For each DaemonSet and each node:

- eligibility (``should_run``): the template's ``nodeName`` (if any) and required node
  affinity plus ``nodeSelector`` must match the node, and every NoSchedule/NoExecute taint must
  be tolerated, counting the tolerations the controller adds to every daemon pod
  (``node.kubernetes.io/not-ready`` and ``unreachable`` NoExecute; ``disk-pressure``,
  ``memory-pressure``, ``pid-pressure``, ``unschedulable`` NoSchedule; ``network-unavailable``
  for host-network pods). A pod on a node whose only untolerated taints are NoSchedule keeps
  running; a cordoned node still gets its pod (``unschedulable`` is tolerated);
- placement: pods are not bound by the controller. Each gets a required node affinity
  ``matchFields metadata.name In [<node>]`` (replacing the template's required terms) and the
  scheduler binds it, as upstream does since 1.12;
- history in ControllerRevisions named ``<ds>-<hash>`` with the ``controller-revision-hash``
  label; pods carry that hash and ``pod-template-generation``;
- ``manage``: create missing pods (slow-start batches, expectations so a lagging cache never
  causes duplicates), delete pods on nodes that should not run them, extra pods on a node
  (keeping the oldest, or during a surge the new and the old until the new is available),
  failed pods (with a per-node back-off) and succeeded ones;
- ``RollingUpdate``: without surge, delete old pods while no more than ``maxUnavailable``
  nodes are without an available pod; with ``maxSurge``, start new pods next to old ones (at
  most ``maxSurge`` at a time) and delete each old pod once its replacement is available.
  ``OnDelete`` replaces pods only when the user deletes them;
- status: desired/current/misscheduled/ready/updated/available/unavailable numbers,
  observedGeneration; events ``SuccessfulCreate`` "Created pod: x-abcde", ``SuccessfulDelete``,
  ``FailedCreate``, ``FailedDelete``, ``FailedDaemonPod``, ``SucceededDaemonPod``, ``SelectingAll``.

Design: the decisions (eligibility, the per-node plan, the rolling-update plan, the status) are
pure functions of the DaemonSet, the nodes and the pods grouped by node, tested with tables;
``DaemonSetController.sync`` gathers state from the caches, calls them and writes. Nodes are
visited in name order so a plan is deterministic. Upstream sets ``pod-template-generation``
from the ``deprecated.daemonset.template.generation`` annotation its API server maintains;
where that annotation is missing the DaemonSet's ``metadata.generation`` stands in (it changes
whenever the template does, so "same generation" still implies "same template").
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubepy.api.selectors import SelectorError, from_label_selector_dict
from kubepy.client import ApiError, DeletedFinalStateUnknown, deepcopy, is_not_found, split_key
from kubepy.controllers.base import Controller, key_of, tombstone_object
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.expectations import Expectations
from kubepy.controllers.history import (
    REVISION_LABEL,
    History,
    compute_hash,
    max_revision,
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
from kubepy.controllers.statefulset import phase, pod_available, pod_ready

Obj = dict[str, Any]

TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
BURST_REPLICAS = 250
STATUS_UPDATE_RETRIES = 1
FAILED_POD_BACKOFF_INITIAL = 1.0
FAILED_POD_BACKOFF_MAX = 900.0

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"

DAEMON_TOLERATIONS: tuple[Mapping[str, str], ...] = (
    {"key": NOT_READY, "operator": "Exists", "effect": "NoExecute"},
    {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"},
    {"key": DISK_PRESSURE, "operator": "Exists", "effect": "NoSchedule"},
    {"key": MEMORY_PRESSURE, "operator": "Exists", "effect": "NoSchedule"},
    {"key": PID_PRESSURE, "operator": "Exists", "effect": "NoSchedule"},
    {"key": UNSCHEDULABLE, "operator": "Exists", "effect": "NoSchedule"},
)
HOST_NETWORK_TOLERATION: Mapping[str, str] = {"key": NETWORK_UNAVAILABLE, "operator": "Exists", "effect": "NoSchedule"}


# -- eligibility -------------------------------------------------------------------------------------

def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``: an empty effect or key matches any; ``Exists`` ignores values."""
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    if toleration.get("key") and toleration.get("key") != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return bool((toleration.get("value") or "") == (taint.get("value") or ""))
    return False


def untolerated_taint(taints: Iterable[Mapping[str, Any]], tolerations: Sequence[Mapping[str, Any]],
                      effects: Iterable[str]) -> Mapping[str, Any] | None:
    """The first taint with one of ``effects`` that no toleration tolerates."""
    wanted = set(effects)
    for taint in taints:
        if taint.get("effect") in wanted and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def _requirement_matches(req: Mapping[str, Any], value: str | None) -> bool:
    op = req.get("operator")
    values = [str(v) for v in req.get("values") or ()]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt"):
        if value is None or len(values) != 1:
            return False
        try:
            have, want = int(value), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """A NodeSelectorTerm: every expression (labels) and field (``metadata.name``) matches; an
    empty term matches nothing."""
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    labels = (node.get("metadata") or {}).get("labels") or {}
    for req in exprs:
        if not _requirement_matches(req, labels.get(req.get("key"))):
            return False
    for req in fields:
        if req.get("key") != "metadata.name" or req.get("operator") not in ("In", "NotIn"):
            return False
        if not _requirement_matches(req, (node.get("metadata") or {}).get("name")):
            return False
    return True


def node_affinity_matches(pod_spec: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """``GetRequiredNodeAffinity(pod).Match(node)``: ``nodeSelector`` and the required terms (ORed)."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return True
    return any(term_matches(t, node) for t in required.get("nodeSelectorTerms") or ())


def add_daemon_tolerations(spec: Obj) -> None:
    """``AddOrUpdateDaemonPodTolerations``: each default toleration added, or replacing one with
    the same key, operator, value and effect."""
    wanted = list(DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(HOST_NETWORK_TOLERATION)
    tolerations: list[Obj] = [dict(t) for t in spec.get("tolerations") or ()]
    for tol in wanted:
        same = [i for i, t in enumerate(tolerations) if all(
            (t.get(k) or "") == (tol.get(k) or "") for k in ("key", "operator", "value", "effect"))]
        if not same:
            tolerations.append(dict(tol))
            continue
        for i in same:
            tolerations[i] = dict(tol)
    spec["tolerations"] = tolerations


def should_run(node: Mapping[str, Any], ds: Mapping[str, Any]) -> tuple[bool, bool]:
    """``NodeShouldRunDaemonPod``: (a pod should be started here, a pod here may keep running)."""
    # a shallow copy is enough: add_daemon_tolerations replaces the list with copies
    template_spec = dict(((ds.get("spec") or {}).get("template") or {}).get("spec") or {})
    node_name = node["metadata"]["name"]
    if template_spec.get("nodeName") and template_spec["nodeName"] != node_name:
        return False, False
    add_daemon_tolerations(template_spec)
    if not node_affinity_matches(template_spec, node):
        return False, False
    taints = (node.get("spec") or {}).get("taints") or []
    tolerations = template_spec["tolerations"]
    if untolerated_taint(taints, tolerations, ("NoSchedule", "NoExecute")) is None:
        return True, True
    return False, untolerated_taint(taints, tolerations, ("NoExecute",)) is None


# -- pods --------------------------------------------------------------------------------------------

def target_node(pod: Mapping[str, Any]) -> str | None:
    """``GetTargetNodeName``: ``spec.nodeName``, else the node named by the affinity we set."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or ():
        for req in term.get("matchFields") or ():
            if req.get("key") == "metadata.name" and req.get("operator") == "In":
                values = req.get("values") or []
                return str(values[0]) if len(values) == 1 else None
    return None


def with_node_affinity(affinity: Mapping[str, Any] | None, node_name: str) -> Obj:
    """``ReplaceDaemonSetPodNodeNameNodeAffinity``: require exactly this node (other required
    terms are replaced; preferred terms and pod (anti-)affinity are kept)."""
    out: Obj = deepcopy(dict(affinity or {}))
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
    node_affinity = out.get("nodeAffinity")
    if not isinstance(node_affinity, dict):
        node_affinity = out["nodeAffinity"] = {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not isinstance(required, dict):
        required = node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {}
    required["nodeSelectorTerms"] = [term]
    return out


def template_generation(ds: Mapping[str, Any]) -> int | None:
    annotation = ((ds.get("metadata") or {}).get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    if annotation is not None:
        try:
            return int(annotation)
        except ValueError:
            return None
    gen = (ds.get("metadata") or {}).get("generation")
    return int(gen) if gen else None


def pod_template(ds: Mapping[str, Any], generation: int | None, hash_: str) -> Obj:
    """``CreatePodTemplate``: the template with daemon tolerations and the generation/hash labels."""
    template = deepcopy(dict((ds.get("spec") or {}).get("template") or {}))
    spec = template.setdefault("spec", {})
    add_daemon_tolerations(spec)
    meta = template.get("metadata")
    if not isinstance(meta, dict):
        meta = template["metadata"] = {}
    labels = meta.get("labels")
    if not isinstance(labels, dict):
        labels = meta["labels"] = {}
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = str(generation)
    if hash_:
        labels[REVISION_LABEL] = hash_
    return template


def is_pod_updated(pod: Mapping[str, Any], hash_: str, generation: int | None) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    template_matches = generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == str(generation)
    return bool(template_matches or (hash_ and labels.get(REVISION_LABEL) == hash_))


def creation_order(pod: Mapping[str, Any]) -> tuple[int, str, str]:
    """``podByCreationTimestampAndPhase``: bound pods first, then oldest, then by name."""
    meta = pod.get("metadata") or {}
    bound = 0 if (pod.get("spec") or {}).get("nodeName") else 1
    return bound, str(meta.get("creationTimestamp") or ""), str(meta.get("name") or "")


def scaled_value(value: Any, total: int, *, round_up: bool) -> int:
    """``GetScaledValueFromIntOrPercent``."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        try:
            return int(text)
        except ValueError:
            raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage") from None
    percent = int(text[:-1])
    exact = percent * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def _rolling(ds: Mapping[str, Any]) -> Mapping[str, Any] | None:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    ru = strategy.get("rollingUpdate")
    return ru if isinstance(ru, Mapping) else None


def surge_count(ds: Mapping[str, Any], total: int) -> int:
    ru = _rolling(ds)
    if ru is None or ru.get("maxSurge") is None:
        return 0
    return scaled_value(ru["maxSurge"], total, round_up=True)


def unavailable_count(ds: Mapping[str, Any], total: int) -> int:
    ru = _rolling(ds)
    if ru is None:
        return 0
    return scaled_value(ru.get("maxUnavailable"), total, round_up=True)


def allows_surge(ds: Mapping[str, Any]) -> bool:
    try:
        return surge_count(ds, 1) != 0
    except ValueError:
        return False


def find_updated_pods_on_node(pods: Sequence[Mapping[str, Any]], hash_: str, generation: int | None
                              ) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, bool]:
    """(the new pod, the old pod, True) or (None, None, False) when there is more than one of either."""
    new: Mapping[str, Any] | None = None
    old: Mapping[str, Any] | None = None
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        if is_pod_updated(pod, hash_, generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


# -- plans -------------------------------------------------------------------------------------------

@dataclass
class NodePlan:
    """What ``manage`` wants on one node."""

    create: bool = False
    delete: list[str] = field(default_factory=list)
    failed: list[Mapping[str, Any]] = field(default_factory=list)      # failed pods to delete (back-off permitting)
    succeeded: list[Mapping[str, Any]] = field(default_factory=list)   # succeeded pods being deleted


def plan_node(node: Mapping[str, Any], ds: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], hash_: str,
              now: float) -> NodePlan:
    """``podsShouldBeOnNode`` minus the failed-pod back-off (the caller applies it to ``failed``)."""
    run, keep = should_run(node, ds)
    plan = NodePlan()
    if run and not pods:
        plan.create = True
        return plan
    if keep:
        running: list[Mapping[str, Any]] = []
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                continue
            if phase(pod) == "Failed":
                plan.failed.append(pod)
            elif phase(pod) == "Succeeded":
                plan.succeeded.append(pod)
                plan.delete.append(pod["metadata"]["name"])
            else:
                running.append(pod)
        running.sort(key=creation_order)
        if not allows_surge(ds):
            plan.delete += [p["metadata"]["name"] for p in running[1:]]
            return plan
        if len(running) <= 1:
            if not running and run:
                plan.create = True
            return plan
        oldest_new: Mapping[str, Any] | None = None
        oldest_old: Mapping[str, Any] | None = None
        for pod in running:
            if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) == hash_:
                if oldest_new is None:
                    oldest_new = pod
                    continue
            elif oldest_old is None:
                oldest_old = pod
                continue
            plan.delete.append(pod["metadata"]["name"])
        if oldest_new is not None and oldest_old is not None:
            mrs = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
            if not pod_ready(oldest_old) or pod_available(oldest_new, mrs, now):
                plan.delete.append(oldest_old["metadata"]["name"])
        return plan
    for pod in pods:
        if not pod["metadata"].get("deletionTimestamp"):
            plan.delete.append(pod["metadata"]["name"])
    return plan


def rolling_update_plan(ds: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]],
                        node_pods: Mapping[str, Sequence[Mapping[str, Any]]], hash_: str,
                        now: float) -> tuple[list[str], list[str]]:
    """``rollingUpdate``: (pods to delete, nodes to start a new pod on)."""
    by_node: dict[str, Sequence[Mapping[str, Any]]] = dict(node_pods)
    desired = 0
    for node in nodes:
        if should_run(node, ds)[0]:
            desired += 1
            by_node.setdefault(node["metadata"]["name"], [])
    max_surge = surge_count(ds, desired)
    max_unavailable = unavailable_count(ds, desired)
    if desired > 0 and max_surge == 0 and max_unavailable == 0:
        max_unavailable = 1
    mrs = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    generation = template_generation(ds)

    if max_surge == 0:
        unavailable = 0
        replace: list[str] = []
        candidates: list[str] = []
        for name in sorted(by_node):
            new, old, ok = find_updated_pods_on_node(by_node[name], hash_, generation)
            if not ok:
                unavailable += 1
                continue
            if (new is None) == (old is None):
                unavailable += 1
            elif new is not None:
                if not pod_available(new, mrs, now):
                    unavailable += 1
            else:
                assert old is not None
                if not pod_available(old, mrs, now):
                    replace.append(old["metadata"]["name"])
                elif unavailable < max_unavailable:
                    candidates.append(old["metadata"]["name"])
        room = max(0, min(max_unavailable - unavailable, len(candidates)))
        return replace + candidates[:room], []

    to_delete: list[str] = []
    allowed: list[str] = []
    surge_candidates: list[str] = []
    surging = 0
    for name in sorted(by_node):
        new, old, ok = find_updated_pods_on_node(by_node[name], hash_, generation)
        if not ok:
            surging += 1
            continue
        if old is None:
            continue
        if new is None:
            if not pod_available(old, mrs, now):
                allowed.append(name)
            elif surging < max_surge:
                surge_candidates.append(name)
            continue
        if not pod_available(new, mrs, now):
            surging += 1
            continue
        to_delete.append(old["metadata"]["name"])
    room = max(0, min(max_surge - surging, len(surge_candidates)))
    return to_delete, allowed + surge_candidates[:room]


def compute_status(ds: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]],
                   node_pods: Mapping[str, Sequence[Mapping[str, Any]]], hash_: str, now: float) -> dict[str, int]:
    """The DaemonSet's status numbers (the oldest pod of each node speaks for it)."""
    desired = current = misscheduled = ready = updated = available = 0
    mrs = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
    generation = template_generation(ds)
    for node in nodes:
        run, _ = should_run(node, ds)
        pods = node_pods.get(node["metadata"]["name"]) or []
        if run:
            desired += 1
            if not pods:
                continue
            current += 1
            pod = sorted(pods, key=creation_order)[0]
            if pod_ready(pod):
                ready += 1
                if pod_available(pod, mrs, now):
                    available += 1
            if is_pod_updated(pod, hash_, generation):
                updated += 1
        elif pods:
            misscheduled += 1
    return {"desiredNumberScheduled": desired, "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled, "numberReady": ready, "updatedNumberScheduled": updated,
            "numberAvailable": available, "numberUnavailable": desired - available}


# -- failed-pod back-off -------------------------------------------------------------------------------

class FailedPodBackoff:
    """Per (DaemonSet, node) back-off for deleting failed pods (client-go's flowcontrol.Backoff,
    1 s doubling to 15 min), so a kubelet that keeps rejecting a pod is not hot-looped."""

    def __init__(self, initial: float = FAILED_POD_BACKOFF_INITIAL, maximum: float = FAILED_POD_BACKOFF_MAX) -> None:
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, tuple[float, float]] = {}   # key -> (delay, last update)

    def in_backoff(self, key: str, now: float) -> bool:
        entry = self._entries.get(key)
        return entry is not None and now - entry[1] < entry[0]

    def delay(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry[0] if entry else 0.0

    def next(self, key: str, now: float) -> None:
        entry = self._entries.get(key)
        if entry is None or now - entry[1] > 2 * self.maximum:
            self._entries[key] = (self.initial, now)
        else:
            self._entries[key] = (min(entry[0] * 2, self.maximum), now)

    def gc(self, now: float) -> None:
        for key, (_, last) in list(self._entries.items()):
            if now - last > 2 * self.maximum:
                del self._entries[key]


# -- the controller ------------------------------------------------------------------------------------

class DaemonSetController(Controller):
    NAME = "daemonset"
    WORKERS = 2

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        f = ctx.informers
        self.ds_ref = self.client.resource("apps/v1", "daemonsets")
        self.pods_ref = self.client.resource("v1", "pods")
        self.daemonsets = f.for_resource("apps/v1", "daemonsets")
        self.pods = f.for_resource("v1", "pods")
        self.nodes = f.for_resource("v1", "nodes")
        self.revisions = f.for_resource("apps/v1", "controllerrevisions")
        self.history = History(self.client, self.revisions.indexer)
        self.expectations = Expectations(ctx.clock)
        self.failed_backoff = FailedPodBackoff()
        self.daemonsets.add_event_handler(on_add=self.enqueue, on_update=lambda old, new: self.enqueue(new),
                                          on_delete=self.enqueue)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted)
        self.nodes.add_event_handler(on_add=self._node_added, on_update=self._node_updated,
                                     on_delete=lambda obj: self._enqueue_all())
        self.revisions.add_event_handler(on_add=self._revision_changed,
                                         on_update=lambda old, new: self._revision_changed(new),
                                         on_delete=self._revision_changed)

    def informers(self) -> list[Any]:
        return [self.daemonsets, self.pods, self.nodes, self.revisions]

    def now(self) -> float:
        return self.clock.time()

    # -- event handlers ---------------------------------------------------------------------------
    def _enqueue_all(self) -> None:
        for ds in self.daemonsets.indexer.list():
            self.enqueue(ds)

    def _ds_for_ref(self, namespace: str, ref: Mapping[str, Any] | None) -> Obj | None:
        return owner_for_ref(self.daemonsets.indexer, namespace, ref, "DaemonSet")

    def _selecting(self, obj: Mapping[str, Any]) -> list[Obj]:
        return owners_selecting(self.daemonsets.indexer, obj)

    def _pod_added(self, pod: Obj) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        ref = controller_of(pod)
        if ref is not None:
            ds = self._ds_for_ref(pod["metadata"].get("namespace", ""), ref)
            if ds is not None:
                self.expectations.observed_add(key_of(ds))
                self.enqueue(ds)
            return
        for ds in self._selecting(pod):
            self.enqueue(ds)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if new["metadata"].get("deletionTimestamp"):
            self._pod_deleted(new)
            return
        ns = new["metadata"].get("namespace", "")
        old_ref, new_ref = controller_of(old), controller_of(new)
        ref_changed = (old_ref or {}).get("uid") != (new_ref or {}).get("uid")
        if ref_changed and old_ref is not None:
            prev = self._ds_for_ref(ns, old_ref)
            if prev is not None:
                self.enqueue(prev)
        if new_ref is not None:
            ds = self._ds_for_ref(ns, new_ref)
            if ds is None:
                return
            self.enqueue(ds)
            mrs = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
            if mrs > 0 and not pod_ready(old) and pod_ready(new):
                self.enqueue_after(ds, float(mrs) + 1.0)
            return
        if ref_changed or (old["metadata"].get("labels") or {}) != (new["metadata"].get("labels") or {}):
            for ds in self._selecting(new):
                self.enqueue(ds)

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = tombstone_object(obj)
        ds = self._ds_for_ref(pod["metadata"].get("namespace", ""), controller_of(pod))
        if ds is not None:
            self.expectations.observed_delete(key_of(ds))
            self.enqueue(ds)

    def _node_added(self, node: Obj) -> None:
        for ds in self.daemonsets.indexer.list():
            if should_run(node, ds)[0]:
                self.enqueue(ds)

    def _node_updated(self, old: Obj, new: Obj) -> None:
        for ds in self.daemonsets.indexer.list():
            if should_run(old, ds) != should_run(new, ds):
                self.enqueue(ds)

    def _revision_changed(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        rev = tombstone_object(obj)
        ref = controller_of(rev)
        if ref is not None:
            ds = self._ds_for_ref(rev["metadata"].get("namespace", ""), ref)
            if ds is not None:
                self.enqueue(ds)
            return
        for ds in self._selecting(rev):
            self.enqueue(ds)

    # -- sync -------------------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        cached = self.daemonsets.indexer.get_by_key(key)
        if cached is None:
            self.expectations.forget(key)
            return
        ds = deepcopy(cached)
        selector_dict = (ds.get("spec") or {}).get("selector")
        if selector_dict == {}:
            self.recorder.event(ds, "Warning", "SelectingAll",
                                "This daemon set is selecting all pods. A non-empty selector is required.")
            return
        try:
            selector = from_label_selector_dict(selector_dict)
        except SelectorError as e:
            self.log.warning("DaemonSet %s has an invalid selector: %s", key, e)
            return
        if ds["metadata"].get("deletionTimestamp"):
            return
        nodes = sorted(self.nodes.indexer.list(), key=lambda n: str(n["metadata"]["name"]))
        current, old = await self._construct_history(ds, selector)
        hash_ = str((current["metadata"].get("labels") or {}).get(REVISION_LABEL) or "")
        if not self.expectations.satisfied(key):
            await self._update_status(ds, nodes, hash_, selector, observed_generation=False)
            return
        error: BaseException | None = None
        try:
            await self._manage(ds, nodes, hash_, selector)
            if self.expectations.satisfied(key) and _rolling(ds) is not None:
                node_pods = await self._node_pods(ds, selector)
                to_delete, to_create = rolling_update_plan(ds, nodes, node_pods, hash_, self.now())
                await self._sync_nodes(ds, to_delete, to_create, hash_)
            await self._cleanup_history(ds, old, selector)
        except Exception as e:  # noqa: BLE001 - status is still written, then the error retried
            error = e
        try:
            await self._update_status(ds, nodes, hash_, selector, observed_generation=True)
        except Exception as e:  # noqa: BLE001
            if error is None:
                error = e
            else:
                self.log.info("failed to update status of %s: %s", key, e)
        if error is not None:
            raise error

    # -- claiming ---------------------------------------------------------------------------------
    async def _can_adopt(self, ds: Mapping[str, Any]) -> bool:
        if ds["metadata"].get("deletionTimestamp"):
            return False
        fresh = await self.client.get(self.ds_ref, ds["metadata"]["name"], namespace=ds["metadata"]["namespace"])
        if fresh["metadata"].get("uid") != ds["metadata"].get("uid"):
            raise RuntimeError(f"original DaemonSet {key_of(ds)} is gone")
        return not fresh["metadata"].get("deletionTimestamp")

    async def _claim(self, ds: Obj, ref: Any, candidates: list[Obj], selector: Any) -> list[Mapping[str, Any]]:
        ns = ds["metadata"]["namespace"]
        owned, adopt, release = claim(ds, candidates, lambda o: selector.matches(o["metadata"].get("labels") or {}))
        failed: set[str] = set()
        if adopt:
            if await self._can_adopt(ds):
                for obj in adopt:
                    try:
                        await self.client.patch(ref, obj["metadata"]["name"], adopt_patch(ds, obj), namespace=ns,
                                                type="strategic")
                    except ApiError as e:
                        if not is_not_found(e):
                            raise
                        failed.add(obj["metadata"]["uid"])
            else:
                failed = {o["metadata"]["uid"] for o in adopt}
        for obj in release:
            try:
                await self.client.patch(ref, obj["metadata"]["name"], release_patch(ds, obj), namespace=ns,
                                        type="strategic")
            except ApiError as e:
                if e.code not in (404, 422):
                    raise
        return [o for o in owned if o["metadata"]["uid"] not in failed]

    async def _node_pods(self, ds: Obj, selector: Any) -> dict[str, list[Mapping[str, Any]]]:
        """``getNodesToDaemonPods``: claimed pods by the node they are on or meant for."""
        pods = await self._claim(ds, self.pods_ref, self.pods.indexer.by_namespace(ds["metadata"]["namespace"]),
                                 selector)
        out: dict[str, list[Mapping[str, Any]]] = {}
        for pod in pods:
            if phase(pod) in ("Succeeded", "Failed") and pod["metadata"].get("deletionTimestamp"):
                continue
            node = target_node(pod)
            if node is None:
                continue
            out.setdefault(node, []).append(pod)
        return out

    # -- history ----------------------------------------------------------------------------------
    async def _construct_history(self, ds: Obj, selector: Any) -> tuple[Obj, list[Obj]]:
        """``constructHistory``: the revision matching the template (made or renumbered as needed)
        and the older ones."""
        ns = ds["metadata"]["namespace"]
        revisions = await self._claim(ds, self.history.ref, self.revisions.indexer.by_namespace(ns), selector)
        patch = template_patch(ds)
        current: list[Obj] = []
        old: list[Obj] = []
        for rev in revisions:
            rev_obj = dict(rev)
            if REVISION_LABEL not in (rev_obj["metadata"].get("labels") or {}):
                body = deepcopy(rev_obj)
                body["metadata"].setdefault("labels", {})[REVISION_LABEL] = body["metadata"]["name"]
                rev_obj = await self.client.update(self.history.ref, body, namespace=ns)
            (current if rev_obj.get("data") == patch else old).append(rev_obj)
        number = max_revision(old) + 1
        if not current:
            return await self._snapshot(ds, number), old
        cur = await self._dedup(ds, current, selector)
        if int(cur.get("revision") or 0) < number:
            cur = await self.history.set_revision_number(cur, number)
        return cur, old

    async def _snapshot(self, ds: Obj, number: int) -> Obj:
        ns, name = ds["metadata"]["namespace"], ds["metadata"]["name"]
        status_cc = (ds.get("status") or {}).get("collisionCount")
        template = (ds.get("spec") or {}).get("template") or {}
        hash_ = compute_hash(template, status_cc)
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[REVISION_LABEL] = hash_
        meta: Obj = {"name": f"{name}-{hash_}", "namespace": ns, "labels": labels,
                     "ownerReferences": [owner_reference(ds)]}
        if ds["metadata"].get("annotations"):
            meta["annotations"] = dict(ds["metadata"]["annotations"])
        revision = {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": meta,
                    "data": template_patch(ds), "revision": number}
        try:
            created: Obj = await self.client.create(self.history.ref, revision, namespace=ns)
            return created
        except ApiError as e:
            if e.code != 409:
                raise
            existing: Obj = await self.client.get(self.history.ref, meta["name"], namespace=ns)
            if existing.get("data") == revision["data"]:
                return existing
            fresh = await self.client.get(self.ds_ref, name, namespace=ns)
            fresh_cc = (fresh.get("status") or {}).get("collisionCount")
            if fresh_cc != status_cc:
                raise RuntimeError(f"found a stale collision count ({status_cc}, expected {fresh_cc}) of DaemonSet "
                                   f"{name!r} while processing; will retry until it is updated") from e
            fresh.setdefault("status", {})["collisionCount"] = int(fresh_cc or 0) + 1
            await self.client.update_status(self.ds_ref, fresh, namespace=ns)
            raise

    async def _dedup(self, ds: Obj, current: list[Obj], selector: Any) -> Obj:
        """Keep the highest-numbered of several identical revisions; relabel pods of the others."""
        if len(current) == 1:
            return current[0]
        keep = max(current, key=lambda r: int(r.get("revision") or 0))
        keep_hash = (keep["metadata"].get("labels") or {}).get(REVISION_LABEL)
        ns = ds["metadata"]["namespace"]
        for rev in current:
            if rev is keep:
                continue
            node_pods = await self._node_pods(ds, selector)
            for pods in node_pods.values():
                for pod in pods:
                    if (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != keep_hash:
                        await self.client.patch(self.pods_ref, pod["metadata"]["name"],
                                                {"metadata": {"labels": {REVISION_LABEL: keep_hash}}},
                                                namespace=ns, type="merge")
            await self.history.delete(rev)
        return keep

    async def _cleanup_history(self, ds: Obj, old: list[Obj], selector: Any) -> None:
        """Delete the oldest revisions beyond revisionHistoryLimit that no pod runs."""
        limit = (ds.get("spec") or {}).get("revisionHistoryLimit")
        to_kill = len(old) - (10 if limit is None else int(limit))
        if to_kill <= 0:
            return
        node_pods = await self._node_pods(ds, selector)
        live = {(p["metadata"].get("labels") or {}).get(REVISION_LABEL) for pods in node_pods.values() for p in pods}
        for rev in sort_revisions(old):
            if to_kill <= 0:
                break
            if (rev["metadata"].get("labels") or {}).get(REVISION_LABEL) in live:
                continue
            await self.history.delete(rev)
            to_kill -= 1

    # -- pods -------------------------------------------------------------------------------------
    async def _manage(self, ds: Obj, nodes: Sequence[Obj], hash_: str, selector: Any) -> None:
        node_pods = await self._node_pods(ds, selector)
        now = self.now()
        create: list[str] = []
        delete: list[str] = []
        status = ds.get("status") or {}
        for node in nodes:
            node_name = node["metadata"]["name"]
            plan = plan_node(node, ds, node_pods.get(node_name) or [], hash_, now)
            if plan.create:
                create.append(node_name)
            for pod in plan.failed:
                backoff_key = f"{ds['metadata']['uid']}/{status.get('observedGeneration', 0)}/{node_name}"
                if self.failed_backoff.in_backoff(backoff_key, now):
                    self.enqueue_after(ds, self.failed_backoff.delay(backoff_key))
                    continue
                self.failed_backoff.next(backoff_key, now)
                self.recorder.event(ds, "Warning", "FailedDaemonPod",
                                    f"Found failed daemon pod {pod['metadata'].get('namespace')}/"
                                    f"{pod['metadata']['name']} on node {node_name}, will try to kill it")
                delete.append(pod["metadata"]["name"])
            for pod in plan.succeeded:
                self.recorder.event(ds, "Normal", "SucceededDaemonPod",
                                    f"Found succeeded daemon pod {pod['metadata'].get('namespace')}/"
                                    f"{pod['metadata']['name']} on node {node_name}, will try to delete it")
            delete += plan.delete
        # unscheduled pods meant for nodes that no longer exist
        existing = {n["metadata"]["name"] for n in nodes}
        for node_name, pods in node_pods.items():
            if node_name in existing:
                continue
            for pod in pods:
                if not (pod.get("spec") or {}).get("nodeName") and not pod["metadata"].get("deletionTimestamp"):
                    delete.append(pod["metadata"]["name"])
        await self._sync_nodes(ds, delete, create, hash_)

    async def _sync_nodes(self, ds: Obj, to_delete: Sequence[str], to_create: Sequence[str], hash_: str) -> None:
        """``syncNodes``: record expectations, create in slow-start batches, delete the rest."""
        key = key_of(ds)
        ns = ds["metadata"]["namespace"]
        create_diff = min(len(to_create), BURST_REPLICAS)
        delete_diff = min(len(to_delete), BURST_REPLICAS)
        self.expectations.expect(key, adds=create_diff, deletes=delete_diff)
        template = pod_template(ds, template_generation(ds), hash_)
        errors: list[BaseException] = []

        async def create_one(node_name: str) -> None:
            pod = pod_from_template(template, ds, generate_name=f"{ds['metadata']['name']}-")
            pod["spec"]["affinity"] = with_node_affinity(pod["spec"].get("affinity"), node_name)
            try:
                if not pod["metadata"].get("labels"):
                    raise ValueError("unable to create pods, no labels")
                created = await self.client.create(self.pods_ref, pod, namespace=ns)
            except Exception as e:  # noqa: BLE001 - counted, reported, retried
                if isinstance(e, ApiError) and _namespace_terminating(e):
                    return
                self.recorder.event(ds, "Warning", "FailedCreate", f"Error creating: {_message(e)}")
                self.expectations.observed_add(key)
                errors.append(e)
                return
            self.recorder.event(ds, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")

        pos, batch = 0, 1
        while pos < create_diff:
            size = min(batch, create_diff - pos)
            seen = len(errors)
            await asyncio.gather(*(create_one(n) for n in to_create[pos:pos + size]))
            pos += size
            if len(errors) > seen:
                skipped = create_diff - pos
                if skipped > 0:
                    self.expectations.lower(key, adds=skipped)
                break
            batch = size * 2

        async def delete_one(name: str) -> None:
            try:
                await self.client.delete(self.pods_ref, name, namespace=ns)
            except ApiError as e:
                self.expectations.observed_delete(key)
                if is_not_found(e):
                    return
                self.recorder.event(ds, "Warning", "FailedDelete", f"Error deleting: {_message(e)}")
                errors.append(e)
                return
            self.recorder.event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

        await asyncio.gather(*(delete_one(n) for n in to_delete[:delete_diff]))
        if errors:
            raise errors[0]

    # -- status -----------------------------------------------------------------------------------
    async def _update_status(self, ds: Obj, nodes: Sequence[Obj], hash_: str, selector: Any, *,
                             observed_generation: bool) -> None:
        node_pods = await self._node_pods(ds, selector)
        now = self.now()
        numbers = compute_status(ds, nodes, node_pods, hash_, now)
        old = ds.get("status") or {}
        generation = int(ds["metadata"].get("generation") or 0)
        if all(int(old.get(k) or 0) == v for k, v in numbers.items()) and \
                int(old.get("observedGeneration") or 0) >= generation:
            self._requeue_for_availability(ds, numbers)
            return
        body = deepcopy(ds)
        ns, name = split_key(key_of(ds))
        for attempt in range(STATUS_UPDATE_RETRIES + 1):
            status = body.setdefault("status", {})
            if observed_generation:
                status["observedGeneration"] = generation
            status.update(numbers)
            for omitempty in _OMIT_EMPTY_STATUS:
                if not status.get(omitempty):
                    status.pop(omitempty, None)
            try:
                await self.client.update_status(self.ds_ref, body, namespace=ns)
                break
            except ApiError:
                if attempt >= STATUS_UPDATE_RETRIES:
                    raise
                body = await self.client.get(self.ds_ref, name, namespace=ns)
        self._requeue_for_availability(ds, numbers)

    def _requeue_for_availability(self, ds: Obj, numbers: Mapping[str, int]) -> None:
        mrs = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        if mrs > 0 and numbers["numberReady"] != numbers["numberAvailable"]:
            self.enqueue_after(ds, float(mrs))


#: DaemonSetStatus fields Go leaves out when zero
_OMIT_EMPTY_STATUS = ("observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable")


def _namespace_terminating(e: ApiError) -> bool:
    return any(c.get("type") == "NamespaceTerminating" for c in e.details.get("causes") or ())


def _message(err: BaseException) -> str:
    if isinstance(err, ApiError):
        return err.message or str(err)
    return str(err)


def new(ctx: ControllerContext) -> DaemonSetController:
    return DaemonSetController(ctx)


__all__ = [
    "DAEMON_TOLERATIONS",
    "DaemonSetController",
    "FailedPodBackoff",
    "NodePlan",
    "add_daemon_tolerations",
    "compute_status",
    "find_updated_pods_on_node",
    "is_pod_updated",
    "new",
    "node_affinity_matches",
    "plan_node",
    "pod_template",
    "rolling_update_plan",
    "scaled_value",
    "should_run",
    "target_node",
    "template_generation",
    "term_matches",
    "tolerates",
    "untolerated_taint",
    "with_node_affinity",
]
