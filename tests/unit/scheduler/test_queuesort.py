"""PrioritySort: higher priority first, then the earlier queue timestamp."""

from __future__ import annotations

import pytest

from kubepy.scheduler.framework.interface import QueuedPodInfo
from kubepy.scheduler.plugins import queuesort
from kubepy.testing.scheduler_builders import make_pod


def _info(priority, ts):
    b = make_pod().name(f"p{priority}-{ts}")
    if priority is not None:
        b.priority(priority)
    return QueuedPodInfo(pod=b.obj(), timestamp=ts)


@pytest.mark.parametrize("a,b,expected", [
    (_info(100, 2.0), _info(50, 1.0), True),
    (_info(50, 1.0), _info(100, 2.0), False),
    (_info(10, 1.0), _info(10, 2.0), True),
    (_info(10, 2.0), _info(10, 1.0), False),
    (_info(10, 1.0), _info(10, 1.0), False),
    (_info(None, 1.0), _info(-1, 0.0), True),
    (_info(None, 1.0), _info(0, 2.0), True),
], ids=["higher priority goes first even if it came later", "lower priority goes after",
        "equal priority: the earlier one goes first", "equal priority: the later one goes after",
        "identical keys are not less", "no priority counts as zero, above negative",
        "no priority equals zero, then by time"])
def test_less(a, b, expected):
    assert queuesort.new({}, None).less(a, b) is expected


def test_sorting_a_queue():
    import functools
    plugin = queuesort.new({}, None)
    infos = [_info(0, 3.0), _info(5, 4.0), _info(0, 1.0), _info(5, 2.0)]
    ordered = sorted(infos, key=functools.cmp_to_key(lambda x, y: -1 if plugin.less(x, y) else
                                                     (1 if plugin.less(y, x) else 0)))
    assert [(queuesort.pod_priority(i.pod), i.timestamp) for i in ordered] == [(5, 2.0), (5, 4.0), (0, 1.0), (0, 3.0)]
    assert plugin.NAME == "PrioritySort"
