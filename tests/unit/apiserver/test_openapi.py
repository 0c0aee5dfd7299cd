"""Shape of the served OpenAPI documents (kubepy.apiserver.openapi)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from kubepy.api.resources import BUILTIN, Registry, ResourceInfo
from kubepy.apiserver.openapi import OpenAPIDocuments, compute_hash, gv_path, operation_id_prefix

METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def docs() -> OpenAPIDocuments:
    return OpenAPIDocuments(Registry())


def v3(docs: OpenAPIDocuments, path: str) -> dict[str, Any]:
    built = docs.group_version_v3(path)
    assert built is not None, path
    return orjson.loads(built[0])


def refs(node: Any, prefix: str) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                assert value.startswith(prefix), value
                out.add(value[len(prefix):])
            elif not key.startswith("x-"):
                out |= refs(value, prefix)
    elif isinstance(node, list):
        for x in node:
            out |= refs(x, prefix)
    return out


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(url, m, item[m]) for url, item in doc["paths"].items() for m in METHODS if m in item]


def test_root_lists_every_served_group_version_with_its_hash(docs: OpenAPIDocuments) -> None:
    root = orjson.loads(docs.root_v3())
    served = {gv_path(i.group, i.version) for i in Registry()}
    assert set(root["paths"]) == served
    for key, entry in root["paths"].items():
        body, etag = docs.group_version_v3(key) or (b"", "")
        assert entry["serverRelativeURL"] == f"/openapi/v3/{key}?hash={etag}"
        assert etag == hashlib.sha512(body).hexdigest().upper()
        assert len(etag) == 128


@pytest.mark.parametrize(
    ("path", "served"),
    [
        pytest.param("api/v1", True, id="the core group is served as api/v1"),
        pytest.param("apis/apps/v1", True, id="a named group is served as apis/<group>/<version>"),
        pytest.param("/apis/apps/v1/", True, id="leading and trailing slashes are ignored"),
        pytest.param("apis/apps/v1beta1", False, id="an unserved version is None"),
        pytest.param("apis/nope/v1", False, id="an unserved group is None"),
    ],
)
def test_group_version_lookup(docs: OpenAPIDocuments, path: str, served: bool) -> None:
    assert (docs.group_version_v3(path) is not None) is served


def test_document_header(docs: OpenAPIDocuments) -> None:
    doc = v3(docs, "apis/apps/v1")
    assert doc["openapi"].startswith("3.0")
    assert doc["info"] == {"title": "Kubernetes", "version": "v1.32.0"}
    assert doc["paths"]


@pytest.mark.parametrize("path", sorted({gv_path(i.group, i.version) for i in BUILTIN}))
def test_every_reference_resolves_inside_the_document(docs: OpenAPIDocuments, path: str) -> None:
    doc = v3(docs, path)
    schemas = doc["components"]["schemas"]
    used = refs(doc["paths"], "#/components/schemas/") | refs(schemas, "#/components/schemas/")
    assert used <= set(schemas), used - set(schemas)


@pytest.mark.parametrize("path", sorted({gv_path(i.group, i.version) for i in BUILTIN}))
def test_every_patch_advertises_field_validation_and_its_gvk(docs: OpenAPIDocuments, path: str) -> None:
    patches = [(url, op) for url, m, op in operations(v3(docs, path)) if m == "patch"]
    assert patches
    for url, op in patches:
        names = {p["name"] for p in op["parameters"]}
        assert {"dryRun", "fieldManager", "fieldValidation", "force"} <= names, url
        assert set(op["x-kubernetes-group-version-kind"]) == {"group", "kind", "version"}, url
        assert op["x-kubernetes-action"] == "patch"
        assert "application/strategic-merge-patch+json" in op["requestBody"]["content"], url


def test_every_patchable_kind_has_a_patch_operation(docs: OpenAPIDocuments) -> None:
    for info in Registry():
        if "patch" not in info.verbs:
            continue
        doc = v3(docs, gv_path(info.group, info.version))
        gvk = {"group": info.group, "version": info.version, "kind": info.kind}
        assert any(m == "patch" and op["x-kubernetes-group-version-kind"] == gvk
                   for _, m, op in operations(doc)), gvk


@pytest.mark.parametrize(
    ("path", "url", "method", "operation_id", "action"),
    [
        pytest.param("apis/apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "patch",
                     "patchAppsV1NamespacedDeployment", "patch", id="namespaced patch"),
        pytest.param("apis/apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments", "get",
                     "listAppsV1NamespacedDeployment", "list", id="namespaced list"),
        pytest.param("apis/apps/v1", "/apis/apps/v1/deployments", "get",
                     "listAppsV1DeploymentForAllNamespaces", "list", id="list across namespaces"),
        pytest.param("apis/apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments", "delete",
                     "deleteAppsV1CollectionNamespacedDeployment", "deletecollection", id="delete collection"),
        pytest.param("apis/apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "patch",
                     "patchAppsV1NamespacedDeploymentScale", "patch", id="scale subresource patch"),
        pytest.param("api/v1", "/api/v1/namespaces/{namespace}/pods/{name}/status", "get",
                     "readCoreV1NamespacedPodStatus", "get", id="status subresource read"),
        pytest.param("api/v1", "/api/v1/namespaces/{namespace}/pods/{name}/binding", "post",
                     "createCoreV1NamespacedPodBinding", "post", id="binding subresource create"),
        pytest.param("api/v1", "/api/v1/namespaces/{namespace}/pods/{name}/eviction", "post",
                     "createCoreV1NamespacedPodEviction", "post", id="eviction subresource create"),
        pytest.param("api/v1", "/api/v1/nodes/{name}", "put", "replaceCoreV1Node", "put",
                     id="cluster-scoped replace"),
        pytest.param("api/v1", "/api/v1/namespaces/{name}/finalize", "put", "replaceCoreV1NamespaceFinalize",
                     "put", id="namespace finalize"),
        pytest.param("api/v1", "/api/v1/watch/namespaces/{namespace}/pods", "get",
                     "watchCoreV1NamespacedPodList", "watchlist", id="legacy watch path"),
        pytest.param("apis/coordination.k8s.io/v1", "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}",
                     "get", "readCoordinationV1NamespacedLease", "get", id="dotted group names are camel-cased"),
    ],
)
def test_operation_ids_and_actions_follow_upstream(
    docs: OpenAPIDocuments, path: str, url: str, method: str, operation_id: str, action: str
) -> None:
    op = v3(docs, path)["paths"][url][method]
    assert op["operationId"] == operation_id
    assert op["x-kubernetes-action"] == action


@pytest.mark.parametrize(
    ("url", "method", "gvk"),
    [
        pytest.param("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "put",
                     {"group": "autoscaling", "kind": "Scale", "version": "v1"},
                     id="scale operations carry the autoscaling/v1 Scale kind"),
        pytest.param("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status", "patch",
                     {"group": "apps", "kind": "Deployment", "version": "v1"},
                     id="status operations carry the parent kind"),
    ],
)
def test_subresource_operations_carry_the_body_kind(
    docs: OpenAPIDocuments, url: str, method: str, gvk: dict[str, str]
) -> None:
    doc = v3(docs, "apis/apps/v1")
    op = doc["paths"][url][method]
    assert op["x-kubernetes-group-version-kind"] == gvk
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    name = answer.rsplit("/", 1)[1]
    assert gvk in doc["components"]["schemas"][name]["x-kubernetes-group-version-kind"]


def test_list_operations_take_every_list_parameter(docs: OpenAPIDocuments) -> None:
    op = v3(docs, "api/v1")["paths"]["/api/v1/namespaces/{namespace}/pods"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert names >= {"labelSelector", "fieldSelector", "limit", "continue", "resourceVersion",
                     "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch",
                     "allowWatchBookmarks"}
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/io.k8s.api.core.v1.PodList"}


def test_path_parameters_are_declared_on_the_path(docs: OpenAPIDocuments) -> None:
    item = v3(docs, "apis/apps/v1")["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    params = {p["name"]: p for p in item["parameters"]}
    assert params["name"]["in"] == "path" and params["name"]["required"] is True
    assert params["namespace"]["in"] == "path" and params["namespace"]["required"] is True
    assert params["pretty"]["in"] == "query"


@pytest.mark.parametrize(
    ("url", "schema"),
    [
        pytest.param("/api/v1/namespaces/{namespace}/pods/{name}", "io.k8s.api.core.v1.Pod",
                     id="deleting a pod answers the pod"),
        pytest.param("/api/v1/namespaces/{namespace}/configmaps/{name}",
                     "io.k8s.apimachinery.pkg.apis.meta.v1.Status", id="deleting a configmap answers a Status"),
    ],
)
def test_delete_answers(docs: OpenAPIDocuments, url: str, schema: str) -> None:
    op = v3(docs, "api/v1")["paths"][url]["delete"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/" + schema)
    assert {p["name"] for p in op["parameters"]} >= {"dryRun", "gracePeriodSeconds", "propagationPolicy"}


def test_top_level_kinds_carry_their_gvk_list(docs: OpenAPIDocuments) -> None:
    schemas = v3(docs, "api/v1")["components"]["schemas"]
    assert schemas["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "Pod", "version": "v1"}]
    assert "enum" not in schemas["io.k8s.api.core.v1.Pod"]["properties"]["kind"]


def test_references_with_siblings_are_wrapped_in_all_of(docs: OpenAPIDocuments) -> None:
    spec = v3(docs, "apis/apps/v1")["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]
    strategy = spec["properties"]["strategy"]
    assert strategy["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"}]
    assert strategy["description"].startswith("The deployment strategy")
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"
    assert "$ref" not in strategy
    assert spec["required"] == ["selector", "template"]


def test_list_extensions_are_kept(docs: OpenAPIDocuments) -> None:
    pod_spec = v3(docs, "api/v1")["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]
    containers = pod_spec["properties"]["containers"]
    assert containers["items"] == {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-list-type"] == "map"


def test_documents_hold_only_reachable_schemas(docs: OpenAPIDocuments) -> None:
    schemas = v3(docs, "apis/coordination.k8s.io/v1")["components"]["schemas"]
    assert "io.k8s.api.coordination.v1.Lease" in schemas
    assert "io.k8s.api.core.v1.Pod" not in schemas
    assert "io.k8s.api.apps.v1.Deployment" not in schemas


def test_documents_are_cached_and_deterministic() -> None:
    a = OpenAPIDocuments(Registry())
    b = OpenAPIDocuments(Registry())
    first = a.group_version_v3("apis/apps/v1")
    assert first is not None
    assert a.group_version_v3("apis/apps/v1") is not None
    assert a.group_version_v3("apis/apps/v1")[0] is first[0]  # type: ignore[index]
    assert b.group_version_v3("apis/apps/v1") == first


def _crd(schema: dict[str, Any] | None = None) -> ResourceInfo:
    return ResourceInfo(group="stable.example.com", version="v1", kind="CronTab", plural="crontabs",
                        singular="crontab", namespaced=True,
                        extra={"openapiV3Schema": schema} if schema is not None else {})


def test_hash_changes_when_the_registry_changes() -> None:
    registry = Registry()
    docs = OpenAPIDocuments(registry)
    before_root = docs.root_v3()
    before = docs.group_version_v3("apis/apps/v1")
    assert docs.group_version_v3("apis/stable.example.com/v1") is None

    crd = _crd({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "cronSpec": {"type": "string"}}}}})
    registry.add(crd)
    assert docs.root_v3() != before_root
    assert "apis/stable.example.com/v1" in orjson.loads(docs.root_v3())["paths"]
    assert docs.group_version_v3("apis/apps/v1") == before  # other groups are untouched

    deployments = registry.get("apps", "v1", "deployments")
    assert deployments is not None
    registry.remove(deployments)
    after = docs.group_version_v3("apis/apps/v1")
    assert after is not None and before is not None and after[1] != before[1]
    assert "/apis/apps/v1/namespaces/{namespace}/deployments" not in orjson.loads(after[0])["paths"]


def test_invalidate_rebuilds_after_a_schema_change() -> None:
    registry = Registry([_crd({"type": "object"})])
    docs = OpenAPIDocuments(registry)
    first = docs.group_version_v3("apis/stable.example.com/v1")
    crd = registry.get("stable.example.com", "v1", "crontabs")
    assert crd is not None and first is not None
    crd.extra["openapiV3Schema"] = {"type": "object", "properties": {"spec": {"type": "object"}}}
    assert docs.group_version_v3("apis/stable.example.com/v1") == first  # cached
    docs.invalidate()
    second = docs.group_version_v3("apis/stable.example.com/v1")
    assert second is not None and second[1] != first[1]


def test_custom_resources_get_a_named_schema_and_no_strategic_merge() -> None:
    docs = OpenAPIDocuments(Registry([_crd({"type": "object", "properties": {"spec": {"type": "object"}}})]))
    doc = v3(docs, "apis/stable.example.com/v1")
    schema = doc["components"]["schemas"]["com.example.stable.v1.CronTab"]
    assert schema["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTab", "version": "v1"}]
    assert set(schema["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in doc["components"]["schemas"]
    patch = doc["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]["patch"]
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]
    assert patch["operationId"] == "patchStableExampleComV1NamespacedCronTab"


def test_v2_document(docs: OpenAPIDocuments) -> None:
    doc = orjson.loads(docs.v2_json())
    assert doc["swagger"] == "2.0"
    definitions = doc["definitions"]
    used = refs(doc["paths"], "#/definitions/") | refs(definitions, "#/definitions/")
    assert used <= set(definitions)
    spec = definitions["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert spec["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy"
    assert "allOf" not in spec
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" in patch["consumes"]
    assert {p["name"] for p in patch["parameters"]} >= {"body", "fieldValidation", "force"}
    assert doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["get"]["operationId"] == \
        "readCoreV1NamespacedPod"
    assert docs.v2_hash() == compute_hash(docs.v2_json())


@pytest.mark.parametrize(
    ("group", "version", "expected"),
    [
        pytest.param("", "v1", "CoreV1", id="the core group is Core"),
        pytest.param("apps", "v1", "AppsV1", id="a plain group is capitalised"),
        pytest.param("rbac.authorization.k8s.io", "v1", "RbacAuthorizationV1", id="k8s.io is dropped, dots join words"),
        pytest.param("flowcontrol.apiserver.k8s.io", "v1beta3", "FlowcontrolApiserverV1beta3",
                     id="versions keep their lower-case tail"),
    ],
)
def test_operation_id_prefix(group: str, version: str, expected: str) -> None:
    assert operation_id_prefix(group, version) == expected
