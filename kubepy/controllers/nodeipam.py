"""The node IPAM controller: a pod CIDR for every node, from the cluster CIDR.

Job: give each Node ``spec.podCIDR`` and ``spec.podCIDRs`` — one ``/node_cidr_mask_size``
block (24 for IPv4, ``node_cidr_mask_size_ipv6`` = 64 for IPv6) of each cluster CIDR in
``cluster_cidr`` (default ``10.244.0.0/16``; a comma-separated IPv4,IPv6 pair for dual
stack) — never the same block to two nodes. A deleted node's blocks are free again. On
start, the blocks nodes already carry are marked used before anything is handed out, so a
restart never hands out a block twice. When a range is full the node gets a
``CIDRNotAvailable`` event and is retried with back-off.

Design: upstream's range allocator (``pkg/controller/nodeipam/ipam/range_allocator.go``)
with its ``cidrset``: per cluster CIDR, a set of used block indexes and a rotating "next
candidate" index, so allocation is O(1) on average and blocks are handed out in order and
reused only after the range wrapped. Blocks are recorded as used before the node is
patched, and released again if the patch fails, so concurrent workers never collide.
Blocks outside the cluster CIDR (set by someone else) are left alone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from kubepy.client import ApiError, DeletedFinalStateUnknown, is_not_found, object_of
from kubepy.controllers.base import Controller
from kubepy.controllers.context import ControllerContext

Obj = dict[str, Any]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class CIDRRangeFull(Exception):
    """No free block is left in a cluster CIDR."""


class CIDRSet:
    """The ``/mask`` blocks of one cluster CIDR, with which are in use."""

    def __init__(self, cluster_cidr: str, mask_size: int) -> None:
        self.network: Network = ipaddress.ip_network(cluster_cidr, strict=False)
        if mask_size < self.network.prefixlen or mask_size > self.network.max_prefixlen:
            raise ValueError(f"node CIDR mask size {mask_size} does not fit cluster CIDR {self.network}")
        if mask_size - self.network.prefixlen > 24:
            raise ValueError(f"node CIDR mask size {mask_size} is too far from the cluster CIDR mask "
                             f"{self.network.prefixlen} (at most 24 bits of difference)")
        self.mask_size = mask_size
        self.max_blocks = 1 << (mask_size - self.network.prefixlen)
        self._block_size = 1 << (self.network.max_prefixlen - mask_size)
        self._used: set[int] = set()
        self._next = 0

    @property
    def used(self) -> int:
        return len(self._used)

    def _block(self, index: int) -> Network:
        start = int(self.network.network_address) + index * self._block_size
        return ipaddress.ip_network((start, self.mask_size))

    def _index(self, cidr: str) -> int | None:
        """The block index of ``cidr``; None when it is not one of this set's blocks."""
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return None
        if net.version != self.network.version or net.prefixlen != self.mask_size or \
                not net.subnet_of(self.network):  # type: ignore[arg-type]
            return None
        return (int(net.network_address) - int(self.network.network_address)) // self._block_size

    def contains(self, cidr: str) -> bool:
        return self._index(cidr) is not None

    def allocate_next(self) -> str:
        if len(self._used) >= self.max_blocks:
            raise CIDRRangeFull(f"CIDR allocation failed; there are no remaining CIDRs left to allocate in "
                                f"the accepted range {self.network}")
        for i in range(self.max_blocks):
            candidate = (self._next + i) % self.max_blocks
            if candidate not in self._used:
                self._used.add(candidate)
                self._next = (candidate + 1) % self.max_blocks
                return str(self._block(candidate))
        raise CIDRRangeFull(f"no remaining CIDRs in {self.network}")  # unreachable: counted above

    def occupy(self, cidr: str) -> bool:
        """Mark ``cidr`` used; False if it is not one of this set's blocks."""
        index = self._index(cidr)
        if index is None:
            return False
        self._used.add(index)
        return True

    def release(self, cidr: str) -> None:
        index = self._index(cidr)
        if index is not None:
            self._used.discard(index)


def parse_cluster_cidrs(cluster_cidr: str, mask_v4: int, mask_v6: int) -> list[CIDRSet]:
    sets: list[CIDRSet] = []
    for part in (p.strip() for p in cluster_cidr.split(",")):
        if not part:
            continue
        net = ipaddress.ip_network(part, strict=False)
        sets.append(CIDRSet(part, mask_v4 if net.version == 4 else mask_v6))
    if not sets:
        raise ValueError("no cluster CIDR configured")
    return sets


