"""DefaultPreemption: the PostFilter plugin that makes room for a pod by evicting lower-priority pods.

Job: when no node passes the filters, find nodes where deleting some pods of lower priority
would let the pod fit, choose the victims on each such node, pick the best node, and carry
the preemption out through the API (upstream's framework/plugins/defaultpreemption and
framework/preemption, as of 1.32 with asynchronous preemption off):

1. Eligibility: a pod with ``preemptionPolicy: Never`` never preempts; a pod nominated to a
   node on which a lower-priority pod is still terminating because of an earlier preemption
   waits for it (unless its nominated node is now unresolvable for it).
2. Candidates: only nodes whose filter status is UNSCHEDULABLE (a node marked
   UNSCHEDULABLE_AND_UNRESOLVABLE, or absent from the statuses, cannot be helped). From a
   random offset, nodes are dry-run until ``max(10% of them, 100)`` candidates are found
   (``minCandidateNodesPercentage``/``minCandidateNodesAbsolute``) and at least one of them
   violates no PodDisruptionBudget.
3. Victims on a node (``select_victims_on_node``): on a clone of the NodeInfo and of the
   CycleState, remove every lower-priority pod (telling the PreFilter plugins through
   their ``remove_pod`` extensions), check the pod fits, then give back as many pods as
   possible, highest importance first, the ones whose PDB would be violated first: whatever
   cannot be given back is a victim.
4. Node choice (``pick_one_node_for_preemption``): fewest PDB violations, then the lowest
   highest-victim priority, the smallest priority sum, the fewest victims, the latest start
   time among the highest-priority victims, then the first.
5. Preparation: each victim gets the ``DisruptionTarget`` condition (reason
   ``PreemptionByScheduler``) and a graceful DELETE (the pod's own grace period), and a
   ``Preempted`` event; lower-priority pods nominated to that node lose their nomination;
   the preemptor's ``status.nominatedNodeName`` is set. The pod itself is not bound here: it
   is retried once the victims are gone.

On failure the message is built exactly as upstream's FitError
("preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2
Preemption is not helpful for scheduling."); ``preemption_failure_message`` and
``fit_error_message`` are exported for the scheduler core.

Design: the dry run is sequential and synchronous on the scheduler's loop (upstream runs
it on goroutines): the snapshot must not change under it, and it only runs for pods that
fit nowhere. Every what-if works on clones, so the shared snapshot is never touched. The
decisions are pure functions (``pod_priority``, ``more_important_pod``,
``filter_pods_with_pdb_violation``, ``pick_one_node_for_preemption``,
``calculate_num_candidates``) that other preemption plugins can reuse.

What the plugin uses of the Handle beyond the framework Protocol, when the handle has it
(each is optional; without it the step is done the simple way or skipped):
``run_pre_filter_extension_remove_pod`` / ``run_pre_filter_extension_add_pod``
``(state, pod, other_pod, node_info) -> Status`` (the PreFilter plugins' extensions;
without them only what the filters read from the NodeInfo is updated),
``event_recorder`` (an object with ``event(obj, type, reason, message)``, as
kubepy.client.EventRecorder), ``nominated_pods_for_node(node_name) -> list[pod]`` (else
the pod lister is scanned for ``status.nominatedNodeName``) and ``get_waiting_pod(uid)``
(a pod waiting in Permit is rejected instead of deleted).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, cast

from kubepy.api.selectors import LabelSelector, SelectorError, from_label_selector_dict
from kubepy.client.errors import is_not_found
from kubepy.client.resource import ResourceRef
from kubepy.scheduler.framework.interface import (
    Code,
    CycleState,
    Handle,
    PostFilterPlugin,
    PostFilterResult,
    Status,
)
from kubepy.scheduler.framework.nodeinfo import NodeInfo, PodInfo

__all__ = [
    "NAME",
    "Candidate",
    "DefaultPreemption",
    "DefaultPreemptionArgs",
    "NOT_HELPFUL",
    "NO_VICTIMS",
    "PDB",
    "Rand",
    "calculate_num_candidates",
    "fit_error_message",
    "filter_pods_with_pdb_violation",
    "more_important_pod",
    "new",
    "pick_one_node_for_preemption",
    "pod_priority",
    "pod_start_time",
    "pod_terminating_by_preemption",
    "preemption_failure_message",
]

log = logging.getLogger(__name__)

Obj = dict[str, Any]

NAME = "DefaultPreemption"
PODS = ResourceRef("", "v1", "pods", True)

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node."
DISRUPTION_TARGET = "DisruptionTarget"
PREEMPTION_BY_SCHEDULER = "PreemptionByScheduler"
DEFAULT_SCHEDULER_NAME = "default-scheduler"

#: upstream adds MaxInt32+1 to every priority before summing, so negative priorities count
_PRIORITY_OFFSET = 2**31


# -- arguments --------------------------------------------------------------------------------

@dataclass(kw_only=True, slots=True)
class DefaultPreemptionArgs:
    """kubescheduler.config.k8s.io/v1 DefaultPreemptionArgs, with upstream's defaults."""

    min_candidate_nodes_percentage: int = 10
    min_candidate_nodes_absolute: int = 100

    @classmethod
    def from_dict(cls, args: Mapping[str, Any] | None) -> DefaultPreemptionArgs:
        """From the profile's ``pluginConfig`` args (camelCase); validated as upstream."""
        args = args or {}
        out = cls(
            min_candidate_nodes_percentage=int(args.get("minCandidateNodesPercentage", 10)),
            min_candidate_nodes_absolute=int(args.get("minCandidateNodesAbsolute", 100)),
        )
        out.validate()
        return out

    def validate(self) -> None:
        errors = []
        if not 0 <= self.min_candidate_nodes_percentage <= 100:
            errors.append(f"minCandidateNodesPercentage: Invalid value: {self.min_candidate_nodes_percentage}: "
                          "not in valid range [0, 100]")
        if self.min_candidate_nodes_absolute < 0:
            errors.append(f"minCandidateNodesAbsolute: Invalid value: {self.min_candidate_nodes_absolute}: "
                          "not in valid range [0, inf)")
        if self.min_candidate_nodes_percentage == 0 and self.min_candidate_nodes_absolute == 0:
            errors.append("minCandidateNodesPercentage: Invalid value: 0: "
                          "cannot be zero at the same time as minCandidateNodesAbsolute")
        if errors:
            raise ValueError("; ".join(errors))


