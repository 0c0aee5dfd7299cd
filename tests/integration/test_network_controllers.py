"""Endpoints, EndpointSlice, node lifecycle and node IPAM controllers against a real API server.

One API server and one controller-manager (``endpoints,endpointslice,nodelifecycle,nodeipam``
with a 3 s node-monitor grace period) per module; three FakeNodes run in a background
thread's event loop (kubectl calls block the test's thread). Pods are created already bound
to a node (``spec.nodeName``), and each FakeNode marks its own pods Running and Ready. The
last test stops one node's heartbeat and watches the node go Unknown, get tainted and lose
its pods; two nodes stay alive so the controller does not enter its all-nodes-down
disruption mode.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubepy.client import Client
from kubepy.testing.fake_node import FakeNode
from kubepy.testing.processes import APIServerProcess, ComponentProcess, start_controller_manager
from tests.integration.conftest import Kubectl, poll

pytestmark = pytest.mark.integration

NODES = {"alpha": "10.244.200.0/24", "beta": "10.244.201.0/24", "gamma": "10.244.202.0/24"}
GRACE = 3


class BackgroundNodes:
    """FakeNodes running in one background thread's event loop."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-nodes", daemon=True)
        self.client: Client | None = None
        self.nodes: dict[str, FakeNode] = {}

    def _run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self.thread.start()
        self._run(self._start())

    async def _start(self) -> None:
        self.client = Client(self.kubeconfig)
        for name, cidr in NODES.items():
            node = FakeNode(self.client, name, pod_cidr=cidr, bind_unscheduled=False)
            await node.start()
            self.nodes[name] = node

    def stop_node(self, name: str) -> None:
        node = self.nodes.pop(name, None)
        if node is not None:
            self._run(node.stop())

    async def _stop(self) -> None:
        for node in self.nodes.values():
            await node.stop()
        if self.client is not None:
            await self.client.close()

    def stop(self) -> None:
        try:
            self._run(self._stop(), 15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


@pytest.fixture(scope="module")
def controller_manager(apiserver: APIServerProcess) -> Iterator[ComponentProcess]:
    cm = start_controller_manager(
        apiserver.kubeconfig, apiserver.data_dir / "cm.log",
        "--controllers=endpoints,endpointslice,nodelifecycle,nodeipam", "--leader-elect=false",
        f"--node-monitor-grace-period={GRACE}")
    try:
        yield cm
    finally:
        cm.stop()


@pytest.fixture(scope="module")
def nodes(apiserver: APIServerProcess, controller_manager: ComponentProcess) -> Iterator[BackgroundNodes]:
    bg = BackgroundNodes(apiserver.kubeconfig)
    bg.start()
    try:
        yield bg
    finally:
        bg.stop()


def apply(kubectl: Kubectl, namespace: str, *objs: dict[str, Any]) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input="\n".join(json.dumps(o) for o in objs))


