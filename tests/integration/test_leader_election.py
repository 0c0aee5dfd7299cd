"""Leader election of the controller-manager across real processes (issue 3 item 3).

Two ``kubepy controller-manager`` processes (replicaset and deployment controllers) run
against one real apiserver with short election timings (lease 4 s, renew deadline 3 s,
retry 1 s); a FakeNode in the test's event loop plays the kubelet. Checked: only one copy
leads (holds the ``kube-system/kube-controller-manager`` Lease and starts controllers);
after ``kill -9`` of the leader the other copy takes the Lease once it expires and carries
on a scale-up that was made while nobody led, without ever creating a duplicate pod or
ReplicaSet (the pod and ReplicaSet lists are polled every 100 ms through the hand-over);
and a leader stopped with SIGTERM releases the Lease on its way out, so the standby takes
over at once instead of after the lease duration.
"""

from __future__ import annotations

import asyncio
import math
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kubepy.client import ApiError, Client
from kubepy.testing.fake_node import FakeNode
from kubepy.testing.processes import APIServerProcess, ComponentProcess, start_controller_manager

pytestmark = pytest.mark.integration

LEASE_DURATION = 4.0
RENEW_DEADLINE = 3.0
RETRY_PERIOD = 1.0
JITTER = 1.2  # client-go's jitter factor on the retry period of a candidate
BECAME_LEADER = "became leader of lease"

LEASES = Client.resource("coordination.k8s.io/v1", "leases")
PODS = Client.resource("v1", "pods")
REPLICASETS = Client.resource("apps/v1", "replicasets")
DEPLOYMENTS = Client.resource("apps/v1", "deployments")
NAMESPACES = Client.resource("v1", "namespaces")


def start_cm(apiserver: APIServerProcess, log_dir: Path, identity: str) -> ComponentProcess:
    return start_controller_manager(
        apiserver.kubeconfig, log_dir / f"{identity}.log",
        "--controllers=replicaset,deployment", "--leader-elect=true",
        f"--leader-elect-lease-duration={LEASE_DURATION:g}", f"--leader-elect-renew-deadline={RENEW_DEADLINE:g}",
        f"--leader-elect-retry-period={RETRY_PERIOD:g}", f"--identity={identity}",
    )


async def holder(client: Client) -> str:
    """The identity in the controller-manager Lease ("" when released or absent)."""
    try:
        lease = await client.get(LEASES, "kube-controller-manager", namespace="kube-system")
    except ApiError as e:
        if e.code == 404:
            return ""
        raise
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


async def wait_for(check: Callable[[], Awaitable[Any]], *, timeout: float, interval: float = 0.05,
                   what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s (last: {result!r})")
        await asyncio.sleep(interval)


@pytest.fixture
async def client(apiserver: APIServerProcess) -> AsyncIterator[Client]:
    async with Client(apiserver.kubeconfig) as c:
        yield c


@pytest.fixture
async def node(client: Client) -> AsyncIterator[FakeNode]:
    async with FakeNode(client, "le-node") as fake:
        yield fake


def deployment(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]}}},
    }


