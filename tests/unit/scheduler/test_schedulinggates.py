"""SchedulingGates: PreEnqueue refuses gated pods with upstream's message."""

from __future__ import annotations

import pytest

from kubepy.scheduler.framework.interface import Code
from kubepy.scheduler.plugins import schedulinggates
from kubepy.testing.scheduler_builders import make_pod


@pytest.mark.parametrize("gates,code,message", [
    ([], Code.SUCCESS, ""),
    (["foo"], Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "waiting for scheduling gates: [foo]"),
    (["foo", "bar"], Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "waiting for scheduling gates: [foo bar]"),
], ids=["a pod without gates may enter the queue", "one gate holds the pod back",
        "several gates are listed in order"])
def test_pre_enqueue(gates, code, message):
    status = schedulinggates.new({}, None).pre_enqueue(make_pod().name("p").scheduling_gates(gates).obj())
    assert (status.code, status.message) == (code, message)


def test_removing_the_gates_is_the_event_that_helps():
    events = schedulinggates.new({}, None).events_to_register()
    assert [(e.resource, e.action) for e in events] == [("Pod", "UpdatePodSchedulingGatesEliminated")]
