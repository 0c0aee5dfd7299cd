"""Pod garbage collection: removes pods nothing else will ever clean up.

Job, as upstream's ``pkg/controller/podgc``, in one pass every 20 s:
- *terminated* pods (phase Succeeded or Failed) beyond ``terminated_pod_gc_threshold``
  (controller-manager option, default 12500; 0 disables this part) are deleted, evicted
  ones first, then oldest first (creationTimestamp, then name);
- *terminating* pods on a node that is not Ready and carries the
  ``node.kubernetes.io/out-of-service`` taint are force-deleted;
- *orphaned* pods, bound to a node that no longer exists, are force-deleted once the node
  has been missing for a 40 s quarantine and a live GET confirms it is gone; first they
  get phase Failed and the condition ``DisruptionTarget`` (reason ``DeletionByPodGC``);
- *unscheduled terminating* pods (deletionTimestamp set, no nodeName) are force-deleted.
Every force delete first marks a pod that is not finished as Failed (no kubelet will),
then deletes it with grace period 0.

Design: the pass runs as ``sync`` of a single key re-queued every ``GC_PERIOD`` seconds
on the injected clock, reading pods and nodes from informers. The quarantine is a map of
node name → first time seen missing (upstream's delaying queue), so a node that comes
back in time saves its pods. Individual failures are logged and retried next pass, as
upstream does, rather than failing the whole pass.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kubepy.client import ApiError, DeleteOptions, ResourceRef, is_not_found
from kubepy.client.events import rfc3339
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext

__all__ = ["PodGCController", "new", "GC_PERIOD", "QUARANTINE", "DEFAULT_THRESHOLD", "eviction_creation_order"]

Obj = dict[str, Any]
PODS = ResourceRef("", "v1", "pods", True)
NODES = ResourceRef("", "v1", "nodes", False)
GC_PERIOD = 20.0
QUARANTINE = 40.0
DEFAULT_THRESHOLD = 12500
KEY = "podgc"
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"


def _phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_terminated(pod: Obj) -> bool:
    return _phase(pod) not in ("Pending", "Running", "Unknown", "")


def is_evicted(pod: Obj) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Failed" and status.get("reason") == "Evicted"


def eviction_creation_order(pod: Obj) -> tuple[int, str, str]:
    """Sort key: evicted pods first, then by creationTimestamp, then by name."""
    meta = pod.get("metadata") or {}
    return (0 if is_evicted(pod) else 1, str(meta.get("creationTimestamp") or ""), str(meta.get("name") or ""))


def node_ready(node: Obj) -> bool:
    for c in (node.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def has_out_of_service_taint(node: Obj) -> bool:
    return any(t.get("key") == OUT_OF_SERVICE_TAINT for t in (node.get("spec") or {}).get("taints") or ())


class PodGCController(Controller):
    NAME = "podgc"
    WORKERS = 1

    def __init__(self, ctx: ControllerContext, *, threshold: int | None = None, period: float = GC_PERIOD,
                 quarantine: float = QUARANTINE) -> None:
        super().__init__(ctx)
        if threshold is None:
            configured = ctx.options.get("terminated_pod_gc_threshold")
            threshold = DEFAULT_THRESHOLD if configured is None else int(configured)
        self.threshold = threshold
        self.period = period
        self.quarantine = quarantine
        self.pods = ctx.informers.informer(PODS)
        self.nodes = ctx.informers.informer(NODES)
        #: node name -> monotonic time it was first seen missing
        self.missing_since: dict[str, float] = {}

    def informers(self) -> list[Any]:
        return [self.pods, self.nodes]

    async def run(self, workers: int | None = None) -> None:
        self.queue.add(KEY)
        await super().run(workers)

    async def sync(self, key: str) -> None:
        try:
            await self.gc()
        finally:
            self.queue.add_after(KEY, self.period)

    async def gc(self) -> None:
        """One full pass (upstream's gc())."""
        pods = self.pods.indexer.list()
        nodes = {n["metadata"]["name"]: n for n in self.nodes.indexer.list()}
        if self.threshold > 0:
            await self.gc_terminated(pods)
        await self.gc_terminating(pods, nodes)
        await self.gc_orphaned(pods, nodes)
        await self.gc_unscheduled_terminating(pods)

    async def gc_terminated(self, pods: list[Obj]) -> None:
        terminated = [p for p in pods if is_terminated(p)]
        excess = len(terminated) - self.threshold
        if excess <= 0:
            return
        self.log.info("garbage collecting %d terminated pods", excess)
        terminated.sort(key=eviction_creation_order)
        await self._delete_all(terminated[:excess], None)

    async def gc_terminating(self, pods: list[Obj], nodes: dict[str, Obj]) -> None:
        doomed = []
        for pod in pods:
            if not (pod.get("metadata") or {}).get("deletionTimestamp"):
                continue
            node = nodes.get(str((pod.get("spec") or {}).get("nodeName") or ""))
            if node is not None and not node_ready(node) and has_out_of_service_taint(node):
                doomed.append(pod)
        if doomed:
            doomed.sort(key=eviction_creation_order)
            self.log.info("garbage collecting %d pods terminating on out-of-service nodes", len(doomed))
            await self._delete_all(doomed, None)

    async def gc_orphaned(self, pods: list[Obj], nodes: dict[str, Obj]) -> None:
        now = self.clock.monotonic()
        for pod in pods:
            node_name = str((pod.get("spec") or {}).get("nodeName") or "")
            if node_name and node_name not in nodes:
                self.missing_since.setdefault(node_name, now)
        deleted: set[str] = set()
        for node_name, since in list(self.missing_since.items()):
            if now - since < self.quarantine:
                continue
            del self.missing_since[node_name]
            if node_name in nodes:
                continue
            try:
                await self.client.get(NODES, node_name)
            except ApiError as e:
                if is_not_found(e):
                    deleted.add(node_name)
                else:
                    self.log.warning("error getting node %s: %s", node_name, e)
        orphans = [p for p in pods if str((p.get("spec") or {}).get("nodeName") or "") in deleted]
        if orphans:
            condition = {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
                         "message": "PodGC: node no longer exists"}
            await self._delete_all(orphans, condition)

    async def gc_unscheduled_terminating(self, pods: list[Obj]) -> None:
        doomed = [p for p in pods if (p.get("metadata") or {}).get("deletionTimestamp")
                  and not (p.get("spec") or {}).get("nodeName")]
        await self._delete_all(doomed, None)

    async def _delete_all(self, pods: list[Obj], condition: Obj | None) -> None:
        results = await asyncio.gather(*(self.mark_failed_and_delete(p, condition) for p in pods),
                                       return_exceptions=True)
        for pod, r in zip(pods, results):
            if isinstance(r, asyncio.CancelledError):
                raise r
            if isinstance(r, BaseException) and not is_not_found(r):
                self.log.warning("failed to delete pod %s/%s: %s", pod["metadata"].get("namespace"),
                                 pod["metadata"].get("name"), r)

    async def mark_failed_and_delete(self, pod: Obj, condition: Obj | None) -> None:
        """Force-delete ``pod``, first moving it to Failed (with ``condition``) if unfinished."""
        meta = pod["metadata"]
        ns, name = str(meta.get("namespace") or ""), str(meta["name"])
        self.log.info("PodGC is force deleting pod %s/%s", ns, name)
        if _phase(pod) not in ("Succeeded", "Failed"):
            status: Obj = {"phase": "Failed"}
            if condition is not None:
                cond = dict(condition)
                old = next((c for c in (pod.get("status") or {}).get("conditions") or ()
                            if c.get("type") == cond["type"]), None)
                cond["lastTransitionTime"] = (old.get("lastTransitionTime") if old and old.get("status") == cond["status"]
                                              else None) or rfc3339(self.clock.time())
                status["conditions"] = [cond]
            patch = {"metadata": {"uid": meta.get("uid")}, "status": status}
            await self.client.patch(PODS, name, patch, namespace=ns, type="strategic", subresource="status")
        await self.client.delete(PODS, name, namespace=ns, options=DeleteOptions(grace_period_seconds=0))


def new(ctx: ControllerContext) -> PodGCController:
    return PodGCController(ctx)
