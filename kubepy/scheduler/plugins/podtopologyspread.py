"""PodTopologySpread: spread matching pods evenly over topology domains, after upstream's
framework/plugins/podtopologyspread.

A constraint (maxSkew, topologyKey, whenUnsatisfiable, labelSelector, minDomains,
nodeAffinityPolicy, nodeTaintsPolicy, matchLabelKeys) counts the pods of the incoming
pod's namespace that match its selector in each domain (value of the topology key).
``DoNotSchedule`` constraints filter: placing the pod on a node must keep
``matching pods in its domain + self-match - global minimum <= maxSkew`` (the global
minimum is 0 while fewer than minDomains domains exist). ``ScheduleAnyway`` constraints
score: fewer matching pods in a node's domains score higher.

PreFilter walks every node once to count matches per domain and keeps upstream's two
"critical paths" (the smallest counts) per constraint, so Filter is one dict lookup per
constraint and the AddPod/RemovePod extensions (preemption) update a count and the paths
in O(1). PreScore counts only domains that hold a filtered node, leaving per-node
(hostname) counts to Score, as upstream does. Counts are kept per constraint (as upstream
since 1.33), so two constraints on the same key with different selectors do not mix.

Pods without constraints get the default constraints: with ``defaultingType: System``
(the default) maxSkew 3 on hostname and 5 on zone, ScheduleAnyway, with the selector of
the Services, ReplicationController, ReplicaSet or StatefulSet that own the pod (read
through ``handle.lister``); a pod nothing selects is not spread.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubepy.api.selectors import EQUALS, NOTHING, LabelSelector, Requirement, SelectorError, from_label_selector_dict
from kubepy.scheduler.framework.interface import (
    MAX_NODE_SCORE,
    SUCCESS,
    ClusterEvent,
    Code,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    NodeScore,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
    Status,
)
from kubepy.scheduler.framework.nodeinfo import NodeInfo
from kubepy.scheduler.plugins.nodeaffinity import required_node_affinity
from kubepy.scheduler.plugins.podlabels import (
    PerNodeCache,
    count_matching_pods,
    pod_labels,
    pod_namespace,
    with_label_values,
)
from kubepy.scheduler.plugins.tainttoleration import find_untolerated_taint

__all__ = [
    "DO_NOT_SCHEDULE",
    "ERR_REASON_CONSTRAINTS_NOT_MATCH",
    "ERR_REASON_NODE_LABEL_NOT_MATCH",
    "LABEL_HOSTNAME",
    "LABEL_ZONE",
    "NAME",
    "SCHEDULE_ANYWAY",
    "SYSTEM_DEFAULT_CONSTRAINTS",
    "PodTopologySpread",
    "PodTopologySpreadArgs",
    "SpreadConstraint",
    "new",
    "topology_normalizing_weight",
]

Obj = dict[str, Any]
NAME = "PodTopologySpread"
PRE_FILTER_STATE_KEY = "PreFilter" + NAME
PRE_SCORE_STATE_KEY = "PreScore" + NAME

ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"

DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"
HONOR = "Honor"
IGNORE = "Ignore"
LABEL_HOSTNAME = "kubernetes.io/hostname"
LABEL_ZONE = "topology.kubernetes.io/zone"

SYSTEM_DEFAULT_CONSTRAINTS: tuple[Obj, ...] = (
    {"topologyKey": LABEL_HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 3},
    {"topologyKey": LABEL_ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY, "maxSkew": 5},
)

_MAX_INT32 = 2**31 - 1


# --------------------------------------------------------------------------------------
# Node inclusion: the pod's required node affinity and its tolerations (compiled by the
# NodeAffinity and TaintToleration plugins' exported helpers)


class _Inclusion:
    """Per-cycle, per-node cache of the two node-inclusion tests for the incoming pod."""

    __slots__ = ("affinity", "tolerations", "_affinity_ok", "_taints_ok", "_any_node")

    def __init__(self, pod: Mapping[str, Any]) -> None:
        self.affinity = required_node_affinity(pod)
        #: the pod has neither nodeSelector nor required node affinity
        self._any_node = self.affinity.node_selector is None and self.affinity.affinity is None
        self.tolerations: Sequence[Mapping[str, Any]] = (pod.get("spec") or {}).get("tolerations") or ()
        self._affinity_ok: dict[int, bool] = {}
        self._taints_ok: dict[int, bool] = {}

    def matches(self, c: SpreadConstraint, node: Mapping[str, Any]) -> bool:
        if c.node_affinity_policy == HONOR and not self._any_node:
            ok = self._affinity_ok.get(id(node))
            if ok is None:
                ok = self._affinity_ok[id(node)] = self.affinity.matches_node(node)
            if not ok:
                return False
        if c.node_taints_policy == HONOR:
            ok = self._taints_ok.get(id(node))
            if ok is None:
                taints = (node.get("spec") or {}).get("taints")
                ok = self._taints_ok[id(node)] = find_untolerated_taint(taints, self.tolerations) is None
            if not ok:
                return False
        return True


# --------------------------------------------------------------------------------------
# Constraints


@dataclass(frozen=True, slots=True)
class SpreadConstraint:
    """A TopologySpreadConstraint with its selector compiled (matchLabelKeys merged)."""

    max_skew: int
    topology_key: str
    selector: LabelSelector
    min_domains: int = 1
    node_affinity_policy: str = HONOR
    node_taints_policy: str = IGNORE


def _constraints(raws: Iterable[Mapping[str, Any]], labels: Mapping[str, str], action: str) -> list[SpreadConstraint]:
    out: list[SpreadConstraint] = []
    for c in raws:
        if (c.get("whenUnsatisfiable") or "") != action:
            continue
        selector = from_label_selector_dict(c.get("labelSelector"))
        selector = with_label_values(selector, labels, c.get("matchLabelKeys") or ())
        min_domains = c.get("minDomains")
        out.append(SpreadConstraint(
            max_skew=int(c.get("maxSkew") or 0),
            topology_key=c.get("topologyKey") or "",
            selector=selector,
            min_domains=1 if min_domains is None else int(min_domains),
            node_affinity_policy=c.get("nodeAffinityPolicy") or HONOR,
            node_taints_policy=c.get("nodeTaintsPolicy") or IGNORE,
        ))
    return out


def _node_has_keys(labels: Mapping[str, str], constraints: Sequence[SpreadConstraint]) -> bool:
    for c in constraints:
        if c.topology_key not in labels:
            return False
    return True


class _CriticalPaths:
    """The two smallest (value, count) pairs of a constraint; ``paths[0]`` holds the
    minimum, ``paths[1]`` a count >= it (not necessarily the second minimum)."""

    __slots__ = ("paths",)

    def __init__(self, paths: list[list[Any]] | None = None) -> None:
        self.paths: list[list[Any]] = paths or [["", _MAX_INT32], ["", _MAX_INT32]]

    def clone(self) -> _CriticalPaths:
        return _CriticalPaths([list(self.paths[0]), list(self.paths[1])])

    @property
    def min(self) -> int:
        n: int = self.paths[0][1]
        return n

    def update(self, value: str, num: int) -> None:
        p = self.paths
        i = 0 if value == p[0][0] else 1 if value == p[1][0] else -1
        if i >= 0:
            p[i][1] = num
            if p[0][1] > p[1][1]:
                p[0], p[1] = p[1], p[0]
        elif num < p[0][1]:
            p[1] = p[0]
            p[0] = [value, num]
        elif num < p[1][1]:
            p[1] = [value, num]


@dataclass(slots=True)
class _PreFilterState:
    constraints: list[SpreadConstraint]
    #: per constraint: topology value -> matching pods
    counts: list[dict[str, int]]
    critical_paths: list[_CriticalPaths]
    #: per constraint: 1 when the incoming pod matches its own selector
    self_match: list[int] = field(default_factory=list)
    inclusion: _Inclusion | None = None

    def clone(self) -> _PreFilterState:
        return _PreFilterState(self.constraints, [dict(c) for c in self.counts],
                               [p.clone() for p in self.critical_paths], self.self_match, self.inclusion)

    def min_match(self, i: int) -> int:
        if len(self.counts[i]) < self.constraints[i].min_domains:
            return 0
        return self.critical_paths[i].min


@dataclass(slots=True)
class _PreScoreState:
    constraints: list[SpreadConstraint]
    ignored_nodes: set[str]
    #: per constraint (non-hostname keys): topology value -> matching pods
    counts: list[dict[str, int]]
    weights: list[float]
    #: per constraint: node -> matching pods on it (for hostname keys, counted in Score)
    counters: list[Callable[[NodeInfo], int]]

    def clone(self) -> _PreScoreState:
        return self


def topology_normalizing_weight(size: int) -> float:
    """log(size + 2): smaller topologies' counts are not watered down by bigger ones."""
    return math.log(size + 2)


