"""The node lifecycle controller: node health from heartbeats, condition taints, taint eviction.

Job, in three parts (upstream's node lifecycle controller plus its taint-eviction controller):

1. **Health monitor** (every ``node_monitor_period``): a node is alive while its Lease in
   ``kube-node-lease`` is renewed or its Ready condition's heartbeat changes. One silent for
   ``node_monitor_grace_period`` (``node_startup_grace_period`` before it ever posted Ready)
   gets Ready, MemoryPressure, DiskPressure and PIDPressure set to Unknown (reason
   ``NodeStatusUnknown``, "Kubelet stopped posting node status."). When Ready stops being
   True the node gets a ``NodeNotReady`` event and its pods are marked not Ready. Nodes whose
   Ready is False get the ``node.kubernetes.io/not-ready:NoExecute`` taint, Unknown ones
   ``node.kubernetes.io/unreachable:NoExecute``; both go when the node is Ready again. New
   NoExecute taints are rate-limited per zone (``node_eviction_rate``, 0.1 nodes/s; in a
   zone where >55% of more than two nodes are down, ``secondary_node_eviction_rate`` for
   zones over 50 nodes, else none), and when every node of every zone is down the
   controller assumes the fault is its own ("master disruption mode"): it removes the
   NoExecute taints and taints nothing until some node is Ready again.
2. **Condition taints** (on every node change): NoSchedule taints mirror the conditions
   (not-ready, unreachable, memory-pressure, disk-pressure, pid-pressure,
   network-unavailable) and ``spec.unschedulable`` (unschedulable).
3. **Taint eviction**: a pod on a node with NoExecute taints it does not tolerate is deleted
   at once; one that tolerates them all for a limited ``tolerationSeconds`` is deleted when
   the shortest one has passed since the taint was first seen (a toleration without
   ``tolerationSeconds`` tolerates forever). Before deleting, the pod gets the
   ``DisruptionTarget`` condition (reason ``DeletionByTaintManager``) and a
   ``TaintManagerEviction`` event; a scheduled deletion cancelled by the taint going away
   gets "Cancelling deletion" as its event.

Design: the monitor computes (health, zone states, which NoExecute taint each node should
carry) and writes only node status; all taint writes go through the work queue (key
``node:<name>``), whose sync brings a node's controller-owned taints to the computed state
with one conditional update, and all pod work through keys ``pod:<ns>/<name>``, whose sync
marks the pod not Ready or evicts it, re-queueing itself with a delay for a pending
``tolerationSeconds``. Time comes from the context's clock, and the grace and monitor
periods from options, so tests run in fake or real seconds. Upstream's separate
``taint-eviction-controller`` is part of this controller here (manager.py has no entry for
it). Pods get no default ``not-ready``/``unreachable`` tolerations of 300 s yet: upstream's
DefaultTolerationSeconds admission plugin adds them, so until kubepy's API server does,
pods without tolerations are evicted as soon as the taint lands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubepy.client import (
    ApiError,
    DeletedFinalStateUnknown,
    TokenBucket,
    deepcopy,
    is_not_found,
    object_of,
)
from kubepy.client.events import rfc3339
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.podcontrol import is_ready

Obj = dict[str, Any]

NODE_LEASE_NAMESPACE = "kube-node-lease"
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"

#: condition type -> condition status -> NoSchedule taint key
CONDITION_TAINTS: dict[str, dict[str, str]] = {
    "Ready": {"False": NOT_READY, "Unknown": UNREACHABLE},
    "MemoryPressure": {"True": MEMORY_PRESSURE},
    "DiskPressure": {"True": DISK_PRESSURE},
    "NetworkUnavailable": {"True": NETWORK_UNAVAILABLE},
    "PIDPressure": {"True": PID_PRESSURE},
}
CONDITION_TAINT_KEYS = frozenset(k for m in CONDITION_TAINTS.values() for k in m.values())
UNKNOWN_ON_SILENCE = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
BETA_ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone"
BETA_REGION_LABEL = "failure-domain.beta.kubernetes.io/region"

NODE_INDEX = "nodelifecycle-controller/node"

STATE_INITIAL = "Initial"
STATE_NORMAL = "Normal"
STATE_FULL_DISRUPTION = "FullDisruption"
STATE_PARTIAL_DISRUPTION = "PartialDisruption"

DISRUPTION_MESSAGE = "Taint manager: deleting due to NoExecute taint"


def node_index(pod: Obj) -> list[str]:
    name = (pod.get("spec") or {}).get("nodeName")
    return [name] if name else []


# -- pure helpers ------------------------------------------------------------------------------

def condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == type_:
            return c  # type: ignore[no-any-return]
    return None


def ready_status(node: Mapping[str, Any]) -> str | None:
    """The node's Ready condition status ("True"/"False"/"Unknown"), None if it has none."""
    c = condition(node, "Ready")
    return None if c is None else str(c.get("status"))


