"""kubepy.sim: simulated nodes (like kwok) — Nodes, Leases and a kubelet's pod status, no processes.

``Simulator`` runs N nodes in one process; ``NodeTemplate`` shapes them; objects.py holds the
pure pieces (Node, Lease, pod status, pod IPs). API client only: imports kubepy.client.
"""

from kubepy.sim.leases import LeaseRenewer
from kubepy.sim.objects import (
    NodeTemplate,
    PodIPAllocator,
    build_lease,
    build_node,
    fallback_pod_cidr,
    node_internal_ip,
    node_name,
    node_status,
    parse_labels,
    parse_taints,
    running_status,
)
from kubepy.sim.pods import PodPlayer, SimNode
from kubepy.sim.simulator import Simulator

__all__ = [
    "LeaseRenewer",
    "NodeTemplate",
    "PodIPAllocator",
    "PodPlayer",
    "SimNode",
    "Simulator",
    "build_lease",
    "build_node",
    "fallback_pod_cidr",
    "node_internal_ip",
    "node_name",
    "node_status",
    "parse_labels",
    "parse_taints",
    "running_status",
]
