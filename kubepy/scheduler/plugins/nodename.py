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
    Code,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    PreFilterPlugin,
    PreFilterResult,
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


class NodeName(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    NAME = NAME

    def pre_filter(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        """Nothing to check per node for the (usual) pod that names no node: skip Filter."""
        if not (pod.get("spec") or {}).get("nodeName"):
            return None, Status(Code.SKIP)
        return None, SUCCESS

    def add_pod(self, state: CycleState, pod: Obj, pod_to_add: Obj, node: NodeInfo) -> Status:
        return SUCCESS

    def remove_pod(self, state: CycleState, pod: Obj, pod_to_remove: Obj, node: NodeInfo) -> Status:
        return SUCCESS

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        if fits(pod, node.name):
            return SUCCESS
        return Status.unschedulable(ERR_REASON, resolvable=False, plugin=NAME)

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeTaint"),
                ClusterEvent("Node", "UpdateNodeLabel")]


def new(args: dict[str, Any], handle: Handle) -> NodeName:
    return NodeName()
