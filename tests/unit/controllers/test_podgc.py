"""Pod GC: terminated pods over the threshold, orphans of deleted nodes after quarantine,
unscheduled terminating pods and terminating pods on out-of-service nodes."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import FakeClock, InformerFactory
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.podgc import QUARANTINE, PodGCController


def pod(name: str, *, phase: str = "Running", node: str = "n1", created: str = "2024-05-01T10:00:00Z",
        deleting: bool = False, reason: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "uid": f"uid-{name}", "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = created
    status: dict[str, Any] = {"phase": phase}
    if reason:
        status["reason"] = reason
    spec = {"nodeName": node} if node else {}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def node(name: str = "n1", *, ready: bool = True, out_of_service: bool = False) -> dict[str, Any]:
    spec = {"taints": [{"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}]} if out_of_service else {}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec,
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def make(pods: list[dict[str, Any]], nodes: list[dict[str, Any]], *, server_nodes: list[dict[str, Any]] | None = None,
         threshold: int = 12500) -> tuple[PodGCController, FakeClient, FakeClock]:
    client = FakeClient(*pods, *(nodes if server_nodes is None else server_nodes))
    clock = FakeClock()
    ctx = ControllerContext(client=client, informers=InformerFactory(client),  # type: ignore[arg-type]
                            recorder=None, clock=clock, options={"terminated_pod_gc_threshold": threshold})  # type: ignore[arg-type]
    ctrl = PodGCController(ctx)
    for p in pods:
        ctrl.pods.indexer.add(p)
    for n in nodes:
        ctrl.nodes.indexer.add(n)
    return ctrl, client, clock


def deleted(client: FakeClient) -> list[str]:
    return [a.name for a in client.writes("delete", "pods")]


async def test_terminated_pods_over_the_threshold_are_deleted_evicted_first_then_oldest() -> None:
    pods = [
        pod("new-done", phase="Succeeded", created="2024-05-01T10:05:00Z"),
        pod("old-done", phase="Succeeded", created="2024-05-01T10:01:00Z"),
        pod("evicted", phase="Failed", reason="Evicted", created="2024-05-01T10:09:00Z"),
        pod("b-failed", phase="Failed", created="2024-05-01T10:03:00Z"),
        pod("a-failed", phase="Failed", created="2024-05-01T10:03:00Z"),
        pod("running", created="2024-05-01T09:00:00Z"),
    ]
    ctrl, client, _ = make(pods, [node()], threshold=2)
    await ctrl.gc()
    assert sorted(deleted(client)) == sorted(["evicted", "old-done", "a-failed"])
    assert client.writes("patch") == [], "finished pods need no status change"
    assert all(a.body["gracePeriodSeconds"] == 0 for a in client.writes("delete"))


@pytest.mark.parametrize("threshold", [0, 5], ids=["a zero threshold disables it", "under the threshold"])
async def test_terminated_pods_are_kept(threshold: int) -> None:
    pods = [pod(f"p{i}", phase="Succeeded") for i in range(3)]
    ctrl, client, _ = make(pods, [node()], threshold=threshold)
    await ctrl.gc()
    assert client.actions == []


async def test_pods_of_a_deleted_node_are_failed_and_force_deleted_after_the_quarantine() -> None:
    ctrl, client, clock = make([pod("orphan", node="gone"), pod("fine")], [node()])
    await ctrl.gc()
    assert client.actions == [], "the node might still show up: quarantine"
    clock.advance(QUARANTINE)
    await ctrl.gc()
    assert deleted(client) == ["orphan"]
    [patch] = client.writes("patch", "pods")
    assert patch.subresource == "status"
    assert patch.body["status"]["phase"] == "Failed"
    [cond] = patch.body["status"]["conditions"]
    assert (cond["type"], cond["status"], cond["reason"], cond["message"]) == (
        "DisruptionTarget", "True", "DeletionByPodGC", "PodGC: node no longer exists")
    assert patch.body["metadata"]["uid"] == "uid-orphan"
    assert client.writes("delete")[0].body["gracePeriodSeconds"] == 0


async def test_a_node_missing_from_the_cache_but_present_on_the_server_keeps_its_pods() -> None:
    ctrl, client, clock = make([pod("p", node="late")], [], server_nodes=[node("late")])
    await ctrl.gc()
    clock.advance(QUARANTINE)
    await ctrl.gc()
    assert deleted(client) == []


async def test_unscheduled_terminating_pods_are_force_deleted() -> None:
    ctrl, client, _ = make([pod("pending", phase="Pending", node="", deleting=True),
                            pod("waiting", phase="Pending", node="")], [node()])
    await ctrl.gc()
    assert deleted(client) == ["pending"]
    assert client.writes("patch")[0].body["status"] == {"phase": "Failed"}


@pytest.mark.parametrize(("the_node", "collected"), [
    (node(ready=False, out_of_service=True), True),
    (node(ready=True, out_of_service=True), False),
    (node(ready=False), False),
], ids=["not ready and out of service: collected", "ready: left to the kubelet", "no taint: left alone"])
async def test_terminating_pods_on_out_of_service_nodes(the_node: dict[str, Any], collected: bool) -> None:
    ctrl, client, _ = make([pod("stuck", deleting=True)], [the_node])
    await ctrl.gc()
    assert deleted(client) == (["stuck"] if collected else [])
