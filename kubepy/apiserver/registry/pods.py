"""Pod strategy: initial status with QoS class, graceful deletion, binding.

A pod bound to a node (and not finished) is deleted gracefully: DELETE sets
deletionTimestamp and the kubelet removes it once its containers stopped. Unbound or
terminated pods go at once, as upstream.
"""

from __future__ import annotations

from typing import Any

from kubepy.apiserver.registry.strategy import Obj, Strategy

DEFAULT_GRACE = 30


def qos_class(spec: dict[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort, by upstream's rules (containers + init containers)."""
    containers = [*spec.get("initContainers", ()), *spec.get("containers", ())]
    requests_seen = limits_seen = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req = {k: v for k, v in (res.get("requests") or {}).items() if k in ("cpu", "memory")}
        lim = {k: v for k, v in (res.get("limits") or {}).items() if k in ("cpu", "memory")}
        requests_seen = requests_seen or bool(req)
        limits_seen = limits_seen or bool(lim)
        if set(lim) != {"cpu", "memory"}:
            guaranteed = False
            continue
        for k, v in req.items():
            if str(lim.get(k)) != str(v):
                guaranteed = False
    if not requests_seen and not limits_seen:
        return "BestEffort"
    if guaranteed and limits_seen:
        return "Guaranteed"
    return "Burstable"


class PodStrategy(Strategy):
    def initial_status(self, obj: Obj) -> Obj:
        return {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(requested, 0)
        grace = spec.get("terminationGracePeriodSeconds")
        return DEFAULT_GRACE if grace is None else int(grace)
