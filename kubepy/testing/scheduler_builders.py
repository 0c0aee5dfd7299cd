"""Fluent builders of pods and nodes for scheduler tests, after upstream's testing/wrappers.go.

Scheduler tests describe many slightly different pods and nodes; a chain such as
``make_pod().name("p").req(cpu="1").toleration("k").obj()`` says only what matters to the
case and leaves the rest out. The builders produce the plain wire-format dicts the
scheduler reads (``spec.containers[].resources.requests``, ``status.allocatable``...), so
what a test feeds a plugin is what the API server would hand it.

Conventions, as upstream: ``req``/``res``/``lim``/``init_req``/``sidecar_req`` each append
a new container (``con0``, ``con1``, ...); ``make_node()`` starts with 32 allocatable pods
and ``capacity`` sets both capacity and allocatable. Resource names may be given as a
mapping or as keyword arguments (``ephemeral_storage="1Gi"`` means ``ephemeral-storage``).
``obj()`` returns a deep copy, so one builder can produce several independent objects.

``node_info``/``node_infos`` build NodeInfos from nodes and pods (pods land on the node their
spec.nodeName names), and ``FakeHandle``/``FakeSnapshot`` give plugins the framework Handle
they read the snapshot and client from.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from kubepy.scheduler.framework.nodeinfo import NodeInfo, PodInfo

__all__ = [
    "AffinityKind",
    "FakeHandle",
    "FakeSnapshot",
    "LabelSelectorBuilder",
    "NodeBuilder",
    "NodeSelectorBuilder",
    "PodBuilder",
    "make_label_selector",
    "make_node",
    "make_node_selector",
    "make_pod",
    "node_info",
    "node_infos",
]

Obj = dict[str, Any]
Quantities = Mapping[str, "str | int"]

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"


class AffinityKind(enum.Enum):
    """Which half of a pod (anti-)affinity a term goes to (upstream's PodAffinityKind)."""

    NONE = 0
    REQUIRED = 1
    PREFERRED = 2
    REQUIRED_AND_PREFERRED = 3


def _resources(resources: Quantities | None, kw: Mapping[str, str | int]) -> dict[str, str]:
    out = {k: str(v) for k, v in (resources or {}).items()}
    for k, v in kw.items():
        out[k.replace("_", "-")] = str(v)
    return out


class LabelSelectorBuilder:
    """A metav1.LabelSelector: matchLabels plus matchExpressions."""

    def __init__(self) -> None:
        self._sel: Obj = {}

    def label(self, key: str, value: str) -> LabelSelectorBuilder:
        self._sel.setdefault("matchLabels", {})[key] = value
        return self

    def _expr(self, key: str, operator: str, values: Iterable[str] | None = None) -> LabelSelectorBuilder:
        expr: Obj = {"key": key, "operator": operator}
        if values is not None:
            expr["values"] = list(values)
        self._sel.setdefault("matchExpressions", []).append(expr)
        return self

    def in_(self, key: str, values: Iterable[str]) -> LabelSelectorBuilder:
        return self._expr(key, "In", values)

    def not_in(self, key: str, values: Iterable[str]) -> LabelSelectorBuilder:
        return self._expr(key, "NotIn", values)

    def exists(self, key: str) -> LabelSelectorBuilder:
        return self._expr(key, "Exists")

    def not_exist(self, key: str) -> LabelSelectorBuilder:
        return self._expr(key, "DoesNotExist")

    def obj(self) -> Obj:
        return copy.deepcopy(self._sel)


def make_label_selector() -> LabelSelectorBuilder:
    return LabelSelectorBuilder()


class NodeSelectorBuilder:
    """A v1.NodeSelector; every call appends one term (terms are ORed)."""

    def __init__(self) -> None:
        self._terms: list[Obj] = []

    def in_(self, key: str, values: Iterable[str], *, fields: bool = False) -> NodeSelectorBuilder:
        req = {"key": key, "operator": "In", "values": list(values)}
        self._terms.append({"matchFields" if fields else "matchExpressions": [req]})
        return self

    def not_in(self, key: str, values: Iterable[str]) -> NodeSelectorBuilder:
        self._terms.append({"matchExpressions": [{"key": key, "operator": "NotIn", "values": list(values)}]})
        return self

    def term(self, term: Obj) -> NodeSelectorBuilder:
        self._terms.append(copy.deepcopy(term))
        return self

    def obj(self) -> Obj:
        return {"nodeSelectorTerms": copy.deepcopy(self._terms)}


def make_node_selector() -> NodeSelectorBuilder:
    return NodeSelectorBuilder()


class PodBuilder:
    """Builds a v1 Pod dict (namespace "default" unless set)."""

    def __init__(self) -> None:
        self._pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"namespace": "default"},
            "spec": {"containers": []},
            "status": {},
        }

    # -- metadata ---------------------------------------------------------------------

    @property
    def _meta(self) -> Obj:
        meta: Obj = self._pod["metadata"]
        return meta

    @property
    def _spec(self) -> Obj:
        spec: Obj = self._pod["spec"]
        return spec

    @property
    def _status(self) -> Obj:
        status: Obj = self._pod["status"]
        return status

    def name(self, name: str) -> PodBuilder:
        self._meta["name"] = name
        return self

    def generate_name(self, prefix: str) -> PodBuilder:
        self._meta["generateName"] = prefix
        return self

    def namespace(self, namespace: str) -> PodBuilder:
        self._meta["namespace"] = namespace
        return self

    def uid(self, uid: str) -> PodBuilder:
        self._meta["uid"] = uid
        return self

    def label(self, key: str, value: str) -> PodBuilder:
        self._meta.setdefault("labels", {})[key] = value
        return self

    def labels(self, labels: Mapping[str, str]) -> PodBuilder:
        for k, v in labels.items():
            self.label(k, v)
        return self

    def annotation(self, key: str, value: str) -> PodBuilder:
        self._meta.setdefault("annotations", {})[key] = value
        return self

    def annotations(self, annotations: Mapping[str, str]) -> PodBuilder:
        for k, v in annotations.items():
            self.annotation(k, v)
        return self

    def creation_timestamp(self, ts: str) -> PodBuilder:
        self._meta["creationTimestamp"] = ts
        return self

    def terminating(self, ts: str = "2024-01-01T00:00:00Z") -> PodBuilder:
        self._meta["deletionTimestamp"] = ts
        return self

    def owner_reference(self, name: str, *, api_version: str = "apps/v1", kind: str = "ReplicaSet",
                        uid: str = "") -> PodBuilder:
        ref: Obj = {"apiVersion": api_version, "kind": kind, "name": name, "controller": True}
        if uid:
            ref["uid"] = uid
        self._meta["ownerReferences"] = [ref]
        return self

    # -- spec: placement ----------------------------------------------------------------

    def scheduler_name(self, name: str) -> PodBuilder:
        self._spec["schedulerName"] = name
        return self

    def priority(self, value: int) -> PodBuilder:
        self._spec["priority"] = value
        return self

    def priority_class_name(self, name: str) -> PodBuilder:
        self._spec["priorityClassName"] = name
        return self

    def preemption_policy(self, policy: str) -> PodBuilder:
        self._spec["preemptionPolicy"] = policy
        return self

    def zero_termination_grace_period(self) -> PodBuilder:
        self._spec["terminationGracePeriodSeconds"] = 0
        return self

    def node(self, node_name: str) -> PodBuilder:
        self._spec["nodeName"] = node_name
        return self

    def node_selector(self, selector: Mapping[str, str]) -> PodBuilder:
        self._spec["nodeSelector"] = dict(selector)
        return self

    def _node_affinity(self) -> Obj:
        na: Obj = self._spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        return na

    def node_affinity(self, node_affinity: Obj) -> PodBuilder:
        self._spec.setdefault("affinity", {})["nodeAffinity"] = copy.deepcopy(node_affinity)
        return self

    def node_affinity_in(self, key: str, values: Iterable[str], *, fields: bool = False) -> PodBuilder:
        """A required node affinity with one term ``key In values`` (replaces earlier ones)."""
        self._node_affinity()["requiredDuringSchedulingIgnoredDuringExecution"] = (
            make_node_selector().in_(key, values, fields=fields).obj()
        )
        return self

    def node_affinity_not_in(self, key: str, values: Iterable[str]) -> PodBuilder:
        self._node_affinity()["requiredDuringSchedulingIgnoredDuringExecution"] = (
            make_node_selector().not_in(key, values).obj()
        )
        return self

    def preferred_node_affinity(self, weight: int, key: str, values: Iterable[str] | None = None, *,
                                operator: str = "In") -> PodBuilder:
        """Appends a preferred node affinity term with one match expression."""
        expr: Obj = {"key": key, "operator": operator}
        if values is not None:
            expr["values"] = list(values)
        self._node_affinity().setdefault("preferredDuringSchedulingIgnoredDuringExecution", []).append(
            {"weight": weight, "preference": {"matchExpressions": [expr]}}
        )
        return self

    def tolerations(self, tolerations: Iterable[Obj]) -> PodBuilder:
        self._spec["tolerations"] = [dict(t) for t in tolerations]
        return self

    def toleration(self, key: str, value: str | None = None, effect: str | None = None, *,
                   operator: str | None = None, toleration_seconds: int | None = None) -> PodBuilder:
        """Appends a toleration: ``Exists`` unless a value is given (then ``Equal``)."""
        t: Obj = {"key": key, "operator": operator or ("Equal" if value is not None else "Exists")}
        if value is not None:
            t["value"] = value
        if effect is not None:
            t["effect"] = effect
        if toleration_seconds is not None:
            t["tolerationSeconds"] = toleration_seconds
        self._spec.setdefault("tolerations", []).append(t)
        return self

    def scheduling_gates(self, gates: Iterable[str]) -> PodBuilder:
        self._spec.setdefault("schedulingGates", []).extend({"name": g} for g in gates)
        return self

    # -- spec: containers ---------------------------------------------------------------

    def _add_container(self, c: Obj, *, init: bool = False) -> PodBuilder:
        self._spec.setdefault("initContainers" if init else "containers", []).append(c)
        return self

    def container(self, image: str) -> PodBuilder:
        return self._add_container({"name": f"con{len(self._spec['containers'])}", "image": image})

    def containers(self, containers: Iterable[Obj]) -> PodBuilder:
        self._spec["containers"] = [copy.deepcopy(c) for c in containers]
        return self

    def req(self, resources: Quantities | None = None, /, **kw: str | int) -> PodBuilder:
        """Appends a container requesting ``resources``."""
        rl = _resources(resources, kw)
        if not rl:
            return self
        return self._add_container({"name": f"con{len(self._spec['containers'])}", "image": PAUSE_IMAGE,
                                    "resources": {"requests": rl}})

    def res(self, resources: Quantities | None = None, /, **kw: str | int) -> PodBuilder:
        """Appends a container with ``resources`` as both requests and limits."""
        rl = _resources(resources, kw)
        if not rl:
            return self
        return self._add_container({"name": f"con{len(self._spec['containers'])}", "image": PAUSE_IMAGE,
                                    "resources": {"requests": rl, "limits": dict(rl)}})

    def lim(self, resources: Quantities | None = None, /, **kw: str | int) -> PodBuilder:
        """Appends a container with only limits."""
        rl = _resources(resources, kw)
        if not rl:
            return self
        return self._add_container({"name": f"con{len(self._spec['containers'])}", "image": PAUSE_IMAGE,
                                    "resources": {"limits": rl}})

    def init_req(self, resources: Quantities | None = None, /, **kw: str | int) -> PodBuilder:
        rl = _resources(resources, kw)
        if not rl:
            return self
        n = len(self._spec.get("initContainers") or ())
        return self._add_container({"name": f"init-con{n}", "image": PAUSE_IMAGE,
                                    "resources": {"requests": rl, "limits": dict(rl)}}, init=True)

    def sidecar_req(self, resources: Quantities | None = None, /, **kw: str | int) -> PodBuilder:
        rl = _resources(resources, kw)
        if not rl:
            return self
        n = len(self._spec.get("initContainers") or ())
        return self._add_container({"name": f"sidecar-con{n}", "image": PAUSE_IMAGE, "restartPolicy": "Always",
                                    "resources": {"requests": rl, "limits": dict(rl)}}, init=True)

    def overhead(self, resources: Quantities | None = None, /, **kw: str | int) -> PodBuilder:
        self._spec["overhead"] = _resources(resources, kw)
        return self

    def host_port(self, port: int, *, protocol: str | None = None, host_ip: str | None = None) -> PodBuilder:
        """Appends a container exposing ``port`` on the host."""
        p: Obj = {"containerPort": port, "hostPort": port}
        if protocol:
            p["protocol"] = protocol
        if host_ip:
            p["hostIP"] = host_ip
        return self._add_container({"name": "container", "image": "pause", "ports": [p]})

    def container_port(self, ports: Iterable[Obj]) -> PodBuilder:
        """Appends a container with these port dicts (``hostPort``, ``protocol``, ``hostIP``)."""
        return self._add_container({"name": "container", "image": "pause", "ports": [dict(p) for p in ports]})

    def init_container_port(self, ports: Iterable[Obj], *, sidecar: bool = False) -> PodBuilder:
        c: Obj = {"name": "init-container", "image": "pause", "ports": [dict(p) for p in ports]}
        if sidecar:
            c["restartPolicy"] = "Always"
        return self._add_container(c, init=True)

    def pvc(self, claim_name: str) -> PodBuilder:
        self._spec.setdefault("volumes", []).append(
            {"name": claim_name, "persistentVolumeClaim": {"claimName": claim_name}}
        )
        return self

    def volume(self, volume: Obj) -> PodBuilder:
        self._spec.setdefault("volumes", []).append(copy.deepcopy(volume))
        return self

    # -- spec: pod (anti-)affinity and spreading ----------------------------------------

    def _pod_affinity(self, which: str, topology_key: str, selector: Obj | None, kind: AffinityKind,
                      weight: int, namespaces: Iterable[str] | None, namespace_selector: Obj | None) -> PodBuilder:
        if kind is AffinityKind.NONE:
            return self
        term: Obj = {"topologyKey": topology_key}
        if selector is not None:
            term["labelSelector"] = copy.deepcopy(selector)
        if namespaces is not None:
            term["namespaces"] = list(namespaces)
        if namespace_selector is not None:
            term["namespaceSelector"] = copy.deepcopy(namespace_selector)
        aff: Obj = self._spec.setdefault("affinity", {}).setdefault(which, {})
        if kind in (AffinityKind.REQUIRED, AffinityKind.REQUIRED_AND_PREFERRED):
            aff.setdefault("requiredDuringSchedulingIgnoredDuringExecution", []).append(term)
        if kind in (AffinityKind.PREFERRED, AffinityKind.REQUIRED_AND_PREFERRED):
            aff.setdefault("preferredDuringSchedulingIgnoredDuringExecution", []).append(
                {"weight": weight, "podAffinityTerm": copy.deepcopy(term)}
            )
        return self

    def pod_affinity(self, topology_key: str, selector: Obj | None, kind: AffinityKind = AffinityKind.REQUIRED, *,
                     weight: int = 1, namespaces: Iterable[str] | None = None,
                     namespace_selector: Obj | None = None) -> PodBuilder:
        return self._pod_affinity("podAffinity", topology_key, selector, kind, weight, namespaces,
                                  namespace_selector)

    def pod_anti_affinity(self, topology_key: str, selector: Obj | None,
                          kind: AffinityKind = AffinityKind.REQUIRED, *, weight: int = 1,
                          namespaces: Iterable[str] | None = None,
                          namespace_selector: Obj | None = None) -> PodBuilder:
        return self._pod_affinity("podAntiAffinity", topology_key, selector, kind, weight, namespaces,
                                  namespace_selector)

    def pod_affinity_exists(self, label_key: str, topology_key: str,
                            kind: AffinityKind = AffinityKind.REQUIRED) -> PodBuilder:
        return self.pod_affinity(topology_key, make_label_selector().exists(label_key).obj(), kind)

    def pod_anti_affinity_exists(self, label_key: str, topology_key: str,
                                 kind: AffinityKind = AffinityKind.REQUIRED) -> PodBuilder:
        return self.pod_anti_affinity(topology_key, make_label_selector().exists(label_key).obj(), kind)

    def pod_affinity_not_exists(self, label_key: str, topology_key: str,
                                kind: AffinityKind = AffinityKind.REQUIRED) -> PodBuilder:
        return self.pod_affinity(topology_key, make_label_selector().not_exist(label_key).obj(), kind)

    def pod_anti_affinity_not_exists(self, label_key: str, topology_key: str,
                                     kind: AffinityKind = AffinityKind.REQUIRED) -> PodBuilder:
        return self.pod_anti_affinity(topology_key, make_label_selector().not_exist(label_key).obj(), kind)

    def pod_affinity_in(self, label_key: str, topology_key: str, values: Iterable[str],
                        kind: AffinityKind = AffinityKind.REQUIRED) -> PodBuilder:
        return self.pod_affinity(topology_key, make_label_selector().in_(label_key, values).obj(), kind)

    def pod_anti_affinity_in(self, label_key: str, topology_key: str, values: Iterable[str],
                             kind: AffinityKind = AffinityKind.REQUIRED) -> PodBuilder:
        return self.pod_anti_affinity(topology_key, make_label_selector().in_(label_key, values).obj(), kind)

    def pod_affinity_not_in(self, label_key: str, topology_key: str, values: Iterable[str],
                            kind: AffinityKind = AffinityKind.REQUIRED) -> PodBuilder:
        return self.pod_affinity(topology_key, make_label_selector().not_in(label_key, values).obj(), kind)

    def pod_anti_affinity_not_in(self, label_key: str, topology_key: str, values: Iterable[str],
                                 kind: AffinityKind = AffinityKind.REQUIRED) -> PodBuilder:
        return self.pod_anti_affinity(topology_key, make_label_selector().not_in(label_key, values).obj(), kind)

    def spread_constraint(self, max_skew: int, topology_key: str, when_unsatisfiable: str, selector: Obj | None,
                          *, min_domains: int | None = None, node_affinity_policy: str | None = None,
                          node_taints_policy: str | None = None,
                          match_label_keys: Iterable[str] | None = None) -> PodBuilder:
        """Appends a topologySpreadConstraint (``when_unsatisfiable``: DoNotSchedule|ScheduleAnyway)."""
        c: Obj = {"maxSkew": max_skew, "topologyKey": topology_key, "whenUnsatisfiable": when_unsatisfiable}
        if selector is not None:
            c["labelSelector"] = copy.deepcopy(selector)
        if min_domains is not None:
            c["minDomains"] = min_domains
        if node_affinity_policy is not None:
            c["nodeAffinityPolicy"] = node_affinity_policy
        if node_taints_policy is not None:
            c["nodeTaintsPolicy"] = node_taints_policy
        if match_label_keys is not None:
            c["matchLabelKeys"] = list(match_label_keys)
        self._spec.setdefault("topologySpreadConstraints", []).append(c)
        return self

    # -- status -------------------------------------------------------------------------

    def phase(self, phase: str) -> PodBuilder:
        self._status["phase"] = phase
        return self

    def start_time(self, ts: str) -> PodBuilder:
        self._status["startTime"] = ts
        return self

    def nominated_node_name(self, node_name: str) -> PodBuilder:
        self._status["nominatedNodeName"] = node_name
        return self

    def condition(self, type_: str, status: str, reason: str = "") -> PodBuilder:
        cond: Obj = {"type": type_, "status": status}
        if reason:
            cond["reason"] = reason
        self._status.setdefault("conditions", []).append(cond)
        return self

    def obj(self) -> Obj:
        return copy.deepcopy(self._pod)


