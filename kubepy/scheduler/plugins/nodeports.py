"""NodePorts: a pod asking for host ports fits only nodes where those (IP, protocol, port)
triples are free (upstream plugins/nodeports).

Design: PreFilter collects the pod's wanted host ports once (containers, plus restartable
"sidecar" init containers, which run as long as the pod) and skips the plugin for the many
pods that want none. Filter checks them against ``NodeInfo.used_ports`` with upstream's
HostPortInfo.CheckConflict rules: an empty hostIP means 0.0.0.0 and an empty protocol TCP; a
wildcard 0.0.0.0 port conflicts with that protocol/port on any IP, and a specific IP
conflicts with the same IP or with 0.0.0.0. A conflict is resolvable (preempting the pod
holding the port frees it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

__all__ = ["ERR_REASON", "NAME", "NodePorts", "check_conflict", "fits_ports", "new", "wanted_host_ports"]

Obj = dict[str, Any]
Port = tuple[str, str, int]

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
_PRE_FILTER_KEY = "PreFilter" + NAME
_BIND_ALL = "0.0.0.0"


def wanted_host_ports(pod: Mapping[str, Any]) -> list[Port]:
    """(hostIP, protocol, hostPort) of every port of the pod with a hostPort, defaults applied."""
    spec = pod.get("spec") or {}
    out: list[Port] = []
    containers: list[Mapping[str, Any]] = [c for c in spec.get("initContainers") or ()
                                           if c.get("restartPolicy") == "Always"]
    containers.extend(spec.get("containers") or ())
    for c in containers:
        for p in c.get("ports") or ():
            hp = p.get("hostPort")
            if hp and int(hp) > 0:
                out.append((p.get("hostIP") or _BIND_ALL, p.get("protocol") or "TCP", int(hp)))
    return out


def check_conflict(used: Mapping[Port, int], ip: str, protocol: str, port: int) -> bool:
    """Whether (ip, protocol, port) collides with a port in ``used`` (HostPortInfo.CheckConflict)."""
    if port <= 0:
        return False
    ip = ip or _BIND_ALL
    protocol = protocol or "TCP"
    if ip == _BIND_ALL:
        for _ip, proto, p in used:
            if p == port and proto == protocol:
                return True
        return False
    return (_BIND_ALL, protocol, port) in used or (ip, protocol, port) in used


def fits_ports(wanted: Iterable[Port], used: Mapping[Port, int]) -> bool:
    """True when none of the wanted host ports is taken on the node."""
    if not used:
        return True
    for ip, protocol, port in wanted:
        if check_conflict(used, ip, protocol, port):
            return False
    return True


class NodePorts(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    NAME = NAME

    def pre_filter(self, state: CycleState, pod: Obj, nodes: list[NodeInfo]) -> tuple[PreFilterResult | None, Status]:
        ports = wanted_host_ports(pod)
        if not ports:
            return None, Status(Code.SKIP)
        state.write(_PRE_FILTER_KEY, ports)
        return None, SUCCESS

    def add_pod(self, state: CycleState, pod: Obj, pod_to_add: Obj, node: NodeInfo) -> Status:
        return SUCCESS

    def remove_pod(self, state: CycleState, pod: Obj, pod_to_remove: Obj, node: NodeInfo) -> Status:
        return SUCCESS

    def filter(self, state: CycleState, pod: Obj, node: NodeInfo) -> Status:
        ports: list[Port] | None = state.get(_PRE_FILTER_KEY)
        if ports is None:
            ports = wanted_host_ports(pod)
        if fits_ports(ports, node.used_ports):
            return SUCCESS
        return Status.unschedulable(ERR_REASON, plugin=NAME)

    def events_to_register(self) -> list[ClusterEvent]:
        # host ports are immutable, so only a deleted pod or a new/changed node can free one
        return [ClusterEvent("Pod", "Delete"), ClusterEvent("Node", "Add"), ClusterEvent("Node", "Update")]


def new(args: dict[str, Any], handle: Handle) -> NodePorts:
    return NodePorts()
