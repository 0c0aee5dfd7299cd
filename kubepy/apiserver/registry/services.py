"""Service strategy: ClusterIP and NodePort allocation, kept across updates.

IPs come from the service CIDR (the first address belongs to the ``kubernetes``
service), node ports from 30000-32767. The allocators know what is in use from the
watch cache plus what they handed out and the cache has not seen yet. One API server
process allocates; several replicas would need the allocation kept in storage as
upstream's bitmap is (not done yet).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Iterable
from typing import Any

from kubepy.apiserver import errors
from kubepy.apiserver.registry.strategy import Obj, Strategy

NODE_PORT_RANGE = (30000, 32767)


class Allocator:
    def __init__(self, existing: Callable[[], Iterable[Obj]], cidr: str = "10.96.0.0/12") -> None:
        self.net = ipaddress.ip_network(cidr)
        self._existing = existing
        self._pending_ips: set[str] = set()
        self._pending_ports: set[int] = set()

    def _used(self) -> tuple[set[str], set[int]]:
        ips: set[str] = set()
        ports: set[int] = set()
        for svc in self._existing():
            spec = svc.get("spec") or {}
            ips.update(ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip)
            ports.update(p["nodePort"] for p in spec.get("ports") or () if p.get("nodePort"))
        self._pending_ips -= ips
        self._pending_ports -= ports
        return ips | self._pending_ips, ports | self._pending_ports

    def service_ip(self, index: int) -> str:
        return str(self.net.network_address + index)

    def allocate_ip(self, wanted: str | None = None) -> str:
        used, _ = self._used()
        if wanted:
            try:
                addr = ipaddress.ip_address(wanted)
            except ValueError:
                raise errors.bad_request(f"spec.clusterIPs: Invalid value: {wanted!r}") from None
            if addr not in self.net:
                raise errors.StatusError(
                    422, "Invalid",
                    f"spec.clusterIPs: Invalid value: [\"{wanted}\"]: failed to allocate IP {wanted}: "
                    f"the provided IP ({wanted}) is not in the valid range. The range of valid IPs is {self.net}",
                )
            if wanted in used:
                raise errors.StatusError(
                    422, "Invalid",
                    f"spec.clusterIPs: Invalid value: [\"{wanted}\"]: failed to allocate IP {wanted}: "
                    "provided IP is already allocated",
                )
            self._pending_ips.add(wanted)
            return wanted
        size = self.net.num_addresses - 2
        start = random.randrange(2, size)
        for i in range(size):
            candidate = self.service_ip(2 + (start - 2 + i) % (size - 1))
            if candidate not in used:
                self._pending_ips.add(candidate)
                return candidate
        raise errors.internal("range is full")

    def allocate_port(self, wanted: int | None = None) -> int:
        _, used = self._used()
        lo, hi = NODE_PORT_RANGE
        if wanted:
            if wanted in used:
                raise errors.StatusError(
                    422, "Invalid", f"spec.ports.nodePort: Invalid value: {wanted}: provided port is already allocated"
                )
            self._pending_ports.add(wanted)
            return wanted
        start = random.randint(lo, hi)
        for i in range(hi - lo + 1):
            candidate = lo + (start - lo + i) % (hi - lo + 1)
            if candidate not in used:
                self._pending_ports.add(candidate)
                return candidate
        raise errors.internal("node port range is full")


def _needs_node_ports(spec: dict[str, Any]) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


class ServiceStrategy(Strategy):
    allocator: Allocator

    def initial_status(self, obj: Obj) -> Obj:
        return {"loadBalancer": {}}

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        spec = obj.setdefault("spec", {})
        self._allocate(spec, None)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        spec = new.setdefault("spec", {})
        self._allocate(spec, old.get("spec") or {})

    def _allocate(self, spec: dict[str, Any], old: dict[str, Any] | None) -> None:
        if spec.get("type") == "ExternalName":
            return
        if old and not spec.get("clusterIP") and old.get("clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
            spec["clusterIPs"] = old.get("clusterIPs") or [old["clusterIP"]]
        ip = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
        if ip != "None" and not (old and ip == old.get("clusterIP")):
            ip = self.allocator.allocate_ip(ip or None)
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        if _needs_node_ports(spec):
            old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in (old or {}).get("ports") or ()}
            for port in spec.get("ports") or ():
                if port.get("nodePort"):
                    if old_ports.get((port.get("port"), port.get("protocol", "TCP"))) != port["nodePort"]:
                        self.allocator.allocate_port(port["nodePort"])
                    continue
                kept = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                port["nodePort"] = kept or self.allocator.allocate_port()
            if spec.get("externalTrafficPolicy") is None:
                spec["externalTrafficPolicy"] = "Cluster"
        else:
            for port in spec.get("ports") or ():
                port.pop("nodePort", None)
