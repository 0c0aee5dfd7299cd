"""NodeName: a pod naming a node fits only that node."""

from __future__ import annotations

import pytest

from kubepy.scheduler.framework.interface import Code, CycleState, Status
from kubepy.scheduler.plugins import nodename
from kubepy.testing.scheduler_builders import make_node, make_pod, node_info

REFUSED = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ["node(s) didn't match the requested node name"], "NodeName")


@pytest.mark.parametrize("pod,want", [
    (make_pod().obj(), None),
    (make_pod().node("foo").obj(), None),
    (make_pod().node("bar").obj(), REFUSED),
], ids=["a pod naming no node fits any node", "a pod naming this node fits", "a pod naming another node does not"])
def test_filter(pod, want):
    status = nodename.new({}, None).filter(CycleState(), pod, node_info(make_node().name("foo").obj()))
    assert status.ok if want is None else status == want


def test_fits():
    assert nodename.fits(make_pod().node("a").obj(), "a")
    assert not nodename.fits(make_pod().node("a").obj(), "b")
    assert ("Node", "Add") in {(e.resource, e.action) for e in nodename.new({}, None).events_to_register()}
