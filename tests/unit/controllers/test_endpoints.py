"""The Endpoints controller: subsets from pods, ready/not ready, ports, labels, annotations."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import InformerFactory
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.endpoints import (
    HEADLESS,
    LAST_CHANGE_TRIGGER_TIME,
    OVER_CAPACITY,
    EndpointsController,
    desired_subsets,
    find_port,
    repack_subsets,
    truncate_subsets,
)

NS = "default"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str, **_: Any) -> None:
        self.events.append((obj["metadata"].get("name", ""), type, reason, message))


def service(name: str = "web", *, selector: dict[str, str] | None = None, ports: list[dict[str, Any]] | None = None,
            cluster_ip: str = "10.96.0.10", publish: bool = False, labels: dict[str, str] | None = None,
            type_: str = "ClusterIP", no_selector: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"clusterIP": cluster_ip, "type": type_,
                            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]
                            if ports is None else ports}
    if not no_selector:
        spec["selector"] = selector or {"app": "web"}
    if publish:
        spec["publishNotReadyAddresses"] = True
    meta: dict[str, Any] = {"name": name, "namespace": NS, "uid": f"uid-{name}",
                            "creationTimestamp": "2024-05-01T10:00:00Z"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def pod(name: str, ip: str | None = "10.244.0.5", *, ready: bool = True, labels: dict[str, str] | None = None,
        node: str = "n1", ports: list[dict[str, Any]] | None = None, hostname: str | None = None,
        subdomain: str | None = None, deleting: bool = False, phase: str = "Running",
        ready_at: str = "2024-05-01T10:00:05Z") -> dict[str, Any]:
    spec: dict[str, Any] = {"nodeName": node, "containers": [{"name": "c", "image": "x", "ports": ports or []}]}
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    status: dict[str, Any] = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ready_at}]}
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    meta: dict[str, Any] = {"name": name, "namespace": NS, "uid": f"uid-{name}", "labels": labels or {"app": "web"}}
    if deleting:
        meta["deletionTimestamp"] = "2024-05-01T11:00:00Z"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def make(*objs: dict[str, Any]) -> tuple[EndpointsController, FakeClient, Recorder]:
    fake = FakeClient()
    rec = Recorder()
    ctl = EndpointsController(ControllerContext(client=fake, informers=InformerFactory(fake),  # type: ignore[arg-type]
                                                recorder=rec))  # type: ignore[arg-type]
    for o in objs:
        seeded = fake.seed(o)
        {"Service": ctl.services, "Pod": ctl.pods, "Endpoints": ctl.endpoints}[o["kind"]].indexer.add(seeded)
    return ctl, fake, rec


def addr(pod_name: str, ip: str, node: str = "n1", **extra: Any) -> dict[str, Any]:
    return {"ip": ip, **extra, "nodeName": node,
            "targetRef": {"kind": "Pod", "namespace": NS, "name": pod_name, "uid": f"uid-{pod_name}"}}


async def test_creates_endpoints_with_ready_and_not_ready_addresses() -> None:
    ctl, fake, _ = make(service(), pod("a", "10.244.0.5"), pod("b", "10.244.0.6", ready=False),
                        pod("other", "10.244.0.7", labels={"app": "db"}))
    await ctl.sync(f"{NS}/web")
    [create] = fake.writes("create", "endpoints")
    ep = create.body
    assert ep["metadata"]["name"] == "web"
    assert ep["subsets"] == [{
        "addresses": [addr("a", "10.244.0.5")],
        "notReadyAddresses": [addr("b", "10.244.0.6")],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }]
    # the oldest change not yet reflected: the service's creation, before the pods' Ready times
    assert ep["metadata"]["annotations"][LAST_CHANGE_TRIGGER_TIME] == "2024-05-01T10:00:00Z"
    assert HEADLESS not in (ep["metadata"].get("labels") or {})


@pytest.mark.parametrize("pod_kw, included", [
    ({}, True),
    ({"deleting": True}, False),
    ({"phase": "Succeeded"}, False),
    ({"phase": "Failed"}, False),
    ({"ip": None}, False),
], ids=["a running pod is listed", "a terminating pod is left out", "a succeeded pod is left out",
        "a failed pod is left out", "a pod without an IP is left out"])
async def test_which_pods_are_listed(pod_kw: dict[str, Any], included: bool) -> None:
    subsets = desired_subsets(service(), [pod("a", **pod_kw)])
    assert bool(subsets) is included


async def test_publish_not_ready_addresses_lists_unready_and_terminating_pods_as_ready() -> None:
    subsets = desired_subsets(service(publish=True), [pod("a", "10.244.0.5", ready=False),
                                                      pod("b", "10.244.0.6", deleting=True)])
    assert [a["ip"] for a in subsets[0]["addresses"]] == ["10.244.0.5", "10.244.0.6"]
    assert "notReadyAddresses" not in subsets[0]


@pytest.mark.parametrize("target, container_ports, expected", [
    (8080, [], 8080),
    ("http", [{"name": "http", "containerPort": 9090, "protocol": "TCP"}], 9090),
    ("http", [{"name": "http", "containerPort": 9090, "protocol": "UDP"}], None),
    ("http", [{"name": "metrics", "containerPort": 9100}], None),
], ids=["a numeric target port is used as is", "a named target port resolves to the container port",
        "a named port of another protocol does not match", "a pod without the named port has no port"])
def test_find_port(target: Any, container_ports: list[dict[str, Any]], expected: int | None) -> None:
    p = pod("a", ports=container_ports)
    assert find_port(p, {"port": 80, "protocol": "TCP", "targetPort": target}) == expected


async def test_named_target_port_groups_pods_by_resolved_port() -> None:
    svc = service(ports=[{"name": "web", "port": 80, "protocol": "TCP", "targetPort": "http"}])
    subsets = desired_subsets(svc, [
        pod("a", "10.244.0.5", ports=[{"name": "http", "containerPort": 8080, "protocol": "TCP"}]),
        pod("b", "10.244.0.6", ports=[{"name": "http", "containerPort": 9090, "protocol": "TCP"}]),
        pod("c", "10.244.0.7", ports=[]),
    ])
    assert [(s["ports"][0]["port"], [a["ip"] for a in s["addresses"]]) for s in subsets] == [
        (8080, ["10.244.0.5"]), (9090, ["10.244.0.6"])]


async def test_headless_service_without_ports_lists_addresses_and_gets_the_headless_label() -> None:
    svc = service(cluster_ip="None", ports=[])
    ctl, fake, _ = make(svc, pod("a", "10.244.0.5", hostname="a", subdomain="web"))
    await ctl.sync(f"{NS}/web")
    ep = fake.writes("create", "endpoints")[0].body
    assert ep["subsets"] == [{"addresses": [addr("a", "10.244.0.5", hostname="a")]}]
    assert ep["metadata"]["labels"] == {HEADLESS: ""}


async def test_hostname_is_set_only_when_the_subdomain_is_the_service() -> None:
    subsets = desired_subsets(service(), [pod("a", "10.244.0.5", hostname="a", subdomain="other")])
    assert "hostname" not in subsets[0]["addresses"][0]


async def test_service_labels_are_copied() -> None:
    ctl, fake, _ = make(service(labels={"team": "x"}), pod("a"))
    await ctl.sync(f"{NS}/web")
    assert fake.writes("create", "endpoints")[0].body["metadata"]["labels"] == {"team": "x"}


@pytest.mark.parametrize("svc", [service(no_selector=True), service(type_="ExternalName")],
                         ids=["a service without selector is left alone", "an ExternalName service is left alone"])
async def test_services_left_alone(svc: dict[str, Any]) -> None:
    ctl, fake, _ = make(svc, pod("a"))
    await ctl.sync(f"{NS}/web")
    assert fake.actions == []


async def test_endpoints_are_deleted_with_their_service() -> None:
    ep = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": NS}}
    ctl, fake, _ = make(ep)
    await ctl.sync(f"{NS}/web")
    assert [(a.verb, a.name) for a in fake.actions] == [("delete", "web")]


async def test_second_sync_with_nothing_changed_writes_nothing() -> None:
    ctl, fake, _ = make(service(), pod("a"), pod("b", "10.244.0.6", ready=False))
    await ctl.sync(f"{NS}/web")
    created = fake.get_object("v1", "endpoints", NS, "web")
    assert created is not None
    ctl.endpoints.indexer.add(created)
    await ctl.sync(f"{NS}/web")
    assert len(fake.actions) == 1


async def test_a_pod_turning_unready_moves_it_to_not_ready_addresses() -> None:
    ctl, fake, _ = make(service(), pod("a"))
    await ctl.sync(f"{NS}/web")
    created = fake.get_object("v1", "endpoints", NS, "web")
    assert created is not None
    ctl.endpoints.indexer.add(created)
    ctl.pods.indexer.add(pod("a", ready=False, ready_at="2024-05-01T10:05:00Z"))
    await ctl.sync(f"{NS}/web")
    [update] = fake.writes("update", "endpoints")
    assert update.body["subsets"][0]["notReadyAddresses"][0]["ip"] == "10.244.0.5"
    assert "addresses" not in update.body["subsets"][0]
    assert update.body["metadata"]["annotations"][LAST_CHANGE_TRIGGER_TIME] == "2024-05-01T10:05:00Z"


async def test_stale_cache_after_an_update_is_retried_not_overwritten() -> None:
    ctl, fake, _ = make(service(), pod("a"))
    await ctl.sync(f"{NS}/web")
    created = fake.get_object("v1", "endpoints", NS, "web")
    assert created is not None
    ctl.endpoints.indexer.add(created)
    ctl.pods.indexer.add(pod("a", ready=False))
    await ctl.sync(f"{NS}/web")
    ctl.pods.indexer.add(pod("a", ready=True))
    with pytest.raises(RuntimeError, match="out of date"):
        await ctl.sync(f"{NS}/web")  # the cache still holds the version just replaced


def test_repack_groups_addresses_by_their_port_set_and_not_ready_wins() -> None:
    a = {"ip": "10.0.0.2", "targetRef": {"uid": "a"}}
    b = {"ip": "10.0.0.1", "targetRef": {"uid": "b"}}
    p80 = {"name": "a", "port": 80, "protocol": "TCP"}
    p90 = {"name": "b", "port": 90, "protocol": "TCP"}
    subsets = repack_subsets([(a, p80, True), (a, p90, True), (b, p80, True), (b, p90, True), (b, p90, False)])
    assert subsets == [
        {"addresses": [b, a], "ports": [p80]},
        {"addresses": [a], "notReadyAddresses": [b], "ports": [p90]},
    ]


async def test_more_than_1000_addresses_are_truncated_and_annotated() -> None:
    pods = [pod(f"p{i}", f"10.244.{i // 250}.{i % 250 + 1}", ready=i % 2 == 0) for i in range(1200)]
    ctl, fake, _ = make(service(), *pods)
    await ctl.sync(f"{NS}/web")
    ep = fake.writes("create", "endpoints")[0].body
    assert ep["metadata"]["annotations"][OVER_CAPACITY] == "truncated"
    [subset] = ep["subsets"]
    assert len(subset["addresses"]) == 600
    assert len(subset["notReadyAddresses"]) == 400


def test_truncation_keeps_ready_addresses_proportionally_when_they_alone_overflow() -> None:
    subsets: list[dict[str, Any]] = [
        {"addresses": [{"ip": f"10.0.0.{i}"} for i in range(900)], "notReadyAddresses": [{"ip": "10.1.0.1"}]},
        {"addresses": [{"ip": f"10.0.1.{i}"} for i in range(300)]},
    ]
    assert truncate_subsets(subsets) is True
    assert [len(s["addresses"]) for s in subsets] == [750, 250]
    assert all("notReadyAddresses" not in s for s in subsets)


async def test_pod_events_queue_the_services_selecting_the_pod() -> None:
    ctl, _, _ = make(service("web"), service("db", selector={"app": "db"}))
    ctl._pod_added(pod("a"))
    assert len(ctl.queue) == 1
    assert await ctl.queue.get() == f"{NS}/web"


async def test_irrelevant_pod_updates_queue_nothing() -> None:
    ctl, _, _ = make(service("web"))
    old = pod("a")
    new = pod("a")
    old["metadata"]["resourceVersion"], new["metadata"]["resourceVersion"] = "1", "2"
    new["metadata"]["annotations"] = {"x": "y"}
    ctl._pod_updated(old, new)
    assert len(ctl.queue) == 0


async def test_a_sync_before_the_cache_shows_the_created_endpoints_retries_instead_of_creating_again() -> None:
    ctl, fake, _ = make(service(), pod("a"))
    await ctl.sync(f"{NS}/web")
    with pytest.raises(RuntimeError, match="out of date"):
        await ctl.sync(f"{NS}/web")
    created = fake.get_object("v1", "endpoints", NS, "web")
    assert created is not None
    ctl.endpoints.indexer.add(created)
    ctl._created.discard(f"{NS}/web")  # what the informer's add handler does
    await ctl.sync(f"{NS}/web")
    assert len(fake.writes("create", "endpoints")) == 1
