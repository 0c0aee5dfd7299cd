"""The EndpointSlice controller: slice contents, labels, placeholders, packing and low churn."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import InformerFactory
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.endpointslice import (
    CONTROLLER_NAME,
    LABEL_MANAGED_BY,
    LABEL_SERVICE_NAME,
    EndpointSliceController,
    SliceTracker,
    plan_slices,
)
from tests.unit.controllers.test_endpoints import NS, Recorder, pod, service


def node(name: str = "n1", zone: str | None = "zone-a") -> dict[str, Any]:
    labels = {"topology.kubernetes.io/zone": zone} if zone else {}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}


NODES = {"n1": node("n1"), "n2": node("n2", None)}


def make(*objs: dict[str, Any], max_per_slice: int = 100) -> tuple[EndpointSliceController, FakeClient]:
    fake = FakeClient()
    ctl = EndpointSliceController(ControllerContext(
        client=fake, informers=InformerFactory(fake), recorder=Recorder(),  # type: ignore[arg-type]
        options={"max_endpoints_per_slice": max_per_slice}))
    for o in (*NODES.values(), *objs):
        seeded = fake.seed(o)
        {"Service": ctl.services, "Pod": ctl.pods, "Node": ctl.nodes, "EndpointSlice": ctl.slices}[o["kind"]] \
            .indexer.add(seeded)
    return ctl, fake


def settle(ctl: EndpointSliceController, fake: FakeClient) -> None:
    """Let the informer cache catch up with what the fake holds."""
    ctl.slices.indexer.replace([o for (av, pl, _ns, _n), o in fake.objects.items() if pl == "endpointslices"])
    for s in ctl.slices.indexer.list():
        ctl._slice_changed(s)


def slices(fake: FakeClient) -> list[dict[str, Any]]:
    return [o for (av, pl, _ns, _n), o in sorted(fake.objects.items()) if pl == "endpointslices"]


def svc_uid() -> dict[str, Any]:
    s = service()
    s["spec"]["ipFamilies"] = ["IPv4"]
    return s


async def test_creates_a_slice_with_conditions_topology_ports_and_labels() -> None:
    ctl, fake = make(svc_uid(), pod("a", "10.244.0.5"), pod("b", "10.244.0.6", ready=False, node="n2"),
                     pod("c", "10.244.0.7", deleting=True))
    await ctl.sync(f"{NS}/web")
    [create] = fake.writes("create", "endpointslices")
    es = create.body
    assert es["metadata"]["generateName"] == "web-"
    assert es["metadata"]["labels"] == {LABEL_SERVICE_NAME: "web", LABEL_MANAGED_BY: CONTROLLER_NAME}
    assert es["metadata"]["ownerReferences"] == [{"apiVersion": "v1", "kind": "Service", "name": "web",
                                                  "uid": "uid-web", "controller": True, "blockOwnerDeletion": True}]
    assert es["addressType"] == "IPv4"
    assert es["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    by_name = {e["targetRef"]["name"]: e for e in es["endpoints"]}
    assert by_name["a"] == {
        "addresses": ["10.244.0.5"], "conditions": {"ready": True, "serving": True, "terminating": False},
        "targetRef": {"kind": "Pod", "namespace": NS, "name": "a", "uid": "uid-a"},
        "nodeName": "n1", "zone": "zone-a"}
    assert by_name["b"]["conditions"] == {"ready": False, "serving": False, "terminating": False}
    assert "zone" not in by_name["b"]
    assert by_name["c"]["conditions"] == {"ready": False, "serving": True, "terminating": True}


async def test_publish_not_ready_addresses_makes_every_endpoint_ready() -> None:
    svc = svc_uid()
    svc["spec"]["publishNotReadyAddresses"] = True
    plan, _ = plan_slices(svc, [pod("a", ready=False)], [], NODES.get)
    assert plan.create[0]["endpoints"][0]["conditions"] == {"ready": True, "serving": False, "terminating": False}


async def test_a_service_without_endpoints_gets_one_placeholder_slice_and_keeps_it() -> None:
    ctl, fake = make(svc_uid())
    await ctl.sync(f"{NS}/web")
    [create] = fake.writes("create", "endpointslices")
    assert create.body["endpoints"] == [] and create.body["ports"] == []
    settle(ctl, fake)
    await ctl.sync(f"{NS}/web")
    assert len(fake.actions) == 1


async def test_the_placeholder_is_reused_when_pods_appear() -> None:
    ctl, fake = make(svc_uid())
    await ctl.sync(f"{NS}/web")
    settle(ctl, fake)
    ctl.pods.indexer.add(pod("a"))
    await ctl.sync(f"{NS}/web")
    assert [a.verb for a in fake.actions] == ["create", "update"]
    [es] = slices(fake)
    assert [e["targetRef"]["name"] for e in es["endpoints"]] == ["a"]


async def test_at_most_max_endpoints_per_slice() -> None:
    pods = [pod(f"p{i}", f"10.244.0.{i + 1}") for i in range(7)]
    plan, _ = plan_slices(svc_uid(), pods, [], NODES.get, max_per_slice=3)
    assert sorted(len(s["endpoints"]) for s in plan.create) == [1, 3, 3]


async def test_pods_with_different_resolved_ports_get_different_slices() -> None:
    svc = svc_uid()
    svc["spec"]["ports"] = [{"name": "web", "port": 80, "protocol": "TCP", "targetPort": "http"}]
    plan, _ = plan_slices(svc, [
        pod("a", "10.244.0.5", ports=[{"name": "http", "containerPort": 8080, "protocol": "TCP"}]),
        pod("b", "10.244.0.6", ports=[{"name": "http", "containerPort": 9090, "protocol": "TCP"}]),
    ], [], NODES.get)
    assert sorted(s["ports"][0]["port"] for s in plan.create) == [8080, 9090]


async def test_a_pod_change_updates_only_its_slice() -> None:
    pods = [pod(f"p{i}", f"10.244.0.{i + 1}") for i in range(6)]
    ctl, fake = make(svc_uid(), *pods, max_per_slice=3)
    await ctl.sync(f"{NS}/web")
    settle(ctl, fake)
    fake.actions.clear()
    ctl.pods.indexer.add(pod("p4", "10.244.0.5", ready=False))
    await ctl.sync(f"{NS}/web")
    [update] = fake.actions
    assert update.verb == "update"
    names = {e["targetRef"]["name"]: e["conditions"]["ready"] for e in update.body["endpoints"]}
    assert names["p4"] is False and len(names) == 3


async def test_new_endpoints_fill_the_slice_they_fit_best_instead_of_a_new_one() -> None:
    pods = [pod(f"p{i}", f"10.244.0.{i + 1}") for i in range(4)]
    ctl, fake = make(svc_uid(), *pods, max_per_slice=3)
    await ctl.sync(f"{NS}/web")  # slices of 3 and 1
    settle(ctl, fake)
    fake.actions.clear()
    ctl.pods.indexer.add(pod("p9", "10.244.0.99"))
    await ctl.sync(f"{NS}/web")
    [update] = fake.actions
    assert update.verb == "update" and len(update.body["endpoints"]) == 2


async def test_a_slice_that_loses_all_endpoints_is_deleted() -> None:
    pods = [pod(f"p{i}", f"10.244.0.{i + 1}") for i in range(4)]
    ctl, fake = make(svc_uid(), *pods, max_per_slice=3)
    await ctl.sync(f"{NS}/web")
    settle(ctl, fake)
    small = next(s for s in slices(fake) if len(s["endpoints"]) == 1)
    ctl.pods.indexer.delete(pod(small["endpoints"][0]["targetRef"]["name"]))
    fake.actions.clear()
    await ctl.sync(f"{NS}/web")
    assert [(a.verb, a.name) for a in fake.actions] == [("delete", small["metadata"]["name"])]


async def test_service_labels_are_mirrored_and_changes_update_the_slice() -> None:
    ctl, fake = make(svc_uid(), pod("a"))
    await ctl.sync(f"{NS}/web")
    settle(ctl, fake)
    svc = svc_uid()
    svc["metadata"]["labels"] = {"team": "x"}
    ctl.services.indexer.add(svc)
    fake.actions.clear()
    await ctl.sync(f"{NS}/web")
    [update] = fake.actions
    assert update.body["metadata"]["labels"]["team"] == "x"


async def test_headless_service_slices_carry_the_headless_label() -> None:
    svc = svc_uid()
    svc["spec"]["clusterIP"] = "None"
    plan, _ = plan_slices(svc, [pod("a")], [], NODES.get)
    assert plan.create[0]["metadata"]["labels"]["service.kubernetes.io/headless"] == ""


async def test_slices_of_another_owner_are_deleted() -> None:
    foreign = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
               "metadata": {"name": "web-old", "namespace": NS, "resourceVersion": "3",
                            "labels": {LABEL_SERVICE_NAME: "web", LABEL_MANAGED_BY: CONTROLLER_NAME},
                            "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "web", "uid": "old"}]},
               "endpoints": [], "ports": []}
    plan, _ = plan_slices(svc_uid(), [pod("a")], [foreign], NODES.get)
    assert [s["metadata"]["name"] for s in plan.delete] == ["web-old"] and len(plan.create) == 1


async def test_a_pod_on_an_unknown_node_is_skipped_and_reported() -> None:
    plan, missing = plan_slices(svc_uid(), [pod("a", node="ghost"), pod("b", "10.244.0.6")], [], NODES.get)
    assert missing == ["a"]
    assert [e["targetRef"]["name"] for e in plan.create[0]["endpoints"]] == ["b"]


async def test_sync_refuses_to_work_from_a_cache_missing_its_own_writes() -> None:
    ctl, fake = make(svc_uid(), pod("a"))
    await ctl.sync(f"{NS}/web")
    with pytest.raises(RuntimeError, match="out of date"):
        await ctl.sync(f"{NS}/web")
    assert len(fake.writes("create")) == 1


def test_tracker_is_satisfied_once_the_cache_shows_the_write() -> None:
    t = SliceTracker()
    s = {"metadata": {"name": "web-x", "resourceVersion": "7"}}
    t.wrote("ns/web", s)
    assert t.stale("ns/web", []) is True
    assert t.stale("ns/web", [{"metadata": {"name": "web-x", "resourceVersion": "6"}}]) is True
    assert t.stale("ns/web", [s]) is False
    t.deleted("ns/web", s)
    assert t.stale("ns/web", [s]) is True
    assert t.stale("ns/web", []) is False
