"""NodeUnschedulable: cordoned nodes refuse pods unless they tolerate the unschedulable taint."""

from __future__ import annotations

import pytest

from kubepy.scheduler.framework.interface import Code, CycleState, Status
from kubepy.scheduler.plugins import nodeunschedulable
from kubepy.testing.scheduler_builders import make_node, make_pod, node_info

REFUSED = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ["node(s) were unschedulable"], "NodeUnschedulable")
KEY = "node.kubernetes.io/unschedulable"

CASES = [
    ("a schedulable node accepts any pod", make_pod().obj(), False, None),
    ("an unschedulable node refuses a pod without tolerations", make_pod().obj(), True, REFUSED),
    ("an Exists toleration of the unschedulable taint lets the pod in",
     make_pod().toleration(KEY, effect="NoSchedule").obj(), True, None),
    ("a toleration of the key with any effect lets the pod in", make_pod().toleration(KEY).obj(), True, None),
    ("a toleration for another effect does not", make_pod().toleration(KEY, effect="NoExecute").obj(), True,
     REFUSED),
    ("a toleration for another key does not", make_pod().toleration("other", effect="NoSchedule").obj(), True,
     REFUSED),
]


@pytest.mark.parametrize("pod,unschedulable,want", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filter(pod, unschedulable, want):
    ni = node_info(make_node().name("n").unschedulable(unschedulable).obj())
    status = nodeunschedulable.new({}, None).filter(CycleState(), pod, ni)
    assert status.ok if want is None else status == want


def test_cordon_changes_arrive_as_taint_updates():
    events = {(e.resource, e.action) for e in nodeunschedulable.new({}, None).events_to_register()}
    assert {("Node", "Add"), ("Node", "UpdateNodeTaint")} <= events
