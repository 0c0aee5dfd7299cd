"""Garbage collector, namespace, service-account, root-CA and pod-GC controllers against a
real API server, driven with the real kubectl.

One API server and one controller-manager (garbagecollector, namespace, serviceaccount,
root-ca-cert-publisher, podgc, and replicaset when it exists) per module; a FakeNode runs
in a background thread's event loop (kubectl calls block the test's thread) to run and
finish pods. Owners and dependents are ConfigMaps linked by hand-written ownerReferences,
so the cascade tests need no other controller.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubepy.client import Client
from kubepy.controllers.manager import factory
from kubepy.testing.fake_node import FakeNode
from kubepy.testing.processes import APIServerProcess, ComponentProcess, start_controller_manager
from tests.integration.conftest import Kubectl, poll

pytestmark = pytest.mark.integration

CONTROLLERS = ["garbagecollector", "namespace", "serviceaccount", "root-ca-cert-publisher", "podgc"]
HAVE_REPLICASET = factory("replicaset") is not None
if HAVE_REPLICASET:
    CONTROLLERS.append("replicaset")


class BackgroundNode:
    """A FakeNode running in its own thread and event loop."""

    def __init__(self, kubeconfig: Path, name: str) -> None:
        self.kubeconfig = kubeconfig
        self.name = name
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-node", daemon=True)
        self.client: Client | None = None
        self.node: FakeNode | None = None

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)

    async def _start(self) -> None:
        self.client = Client(self.kubeconfig)
        self.node = FakeNode(self.client, self.name)
        await self.node.start()

    async def _stop(self) -> None:
        if self.node is not None:
            await self.node.stop()
        if self.client is not None:
            await self.client.close()

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


@pytest.fixture(scope="module")
def controller_manager(apiserver: APIServerProcess) -> Iterator[ComponentProcess]:
    cm = start_controller_manager(apiserver.kubeconfig, apiserver.data_dir / "cm.log",
                                  f"--controllers={','.join(CONTROLLERS)}", "--leader-elect=false")
    try:
        yield cm
    finally:
        cm.stop()


@pytest.fixture(scope="module")
def node(apiserver: APIServerProcess, controller_manager: ComponentProcess) -> Iterator[BackgroundNode]:
    bg = BackgroundNode(apiserver.kubeconfig, "gc-node")
    bg.start()
    try:
        yield bg
    finally:
        bg.stop()


@pytest.fixture
def ns(kubectl: Kubectl, controller_manager: ComponentProcess) -> str:
    name = f"gc-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    return name


def exists(kubectl: Kubectl, *args: str) -> bool:
    return kubectl.run("get", *args, "-o", "name", check=False).returncode == 0


def get_json(kubectl: Kubectl, *args: str) -> Any:
    proc = kubectl.run("get", *args, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def create_configmap(kubectl: Kubectl, ns: str, name: str, *, owners: list[dict[str, Any]] | None = None,
                     finalizers: list[str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if owners:
        meta["ownerReferences"] = owners
    if finalizers:
        meta["finalizers"] = finalizers
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": "v"}}
    out: dict[str, Any] = json.loads(kubectl("create", "-f", "-", "-o", "json", input=json.dumps(doc)))
    return out


def owner_ref(owner: dict[str, Any], *, block: bool = False) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "blockOwnerDeletion": block}


# -- service accounts and root CA ---------------------------------------------------------------

def test_a_new_namespace_gets_the_default_service_account_and_the_root_ca_configmap(
        kubectl: Kubectl, ns: str, apiserver: APIServerProcess) -> None:
    started = time.monotonic()
    poll(lambda: exists(kubectl, "serviceaccount", "default", "-n", ns), timeout=5)
    cm = poll(lambda: get_json(kubectl, "configmap", "kube-root-ca.crt", "-n", ns), timeout=5)
    assert time.monotonic() - started < 5
    kubeconfig = yaml.safe_load(apiserver.kubeconfig.read_text())
    ca = base64.b64decode(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    assert cm["data"] == {"ca.crt": ca}
    assert "kube-apiserver" in cm["metadata"]["annotations"]["kubernetes.io/description"]


def test_a_deleted_default_service_account_and_root_ca_configmap_come_back(kubectl: Kubectl, ns: str) -> None:
    poll(lambda: exists(kubectl, "serviceaccount", "default", "-n", ns), timeout=5)
    old_cm = poll(lambda: get_json(kubectl, "configmap", "kube-root-ca.crt", "-n", ns), timeout=5)
    kubectl("delete", "serviceaccount", "default", "-n", ns)
    kubectl("delete", "configmap", "kube-root-ca.crt", "-n", ns)
    poll(lambda: exists(kubectl, "serviceaccount", "default", "-n", ns), timeout=5)
    new_cm = poll(lambda: get_json(kubectl, "configmap", "kube-root-ca.crt", "-n", ns), timeout=5)
    assert new_cm["metadata"]["uid"] != old_cm["metadata"]["uid"]
    assert new_cm["data"] == old_cm["data"]


def test_a_tampered_root_ca_configmap_is_repaired(kubectl: Kubectl, ns: str) -> None:
    good = poll(lambda: get_json(kubectl, "configmap", "kube-root-ca.crt", "-n", ns), timeout=5)
    kubectl("patch", "configmap", "kube-root-ca.crt", "-n", ns, "--type=merge", "-p",
            json.dumps({"data": {"ca.crt": "bogus"}}))
    poll(lambda: (get_json(kubectl, "configmap", "kube-root-ca.crt", "-n", ns) or {}).get("data") == good["data"],
         timeout=5)


# -- cascading deletion -------------------------------------------------------------------------

def test_background_deletion_deletes_the_dependents(kubectl: Kubectl, ns: str) -> None:
    owner = create_configmap(kubectl, ns, "owner")
    for i in range(3):
        create_configmap(kubectl, ns, f"dep-{i}", owners=[owner_ref(owner)])
    kubectl("delete", "configmap", "owner", "-n", ns, "--cascade=background")
    for i in range(3):
        poll(lambda i=i: not exists(kubectl, "configmap", f"dep-{i}", "-n", ns), timeout=10)


def test_foreground_deletion_keeps_the_owner_until_blocking_dependents_are_gone(kubectl: Kubectl, ns: str) -> None:
    owner = create_configmap(kubectl, ns, "owner")
    create_configmap(kubectl, ns, "held", owners=[owner_ref(owner, block=True)], finalizers=["example.com/hold"])
    create_configmap(kubectl, ns, "free", owners=[owner_ref(owner, block=True)])
    kubectl("delete", "configmap", "owner", "-n", ns, "--cascade=foreground", "--wait=false")
    poll(lambda: not exists(kubectl, "configmap", "free", "-n", ns), timeout=10)
    held = poll(lambda: (get_json(kubectl, "configmap", "held", "-n", ns) or {}).get("metadata", {})
                .get("deletionTimestamp") and get_json(kubectl, "configmap", "held", "-n", ns), timeout=10)
    assert held["metadata"]["finalizers"] == ["example.com/hold"]
    time.sleep(0.5)
    still = get_json(kubectl, "configmap", "owner", "-n", ns)
    assert still is not None, "the owner went away while a blocking dependent remained"
    assert "foregroundDeletion" in still["metadata"]["finalizers"]
    assert still["metadata"].get("deletionTimestamp")
    kubectl("patch", "configmap", "held", "-n", ns, "--type=json", "-p",
            json.dumps([{"op": "remove", "path": "/metadata/finalizers"}]))
    kubectl("wait", "--for=delete", "configmap/owner", "-n", ns, "--timeout=15s")
    assert not exists(kubectl, "configmap", "held", "-n", ns)


def test_orphan_deletion_keeps_the_dependents_without_the_owner_reference(kubectl: Kubectl, ns: str) -> None:
    owner = create_configmap(kubectl, ns, "owner")
    other = create_configmap(kubectl, ns, "other")
    create_configmap(kubectl, ns, "dep", owners=[owner_ref(owner), owner_ref(other)])
    kubectl("delete", "configmap", "owner", "-n", ns, "--cascade=orphan")
    kubectl("wait", "--for=delete", "configmap/owner", "-n", ns, "--timeout=15s")
    dep = get_json(kubectl, "configmap", "dep", "-n", ns)
    assert dep is not None
    assert [r["uid"] for r in dep["metadata"]["ownerReferences"]] == [other["metadata"]["uid"]]
    time.sleep(0.5)
    assert exists(kubectl, "configmap", "dep", "-n", ns)


def test_a_dependent_whose_owner_never_existed_is_collected(kubectl: Kubectl, ns: str) -> None:
    ghost = {"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": str(uuid.uuid4())}
    create_configmap(kubectl, ns, "dangling", owners=[ghost])
    poll(lambda: not exists(kubectl, "configmap", "dangling", "-n", ns), timeout=10)


def test_an_owner_reference_with_a_wrong_uid_is_dangling_but_a_solid_owner_keeps_the_object(
        kubectl: Kubectl, ns: str) -> None:
    real = create_configmap(kubectl, ns, "real")
    impostor = {"apiVersion": "v1", "kind": "ConfigMap", "name": "real", "uid": str(uuid.uuid4())}
    create_configmap(kubectl, ns, "dep", owners=[owner_ref(real), impostor])
    poll(lambda: [r["uid"] for r in (get_json(kubectl, "configmap", "dep", "-n", ns) or {})
                  .get("metadata", {}).get("ownerReferences", [])] == [real["metadata"]["uid"]], timeout=10)


@pytest.mark.skipif(not HAVE_REPLICASET, reason="the replicaset controller is not in this build yet")
def test_deleting_a_replicaset_in_the_background_deletes_its_pods(kubectl: Kubectl, ns: str) -> None:
    rs = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"schedulerName": "none", "containers": [{"name": "c", "image": "busybox"}]}}},
    }
    kubectl("create", "-f", "-", input=json.dumps(rs))
    poll(lambda: len((get_json(kubectl, "pods", "-n", ns, "-l", "app=web") or {}).get("items", [])) == 2, timeout=10)
    kubectl("delete", "replicaset", "web", "-n", ns)
    poll(lambda: not (get_json(kubectl, "pods", "-n", ns, "-l", "app=web") or {}).get("items"), timeout=10)


# -- namespace deletion -------------------------------------------------------------------------

def test_deleting_a_namespace_empties_it_and_removes_it(kubectl: Kubectl, ns: str, node: BackgroundNode) -> None:
    create_configmap(kubectl, ns, "cm")
    kubectl("create", "secret", "generic", "s", "-n", ns, "--from-literal=a=b")
    kubectl("create", "service", "clusterip", "svc", "-n", ns, "--tcp=80:80")
    pods: list[dict[str, Any]] = [
        {"metadata": {"name": "running"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        {"metadata": {"name": "done", "annotations": {"fake.kubepy.io/exit-code": "0"}},
         "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}},
        {"metadata": {"name": "unbound"},
         "spec": {"schedulerName": "nobody", "containers": [{"name": "c", "image": "busybox"}]}},
    ]
    for pod in pods:
        pod.update(apiVersion="v1", kind="Pod")
        pod["metadata"]["namespace"] = ns
        kubectl("create", "-f", "-", input=json.dumps(pod))
    poll(lambda: (get_json(kubectl, "pod", "running", "-n", ns) or {}).get("status", {}).get("phase") == "Running",
         timeout=10)
    poll(lambda: (get_json(kubectl, "pod", "done", "-n", ns) or {}).get("status", {}).get("phase") == "Succeeded",
         timeout=10)
    kubectl("delete", "namespace", ns, "--wait=false")
    terminating = get_json(kubectl, "namespace", ns)
    assert terminating["status"]["phase"] == "Terminating"
    kubectl("wait", "--for=delete", f"namespace/{ns}", "--timeout=30s", timeout=40)
    assert not exists(kubectl, "namespace", ns)
    assert "No resources found" in kubectl.run("get", "configmaps,secrets,pods,services", "-n", ns,
                                                check=False).stderr


def test_a_namespace_with_held_content_reports_it_in_its_conditions(kubectl: Kubectl, ns: str) -> None:
    create_configmap(kubectl, ns, "held", finalizers=["example.com/hold"])
    kubectl("delete", "namespace", ns, "--wait=false")

    def remaining() -> Any:
        doc = get_json(kubectl, "namespace", ns) or {}
        conds = {c["type"]: c for c in doc.get("status", {}).get("conditions", [])}
        c = conds.get("NamespaceFinalizersRemaining")
        return c if c and c["status"] == "True" else None

    cond = poll(remaining, timeout=15)
    assert cond["reason"] == "SomeFinalizerRemain"
    assert "example.com/hold in 1 resource instances" in cond["message"]
    kubectl("patch", "configmap", "held", "-n", ns, "--type=json", "-p",
            json.dumps([{"op": "remove", "path": "/metadata/finalizers"}]))
    kubectl("wait", "--for=delete", f"namespace/{ns}", "--timeout=30s", timeout=40)
