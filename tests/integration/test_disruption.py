"""PodDisruptionBudgets end to end: the real apiserver, the controller-manager running the
disruption, replicaset and deployment controllers, a FakeNode playing the kubelet, and the
real kubectl (``get pdb``, raw evictions and ``drain``)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubepy.client import Client
from kubepy.testing.fake_node import FakeNode
from kubepy.testing.processes import APIServerProcess, ComponentProcess, start_controller_manager

from .conftest import Kubectl, poll

pytestmark = pytest.mark.integration

NODE = "pdb-node"
REFUSED = "Cannot evict pod as it would violate the pod's disruption budget."


class NodeThread:
    """A FakeNode in its own event loop on a thread; binding of new pods can be paused so a
    replacement pod stays Pending for as long as a test needs."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._stop: asyncio.Event | None = None
        self.node: FakeNode | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())
        self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with Client(self.kubeconfig) as client:
            self.node = FakeNode(client, NODE)
            await self.node.start()
            self.ready.set()
            try:
                await self._stop.wait()
            finally:
                await self.node.stop()

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(20), "fake node did not start"

    def bind_new_pods(self, on: bool) -> None:
        def flip() -> None:
            assert self.node is not None
            self.node.bind_unscheduled = on

        self.loop.call_soon_threadsafe(flip)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


@pytest.fixture(scope="module")
def node(apiserver: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeThread]:
    log = tmp_path_factory.mktemp("cm") / "controller-manager.log"
    cm: ComponentProcess = start_controller_manager(apiserver.kubeconfig, log,
                                                    "--controllers=disruption,replicaset,deployment",
                                                    "--leader-elect=false")
    fake = NodeThread(apiserver.kubeconfig)
    try:
        fake.start()
        yield fake
    finally:
        fake.stop()
        cm.stop()


def deployment(name: str, replicas: int) -> str:
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}},
    })


def live_pods(kubectl: Kubectl, ns: str, app: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.json("get", "pods", "-n", ns, "-l", f"app={app}")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in (pod.get("status") or {}).get("conditions") or ())


def status_of(kubectl: Kubectl, ns: str, name: str) -> dict[str, Any]:
    status: dict[str, Any] = kubectl.json("get", "pdb", name, "-n", ns).get("status") or {}
    return status


def evict(kubectl: Kubectl, ns: str, pod: str) -> Any:
    body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": ns}})
    return kubectl.run("create", "--raw", f"/api/v1/namespaces/{ns}/pods/{pod}/eviction", "-f", "-",
                       input=body, check=False)


def test_a_budget_lets_one_pod_go_at_a_time(kubectl: Kubectl, namespace: str, node: NodeThread) -> None:
    ns = namespace
    kubectl("apply", "-n", ns, "-f", "-", input=deployment("web", 3))
    kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s")
    kubectl("create", "pdb", "web", "-n", ns, "--selector=app=web", "--min-available=2")

    def allowed_is(n: int) -> Any:
        status = status_of(kubectl, ns, "web")
        return status if status.get("disruptionsAllowed") == n and status.get("observedGeneration") == 1 else None

    status = poll(lambda: allowed_is(1), timeout=10)
    assert (status["expectedPods"], status["desiredHealthy"], status["currentHealthy"]) == (3, 2, 3)
    [cond] = status["conditions"]
    assert (cond["type"], cond["status"], cond["reason"]) == ("DisruptionAllowed", "True", "SufficientPods")
    header, row = kubectl("get", "pdb", "web", "-n", ns).splitlines()[:2]
    assert header.split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert row.split()[:4] == ["web", "2", "N/A", "1"]

    # replacements stay Pending for now, so the budget cannot recover between the two evictions
    node.bind_new_pods(False)
    first, second = [p["metadata"]["name"] for p in live_pods(kubectl, ns, "web")][:2]
    proc = evict(kubectl, ns, first)
    assert proc.returncode == 0, proc.stderr
    proc = evict(kubectl, ns, second)
    assert proc.returncode != 0
    assert REFUSED in proc.stderr
    assert "429" in proc.stderr or "TooManyRequests" in proc.stderr or "Too Many Requests" in proc.stderr
    poll(lambda: kubectl.run("get", "pod", first, "-n", ns, check=False).returncode != 0, timeout=10)

    # the controller sees 2 healthy pods of the 2 it needs: still nothing allowed
    status = poll(lambda: (s := status_of(kubectl, ns, "web")).get("currentHealthy") == 2 and s, timeout=10)
    assert status["disruptionsAllowed"] == 0
    assert first not in (status.get("disruptedPods") or {}), "the deleted pod left disruptedPods"
    assert [c["reason"] for c in status["conditions"]] == ["InsufficientPods"]
    assert evict(kubectl, ns, second).returncode != 0

    # once the replacement runs and is Ready, the budget allows a disruption again
    node.bind_new_pods(True)
    [pending] = [p["metadata"]["name"] for p in live_pods(kubectl, ns, "web") if not ready(p)]
    kubectl("annotate", "pod", pending, "-n", ns, "test.kubepy.io/nudge=1")  # a pod event for the node
    status = poll(lambda: allowed_is(1), timeout=15)
    assert (status["currentHealthy"], status.get("disruptedPods")) == (3, None)
    proc = evict(kubectl, ns, second)
    assert proc.returncode == 0, proc.stderr

    # clear the node for the drain test (no garbage collector runs here: scale to zero first)
    kubectl("scale", "deployment", "web", "-n", ns, "--replicas=0")
    poll(lambda: not kubectl.json("get", "pods", "-n", ns, "-l", "app=web")["items"], timeout=15)
    kubectl("delete", "pdb", "web", "-n", ns)


def test_drain_evicts_pods_within_their_budget(kubectl: Kubectl, namespace: str, node: NodeThread) -> None:
    ns = namespace
    kubectl("apply", "-n", ns, "-f", "-", input=deployment("batch", 2))
    kubectl("rollout", "status", "deployment/batch", "-n", ns, "--timeout=30s")
    kubectl("create", "pdb", "batch", "-n", ns, "--selector=app=batch", "--max-unavailable=1")
    status = poll(lambda: (s := status_of(kubectl, ns, "batch")).get("disruptionsAllowed") == 1 and s, timeout=10)
    assert (status["expectedPods"], status["desiredHealthy"], status["currentHealthy"]) == (2, 1, 2)
    before = {p["metadata"]["name"] for p in live_pods(kubectl, ns, "batch")}
    try:
        proc = kubectl.run("drain", NODE, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s",
                           timeout=90, check=False)
        assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        assert f"node/{NODE} drained" in proc.stdout
        for name in before:
            assert f"pod/{name} evicted" in proc.stdout
        assert kubectl.json("get", "node", NODE)["spec"].get("unschedulable") is True
        after = {p["metadata"]["name"] for p in live_pods(kubectl, ns, "batch")}
        assert not before & after, "every pod drain listed is gone"
    finally:
        kubectl("uncordon", NODE)
    # the Deployment's replacements come back Ready and the budget allows one disruption again
    poll(lambda: status_of(kubectl, ns, "batch").get("disruptionsAllowed") == 1, timeout=15)
