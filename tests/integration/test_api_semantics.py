"""API semantics that clients rely on, checked against a real API server over HTTPS.

Object metadata (generateName, uid, generation), status split, paginated and
point-in-time lists, watch replay/selection/initial events/timeouts, dry run,
finalizers, subresources (scale, binding, eviction), server-side Tables, discovery,
service IP and port allocation, and durability across SIGTERM and kill -9 restarts.
Each behaviour is asserted as kube-apiserver 1.32 shows it on the wire; differences
that are kubepy bugs are xfail(strict=True) with the difference as the reason.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubepy.testing.processes import APIServerProcess, start_apiserver

from .httpclient import HTTPClient

pytestmark = pytest.mark.integration

NS = "api-semantics"
CMS = f"/api/v1/namespaces/{NS}/configmaps"
PODS = f"/api/v1/namespaces/{NS}/pods"
SERVICES = f"/api/v1/namespaces/{NS}/services"
DEPLOYS = f"/apis/apps/v1/namespaces/{NS}/deployments"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
DISCOVERY_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        },
    }


def pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


def rv(obj: dict[str, Any]) -> int:
    return int(obj["metadata"]["resourceVersion"])


@pytest.fixture(scope="module")
def api(apiserver: APIServerProcess) -> HTTPClient:
    client = HTTPClient(apiserver.url, apiserver.kubeconfig)
    client.ok("POST", "/api/v1/namespaces", body={"metadata": {"name": NS}})
    return client


@pytest.fixture
def namespace(api: HTTPClient, request: pytest.FixtureRequest) -> str:
    """A fresh namespace of its own, for tests that list or watch a whole collection."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:50].strip("-")
    api.ok("POST", "/api/v1/namespaces", body={"metadata": {"name": name}})
    return name


def revision(api: HTTPClient) -> str:
    return str(api.ok("GET", CMS, query={"limit": 1})["metadata"]["resourceVersion"])


# ----------------------------------------------------------------------------- metadata


