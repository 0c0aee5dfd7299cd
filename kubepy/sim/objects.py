"""What a simulated node says: its Node object, its Lease, its pod IPs and its pods' status.

Job: the pure half of ``kubepy sim`` — build the Node a kubelet would register (capacity and
allocatable, Ready and pressure conditions, addresses, nodeInfo, the well-known labels with a
zone spread over ``zones``, extra labels and taints), parse the ``--labels``/``--taints``
flags, hand out pod IPs from a node's pod CIDR, and build the status a kubelet reports for a
pod it has started (phase Running, Ready, container statuses, pod and host IPs).

Design: plain functions on plain dicts with time passed in, so they are table-tested with no
API server and cost nothing per call beyond building the dict. When node IPAM has given a
node no ``spec.podCIDR``, the node's pod addresses come from a /24 derived from its index:
``10.244.0.0/24`` for node 0, ``10.244.255.0/24`` for node 255, then on through ``10.245.*``
and the following /16s of 10.0.0.0/8 (wrapping past 10.255 to 10.0), so up to 65,536 nodes
get distinct blocks; 5,000 nodes × 110 pods do not fit in one /16. Node InternalIPs come
from 172.16.0.0/12 by index. These addresses are never routed anywhere: nothing runs.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "NodeTemplate",
    "PodIPAllocator",
    "TAINT_EFFECTS",
    "build_lease",
    "build_node",
    "fallback_pod_cidr",
    "node_internal_ip",
    "node_name",
    "node_status",
    "parse_labels",
    "parse_taints",
    "running_status",
    "KUBELET_CONDITIONS",
]

Obj = dict[str, Any]

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
KUBELET_VERSION = "v1.32.0"
#: Pod condition types the kubelet owns (others, e.g. DisruptionTarget or readiness-gate
#: conditions, are kept as they are when the status is written).
KUBELET_CONDITIONS = frozenset({"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"})
MAX_FALLBACK_NODES = 65_536
_NODE_NET = ipaddress.ip_network("172.16.0.0/12")


@dataclass(frozen=True, kw_only=True)
class NodeTemplate:
    """What every simulated node looks like; ``index`` makes each one distinct."""

    name_prefix: str = "sim-node-"
    cpu: str = "32"
    memory: str = "256Gi"
    pods: str = "110"
    ephemeral_storage: str = "1Ti"
    zones: int = 3
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[Obj] = ()


def parse_labels(text: str) -> dict[str, str]:
    """``k=v,k2=v2`` → ``{"k": "v", "k2": "v2"}`` (empty text → ``{}``); ValueError if malformed."""
    labels: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"invalid label {part!r}: want key=value")
        labels[key.strip()] = value.strip()
    return labels


def parse_taints(text: str) -> list[Obj]:
    """``k=v:Effect,k:Effect`` → Node taints; ValueError if malformed or the effect is unknown."""
    taints: list[Obj] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        kv, sep, effect = part.rpartition(":")
        if not sep or not kv:
            raise ValueError(f"invalid taint {part!r}: want key=value:Effect or key:Effect")
        if effect not in TAINT_EFFECTS:
            raise ValueError(f"invalid taint {part!r}: effect must be one of {', '.join(TAINT_EFFECTS)}")
        key, has_value, value = kv.partition("=")
        if not key:
            raise ValueError(f"invalid taint {part!r}: empty key")
        taint: Obj = {"key": key, "effect": effect}
        if has_value and value:
            taint["value"] = value
        taints.append(taint)
    return taints


def node_name(prefix: str, index: int) -> str:
    return f"{prefix}{index}"


def fallback_pod_cidr(index: int) -> str:
    """The /24 of pod addresses for node ``index`` when node IPAM gave it none."""
    if not 0 <= index < MAX_FALLBACK_NODES:
        raise ValueError(f"node index {index} out of range for derived pod CIDRs (0..{MAX_FALLBACK_NODES - 1})")
    return f"10.{(244 + index // 256) % 256}.{index % 256}.0/24"


def node_internal_ip(index: int) -> str:
    """Node ``index``'s InternalIP, from 172.16.0.0/12 (skipping the network address)."""
    if not 0 <= index < _NODE_NET.num_addresses - 2:
        raise ValueError(f"node index {index} out of range")
    return str(_NODE_NET.network_address + index + 1)


def _stable_uuid(name: str, salt: str) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(f"{salt}/{name}".encode()).digest()))


