"""Preemption end to end: the real apiserver, ``kubepy scheduler`` and a FakeNode playing the
kubelet. A node full of low-priority pods receives a high-priority pod: the scheduler evicts
the fewest low-priority pods that make room (marking them with the DisruptionTarget
condition and a Preempted event), and binds the high-priority pod once they are gone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from kubepy.client import Client
from kubepy.testing import processes
from kubepy.testing.fake_node import FakeNode
from kubepy.testing.processes import APIServerProcess, ComponentProcess

start_scheduler: Callable[..., ComponentProcess] | None = getattr(processes, "start_scheduler", None)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(start_scheduler is None,
                       reason="kubepy.testing.processes has no start_scheduler yet (it comes with the scheduler core)"),
]

NODE = "preempt-node"
NS = "default"
Obj = dict[str, Any]


@pytest.fixture(scope="module")
def scheduler(apiserver: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComponentProcess]:
    assert start_scheduler is not None
    proc = start_scheduler(apiserver.kubeconfig, tmp_path_factory.mktemp("scheduler") / "scheduler.log")
    try:
        yield proc
    finally:
        proc.stop()


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last!r})")


def busy_pod(name: str, priority_class: str, cpu: str) -> Obj:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"test": "preemption"}},
        "spec": {
            "priorityClassName": priority_class,
            "terminationGracePeriodSeconds": 5,
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                            "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}],
        },
    }


async def test_a_high_priority_pod_preempts_the_fewest_low_priority_pods(
    apiserver: APIServerProcess, scheduler: ComponentProcess
) -> None:
    async with Client(apiserver.kubeconfig) as client:
        pods = client.resource("v1", "pods")
        classes = client.resource("scheduling.k8s.io/v1", "priorityclasses")
        events = client.resource("v1", "events")
        for name, value in (("preempt-low", 100), ("preempt-high", 1000)):
            await client.create(classes, {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                          "metadata": {"name": name}, "value": value})
        # the node has 4 cpus and binds nothing itself: the scheduler places every pod
        async with FakeNode(client, NODE, bind_unscheduled=False):
            for i in range(4):
                await client.create(pods, busy_pod(f"low-{i}", "preempt-low", "1"), namespace=NS)

            async def all_low_running() -> bool:
                items = (await client.list(pods, namespace=NS, label_selector="test=preemption"))["items"]
                return len(items) == 4 and all(
                    p["spec"].get("nodeName") == NODE and p["status"].get("phase") == "Running" for p in items)

            await eventually(all_low_running, "the low-priority pods fill the node")

            await client.create(pods, busy_pod("high", "preempt-high", "2"), namespace=NS)

            async def high_bound() -> bool:
                high = await client.get(pods, "high", namespace=NS)
                return bool(high["spec"].get("nodeName") == NODE)

            await eventually(high_bound, "the high-priority pod is bound after preemption", timeout=60)

            items = (await client.list(pods, namespace=NS, label_selector="test=preemption"))["items"]
            survivors = sorted(p["metadata"]["name"] for p in items
                               if p["metadata"]["name"].startswith("low-") and not p["metadata"].get("deletionTimestamp"))
            assert len(survivors) == 2, f"exactly two 1-cpu pods make room for 2 cpus, left: {survivors}"
            preempted = {f"low-{i}" for i in range(4)} - set(survivors)

            async def every_victim_has_its_event() -> bool:
                evs = (await client.list(events, namespace=NS))["items"]
                reported = {e["involvedObject"]["name"] for e in evs
                            if e.get("reason") == "Preempted"
                            and f"on node {NODE}" in (e.get("message") or e.get("note") or "")}
                return preempted <= reported

            await eventually(every_victim_has_its_event, "a Preempted event per victim")
