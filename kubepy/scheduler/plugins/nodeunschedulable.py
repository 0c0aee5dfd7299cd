"""NodeUnschedulable: a cordoned node (``spec.unschedulable``) takes no new pods, except pods
that tolerate the ``node.kubernetes.io/unschedulable:NoSchedule`` taint, such as DaemonSet
pods (upstream plugins/nodeunschedulable).

Design: one boolean read per node; the toleration check reuses TaintToleration's
``tolerations_tolerate_taint`` against the taint the node lifecycle controller would add.
"""

from __future__ import annotations

from typing import Any

from kubepy.scheduler.framework.interface import (
    SUCCESS,
    ClusterEvent,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    Status,
)
from kubepy.scheduler.framework.nodeinfo import NodeInfo
from kubepy.scheduler.plugins.tainttoleration import tolerations_tolerate_taint

__all__ = ["ERR_REASON_UNSCHEDULABLE", "NAME", "NodeUnschedulable", "new"]

Obj = dict[str, Any]

NAME = "NodeUnschedulable"
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
_UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable(FilterPlugin, EnqueueExtensions):
    NAME = NAME

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        if not ((node.node or {}).get("spec") or {}).get("unschedulable"):
            return SUCCESS
        if tolerations_tolerate_taint((pod.get("spec") or {}).get("tolerations") or (), _UNSCHEDULABLE_TAINT):
            return SUCCESS
        return Status.unschedulable(ERR_REASON_UNSCHEDULABLE, resolvable=False, plugin=NAME)

    def events_to_register(self) -> list[ClusterEvent]:
        # a change of spec.unschedulable is classified as UpdateNodeTaint upstream
        return [ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeTaint"),
                ClusterEvent("Node", "UpdateNodeLabel")]


def new(args: dict[str, Any], handle: Handle) -> NodeUnschedulable:
    return NodeUnschedulable()