def node_status(template: NodeTemplate, index: int, now: str) -> Obj:
    """The status a kubelet posts when it registers (and on each full status update)."""
    name = node_name(template.name_prefix, index)
    resources = {"cpu": template.cpu, "memory": template.memory, "pods": template.pods,
                 "ephemeral-storage": template.ephemeral_storage}

    def cond(type_: str, status: str, reason: str, message: str) -> Obj:
        return {"type": type_, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": now, "lastTransitionTime": now}

    return {
        "capacity": dict(resources),
        "allocatable": dict(resources),
        "conditions": [
            cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [{"type": "InternalIP", "address": node_internal_ip(index)},
                      {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": _stable_uuid(name, "machine").replace("-", ""),
            "systemUUID": _stable_uuid(name, "system"),
            "bootID": _stable_uuid(name, "boot"),
            "kernelVersion": "6.1.0-sim",
            "osImage": "kubepy simulated node",
            "containerRuntimeVersion": "sim://1.0.0",
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": KUBELET_VERSION,
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    }


def build_node(template: NodeTemplate, index: int, now: str) -> Obj:
    """The Node object for simulated node ``index``, status included."""
    name = node_name(template.name_prefix, index)
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
    }
    if template.zones > 0:
        labels["topology.kubernetes.io/zone"] = f"zone-{index % template.zones}"
    labels.update(template.labels)
    spec: Obj = {}
    if template.taints:
        spec["taints"] = [dict(t) for t in template.taints]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
        "status": node_status(template, index, now),
    }


def build_lease(name: str, now_micro: str, duration_seconds: int) -> Obj:
    """The node's Lease in kube-node-lease, as the kubelet creates it."""
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": duration_seconds, "renewTime": now_micro},
    }


class PodIPAllocator:
    """Pod addresses of one node's CIDR: the first host is the gateway, pods get the rest.

    Hands out addresses in order and reuses freed ones only after wrapping (as host-local
    IPAM does), so a deleted pod's address is not at once given to the next pod.
    """

    def __init__(self, cidr: str) -> None:
        net = ipaddress.ip_network(cidr, strict=False)
        self.cidr = str(net)
        self._base = int(net.network_address)
        self._version = net.version
        # IPv4: skip network, gateway (.1) and broadcast; IPv6: skip the subnet-router anycast and gateway
        self._first = 2
        self._last = net.num_addresses - (2 if net.version == 4 else 1)
        if self._last < self._first:
            raise ValueError(f"pod CIDR {cidr} is too small")
        self._used: set[int] = set()
        self._next = self._first

    @property
    def capacity(self) -> int:
        return self._last - self._first + 1

    @property
    def in_use(self) -> int:
        return len(self._used)

    def _text(self, offset: int) -> str:
        return str(ipaddress.ip_address(self._base + offset))

    def allocate(self) -> str:
        """A free address; RuntimeError when the block is full."""
        if len(self._used) >= self.capacity:
            raise RuntimeError(f"pod CIDR {self.cidr} is full")
        offset = self._next
        while offset in self._used:
            offset = offset + 1 if offset < self._last else self._first
        self._used.add(offset)
        self._next = offset + 1 if offset < self._last else self._first
        return self._text(offset)

    def _offset(self, ip: str) -> int | None:
        try:
            offset = int(ipaddress.ip_address(ip)) - self._base
        except ValueError:
            return None
        return offset if self._first <= offset <= self._last else None

    def reserve(self, ip: str) -> bool:
        """Mark an address already in use (a pod found running at start); False if outside the block."""
        offset = self._offset(ip)
        if offset is None:
            return False
        self._used.add(offset)
        return True

    def release(self, ip: str) -> None:
        offset = self._offset(ip)
        if offset is not None:
            self._used.discard(offset)


def _init_status(c: Obj, uid: str, now: str) -> Obj:
    image = str(c.get("image", ""))
    container_id = f"sim://{uid}/{c.get('name', '')}"
    if c.get("restartPolicy") == "Always":  # a sidecar: started and kept running
        return {"name": c.get("name", ""), "image": image, "imageID": "", "containerID": container_id,
                "ready": True, "started": True, "restartCount": 0, "lastState": {},
                "state": {"running": {"startedAt": now}}}
    return {"name": c.get("name", ""), "image": image, "imageID": "", "containerID": container_id,
            "ready": True, "started": False, "restartCount": 0, "lastState": {},
            "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now,
                                     "containerID": container_id}}}


def running_status(pod: Obj, *, pod_ip: str, host_ip: str, now: str) -> Obj:
    """The status a kubelet reports once every container of ``pod`` runs (a merge-patch body's
    ``status``): phase Running, its conditions, container statuses, IPs and start time.

    Readiness gates are honoured: Ready is True only if every gate's condition already is.
    Conditions the kubelet does not own are carried over unchanged.
    """
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    old = pod.get("status") or {}
    uid = str(meta.get("uid", ""))
    old_conditions = [c for c in old.get("conditions") or () if isinstance(c, dict)]
    by_type = {c.get("type"): c for c in old_conditions}
    gates_ok = all((by_type.get(g.get("conditionType")) or {}).get("status") == "True"
                   for g in spec.get("readinessGates") or ())
    start_time = old.get("startTime") or now

    def cond(type_: str, status: bool) -> Obj:
        prev = by_type.get(type_)
        value = "True" if status else "False"
        since = prev.get("lastTransitionTime") if prev is not None and prev.get("status") == value else None
        return {"type": type_, "status": value, "lastProbeTime": None, "lastTransitionTime": since or now}

    conditions = [
        cond("PodReadyToStartContainers", True),
        cond("Initialized", True),
        cond("Ready", gates_ok),
        cond("ContainersReady", True),
        cond("PodScheduled", True),
    ]
    conditions.extend(c for c in old_conditions if c.get("type") not in KUBELET_CONDITIONS)
    statuses = []
    for c in spec.get("containers") or ():
        name = str(c.get("name", ""))
        statuses.append({"name": name, "image": str(c.get("image", "")), "imageID": "",
                         "containerID": f"sim://{uid}/{name}", "ready": True, "started": True,
                         "restartCount": 0, "lastState": {}, "state": {"running": {"startedAt": now}}})
    status: Obj = {
        "phase": "Running",
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": start_time,
        "containerStatuses": statuses,
    }
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [_init_status(c, uid, now) for c in spec["initContainers"]]
    return status
