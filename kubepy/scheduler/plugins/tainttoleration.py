"""TaintToleration: a pod may not land on a node with a NoSchedule/NoExecute taint it does
not tolerate, and prefers nodes with fewer untolerated PreferNoSchedule taints (upstream
plugins/tainttoleration).

Design: the toleration rules live in two pure functions shared with other plugins
(NodeUnschedulable, PodTopologySpread's nodeTaintsPolicy, preemption): ``tolerates`` is
core/v1's Toleration.ToleratesTaint (empty effect/key match all; operator Exists ignores the
value, Equal or empty compares it) and ``find_untolerated_taint`` is component-helpers'
FindMatchingUntoleratedTaint. Filter is a plain loop over the node's taints (most nodes have
none). PreScore keeps only the tolerations that can matter for PreferNoSchedule; Score counts
the untolerated PreferNoSchedule taints and NormalizeScore reverses that count to 0..100.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from kubepy.scheduler.framework.interface import (
    MAX_NODE_SCORE,
    SUCCESS,
    ClusterEvent,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    NodeScore,
    PreScorePlugin,
    ScorePlugin,
    Status,
)
from kubepy.scheduler.framework.nodeinfo import NodeInfo
from kubepy.scheduler.plugins.nodeaffinity import default_normalize_score

__all__ = [
    "DO_NOT_SCHEDULE_EFFECTS",
    "NAME",
    "TaintToleration",
    "find_untolerated_taint",
    "new",
    "tolerates",
    "tolerations_tolerate_taint",
    "untolerated_taint_reason",
]

Obj = dict[str, Any]

NAME = "TaintToleration"
#: the effects Filter enforces (upstream's DoNotScheduleTaintsFilterFunc)
DO_NOT_SCHEDULE_EFFECTS = frozenset({"NoSchedule", "NoExecute"})
_PRE_SCORE_KEY = "PreScore" + NAME


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Whether the toleration tolerates the taint (Toleration.ToleratesTaint)."""
    effect = toleration.get("effect") or ""
    if effect and effect != (taint.get("effect") or ""):
        return False
    key = toleration.get("key") or ""
    if key and key != (taint.get("key") or ""):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerations_tolerate_taint(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    for t in tolerations:
        if tolerates(t, taint):
            return True
    return False


def find_untolerated_taint(
    taints: Iterable[Mapping[str, Any]] | None,
    tolerations: Iterable[Mapping[str, Any]] | None,
    effects: Collection[str] | None = DO_NOT_SCHEDULE_EFFECTS,
) -> Mapping[str, Any] | None:
    """The first taint with an effect in ``effects`` (None: every effect) that no
    toleration tolerates, or None when all of them are tolerated."""
    tols = list(tolerations or ())
    for taint in taints or ():
        if effects is not None and (taint.get("effect") or "") not in effects:
            continue
        if not tolerations_tolerate_taint(tols, taint):
            return taint
    return None


def untolerated_taint_reason(taint: Mapping[str, Any]) -> str:
    return f"node(s) had untolerated taint {{{taint.get('key') or ''}: {taint.get('value') or ''}}}"


def _prefer_no_schedule_tolerations(tolerations: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [t for t in tolerations if (t.get("effect") or "") in ("", "PreferNoSchedule")]


def _count_intolerable_prefer_no_schedule(taints: Iterable[Mapping[str, Any]],
                                          tolerations: list[Mapping[str, Any]]) -> int:
    n = 0
    for taint in taints:
        if taint.get("effect") == "PreferNoSchedule" and not tolerations_tolerate_taint(tolerations, taint):
            n += 1
    return n


def _node_taints(node: NodeInfo) -> list[Mapping[str, Any]]:
    taints: list[Mapping[str, Any]] = ((node.node or {}).get("spec") or {}).get("taints") or []
    return taints


class TaintToleration(FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions):
    NAME = NAME
    HAS_NORMALIZE = True

    def events_to_register(self) -> list[ClusterEvent]:
        # UpdateNodeLabel too, as upstream does without queueing hints (a missed Node/Add)
        return [ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeTaint"),
                ClusterEvent("Node", "UpdateNodeLabel")]

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        taints = _node_taints(node)
        if not taints:
            return SUCCESS
        taint = find_untolerated_taint(taints, (pod.get("spec") or {}).get("tolerations"))
        if taint is None:
            return SUCCESS
        return Status.unschedulable(untolerated_taint_reason(taint), resolvable=False, plugin=NAME)

    def pre_score(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> Status:
        tolerations = (pod.get("spec") or {}).get("tolerations") or ()
        state.write(_PRE_SCORE_KEY, _prefer_no_schedule_tolerations(tolerations))
        return SUCCESS

    def score(self, state: CycleState, pod: Obj, node: NodeInfo) -> tuple[int, Status]:
        taints = _node_taints(node)
        if not taints:
            return 0, SUCCESS
        tolerations: list[Mapping[str, Any]] | None = state.get(_PRE_SCORE_KEY)
        if tolerations is None:
            return 0, Status.error(f"reading {_PRE_SCORE_KEY!r} from cycleState: not found", plugin=NAME)
        return _count_intolerable_prefer_no_schedule(taints, tolerations), SUCCESS

    def score_nodes(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[list[int], Status]:
        """Score every node in one call: untainted nodes (most) cost one lookup."""
        tolerations: list[Mapping[str, Any]] | None = state.get(_PRE_SCORE_KEY)
        if tolerations is None:
            return [], Status.error(f"reading {_PRE_SCORE_KEY!r} from cycleState: not found", plugin=NAME)
        out = []
        for node in nodes:
            taints = _node_taints(node)
            out.append(_count_intolerable_prefer_no_schedule(taints, tolerations) if taints else 0)
        return out, SUCCESS

    def normalize_score(self, state: CycleState, pod: Obj, scores: list[NodeScore]) -> Status:
        default_normalize_score(MAX_NODE_SCORE, True, scores)
        return SUCCESS


def new(args: dict[str, Any], handle: Handle) -> TaintToleration:
    return TaintToleration()