def calculate_num_candidates(num_nodes: int, args: DefaultPreemptionArgs) -> int:
    """How many candidates the dry run should find: a percentage of the nodes, at least the
    absolute minimum, at most every node."""
    n = num_nodes * args.min_candidate_nodes_percentage // 100
    n = max(n, args.min_candidate_nodes_absolute)
    return min(n, num_nodes)


# -- pure decisions ---------------------------------------------------------------------------

def pod_priority(pod: Mapping[str, Any]) -> int:
    """``spec.priority``, 0 when unset (corev1helpers.PodPriority)."""
    p = (pod.get("spec") or {}).get("priority")
    return int(p) if p is not None else 0


@functools.lru_cache(maxsize=4096)
def _parse_time(ts: str) -> float:
    """RFC 3339 to epoch seconds (UTC when no zone is given); unparsable counts as the future."""
    try:
        dt = datetime.fromisoformat(ts)
    except ValueError:
        return math.inf
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def pod_start_time(pod: Mapping[str, Any], now: float) -> float:
    """``status.startTime`` as epoch seconds; ``now`` for pods that have not started yet
    (upstream's GetPodStartTime), so those count as the youngest."""
    ts = (pod.get("status") or {}).get("startTime")
    if not ts:
        return now
    return _parse_time(str(ts))


def _importance_key(now: float) -> Callable[[Obj], tuple[int, float]]:
    """Sort key putting the most important pod first: higher priority, then earlier start."""
    def key(pod: Obj) -> tuple[int, float]:
        return (-pod_priority(pod), pod_start_time(pod, now))
    return key


