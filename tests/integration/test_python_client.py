# The client's generated models declare every field Optional and parts of it are untyped;
# asserting through them is the point of this module, so those two checks are off here.
# mypy: disable-error-code="union-attr,no-untyped-call"
"""The official ``kubernetes`` Python client against a real kubepy API server.

Typed CoreV1/AppsV1 calls, strategic-merge patches from plain dicts, the status subresource,
label selectors, deletes, watches resumed from a resourceVersion, and the dynamic client.
The client is configured from the server's admin kubeconfig into a fresh ``ApiClient``,
never into the library's global default configuration.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from kubepy.testing.processes import APIServerProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(apiserver: APIServerProcess) -> Iterator[client.ApiClient]:
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(apiserver.kubeconfig), client_configuration=cfg)
    api_client = client.ApiClient(cfg)
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture(scope="module")
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture(scope="module")
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture(scope="module")
def ns(core: client.CoreV1Api) -> str:
    name = "it-python-client"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def deployment(name: str, *, replicas: int = 1, labels: dict[str, str] | None = None) -> client.V1Deployment:
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {"app": name}),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels={"app": name}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": name}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.27")]),
            ),
        ),
    )


def test_list_namespaces(core: client.CoreV1Api, ns: str) -> None:
    result = core.list_namespace()
    names = {n.metadata.name for n in result.items}
    assert {"default", "kube-system", ns} <= names
    assert int(str(result.metadata.resource_version)) > 0
    mine = next(n for n in result.items if n.metadata.name == ns)
    assert mine.status.phase == "Active"
    assert mine.metadata.labels == {"kubernetes.io/metadata.name": ns}


def test_create_and_read_pod(core: client.CoreV1Api, ns: str) -> None:
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="py-pod", labels={"app": "py"}),
        spec=client.V1PodSpec(containers=[client.V1Container(
            name="c", image="busybox:1.36", command=["sleep", "60"],
            resources=client.V1ResourceRequirements(requests={"cpu": "100m"}, limits={"cpu": "100m", "memory": "64Mi"}),
        )]),
    )
    created = core.create_namespaced_pod(ns, pod)
    assert created.metadata.uid and created.metadata.namespace == ns
    assert created.status.phase == "Pending"
    read = core.read_namespaced_pod("py-pod", ns)
    assert read.metadata.resource_version == created.metadata.resource_version
    c = read.spec.containers[0]
    assert c.command == ["sleep", "60"] and c.image_pull_policy == "IfNotPresent"
    assert c.resources.limits == {"cpu": "100m", "memory": "64Mi"}
    # the missing memory request is defaulted from the limit, which makes the pod Guaranteed
    assert c.resources.requests == {"cpu": "100m", "memory": "64Mi"}
    assert read.status.qos_class == "Guaranteed"
    assert read.spec.service_account_name == "default"


def test_create_patch_and_read_deployment(apps: client.AppsV1Api, ns: str) -> None:
    created = apps.create_namespaced_deployment(ns, deployment("py-deploy", replicas=2))
    assert created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.spec.template.spec.containers[0].termination_message_path == "/dev/termination-log"

    # a dict body goes as a strategic merge patch: containers merge by name
    patched = apps.patch_namespaced_deployment("py-deploy", ns, {
        "metadata": {"labels": {"patched": "yes"}},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}},
    })
    assert patched.spec.replicas == 3
    assert patched.metadata.labels == {"app": "py-deploy", "patched": "yes"}
    assert sorted(c.name for c in patched.spec.template.spec.containers) == ["sidecar", "web"]
    assert patched.metadata.generation == 2
    # a list body goes as a JSON patch
    patched = apps.patch_namespaced_deployment("py-deploy", ns, [
        {"op": "replace", "path": "/spec/replicas", "value": 1},
    ])
    assert patched.spec.replicas == 1 and patched.metadata.generation == 3

    read = apps.read_namespaced_deployment("py-deploy", ns)
    assert read.metadata.resource_version == patched.metadata.resource_version


def test_status_subresource(apps: client.AppsV1Api, ns: str) -> None:
    name = unique("status")
    created = apps.create_namespaced_deployment(ns, deployment(name))
    status = apps.read_namespaced_deployment_status(name, ns)
    assert status.metadata.name == name
    assert not status.status.replicas

    updated = apps.patch_namespaced_deployment_status(name, ns, {
        "spec": {"replicas": 9},  # ignored: the status subresource keeps the spec
        "status": {"replicas": 1, "readyReplicas": 1, "observedGeneration": 1,
                   "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]},
    })
    assert updated.status.ready_replicas == 1
    assert updated.spec.replicas == 1
    assert updated.metadata.generation == created.metadata.generation  # status writes do not bump it
    read = apps.read_namespaced_deployment(name, ns)
    assert [(c.type, c.status) for c in read.status.conditions] == [("Available", "True")]

    # and the main resource ignores status changes
    replaced = apps.patch_namespaced_deployment(name, ns, {"status": {"readyReplicas": 5}})
    assert replaced.status.ready_replicas == 1


def test_list_with_label_selector(core: client.CoreV1Api, ns: str) -> None:
    for name, tier in [("sel-a", "front"), ("sel-b", "back"), ("sel-c", "back")]:
        core.create_namespaced_config_map(ns, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=name, labels={"tier": tier, "suite": "selector"})))
    back = core.list_namespaced_config_map(ns, label_selector="suite=selector,tier=back")
    assert [c.metadata.name for c in back.items] == ["sel-b", "sel-c"]
    not_back = core.list_namespaced_config_map(ns, label_selector="suite=selector,tier!=back")
    assert [c.metadata.name for c in not_back.items] == ["sel-a"]
    by_field = core.list_namespaced_config_map(ns, field_selector="metadata.name=sel-c")
    assert [c.metadata.name for c in by_field.items] == ["sel-c"]
    everywhere = core.list_config_map_for_all_namespaces(label_selector="suite=selector")
    assert {(c.metadata.namespace, c.metadata.name) for c in everywhere.items} == {
        (ns, "sel-a"), (ns, "sel-b"), (ns, "sel-c")}


def test_list_pagination(core: client.CoreV1Api, ns: str) -> None:
    for i in range(5):
        core.create_namespaced_secret(ns, client.V1Secret(
            metadata=client.V1ObjectMeta(name=f"page-{i}", labels={"suite": "pages"}), string_data={"i": str(i)}))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = core.list_namespaced_secret(ns, label_selector="suite=pages", limit=2, _continue=token)
        pages += 1
        seen += [str(s.metadata.name) for s in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert seen == [f"page-{i}" for i in range(5)]
    assert pages == 3


def test_delete(core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    core.create_namespaced_pod(ns, client.V1Pod(
        metadata=client.V1ObjectMeta(name="doomed"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")])))
    apps.create_namespaced_deployment(ns, deployment("doomed"))

    gone = core.delete_namespaced_pod("doomed", ns)
    assert gone.metadata.name == "doomed"  # pods answer with the deleted object
    status: Any = apps.delete_namespaced_deployment("doomed", ns, propagation_policy="Background")
    assert status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"]["name"] == "doomed" and status["details"]["kind"] == "deployments"
    for read, args in [(core.read_namespaced_pod, ("doomed", ns)), (apps.read_namespaced_deployment, ("doomed", ns))]:
        with pytest.raises(ApiException) as err:
            read(*args)
        assert err.value.status == 404

    with pytest.raises(ApiException) as err:
        core.delete_namespaced_pod("doomed", ns)
    assert err.value.status == 404

    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name="bad"), spec=client.V1PodSpec(
            containers=[client.V1Container(name="c")])))
    assert err.value.status == 422


def test_conflict_on_stale_resource_version(core: client.CoreV1Api, ns: str) -> None:
    cm = core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="cas"), data={"v": "1"}))
    cm.data = {"v": "2"}
    core.replace_namespaced_config_map("cas", ns, cm)  # carries the old resourceVersion: succeeds once
    cm.data = {"v": "3"}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("cas", ns, cm)
    assert err.value.status == 409
    assert core.read_namespaced_config_map("cas", ns).data == {"v": "2"}


# -- watch ----------------------------------------------------------------------------------------

def collect(w: watch.Watch, events: Iterator[dict[str, Any]], until: Any) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for event in events:
        seen.append((event["type"], event["object"].metadata.name))
        if until(event):
            w.stop()
    return seen


def test_watch_from_list_then_resume(core: client.CoreV1Api, ns: str) -> None:
    wns = "it-python-watch"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=wns)))
    core.create_namespaced_config_map(wns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="before")))
    listed = core.list_namespaced_config_map(wns)
    list_rv = listed.metadata.resource_version
    assert [c.metadata.name for c in listed.items] == ["before"]

    core.create_namespaced_config_map(wns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w1"), data={"a": "1"}))
    core.patch_namespaced_config_map("w1", wns, {"data": {"a": "2"}})
    core.delete_namespaced_config_map("w1", wns)

    w = watch.Watch()
    events: list[dict[str, Any]] = []
    for event in w.stream(core.list_namespaced_config_map, wns, resource_version=list_rv, timeout_seconds=5):
        events.append(event)
        if event["type"] == "DELETED":
            w.stop()
    assert [(e["type"], e["object"].metadata.name) for e in events] == [
        ("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]  # "before" is not replayed
    assert events[1]["object"].data == {"a": "2"}
    rvs = [int(str(e["object"].metadata.resource_version)) for e in events]
    assert int(str(list_rv)) < rvs[0] < rvs[1] < rvs[2]
    last_rv = w.resource_version
    assert last_rv == events[-1]["object"].metadata.resource_version

    core.create_namespaced_config_map(wns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w2")))
    w2 = watch.Watch()
    resumed = collect(w2, w2.stream(core.list_namespaced_config_map, wns, resource_version=last_rv,
                                    timeout_seconds=5), until=lambda e: e["object"].metadata.name == "w2")
    assert resumed == [("ADDED", "w2")]


def test_watch_with_label_selector_sees_objects_enter_and_leave(core: client.CoreV1Api, ns: str) -> None:
    listed = core.list_namespaced_config_map(ns, label_selector="watch=me")
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="mover")))
    core.patch_namespaced_config_map("mover", ns, {"metadata": {"labels": {"watch": "me"}}})
    core.patch_namespaced_config_map("mover", ns, {"metadata": {"labels": {"watch": "other"}}})
    w = watch.Watch()
    seen = collect(w, w.stream(core.list_namespaced_config_map, ns, label_selector="watch=me",
                               resource_version=listed.metadata.resource_version, timeout_seconds=5),
                   until=lambda e: e["type"] == "DELETED")
    # entering the selection is ADDED, leaving it is DELETED
    assert seen == [("ADDED", "mover"), ("DELETED", "mover")]


# -- dynamic client -------------------------------------------------------------------------------

def test_dynamic_client_deployments(api: client.ApiClient, apps: client.AppsV1Api, ns: str, tmp_path: Path) -> None:
    dyn = DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))
    res = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert (res.group, res.api_version, res.name, res.namespaced) == ("apps", "v1", "deployments", True)
    assert "scale" in res.subresources and "status" in res.subresources

    body = client.ApiClient().sanitize_for_serialization(deployment("dyn-deploy", labels={"app": "dyn", "via": "dynamic"}))
    body.update(apiVersion="apps/v1", kind="Deployment")
    created = res.create(body=body, namespace=ns)
    assert created.metadata.name == "dyn-deploy" and created.spec.replicas == 1

    listed = res.get(namespace=ns, label_selector="via=dynamic")
    assert listed.kind == "DeploymentList"
    assert [d.metadata.name for d in listed.items] == ["dyn-deploy"]
    everywhere = res.get(label_selector="via=dynamic")
    assert [(d.metadata.namespace, d.metadata.name) for d in everywhere.items] == [(ns, "dyn-deploy")]

    patched = res.patch(name="dyn-deploy", namespace=ns, body={"spec": {"replicas": 2}},
                        content_type="application/merge-patch+json")
    assert patched.spec.replicas == 2
    assert apps.read_namespaced_deployment("dyn-deploy", ns).spec.replicas == 2

    res.delete(name="dyn-deploy", namespace=ns)
    assert res.get(namespace=ns, label_selector="via=dynamic").items == []


def test_dynamic_client_core_resources(api: client.ApiClient, ns: str, tmp_path: Path) -> None:
    dyn = DynamicClient(api, cache_file=str(tmp_path / "discovery.json"))
    ns_res = dyn.resources.get(api_version="v1", kind="Namespace")
    assert ns_res.namespaced is False
    assert ns in {n.metadata.name for n in ns_res.get().items}
    pods = dyn.resources.get(api_version="v1", kind="Pod")
    assert pods.short_names == ["po"]