def node_pod_cidrs(node: Mapping[str, Any]) -> list[str]:
    spec = node.get("spec") or {}
    cidrs = list(spec.get("podCIDRs") or ())
    if not cidrs and spec.get("podCIDR"):
        cidrs = [spec["podCIDR"]]
    return [str(c) for c in cidrs]


class NodeIPAMController(Controller):
    NAME = "nodeipam"
    WORKERS = 2

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        opts = ctx.options
        self.cidr_sets = parse_cluster_cidrs(
            str(opts.get("cluster_cidr") or "10.244.0.0/16"),
            int(opts.get("node_cidr_mask_size") or 24), int(opts.get("node_cidr_mask_size_ipv6") or 64))
        self.nodes_ref = self.client.resource("v1", "nodes")
        self.nodes = ctx.informers.for_resource("v1", "nodes")
        #: node name -> blocks this controller has recorded for it
        self.allocated: dict[str, list[str]] = {}
        self._restored = False
        self.nodes.add_event_handler(on_add=self._node_added, on_update=self._node_updated,
                                     on_delete=self._node_deleted)

    def informers(self) -> list[Any]:
        return [self.nodes]

    # -- bookkeeping -------------------------------------------------------------------------
    def restore(self) -> None:
        """Mark every block already on a node as used (before the first allocation)."""
        if self._restored:
            return
        self._restored = True
        for node in self.nodes.indexer.list():
            self._occupy(node)

    def _occupy(self, node: Mapping[str, Any]) -> None:
        cidrs = node_pod_cidrs(node)
        if not cidrs:
            return
        name = node["metadata"]["name"]
        if self.allocated.get(name) == cidrs:
            return
        self._release(name)
        for cidr in cidrs:
            for s in self.cidr_sets:
                if s.occupy(cidr):
                    break
        self.allocated[name] = cidrs

    def _release(self, name: str) -> None:
        for cidr in self.allocated.pop(name, ()):
            for s in self.cidr_sets:
                s.release(cidr)

    # -- event handlers ----------------------------------------------------------------------
    def _node_added(self, node: Obj) -> None:
        if self._restored and node_pod_cidrs(node):
            self._occupy(node)
        self.enqueue(node)

    def _node_updated(self, old: Obj, new: Obj) -> None:
        if self._restored and node_pod_cidrs(new):
            self._occupy(new)
        if not node_pod_cidrs(new):
            self.enqueue(new)

    def _node_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self._release(object_of(obj)["metadata"]["name"])

    async def run(self, workers: int | None = None) -> None:
        for inf in self.informers():
            await inf.wait_for_sync()
        self.restore()
        await super().run(workers)

    # -- reconcile ---------------------------------------------------------------------------
    async def sync(self, key: str) -> None:
        self.restore()
        node = self.nodes.indexer.get_by_key(key)
        if node is None:
            self._release(key)
            return
        if node_pod_cidrs(node):
            self._occupy(node)
            return
        if key in self.allocated:
            # we already gave it blocks; the cache has not seen the patch yet
            cidrs = self.allocated[key]
        else:
            cidrs = []
            try:
                for s in self.cidr_sets:
                    cidrs.append(s.allocate_next())
            except CIDRRangeFull:
                for cidr in cidrs:
                    for s in self.cidr_sets:
                        s.release(cidr)
                self.recorder.event({"apiVersion": "v1", "kind": "Node", "metadata": {
                    "name": key, "uid": node["metadata"].get("uid", "")}}, "Normal", "CIDRNotAvailable",
                    f"Node {key} status is now: CIDRNotAvailable")
                raise
            self.allocated[key] = cidrs
        try:
            await self.client.patch(self.nodes_ref, key, {"spec": {"podCIDR": cidrs[0], "podCIDRs": cidrs}},
                                    type="strategic")
        except ApiError as e:
            self._release(key)
            if is_not_found(e):
                return
            self.recorder.event({"apiVersion": "v1", "kind": "Node", "metadata": {
                "name": key, "uid": node["metadata"].get("uid", "")}}, "Normal", "CIDRAssignmentFailed",
                f"Node {key} status is now: CIDRAssignmentFailed")
            raise


def new(ctx: ControllerContext) -> NodeIPAMController:
    return NodeIPAMController(ctx)