@dataclass
class PodWatch:
    """Polls the namespace's pods and ReplicaSets every 100 ms and keeps the worst it saw."""

    client: Client
    namespace: str
    deployment_uid: str
    max_pods: int = 0
    polls: int = 0  # looks taken by run()
    foreign: dict[str, str] = field(default_factory=dict)  # pod -> its controller, when not the Deployment's
    replicasets: set[str] = field(default_factory=set)  # names of every ReplicaSet seen

    async def sample(self) -> tuple[int, int]:
        """One look: (pods, of which not terminating)."""
        rs_list = await self.client.list(REPLICASETS, namespace=self.namespace)
        ours: set[str] = set()
        for rs in rs_list.get("items") or []:
            self.replicasets.add(rs["metadata"]["name"])
            for ref in rs["metadata"].get("ownerReferences") or []:
                if ref.get("controller") and ref.get("uid") == self.deployment_uid:
                    ours.add(rs["metadata"]["uid"])
        pods = (await self.client.list(PODS, namespace=self.namespace)).get("items") or []
        for pod in pods:
            owner = next((r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
            if owner is None or owner.get("kind") != "ReplicaSet" or owner.get("uid") not in ours:
                self.foreign[pod["metadata"]["name"]] = f"{owner}"
        self.max_pods = max(self.max_pods, len(pods))
        return len(pods), sum(1 for p in pods if not p["metadata"].get("deletionTimestamp"))

    async def run(self) -> None:
        while True:
            await self.sample()
            self.polls += 1
            await asyncio.sleep(0.1)


async def test_kill_9_of_the_leader_hands_over_without_duplicate_pods(
    apiserver: APIServerProcess, client: Client, node: FakeNode, tmp_path: Path,
) -> None:
    ns = "leader-kill"
    await client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    cms: dict[str, ComponentProcess] = {}
    monitor: asyncio.Task[None] | None = None
    try:
        for identity in ("cm-a", "cm-b"):
            cms[identity] = await asyncio.to_thread(start_cm, apiserver, tmp_path, identity)
        leader = await wait_for(lambda: holder(client), timeout=10, what="a copy takes the Lease")
        assert leader in cms
        other = next(i for i in cms if i != leader)

        dep = await client.create(DEPLOYMENTS, deployment("web", 10), namespace=ns)
        watch = PodWatch(client, ns, dep["metadata"]["uid"])

        async def ten_running() -> bool:
            pods, live = await watch.sample()
            d = await client.get(DEPLOYMENTS, "web", namespace=ns)
            return live == 10 and (d.get("status") or {}).get("availableReplicas") == 10
        await wait_for(ten_running, timeout=15, interval=0.1, what="10 pods of the Deployment running")
        await asyncio.sleep(1.0)  # a second copy acting as well would create more in this time
        pods, live = await watch.sample()
        assert (pods, live) == (10, 10)
        assert await holder(client) == leader
        assert BECAME_LEADER in cms[leader].log()
        assert BECAME_LEADER not in cms[other].log(), "the standby copy claims to lead as well"
        assert "starting controllers" not in cms[other].log(), "the standby copy started its controllers"

        monitor = asyncio.create_task(watch.run())
        killed_at = time.monotonic()
        await asyncio.to_thread(cms[leader].kill)
        await client.patch(DEPLOYMENTS, "web", {"spec": {"replicas": 20}}, namespace=ns)

        # The standby sees the Lease unchanged for its duration (on its own clock, first seen
        # at most one jittered retry after the last renewal), then takes it at its next retry.
        takeover_limit = LEASE_DURATION + 2 * JITTER * RETRY_PERIOD + 0.6
        new_holder = await wait_for(lambda: _holder_other_than(client, leader), timeout=takeover_limit,
                                    what=f"{other} takes the Lease after {leader} was killed")
        took = time.monotonic() - killed_at
        assert new_holder == other
        # ... and not before: the last renewal was at most one retry before the kill
        assert took > LEASE_DURATION - JITTER * RETRY_PERIOD - 0.5, f"the Lease was taken {took:.1f} s after the kill"
        lease = await client.get(LEASES, "kube-controller-manager", namespace="kube-system")
        assert lease["spec"]["leaseTransitions"] >= 1

        async def twenty_running() -> bool:
            _, live = await watch.sample()
            return live == 20
        await wait_for(twenty_running, timeout=15, interval=0.1, what="20 pods after the hand-over")
        await asyncio.sleep(1.0)  # late duplicates would show up here
        pods, live = await watch.sample()
        monitor.cancel()
        watched = time.monotonic() - killed_at

        surge = math.ceil(20 * 0.25)  # the Deployment's default maxSurge of 25 %
        assert (pods, live) == (20, 20)
        assert watch.max_pods <= 20 + surge, f"{watch.max_pods} pods at once during the hand-over"
        assert watch.foreign == {}, f"pods not owned by the Deployment's ReplicaSet: {watch.foreign}"
        assert len(watch.replicasets) == 1, f"ReplicaSets created: {sorted(watch.replicasets)}"
        assert watch.polls >= watched / 0.3, f"only {watch.polls} polls in {watched:.1f} s of hand-over"
        assert BECAME_LEADER in cms[other].log()
    finally:
        if monitor is not None:
            monitor.cancel()
            await asyncio.gather(monitor, return_exceptions=True)
        for cm in cms.values():
            await asyncio.to_thread(cm.stop)


async def _holder_other_than(client: Client, identity: str) -> str:
    current = await holder(client)
    return current if current and current != identity else ""


async def test_sigterm_of_the_leader_releases_the_lease_at_once(
    apiserver: APIServerProcess, client: Client, tmp_path: Path,
) -> None:
    cms: dict[str, ComponentProcess] = {}
    try:
        cms["cm-c"] = await asyncio.to_thread(start_cm, apiserver, tmp_path, "cm-c")
        # a Lease left by an earlier test may still be held: allow for its expiry
        await wait_for(lambda: _is(client, "cm-c"), timeout=LEASE_DURATION + 2 * JITTER * RETRY_PERIOD + 1,
                       what="cm-c takes the Lease")
        cms["cm-d"] = await asyncio.to_thread(start_cm, apiserver, tmp_path, "cm-d")
        await asyncio.sleep(1.5 * RETRY_PERIOD)  # cm-d has seen the Lease held by cm-c
        assert await holder(client) == "cm-c"
        assert BECAME_LEADER not in cms["cm-d"].log()

        sent = time.monotonic()
        cms["cm-c"].proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(cms["cm-c"].proc.wait, 10)
        exited = time.monotonic() - sent
        released = await holder(client)
        # released on the way out: the holder is already empty, or cm-d has taken it
        assert released in ("", "cm-d"), f"after SIGTERM the Lease is still held by {released!r}"
        assert code == 0, cms["cm-c"].log()[-2000:]
        assert "released lease" in cms["cm-c"].log()
        # cm-d takes it at its next retry, far sooner than an expiry would allow
        await wait_for(lambda: _is(client, "cm-d"), timeout=JITTER * RETRY_PERIOD + 0.8,
                       what="cm-d takes the released Lease")
        assert time.monotonic() - sent < LEASE_DURATION - 1, f"hand-over took {time.monotonic() - sent:.1f} s"
        assert exited < LEASE_DURATION
    finally:
        for cm in cms.values():
            await asyncio.to_thread(cm.stop)


async def _is(client: Client, identity: str) -> bool:
    return await holder(client) == identity