def zone_key(node: Mapping[str, Any]) -> str:
    """Upstream's GetZoneKey: ``region:\\x00:zone`` from the topology labels, "" without them."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    zone = labels.get(ZONE_LABEL) or labels.get(BETA_ZONE_LABEL) or ""
    region = labels.get(REGION_LABEL) or labels.get(BETA_REGION_LABEL) or ""
    if not zone and not region:
        return ""
    return f"{region}:\x00:{zone}"


def zone_state(ready_statuses: Iterable[str | None], *, unhealthy_threshold: float = 0.55) -> str:
    """Upstream's ComputeZoneState over the Ready statuses of a zone's nodes."""
    ready = not_ready = 0
    for status in ready_statuses:
        if status == "True":
            ready += 1
        else:
            not_ready += 1
    if ready == 0 and not_ready > 0:
        return STATE_FULL_DISRUPTION
    if not_ready > 2 and not_ready / (ready + not_ready) >= unhealthy_threshold:
        return STATE_PARTIAL_DISRUPTION
    return STATE_NORMAL


def no_schedule_taint_keys(node: Mapping[str, Any]) -> set[str]:
    """The condition NoSchedule taint keys a node should carry."""
    keys: set[str] = set()
    for c in (node.get("status") or {}).get("conditions") or ():
        key = CONDITION_TAINTS.get(c.get("type", ""), {}).get(c.get("status", ""))
        if key:
            keys.add(key)
    if (node.get("spec") or {}).get("unschedulable"):
        keys.add(UNSCHEDULABLE)
    return keys


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """core/v1 Toleration.ToleratesTaint."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return op == "Exists"


def matching_tolerations(taints: Iterable[Mapping[str, Any]],
                         tolerations: Iterable[Mapping[str, Any]]) -> tuple[bool, list[Mapping[str, Any]]]:
    """(every taint tolerated, the toleration used for each taint)."""
    tolerations = list(tolerations)
    used: list[Mapping[str, Any]] = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates(t, taint)), None)
        if match is None:
            return False, []
        used.append(match)
    return True, used


def min_toleration_seconds(used: Iterable[Mapping[str, Any]]) -> float:
    """Seconds until eviction: 0 now, -1 never (no used toleration limits its time)."""
    used = list(used)
    if not used:
        return 0.0
    best: float | None = None
    for t in used:
        seconds = t.get("tolerationSeconds")
        if seconds is None:
            continue
        if seconds <= 0:
            return 0.0
        best = seconds if best is None else min(best, seconds)
    return -1.0 if best is None else float(best)


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _ref(kind: str, obj: Mapping[str, Any]) -> Obj:
    meta = obj.get("metadata") or {}
    out: Obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": meta.get("name", "")}}
    for k in ("namespace", "uid"):
        if meta.get(k):
            out["metadata"][k] = meta[k]
    return out


@dataclass(slots=True)
class NodeHealth:
    probe_timestamp: float
    ready_transition_timestamp: float
    ready: Mapping[str, Any] | None  # the Ready condition last seen
    lease_renew: datetime | None


# -- the controller ----------------------------------------------------------------------------

