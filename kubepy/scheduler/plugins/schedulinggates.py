"""SchedulingGates: a pod with ``spec.schedulingGates`` waits outside the active queue until
its gates are all removed (upstream plugins/schedulinggates, a PreEnqueue plugin).

Design: PreEnqueue is not one of the framework's Protocols, so the queue calls
``pre_enqueue(pod)`` on any plugin that has it, before a pod may enter activeQ; the answer is
UNSCHEDULABLE_AND_UNRESOLVABLE with upstream's message ("waiting for scheduling gates:
[a b]", Go's %v of the gate names) while gates remain. Removing a gate is an update of the
pod itself, which the queue re-checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.scheduler.framework.interface import SUCCESS, ClusterEvent, EnqueueExtensions, Handle, Status

__all__ = ["NAME", "SchedulingGates", "new", "waiting_gates"]

NAME = "SchedulingGates"


def waiting_gates(pod: Mapping[str, Any]) -> list[str]:
    """The names of the pod's remaining scheduling gates."""
    return [str(g.get("name") or "") for g in (pod.get("spec") or {}).get("schedulingGates") or ()]


class SchedulingGates(EnqueueExtensions):
    NAME = NAME

    def pre_enqueue(self, pod: Mapping[str, Any]) -> Status:
        gates = waiting_gates(pod)
        if not gates:
            return SUCCESS
        return Status.unschedulable(f"waiting for scheduling gates: [{' '.join(gates)}]", resolvable=False,
                                    plugin=NAME)

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Pod", "UpdatePodSchedulingGatesEliminated")]


def new(args: dict[str, Any], handle: Handle) -> SchedulingGates:
    return SchedulingGates()