def test_generate_name_gets_a_five_char_suffix_and_server_set_metadata(api: HTTPClient) -> None:
    created = api.ok("POST", CMS, body={"metadata": {"generateName": "gen-", "uid": "client-uid",
                                                      "creationTimestamp": "2001-01-01T00:00:00Z"}})
    meta = created["metadata"]
    assert re.fullmatch(r"gen-[a-z0-9]{5}", meta["name"]), meta
    assert meta["generateName"] == "gen-"
    assert str(uuid.UUID(meta["uid"])) == meta["uid"] and meta["uid"] != "client-uid"
    stamp = datetime.datetime.strptime(meta["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs(stamp.replace(tzinfo=datetime.timezone.utc) - now) < datetime.timedelta(minutes=5)
    assert stamp.year != 2001
    assert re.fullmatch(r"[1-9][0-9]*", meta["resourceVersion"])
    assert api.ok("GET", f"{CMS}/{meta['name']}") == created
    other = api.ok("POST", CMS, body={"metadata": {"generateName": "gen-"}})
    assert other["metadata"]["name"] != meta["name"]


def test_generation_counts_spec_changes_only(api: HTTPClient) -> None:
    path = f"{DEPLOYS}/gen"
    created = api.ok("POST", DEPLOYS, body=deployment("gen"))
    assert created["metadata"]["generation"] == 1

    created["metadata"]["labels"] = {"touched": "metadata"}
    relabelled = api.ok("PUT", path, body=created)
    assert relabelled["metadata"]["generation"] == 1, "a metadata-only change bumped generation"
    assert rv(relabelled) > rv(created)

    relabelled["spec"]["replicas"] = 3
    rescaled = api.ok("PUT", path, body=relabelled)
    assert rescaled["metadata"]["generation"] == 2

    rescaled["status"] = {"replicas": 3, "observedGeneration": 2}
    with_status = api.ok("PUT", f"{path}/status", body=rescaled)
    assert with_status["metadata"]["generation"] == 2, "a status write bumped generation"
    assert with_status["status"] == {"replicas": 3, "observedGeneration": 2}


def test_status_subresource_and_main_resource_write_disjoint_parts(api: HTTPClient) -> None:
    path = f"{DEPLOYS}/split"
    created = api.ok("POST", DEPLOYS, body=deployment("split", replicas=1))

    # /status: the status changes, a spec change riding along is ignored
    body = {**created, "spec": {**created["spec"], "replicas": 7}, "status": {"replicas": 1, "readyReplicas": 1}}
    after_status = api.ok("PUT", f"{path}/status", body=body)
    assert after_status["status"] == {"replicas": 1, "readyReplicas": 1}
    assert after_status["spec"] == created["spec"]
    assert after_status["metadata"]["generation"] == 1

    # the main resource: the spec changes, a status change riding along is ignored
    body = {**after_status, "spec": {**after_status["spec"], "replicas": 2}, "status": {"replicas": 99}}
    after_main = api.ok("PUT", path, body=body)
    assert after_main["spec"]["replicas"] == 2
    assert after_main["status"] == {"replicas": 1, "readyReplicas": 1}
    assert api.ok("GET", path) == after_main


# ----------------------------------------------------------------------------- lists


def test_paginated_list_returns_each_object_once_from_one_snapshot(api: HTTPClient, namespace: str) -> None:
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    for i in range(25):
        api.ok("POST", cms, body={"metadata": {"name": f"cm-{i:02d}"}, "data": {"i": str(i)}})

    first = api.ok("GET", cms, query={"limit": 10})
    assert len(first["items"]) == 10
    assert first["metadata"]["remainingItemCount"] == 15
    token = first["metadata"]["continue"]
    assert token

    # objects created (before and after the cursor) and changed after the first page
    for name in ("aa-late", "zz-late"):
        api.ok("POST", cms, body={"metadata": {"name": name}})
    changed = api.ok("GET", f"{cms}/cm-20")
    api.ok("PUT", f"{cms}/cm-20", body={**changed, "data": {"i": "changed"}})

    pages = [first]
    while token:
        page = api.ok("GET", cms, query={"limit": 10, "continue": token})
        pages.append(page)
        token = page["metadata"].get("continue", "")
    assert [len(p["items"]) for p in pages] == [10, 10, 5]
    assert {p["metadata"]["resourceVersion"] for p in pages} == {first["metadata"]["resourceVersion"]}
    names = [o["metadata"]["name"] for p in pages for o in p["items"]]
    assert names == [f"cm-{i:02d}" for i in range(25)]
    by_name = {o["metadata"]["name"]: o for p in pages for o in p["items"]}
    assert by_name["cm-20"]["data"] == {"i": "20"}, "a later page showed a change made after the snapshot"

    fresh = api.ok("GET", cms)
    assert len(fresh["items"]) == 27 and "remainingItemCount" not in fresh["metadata"]


def test_exact_resource_version_list_shows_the_older_state(api: HTTPClient, namespace: str) -> None:
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    old = api.ok("POST", cms, body={"metadata": {"name": "then"}, "data": {"v": "old"}})
    api.ok("PUT", f"{cms}/then", body={**old, "data": {"v": "new"}})
    api.ok("POST", cms, body={"metadata": {"name": "later"}})

    past = api.ok("GET", cms, query={"resourceVersion": old["metadata"]["resourceVersion"],
                                     "resourceVersionMatch": "Exact"})
    assert past["metadata"]["resourceVersion"] == old["metadata"]["resourceVersion"]
    assert [(o["metadata"]["name"], o["data"]) for o in past["items"]] == [("then", {"v": "old"})]
    assert past["items"][0]["metadata"]["resourceVersion"] == old["metadata"]["resourceVersion"]

    now = api.ok("GET", cms)
    assert sorted(o["metadata"]["name"] for o in now["items"]) == ["later", "then"]


# ----------------------------------------------------------------------------- watch


def test_watch_from_a_resource_version_replays_later_events_in_order(api: HTTPClient, namespace: str) -> None:
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    a = api.ok("POST", cms, body={"metadata": {"name": "a"}})
    start = a["metadata"]["resourceVersion"]
    api.ok("PUT", f"{cms}/a", body={**a, "data": {"k": "v"}})
    api.ok("POST", cms, body={"metadata": {"name": "b"}})
    api.ok("DELETE", f"{cms}/b")

    events = api.collect(cms, count=3, query={"resourceVersion": start})
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "b")]
    versions = [rv(e["object"]) for e in events]
    assert versions == sorted(versions) and versions[0] > int(start) and len(set(versions)) == 3
    assert events[0]["object"]["data"] == {"k": "v"}
    assert all(e["object"]["kind"] == "ConfigMap" and e["object"]["apiVersion"] == "v1" for e in events)