def more_important_pod(a: Mapping[str, Any], b: Mapping[str, Any], *, now: float | None = None) -> bool:
    """Whether ``a`` is more important than ``b`` (upstream's util.MoreImportantPod): higher
    priority wins; among equal priorities, the pod that started earlier."""
    pa, pb = pod_priority(a), pod_priority(b)
    if pa != pb:
        return pa > pb
    t = time.time() if now is None else now
    return pod_start_time(a, t) < pod_start_time(b, t)


def pod_terminating_by_preemption(pod: Mapping[str, Any]) -> bool:
    """A pod being deleted because the scheduler preempted it (DisruptionTarget condition
    with reason PreemptionByScheduler)."""
    if not (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == DISRUPTION_TARGET:
            return bool(cond.get("status") == "True" and cond.get("reason") == PREEMPTION_BY_SCHEDULER)
    return False


@dataclass(frozen=True, slots=True)
class PDB:
    """A PodDisruptionBudget as preemption reads it (selector parsed once per cycle)."""

    namespace: str
    selector: LabelSelector
    disruptions_allowed: int
    disrupted_pods: frozenset[str]

    @classmethod
    def of(cls, pdb: Mapping[str, Any]) -> PDB | None:
        """None for a PDB whose selector is invalid, missing or empty: it matches no pod."""
        spec = pdb.get("spec") or {}
        status = pdb.get("status") or {}
        try:
            selector = from_label_selector_dict(spec.get("selector"))
        except SelectorError:
            return None
        if not selector.requirements:  # {} selects everything: for a PDB that means nothing
            return None
        return cls(
            namespace=str((pdb.get("metadata") or {}).get("namespace") or ""),
            selector=selector,
            disruptions_allowed=int(status.get("disruptionsAllowed") or 0),
            disrupted_pods=frozenset((status.get("disruptedPods") or {}).keys()),
        )


def _pdb_violations(pods: Iterable[Mapping[str, Any]], pdbs: Sequence[PDB]) -> list[bool]:
    """For each pod in order: would evicting it (after the ones before it) exceed a budget?"""
    allowed = [p.disruptions_allowed for p in pdbs]
    out = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels")
        violated = False
        if labels:
            ns = meta.get("namespace") or ""
            name = meta.get("name")
            for i, pdb in enumerate(pdbs):
                if pdb.namespace != ns or not pdb.selector.matches(labels):
                    continue
                if name in pdb.disrupted_pods:
                    # the API server already counted this eviction
                    continue
                allowed[i] -= 1
                if allowed[i] < 0:
                    violated = True
        out.append(violated)
    return out


def filter_pods_with_pdb_violation(
    pods: Sequence[Obj], pdbs: Sequence[PDB]
) -> tuple[list[Obj], list[Obj]]:
    """Split ``pods`` into those whose eviction would violate a PDB and the others, keeping
    their order (upstream's filterPodsWithPDBViolation)."""
    flags = _pdb_violations(pods, pdbs)
    violating = [p for p, v in zip(pods, flags) if v]
    non_violating = [p for p, v in zip(pods, flags) if not v]
    return violating, non_violating


@dataclass(slots=True)
class Candidate:
    """A node where the pod fits once ``victims`` (most important first) are gone."""

    name: str
    victims: list[Obj] = field(default_factory=list)
    num_pdb_violations: int = 0


def _earliest_start_of_highest(victims: Sequence[Obj], now: float) -> float:
    """The earliest start time among the highest-priority victims (GetEarliestPodStartTime)."""
    best_prio = pod_priority(victims[0])
    earliest = pod_start_time(victims[0], now)
    for pod in victims:
        prio = pod_priority(pod)
        if prio == best_prio:
            earliest = min(earliest, pod_start_time(pod, now))
        elif prio > best_prio:
            best_prio = prio
            earliest = pod_start_time(pod, now)
    return earliest


def pick_one_node_for_preemption(candidates: Sequence[Candidate], *, now: float | None = None) -> str:
    """The node to preempt on, by upstream's criteria in order: fewest PDB violations; lowest
    priority of the most important victim; smallest sum of victim priorities; fewest victims;
    latest start time among the highest-priority victims; the first remaining candidate.
    Victims of each candidate must be ordered most important first. "" for no candidates."""
    if not candidates:
        return ""
    t = time.time() if now is None else now

    def highest(c: Candidate) -> float:
        return -pod_priority(c.victims[0]) if c.victims else 0

    def priority_sum(c: Candidate) -> float:
        return -sum(pod_priority(p) + _PRIORITY_OFFSET for p in c.victims)

    def start(c: Candidate) -> float:
        return _earliest_start_of_highest(c.victims, t) if c.victims else -math.inf

    score_funcs: list[Callable[[Candidate], float]] = [
        lambda c: -c.num_pdb_violations,
        highest,
        priority_sum,
        lambda c: -len(c.victims),
        start,
    ]
    remaining = list(candidates)
    for f in score_funcs:
        scores = [f(c) for c in remaining]
        best = max(scores)
        remaining = [c for c, s in zip(remaining, scores) if s == best]
        if len(remaining) == 1:
            break
    return remaining[0].name


def fit_error_message(num_all_nodes: int, node_statuses: Mapping[str, Status],
                      absent_reasons: Sequence[str]) -> str:
    """Upstream's FitError text: ``0/N nodes are available: <count> <reason>, ....`` — every
    reason of every listed node counted, nodes missing from ``node_statuses`` counted under
    ``absent_reasons``, the "<count> <reason>" strings sorted as strings."""
    counts: dict[str, int] = {}
    for status in node_statuses.values():
        for reason in status.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    absent = num_all_nodes - len(node_statuses)
    if absent > 0:
        for reason in absent_reasons:
            counts[reason] = counts.get(reason, 0) + absent
    msg = f"0/{num_all_nodes} nodes are available:"
    if counts:
        msg += " " + ", ".join(sorted(f"{n} {reason}" for reason, n in counts.items())) + "."
    return msg


def preemption_failure_message(num_all_nodes: int, node_statuses: Mapping[str, Status]) -> str:
    """Why preemption found no candidate, e.g. "0/3 nodes are available: 1 No preemption
    victims found for incoming pod, 2 Preemption is not helpful for scheduling." (nodes not in
    ``node_statuses`` were not worth trying). The plugin's status message is this with the
    "preemption: " prefix; the scheduler core appends that to its own FitError message."""
    return fit_error_message(num_all_nodes, node_statuses, (NOT_HELPFUL,))


def _aggregate(errors: Sequence[str]) -> str:
    """utilerrors.NewAggregate's text: one error as is, several as ``[a, b]``."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


def _prefixed(status: Status) -> Status:
    if status.reasons:
        return Status(status.code, ["preemption: " + status.message], status.plugin or NAME)
    return status


# -- the optional parts of the handle ----------------------------------------------------------

class _PodExtension(Protocol):
    def __call__(self, state: CycleState, pod: Obj, other: Obj, node: NodeInfo) -> Status: ...


class _EventRecorder(Protocol):
    def event(self, obj: Mapping[str, Any], type: Any, reason: str, message: str) -> None: ...


class Rand(Protocol):
    """Where the dry run's random starting node comes from (``random.Random`` fits)."""

    def randrange(self, stop: int, /) -> int: ...


class _WaitingPod(Protocol):
    def reject(self, plugin: str, message: str) -> None: ...


# -- the plugin -------------------------------------------------------------------------------

class DefaultPreemption(PostFilterPlugin):
    NAME = NAME

    def __init__(self, args: DefaultPreemptionArgs, handle: Handle, *,
                 rng: Rand | None = None, clock: Callable[[], float] = time.time) -> None:
        self.args = args
        self.handle = handle
        self._rng: Rand = rng or random.Random()
        self._clock = clock

    # -- PostFilter -------------------------------------------------------------------------

    async def post_filter(
        self, state: CycleState, pod: Obj, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status]:
        """Preempt for ``pod``. Returns (result with the nominated node, SUCCESS) when victims
        were evicted; (result with "", UNSCHEDULABLE) when preemption cannot help (the
        nomination is to be cleared); (None, UNSCHEDULABLE/ERROR) when the pod is not
        eligible or something failed (nomination unchanged)."""
        pod = self._latest(pod)
        now = self._clock()

        nominated = (pod.get("status") or {}).get("nominatedNodeName") or ""
        ok, msg = self.pod_eligible_to_preempt_others(pod, statuses.get(nominated) if nominated else None)
        if not ok:
            return None, _prefixed(Status(Code.UNSCHEDULABLE, [msg]))

        all_nodes = self.handle.snapshot().node_infos()
        if not all_nodes:
            return None, _prefixed(Status.error("no nodes available"))
        potential = [ni for ni in all_nodes
                     if (st := statuses.get(ni.name)) is not None and st.code is Code.UNSCHEDULABLE]
        candidates: list[Candidate] = []
        node_statuses: dict[str, Status] = {}
        if potential:
            pdbs = self._pdbs()
            offset, num = self.get_offset_and_num_candidates(len(potential))
            candidates, node_statuses, errors = self.dry_run_preemption(
                state, pod, potential, pdbs, offset, num, now=now)
            if errors and not candidates:
                return None, _prefixed(Status.error(_aggregate(errors)))

        if not candidates:
            if nominated:
                await self._patch_nominated_node_name(pod, None)
            return PostFilterResult(""), _prefixed(
                Status(Code.UNSCHEDULABLE, [preemption_failure_message(len(all_nodes), node_statuses)]))

        best = self.select_candidate(candidates, now=now)
        status = await self.prepare_candidate(best, pod)
        if not status.ok:
            return None, _prefixed(status)
        return PostFilterResult(best.name), Status()

    # -- steps (public so tests and other preemption plugins can drive them) -----------------

    def pod_eligible_to_preempt_others(self, pod: Obj, nominated_node_status: Status | None) -> tuple[bool, str]:
        """Whether ``pod`` may preempt now, and why not."""
        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return False, NOT_ELIGIBLE_NEVER
        nominated = (pod.get("status") or {}).get("nominatedNodeName")
        if nominated:
            # a nominated node the filters now call unresolvable (or did not look at) is no
            # reason to wait: try elsewhere
            if nominated_node_status is None or nominated_node_status.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
                return True, ""
            node = self.handle.snapshot().get(nominated)
            if node is not None:
                prio = pod_priority(pod)
                for info in node.pods.values():
                    if pod_priority(info.pod) < prio and pod_terminating_by_preemption(info.pod):
                        return False, NOT_ELIGIBLE_TERMINATING
        return True, ""

    def get_offset_and_num_candidates(self, num_nodes: int) -> tuple[int, int]:
        """A random starting node (so preemption spreads over the cluster) and how many
        candidates to look for."""
        return self._rng.randrange(num_nodes), calculate_num_candidates(num_nodes, self.args)

    def dry_run_preemption(
        self, state: CycleState, pod: Obj, potential_nodes: Sequence[NodeInfo], pdbs: Sequence[PDB],
        offset: int, num_candidates: int, *, now: float | None = None,
    ) -> tuple[list[Candidate], dict[str, Status], list[str]]:
        """Try the nodes from ``offset`` on, each on a clone, until ``num_candidates`` are
        found with at least one violating no PDB. Returns the candidates (PDB-respecting ones
        first), the status of every node that is no candidate, and the error messages."""
        t = self._clock() if now is None else now
        non_violating: list[Candidate] = []
        violating: list[Candidate] = []
        statuses: dict[str, Status] = {}
        errors: list[str] = []
        n = len(potential_nodes)
        for i in range(n):
            node = potential_nodes[(offset + i) % n]
            victims, num_violations, status = self.select_victims_on_node(
                state.clone(), pod, node.clone(), pdbs, now=t)
            if status.ok and victims:
                bucket = non_violating if num_violations == 0 else violating
                if len(bucket) < num_candidates:
                    bucket.append(Candidate(node.name, victims, num_violations))
                if non_violating and len(non_violating) + len(violating) >= num_candidates:
                    break
                continue
            if status.ok:
                status = Status.error(f'expected at least one victim pod on node "{node.name}"')
            if status.code is Code.ERROR:
                errors.append(status.message)
            statuses[node.name] = status
        return non_violating + violating, statuses, errors

    def select_victims_on_node(
        self, state: CycleState, pod: Obj, node: NodeInfo, pdbs: Sequence[PDB], *, now: float | None = None,
    ) -> tuple[list[Obj], int, Status]:
        """The fewest pods to evict from ``node`` for ``pod`` to fit, most important first, and
        how many of them violate a PDB. ``state`` and ``node`` are changed: pass clones."""
        t = self._clock() if now is None else now
        prio = pod_priority(pod)
        potential = [info for info in node.pods.values() if pod_priority(info.pod) < prio]
        if not potential:
            return [], 0, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, [NO_VICTIMS])
        for info in potential:
            err = self._remove(state, pod, info, node)
            if err is not None:
                return [], 0, err

        # if the pod does not fit even with all of them gone, this node cannot be helped
        # (affinity of the pod to one of its victims is not considered, as upstream)
        status = self.handle.run_filter_plugins_with_nominated_pods(state, pod, node)
        if not status.ok:
            return [], 0, status

        key = _importance_key(t)
        potential.sort(key=lambda info: key(info.pod))
        flags = _pdb_violations((info.pod for info in potential), pdbs)
        violating = [info for info, v in zip(potential, flags) if v]
        non_violating = [info for info, v in zip(potential, flags) if not v]

        victims: list[PodInfo] = []
        num_violating = 0
        for group, counts in ((violating, True), (non_violating, False)):
            for info in group:
                node.add_pod(info)
                err = self._extension("run_pre_filter_extension_add_pod", state, pod, info, node)
                if err is not None:
                    return [], 0, err
                if self.handle.run_filter_plugins_with_nominated_pods(state, pod, node).ok:
                    continue  # reprieved
                err = self._remove(state, pod, info, node)
                if err is not None:
                    return [], 0, err
                victims.append(info)
                if counts:
                    num_violating += 1
        if violating and non_violating:
            victims.sort(key=lambda info: key(info.pod))
        return [info.pod for info in victims], num_violating, Status()

    def select_candidate(self, candidates: Sequence[Candidate], *, now: float | None = None) -> Candidate:
        if len(candidates) == 1:
            return candidates[0]
        name = pick_one_node_for_preemption(candidates, now=now)
        for c in candidates:
            if c.name == name:
                return c
        return candidates[0]

    async def prepare_candidate(self, candidate: Candidate, pod: Obj) -> Status:
        """Evict the victims (in parallel), clear the nomination of lower-priority pods
        nominated to the node, and nominate ``pod`` to it."""
        victims = [v for v in candidate.victims if not (v.get("metadata") or {}).get("deletionTimestamp")]
        results = await asyncio.gather(*(self._preempt_pod(candidate.name, pod, v) for v in victims),
                                       return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                if isinstance(r, asyncio.CancelledError):
                    raise r
                return Status.error(str(r))

        prio = pod_priority(pod)
        for other in self._nominated_pods(candidate.name):
            if pod_priority(other) < prio and (other.get("status") or {}).get("nominatedNodeName"):
                try:
                    await self._patch_nominated_node_name(other, None, log_errors=False)
                except Exception as e:  # not critical: the pod is rescheduled anyway
                    log.warning("cannot clear nominatedNodeName of %s: %s", _key(other), e)
        await self._patch_nominated_node_name(pod, candidate.name)
        return Status()

    # -- helpers ----------------------------------------------------------------------------

    def _latest(self, pod: Obj) -> Obj:
        """The informer's newest copy of the preemptor (its nomination may have changed)."""
        meta = pod.get("metadata") or {}
        try:
            lister = self.handle.lister("v1", "pods")
            latest = lister.get_by_name(meta.get("namespace"), meta.get("name", "")) if lister is not None else None
        except (LookupError, NotImplementedError):
            latest = None
        return cast(Obj, latest) if latest is not None else pod

    def _pdbs(self) -> list[PDB]:
        try:
            lister = self.handle.lister("policy/v1", "poddisruptionbudgets")
        except (LookupError, NotImplementedError):
            return []
        if lister is None:
            return []
        return [p for obj in lister.list() if (p := PDB.of(obj)) is not None]

    def _extension(self, name: str, state: CycleState, pod: Obj, info: PodInfo, node: NodeInfo) -> Status | None:
        fn = cast("_PodExtension | None", getattr(self.handle, name, None))
        if fn is None:
            return None
        status = fn(state, pod, info.pod, node)
        if status.ok:
            return None
        return Status.error(status.message, status.plugin)

    def _remove(self, state: CycleState, pod: Obj, info: PodInfo, node: NodeInfo) -> Status | None:
        node.remove_pod(info.key)
        return self._extension("run_pre_filter_extension_remove_pod", state, pod, info, node)

    def _nominated_pods(self, node_name: str) -> list[Obj]:
        fn = getattr(self.handle, "nominated_pods_for_node", None)
        if fn is not None:
            return [p.pod if isinstance(p, PodInfo) else p for p in fn(node_name)]
        try:
            lister = self.handle.lister("v1", "pods")
        except (LookupError, NotImplementedError):
            return []
        if lister is None:
            return []
        return [p for p in lister.list()
                if (p.get("status") or {}).get("nominatedNodeName") == node_name
                and not (p.get("spec") or {}).get("nodeName")]

    async def _patch_nominated_node_name(self, pod: Obj, node_name: str | None, *, log_errors: bool = True) -> None:
        meta = pod.get("metadata") or {}
        try:
            await self.handle.client.patch(PODS, meta["name"], {"status": {"nominatedNodeName": node_name}},
                                           namespace=meta.get("namespace"), type="strategic", subresource="status")
        except Exception as e:
            if not log_errors:
                raise
            if not is_not_found(e):
                log.warning("cannot set nominatedNodeName of %s: %s", _key(pod), e)

    async def _preempt_pod(self, node_name: str, preemptor: Obj, victim: Obj) -> None:
        """Evict one victim: reject it if it waits in Permit, else mark it with the
        DisruptionTarget condition and delete it gracefully; then record the event."""
        client = self.handle.client
        meta = victim.get("metadata") or {}
        name, namespace = meta.get("name", ""), meta.get("namespace")
        get_waiting = getattr(self.handle, "get_waiting_pod", None)
        waiting = cast("_WaitingPod | None", get_waiting(meta.get("uid", "")) if get_waiting else None)
        if waiting is not None:
            waiting.reject(NAME, "preempted")
        else:
            scheduler = (preemptor.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER_NAME
            condition = {
                "type": DISRUPTION_TARGET,
                "status": "True",
                "reason": PREEMPTION_BY_SCHEDULER,
                "message": f"{scheduler}: preempting to accommodate a higher priority pod",
            }
            if not _has_condition(victim, condition):
                condition["lastTransitionTime"] = _now_rfc3339(self._clock())
                try:
                    await client.patch(PODS, name, {"status": {"conditions": [condition]}},
                                       namespace=namespace, type="strategic", subresource="status")
                except Exception as e:
                    if is_not_found(e):
                        return  # already gone
                    log.error("cannot add DisruptionTarget condition to %s/%s: %s", namespace, name, e)
                    raise
            try:
                await client.delete(PODS, name, namespace=namespace)
            except Exception as e:
                if is_not_found(e):
                    return
                log.error("cannot preempt %s/%s: %s", namespace, name, e)
                raise
            log.info("preemptor %s preempted %s/%s on node %s", _key(preemptor), namespace, name, node_name)
        recorder = cast("_EventRecorder | None", getattr(self.handle, "event_recorder", None))
        if recorder is not None:
            uid = (preemptor.get("metadata") or {}).get("uid", "")
            involved = {**victim, "kind": "Pod", "apiVersion": "v1"}
            recorder.event(involved, "Normal", "Preempted", f"Preempted by pod {uid} on node {node_name}")


def _has_condition(pod: Obj, cond: Mapping[str, str]) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == cond["type"]:
            return all(c.get(k) == cond[k] for k in ("status", "reason", "message"))
    return False


def _now_rfc3339(t: float) -> str:
    return datetime.fromtimestamp(int(t), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def new(args: dict[str, Any], handle: Handle) -> DefaultPreemption:
    return DefaultPreemption(DefaultPreemptionArgs.from_dict(args), handle)
