"""``Simulator``: N simulated nodes in one process (what ``kubepy sim`` runs).

Job: register N Nodes (status and all, as a kubelet would), create and keep renewing their
Leases, and play the kubelet for the pods bound to them, until stopped; optionally delete
its nodes and leases when it stops.

Design: three streams of work, none of them per node or per pod at rest:
- registration at start, ``create_concurrency`` requests in flight. The Node is POSTed with
  its status; if the server drops status on create (kubepy's API server does), one status
  PATCH follows. A node that already exists (a restarted simulator) gets its status patched.
- one reflector over nodes whose store keeps only each of our nodes' ``spec.podCIDR`` (so pod
  IPs follow node IPAM when a controller manager runs) — nothing else of the Node is kept;
- one reflector over pods with ``spec.nodeName!=`` feeding ``PodPlayer`` (see pods.py), and
  one ``LeaseRenewer`` task for all leases (see leases.py).
Only the public API is used, so it runs against any API server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from kubepy.client import (
    REAL_CLOCK,
    ApiError,
    Client,
    Clock,
    Reflector,
    ResourceListerWatcher,
    is_already_exists,
)
from kubepy.sim.leases import NODE_LEASE_NAMESPACE, LeaseRenewer
from kubepy.sim.objects import NodeTemplate, build_node, fallback_pod_cidr, node_internal_ip, node_name, node_status
from kubepy.sim.pods import PodPlayer, SimNode

__all__ = ["Simulator"]

log = logging.getLogger(__name__)

Obj = dict[str, Any]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _NodeCIDRs:
    """Reflector store for nodes: records ``spec.podCIDR`` of ours, keeps nothing else."""

    def __init__(self, nodes: dict[str, SimNode]) -> None:
        self.nodes = nodes
        self.synced = asyncio.Event()

    def replace(self, items: list[Obj], resource_version: str) -> None:
        for obj in items:
            self.add(obj)
        self.synced.set()

    def add(self, obj: Obj) -> None:
        node = self.nodes.get(str((obj.get("metadata") or {}).get("name", "")))
        if node is not None:
            node.pod_cidr = str((obj.get("spec") or {}).get("podCIDR") or "")

    update = add

    def delete(self, obj: Obj) -> None:
        node = self.nodes.get(str((obj.get("metadata") or {}).get("name", "")))
        if node is not None:
            node.pod_cidr = ""


class Simulator:
    """``count`` nodes shaped by ``template``; ``await start()``, later ``await stop()``."""

    def __init__(
        self,
        client: Client,
        template: NodeTemplate,
        count: int,
        *,
        lease_interval: float = 10.0,
        lease_duration: int = 40,
        workers: int = 32,
        create_concurrency: int = 64,
        report_interval: float = 30.0,
        clock: Clock = REAL_CLOCK,
        now: Callable[[], str] = _now,
    ) -> None:
        self.client = client
        self.template = template
        self.count = count
        self.clock = clock
        self.now = now
        self.create_concurrency = create_concurrency
        self.report_interval = report_interval
        self.node_ref = client.resource("v1", "nodes")
        self.nodes: dict[str, SimNode] = {}
        for i in range(count):
            name = node_name(template.name_prefix, i)
            self.nodes[name] = SimNode(name=name, index=i, host_ip=node_internal_ip(i),
                                       fallback_cidr=fallback_pod_cidr(i))
        self._names = list(self.nodes)
        self.leases = LeaseRenewer(client, lambda: self._names, interval=lease_interval,
                                   duration_seconds=lease_duration, clock=clock)
        self.pods = PodPlayer(client, self.nodes, workers=workers, clock=clock, now=now)
        self._cidrs = _NodeCIDRs(self.nodes)
        self._tasks: list[asyncio.Task[None]] = []
        self._pod_reflector = Reflector(
            ResourceListerWatcher(client, client.resource("v1", "pods"), field_selector="spec.nodeName!="),
            self.pods, name="sim pods", clock=clock)
        self._node_reflector = Reflector(ResourceListerWatcher(client, self.node_ref), self._cidrs,
                                         name="sim nodes", clock=clock)

    async def start(self) -> None:
        """Register the nodes and leases, then start heartbeats and the pod player."""
        sem = asyncio.Semaphore(self.create_concurrency)

        async def register(node: SimNode) -> None:
            async with sem:
                await self._register(node)

        await asyncio.gather(*(register(n) for n in self.nodes.values()))
        await self.leases.create_all()
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._node_reflector.run(), name="sim node reflector"))
        await self._cidrs.synced.wait()
        self.pods.start()
        self._tasks.append(loop.create_task(self._pod_reflector.run(), name="sim pod reflector"))
        self._tasks.append(loop.create_task(self.leases.run(), name="sim lease renewer"))
        self._tasks.append(loop.create_task(self._report(), name="sim report"))
        while self._pod_reflector.list_count == 0:
            await asyncio.sleep(0.01)

    async def _report(self) -> None:
        while True:
            await self.clock.sleep(self.report_interval)
            p, le = self.pods, self.leases
            log.info("sim: %d pods held, %d started, %d deleted, %d waiting, %d errors; leases %d renewed, %d failed",
                     len(p), p.started, p.deleted, p.backlog, p.errors, le.renewed, le.failed)

    async def _register(self, node: SimNode) -> None:
        obj = build_node(self.template, node.index, self.now())
        try:
            created = await self.client.create(self.node_ref, obj)
        except ApiError as e:
            if not is_already_exists(e):
                raise
            created = {}
        node.pod_cidr = str((created.get("spec") or {}).get("podCIDR") or "")
        if not (created.get("status") or {}).get("conditions"):
            await self.client.patch(self.node_ref, node.name,
                                    {"status": node_status(self.template, node.index, self.now())},
                                    type="merge", subresource="status")

    async def stop(self, *, delete_nodes: bool = False) -> None:
        """Stop all work; with ``delete_nodes`` also delete our nodes and leases."""
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.pods.stop()
        if delete_nodes:
            sem = asyncio.Semaphore(self.create_concurrency)
            lease_ref = self.leases.leases

            async def remove(name: str) -> None:
                async with sem:
                    for ref, ns in ((lease_ref, NODE_LEASE_NAMESPACE), (self.node_ref, None)):
                        with contextlib.suppress(ApiError):  # already gone is fine, and so is a failure
                            await self.client.delete(ref, name, namespace=ns)

            await asyncio.gather(*(remove(n) for n in self._names))