def test_label_selector_watch_sends_deleted_when_an_object_leaves_the_selection(
        api: HTTPClient, namespace: str) -> None:
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    obj = api.ok("POST", cms, body={"metadata": {"name": "mover", "labels": {"tier": "front"}}})
    api.ok("POST", cms, body={"metadata": {"name": "bystander", "labels": {"tier": "back"}}})
    start = obj["metadata"]["resourceVersion"]
    moved = api.ok("PUT", f"{cms}/mover", body={**obj, "metadata": {**obj["metadata"], "labels": {"tier": "back"}}})
    back = api.ok("PUT", f"{cms}/mover", body={**moved, "metadata": {**moved["metadata"], "labels": {"tier": "front"}}})

    events = api.collect(cms, count=2, query={"resourceVersion": start, "labelSelector": "tier=front"})
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("DELETED", "mover"), ("ADDED", "mover")]
    assert events[0]["object"]["metadata"]["resourceVersion"] == moved["metadata"]["resourceVersion"]
    assert events[1]["object"]["metadata"]["resourceVersion"] == back["metadata"]["resourceVersion"]


def test_watch_list_sends_initial_objects_then_an_annotated_bookmark(api: HTTPClient, namespace: str) -> None:
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    created = [api.ok("POST", cms, body={"metadata": {"name": f"init-{i}"}}) for i in range(3)]
    events = api.collect(cms, until=lambda e: e["type"] == "BOOKMARK", query={
        "allowWatchBookmarks": "true", "sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan"})
    *initial, bookmark = events
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in initial] == [
        ("ADDED", f"init-{i}") for i in range(3)]
    assert [e["object"] for e in initial] == created
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["kind"] == "ConfigMap"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) >= rv(created[-1])


def test_watch_ends_after_timeout_seconds(api: HTTPClient) -> None:
    began = time.monotonic()
    events = list(api.watch(CMS, query={"timeoutSeconds": 1, "resourceVersion": revision(api)}, read_timeout=10))
    elapsed = time.monotonic() - began
    assert events == []
    assert 0.9 <= elapsed < 5, elapsed


# ----------------------------------------------------------------------------- dry run, finalizers


