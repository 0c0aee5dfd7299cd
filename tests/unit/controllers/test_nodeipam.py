"""The node IPAM controller: distinct pod CIDRs, restore on start, release on delete, full ranges."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import InformerFactory
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.nodeipam import CIDRRangeFull, CIDRSet, NodeIPAMController
from tests.unit.controllers.test_endpoints import Recorder


def node(name: str, cidr: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if cidr:
        spec = {"podCIDR": cidr, "podCIDRs": [cidr]}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "uid": f"uid-{name}"}, "spec": spec}


def make(*nodes: dict[str, Any], **options: Any) -> tuple[NodeIPAMController, FakeClient, Recorder]:
    fake = FakeClient()
    rec = Recorder()
    ctl = NodeIPAMController(ControllerContext(client=fake, informers=InformerFactory(fake),  # type: ignore[arg-type]
                                               recorder=rec, options=options))  # type: ignore[arg-type]
    for n in nodes:
        ctl.nodes.indexer.add(fake.seed(n))
    return ctl, fake, rec


def cidr_of(fake: FakeClient, name: str) -> tuple[Any, Any]:
    obj = fake.get_object("v1", "nodes", "", name)
    assert obj is not None
    return obj["spec"].get("podCIDR"), obj["spec"].get("podCIDRs")


async def test_nodes_get_distinct_blocks_in_order() -> None:
    ctl, fake, _ = make(node("a"), node("b"))
    await ctl.sync("a")
    await ctl.sync("b")
    assert cidr_of(fake, "a") == ("10.244.0.0/24", ["10.244.0.0/24"])
    assert cidr_of(fake, "b") == ("10.244.1.0/24", ["10.244.1.0/24"])


async def test_blocks_already_on_nodes_are_restored_before_allocating() -> None:
    ctl, fake, _ = make(node("old", "10.244.0.0/24"), node("new"))
    await ctl.sync("new")
    assert cidr_of(fake, "new")[0] == "10.244.1.0/24"
    assert fake.writes("patch", "nodes")[0].name == "new"


async def test_a_node_with_a_block_is_not_patched() -> None:
    ctl, fake, _ = make(node("a", "10.244.7.0/24"))
    await ctl.sync("a")
    assert fake.actions == []


async def test_a_deleted_nodes_block_is_reused_after_the_range_wraps() -> None:
    ctl, fake, _ = make(node("a"), node("b"), cluster_cidr="10.0.0.0/23", node_cidr_mask_size=24)
    await ctl.sync("a")
    await ctl.sync("b")
    gone = fake.get_object("v1", "nodes", "", "a")
    assert gone is not None
    ctl.nodes.indexer.delete(gone)
    ctl._node_deleted(gone)
    ctl.nodes.indexer.add(fake.seed(node("c")))
    await ctl.sync("c")
    assert cidr_of(fake, "c")[0] == "10.0.0.0/24"


async def test_a_full_range_records_cidr_not_available_and_retries() -> None:
    ctl, fake, rec = make(node("a"), node("b"), cluster_cidr="10.0.0.0/24", node_cidr_mask_size=24)
    await ctl.sync("a")
    with pytest.raises(CIDRRangeFull):
        await ctl.sync("b")
    assert ("b", "Normal", "CIDRNotAvailable", "Node b status is now: CIDRNotAvailable") in rec.events
    assert cidr_of(fake, "b") == (None, None)


async def test_dual_stack_gives_one_block_per_family() -> None:
    ctl, fake, _ = make(node("a"), cluster_cidr="10.244.0.0/16,fd00:10:244::/56")
    await ctl.sync("a")
    assert cidr_of(fake, "a") == ("10.244.0.0/24", ["10.244.0.0/24", "fd00:10:244::/64"])


async def test_a_repeated_sync_before_the_cache_catches_up_patches_the_same_block() -> None:
    ctl, fake, _ = make(node("a"))
    await ctl.sync("a")
    await ctl.sync("a")
    patches = fake.writes("patch", "nodes")
    assert [p.body["spec"]["podCIDR"] for p in patches] == ["10.244.0.0/24", "10.244.0.0/24"]


@pytest.mark.parametrize("cidr, expected", [
    ("10.244.3.0/24", True), ("10.245.0.0/24", False), ("10.244.3.0/25", False), ("fd00::/64", False),
], ids=["a block of the range is contained", "a block outside the range is not", "a block of another size is not",
        "a block of another family is not"])
def test_cidr_set_contains(cidr: str, expected: bool) -> None:
    assert CIDRSet("10.244.0.0/16", 24).contains(cidr) is expected


def test_cidr_set_rejects_a_mask_smaller_than_the_range() -> None:
    with pytest.raises(ValueError):
        CIDRSet("10.244.0.0/16", 8)