def web_pod(name: str, node: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {"app": "web"}},
            "spec": {"nodeName": node, "containers": [{"name": "web", "image": "nginx", "ports": [
                {"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]}}


def web_service(name: str, *, publish: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"app": "web"},
                            "ports": [{"name": "web", "port": 80, "targetPort": "http", "protocol": "TCP"}]}
    if publish:
        spec["publishNotReadyAddresses"] = True
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def endpoints(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any] | None:
    proc = kubectl.run("get", "endpoints", name, "-n", namespace, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def ips(ep: dict[str, Any] | None, field: str) -> list[str]:
    return sorted(a["ip"] for s in (ep or {}).get("subsets") or () for a in s.get(field) or ())


def pod_ip(kubectl: Kubectl, namespace: str, name: str) -> str:
    return str(kubectl.json("get", "pod", name, "-n", namespace)["status"].get("podIP") or "")


def test_endpoints_follow_pod_readiness(kubectl: Kubectl, namespace: str, nodes: BackgroundNodes) -> None:
    apply(kubectl, namespace, web_service("web"), web_service("web-all", publish=True),
          *(web_pod(f"web-{i}", "alpha") for i in range(3)))
    ep = poll(lambda: (e := endpoints(kubectl, namespace, "web")) and len(ips(e, "addresses")) == 3 and e,
              timeout=15)
    assert [p["port"] for s in ep["subsets"] for p in s["ports"]] == [8080]  # named targetPort resolved
    assert ep["subsets"][0]["addresses"][0]["targetRef"]["kind"] == "Pod"
    assert ep["subsets"][0]["addresses"][0]["nodeName"] == "alpha"
    table = kubectl("get", "endpoints", "web", "-n", namespace)
    assert f"{ips(ep, 'addresses')[0]}:8080" in table

    unready_ip = pod_ip(kubectl, namespace, "web-0")
    kubectl("patch", "pod", "web-0", "-n", namespace, "--subresource=status",
            "-p", json.dumps({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}))
    ep = poll(lambda: (e := endpoints(kubectl, namespace, "web")) and ips(e, "notReadyAddresses") == [unready_ip]
              and e, timeout=10)
    assert len(ips(ep, "addresses")) == 2 and unready_ip not in ips(ep, "addresses")

    # publishNotReadyAddresses keeps the unready pod among the addresses
    ep_all = poll(lambda: (e := endpoints(kubectl, namespace, "web-all")) and len(ips(e, "addresses")) == 3 and e,
                  timeout=10)
    assert unready_ip in ips(ep_all, "addresses") and not ips(ep_all, "notReadyAddresses")

    def slices() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = kubectl.json(
            "get", "endpointslices", "-n", namespace, "-l", "kubernetes.io/service-name=web")["items"]
        return items

    def slice_state() -> dict[str, bool] | None:
        found = slices()
        eps = [e for s in found for e in s.get("endpoints") or ()]
        state = {e["addresses"][0]: e["conditions"]["ready"] for e in eps}
        return state if len(state) == 3 and not state[unready_ip] else None

    state = poll(slice_state, timeout=10)
    assert sum(state.values()) == 2
    [es] = slices()
    assert es["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert es["metadata"]["ownerReferences"][0]["kind"] == "Service"
    assert es["addressType"] == "IPv4" and es["ports"][0]["port"] == 8080


def test_nodes_get_distinct_pod_cidrs(kubectl: Kubectl, nodes: BackgroundNodes) -> None:
    def cidrs() -> dict[str, str] | None:
        items = kubectl.json("get", "nodes")["items"]
        got = {n["metadata"]["name"]: n["spec"].get("podCIDR") for n in items}
        return got if all(got.get(name) for name in NODES) else None

    got = poll(cidrs, timeout=10)
    blocks = [got[name] for name in NODES]
    assert len(set(blocks)) == len(blocks)
    for block in blocks:
        net = ipaddress.IPv4Network(block)
        assert net.prefixlen == 24 and net.subnet_of(ipaddress.IPv4Network("10.244.0.0/16"))
    node = kubectl.json("get", "node", "alpha")
    assert node["spec"]["podCIDRs"] == [node["spec"]["podCIDR"]]


def test_a_silent_node_becomes_unknown_tainted_and_loses_its_pods(
        kubectl: Kubectl, namespace: str, nodes: BackgroundNodes) -> None:
    victim = web_pod("victim", "gamma", labels={"app": "victim"})
    # every pod tolerates an unreachable node for 300 s (DefaultTolerationSeconds admission);
    # this one only for 1 s, so the eviction happens within the test
    victim["spec"]["tolerations"] = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                      "effect": "NoExecute", "tolerationSeconds": 1}]
    apply(kubectl, namespace, victim)
    assert {t["key"]: t.get("tolerationSeconds") for t in
            kubectl.json("get", "pod", "victim", "-n", namespace)["spec"]["tolerations"]} == {
        "node.kubernetes.io/unreachable": 1, "node.kubernetes.io/not-ready": 300}
    poll(lambda: kubectl.json("get", "pod", "victim", "-n", namespace)["status"].get("phase") == "Running",
         timeout=10)
    nodes.stop_node("gamma")

    def unknown() -> dict[str, Any] | None:
        node: dict[str, Any] = kubectl.json("get", "node", "gamma")
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        taints = {(t["key"], t["effect"]) for t in node["spec"].get("taints") or ()}
        if ready["status"] == "Unknown" and ("node.kubernetes.io/unreachable", "NoExecute") in taints:
            return node
        return None

    node = poll(unknown, timeout=GRACE + 12)
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "NodeStatusUnknown"
    assert ready["message"] == "Kubelet stopped posting node status."
    assert ("node.kubernetes.io/unreachable", "NoSchedule") in {
        (t["key"], t["effect"]) for t in node["spec"]["taints"]}

    def evicted() -> dict[str, Any] | bool | None:
        proc = kubectl.run("get", "pod", "victim", "-n", namespace, "-o", "json", check=False)
        if proc.returncode != 0:
            return True  # already gone
        pod: dict[str, Any] = json.loads(proc.stdout)
        return pod if pod["metadata"].get("deletionTimestamp") else None

    pod = poll(evicted, timeout=10)
    if isinstance(pod, dict):
        conditions = {c["type"]: c for c in pod["status"]["conditions"]}
        assert conditions["DisruptionTarget"]["reason"] == "DeletionByTaintManager"
        assert conditions["Ready"]["status"] == "False"
    events = kubectl.json("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=victim")
    assert "TaintManagerEviction" in {e["reason"] for e in events["items"]}

    # the live nodes are untouched
    for name in ("alpha", "beta"):
        live = kubectl.json("get", "node", name)
        assert next(c for c in live["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
        assert not live["spec"].get("taints")