def test_dry_run_create_update_and_delete_persist_nothing(api: HTTPClient) -> None:
    real = api.ok("POST", CMS, body={"metadata": {"name": "dry-real"}, "data": {"a": "1"}})
    before = revision(api)

    created = api.post(CMS, {"metadata": {"name": "dry-new"}, "data": {"a": "1"}}, query={"dryRun": "All"})
    assert created.status == 201, created
    assert created.body["metadata"]["name"] == "dry-new" and "resourceVersion" not in created.body["metadata"]
    updated = api.put(f"{CMS}/dry-real", {**real, "data": {"a": "2"}}, query={"dryRun": "All"})
    assert updated.status == 200 and updated.body["data"] == {"a": "2"}, updated
    deleted = api.delete(f"{CMS}/dry-real", query={"dryRun": "All"})
    assert deleted.status == 200, deleted
    in_body = api.delete(f"{CMS}/dry-real", body={"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]})
    assert in_body.status == 200, in_body

    assert revision(api) == before
    assert api.get(f"{CMS}/dry-new").status == 404
    assert api.ok("GET", f"{CMS}/dry-real") == real


def test_finalizers_hold_deletion_until_removed(api: HTTPClient) -> None:
    path = f"{CMS}/held"
    api.ok("POST", CMS, body={"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    deleting = api.delete(path)
    assert deleting.status == 200, deleting
    assert deleting.body["kind"] == "ConfigMap" and deleting.body["metadata"]["deletionTimestamp"]
    stored = api.ok("GET", path)
    assert stored == deleting.body
    assert stored["metadata"]["finalizers"] == ["example.com/hold"]

    again = api.delete(path)
    assert again.status == 200 and again.body["metadata"]["deletionTimestamp"] == stored["metadata"]["deletionTimestamp"]

    released = api.patch(path, {"metadata": {"finalizers": None}})
    assert released.status == 200, released
    assert api.get(path).status == 404


# ----------------------------------------------------------------------------- subresources


def test_scale_subresource_get_put_patch(api: HTTPClient) -> None:
    path = f"{DEPLOYS}/scaled"
    created = api.ok("POST", DEPLOYS, body=deployment("scaled", replicas=2))
    scale = api.ok("GET", f"{path}/scale")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["metadata"]["name"] == "scaled" and scale["metadata"]["uid"] == created["metadata"]["uid"]
    assert scale["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"]["selector"] == "app=scaled" and scale["status"]["replicas"] == 0

    put = api.ok("PUT", f"{path}/scale", body={**scale, "spec": {"replicas": 4}})
    assert put["spec"] == {"replicas": 4}
    stale = api.put(f"{path}/scale", {**scale, "spec": {"replicas": 9}})
    assert stale.status == 409 and stale.body["reason"] == "Conflict", stale

    patched = api.ok("PATCH", f"{path}/scale", body={"spec": {"replicas": 5}},
                     content_type="application/merge-patch+json")
    assert patched["spec"] == {"replicas": 5}
    parent = api.ok("GET", path)
    assert parent["spec"]["replicas"] == 5
    assert parent["metadata"]["generation"] == 3
    assert parent["metadata"]["resourceVersion"] == patched["metadata"]["resourceVersion"]


def test_binding_assigns_the_node_once(api: HTTPClient) -> None:
    api.ok("POST", PODS, body=pod("bound"))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bound"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node-a"}}
    resp = api.post(f"{PODS}/bound/binding", binding)
    assert resp.status == 201, resp
    assert resp.body["kind"] == "Status" and resp.body["status"] == "Success"
    bound = api.ok("GET", f"{PODS}/bound")
    assert bound["spec"]["nodeName"] == "node-a"
    scheduled = [c for c in bound["status"].get("conditions", []) if c["type"] == "PodScheduled"]
    assert [c["status"] for c in scheduled] == ["True"]

    second = api.post(f"{PODS}/bound/binding", {**binding, "target": {"kind": "Node", "name": "node-b"}})
    assert second.status == 409, second
    assert second.body["reason"] == "Conflict"
    assert 'Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "node-a"' \
        == second.body["message"]
    assert api.ok("GET", f"{PODS}/bound") == bound


def test_eviction_of_an_unbound_pod_deletes_it(api: HTTPClient) -> None:
    api.ok("POST", PODS, body=pod("evicted"))
    resp = api.post(f"{PODS}/evicted/eviction", {"apiVersion": "policy/v1", "kind": "Eviction",
                                                 "metadata": {"name": "evicted", "namespace": NS}})
    assert resp.status == 201, resp
    assert resp.body["kind"] == "Status" and resp.body["status"] == "Success"
    assert api.get(f"{PODS}/evicted").status == 404


# ----------------------------------------------------------------------------- tables, discovery


POD_COLUMNS = ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]


def test_pod_list_as_table_has_pod_columns_and_metadata_rows(api: HTTPClient, namespace: str) -> None:
    pods = f"/api/v1/namespaces/{namespace}/pods"
    created = api.ok("POST", pods, body={**pod("tabled"), "metadata": {"name": "tabled", "labels": {"x": "y"}}})
    resp = api.get(pods, headers={"Accept": f"{TABLE},application/json"})
    assert resp.status == 200, resp
    assert resp.header("Content-Type") == TABLE
    table = resp.body
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert table["metadata"]["resourceVersion"]
    assert [c["name"] for c in table["columnDefinitions"]] == POD_COLUMNS
    assert [c["priority"] for c in table["columnDefinitions"]] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    [row] = table["rows"]
    assert row["cells"][:4] == ["tabled", "0/1", "Pending", "0"]
    assert len(row["cells"]) == len(POD_COLUMNS)
    obj = row["object"]
    assert (obj["kind"], obj["apiVersion"]) == ("PartialObjectMetadata", "meta.k8s.io/v1")
    assert obj["metadata"]["name"] == "tabled" and obj["metadata"]["namespace"] == namespace
    assert obj["metadata"]["uid"] == created["metadata"]["uid"]
    assert obj["metadata"]["labels"] == {"x": "y"}
    assert "spec" not in obj


def test_aggregated_discovery_lists_groups(api: HTTPClient) -> None:
    resp = api.get("/apis", headers={"Accept": f"{DISCOVERY_V2},application/json"})
    assert resp.status == 200, resp
    assert resp.header("Content-Type") == DISCOVERY_V2
    body = resp.body
    assert (body["kind"], body["apiVersion"]) == ("APIGroupDiscoveryList", "apidiscovery.k8s.io/v2")
    groups = {g["metadata"]["name"]: g for g in body["items"]}
    assert "" not in groups and {"apps", "batch"} <= groups.keys()
    [apps_v1] = [v for v in groups["apps"]["versions"] if v["version"] == "v1"]
    deployments = {r["resource"]: r for r in apps_v1["resources"]}["deployments"]
    assert deployments["scope"] == "Namespaced"
    assert deployments["responseKind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    subresources = {s["subresource"]: s for s in deployments["subresources"]}
    assert subresources["scale"]["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}

    core = api.get("/api", headers={"Accept": f"{DISCOVERY_V2},application/json"}).body
    assert [g["metadata"].get("name", "") for g in core["items"]] == [""]


def test_core_v1_resource_list_offers_pod_eviction_in_policy_v1(api: HTTPClient) -> None:
    body = api.ok("GET", "/api/v1")
    assert (body["kind"], body["groupVersion"]) == ("APIResourceList", "v1")
    resources = {r["name"]: r for r in body["resources"]}
    eviction = resources["pods/eviction"]
    assert (eviction["group"], eviction["version"], eviction["kind"]) == ("policy", "v1", "Eviction")
    assert eviction["verbs"] == ["create"] and eviction["namespaced"] is True
    assert resources["pods"]["singularName"] == "pod"


# ----------------------------------------------------------------------------- services


SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")


def test_kubernetes_service_exists_with_the_first_service_ip(api: HTTPClient) -> None:
    svc = api.ok("GET", "/api/v1/namespaces/default/services/kubernetes")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert svc["spec"]["clusterIPs"] == ["10.96.0.1"]
    assert [(p["name"], p["port"], p["protocol"]) for p in svc["spec"]["ports"]] == [("https", 443, "TCP")]


@pytest.mark.parametrize(("service_type", "wants_node_port"), [
    pytest.param("ClusterIP", False, id="a ClusterIP service gets an IP in the service range"),
    pytest.param("NodePort", True, id="a NodePort service also gets a node port in 30000-32767"),
])
def test_new_services_get_addresses_from_the_ranges(api: HTTPClient, service_type: str, wants_node_port: bool) -> None:
    name = f"svc-{service_type.lower()}"
    svc = api.ok("POST", SERVICES, body={"metadata": {"name": name}, "spec": {
        "type": service_type, "selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}})
    ip = ipaddress.ip_address(svc["spec"]["clusterIP"])
    assert ip in SERVICE_CIDR and str(ip) != "10.96.0.1"
    assert svc["spec"]["clusterIPs"] == [str(ip)]
    [port] = svc["spec"]["ports"]
    if wants_node_port:
        assert 30000 <= port["nodePort"] <= 32767
    else:
        assert "nodePort" not in port
    assert api.ok("GET", f"{SERVICES}/{name}")["spec"] == svc["spec"]


def test_services_never_share_a_cluster_ip(api: HTTPClient) -> None:
    ips = []
    for i in range(5):
        svc = api.ok("POST", SERVICES, body={"metadata": {"name": f"uniq-{i}"},
                                            "spec": {"ports": [{"port": 80}]}})
        ips.append(svc["spec"]["clusterIP"])
    assert len(set(ips)) == 5 and "10.96.0.1" not in ips


# ----------------------------------------------------------------------------- durability


@pytest.fixture
def own_server() -> Iterator[list[APIServerProcess]]:
    """Servers this test starts on one data dir; all stopped at the end."""
    started: list[APIServerProcess] = []
    yield started
    for server in started:
        server.stop()


def objects_of(client: HTTPClient, path: str) -> list[dict[str, Any]]:
    return sorted(client.ok("GET", path)["items"], key=lambda o: o["metadata"]["name"])


def test_data_and_resource_versions_survive_a_clean_restart(tmp_path: Path,
                                                           own_server: list[APIServerProcess]) -> None:
    data_dir = tmp_path / "data"
    first = start_apiserver(data_dir)
    own_server.append(first)
    client = HTTPClient(first.url, first.kubeconfig)
    client.ok("POST", "/api/v1/namespaces", body={"metadata": {"name": "durable"}})
    cms = "/api/v1/namespaces/durable/configmaps"
    for i in range(5):
        client.ok("POST", cms, body={"metadata": {"name": f"keep-{i}"}, "data": {"i": str(i)}})
    client.ok("POST", "/apis/apps/v1/namespaces/durable/deployments", body=deployment("dep"))
    before = {path: objects_of(client, path) for path in (cms, "/apis/apps/v1/namespaces/durable/deployments")}
    before_ns = client.ok("GET", "/api/v1/namespaces/durable")
    last = revision_of(client, cms)

    first.stop()
    assert first.proc.returncode == 0, "SIGTERM did not end the server cleanly"

    second = start_apiserver(data_dir)
    own_server.append(second)
    client = HTTPClient(second.url, second.kubeconfig)
    assert {path: objects_of(client, path) for path in before} == before
    assert client.ok("GET", "/api/v1/namespaces/durable") == before_ns
    assert revision_of(client, cms) == last

    after = client.ok("POST", cms, body={"metadata": {"name": "after-restart"}})
    assert rv(after) > int(last), "resource versions went backwards after a restart"


def revision_of(client: HTTPClient, path: str) -> str:
    return str(client.ok("GET", path)["metadata"]["resourceVersion"])


def test_an_acknowledged_create_survives_kill_9(tmp_path: Path, own_server: list[APIServerProcess]) -> None:
    data_dir = tmp_path / "data"
    first = start_apiserver(data_dir)
    own_server.append(first)
    client = HTTPClient(first.url, first.kubeconfig)
    client.ok("POST", "/api/v1/namespaces", body={"metadata": {"name": "crash"}})
    acked = client.ok("POST", "/api/v1/namespaces/crash/configmaps",
                      body={"metadata": {"name": "acked"}, "data": {"payload": "x" * 10_000}})
    first.kill()

    second = start_apiserver(data_dir)
    own_server.append(second)
    client = HTTPClient(second.url, second.kubeconfig)
    assert client.ok("GET", "/api/v1/namespaces/crash/configmaps/acked") == acked
