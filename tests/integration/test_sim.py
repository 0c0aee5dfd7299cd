"""``kubepy sim`` against a real API server: Ready nodes with leases, pods it runs and removes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubepy.client import ApiError, Client
from kubepy.testing.processes import APIServerProcess, ComponentProcess, start_component

pytestmark = pytest.mark.integration

NODES = 20


@pytest.fixture(scope="module")
def sim(apiserver: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComponentProcess]:
    log = tmp_path_factory.mktemp("sim") / "sim.log"
    handle = start_component(
        "sim", ["--kubeconfig", str(apiserver.kubeconfig), "--nodes", str(NODES), "--lease-interval", "1",
                "--labels", "tier=sim", "--taints", "sim=yes:PreferNoSchedule"],
        log, ready_marker=f"sim started: {NODES} nodes")
    try:
        yield handle
    finally:
        handle.stop()


async def _poll(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {timeout}s (last: {result!r})")
        await asyncio.sleep(0.05)


async def test_nodes_are_ready_with_labels_taints_and_renewed_leases(apiserver: APIServerProcess,
                                                                     sim: ComponentProcess) -> None:
    async with Client(apiserver.kubeconfig) as c:
        nodes = (await c.list(c.resource("v1", "nodes"), label_selector="tier=sim"))["items"]
        assert sorted(n["metadata"]["name"] for n in nodes) == sorted(f"sim-node-{i}" for i in range(NODES))
        for n in nodes:
            ready = [x for x in n["status"]["conditions"] if x["type"] == "Ready"]
            assert ready and ready[0]["status"] == "True"
            assert n["status"]["allocatable"]["cpu"] == "32"
            assert n["spec"]["taints"] == [{"key": "sim", "value": "yes", "effect": "PreferNoSchedule"}]
        zones = {n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes}
        assert zones == {"zone-0", "zone-1", "zone-2"}

        leases = c.resource("coordination.k8s.io/v1", "leases")
        first = {x["metadata"]["name"]: x["spec"]["renewTime"]
                 for x in (await c.list(leases, namespace="kube-node-lease"))["items"]}
        assert set(first) >= {f"sim-node-{i}" for i in range(NODES)}

        async def renewed() -> bool:
            now = {x["metadata"]["name"]: x["spec"]["renewTime"]
                   for x in (await c.list(leases, namespace="kube-node-lease"))["items"]}
            return all(now[f"sim-node-{i}"] > first[f"sim-node-{i}"] for i in range(NODES))

        await _poll(renewed, timeout=5)


async def test_bound_pod_runs_with_an_ip_and_deletion_removes_it(apiserver: APIServerProcess,
                                                                 sim: ComponentProcess) -> None:
    async with Client(apiserver.kubeconfig) as c:
        pods = c.resource("v1", "pods")
        await c.create(pods, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "simpod", "namespace": "default"},
                              "spec": {"containers": [{"name": "app", "image": "nginx"}],
                                       "automountServiceAccountToken": False}}, namespace="default")
        await c.create(pods, {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "simpod"},
                              "target": {"apiVersion": "v1", "kind": "Node", "name": "sim-node-3"}},
                       namespace="default", subresource="binding", name="simpod")

        async def running() -> dict | None:  # type: ignore[type-arg]
            p = await c.get(pods, "simpod", namespace="default")
            return p if p["status"].get("phase") == "Running" else None

        p = await _poll(running)
        status = p["status"]
        assert {x["type"]: x["status"] for x in status["conditions"]}["Ready"] == "True"
        assert status["podIP"].startswith("10.244.3.")  # node 3's block (no node IPAM running)
        assert status["hostIP"] == "172.16.0.4"
        assert status["containerStatuses"][0]["name"] == "app" and status["containerStatuses"][0]["ready"] is True
        assert status["startTime"]

        deleting = await c.delete(pods, "simpod", namespace="default")
        # graceful: the server only marks it; the sim (as the kubelet) makes the final delete
        assert deleting["metadata"].get("deletionTimestamp")

        async def gone() -> bool:
            try:
                await c.get(pods, "simpod", namespace="default")
            except ApiError as e:
                return e.code == 404
            return False

        await _poll(gone)
        assert "Traceback" not in sim.log()
