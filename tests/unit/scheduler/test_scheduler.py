"""The Scheduler's cycle against a fake client: informer events fed by hand, one pod popped
and scheduled, and the API writes it makes (binding, status patch, events) asserted."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from kubepy.client.fake import FakeClient
from kubepy.scheduler import config as c
from kubepy.scheduler.scheduler import Scheduler
from kubepy.testing.scheduler_builders import make_node, make_pod

Obj = dict[str, Any]


def node(name: str, cpu: str = "4", taint: str | None = None) -> Obj:
    b = make_node().name(name).capacity(cpu=cpu, memory="8Gi", pods="110")
    obj = b.obj()
    if taint:
        obj["spec"]["taints"] = [{"key": taint, "effect": "NoSchedule"}]
    return obj


def pod(name: str, cpu: str = "1") -> Obj:
    p = make_pod().name(name).uid(f"{name}-uid").req(cpu=cpu).obj()
    p["spec"]["schedulerName"] = "default-scheduler"
    return p


async def scheduler(*nodes: Obj) -> tuple[Scheduler, FakeClient]:
    client = FakeClient()
    sched = Scheduler(client, c.default_config(), rng=random.Random(0), host="test")  # type: ignore[arg-type]
    for n in nodes:
        sched.node_informer.indexer.add(n)
        sched._on_node_add(n)
    return sched, client


def add_pod(sched: Scheduler, client: FakeClient, p: Obj) -> None:
    client.seed(p)
    sched.pod_informer.indexer.add(p)
    sched._on_pod_add(p)


async def schedule_next(sched: Scheduler) -> None:
    info = await asyncio.wait_for(sched.queue.pop(), 1)
    assert info is not None
    await sched.schedule_one(info)
    await sched.drain()


async def test_a_fitting_pod_is_bound_and_reported() -> None:
    sched, client = await scheduler(node("small", cpu="1"), node("big", cpu="4"))
    add_pod(sched, client, pod("p", cpu="2"))
    await schedule_next(sched)
    bindings = [a for a in client.actions if a.subresource == "binding"]
    assert len(bindings) == 1 and bindings[0].name == "p"
    target = bindings[0].body["target"]
    assert (target["kind"], target["name"]) == ("Node", "big")
    assert sched.cache.is_assumed_pod(pod("p")) and sched.scheduled == 1
    await asyncio.gather(*(r.flush() for r in sched.recorders["default-scheduler"].recorders))
    events = [a.body for a in client.actions if a.resource == "events"]
    assert [(e["reason"], e["message"], e["source"]["component"]) for e in events] == [
        ("Scheduled", "Successfully assigned default/p to big", "default-scheduler")]
    assert events[0]["involvedObject"]["kind"] == "Pod" and events[0]["involvedObject"]["uid"] == "p-uid"
    await sched.stop()


async def test_an_unschedulable_pod_gets_the_condition_and_waits_for_a_node() -> None:
    sched, client = await scheduler(node("small", cpu="1"), node("cp1", taint="node-role.kubernetes.io/control-plane"),
                                    node("cp2", taint="node-role.kubernetes.io/control-plane"))
    add_pod(sched, client, pod("p", cpu="2"))
    await schedule_next(sched)
    patches = [a for a in client.actions if a.verb == "patch" and a.subresource == "status"]
    assert len(patches) == 1
    cond = patches[0].body["status"]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("PodScheduled", "False", "Unschedulable")
    assert cond["message"].startswith(
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: ")
    assert sched.queue.where(pod("p")) == "unschedulable"
    assert not [a for a in client.actions if a.subresource == "binding"]

    # the same failure again writes no second patch (the condition did not change)
    sched.pod_informer.indexer.add(client.get_object("v1", "pods", "default", "p") or {})
    sched.queue.activate([pod("p")])
    await schedule_next(sched)
    assert len([a for a in client.actions if a.verb == "patch" and a.subresource == "status"]) == 1

    # a node that fits arrives: the pod moves back and is bound there
    sched.node_informer.indexer.add(node("new"))
    sched._on_node_add(node("new"))
    assert sched.queue.where(pod("p")) in ("active", "backoff")
    sched.queue.activate([pod("p")])
    await schedule_next(sched)
    bindings = [a for a in client.actions if a.subresource == "binding"]
    assert [b.body["target"]["name"] for b in bindings] == ["new"]
    await sched.stop()


async def test_a_failed_binding_forgets_the_pod_and_requeues_it() -> None:
    sched, client = await scheduler(node("n1"))

    async def refuse(*args: Any, **kw: Any) -> Obj:
        raise RuntimeError("connection refused")

    client.create = refuse  # type: ignore[method-assign]
    add_pod(sched, client, pod("p"))
    await schedule_next(sched)
    assert not sched.cache.is_assumed_pod(pod("p"))
    info = sched.cache.node_info("n1")
    assert info is not None and info.requested.milli_cpu == 0
    assert sched.queue.where(pod("p")) == "backoff"  # an error, not "unschedulable"
    await sched.stop()


async def test_pods_of_other_schedulers_and_bound_pods_are_not_queued() -> None:
    sched, client = await scheduler(node("n1"))
    other = pod("other")
    other["spec"]["schedulerName"] = "someone-else"
    add_pod(sched, client, other)
    bound = pod("bound")
    bound["spec"]["nodeName"] = "n1"
    add_pod(sched, client, bound)
    assert len(sched.queue) == 0
    info = sched.cache.node_info("n1")
    assert info is not None and info.requested.milli_cpu == 1000
    await sched.stop()
