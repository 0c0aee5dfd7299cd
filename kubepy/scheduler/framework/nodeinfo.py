"""NodeInfo: a node with the pods assigned to it and what they use, as the plugins read it.

Resource arithmetic follows upstream: CPU in millicores, memory and storage in bytes; a
pod's request is the larger of its app containers' sum and any one init container (with
restartable "sidecar" init containers added to both) plus pod overhead. The "non-zero"
request counts 100m CPU / 200 MiB for containers that request nothing, as the scoring
plugins do upstream.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubepy.api.quantity import parse_quantity

Obj = dict[str, Any]

DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024


@functools.lru_cache(maxsize=4096)
def milli_value(q: str) -> int:
    return int(math.ceil(parse_quantity(str(q)) * 1000))


@functools.lru_cache(maxsize=4096)
def int_value(q: str) -> int:
    return int(math.ceil(parse_quantity(str(q))))


@dataclass(slots=True)
class Resource:
    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    allowed_pods: int = 0
    scalar: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_list(cls, rl: Mapping[str, Any] | None) -> Resource:
        r = cls()
        for name, q in (rl or {}).items():
            r.set(name, q)
        return r

    def set(self, name: str, q: Any) -> None:
        if name == "cpu":
            self.milli_cpu = milli_value(str(q))
        elif name == "memory":
            self.memory = int_value(str(q))
        elif name == "ephemeral-storage":
            self.ephemeral_storage = int_value(str(q))
        elif name == "pods":
            self.allowed_pods = int_value(str(q))
        else:
            self.scalar[name] = int_value(str(q))

    def add(self, other: Resource) -> None:
        self.milli_cpu += other.milli_cpu
        self.memory += other.memory
        self.ephemeral_storage += other.ephemeral_storage
        self.allowed_pods += other.allowed_pods
        for k, v in other.scalar.items():
            self.scalar[k] = self.scalar.get(k, 0) + v

    def sub(self, other: Resource) -> None:
        self.milli_cpu -= other.milli_cpu
        self.memory -= other.memory
        self.ephemeral_storage -= other.ephemeral_storage
        self.allowed_pods -= other.allowed_pods
        for k, v in other.scalar.items():
            self.scalar[k] = self.scalar.get(k, 0) - v

    def set_max(self, other: Resource) -> None:
        self.milli_cpu = max(self.milli_cpu, other.milli_cpu)
        self.memory = max(self.memory, other.memory)
        self.ephemeral_storage = max(self.ephemeral_storage, other.ephemeral_storage)
        for k, v in other.scalar.items():
            self.scalar[k] = max(self.scalar.get(k, 0), v)

    def clone(self) -> Resource:
        return Resource(self.milli_cpu, self.memory, self.ephemeral_storage, self.allowed_pods, dict(self.scalar))


def pod_requests(pod: Mapping[str, Any], *, non_zero: bool = False) -> Resource:
    """The pod's effective resource request (upstream's resourcehelper.PodRequests)."""
    spec = pod.get("spec") or {}
    app = Resource()
    for c in spec.get("containers") or ():
        app.add(_container_requests(c, non_zero))
    sidecars = Resource()
    init_max = Resource()
    for c in spec.get("initContainers") or ():
        req = _container_requests(c, non_zero)
        if c.get("restartPolicy") == "Always":
            sidecars.add(req)
            app.add(req)
        else:
            candidate = req.clone()
            candidate.add(sidecars)
            init_max.set_max(candidate)
    app.set_max(init_max)
    overhead = spec.get("overhead")
    if overhead:
        app.add(Resource.from_list(overhead))
    return app


def _container_requests(c: Mapping[str, Any], non_zero: bool) -> Resource:
    res = c.get("resources") or {}
    r = Resource.from_list(res.get("requests"))
    if non_zero:
        if "cpu" not in (res.get("requests") or {}):
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST
        if "memory" not in (res.get("requests") or {}):
            r.memory = DEFAULT_MEMORY_REQUEST
    return r


def host_ports(pod: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(hostIP, protocol, hostPort) of every container port with a hostPort."""
    out = []
    for c in (pod.get("spec") or {}).get("containers") or ():
        for p in c.get("ports") or ():
            hp = p.get("hostPort")
            if hp:
                out.append((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", int(hp)))
    return out


def has_affinity(pod: Mapping[str, Any]) -> bool:
    aff = (pod.get("spec") or {}).get("affinity") or {}
    return bool(aff.get("podAffinity") or aff.get("podAntiAffinity"))


def has_required_anti_affinity(pod: Mapping[str, Any]) -> bool:
    anti = ((pod.get("spec") or {}).get("affinity") or {}).get("podAntiAffinity") or {}
    return bool(anti.get("requiredDuringSchedulingIgnoredDuringExecution"))


@dataclass(slots=True)
class PodInfo:
    """A pod with what plugins need precomputed once."""

    pod: Obj
    requests: Resource
    non_zero: Resource

    @classmethod
    def of(cls, pod: Obj) -> PodInfo:
        return cls(pod, pod_requests(pod), pod_requests(pod, non_zero=True))

    @property
    def key(self) -> str:
        meta = self.pod["metadata"]
        return f"{meta.get('namespace', '')}/{meta['name']}"


class NodeInfo:
    """One node and the pods the scheduler believes run there (assumed ones included)."""

    __slots__ = ("node", "name", "pods", "requested", "non_zero_requested", "allocatable", "used_ports",
                 "pods_with_affinity", "pods_with_required_anti_affinity", "generation", "image_sizes")

    def __init__(self, node: Obj | None = None) -> None:
        self.node: Obj | None = None
        self.name = ""
        self.pods: dict[str, PodInfo] = {}
        self.requested = Resource()
        self.non_zero_requested = Resource()
        self.allocatable = Resource()
        self.used_ports: dict[tuple[str, str, int], int] = {}
        self.pods_with_affinity: dict[str, PodInfo] = {}
        self.pods_with_required_anti_affinity: dict[str, PodInfo] = {}
        self.generation = 0
        #: image name -> size in bytes, from node.status.images
        self.image_sizes: dict[str, int] = {}
        if node is not None:
            self.set_node(node)

    def set_node(self, node: Obj) -> None:
        self.node = node
        self.name = node["metadata"]["name"]
        self.allocatable = Resource.from_list((node.get("status") or {}).get("allocatable"))
        self.image_sizes = {}
        for img in (node.get("status") or {}).get("images") or ():
            for n in img.get("names") or ():
                self.image_sizes[n] = int(img.get("sizeBytes") or 0)
        self.generation += 1

    def add_pod(self, info: PodInfo) -> None:
        key = info.key
        if key in self.pods:
            self.remove_pod(key)
        self.pods[key] = info
        self.requested.add(info.requests)
        self.non_zero_requested.add(info.non_zero)
        for port in host_ports(info.pod):
            self.used_ports[port] = self.used_ports.get(port, 0) + 1
        if has_affinity(info.pod):
            self.pods_with_affinity[key] = info
        if has_required_anti_affinity(info.pod):
            self.pods_with_required_anti_affinity[key] = info
        self.generation += 1

    def remove_pod(self, key: str) -> PodInfo | None:
        info = self.pods.pop(key, None)
        if info is None:
            return None
        self.requested.sub(info.requests)
        self.non_zero_requested.sub(info.non_zero)
        for port in host_ports(info.pod):
            n = self.used_ports.get(port, 0) - 1
            if n <= 0:
                self.used_ports.pop(port, None)
            else:
                self.used_ports[port] = n
        self.pods_with_affinity.pop(key, None)
        self.pods_with_required_anti_affinity.pop(key, None)
        self.generation += 1
        return info

    def clone(self) -> NodeInfo:
        c = NodeInfo()
        c.node = self.node
        c.name = self.name
        c.pods = dict(self.pods)
        c.requested = self.requested.clone()
        c.non_zero_requested = self.non_zero_requested.clone()
        c.allocatable = self.allocatable.clone()
        c.used_ports = dict(self.used_ports)
        c.pods_with_affinity = dict(self.pods_with_affinity)
        c.pods_with_required_anti_affinity = dict(self.pods_with_required_anti_affinity)
        c.generation = self.generation
        c.image_sizes = self.image_sizes
        return c

    @property
    def labels(self) -> Mapping[str, str]:
        return ((self.node or {}).get("metadata") or {}).get("labels") or {}

    def pod_list(self) -> Iterable[PodInfo]:
        return self.pods.values()