def make_pod() -> PodBuilder:
    return PodBuilder()


class NodeBuilder:
    """Builds a v1 Node dict; starts with ``pods: 32`` allocatable as upstream's MakeNode."""

    def __init__(self) -> None:
        self._node: Obj = {"apiVersion": "v1", "kind": "Node", "metadata": {}, "spec": {}, "status": {}}
        self.capacity()

    def name(self, name: str) -> NodeBuilder:
        self._node["metadata"]["name"] = name
        return self

    def uid(self, uid: str) -> NodeBuilder:
        self._node["metadata"]["uid"] = uid
        return self

    def label(self, key: str, value: str) -> NodeBuilder:
        self._node["metadata"].setdefault("labels", {})[key] = value
        return self

    def labels(self, labels: Mapping[str, str]) -> NodeBuilder:
        for k, v in labels.items():
            self.label(k, v)
        return self

    def annotation(self, key: str, value: str) -> NodeBuilder:
        self._node["metadata"].setdefault("annotations", {})[key] = value
        return self

    def capacity(self, resources: Quantities | None = None, /, **kw: str | int) -> NodeBuilder:
        """Sets capacity and allocatable (``pods`` defaults to 32)."""
        rl = {"pods": "32", **_resources(resources, kw)}
        self._node["status"]["capacity"] = rl
        self._node["status"]["allocatable"] = dict(rl)
        return self

    def allocatable(self, resources: Quantities | None = None, /, **kw: str | int) -> NodeBuilder:
        """Overrides allocatable only (after ``capacity``)."""
        self._node["status"]["allocatable"] = _resources(resources, kw)
        return self

    def images(self, images: Mapping[str, int]) -> NodeBuilder:
        """Image name -> size in bytes, one status.images entry per name."""
        self._node["status"]["images"] = [{"names": [n], "sizeBytes": s} for n, s in images.items()]
        return self

    def image(self, names: Iterable[str], size_bytes: int) -> NodeBuilder:
        """Appends one image known under several names."""
        self._node["status"].setdefault("images", []).append({"names": list(names), "sizeBytes": size_bytes})
        return self

    def taints(self, taints: Iterable[Obj]) -> NodeBuilder:
        self._node["spec"]["taints"] = [dict(t) for t in taints]
        return self

    def taint(self, key: str, value: str = "", effect: str = "NoSchedule") -> NodeBuilder:
        t: Obj = {"key": key, "effect": effect}
        if value:
            t["value"] = value
        self._node["spec"].setdefault("taints", []).append(t)
        return self

    def unschedulable(self, unschedulable: bool = True) -> NodeBuilder:
        self._node["spec"]["unschedulable"] = unschedulable
        return self

    def condition(self, type_: str, status: str, message: str = "", reason: str = "") -> NodeBuilder:
        cond: Obj = {"type": type_, "status": status}
        if message:
            cond["message"] = message
        if reason:
            cond["reason"] = reason
        self._node["status"]["conditions"] = [cond]
        return self

    def obj(self) -> Obj:
        return copy.deepcopy(self._node)


