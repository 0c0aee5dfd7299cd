"""The framework runtime: one profile's plugins run at each extension point, as upstream's.

Job: ``Framework`` builds a profile's plugins from the registry (plugins whose module this
build lacks are skipped with a debug log, so partial builds run), expands ``multiPoint``
to every extension point a plugin implements, and runs each point with upstream's rules:
- PreFilter: results intersected; SKIP drops the plugin's Filter for this cycle;
  UNSCHEDULABLE_AND_UNRESOLVABLE stops at once, UNSCHEDULABLE lets the others run (so
  preemption has their state); an empty intersection rejects every node.
- Filter: plugins in order, stopping at the first that rejects the node; the status
  (with the plugin's name) is kept per node for the failure message and for preemption.
  ``run_filter_plugins_with_nominated_pods`` first adds the pods nominated to the node with
  at least the pod's priority, and if that passes, checks again without them.
- PreScore/Score: SKIP drops the plugin's Score; NormalizeScore for plugins that set
  ``HAS_NORMALIZE``; every score must be in [0, 100]; weights multiply; totals summed.
- Reserve (Unreserve in reverse order), Permit (WAIT parks the pod until every waiting
  plugin allows it, or one rejects it, or its timeout passes), PreBind, Bind (the first
  plugin not answering SKIP binds), PostBind.
The framework is also the plugins' Handle (client, snapshot, listers, nominated pods,
waiting pods), as upstream's frameworkImpl is.

This module also holds the part of upstream's schedule_one.go that decides: ``schedule_pod``
(PreFilter → Filter over a sample of nodes → PreScore/Score → host), node sampling
(``num_feasible_nodes_to_find``: percentageOfNodesToScore, adaptive by default, round-robin
start across cycles), and ``FitError`` whose text is upstream's
"0/3 nodes are available: 1 Insufficient cpu, 2 node(s) ... . preemption: ...".

Design: Filter and Score run once per (pod, node): the loops bind the per-cycle plugin
lists to locals once, skip the nominated-pods path when nothing is nominated, and never
copy a NodeInfo unless nominated pods must be added to it. A Score plugin may also offer
``score_nodes(state, pod, nodes) -> (list[int], Status)``, which the runtime then calls
once per cycle instead of ``score`` once per node (same results, one call).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubepy.scheduler.config import PluginRef, PluginSet, Profile
from kubepy.scheduler.framework.interface import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    ClusterEvent,
    Code,
    CycleState,
    NodeScore,
    PostFilterResult,
    PreFilterResult,
    QueuedPodInfo,
    Snapshot,
    Status,
)
from kubepy.scheduler.framework.nodeinfo import NodeInfo, PodInfo
from kubepy.scheduler.plugins import registry

__all__ = [
    "Framework",
    "FrameworkServices",
    "NodeToStatus",
    "Diagnosis",
    "FitError",
    "NoNodesAvailable",
    "ScheduleResult",
    "NodeSampler",
    "WaitingPod",
    "num_feasible_nodes_to_find",
    "schedule_pod",
    "select_host",
    "ALL_CLUSTER_EVENTS",
    "UNAVAILABLE_PLUGINS",
    "MIN_FEASIBLE_NODES_TO_FIND",
    "MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND",
]

log = logging.getLogger(__name__)

Obj = dict[str, Any]
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
MAX_PERMIT_TIMEOUT = 15 * 60.0
NO_NODES_AVAILABLE_MSG = "no nodes available to schedule pods"
#: upstream plugins this build does not have yet (the volume plugins): named in the
#: default profile, skipped quietly
UNAVAILABLE_PLUGINS = frozenset({"VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone",
                                 "EBSLimits", "GCEPDLimits", "AzureDiskLimits", "CinderLimits",
                                 "DynamicResources"})
#: what a plugin without EnqueueExtensions is interested in: everything
ALL_CLUSTER_EVENTS = (ClusterEvent("*", "*"),)

#: extension point -> the method that marks a plugin as implementing it
_POINT_METHODS: dict[str, str] = {
    "preEnqueue": "pre_enqueue",
    "queueSort": "less",
    "preFilter": "pre_filter",
    "filter": "filter",
    "postFilter": "post_filter",
    "preScore": "pre_score",
    "score": "score",
    "reserve": "reserve",
    "permit": "permit",
    "preBind": "pre_bind",
    "bind": "bind",
    "postBind": "post_bind",
}


# -- diagnosis and errors ----------------------------------------------------------------------

class NodeToStatus(Mapping[str, Status]):
    """Per-node statuses of a failed cycle. Nodes never examined (PreFilter rejected the pod,
    or its result excluded them) read as ``absent`` (default UNSCHEDULABLE_AND_UNRESOLVABLE);
    iteration covers only the explicit entries, as upstream's ForEachExplicitNode."""

    __slots__ = ("_explicit", "absent")

    def __init__(self) -> None:
        self._explicit: dict[str, Status] = {}
        self.absent = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    def __getitem__(self, name: str) -> Status:
        return self._explicit.get(name, self.absent)

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._explicit)

    def __len__(self) -> int:
        return len(self._explicit)

    def set(self, name: str, status: Status) -> None:
        self._explicit[name] = status

    def explicit(self) -> Mapping[str, Status]:
        return self._explicit


