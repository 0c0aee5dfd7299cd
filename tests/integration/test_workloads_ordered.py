"""StatefulSets and DaemonSets end to end: the real apiserver, ``kubepy controller-manager
--controllers=statefulset,daemonset``, FakeNodes playing the kubelets, and the real kubectl.

There is no scheduler yet, so the test binds pods itself: every FakeNode runs with
``bind_unscheduled=False`` (one FakeNode binding any pod to itself would put DaemonSet pods on
the wrong nodes), and a small binder in the node thread binds each pending pod to the node its
``matchFields metadata.name`` affinity names (DaemonSet pods) or to the first node (the rest),
exactly as the default scheduler would for these pods. It can hold named pods back, which lets
the test show that web-1 is not created while web-0 is not Ready. Replace the binder with the
scheduler once it exists.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubepy.client import ApiError, Client, InformerFactory
from kubepy.client.informer import object_of
from kubepy.controllers.daemonset import target_node
from kubepy.testing.fake_node import FakeNode
from kubepy.testing.processes import APIServerProcess, ComponentProcess, start_controller_manager

from .conftest import Kubectl, poll

pytestmark = pytest.mark.integration

NODES = ("node-a", "node-b", "node-c")


class Nodes:
    """FakeNodes plus a test-side binder and a log of pod events, on their own loop and thread."""

    def __init__(self, kubeconfig: Path, names: tuple[str, ...]) -> None:
        self.kubeconfig = kubeconfig
        self.names = names
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.lock = threading.Lock()
        self.hold: set[str] = set()
        self.log: list[tuple[str, str]] = []   # ("created" | "ready" | "deleting", pod name), in watch order
        self._seen: dict[str, set[str]] = {}
        self._binding: set[str] = set()
        self._stop: asyncio.Event | None = None
        self._client: Client | None = None
        self.error: BaseException | None = None

    # -- thread --------------------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as e:  # noqa: BLE001 - reported to the test
            self.error = e
            self.ready.set()
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with Client(self.kubeconfig) as client:
            self._client = client
            nodes = [FakeNode(client, name, bind_unscheduled=False) for name in self.names]
            for node in nodes:
                await node.start()
            informers = InformerFactory(client)
            pods = informers.for_resource("v1", "pods")
            pods.add_event_handler(on_add=self._on_pod, on_update=lambda old, new: self._on_pod(new),
                                   on_delete=lambda obj: None)
            informers.start()
            await informers.wait_for_sync(10)
            self.ready.set()
            try:
                await self._stop.wait()
            finally:
                await informers.stop()
                for node in nodes:
                    await node.stop()

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(30), "fake nodes did not start"
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(15)

    # -- pod events and binding -----------------------------------------------------------------------
    def _record(self, what: str, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        with self.lock:
            seen = self._seen.setdefault(uid, set())
            if what not in seen:
                seen.add(what)
                self.log.append((what, pod["metadata"]["name"]))

    def _on_pod(self, pod: dict[str, Any]) -> None:
        pod = object_of(pod)
        meta, spec = pod["metadata"], pod.get("spec") or {}
        self._record("created", pod)
        if meta.get("deletionTimestamp"):
            self._record("deleting", pod)
            return
        if any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or ()):
            self._record("ready", pod)
        if spec.get("nodeName") or meta["uid"] in self._binding:
            return
        with self.lock:
            if meta["name"] in self.hold:
                return
        self._binding.add(meta["uid"])
        self.loop.create_task(self._bind(pod))

    async def _bind(self, pod: dict[str, Any]) -> None:
        assert self._client is not None
        meta = pod["metadata"]
        node = target_node(pod) or self.names[0]
        try:
            await self._client.create(self._client.resource("v1", "pods"), {
                "apiVersion": "v1", "kind": "Binding", "metadata": {"name": meta["name"], "uid": meta["uid"]},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node},
            }, namespace=meta["namespace"], subresource="binding", name=meta["name"])
        except ApiError as e:
            if e.code not in (404, 409):
                self._binding.discard(meta["uid"])
                raise

    def release(self, namespace: str, name: str) -> None:
        """Stop holding ``name`` back and bind it now."""
        with self.lock:
            self.hold.discard(name)

        async def bind() -> None:
            assert self._client is not None
            pod = await self._client.get(self._client.resource("v1", "pods"), name, namespace=namespace)
            self._on_pod(pod)

        asyncio.run_coroutine_threadsafe(bind(), self.loop).result(10)

    def events(self, what: str) -> list[str]:
        with self.lock:
            return [name for kind, name in self.log if kind == what]

    def index(self, what: str, name: str) -> int:
        with self.lock:
            return self.log.index((what, name))


@pytest.fixture(scope="module")
def nodes(apiserver: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    log = tmp_path_factory.mktemp("cm") / "controller-manager.log"
    cm: ComponentProcess = start_controller_manager(apiserver.kubeconfig, log, "--controllers=statefulset,daemonset",
                                                    "--leader-elect=false")
    harness = Nodes(apiserver.kubeconfig, NODES)
    try:
        harness.start()
        yield harness
    finally:
        harness.stop()
        cm.stop()


def apply(kubectl: Kubectl, ns: str, obj: dict[str, Any]) -> None:
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(obj))


def pods_of(kubectl: Kubectl, ns: str, app: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.json("get", "pods", "-n", ns, "-l", f"app={app}")["items"]
    return items


def statefulset(replicas: int, image: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "c", "image": image}]}}}}


def test_statefulset_comes_up_in_order_scales_down_from_the_top_and_updates_in_reverse(
        kubectl: Kubectl, namespace: str, nodes: Nodes) -> None:
    ns = namespace
    nodes.hold.add("web-0")
    apply(kubectl, ns, statefulset(3, "nginx:1"))

    # web-0 is created and held unbound (Pending): web-1 must not appear meanwhile
    poll(lambda: "web-0" in nodes.events("created"), timeout=15)
    time.sleep(1.0)
    assert [p["metadata"]["name"] for p in pods_of(kubectl, ns, "web")] == ["web-0"]
    nodes.release(ns, "web-0")

    out = kubectl("rollout", "status", "sts/web", "-n", ns, "--timeout=30s", timeout=40)
    assert "roll" in out and "complete" in out, out
    for earlier, later in (("web-0", "web-1"), ("web-1", "web-2")):
        assert nodes.index("ready", earlier) < nodes.index("created", later), nodes.log
    pods = {p["metadata"]["name"]: p for p in pods_of(kubectl, ns, "web")}
    assert sorted(pods) == ["web-0", "web-1", "web-2"]
    assert pods["web-1"]["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "web-1"
    assert pods["web-1"]["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    assert pods["web-1"]["spec"]["hostname"] == "web-1" and pods["web-1"]["spec"]["subdomain"] == "web"
    sts = kubectl.json("get", "sts", "web", "-n", ns)
    assert sts["status"]["readyReplicas"] == 3
    assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"]
    revisions = kubectl.json("get", "controllerrevisions", "-n", ns)["items"]
    assert [r["metadata"]["name"] for r in revisions] == [sts["status"]["updateRevision"]]
    events = kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=web")
    assert "create Pod web-0 in StatefulSet web successful" in events

    # scale down: the highest ordinal goes first
    kubectl("scale", "sts/web", "-n", ns, "--replicas=1")
    poll(lambda: [p["metadata"]["name"] for p in pods_of(kubectl, ns, "web")] == ["web-0"], timeout=20)
    assert [n for n in nodes.events("deleting") if n in ("web-1", "web-2")] == ["web-2", "web-1"]

    # back to three, then an image change rolls from the highest ordinal down
    kubectl("scale", "sts/web", "-n", ns, "--replicas=3")
    kubectl("rollout", "status", "sts/web", "-n", ns, "--timeout=30s", timeout=40)
    already = len(nodes.events("deleting"))
    kubectl("set", "image", "sts/web", "-n", ns, "c=nginx:2")
    out = kubectl("rollout", "status", "sts/web", "-n", ns, "--timeout=30s", timeout=40)
    assert "complete" in out, out
    assert nodes.events("deleting")[already:] == ["web-2", "web-1", "web-0"]
    images = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in pods_of(kubectl, ns, "web")}
    assert images == {"web-0": "nginx:2", "web-1": "nginx:2", "web-2": "nginx:2"}


def test_daemonset_runs_on_every_untainted_node(kubectl: Kubectl, namespace: str, nodes: Nodes) -> None:
    ns = namespace
    kubectl("taint", "nodes", "node-c", "dedicated=db:NoSchedule")
    apply(kubectl, ns, {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "x"},
        "spec": {"selector": {"matchLabels": {"app": "x"}},
                 "template": {"metadata": {"labels": {"app": "x"}},
                              "spec": {"terminationGracePeriodSeconds": 1,
                                       "containers": [{"name": "c", "image": "busybox:1"}]}}}})
    out = kubectl("rollout", "status", "ds/x", "-n", ns, "--timeout=30s", timeout=40)
    assert "successfully rolled out" in out, out
    placed = sorted(p["spec"].get("nodeName", "") for p in pods_of(kubectl, ns, "x"))
    assert placed == ["node-a", "node-b"]
    ds = kubectl.json("get", "ds", "x", "-n", ns)
    assert ds["status"]["desiredNumberScheduled"] == 2 and ds["status"]["numberAvailable"] == 2

    # an update rolls through both nodes and rollout status waits for it
    kubectl("set", "image", "ds/x", "-n", ns, "c=busybox:2")
    kubectl("rollout", "status", "ds/x", "-n", ns, "--timeout=30s", timeout=40)
    pods = pods_of(kubectl, ns, "x")
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert sorted((p["spec"].get("nodeName"), p["spec"]["containers"][0]["image"]) for p in live) == [
        ("node-a", "busybox:2"), ("node-b", "busybox:2")]

    assert len(kubectl.json("get", "controllerrevisions", "-n", ns, "-l", "app=x")["items"]) == 2

    # kubectl reads the ControllerRevisions to list and undo
    history = kubectl("rollout", "history", "ds/x", "-n", ns)
    assert "REVISION" in history and "1" in history and "2" in history, history
    out = kubectl("rollout", "undo", "ds/x", "-n", ns)
    assert "rolled back" in out, out
    kubectl("rollout", "status", "ds/x", "-n", ns, "--timeout=30s", timeout=40)
    poll(lambda: sorted(p["spec"]["containers"][0]["image"] for p in pods_of(kubectl, ns, "x")
                        if not p["metadata"].get("deletionTimestamp")) == ["busybox:1", "busybox:1"], timeout=20)
