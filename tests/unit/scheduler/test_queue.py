"""The scheduling queue: activeQ order, back-off, unschedulable pods moved by cluster events
and the 5-minute flush, PreEnqueue gating, updates, deletes and nominations."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubepy.client.clock import FakeClock
from kubepy.scheduler.framework.interface import ClusterEvent, QueuedPodInfo, Status
from kubepy.scheduler.framework.nodeinfo import PodInfo
from kubepy.scheduler.queue import SchedulingQueue, event_matches, is_pod_updated
from kubepy.testing.scheduler_builders import make_pod

Obj = dict[str, Any]
NODE_ADD = ClusterEvent("Node", "Add")
POD_DELETE = ClusterEvent("Pod", "Delete")


def pod(name: str, priority: int = 0, **kw: Any) -> Obj:
    b = make_pod().name(name).uid(f"{name}-uid").priority(priority)
    if kw.get("gates"):
        b = b.scheduling_gates(kw["gates"])
    return b.obj()


def queue(clock: FakeClock, **kw: Any) -> SchedulingQueue:
    events = kw.pop("events", {NODE_ADD: {"NodeResourcesFit"}, POD_DELETE: {"NodeResourcesFit"},
                               ClusterEvent("Node", "UpdateNodeTaint"): {"TaintToleration"}})
    return SchedulingQueue(clock=clock, events_to_plugins=events, **kw)


async def pop_now(q: SchedulingQueue) -> QueuedPodInfo:
    info = await asyncio.wait_for(q.pop(), 1)
    assert info is not None
    return info


async def fail(q: SchedulingQueue, *plugins: str) -> QueuedPodInfo:
    """Pop the head and report it unschedulable by ``plugins`` (none: an error)."""
    info = await pop_now(q)
    info.unschedulable_plugins = set(plugins)
    q.add_unschedulable_if_not_present(info, q.scheduling_cycle)
    return info


async def test_active_q_orders_by_priority_then_arrival() -> None:
    clock = FakeClock()
    q = queue(clock)
    for name, prio in (("low", 0), ("high", 100), ("mid", 10)):
        q.add(pod(name, prio))
        clock.advance(1)
    q.add(pod("high2", 100))
    order = [(await pop_now(q)).key for _ in range(4)]
    assert order == ["default/high", "default/high2", "default/mid", "default/low"]


async def test_a_custom_queue_sort_is_used() -> None:
    clock = FakeClock()
    q = queue(clock, less=lambda a, b: a.pod["metadata"]["name"] < b.pod["metadata"]["name"])
    for name in ("c", "a", "b"):
        q.add(pod(name))
    assert [(await pop_now(q)).pod["metadata"]["name"] for _ in range(3)] == ["a", "b", "c"]


async def test_pop_waits_for_a_pod_and_counts_attempts_and_cycles() -> None:
    clock = FakeClock()
    q = queue(clock)
    waiter = asyncio.ensure_future(q.pop())
    await asyncio.sleep(0)
    assert not waiter.done()
    q.add(pod("a"))
    info = await asyncio.wait_for(waiter, 1)
    assert info is not None and info.attempts == 1 and q.scheduling_cycle == 1
    assert info.initial_attempt_timestamp == clock.monotonic()
    assert q.where(info.pod) == "in-flight"
    q.close()
    assert await q.pop() is None


@pytest.mark.parametrize(("attempts", "seconds"), [
    pytest.param(0, 0.0, id="never tried: no back-off"),
    pytest.param(1, 1.0, id="first failure: 1 s"),
    pytest.param(2, 2.0, id="second: 2 s"),
    pytest.param(3, 4.0, id="third: 4 s"),
    pytest.param(4, 8.0, id="fourth: 8 s"),
    pytest.param(5, 10.0, id="fifth: capped at 10 s"),
    pytest.param(30, 10.0, id="many: still 10 s"),
])
def test_backoff_doubles_up_to_the_cap(attempts: int, seconds: float) -> None:
    q = queue(FakeClock())
    assert q.backoff_duration(QueuedPodInfo(pod=pod("a"), timestamp=0, attempts=attempts)) == seconds


async def test_an_error_sends_the_pod_to_backoff_until_it_has_waited() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add(pod("a"))
    info = await fail(q)  # no rejecting plugin: an error
    assert q.where(info.pod) == "backoff"
    clock.advance(0.5)
    assert q.flush_backoff_completed() == 0
    clock.advance(0.6)
    assert q.flush_backoff_completed() == 1
    assert q.where(info.pod) == "active"
    info = await fail(q)
    assert q.next_backoff_expiry() == clock.monotonic() + 2.0


async def test_unschedulable_pods_move_only_on_events_their_plugins_registered() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add(pod("fit"))
    q.add(pod("taint"))
    fit = await fail(q, "NodeResourcesFit")
    taint = await fail(q, "TaintToleration")
    assert q.unschedulable_keys() == ["default/fit", "default/taint"]
    assert q.move_all_to_active_or_backoff(ClusterEvent("Node", "UpdateNodeLabel")) == 0
    clock.advance(0.2)
    assert q.move_all_to_active_or_backoff(NODE_ADD) == 1
    assert q.where(fit.pod) == "backoff"  # still inside its 1 s back-off
    clock.advance(5)
    assert q.move_all_to_active_or_backoff(ClusterEvent("Node", "Update")) == 1  # generic update matches taint
    assert q.where(taint.pod) == "active"


async def test_a_pod_whose_attempt_overlapped_an_event_goes_to_backoff_not_unschedulable() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add(pod("a"))
    info = await pop_now(q)
    q.move_all_to_active_or_backoff(NODE_ADD)  # a node arrived while "a" was being scheduled
    info.unschedulable_plugins = {"NodeResourcesFit"}
    q.add_unschedulable_if_not_present(info, q.scheduling_cycle)
    assert q.where(info.pod) == "backoff"


async def test_unschedulable_pods_are_flushed_after_five_minutes() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add(pod("a"))
    info = await fail(q, "Whatever")
    clock.advance(299)
    assert q.flush_unschedulable_leftover() == 0
    clock.advance(2)
    assert q.flush_unschedulable_leftover() == 1
    assert q.where(info.pod) == "active"


async def test_scheduling_gates_park_a_pod_until_an_update_removes_them() -> None:
    def gates(p: Obj) -> Status:
        if (p.get("spec") or {}).get("schedulingGates"):
            return Status.unschedulable("waiting for scheduling gates", resolvable=False, plugin="SchedulingGates")
        return Status()

    clock = FakeClock()
    q = queue(clock, pre_enqueue=gates)
    gated = pod("g", gates=["example.com/wait"])
    q.add(gated)
    assert q.where(gated) == "unschedulable"
    assert q.move_all_to_active_or_backoff(NODE_ADD) == 0  # events do not release gated pods
    released = pod("g")
    q.update(gated, released)
    assert q.where(released) == "active"


async def test_status_only_updates_leave_an_unschedulable_pod_where_it_is() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add(pod("a"))
    info = await fail(q, "NodeResourcesFit")
    with_status = {**info.pod, "status": {"conditions": [{"type": "PodScheduled", "status": "False"}]},
                   "metadata": {**info.pod["metadata"], "resourceVersion": "9"}}
    q.update(info.pod, with_status)
    assert q.where(with_status) == "unschedulable"
    assert q.get(with_status) is not None and q.get(with_status).pod is with_status  # type: ignore[union-attr]
    relabelled = {**with_status, "metadata": {**with_status["metadata"], "labels": {"x": "y"}}}
    clock.advance(5)
    q.update(with_status, relabelled)
    assert q.where(relabelled) == "active"


async def test_a_priority_change_resorts_active_q() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add(pod("a", 1))
    q.add(pod("b", 2))
    q.update(pod("a", 1), pod("a", 5))
    assert (await pop_now(q)).key == "default/a"


async def test_delete_removes_the_pod_from_every_queue_and_its_nomination() -> None:
    clock = FakeClock()
    q = queue(clock)
    for name in ("act", "back", "unsched"):
        q.add(pod(name))
    await fail(q)  # "act" -> backoff
    await fail(q, "NodeResourcesFit")  # "back" -> unschedulable
    q.add_nominated_pod(PodInfo.of(pod("unsched")), "n1")
    for name in ("act", "back", "unsched"):
        q.delete(pod(name))
    assert len(q) == 0
    assert q.nominated_pods_for_node("n1") == []


async def test_a_pod_updated_while_in_flight_is_retried_after_backoff() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add(pod("a"))
    info = await pop_now(q)
    q.update(info.pod, {**info.pod, "metadata": {**info.pod["metadata"], "labels": {"new": "1"}}})
    assert q.where(info.pod) == "in-flight"  # not queued twice
    info.unschedulable_plugins = {"NodeResourcesFit"}
    q.add_unschedulable_if_not_present(info, q.scheduling_cycle)
    assert q.where(info.pod) == "backoff"
    assert info.pod["metadata"]["labels"] == {"new": "1"}


async def test_activate_moves_pods_straight_to_active() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add(pod("a"))
    info = await fail(q, "X")
    q.activate([info.pod])
    assert q.where(info.pod) == "active"


async def test_the_background_flush_wakes_when_backoff_ends() -> None:
    clock = FakeClock()
    q = queue(clock)
    runner = asyncio.ensure_future(q.run())
    try:
        q.add(pod("a"))
        info = await fail(q)
        await clock.settle()
        assert q.where(info.pod) == "backoff"
        clock.advance(1.0)
        await clock.settle()
        assert q.where(info.pod) == "active"
    finally:
        q.close()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


def test_nominations_follow_pod_status_and_explicit_nominations() -> None:
    q = queue(FakeClock())
    p = make_pod().name("n").uid("n").nominated_node_name("node-1").obj()
    q.add(p)
    assert [pi.key for pi in q.nominated_pods_for_node("node-1")] == ["default/n"]
    q.add_nominated_pod(PodInfo.of(p), "node-2")
    assert q.nominated_pods_for_node("node-1") == []
    assert [pi.key for pi in q.nominated_pods_for_node("node-2")] == ["default/n"]
    q.add_nominated_pod(PodInfo.of(p), "")
    assert q.nominated_pods_for_node("node-2") == []


@pytest.mark.parametrize(("registered", "event", "matches"), [
    pytest.param(ClusterEvent("Node", "Add"), ClusterEvent("Node", "Add"), True, id="same event"),
    pytest.param(ClusterEvent("Node", "Add"), ClusterEvent("Pod", "Add"), False, id="another resource"),
    pytest.param(ClusterEvent("Node", "Update"), ClusterEvent("Node", "UpdateNodeLabel"), True,
                 id="Update covers every specific node update"),
    pytest.param(ClusterEvent("Node", "UpdateNodeTaint"), ClusterEvent("Node", "UpdateNodeLabel"), False,
                 id="two different specific updates"),
    pytest.param(ClusterEvent("Node", "UpdateNodeTaint"), ClusterEvent("Node", "Update"), True,
                 id="a generic update event reaches specific registrations"),
    pytest.param(ClusterEvent("Pod", "*"), ClusterEvent("Pod", "Delete"), True, id="a wildcard action"),
    pytest.param(ClusterEvent("*", "*"), ClusterEvent("Node", "Add"), True, id="everything"),
])
def test_event_matching(registered: ClusterEvent, event: ClusterEvent, matches: bool) -> None:
    assert event_matches(registered, event) is matches


@pytest.mark.parametrize(("change", "updated"), [
    pytest.param({"status": {"phase": "Pending", "conditions": [{"type": "PodScheduled"}]}}, False,
                 id="a status change is not an update"),
    pytest.param({"metadata": {"name": "a", "namespace": "default", "uid": "a-uid", "resourceVersion": "2"}},
                 False, id="a new resourceVersion is not an update"),
    pytest.param({"metadata": {"name": "a", "namespace": "default", "uid": "a-uid", "labels": {"x": "1"}}},
                 True, id="a label change is"),
    pytest.param({"spec": {"containers": [], "priority": 3}}, True, id="a spec change is"),
])
def test_is_pod_updated(change: Obj, updated: bool) -> None:
    base = pod("a")
    assert is_pod_updated(base, {**base, **change}) is updated


# -- the cluster events the scheduler derives from informer updates -----------------------------

def _node(**changes: Any) -> Obj:
    base: Obj = {"metadata": {"name": "n", "labels": {"a": "1"}}, "spec": {},
                 "status": {"allocatable": {"cpu": "4"},
                            "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "t0"}]}}
    for path, value in changes.items():
        section, key = path.split("__")
        base[section] = {**base[section], key: value}
    return base


@pytest.mark.parametrize(("new", "actions"), [
    pytest.param(_node(status__conditions=[{"type": "Ready", "status": "True", "lastHeartbeatTime": "t1"}]), [],
                 id="a heartbeat is no event"),
    pytest.param(_node(metadata__labels={"a": "2"}), ["UpdateNodeLabel"], id="a label change"),
    pytest.param(_node(spec__taints=[{"key": "k", "effect": "NoSchedule"}]), ["UpdateNodeTaint"], id="a new taint"),
    pytest.param(_node(spec__unschedulable=True), ["UpdateNodeTaint"], id="cordoning counts as a taint change"),
    pytest.param(_node(status__allocatable={"cpu": "8"}), ["UpdateNodeAllocatable"], id="more allocatable"),
    pytest.param(_node(status__conditions=[{"type": "Ready", "status": "False"}]), ["UpdateNodeCondition"],
                 id="a condition flips"),
])
def test_node_update_events(new: Obj, actions: list[str]) -> None:
    from kubepy.scheduler.scheduler import node_update_events

    assert [e.action for e in node_update_events(_node(), new)] == actions
    assert all(e.resource == "Node" for e in node_update_events(_node(), new))


@pytest.mark.parametrize(("old", "new", "actions"), [
    pytest.param(make_pod().name("p").req(cpu="2").obj(), make_pod().name("p").req(cpu="1").obj(),
                 ["UpdatePodScaleDown"], id="a resize down frees resources"),
    pytest.param(make_pod().name("p").req(cpu="1").obj(), make_pod().name("p").req(cpu="2").obj(), [],
                 id="a resize up frees nothing"),
    pytest.param(make_pod().name("p").obj(), make_pod().name("p").label("app", "x").obj(), ["UpdatePodLabel"],
                 id="a label change may satisfy affinity"),
    pytest.param(make_pod().name("p").obj(), make_pod().name("p").phase("Running").obj(), [],
                 id="a status report is no event"),
])
def test_assigned_pod_update_events(old: Obj, new: Obj, actions: list[str]) -> None:
    from kubepy.scheduler.scheduler import pod_update_events

    assert [e.action for e in pod_update_events(old, new)] == actions
