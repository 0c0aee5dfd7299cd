"""``kubepy scheduler`` end to end: the real API server, the scheduler as a process, nodes
played by FakeNodes (which only run pods bound to them), and the real kubectl.

Three nodes are prepared before the scheduler starts:
  sched-a  2 CPUs, label disk=ssd
  sched-b  4 CPUs, taint dedicated=infra:NoSchedule
  sched-c  4 CPUs, taint node-role.kubernetes.io/control-plane:NoSchedule
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from kubepy.client import Client
from kubepy.testing.fake_node import FakeNode
from kubepy.testing.processes import APIServerProcess, ComponentProcess, start_scheduler

from .conftest import Kubectl, poll

pytestmark = pytest.mark.integration

NODES = ("sched-a", "sched-b", "sched-c")
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"


class Nodes:
    """FakeNodes (no self-binding) on their own event loop in a thread; the tests are sync."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.client: Client | None = None
        self.nodes: list[FakeNode] = []

    def start(self, *names: str) -> None:
        self.thread.start()
        for name in names:
            self.add(name)

    def _call(self, coro: Any) -> Any:
        fut: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(30)

    def add(self, name: str) -> None:
        async def start() -> None:
            if self.client is None:
                self.client = Client(self.kubeconfig)
            node = FakeNode(self.client, name, bind_unscheduled=False, pod_cidr=f"10.244.{len(self.nodes)}.0/24")
            await node.start()
            self.nodes.append(node)
        self._call(start())

    def stop(self) -> None:
        async def stop() -> None:
            for node in self.nodes:
                await node.stop()
            if self.client is not None:
                await self.client.close()
        self._call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def nodes(apiserver: APIServerProcess, kubectl: Kubectl) -> Iterator[Nodes]:
    n = Nodes(apiserver.kubeconfig)
    n.start(*NODES)
    kubectl("patch", "node", "sched-a", "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": {"capacity": {"cpu": "2"}, "allocatable": {"cpu": "2"}}}))
    kubectl("label", "node", "sched-a", "disk=ssd")
    kubectl("taint", "node", "sched-b", "dedicated=infra:NoSchedule")
    kubectl("taint", "node", "sched-c", f"{CONTROL_PLANE_TAINT}:NoSchedule")
    try:
        yield n
    finally:
        n.stop()


@pytest.fixture(scope="module")
def scheduler(apiserver: APIServerProcess, nodes: Nodes,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComponentProcess]:
    log = tmp_path_factory.mktemp("scheduler") / "scheduler.log"
    proc = start_scheduler(apiserver.kubeconfig, log, "--leader-elect=false")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def ns(namespace: str, scheduler: ComponentProcess) -> str:
    return namespace


def pod_manifest(name: str, *, cpu: str = "100m", scheduler_name: str | None = None,
                 node_selector: dict[str, str] | None = None, tolerations: list[dict[str, Any]] | None = None) -> str:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                                            "resources": {"requests": {"cpu": cpu}}}]}
    if scheduler_name:
        spec["schedulerName"] = scheduler_name
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerations:
        spec["tolerations"] = tolerations
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})


def get_pod(kubectl: Kubectl, ns: str, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = kubectl.json("get", "pod", name, "-n", ns)
    return pod


def node_of(kubectl: Kubectl, ns: str, name: str, timeout: float = 10) -> str:
    def bound() -> str:
        return str(get_pod(kubectl, ns, name)["spec"].get("nodeName") or "")
    node: str = poll(bound, timeout=timeout, interval=0.1)
    return node


def running(kubectl: Kubectl, ns: str, name: str) -> bool:
    return bool(get_pod(kubectl, ns, name).get("status", {}).get("phase") == "Running")


@pytest.mark.parametrize(("name", "kw", "allowed"), [
    pytest.param("big", {"cpu": "3", "tolerations": [{"operator": "Exists"}]}, {"sched-b", "sched-c"},
                 id="a pod needing 3 CPUs avoids the 2-CPU node"),
    pytest.param("ssd", {"node_selector": {"disk": "ssd"}}, {"sched-a"},
                 id="a nodeSelector picks the labelled node"),
    pytest.param("infra", {"cpu": "3", "tolerations": [{"key": "dedicated", "value": "infra",
                                                        "effect": "NoSchedule"}]}, {"sched-b"},
                 id="only the node whose taint it tolerates fits"),
    pytest.param("plain", {}, {"sched-a"}, id="without tolerations only the untainted node is left"),
])
def test_pods_land_on_nodes_that_fit(kubectl: Kubectl, ns: str, name: str, kw: dict[str, Any],
                                     allowed: set[str]) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=pod_manifest(name, **kw))
    try:
        node = node_of(kubectl, ns, name)
        assert node in allowed
        poll(lambda: running(kubectl, ns, name), timeout=10, interval=0.1)
        events = poll(lambda: kubectl("get", "events", "-n", ns, "--field-selector",
                                      f"involvedObject.name={name},reason=Scheduled",
                                      "-o", "jsonpath={.items[*].message}"), timeout=10, interval=0.2)
        assert events == f"Successfully assigned {ns}/{name} to {node}"
    finally:  # free the node for the next case
        kubectl("delete", "pod", name, "-n", ns, "--wait=true", "--timeout=20s")