def _score_for_count(count: int, max_skew: int, weight: float) -> float:
    return count * weight + (max_skew - 1)


# --------------------------------------------------------------------------------------
# The plugin


@dataclass(frozen=True, slots=True)
class PodTopologySpreadArgs:
    default_constraints: tuple[Obj, ...] = ()
    defaulting_type: str = "System"

    @classmethod
    def from_dict(cls, args: Mapping[str, Any] | None) -> PodTopologySpreadArgs:
        args = args or {}
        defaulting = args.get("defaultingType") or "System"
        constraints = tuple(args.get("defaultConstraints") or ())
        if defaulting not in ("System", "List"):
            raise ValueError(f'defaultingType: Unsupported value: "{defaulting}": supported values: "List", "System"')
        if defaulting == "System" and constraints:
            raise ValueError("defaultConstraints: Invalid value: when .defaultingType is \"System\", "
                             ".defaultConstraints must be empty")
        for i, c in enumerate(constraints):
            if c.get("labelSelector") is not None:
                raise ValueError(f"defaultConstraints[{i}].labelSelector: Forbidden: constraint must not define a "
                                 "selector, as they deduced for each pod")
        return cls(constraints, defaulting)


class PodTopologySpread(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions):
    NAME = NAME
    HAS_NORMALIZE = True

    def __init__(self, args: PodTopologySpreadArgs, handle: Handle) -> None:
        self.handle = handle
        self._cache = PerNodeCache()
        self.system_defaulted = args.defaulting_type == "System"
        self.default_constraints: tuple[Obj, ...] = (
            SYSTEM_DEFAULT_CONSTRAINTS if self.system_defaulted else args.default_constraints)

    # -- constraints --------------------------------------------------------------------

    def constraints(self, pod: Mapping[str, Any], action: str) -> list[SpreadConstraint]:
        """The pod's constraints for ``action`` (its own, else the defaults); raises
        ``SelectorError`` for a selector that does not convert."""
        labels = pod_labels(pod)
        raws = (pod.get("spec") or {}).get("topologySpreadConstraints")
        if raws:
            return _constraints(raws, labels, action)
        if not self.default_constraints:
            return []
        constraints = _constraints(self.default_constraints, labels, action)
        if not constraints:
            return []
        selector = self.default_selector(pod)
        if selector.empty:
            return []
        return [SpreadConstraint(c.max_skew, c.topology_key, selector, c.min_domains, c.node_affinity_policy,
                                 c.node_taints_policy) for c in constraints]

    def _lister(self, api_version: str, plural: str) -> Any:
        try:
            return self.handle.lister(api_version, plural)
        except (KeyError, LookupError, AttributeError):
            return None

    def default_selector(self, pod: Mapping[str, Any]) -> LabelSelector:
        """The selectors of the Services selecting the pod and of its controlling
        RC/ReplicaSet/StatefulSet, ANDed (upstream's helper.DefaultSelector)."""
        namespace = pod_namespace(pod)
        labels = pod_labels(pod)
        label_set: dict[str, str] = {}
        services = self._lister("v1", "services")
        for svc in (services.by_namespace(namespace) if services is not None else ()):
            sel = (svc.get("spec") or {}).get("selector")
            if not sel:
                continue  # services with nil selectors match nothing
            if all(labels.get(k) == v for k, v in sel.items()):
                label_set.update(sel)
        extra: list[Requirement] = []
        owner = next((r for r in (pod.get("metadata") or {}).get("ownerReferences") or () if r.get("controller")),
                     None)
        if owner is not None:
            kind = (owner.get("apiVersion"), owner.get("kind"))
            name = owner.get("name") or ""
            if kind == ("v1", "ReplicationController"):
                lister = self._lister("v1", "replicationcontrollers")
                rc = lister.get_by_name(namespace, name) if lister is not None else None
                if rc is not None:
                    label_set.update((rc.get("spec") or {}).get("selector") or {})
            elif kind in (("apps/v1", "ReplicaSet"), ("apps/v1", "StatefulSet")):
                plural = "replicasets" if kind[1] == "ReplicaSet" else "statefulsets"
                lister = self._lister("apps/v1", plural)
                obj = lister.get_by_name(namespace, name) if lister is not None else None
                if obj is not None:
                    try:
                        other = from_label_selector_dict((obj.get("spec") or {}).get("selector"))
                    except SelectorError:
                        other = NOTHING
                    if other != NOTHING:
                        extra.extend(other.requirements)
        reqs = [Requirement(k, EQUALS, (v,)) for k, v in label_set.items()]
        return LabelSelector([*reqs, *extra])

    def _counter(self, selector: LabelSelector, namespace: str) -> Callable[[NodeInfo], int]:
        """``node -> matching pods on it``, cached per NodeInfo across cycles."""
        table = self._cache.table((namespace, selector))
        get = self._cache.get

        def count(ni: NodeInfo) -> int:
            return count_matching_pods(ni, selector, namespace)

        def cached(ni: NodeInfo) -> int:
            return get(table, ni, count) if ni.pods else 0

        return cached

    # -- PreFilter ----------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        try:
            constraints = self.constraints(pod, DO_NOT_SCHEDULE)
        except SelectorError as err:
            return None, Status.error(f"get constraints from pod: {err}", NAME)
        if not constraints:
            return None, Status(Code.SKIP, plugin=NAME)
        namespace = pod_namespace(pod)
        inclusion = _Inclusion(pod)
        counts: list[dict[str, int]] = [{} for _ in constraints]
        counters = [self._counter(c.selector, namespace) for c in constraints]
        for ni in nodes:
            node = ni.node
            if node is None:
                continue
            labels = ni.labels
            if not _node_has_keys(labels, constraints):
                continue
            for i, c in enumerate(constraints):
                if not inclusion.matches(c, node):
                    continue
                value = labels[c.topology_key]
                by_value = counts[i]
                by_value[value] = by_value.get(value, 0) + counters[i](ni)
        paths = []
        for by_value in counts:
            p = _CriticalPaths()
            for value, num in by_value.items():
                p.update(value, num)
            paths.append(p)
        labels = pod_labels(pod)
        self_match = [1 if c.selector.matches(labels) else 0 for c in constraints]
        state.write(PRE_FILTER_STATE_KEY, _PreFilterState(constraints, counts, paths, self_match, inclusion))
        return None, SUCCESS

    def add_pod(self, state: CycleState, pod: Obj, pod_to_add: Obj, node: NodeInfo) -> Status:
        return self._update(state, pod, pod_to_add, node, 1)

    def remove_pod(self, state: CycleState, pod: Obj, pod_to_remove: Obj, node: NodeInfo) -> Status:
        return self._update(state, pod, pod_to_remove, node, -1)

    def _update(self, state: CycleState, pod: Obj, other: Obj, node: NodeInfo, delta: int) -> Status:
        s: _PreFilterState | None = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return Status.error(f'reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found', NAME)
        n = node.node
        if n is None or pod_namespace(other) != pod_namespace(pod):
            return SUCCESS
        labels = node.labels
        if not _node_has_keys(labels, s.constraints):
            return SUCCESS
        inclusion = s.inclusion or _Inclusion(pod)
        other_labels = pod_labels(other)
        for i, c in enumerate(s.constraints):
            if not c.selector.matches(other_labels) or not inclusion.matches(c, n):
                continue
            value = labels[c.topology_key]
            num = s.counts[i].get(value, 0) + delta
            s.counts[i][value] = num
            s.critical_paths[i].update(value, num)
        return SUCCESS

    # -- Filter -------------------------------------------------------------------------

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        s: _PreFilterState | None = state.get(PRE_FILTER_STATE_KEY)
        if s is None:
            return Status.error(f'reading "{PRE_FILTER_STATE_KEY}" from cycleState: not found', NAME)
        if node.node is None:
            return Status.error("node not found", NAME)
        labels = node.labels
        for i, c in enumerate(s.constraints):
            value = labels.get(c.topology_key)
            if value is None:
                return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [ERR_REASON_NODE_LABEL_NOT_MATCH], NAME)
            skew = s.counts[i].get(value, 0) + s.self_match[i] - s.min_match(i)
            if skew > c.max_skew:
                return Status(Code.UNSCHEDULABLE, [ERR_REASON_CONSTRAINTS_NOT_MATCH], NAME)
        return SUCCESS

    # -- PreScore / Score ---------------------------------------------------------------

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        all_nodes = self.handle.snapshot().node_infos()
        if not all_nodes:
            return Status(Code.SKIP, plugin=NAME)
        has_own = bool((pod.get("spec") or {}).get("topologySpreadConstraints"))
        # Only non-system-default rules require nodes to carry every topology key, so
        # that nodes without a zone label still get hostname spreading.
        require_all = has_own or not self.system_defaulted
        try:
            constraints = self.constraints(pod, SCHEDULE_ANYWAY)
        except SelectorError as err:
            return Status.error(f"calculating preScoreState: {err}", NAME)
        if not constraints:
            return Status(Code.SKIP, plugin=NAME)

        ignored: set[str] = set()
        counts: list[dict[str, int]] = [{} for _ in constraints]
        sizes = [0] * len(constraints)
        for ni in nodes:
            labels = ni.labels
            if require_all and not _node_has_keys(labels, constraints):
                ignored.add(ni.name)
                continue
            for i, c in enumerate(constraints):
                if c.topology_key == LABEL_HOSTNAME:
                    continue  # counted per node in Score
                value = labels.get(c.topology_key, "")
                if value not in counts[i]:
                    counts[i][value] = 0
                    sizes[i] += 1
        weights = []
        for i, c in enumerate(constraints):
            size = len(nodes) - len(ignored) if c.topology_key == LABEL_HOSTNAME else sizes[i]
            weights.append(topology_normalizing_weight(size))

        namespace = pod_namespace(pod)
        counters = [self._counter(c.selector, namespace) for c in constraints]
        if any(c.topology_key != LABEL_HOSTNAME for c in constraints):
            inclusion = _Inclusion(pod)
            for ni in all_nodes:
                node = ni.node
                if node is None:
                    continue
                labels = ni.labels
                if require_all and not _node_has_keys(labels, constraints):
                    continue
                for i, c in enumerate(constraints):
                    if c.topology_key == LABEL_HOSTNAME or not inclusion.matches(c, node):
                        continue
                    value = labels.get(c.topology_key, "")
                    by_value = counts[i]
                    if value in by_value:
                        by_value[value] += counters[i](ni)
        state.write(PRE_SCORE_STATE_KEY, _PreScoreState(constraints, ignored, counts, weights, counters))
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]:
        s: _PreScoreState | None = state.get(PRE_SCORE_STATE_KEY)
        if s is None:
            return 0, Status.error(f'error reading "{PRE_SCORE_STATE_KEY}" from cycleState: not found', NAME)
        if node.name in s.ignored_nodes:
            return 0, SUCCESS
        labels = node.labels
        total = 0.0
        for i, c in enumerate(s.constraints):
            value = labels.get(c.topology_key)
            if value is None:
                continue
            if c.topology_key == LABEL_HOSTNAME:
                count = s.counters[i](node)
            else:
                count = s.counts[i].get(value, 0)
            total += _score_for_count(count, c.max_skew, s.weights[i])
        return math.floor(total + 0.5), SUCCESS

    def normalize_score(self, state: CycleState, pod: Obj, scores: list[NodeScore]) -> Status:
        s: _PreScoreState | None = state.get(PRE_SCORE_STATE_KEY)
        if s is None:
            return Status.error(f'error reading "{PRE_SCORE_STATE_KEY}" from cycleState: not found', NAME)
        ignored = s.ignored_nodes
        lo: int | None = None
        hi = 0
        for ns in scores:
            if ns.name in ignored:
                continue
            if lo is None or ns.score < lo:
                lo = ns.score
            if ns.score > hi:
                hi = ns.score
        for ns in scores:
            if ns.name in ignored:
                ns.score = 0
            elif hi == 0:
                ns.score = MAX_NODE_SCORE
            else:
                ns.score = MAX_NODE_SCORE * (hi + (lo or 0) - ns.score) // hi
        return SUCCESS

    # -- EnqueueExtensions --------------------------------------------------------------

    def events_to_register(self) -> Iterable[ClusterEvent]:
        return (
            ClusterEvent("Pod", "Add"),
            ClusterEvent("Pod", "Update"),
            ClusterEvent("Pod", "Delete"),
            ClusterEvent("Node", "Add"),
            ClusterEvent("Node", "Delete"),
            ClusterEvent("Node", "UpdateNodeLabel"),
            ClusterEvent("Node", "UpdateNodeTaint"),
        )


def new(args: dict[str, Any], handle: Handle) -> PodTopologySpread:
    return PodTopologySpread(PodTopologySpreadArgs.from_dict(args), handle)
