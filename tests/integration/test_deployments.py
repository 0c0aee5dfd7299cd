"""Deployments, ReplicaSets and ReplicationControllers end to end: the real apiserver, the
controller-manager (replicaset, replicationcontroller, deployment), a FakeNode that plays
the kubelet, and the real kubectl for rollout status/history/undo/restart, pause/resume
and scale."""

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


class NodeThread:
    """A FakeNode running in its own event loop on a thread (the tests themselves are sync)."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())
        self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with Client(self.kubeconfig) as client:
            node = FakeNode(client, "fake-node")
            await node.start()
            self.ready.set()
            try:
                await self._stop.wait()
            finally:
                await node.stop()

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(20), "fake node did not start"

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


@pytest.fixture(scope="module")
def cluster(apiserver: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComponentProcess]:
    log = tmp_path_factory.mktemp("cm") / "controller-manager.log"
    cm = start_controller_manager(apiserver.kubeconfig, log,
                                  "--controllers=replicaset,replicationcontroller,deployment",
                                  "--leader-elect=false")
    node = NodeThread(apiserver.kubeconfig)
    node.start()
    try:
        yield cm
    finally:
        node.stop()
        cm.stop()


@pytest.fixture(scope="module")
def ns(kubectl: Kubectl, namespace: str, cluster: ComponentProcess) -> str:
    return namespace


def deployment(name: str, replicas: int, image: str = "nginx:1.25", *, strategy: dict[str, Any] | None = None) -> str:
    obj = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "strategy": strategy or {"type": "RollingUpdate",
                                          "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": image}]}}},
    }
    return json.dumps(obj)


def pods_of(kubectl: Kubectl, ns: str, app: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.json("get", "pods", "-n", ns, "-l", f"app={app}")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def rollout_status(kubectl: Kubectl, ns: str, name: str, timeout: str = "30s") -> str:
    return kubectl("rollout", "status", f"deployment/{name}", "-n", ns, f"--timeout={timeout}")


def test_a_deployment_rolls_out_and_rollout_status_succeeds(kubectl: Kubectl, ns: str) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=deployment("web", 3))
    out = rollout_status(kubectl, ns, "web")
    assert 'deployment "web" successfully rolled out' in out
    d = kubectl.json("get", "deployment", "web", "-n", ns)
    assert d["status"]["availableReplicas"] == 3
    conds = {c["type"]: c["reason"] for c in d["status"]["conditions"]}
    assert conds == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    rs = kubectl.json("get", "rs", "-n", ns, "-l", "app=web")["items"]
    assert len(rs) == 1
    hash_ = rs[0]["metadata"]["labels"]["pod-template-hash"]
    assert rs[0]["metadata"]["name"] == f"web-{hash_}"
    assert rs[0]["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "3"
    table = kubectl("get", "rs", "-n", ns, "-l", "app=web")
    assert table.split("\n")[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert table.split("\n")[1].split()[1:4] == ["3", "3", "3"]
    events = kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=web")
    assert f"Scaled up replica set web-{hash_} from 0 to 3" in events


def test_scaling_up_never_overshoots_and_down_removes_pods(kubectl: Kubectl, ns: str) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=deployment("scale", 0))
    seen_max = 0

    async def watch_max(stop: threading.Event) -> None:
        nonlocal seen_max
        async with Client(kubectl.kubeconfig) as c:
            ref = c.resource("v1", "pods")
            while not stop.is_set():
                items, _ = await c.list_all(ref, namespace=ns, label_selector="app=scale")
                seen_max = max(seen_max, len(items))
                await asyncio.sleep(0.02)

    stop = threading.Event()
    watcher = threading.Thread(target=lambda: asyncio.run(watch_max(stop)), daemon=True)
    watcher.start()
    try:
        kubectl("scale", "-n", ns, "deployment/scale", "--replicas=20")
        rollout_status(kubectl, ns, "scale")
        poll(lambda: len(pods_of(kubectl, ns, "scale")) == 20, timeout=10)
    finally:
        stop.set()
        watcher.join(5)
    assert seen_max <= 20 + 5  # maxSurge 25% of 20
    assert len(pods_of(kubectl, ns, "scale")) == 20
    kubectl("scale", "-n", ns, "deployment/scale", "--replicas=4")
    poll(lambda: len(pods_of(kubectl, ns, "scale")) == 4, timeout=15)
    rollout_status(kubectl, ns, "scale")
    assert kubectl.json("get", "deployment", "scale", "-n", ns)["status"]["replicas"] == 4


def test_image_change_history_undo_and_restart(kubectl: Kubectl, ns: str) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=deployment("hist", 3, "nginx:1.25"))
    rollout_status(kubectl, ns, "hist")
    kubectl("set", "image", "-n", ns, "deployment/hist", "c=nginx:1.26")
    rollout_status(kubectl, ns, "hist")
    rss = kubectl.json("get", "rs", "-n", ns, "-l", "app=hist")["items"]
    assert len(rss) == 2
    by_rev = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r for r in rss}
    assert by_rev["2"]["spec"]["replicas"] == 3 and by_rev["1"]["spec"]["replicas"] == 0
    history = kubectl("rollout", "history", "-n", ns, "deployment/hist")
    assert [line.split()[0] for line in history.strip().split("\n")[2:]] == ["1", "2"]
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.26" for p in pods_of(kubectl, ns, "hist"))

    kubectl("rollout", "undo", "-n", ns, "deployment/hist")
    rollout_status(kubectl, ns, "hist")
    rss = kubectl.json("get", "rs", "-n", ns, "-l", "app=hist")["items"]
    first = next(r for r in rss if r["metadata"]["name"] == by_rev["1"]["metadata"]["name"])
    assert first["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert first["spec"]["replicas"] == 3
    history = kubectl("rollout", "history", "-n", ns, "deployment/hist")
    assert [line.split()[0] for line in history.strip().split("\n")[2:]] == ["2", "3"]
    poll(lambda: all(p["spec"]["containers"][0]["image"] == "nginx:1.25" for p in pods_of(kubectl, ns, "hist"))
         and len(pods_of(kubectl, ns, "hist")) == 3, timeout=15)

    kubectl("rollout", "restart", "-n", ns, "deployment/hist")
    rollout_status(kubectl, ns, "hist")
    rss = kubectl.json("get", "rs", "-n", ns, "-l", "app=hist")["items"]
    assert len(rss) == 3
    newest = max(rss, key=lambda r: int(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))
    assert "kubectl.kubernetes.io/restartedAt" in newest["spec"]["template"]["metadata"]["annotations"]
    assert newest["spec"]["replicas"] == 3


def test_paused_deployments_scale_but_do_not_roll_out(kubectl: Kubectl, ns: str) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=deployment("pause", 2))
    rollout_status(kubectl, ns, "pause")
    kubectl("rollout", "pause", "-n", ns, "deployment/pause")
    kubectl("set", "image", "-n", ns, "deployment/pause", "c=nginx:9")
    kubectl("scale", "-n", ns, "deployment/pause", "--replicas=3")
    poll(lambda: len(pods_of(kubectl, ns, "pause")) == 3, timeout=10)
    assert len(kubectl.json("get", "rs", "-n", ns, "-l", "app=pause")["items"]) == 1
    cond = poll(lambda: next((c for c in kubectl.json("get", "deployment", "pause", "-n", ns)["status"]
                              .get("conditions", []) if c["type"] == "Progressing"
                              and c["reason"] == "DeploymentPaused"), None), timeout=10)
    assert cond["status"] == "Unknown"
    kubectl("rollout", "resume", "-n", ns, "deployment/pause")
    rollout_status(kubectl, ns, "pause")
    assert all(p["spec"]["containers"][0]["image"] == "nginx:9" for p in pods_of(kubectl, ns, "pause"))


def test_recreate_strategy_replaces_all_pods(kubectl: Kubectl, ns: str) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=deployment("rec", 3, strategy={"type": "Recreate"}))
    rollout_status(kubectl, ns, "rec")
    old = {p["metadata"]["name"] for p in pods_of(kubectl, ns, "rec")}
    kubectl("set", "image", "-n", ns, "deployment/rec", "c=nginx:2")
    rollout_status(kubectl, ns, "rec")
    new = pods_of(kubectl, ns, "rec")
    assert len(new) == 3 and not old & {p["metadata"]["name"] for p in new}
    events = kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=rec",
                     "--sort-by=.metadata.creationTimestamp")
    down = events.index("Scaled down replica set")
    up_new = events.rindex("Scaled up replica set")
    assert down < up_new


def test_a_replication_controller_scales(kubectl: Kubectl, ns: str) -> None:
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy"},
          "spec": {"replicas": 2, "selector": {"app": "legacy"},
                   "template": {"metadata": {"labels": {"app": "legacy"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(rc))
    poll(lambda: len(pods_of(kubectl, ns, "legacy")) == 2, timeout=10)
    kubectl("scale", "-n", ns, "rc/legacy", "--replicas=4")
    poll(lambda: kubectl.json("get", "rc", "legacy", "-n", ns)["status"].get("readyReplicas") == 4, timeout=10)
    kubectl("scale", "-n", ns, "rc/legacy", "--replicas=1")
    poll(lambda: len(pods_of(kubectl, ns, "legacy")) == 1, timeout=10)
