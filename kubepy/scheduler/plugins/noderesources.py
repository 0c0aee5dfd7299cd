"""NodeResourcesFit and NodeResourcesBalancedAllocation: does the pod fit the node's
allocatable resources, and how well does it use them (upstream plugins/noderesources).

Fit. PreFilter computes the pod's effective request once (``nodeinfo.pod_requests``:
largest of the app containers' sum and any init container, sidecars and overhead added);
Filter compares it with allocatable minus what the node's pods already request, per
resource, with upstream's reasons in upstream's order ("Too many pods", "Insufficient cpu",
"Insufficient memory", "Insufficient ephemeral-storage", "Insufficient <name>"); extended
resources named in ``ignoredResources`` or whose group prefix is in ``ignoredResourceGroups``
are not checked. ``fits`` is the exported decision (upstream's Fits), reused by preemption.
Score follows ``scoringStrategy``: LeastAllocated (default; cpu and memory, weight 1),
MostAllocated or RequestedToCapacityRatio (a broken-linear ``shape`` of utilization ->
score 0..10, scaled to 0..100). These count CPU/memory by "non-zero" requests (100m/200Mi
for a container that asks nothing), so empty pods still spread.

BalancedAllocation scores how evenly the node's resources would be used: one minus the
standard deviation of the requested/allocatable fractions (for two resources,
|f1 - f2| / 2), times 100, counting real requests. Pods that request none of its resources
skip it (upstream since issue 129138: otherwise best-effort pods pile onto one node).

Design: per pod, PreScore turns the configured resources into a flat list of (kind, name,
weight, pod request) so that Score, run once per node, is integer arithmetic on NodeInfo's
precomputed sums. All divisions are integer, exactly as upstream's int64 code, so scores
match upstream's tables.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from kubepy.scheduler.framework.nodeinfo import NodeInfo, Resource, pod_requests

__all__ = [
    "BALANCED_ALLOCATION_NAME",
    "FIT_NAME",
    "MAX_CUSTOM_PRIORITY_SCORE",
    "BalancedAllocation",
    "BalancedAllocationArgs",
    "Fit",
    "FitArgs",
    "InsufficientResource",
    "ResourceSpec",
    "ScoringStrategy",
    "balanced_resource_score",
    "broken_linear_function",
    "fits",
    "is_extended_resource_name",
    "is_scalar_resource_name",
    "least_allocated_score",
    "most_allocated_score",
    "new_balanced_allocation",
    "new_fit",
    "requested_to_capacity_ratio_scorer",
]

Obj = dict[str, Any]

FIT_NAME = "NodeResourcesFit"
BALANCED_ALLOCATION_NAME = "NodeResourcesBalancedAllocation"
MAX_CUSTOM_PRIORITY_SCORE = 10
_MAX_UTILIZATION = 100

_FIT_PRE_FILTER_KEY = "PreFilter" + FIT_NAME
_FIT_PRE_SCORE_KEY = "PreScore" + FIT_NAME
_BA_PRE_SCORE_KEY = "PreScore" + BALANCED_ALLOCATION_NAME

_QUALIFIED_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


# --------------------------------------------------------------------------------------
# resource names


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def is_extended_resource_name(name: str) -> bool:
    """A resource outside the kubernetes.io namespace, e.g. ``nvidia.com/gpu`` (v1helper)."""
    if _is_native(name) or name.startswith("requests."):
        return False
    prefix, _, base = ("requests." + name).rpartition("/")
    return (bool(prefix) and len(prefix) <= 253 and bool(_DNS1123_SUBDOMAIN_RE.match(prefix))
            and 0 < len(base) <= 63 and bool(_QUALIFIED_NAME_RE.match(base)))


def is_scalar_resource_name(name: str) -> bool:
    """Extended, hugepages-*, kubernetes.io/-prefixed or attachable-volumes-* resources."""
    return (is_extended_resource_name(name) or name.startswith("hugepages-")
            or ("/" in name and "kubernetes.io/" in name) or name.startswith("attachable-volumes-"))


@dataclass(frozen=True, slots=True)
class InsufficientResource:
    """A resource the node lacks for the pod (upstream's InsufficientResource)."""

    resource_name: str
    reason: str
    requested: int
    used: int
    capacity: int


def fits(pod_request: Resource, node_info: NodeInfo, *, ignored_resources: Collection[str] = (),
         ignored_resource_groups: Collection[str] = ()) -> list[InsufficientResource]:
    """What the node lacks to host a pod requesting ``pod_request`` (empty: it fits).

    ``pod_request`` is ``nodeinfo.pod_requests(pod)``; the node's used resources are the sum
    of its pods' requests and its capacity is ``status.allocatable``.
    """
    out: list[InsufficientResource] = []
    alloc = node_info.allocatable
    used = node_info.requested
    n_pods = len(node_info.pods)
    if n_pods + 1 > alloc.allowed_pods:
        out.append(InsufficientResource("pods", "Too many pods", 1, n_pods, alloc.allowed_pods))
    if (pod_request.milli_cpu == 0 and pod_request.memory == 0 and pod_request.ephemeral_storage == 0
            and not pod_request.scalar):
        return out
    if pod_request.milli_cpu > 0 and pod_request.milli_cpu > alloc.milli_cpu - used.milli_cpu:
        out.append(InsufficientResource("cpu", "Insufficient cpu", pod_request.milli_cpu, used.milli_cpu,
                                        alloc.milli_cpu))
    if pod_request.memory > 0 and pod_request.memory > alloc.memory - used.memory:
        out.append(InsufficientResource("memory", "Insufficient memory", pod_request.memory, used.memory,
                                        alloc.memory))
    if (pod_request.ephemeral_storage > 0
            and pod_request.ephemeral_storage > alloc.ephemeral_storage - used.ephemeral_storage):
        out.append(InsufficientResource("ephemeral-storage", "Insufficient ephemeral-storage",
                                        pod_request.ephemeral_storage, used.ephemeral_storage,
                                        alloc.ephemeral_storage))
    for name, q in pod_request.scalar.items():
        if q == 0:
            continue
        if (ignored_resources or ignored_resource_groups) and is_extended_resource_name(name):
            if name in ignored_resources or name.split("/", 1)[0] in ignored_resource_groups:
                continue
        a, u = alloc.scalar.get(name, 0), used.scalar.get(name, 0)
        if q > a - u:
            out.append(InsufficientResource(name, f"Insufficient {name}", q, u, a))
    return out


# --------------------------------------------------------------------------------------
# scoring functions (pure, on parallel lists of requested/allocatable; 0 allocatable = skip)


def least_allocated_score(requested: Sequence[int], allocatable: Sequence[int], weights: Sequence[int]) -> int:
    """Favours free nodes: weighted mean of (allocatable - requested) * 100 / allocatable."""
    node_score = weight_sum = 0
    for req, cap, w in zip(requested, allocatable, weights):
        if cap == 0:
            continue
        s = 0 if req > cap else (cap - req) * MAX_NODE_SCORE // cap
        node_score += s * w
        weight_sum += w
    return node_score // weight_sum if weight_sum else 0


def most_allocated_score(requested: Sequence[int], allocatable: Sequence[int], weights: Sequence[int]) -> int:
    """Favours full nodes (bin packing): weighted mean of requested * 100 / allocatable."""
    node_score = weight_sum = 0
    for req, cap, w in zip(requested, allocatable, weights):
        if cap == 0:
            continue
        s = min(req, cap) * MAX_NODE_SCORE // cap
        node_score += s * w
        weight_sum += w
    return node_score // weight_sum if weight_sum else 0


def _go_div(a: int, b: int) -> int:
    """Integer division truncating toward zero, as Go's."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def broken_linear_function(shape: Sequence[tuple[int, int]]) -> Callable[[int], int]:
    """The piecewise-linear (utilization -> score) function through ``shape``'s points
    (sorted by utilization), flat before the first and after the last point."""
    points = list(shape)

    def fn(p: int) -> int:
        for i, (u, s) in enumerate(points):
            if p <= u:
                if i == 0:
                    return s
                u0, s0 = points[i - 1]
                return s0 + _go_div((s - s0) * (p - u0), u - u0)
        return points[-1][1]

    return fn


def requested_to_capacity_ratio_scorer(
    shape: Sequence[tuple[int, int]],
) -> Callable[[Sequence[int], Sequence[int], Sequence[int]], int]:
    """A scorer applying ``shape`` (utilization 0..100 -> score 0..10) to each resource's
    utilization; resources scoring 0 do not count; the weighted mean is rounded."""
    raw = broken_linear_function([(u, s * (MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE)) for u, s in shape])

    def scorer(requested: Sequence[int], allocatable: Sequence[int], weights: Sequence[int]) -> int:
        node_score = weight_sum = 0
        for req, cap, w in zip(requested, allocatable, weights):
            if cap == 0:
                continue
            s = raw(_MAX_UTILIZATION) if req > cap else raw(req * _MAX_UTILIZATION // cap)
            if s > 0:
                node_score += s * w
                weight_sum += w
        if weight_sum == 0:
            return 0
        return math.floor(node_score / weight_sum + 0.5)

    return scorer


def balanced_resource_score(requested: Sequence[int], allocatable: Sequence[int]) -> int:
    """(1 - standard deviation of the requested/allocatable fractions) * 100."""
    fractions: list[float] = []
    total = 0.0
    for req, cap in zip(requested, allocatable):
        if cap == 0:
            continue
        f = min(float(req) / float(cap), 1.0)
        total += f
        fractions.append(f)
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = total / float(len(fractions))
        acc = 0.0
        for f in fractions:
            acc = acc + (f - mean) * (f - mean)
        std = math.sqrt(acc / float(len(fractions)))
    return int((1 - std) * float(MAX_NODE_SCORE))


# --------------------------------------------------------------------------------------
# args


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    name: str
    weight: int = 1


_DEFAULT_RESOURCES = (ResourceSpec("cpu", 1), ResourceSpec("memory", 1))


def _resources(raw: Any, path: str) -> tuple[ResourceSpec, ...]:
    if raw is None:
        return _DEFAULT_RESOURCES
    out = []
    for i, r in enumerate(raw):
        weight = int(r.get("weight") if r.get("weight") is not None else 1)
        if not 1 <= weight <= MAX_NODE_SCORE:
            raise ValueError(f"{path}[{i}].weight: Invalid value: {weight}: resource weight of "
                             f"{r.get('name')} should be in the range [1, {MAX_NODE_SCORE}]")
        out.append(ResourceSpec(str(r.get("name") or ""), weight))
    return tuple(out)


@dataclass(frozen=True, kw_only=True, slots=True)
class ScoringStrategy:
    type: str = "LeastAllocated"
    resources: tuple[ResourceSpec, ...] = _DEFAULT_RESOURCES
    #: RequestedToCapacityRatio's (utilization, score) points
    shape: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class FitArgs:
    """NodeResourcesFitArgs (wire names: ignoredResources, ignoredResourceGroups, scoringStrategy)."""

    ignored_resources: frozenset[str] = frozenset()
    ignored_resource_groups: frozenset[str] = frozenset()
    scoring_strategy: ScoringStrategy = field(default_factory=ScoringStrategy)

    @classmethod
    def from_dict(cls, args: Mapping[str, Any] | None) -> FitArgs:
        args = args or {}
        groups = frozenset(str(g) for g in args.get("ignoredResourceGroups") or ())
        for g in groups:
            if "/" in g:
                raise ValueError(f"ignoredResourceGroups: Invalid value: {g!r}: resource group name can't contain '/'")
        raw = args.get("scoringStrategy") or {}
        kind = str(raw.get("type") or "LeastAllocated")
        if kind not in ("LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"):
            raise ValueError(f"scoringStrategy.type: Unsupported value: {kind!r}")
        shape: tuple[tuple[int, int], ...] = ()
        if kind == "RequestedToCapacityRatio":
            points = ((raw.get("requestedToCapacityRatio") or {}).get("shape")) or ()
            shape = tuple((int(p.get("utilization") or 0), int(p.get("score") or 0)) for p in points)
            if not shape:
                raise ValueError("scoringStrategy.requestedToCapacityRatio.shape: Required value: at least one point")
            for i, (u, s) in enumerate(shape):
                if not 0 <= u <= _MAX_UTILIZATION:
                    raise ValueError(f"shape[{i}].utilization: Invalid value: {u}: not in valid range [0, 100]")
                if i and u <= shape[i - 1][0]:
                    raise ValueError(f"shape[{i}].utilization: Invalid value: {u}: utilization values must be "
                                     "sorted in increasing order")
                if not 0 <= s <= MAX_CUSTOM_PRIORITY_SCORE:
                    raise ValueError(f"shape[{i}].score: Invalid value: {s}: not in valid range [0, 10]")
        return cls(
            ignored_resources=frozenset(str(r) for r in args.get("ignoredResources") or ()),
            ignored_resource_groups=groups,
            scoring_strategy=ScoringStrategy(
                type=kind, resources=_resources(raw.get("resources"), "scoringStrategy.resources"), shape=shape),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class BalancedAllocationArgs:
    resources: tuple[ResourceSpec, ...] = _DEFAULT_RESOURCES

    @classmethod
    def from_dict(cls, args: Mapping[str, Any] | None) -> BalancedAllocationArgs:
        return cls(resources=_resources((args or {}).get("resources"), "resources"))


# --------------------------------------------------------------------------------------
# per-node requested/allocatable lists

_CPU, _MEMORY, _EPHEMERAL, _SCALAR = 0, 1, 2, 3
_CPU_MEMORY = [_CPU, _MEMORY]


def _kind(name: str) -> int:
    return {"cpu": _CPU, "memory": _MEMORY, "ephemeral-storage": _EPHEMERAL}.get(name, _SCALAR)


def _pod_request_list(pod: Obj, resources: Sequence[ResourceSpec], *, non_zero: bool) -> list[int]:
    r = pod_requests(pod, non_zero=non_zero)
    out = []
    for spec in resources:
        k = _kind(spec.name)
        out.append(r.milli_cpu if k == _CPU else r.memory if k == _MEMORY
                   else r.ephemeral_storage if k == _EPHEMERAL else r.scalar.get(spec.name, 0))
    return out


@dataclass(slots=True)
class _ScoreState:
    """Per pod: the configured resources with the pod's request for each."""

    kinds: list[int]
    names: list[str]
    weights: list[int]
    pod_requests: list[int]
    #: a scalar resource the pod does not request is left out of scoring
    skip: list[bool]


def _score_state(pod: Obj, resources: Sequence[ResourceSpec], *, non_zero: bool) -> _ScoreState:
    """The pod's side of scoring, computed once per cycle in PreScore."""
    reqs = _pod_request_list(pod, resources, non_zero=non_zero)
    names = [r.name for r in resources]
    return _ScoreState(
        kinds=[_kind(n) for n in names], names=names, weights=[r.weight for r in resources], pod_requests=reqs,
        skip=[req == 0 and is_scalar_resource_name(n) for req, n in zip(reqs, names)],
    )


def _node_lists(s: _ScoreState, node: NodeInfo, *, use_requested: bool) -> tuple[list[int], list[int]]:
    """(requested incl. the pod, allocatable) per resource; 0 allocatable for skipped ones."""
    alloc = node.allocatable
    cpu_mem = node.requested if use_requested else node.non_zero_requested
    if s.kinds == _CPU_MEMORY and not s.skip[0] and not s.skip[1]:  # the default resources, fast
        return ([cpu_mem.milli_cpu + s.pod_requests[0], cpu_mem.memory + s.pod_requests[1]],
                [alloc.milli_cpu, alloc.memory])
    requested: list[int] = []
    allocatable: list[int] = []
    for kind, name, req, skip in zip(s.kinds, s.names, s.pod_requests, s.skip):
        if skip:
            requested.append(0)
            allocatable.append(0)
        elif kind == _CPU:
            requested.append(cpu_mem.milli_cpu + req)
            allocatable.append(alloc.milli_cpu)
        elif kind == _MEMORY:
            requested.append(cpu_mem.memory + req)
            allocatable.append(alloc.memory)
        elif kind == _EPHEMERAL:
            requested.append(node.requested.ephemeral_storage + req)
            allocatable.append(alloc.ephemeral_storage)
        elif name in alloc.scalar:
            requested.append(node.requested.scalar.get(name, 0) + req)
            allocatable.append(alloc.scalar[name])
        else:
            requested.append(0)
            allocatable.append(0)
    return requested, allocatable


# --------------------------------------------------------------------------------------
# the plugins

_NODE_EVENTS = [ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeAllocatable"),
                ClusterEvent("Node", "UpdateNodeTaint"), ClusterEvent("Node", "UpdateNodeLabel")]


class Fit(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions):
    NAME = FIT_NAME
    HAS_NORMALIZE = False

    def normalize_score(self, state: CycleState, pod: Obj, scores: list[NodeScore]) -> Status:
        return SUCCESS  # not called: HAS_NORMALIZE is False

    def __init__(self, args: FitArgs) -> None:
        self.args = args
        strategy = args.scoring_strategy
        self.resources = strategy.resources
        self._scorer: Callable[[Sequence[int], Sequence[int], Sequence[int]], int]
        if strategy.type == "MostAllocated":
            self._scorer = most_allocated_score
        elif strategy.type == "RequestedToCapacityRatio":
            self._scorer = requested_to_capacity_ratio_scorer(strategy.shape)
        else:
            self._scorer = least_allocated_score

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Pod", "Delete"), *_NODE_EVENTS]

    def pre_filter(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        state.write(_FIT_PRE_FILTER_KEY, pod_requests(pod))
        return None, SUCCESS

    def add_pod(self, state: CycleState, pod: Obj, pod_to_add: Obj, node: NodeInfo) -> Status:
        return SUCCESS

    def remove_pod(self, state: CycleState, pod: Obj, pod_to_remove: Obj, node: NodeInfo) -> Status:
        return SUCCESS

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        request: Resource | None = state.get(_FIT_PRE_FILTER_KEY)
        if request is None:
            return Status.error(f"error reading {_FIT_PRE_FILTER_KEY!r} from cycleState: not found", plugin=FIT_NAME)
        missing = fits(request, node, ignored_resources=self.args.ignored_resources,
                       ignored_resource_groups=self.args.ignored_resource_groups)
        if not missing:
            return SUCCESS
        return Status(Code.UNSCHEDULABLE, [m.reason for m in missing], FIT_NAME)

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        state.write(_FIT_PRE_SCORE_KEY, _score_state(pod, self.resources, non_zero=True))
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]:
        if not self.resources:
            return 0, Status.error("resources not found", plugin=FIT_NAME)
        s: _ScoreState | None = state.get(_FIT_PRE_SCORE_KEY)
        if s is None:
            s = _score_state(pod, self.resources, non_zero=True)
        requested, allocatable = _node_lists(s, node, use_requested=False)
        return self._scorer(requested, allocatable, s.weights), SUCCESS

    def score_nodes(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[list[int], Status]:
        """Score every node in one call (the runtime prefers this to per-node ``score``)."""
        if not self.resources:
            return [], Status.error("resources not found", plugin=FIT_NAME)
        s: _ScoreState | None = state.get(_FIT_PRE_SCORE_KEY)
        if s is None:
            s = _score_state(pod, self.resources, non_zero=True)
        scorer, weights = self._scorer, s.weights
        return [scorer(*_node_lists(s, node, use_requested=False), weights) for node in nodes], SUCCESS


class BalancedAllocation(PreScorePlugin, ScorePlugin, EnqueueExtensions):
    NAME = BALANCED_ALLOCATION_NAME
    HAS_NORMALIZE = False

    def normalize_score(self, state: CycleState, pod: Obj, scores: list[NodeScore]) -> Status:
        return SUCCESS  # not called: HAS_NORMALIZE is False

    def __init__(self, args: BalancedAllocationArgs) -> None:
        self.resources = args.resources

    def events_to_register(self) -> list[ClusterEvent]:
        return []

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        s = _score_state(pod, self.resources, non_zero=False)
        if not any(s.pod_requests):
            return Status(Code.SKIP)
        state.write(_BA_PRE_SCORE_KEY, s)
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]:
        s: _ScoreState | None = state.get(_BA_PRE_SCORE_KEY)
        if s is None:
            s = _score_state(pod, self.resources, non_zero=False)
            if not any(s.pod_requests):
                return 0, SUCCESS
        requested, allocatable = _node_lists(s, node, use_requested=True)
        return balanced_resource_score(requested, allocatable), SUCCESS

    def score_nodes(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[list[int], Status]:
        """Score every node in one call (the runtime prefers this to per-node ``score``)."""
        s: _ScoreState | None = state.get(_BA_PRE_SCORE_KEY)
        if s is None:
            s = _score_state(pod, self.resources, non_zero=False)
            if not any(s.pod_requests):
                return [0] * len(nodes), SUCCESS
        return [balanced_resource_score(*_node_lists(s, node, use_requested=True)) for node in nodes], SUCCESS


def new_fit(args: dict[str, Any], handle: Handle) -> Fit:
    return Fit(FitArgs.from_dict(args))


def new_balanced_allocation(args: dict[str, Any], handle: Handle) -> BalancedAllocation:
    return BalancedAllocation(BalancedAllocationArgs.from_dict(args))