@dataclass(slots=True)
class Diagnosis:
    node_to_status: NodeToStatus = field(default_factory=NodeToStatus)
    unschedulable_plugins: set[str] = field(default_factory=set)
    pending_plugins: set[str] = field(default_factory=set)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""

    def add_plugin_status(self, status: Status) -> None:
        if not status.plugin:
            return
        if status.code is Code.PENDING:
            self.pending_plugins.add(status.plugin)
        elif status.is_rejected:
            self.unschedulable_plugins.add(status.plugin)


class NoNodesAvailable(Exception):
    def __init__(self) -> None:
        super().__init__(NO_NODES_AVAILABLE_MSG)


class FitError(Exception):
    """No node fits the pod; ``str()`` is upstream's FailedScheduling message."""

    def __init__(self, pod: Obj, num_all_nodes: int, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.diagnosis = diagnosis

    def __str__(self) -> str:
        d = self.diagnosis
        msg = f"0/{self.num_all_nodes} nodes are available:"
        if d.pre_filter_msg:
            msg += f" {d.pre_filter_msg}."
        else:
            histogram: dict[str, int] = {}
            for status in d.node_to_status.explicit().values():
                for reason in status.reasons:
                    histogram[reason] = histogram.get(reason, 0) + 1
            if histogram:
                msg += " " + ", ".join(sorted(f"{n} {r}" for r, n in histogram.items())) + "."
        if d.post_filter_msg:
            msg += f" {d.post_filter_msg}."
        return msg


# -- sampling ----------------------------------------------------------------------------------

def num_feasible_nodes_to_find(percentage: int | None, num_all_nodes: int) -> int:
    """How many feasible nodes are enough (upstream's numFeasibleNodesToFind): all below 100
    nodes; else ``percentage`` of them (0 = adaptive: 50% - nodes/125, at least 5%), at
    least 100."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    pct = percentage or 0
    if pct == 0:
        pct = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    n = num_all_nodes * pct // 100
    return max(n, MIN_FEASIBLE_NODES_TO_FIND)


@dataclass(slots=True)
class NodeSampler:
    """Where the next cycle starts examining nodes, so all nodes get their turn."""

    next_start_index: int = 0
    #: the scheduler-wide percentageOfNodesToScore (profiles may override)
    percentage_of_nodes_to_score: int = 0


@dataclass(slots=True)
class ScheduleResult:
    suggested_host: str
    evaluated_nodes: int = 0
    feasible_nodes: int = 0


# -- services the framework needs from the scheduler -------------------------------------------

class FrameworkServices(Protocol):
    """What a Framework needs from the scheduler around it (tests pass a small fake)."""

    @property
    def client(self) -> Any: ...

    def snapshot(self) -> Snapshot: ...

    def lister(self, api_version: str, plural: str) -> Any: ...

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]: ...

    def has_nominated_pods(self) -> bool: ...


# -- waiting pods (Permit) ---------------------------------------------------------------------

class WaitingPod:
    """A pod some Permit plugins asked to wait for: allowed once every one of them allows
    it; rejected by the first rejection or timeout."""

    def __init__(self, pod: Obj, timeouts: Mapping[str, float]) -> None:
        self.pod = pod
        self.pending = set(timeouts)
        loop = asyncio.get_running_loop()
        self._result: asyncio.Future[Status] = loop.create_future()
        self._timers = [
            loop.call_later(t, self.reject, name, f"rejected due to timeout after waiting {t:g}s at plugin {name}")
            for name, t in timeouts.items()
        ]

    @property
    def uid(self) -> str:
        return str(self.pod["metadata"].get("uid") or "")

    def allow(self, plugin: str) -> None:
        self.pending.discard(plugin)
        if not self.pending:
            self._finish(Status())

    def reject(self, plugin: str, message: str) -> None:
        self._finish(Status(Code.UNSCHEDULABLE, [message], plugin))

    def _finish(self, status: Status) -> None:
        for t in self._timers:
            t.cancel()
        if not self._result.done():
            self._result.set_result(status)

    async def wait(self) -> Status:
        return await self._result


# -- the framework -----------------------------------------------------------------------------

def _implements(plugin: Any, point: str) -> bool:
    return callable(getattr(plugin, _POINT_METHODS[point], None))


def _as_error(point: str, name: str, status: Status) -> Status:
    return Status(Code.ERROR, [f"running {point} plugin {name!r}: {status.message}"], name)


class Framework:
    """One profile's plugins, ready to run (and the Handle those plugins get)."""

    def __init__(
        self,
        profile: Profile,
        services: FrameworkServices,
        *,
        plugin_factory: Callable[[str], Callable[[dict[str, Any], Any], Any] | None] = registry.factory,
        event_recorder: Any = None,
        rng: random.Random | None = None,
    ) -> None:
        self.profile = profile
        self.profile_name = profile.scheduler_name
        self.services = services
        self.event_recorder = event_recorder
        self.percentage_of_nodes_to_score = profile.percentage_of_nodes_to_score
        self.rng = rng or random.Random()
        self.plugins: dict[str, Any] = {}
        self.waiting_pods: dict[str, WaitingPod] = {}
        self._build(plugin_factory)

    # -- construction ------------------------------------------------------------------------

    def _needed(self) -> list[str]:
        names: list[str] = []
        for pset in self.profile.plugins.values():
            for ref in pset.enabled:
                if ref.name not in names:
                    names.append(ref.name)
        return names

    def _build(self, plugin_factory: Callable[[str], Callable[[dict[str, Any], Any], Any] | None]) -> None:
        for name in self._needed():
            if name in UNAVAILABLE_PLUGINS:
                log.debug("plugin %s is not part of kubepy yet; skipped", name)
                continue
            if name not in registry.PLUGINS and plugin_factory is registry.factory:
                raise ValueError(f"plugin {name!r} does not exist (profile {self.profile_name!r})")
            make = plugin_factory(name)
            if make is None:
                log.debug("plugin %s is not available in this build; skipped", name)
                continue
            self.plugins[name] = make(self.profile.args_for(name), self)
        points: dict[str, list[tuple[str, Any]]] = {p: [] for p in _POINT_METHODS}
        plugins = self.profile.plugins
        multi = plugins.get("multiPoint") or PluginSet()
        weights: dict[str, int] = {}
        for point in _POINT_METHODS:
            pset = plugins.get(point) or PluginSet()
            specific = [ref.name for ref in pset.enabled if ref.name in self.plugins]
            for ref in pset.enabled:
                if ref.name in self.plugins and not _implements(self.plugins[ref.name], point):
                    raise ValueError(f"plugin {ref.name!r} does not extend {point} plugin")
            disabled = set(pset.disabled)
            ordered: list[str] = []
            if "*" not in disabled:
                overrides = [n for n in specific if any(m.name == n for m in multi.enabled)]
                from_multi: list[str] = []
                for ref in multi.enabled:
                    pl = self.plugins.get(ref.name)
                    if pl is None or not _implements(pl, point) or ref.name in disabled or ref.name in specific:
                        continue
                    if ref.name in from_multi:
                        raise ValueError(f"plugin {ref.name!r} already registered as {point}")
                    from_multi.append(ref.name)
                ordered = overrides + from_multi + [n for n in specific if n not in overrides]
            else:
                ordered = specific
            seen: set[str] = set()
            for n in ordered:
                if n in seen:
                    raise ValueError(f"plugin {n!r} already registered as {point}")
                seen.add(n)
                points[point].append((n, self.plugins[n]))
        # weights: the Score point's own settings win over multiPoint's
        for ref in [*(plugins.get("score") or PluginSet()).enabled, *multi.enabled]:
            if ref.name in weights or ref.name not in self.plugins or not _implements(self.plugins[ref.name], "score"):
                continue
            weights[ref.name] = ref.weight or 1
        if len(points["queueSort"]) > 1:
            raise ValueError(f"only one queue sort plugin allowed for profile {self.profile_name!r}")
        self.queue_sort = points["queueSort"][0][1] if points["queueSort"] else None
        self.pre_enqueue_plugins = points["preEnqueue"]
        self.pre_filter_plugins = points["preFilter"]
        self.filter_plugins = points["filter"]
        self.post_filter_plugins = points["postFilter"]
        self.pre_score_plugins = points["preScore"]
        self.score_plugins = points["score"]
        self.score_weights = {n: weights.get(n, 1) for n, _ in self.score_plugins}
        self.reserve_plugins = points["reserve"]
        self.permit_plugins = points["permit"]
        self.pre_bind_plugins = points["preBind"]
        self.bind_plugins = points["bind"]
        self.post_bind_plugins = points["postBind"]
        self._filters = [(n, p.filter) for n, p in self.filter_plugins]
        if not self.bind_plugins:
            log.warning("profile %s has no bind plugin available: binding with the built-in binder",
                        self.profile_name)

    def plugin_names(self, point: str) -> list[str]:
        """The enabled plugins of one extension point, in run order (tests, debugging)."""
        attr = {"preEnqueue": "pre_enqueue_plugins", "queueSort": None, "preFilter": "pre_filter_plugins",
                "filter": "filter_plugins", "postFilter": "post_filter_plugins", "preScore": "pre_score_plugins",
                "score": "score_plugins", "reserve": "reserve_plugins", "permit": "permit_plugins",
                "preBind": "pre_bind_plugins", "bind": "bind_plugins", "postBind": "post_bind_plugins"}[point]
        if attr is None:
            return [self.queue_sort.NAME] if self.queue_sort is not None else []
        return [n for n, _ in getattr(self, attr)]

    def events_to_register(self) -> dict[ClusterEvent, set[str]]:
        """Cluster event -> plugins interested in it (plugins without EnqueueExtensions get
        every event, as upstream)."""
        out: dict[ClusterEvent, set[str]] = {}
        for name, pl in self.plugins.items():
            fn = getattr(pl, "events_to_register", None)
            events: Iterable[ClusterEvent] | None = fn() if callable(fn) else None
            for ev in ALL_CLUSTER_EVENTS if events is None else events:
                out.setdefault(ev, set()).add(name)
        return out

    def has_filter_plugins(self) -> bool:
        return bool(self.filter_plugins)

    def has_score_plugins(self) -> bool:
        return bool(self.score_plugins)

    def has_post_filter_plugins(self) -> bool:
        return bool(self.post_filter_plugins)

    # -- Handle ------------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        return self.services.client

    def snapshot(self) -> Snapshot:
        return self.services.snapshot()

    def lister(self, api_version: str, plural: str) -> Any:
        return self.services.lister(api_version, plural)

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return self.services.nominated_pods_for_node(node_name)

    def get_waiting_pod(self, uid: str) -> WaitingPod | None:
        return self.waiting_pods.get(uid)

    def iterate_over_waiting_pods(self) -> list[WaitingPod]:
        return list(self.waiting_pods.values())

    def reject_waiting_pod(self, uid: str) -> bool:
        wp = self.waiting_pods.get(uid)
        if wp is None:
            return False
        wp.reject("", "removed")
        return True

    # -- PreEnqueue / QueueSort ----------------------------------------------------------------

    def run_pre_enqueue_plugins(self, pod: Obj) -> Status:
        for name, pl in self.pre_enqueue_plugins:
            st: Status = pl.pre_enqueue(pod)
            if st is not None and not st.ok:
                st.plugin = name
                return st
        return Status()

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        assert self.queue_sort is not None
        return bool(self.queue_sort.less(a, b))

    # -- PreFilter / Filter --------------------------------------------------------------------

    def run_pre_filter_plugins(
        self, state: CycleState, pod: Obj, nodes: list[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status, set[str]]:
        """Merged result, status, and the plugins whose results narrowed the nodes (or that
        rejected the pod)."""
        result: PreFilterResult | None = None
        narrowing: set[str] = set()
        skip: set[str] = set()
        rejected: Status | None = None
        for name, pl in self.pre_filter_plugins:
            r, st = pl.pre_filter(state, pod, nodes)
            if st.code is Code.SKIP:
                skip.add(name)
                continue
            if not st.ok:
                st.plugin = name
                if st.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                    return None, st, {name}
                if st.code is Code.UNSCHEDULABLE:
                    rejected = st
                    narrowing.add(name)
                    continue
                return None, _as_error("PreFilter", name, st), set()
            if r is not None and r.node_names is not None:
                narrowing.add(name)
                result = PreFilterResult(set(r.node_names) if result is None or result.node_names is None
                                         else result.node_names & set(r.node_names))
                if not result.node_names:
                    names = sorted(narrowing)
                    msg = (f"node(s) didn't satisfy plugin {names[0]}" if len(names) == 1 else
                           f"node(s) didn't satisfy plugin(s) [{' '.join(names)}] simultaneously")
                    return result, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [msg]), narrowing
        state.skip_filter = skip
        if rejected is not None:
            return result, rejected, narrowing
        return result, Status(), narrowing

    def run_pre_filter_extension_add_pod(self, state: CycleState, pod: Obj, pod_to_add: PodInfo | Obj,
                                         node: NodeInfo) -> Status:
        other = pod_to_add.pod if isinstance(pod_to_add, PodInfo) else pod_to_add
        for name, pl in self.pre_filter_plugins:
            if name in state.skip_filter or not callable(getattr(pl, "add_pod", None)):
                continue
            st = pl.add_pod(state, pod, other, node)
            if st is not None and not st.ok:
                return _as_error("AddPod", name, st)
        return Status()

    def run_pre_filter_extension_remove_pod(self, state: CycleState, pod: Obj, pod_to_remove: PodInfo | Obj,
                                            node: NodeInfo) -> Status:
        other = pod_to_remove.pod if isinstance(pod_to_remove, PodInfo) else pod_to_remove
        for name, pl in self.pre_filter_plugins:
            if name in state.skip_filter or not callable(getattr(pl, "remove_pod", None)):
                continue
            st = pl.remove_pod(state, pod, other, node)
            if st is not None and not st.ok:
                return _as_error("RemovePod", name, st)
        return Status()

    def _cycle_filters(self, state: CycleState) -> list[tuple[str, Callable[..., Status]]]:
        skip = state.skip_filter
        return [f for f in self._filters if f[0] not in skip] if skip else self._filters

    @staticmethod
    def _run_filters(filters: Sequence[tuple[str, Callable[..., Status]]], state: CycleState, pod: Obj,
                     node: NodeInfo) -> Status | None:
        """None when every filter passes (the hot path allocates nothing)."""
        success = Code.SUCCESS
        for name, fn in filters:
            st = fn(state, pod, node)
            if st.code is not success:
                if not st.is_rejected:
                    return _as_error("Filter", name, st)
                if st.plugin != name:
                    st = Status(st.code, st.reasons, name)
                return st
        return None

    def run_filter_plugins(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        return self._run_filters(self._cycle_filters(state), state, pod, node) or Status()

    def run_filter_plugins_with_nominated_pods(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        """Filter with the pods nominated to ``node`` (priority >= the pod's) counted, then —
        if that passes and any were added — without them (upstream's two passes)."""
        return self._filter_with_nominated(self._cycle_filters(state), state, pod, node) or Status()

    def _filter_with_nominated(self, filters: Sequence[tuple[str, Callable[..., Status]]], state: CycleState,
                               pod: Obj, node: NodeInfo) -> Status | None:
        nominated = self.services.nominated_pods_for_node(node.name) if self.services.has_nominated_pods() else ()
        if not nominated:
            return self._run_filters(filters, state, pod, node)
        prio = _priority(pod)
        uid = pod["metadata"].get("uid")
        key = _key(pod)
        node_out: NodeInfo | None = None
        state_out = state
        for pi in nominated:
            if _priority(pi.pod) >= prio and pi.pod["metadata"].get("uid") != uid and pi.key != key:
                if node_out is None:
                    node_out = node.clone()
                    state_out = state.clone()
                node_out.add_pod(pi)
                st = self.run_pre_filter_extension_add_pod(state_out, pod, pi, node_out)
                if not st.ok:
                    return st
        if node_out is None:
            return self._run_filters(filters, state, pod, node)
        st1 = self._run_filters(filters, state_out, pod, node_out)
        if st1 is not None:
            return st1
        return self._run_filters(filters, state, pod, node)

    async def run_post_filter_plugins(
        self, state: CycleState, pod: Obj, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status]:
        result: PostFilterResult | None = None
        reasons: list[str] = []
        rejector = ""
        for name, pl in self.post_filter_plugins:
            r, st = await pl.post_filter(state, pod, statuses)
            if st.ok:
                return r, st
            if st.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                st.plugin = name
                return r, st
            if not st.is_rejected:
                return None, Status(Code.ERROR, list(st.reasons), name)
            if r is not None:
                result = r
            reasons.extend(st.reasons)
            rejector = rejector or name
        return result, Status(Code.UNSCHEDULABLE, reasons, rejector)

    # -- PreScore / Score ----------------------------------------------------------------------

    def run_pre_score_plugins(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        skip: set[str] = set()
        for name, pl in self.pre_score_plugins:
            st = pl.pre_score(state, pod, nodes)
            if st.code is Code.SKIP:
                skip.add(name)
                continue
            if not st.ok:
                return _as_error("PreScore", name, st)
        state.skip_score = skip
        return Status()

    def run_score_plugins(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[list[int], Status]:
        """Weighted total score per node (aligned with ``nodes``)."""
        totals = [0] * len(nodes)
        skip = state.skip_score
        success = Code.SUCCESS
        for name, pl in self.score_plugins:
            if name in skip:
                continue
            batch = getattr(pl, "score_nodes", None)
            scores: list[int]
            if batch is not None:
                scores, st = batch(state, pod, nodes)
                if st.code is not success:
                    return [], _as_error("Score", name, st)
            else:
                fn = pl.score
                scores = []
                append = scores.append
                for node in nodes:
                    s, st = fn(state, pod, node)
                    if st.code is not success:
                        return [], _as_error("Score", name, st)
                    append(s)
            if getattr(pl, "HAS_NORMALIZE", False):
                named = [NodeScore(node.name, sc) for node, sc in zip(nodes, scores, strict=True)]
                st = pl.normalize_score(state, pod, named)
                if not st.ok:
                    return [], _as_error("NormalizeScore", name, st)
                scores = [ns.score for ns in named]
            if scores and (max(scores) > MAX_NODE_SCORE or min(scores) < MIN_NODE_SCORE):
                bad = next(sc for sc in scores if sc > MAX_NODE_SCORE or sc < MIN_NODE_SCORE)
                return [], Status.error(
                    f"plugin {name!r} returns an invalid score {bad}, it should in the range of "
                    f"[{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing", name)
            weight = self.score_weights[name]
            if weight == 1:
                totals = [t + sc for t, sc in zip(totals, scores, strict=True)]
            else:
                totals = [t + sc * weight for t, sc in zip(totals, scores, strict=True)]
        return totals, Status()

    # -- Reserve / Permit ----------------------------------------------------------------------

    def run_reserve_plugins_reserve(self, state: CycleState, pod: Obj, node_name: str) -> Status:
        for name, pl in self.reserve_plugins:
            st: Status = pl.reserve(state, pod, node_name)
            if not st.ok:
                if st.is_rejected:
                    st.plugin = name
                    return st
                return _as_error("Reserve", name, st)
        return Status()

    def run_reserve_plugins_unreserve(self, state: CycleState, pod: Obj, node_name: str) -> None:
        for name, pl in reversed(self.reserve_plugins):
            try:
                pl.unreserve(state, pod, node_name)
            except Exception:
                log.exception("unreserve of plugin %s failed", name)

    def run_permit_plugins(self, state: CycleState, pod: Obj, node_name: str) -> Status:
        waits: dict[str, float] = {}
        for name, pl in self.permit_plugins:
            st: Status
            st, timeout = pl.permit(state, pod, node_name)
            if st.ok:
                continue
            if st.is_rejected:
                st.plugin = name
                return st
            if st.code is Code.WAIT:
                waits[name] = min(max(timeout, 0.0), MAX_PERMIT_TIMEOUT)
                continue
            return _as_error("Permit", name, st)
        if waits:
            wp = WaitingPod(pod, waits)
            self.waiting_pods[wp.uid] = wp
            return Status(Code.WAIT, ["one or more plugins asked to wait and no plugin rejected pod"])
        return Status()

    def will_wait_on_permit(self, pod: Obj) -> bool:
        return str(pod["metadata"].get("uid") or "") in self.waiting_pods

    async def wait_on_permit(self, pod: Obj) -> Status:
        uid = str(pod["metadata"].get("uid") or "")
        wp = self.waiting_pods.get(uid)
        if wp is None:
            return Status()
        try:
            st = await wp.wait()
        finally:
            self.waiting_pods.pop(uid, None)
        if not st.ok and not st.is_rejected:
            return Status(Code.ERROR, st.reasons, st.plugin)
        return st

    # -- binding cycle -------------------------------------------------------------------------

    async def run_pre_bind_plugins(self, state: CycleState, pod: Obj, node_name: str) -> Status:
        for name, pl in self.pre_bind_plugins:
            st: Status = await pl.pre_bind(state, pod, node_name)
            if not st.ok:
                if st.is_rejected:
                    st.plugin = name
                    return st
                return _as_error("PreBind", name, st)
        return Status()

    async def run_bind_plugins(self, state: CycleState, pod: Obj, node_name: str) -> Status:
        if not self.bind_plugins:
            return await self._builtin_bind(pod, node_name)
        for name, pl in self.bind_plugins:
            st: Status = await pl.bind(state, pod, node_name)
            if st.code is Code.SKIP:
                continue
            if not st.ok:
                if st.is_rejected:
                    st.plugin = name
                    return st
                return _as_error("Bind", name, st)
            return st
        return Status(Code.SKIP, ["all bind plugins skipped the pod"])

    async def _builtin_bind(self, pod: Obj, node_name: str) -> Status:
        """DefaultBinder's job, for builds that lack the plugin module."""
        meta = pod["metadata"]
        body = {"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "uid": meta.get("uid")},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        try:
            await self.client.create(self.client.resource("v1", "pods"), body, namespace=meta.get("namespace"),
                                     subresource="binding", name=meta["name"])
        except Exception as e:
            return Status.error(str(e), "DefaultBinder")
        return Status()

    def run_post_bind_plugins(self, state: CycleState, pod: Obj, node_name: str) -> None:
        for name, pl in self.post_bind_plugins:
            try:
                pl.post_bind(state, pod, node_name)
            except Exception:
                log.exception("postbind of plugin %s failed", name)


def _priority(pod: Obj) -> int:
    p = (pod.get("spec") or {}).get("priority")
    return int(p) if p is not None else 0


def _key(pod: Obj) -> str:
    meta = pod["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


# -- the scheduling algorithm (upstream's schedulePod) -----------------------------------------

def select_host(names: Sequence[str], totals: Sequence[int], rng: random.Random) -> str:
    """The highest total score; ties broken uniformly at random (as upstream's reservoir sampling)."""
    if len(names) != len(totals):
        raise ValueError("names and totals differ in length")
    if not names:
        return ""
    best = max(totals)
    ties = [name for name, score in zip(names, totals) if score == best]
    return ties[0] if len(ties) == 1 else ties[rng.randrange(len(ties))]


def _find_nodes_that_pass_filters(
    fwk: Framework, sampler: NodeSampler, state: CycleState, pod: Obj, diagnosis: Diagnosis,
    nodes: list[NodeInfo],
) -> list[NodeInfo]:
    num_all = len(nodes)
    pct = fwk.percentage_of_nodes_to_score
    to_find = num_feasible_nodes_to_find(sampler.percentage_of_nodes_to_score if pct is None else pct, num_all)
    if not fwk.has_score_plugins():
        to_find = min(to_find, 1)
    if num_all == 0:
        return []
    start = sampler.next_start_index
    if not fwk.has_filter_plugins():
        return [nodes[(start + i) % num_all] for i in range(to_find)]
    filters = fwk._cycle_filters(state)
    feasible: list[NodeInfo] = []
    statuses = diagnosis.node_to_status
    order = nodes[start:] + nodes[:start] if start else nodes
    if fwk.services.has_nominated_pods():
        check = fwk._filter_with_nominated
        for node in order:
            st = check(filters, state, pod, node)
            if st is None:
                feasible.append(node)
                if len(feasible) >= to_find:
                    break
                continue
            if st.code is Code.ERROR:
                raise RuntimeError(st.message)
            statuses.set(node.name, st)
            diagnosis.add_plugin_status(st)
        return feasible
    # the common case, inlined: no nominated pods, so one filter pass per node
    success = Code.SUCCESS
    for node in order:
        for name, fn in filters:
            st = fn(state, pod, node)
            if st.code is not success:
                break
        else:
            feasible.append(node)
            if len(feasible) >= to_find:
                break
            continue
        if not st.is_rejected:
            raise RuntimeError(_as_error("Filter", name, st).message)
        if st.plugin != name:
            st = Status(st.code, st.reasons, name)
        statuses.set(node.name, st)
        diagnosis.add_plugin_status(st)
    return feasible


def find_nodes_that_fit_pod(
    fwk: Framework, sampler: NodeSampler, state: CycleState, pod: Obj, snapshot: Snapshot,
) -> tuple[list[NodeInfo], Diagnosis]:
    diagnosis = Diagnosis()
    all_nodes = snapshot.node_infos()
    pre_res, st, plugins = fwk.run_pre_filter_plugins(state, pod, all_nodes)
    diagnosis.unschedulable_plugins = set(plugins)
    if not st.ok:
        if not st.is_rejected:
            raise RuntimeError(st.message)
        diagnosis.node_to_status.absent = st
        diagnosis.pre_filter_msg = st.message
        diagnosis.add_plugin_status(st)
        return [], diagnosis
    nnn = str((pod.get("status") or {}).get("nominatedNodeName") or "")
    if nnn:
        ni = snapshot.get(nnn)
        if ni is not None:
            on_nominated = _find_nodes_that_pass_filters(fwk, NodeSampler(0, 100), state, pod, diagnosis, [ni])
            if on_nominated:
                return on_nominated, diagnosis
    nodes = all_nodes
    if pre_res is not None and pre_res.node_names is not None:
        nodes = [ni for n in pre_res.node_names if (ni := snapshot.get(n)) is not None]
        diagnosis.node_to_status.absent = Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(plugins))}]"])
    feasible: list[NodeInfo] = []
    try:
        feasible = _find_nodes_that_pass_filters(fwk, sampler, state, pod, diagnosis, nodes)
    finally:
        # advance even on errors, so every node gets its turn
        processed = len(feasible) + len(diagnosis.node_to_status)
        sampler.next_start_index = (sampler.next_start_index + processed) % max(len(all_nodes), 1)
    return feasible, diagnosis


def schedule_pod(
    fwk: Framework, sampler: NodeSampler, state: CycleState, pod: Obj, snapshot: Snapshot, rng: random.Random,
) -> ScheduleResult:
    """Pick a node for ``pod`` (the snapshot is already current). Raises NoNodesAvailable,
    FitError (no node fits), or RuntimeError (a plugin failed)."""
    all_nodes = snapshot.node_infos()
    if not all_nodes:
        raise NoNodesAvailable()
    feasible, diagnosis = find_nodes_that_fit_pod(fwk, sampler, state, pod, snapshot)
    if not feasible:
        raise FitError(pod, len(all_nodes), diagnosis)
    evaluated = len(feasible) + len(diagnosis.node_to_status)
    if len(feasible) == 1:
        return ScheduleResult(feasible[0].name, evaluated, 1)
    if not fwk.has_score_plugins():
        return ScheduleResult(select_host([n.name for n in feasible], [1] * len(feasible), rng), evaluated,
                              len(feasible))
    st = fwk.run_pre_score_plugins(state, pod, feasible)
    if not st.ok:
        raise RuntimeError(st.message)
    totals, st = fwk.run_score_plugins(state, pod, feasible)
    if not st.ok:
        raise RuntimeError(st.message)
    host = select_host([n.name for n in feasible], totals, rng)
    return ScheduleResult(host, evaluated, len(feasible))
