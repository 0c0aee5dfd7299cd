"""The kubelet's part for pods bound to simulated nodes: start them, honour their deletion.

Job: for every pod bound to one of our nodes, report it Running and Ready (one status
PATCH carrying the pod IP from the node's pod CIDR, host IP, conditions, container
statuses and start time) and, once it is being deleted, remove it for good (DELETE with
grace period 0 and a uid precondition, as the kubelet does when its containers are gone).

Design: sized for 150,000 pods in one process.
- ``PodPlayer`` is the store of one ``Reflector`` over pods with ``spec.nodeName!=``: watch
  events are looked at once and not cached; at rest a pod costs one small ``_PodRecord``
  (uid, node, IP, started) and no task.
- Work is level-triggered through a deduplicating queue: ``_pending`` maps a pod key to the
  latest object seen while work is due (slimmed to the fields the work reads, so a backlog
  of tens of thousands of pods stays small), the queue holds each such key once, and a fixed pool
  of ``workers`` tasks takes keys and acts on the newest object. A failed write is tried
  again after ``retry_delay`` (a timer, not a task); 404 and 409 mean the pod is gone or was
  replaced, and are dropped.
- Pod CIDRs come from ``pod_cidr(node)`` (node IPAM's ``spec.podCIDR`` when set, else a
  derived block); a node's allocator is made on its first pod. Addresses of pods found
  already running (a restarted simulator) are reserved, so they are not handed out twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kubepy.client import REAL_CLOCK, ApiError, Client, Clock, DeleteOptions, Preconditions
from kubepy.sim.objects import PodIPAllocator, running_status

__all__ = ["PodPlayer", "SimNode", "slim_pod"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]
TERMINAL = frozenset({"Succeeded", "Failed"})


@dataclass(slots=True)
class SimNode:
    """One simulated node as the pod player needs it."""

    name: str
    index: int
    host_ip: str
    fallback_cidr: str
    #: spec.podCIDR once node IPAM set it ("" until then).
    pod_cidr: str = ""
    allocator: PodIPAllocator | None = None

    def ip_allocator(self) -> PodIPAllocator:
        alloc = self.allocator
        wanted = self.pod_cidr or self.fallback_cidr
        if alloc is None or (alloc.cidr != wanted and alloc.in_use == 0):
            alloc = self.allocator = PodIPAllocator(wanted)
        return alloc


@dataclass(slots=True)
class _PodRecord:
    uid: str
    node: str
    ip: str = ""
    started: bool = False
    deleting: bool = False


def _key(meta: Mapping[str, Any]) -> str:
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def slim_pod(obj: Obj) -> Obj:
    """The parts of a pod that starting or deleting it reads (a backlog of thousands of pods then
    costs a fraction of the decoded objects)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    out_spec: Obj = {"containers": [{"name": c.get("name", ""), "image": c.get("image", "")}
                                    for c in spec.get("containers") or ()]}
    if spec.get("initContainers"):
        out_spec["initContainers"] = [{"name": c.get("name", ""), "image": c.get("image", ""),
                                       "restartPolicy": c.get("restartPolicy")} for c in spec["initContainers"]]
    if spec.get("readinessGates"):
        out_spec["readinessGates"] = spec["readinessGates"]
    out_status: Obj = {}
    if status.get("conditions"):
        out_status["conditions"] = status["conditions"]
    if status.get("startTime"):
        out_status["startTime"] = status["startTime"]
    return {"metadata": {k: meta[k] for k in ("name", "namespace", "uid", "deletionTimestamp") if k in meta},
            "spec": out_spec, "status": out_status}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class PodPlayer:
    """Plays the kubelet for pods on ``nodes``; feed it from a Reflector, ``start()`` its workers."""

    def __init__(
        self,
        client: Client,
        nodes: Mapping[str, SimNode],
        *,
        workers: int = 32,
        retry_delay: float = 1.0,
        clock: Clock = REAL_CLOCK,
        now: Callable[[], str] = _now,
    ) -> None:
        self.client = client
        self.nodes = nodes
        self.workers = workers
        self.retry_delay = retry_delay
        self.clock = clock
        self.now = now
        self.pods = client.resource("v1", "pods")
        self._records: dict[str, _PodRecord] = {}
        self._pending: dict[str, Obj] = {}
        self._inflight: set[str] = set()
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._closed = False
        #: Counters for tests and logs.
        self.started = 0
        self.deleted = 0
        self.errors = 0

    # -- what the simulator holds ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self._records)

    def pod_ip(self, key: str) -> str:
        rec = self._records.get(key)
        return rec.ip if rec is not None else ""

    @property
    def backlog(self) -> int:
        return len(self._pending)

    # -- ReflectorStore ---------------------------------------------------------------------
    def replace(self, items: list[Obj], resource_version: str) -> None:
        seen = set()
        for obj in items:
            seen.add(_key(obj.get("metadata") or {}))
            self.add(obj)
        for key in [k for k in self._records if k not in seen]:
            self._forget(key)

    def add(self, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        node_name = (obj.get("spec") or {}).get("nodeName") or ""
        node = self.nodes.get(node_name)
        if node is None:
            return
        key = _key(meta)
        uid = str(meta.get("uid", ""))
        rec = self._records.get(key)
        if rec is None or rec.uid != uid:
            if rec is not None:
                self._forget(key)
            rec = self._records[key] = _PodRecord(uid=uid, node=node_name)
            status = obj.get("status") or {}
            if status.get("phase") == "Running" or status.get("phase") in TERMINAL:
                rec.started = True
                ip = str(status.get("podIP") or "")
                if ip and node.ip_allocator().reserve(ip):
                    rec.ip = ip
        if meta.get("deletionTimestamp"):
            if not rec.deleting:
                self._enqueue(key, slim_pod(obj))
        elif not rec.started:
            self._enqueue(key, slim_pod(obj))

    update = add

    def delete(self, obj: Obj) -> None:
        self._forget(_key(obj.get("metadata") or {}))

    def _forget(self, key: str) -> None:
        rec = self._records.pop(key, None)
        self._pending.pop(key, None)
        if rec is not None and rec.ip:
            node = self.nodes.get(rec.node)
            if node is not None and node.allocator is not None:
                node.allocator.release(rec.ip)

    # -- work queue -------------------------------------------------------------------------
    def _enqueue(self, key: str, obj: Obj) -> None:
        fresh = key not in self._pending
        self._pending[key] = obj
        if fresh and key not in self._inflight:  # an in-flight key is queued again when it finishes
            self._queue.put_nowait(key)

    def _retry_later(self, key: str, obj: Obj) -> None:
        def fire() -> None:
            self._timers.discard(handle)
            rec = self._records.get(key)
            if not self._closed and rec is not None and rec.uid == (obj.get("metadata") or {}).get("uid"):
                self._enqueue(key, self._pending.get(key, obj))

        handle = asyncio.get_running_loop().call_later(self.retry_delay, fire)
        self._timers.add(handle)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._worker(), name=f"sim pod worker {i}") for i in range(self.workers)]

    async def stop(self) -> None:
        self._closed = True
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _worker(self) -> None:
        while True:
            key = await self._queue.get()
            obj = self._pending.pop(key, None)
            if obj is None:
                continue
            self._inflight.add(key)
            try:
                await self.sync(key, obj)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - one pod's failure must not stop the worker
                self.errors += 1
                log.warning("sim: pod %s: %s; retrying", key, e)
                self._retry_later(key, obj)
            finally:
                self._inflight.discard(key)
                if key in self._pending:
                    self._queue.put_nowait(key)

    async def sync(self, key: str, obj: Obj) -> None:
        """Bring one pod forward: start it, or finish its deletion."""
        rec = self._records.get(key)
        meta = obj.get("metadata") or {}
        if rec is None or rec.uid != meta.get("uid"):
            return
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        try:
            if meta.get("deletionTimestamp"):
                rec.deleting = True
                try:
                    await self.client.delete(self.pods, name, namespace=ns, options=DeleteOptions(
                        grace_period_seconds=0, preconditions=Preconditions(uid=rec.uid)))
                except BaseException:
                    rec.deleting = False
                    raise
                self.deleted += 1
                return
            if rec.started:
                return
            node = self.nodes.get(rec.node)
            if node is None:
                return
            if not rec.ip:
                rec.ip = node.ip_allocator().allocate()
            status = running_status(obj, pod_ip=rec.ip, host_ip=node.host_ip, now=self.now())
            await self.client.patch(self.pods, name, {"status": status}, namespace=ns, type="merge",
                                    subresource="status")
            rec.started = True
            self.started += 1
        except ApiError as e:
            if e.code in (404, 409):
                return  # gone, or replaced by a pod of another uid: its own events will follow
            raise
