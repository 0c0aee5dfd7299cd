"""PrioritySort: the activeQ order, higher ``spec.priority`` first and, among equals, the
pod that entered the queue first (upstream plugins/queuesort).

Design: ``less`` is the only QueueSort extension point and runs on every heap comparison,
so it reads two ints and two floats and nothing else; a pod without ``spec.priority`` (no
Priority admission) counts as priority 0, as corev1helpers.PodPriority does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubepy.scheduler.framework.interface import ClusterEvent, EnqueueExtensions, Handle, QueuedPodInfo, QueueSortPlugin

__all__ = ["NAME", "PrioritySort", "new", "pod_priority"]

NAME = "PrioritySort"


def pod_priority(pod: Mapping[str, Any]) -> int:
    """The pod's priority (0 when unset)."""
    p = (pod.get("spec") or {}).get("priority")
    return int(p) if p is not None else 0


class PrioritySort(QueueSortPlugin, EnqueueExtensions):
    NAME = NAME

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        pa, pb = pod_priority(a.pod), pod_priority(b.pod)
        return pa > pb or (pa == pb and a.timestamp < b.timestamp)

    def events_to_register(self) -> list[ClusterEvent]:
        return []


def new(args: dict[str, Any], handle: Handle) -> PrioritySort:
    return PrioritySort()