def make_node() -> NodeBuilder:
    return NodeBuilder()


def node_info(node: Obj | None, *pods: Obj) -> NodeInfo:
    """A NodeInfo of ``node`` (may be None) with ``pods`` assigned to it."""
    info = NodeInfo(node)
    for pod in pods:
        info.add_pod(PodInfo.of(pod))
    return info


def node_infos(nodes: Iterable[Obj], pods: Iterable[Obj] = ()) -> list[NodeInfo]:
    """NodeInfos of ``nodes``, each with the ``pods`` whose spec.nodeName names it (upstream's
    cache.NewSnapshot(pods, nodes) for tests)."""
    infos = [NodeInfo(n) for n in nodes]
    by_name = {ni.name: ni for ni in infos}
    for pod in pods:
        ni = by_name.get((pod.get("spec") or {}).get("nodeName") or "")
        if ni is not None:
            ni.add_pod(PodInfo.of(pod))
    return infos


class FakeSnapshot:
    """A fixed list of NodeInfos behaving as the framework's Snapshot."""

    def __init__(self, infos: Iterable[NodeInfo]) -> None:
        self._infos = list(infos)
        self._by_name = {ni.name: ni for ni in self._infos}

    def node_infos(self) -> list[NodeInfo]:
        return self._infos

    def get(self, name: str) -> NodeInfo | None:
        return self._by_name.get(name)

    def have_pods_with_affinity(self) -> list[NodeInfo]:
        return [ni for ni in self._infos if ni.pods_with_affinity]

    def have_pods_with_required_anti_affinity(self) -> list[NodeInfo]:
        return [ni for ni in self._infos if ni.pods_with_required_anti_affinity]


class FakeHandle:
    """A framework Handle for plugin unit tests: a snapshot, an optional (fake) client and
    listers keyed by (api_version, plural)."""

    def __init__(self, infos: Iterable[NodeInfo] = (), *, client: Any = None,
                 listers: Mapping[tuple[str, str], Any] | None = None) -> None:
        self._snapshot = FakeSnapshot(infos)
        self._client = client
        self._listers = dict(listers or {})

    @property
    def client(self) -> Any:
        return self._client

    def snapshot(self) -> FakeSnapshot:
        return self._snapshot

    def lister(self, api_version: str, plural: str) -> Any:
        return self._listers.get((api_version, plural))

    def run_filter_plugins_with_nominated_pods(self, state: Any, pod: Obj, node: NodeInfo) -> Any:
        raise NotImplementedError("FakeHandle does not run filter plugins")