class NodeLifecycleController(Controller):
    NAME = "nodelifecycle"
    WORKERS = 4

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        opts = ctx.options
        self.grace_period = float(opts.get("node_monitor_grace_period") or 40.0)
        self.startup_grace_period = float(opts.get("node_startup_grace_period") or 60.0)
        self.monitor_period = float(opts.get("node_monitor_period") or min(5.0, max(0.2, self.grace_period / 4)))
        self.eviction_rate = float(opts.get("node_eviction_rate", 0.1))
        self.secondary_eviction_rate = float(opts.get("secondary_node_eviction_rate", 0.01))
        self.large_cluster_threshold = int(opts.get("large_cluster_size_threshold", 50))
        self.unhealthy_zone_threshold = float(opts.get("unhealthy_zone_threshold", 0.55))
        self.nodes_ref = self.client.resource("v1", "nodes")
        self.pods_ref = self.client.resource("v1", "pods")
        self.nodes = ctx.informers.for_resource("v1", "nodes")
        self.leases = ctx.informers.for_resource("coordination.k8s.io/v1", "leases", namespace=NODE_LEASE_NAMESPACE)
        self.pods = ctx.informers.for_resource("v1", "pods", indexers={NODE_INDEX: node_index})
        self.health: dict[str, NodeHealth] = {}
        self.known_nodes: set[str] = set()
        self.zone_states: dict[str, str] = {}
        self._zone_limiters: dict[str, TokenBucket | None] = {}
        #: node -> the NoExecute taint key it should carry (None: neither); absent: not decided yet
        self.no_execute: dict[str, str | None] = {}
        #: nodes waiting (per zone, in order) for a token to get their NoExecute taint
        self._tainting: dict[str, dict[str, str]] = {}
        #: pod key -> monotonic time its eviction was first scheduled
        self.evictions: dict[str, float] = {}
        self.nodes.add_event_handler(on_add=self._node_added, on_update=self._node_updated,
                                     on_delete=self._node_deleted)
        self.pods.add_event_handler(on_add=self._pod_changed, on_update=self._pod_updated,
                                    on_delete=self._pod_deleted)

    def informers(self) -> list[Any]:
        return [self.nodes, self.leases, self.pods]

    # -- event handlers ---------------------------------------------------------------------
    def _node_added(self, node: Obj) -> None:
        self.queue.add("node:" + node["metadata"]["name"])
        self._enqueue_pods_on(node["metadata"]["name"])

    def _node_updated(self, old: Obj, new: Obj) -> None:
        name = new["metadata"]["name"]
        self.queue.add("node:" + name)
        old_ne = [t for t in (old.get("spec") or {}).get("taints") or () if t.get("effect") == NO_EXECUTE]
        new_ne = [t for t in (new.get("spec") or {}).get("taints") or () if t.get("effect") == NO_EXECUTE]
        if old_ne != new_ne or ready_status(old) != ready_status(new):
            self._enqueue_pods_on(name)

    def _node_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        name = object_of(obj)["metadata"]["name"]
        self.no_execute.pop(name, None)
        for pending in self._tainting.values():
            pending.pop(name, None)

    def _enqueue_pods_on(self, node_name: str) -> None:
        for pod in self.pods.indexer.by_index(NODE_INDEX, node_name):
            self.queue.add("pod:" + _pod_key(pod))

    def _pod_changed(self, pod: Obj) -> None:
        if (pod.get("spec") or {}).get("nodeName"):
            self.queue.add("pod:" + _pod_key(pod))

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        o_spec, n_spec = old.get("spec") or {}, new.get("spec") or {}
        if not n_spec.get("nodeName"):
            return
        if (o_spec.get("nodeName") != n_spec.get("nodeName") or o_spec.get("tolerations") != n_spec.get("tolerations")
                or is_ready(old) != is_ready(new)
                or bool(old["metadata"].get("deletionTimestamp")) != bool(new["metadata"].get("deletionTimestamp"))):
            self.queue.add("pod:" + _pod_key(new))

    def _pod_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self.evictions.pop(_pod_key(object_of(obj)), None)

    # -- running ----------------------------------------------------------------------------
    async def run(self, workers: int | None = None) -> None:
        for inf in self.informers():
            await inf.wait_for_sync()
        monitor = asyncio.create_task(self._monitor_loop(), name="nodelifecycle-monitor")
        try:
            await super().run(workers)
        finally:
            monitor.cancel()
            await asyncio.gather(monitor, return_exceptions=True)

    async def _monitor_loop(self) -> None:
        while True:
            try:
                await self.monitor_node_health()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the next pass tries again
                self.log.exception("node health monitor pass failed")
            await self.clock.sleep(self.monitor_period)

    def _rfc3339_now(self) -> str:
        return rfc3339(self.clock.time())

    # -- 1. health monitor --------------------------------------------------------------------
    async def monitor_node_health(self) -> None:
        """One pass over all nodes: health, Unknown conditions, zone states, NoExecute decisions."""
        nodes = self.nodes.indexer.list()
        names = {n["metadata"]["name"] for n in nodes}
        for node in nodes:
            name = node["metadata"]["name"]
            if name not in self.known_nodes:
                self.known_nodes.add(name)
                self.recorder.event(_ref("Node", node), "Normal", "RegisteredNode",
                                    f"Node {name} event: Registered Node {name} in Controller")
                self.zone_states.setdefault(zone_key(node), STATE_INITIAL)
                self._zone_limiters.setdefault(zone_key(node), self._limiter(self.eviction_rate))
        for name in sorted(self.known_nodes - names):
            self.known_nodes.discard(name)
            self.health.pop(name, None)
            self.recorder.event({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}, "Normal",
                                "RemovingNode", f"Node {name} event: Removing Node {name} from Controller")

        zone_ready: dict[str, list[str | None]] = {}
        for node in nodes:
            name = node["metadata"]["name"]
            try:
                observed, current = await self._update_health(node)
            except ApiError as e:
                self.log.info("could not update health of node %s: %s", name, e)
                continue
            zone_ready.setdefault(zone_key(node), []).append(current)
            self._decide_no_execute(node, current)
            if current != "True" and observed == "True":
                self.recorder.event(_ref("Node", node), "Normal", "NodeNotReady",
                                    f"Node {name} status is now: NodeNotReady")
                self._enqueue_pods_on(name)
        self._handle_disruption(zone_ready, nodes)
        self._taint_pass()

    async def _update_health(self, node: Obj) -> tuple[str | None, str | None]:
        """Refresh the node's health record; set its conditions Unknown when it went silent.
        Returns the Ready status (observed before, current after)."""
        now = self.clock.monotonic()
        name = node["metadata"]["name"]
        ready = condition(node, "Ready")
        grace = self.grace_period if ready is not None else self.startup_grace_period
        observed = None if ready is None else str(ready.get("status"))
        health = self.health.get(name)
        if health is None:
            health = NodeHealth(now, now, ready, None)
            self.health[name] = health
        elif (health.ready is None) != (ready is None):
            health.probe_timestamp = health.ready_transition_timestamp = now
            health.ready = ready
        elif ready is not None and health.ready is not None and \
                health.ready.get("lastHeartbeatTime") != ready.get("lastHeartbeatTime"):
            if health.ready.get("lastTransitionTime") != ready.get("lastTransitionTime"):
                health.ready_transition_timestamp = now
            health.probe_timestamp = now
            health.ready = ready
        lease = self.leases.indexer.get_by_key(f"{NODE_LEASE_NAMESPACE}/{name}")
        renew = _parse_time(((lease or {}).get("spec") or {}).get("renewTime"))
        if renew is not None and (health.lease_renew is None or health.lease_renew < renew):
            health.lease_renew = renew
            health.probe_timestamp = now
        if now <= health.probe_timestamp + grace:
            return observed, observed
        updated = deepcopy(node)
        conditions = updated.setdefault("status", {}).setdefault("conditions", [])
        stamp = self._rfc3339_now()
        changed = False
        for type_ in UNKNOWN_ON_SILENCE:
            c = next((c for c in conditions if c.get("type") == type_), None)
            if c is None:
                conditions.append({"type": type_, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                                   "message": "Kubelet never posted node status.",
                                   "lastHeartbeatTime": node["metadata"].get("creationTimestamp"),
                                   "lastTransitionTime": stamp})
                changed = True
            elif c.get("status") != "Unknown":
                c.update(status="Unknown", reason="NodeStatusUnknown",
                         message="Kubelet stopped posting node status.", lastTransitionTime=stamp)
                changed = True
        if not changed:
            return observed, observed
        written = await self.client.update_status(self.nodes_ref, updated)
        health.ready = condition(written, "Ready")
        health.ready_transition_timestamp = now
        return observed, "Unknown"

    def _decide_no_execute(self, node: Obj, ready: str | None) -> None:
        """Upstream's processTaintBaseEviction: which NoExecute taint the node should carry."""
        name = node["metadata"]["name"]
        taints = {t.get("key") for t in (node.get("spec") or {}).get("taints") or () if t.get("effect") == NO_EXECUTE}
        if ready in ("False", "Unknown"):
            want, opposite = (NOT_READY, UNREACHABLE) if ready == "False" else (UNREACHABLE, NOT_READY)
            decided = self.no_execute.get(name)
            if opposite in taints or decided == opposite:
                self.no_execute[name] = want  # swapping one for the other is not rate-limited
                self.queue.add("node:" + name)
            elif want in taints:
                self.no_execute[name] = want
            elif decided != want:
                self._tainting.setdefault(zone_key(node), {})[name] = want
        elif ready == "True":
            self._mark_reachable(name, node)

    def _mark_reachable(self, name: str, node: Mapping[str, Any] | None = None) -> None:
        for pending in self._tainting.values():
            pending.pop(name, None)
        had = self.no_execute.get(name)
        self.no_execute[name] = None
        taints = {t.get("key") for t in ((node or {}).get("spec") or {}).get("taints") or ()
                  if t.get("effect") == NO_EXECUTE}
        if had is not None or taints & {NOT_READY, UNREACHABLE}:
            self.queue.add("node:" + name)

    def _limiter(self, qps: float) -> TokenBucket | None:
        return TokenBucket(qps, 1, clock=self.clock) if qps > 0 else None

    def _set_zone_limiter(self, zone: str, size: int, state: str) -> None:
        if state == STATE_PARTIAL_DISRUPTION:
            qps = self.secondary_eviction_rate if size > self.large_cluster_threshold else 0.0
        else:
            qps = self.eviction_rate
        self._zone_limiters[zone] = self._limiter(qps)

    def _handle_disruption(self, zone_ready: dict[str, list[str | None]], nodes: list[Obj]) -> None:
        new_states = {z: zone_state(v, unhealthy_threshold=self.unhealthy_zone_threshold) for z, v in zone_ready.items()}
        all_fully = all(s == STATE_FULL_DISRUPTION for s in new_states.values()) and bool(new_states)
        for z in list(self.zone_states):
            if z not in zone_ready:
                del self.zone_states[z]
                self._zone_limiters.pop(z, None)
                self._tainting.pop(z, None)
        all_were_fully = all(s == STATE_FULL_DISRUPTION for s in self.zone_states.values())
        if all_fully and all_were_fully:
            return
        if all_fully:
            self.log.info("all nodes are not ready: entering master disruption mode")
            for node in nodes:
                self._mark_reachable(node["metadata"]["name"], node)
            for z in self.zone_states:
                self._zone_limiters[z] = None
                self.zone_states[z] = STATE_FULL_DISRUPTION
            self._tainting.clear()
            return
        if all_were_fully and self.zone_states:
            self.log.info("some nodes are ready: leaving master disruption mode")
            now = self.clock.monotonic()
            for h in self.health.values():
                h.probe_timestamp = h.ready_transition_timestamp = now
            for z in self.zone_states:
                self._set_zone_limiter(z, len(zone_ready.get(z, ())), new_states.get(z, STATE_NORMAL))
                self.zone_states[z] = new_states.get(z, STATE_NORMAL)
            return
        for z, state in new_states.items():
            if self.zone_states.get(z) != state:
                self._set_zone_limiter(z, len(zone_ready[z]), state)
                self.zone_states[z] = state

    def _taint_pass(self) -> None:
        """Hand pending NoExecute taints to the queue as each zone's rate limit allows."""
        for zone, pending in self._tainting.items():
            limiter = self._zone_limiters.get(zone)
            while pending and limiter is not None and limiter.try_take():
                name, want = next(iter(pending.items()))
                del pending[name]
                self.no_execute[name] = want
                self.queue.add("node:" + name)

    # -- work queue ---------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        kind, _, rest = key.partition(":")
        if kind == "node":
            await self.sync_node_taints(rest)
        elif kind == "pod":
            await self.sync_pod(rest)

    # -- 2. taints ----------------------------------------------------------------------------
    def desired_taints(self, node: Mapping[str, Any]) -> list[Obj]:
        """The node's taints with the controller-owned ones brought to the computed state."""
        name = node["metadata"]["name"]
        current: list[Obj] = list((node.get("spec") or {}).get("taints") or ())
        want_ns = no_schedule_taint_keys(node)
        no_execute = self.no_execute.get(name, "keep")
        stamp = self._rfc3339_now()
        out: list[Obj] = []
        have_ns: set[str] = set()
        have_ne: set[str] = set()
        for t in current:
            key, effect = t.get("key"), t.get("effect")
            if effect == NO_SCHEDULE and (key in CONDITION_TAINT_KEYS or key == UNSCHEDULABLE):
                if key not in want_ns:
                    continue
                have_ns.add(str(key))
            if effect == NO_EXECUTE and key in (NOT_READY, UNREACHABLE) and no_execute != "keep":
                if key != no_execute:
                    continue
                have_ne.add(str(key))
            out.append(t)
        for key in sorted(want_ns - have_ns):
            out.append({"key": key, "effect": NO_SCHEDULE, "timeAdded": stamp})
        if isinstance(no_execute, str) and no_execute != "keep" and no_execute not in have_ne:
            out.append({"key": no_execute, "effect": NO_EXECUTE, "timeAdded": stamp})
        return out

    async def sync_node_taints(self, name: str) -> None:
        node = self.nodes.indexer.get_by_key(name)
        if node is None:
            return
        taints = self.desired_taints(node)
        if _taint_ids(taints) == _taint_ids((node.get("spec") or {}).get("taints") or ()):
            return
        updated = deepcopy(node)
        if taints:
            updated.setdefault("spec", {})["taints"] = taints
        else:
            updated.setdefault("spec", {}).pop("taints", None)
        try:
            await self.client.update(self.nodes_ref, updated)
        except ApiError as e:
            if is_not_found(e):
                return
            raise

    # -- 3. pods: not ready on a sick node, taint eviction --------------------------------------
    async def sync_pod(self, key: str) -> None:
        pod = self.pods.indexer.get_by_key(key)
        if pod is None:
            self.evictions.pop(key, None)
            return
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = self.nodes.indexer.get_by_key(node_name) if node_name else None
        if node is None:
            self._cancel_eviction(key, pod)
            return
        status = ready_status(node)
        if status is not None and status != "True" and is_ready(pod):
            await self._mark_pod_not_ready(pod)
        await self._process_taint_eviction(key, pod, node)

    async def _mark_pod_not_ready(self, pod: Obj) -> None:
        meta = pod["metadata"]
        self.recorder.event(_ref("Pod", pod), "Warning", "NodeNotReady", "Node is not ready")
        cond = {"type": "Ready", "status": "False", "lastTransitionTime": self._rfc3339_now()}
        try:
            await self.client.patch(self.pods_ref, meta["name"], {"status": {"conditions": [cond]}},
                                    namespace=meta.get("namespace"), type="strategic", subresource="status")
        except ApiError as e:
            if not is_not_found(e):
                raise

    def eviction_delay(self, pod: Mapping[str, Any], node: Mapping[str, Any]) -> float:
        """Seconds from the taint until the pod must go: 0 at once, -1 never."""
        taints = [t for t in (node.get("spec") or {}).get("taints") or () if t.get("effect") == NO_EXECUTE]
        if not taints:
            return -1.0
        tolerated, used = matching_tolerations(taints, (pod.get("spec") or {}).get("tolerations") or ())
        if not tolerated:
            return 0.0
        return min_toleration_seconds(used)

    async def _process_taint_eviction(self, key: str, pod: Obj, node: Obj) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self.evictions.pop(key, None)
            return
        delay = self.eviction_delay(pod, node)
        if delay < 0:
            self._cancel_eviction(key, pod)
            return
        now = self.clock.monotonic()
        start = self.evictions.setdefault(key, now)
        remaining = start + delay - now
        if remaining > 0:
            self.queue.add_after("pod:" + key, remaining)
            return
        await self._evict(pod)
        self.evictions.pop(key, None)

    def _cancel_eviction(self, key: str, pod: Mapping[str, Any]) -> None:
        if self.evictions.pop(key, None) is not None:
            self.recorder.event(_ref("Pod", pod), "Normal", "TaintManagerEviction", f"Cancelling deletion of Pod {key}")

    async def _evict(self, pod: Obj) -> None:
        meta = pod["metadata"]
        ns, name = meta.get("namespace", ""), meta["name"]
        self.recorder.event(_ref("Pod", pod), "Normal", "TaintManagerEviction", f"Marking for deletion Pod {ns}/{name}")
        cond = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                "message": DISRUPTION_MESSAGE, "lastTransitionTime": self._rfc3339_now()}
        try:
            target = condition(pod, "DisruptionTarget")
            if target is None or target.get("status") != "True":
                await self.client.patch(self.pods_ref, name, {"status": {"conditions": [cond]}}, namespace=ns,
                                        type="strategic", subresource="status")
            await self.client.delete(self.pods_ref, name, namespace=ns)
        except ApiError as e:
            if not is_not_found(e):
                raise


def _pod_key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _taint_ids(taints: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    return [(t.get("key") or "", t.get("value") or "", t.get("effect") or "") for t in taints]


def new(ctx: ControllerContext) -> NodeLifecycleController:
    return NodeLifecycleController(ctx)