def test_an_unschedulable_pod_says_why_and_is_scheduled_once_a_node_fits(
        kubectl: Kubectl, ns: str, nodes: Nodes) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=pod_manifest("stuck", cpu="3"))

    def condition() -> dict[str, Any] | None:
        for c in get_pod(kubectl, ns, "stuck").get("status", {}).get("conditions") or ():
            if c["type"] == "PodScheduled" and c["status"] == "False":
                return dict(c)
        return None

    cond = poll(condition, timeout=10, interval=0.1)
    expected = ("0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: infra}, "
                f"1 node(s) had untolerated taint {{{CONTROL_PLANE_TAINT}: }}.")
    assert cond["reason"] == "Unschedulable"
    assert cond["message"].startswith(expected + " preemption: 0/3 nodes are available: "), cond["message"]
    described = kubectl("describe", "pod", "stuck", "-n", ns)
    assert "FailedScheduling" in described and expected in described
    assert "default-scheduler" in described

    nodes.add("sched-d")  # a plain 4-CPU node
    assert node_of(kubectl, ns, "stuck", timeout=20) == "sched-d"
    poll(lambda: "Successfully assigned" in kubectl("describe", "pod", "stuck", "-n", ns), timeout=10,
         interval=0.2)


def test_two_schedulers_with_leader_election_never_both_bind(
        apiserver: APIServerProcess, kubectl: Kubectl, ns: str, tmp_path: Path) -> None:
    config = tmp_path / "ha.yaml"
    config.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\n"
        "kind: KubeSchedulerConfiguration\n"
        "profiles:\n"
        "- schedulerName: ha-scheduler\n"
    )
    flags = ["--config", str(config), "--leader-elect=true", "--leader-elect-lease-duration=3",
             "--leader-elect-renew-deadline=2", "--leader-elect-retry-period=0.5"]
    first = start_scheduler(apiserver.kubeconfig, tmp_path / "ha-1.log", *flags, "--identity=ha-1")
    second = start_scheduler(apiserver.kubeconfig, tmp_path / "ha-2.log", *flags, "--identity=ha-2")
    procs = {"ha-1": first, "ha-2": second}
    try:
        def holder() -> str:
            return kubectl("get", "lease", "kube-scheduler", "-n", "kube-system", "--ignore-not-found",
                           "-o", "jsonpath={.spec.holderIdentity}").strip()

        leader = poll(holder, timeout=10, interval=0.2)
        standby = "ha-2" if leader == "ha-1" else "ha-1"
        for i in range(3):
            kubectl("apply", "-n", ns, "-f", "-", input=pod_manifest(f"ha-{i}", scheduler_name="ha-scheduler"))
        for i in range(3):
            node_of(kubectl, ns, f"ha-{i}")
        assert "became leader" in procs[leader].log()
        assert "became leader" not in procs[standby].log()
        assert holder() == leader

        procs[leader].kill()
        assert poll(lambda: holder() == standby, timeout=15, interval=0.2)
        kubectl("apply", "-n", ns, "-f", "-", input=pod_manifest("ha-after", scheduler_name="ha-scheduler"))
        node_of(kubectl, ns, "ha-after", timeout=10)
        assert "became leader" in procs[standby].log()
    finally:
        first.stop()
        second.stop()
