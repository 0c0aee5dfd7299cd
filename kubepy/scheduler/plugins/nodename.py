"""NodeName: a pod that names a node in ``spec.nodeName`` fits only that node (upstream
plugins/nodename).

Design: the decision is the pure ``fits(pod, node_name)``, also used by preemption; the
rejection is unresolvable because evicting pods cannot change a node's name.
"""

from __future__ import annotations

from collections.abc import Mapping
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

__all__ = ["ERR_REASON", "NAME", "NodeName", "fits", "new"]

Obj = dict[str, Any]

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


def fits(pod: Mapping[str, Any], node_name: str) -> bool:
    """True when the pod names no node or names this one."""
    wanted = (pod.get("spec") or {}).get("nodeName")
    return not wanted or wanted == node_name


class NodeName(FilterPlugin, EnqueueExtensions):
    NAME = NAME

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        if fits(pod, node.name):
            return SUCCESS
        return Status.unschedulable(ERR_REASON, resolvable=False, plugin=NAME)

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeTaint"),
                ClusterEvent("Node", "UpdateNodeLabel")]


def new(args: dict[str, Any], handle: Handle) -> NodeName:
    return NodeName()
