# The client's dynamic resources are untyped; asserting through them is the point here.
# mypy: disable-error-code="union-attr,no-untyped-call"
"""CustomResourceDefinitions end to end: a real API server, the real kubectl, the Python client.

A CRD is applied and waited for (Established), then its custom resources are created,
listed (printer columns, short name, categories), explained, patched, scaled and their
status written; invalid objects get upstream's 422 causes (type, required, enum, pattern,
CEL rule), unknown fields are pruned (or rejected with fieldValidation=Strict), defaults
are applied, unknown versions are 404, a second version is served by None conversion,
deleting the CRD deletes its objects (waiting for finalizers), an invalid CRD schema is
a 422, and served CRDs survive an API server restart. The official client's dynamic
client works over the CRD.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import UnprocessibleEntityError

from kubepy.testing.processes import APIServerProcess, start_apiserver
from tests.integration.conftest import Kubectl, poll
from tests.integration.httpclient import HTTPClient

pytestmark = pytest.mark.integration

GROUP = "stable.example.com"
CRD_NAME = f"crontabs.{GROUP}"

CRD_YAML = r"""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
    categories: [all]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.labelSelector
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    selectableFields:
    - jsonPath: .spec.color
    schema:
      openAPIV3Schema:
        type: object
        description: CronTab runs an image on a schedule.
        properties:
          spec:
            type: object
            required: [cronSpec]
            x-kubernetes-validations:
            - rule: "self.replicas <= self.maxReplicas"
              message: "replicas should be smaller than or equal to maxReplicas."
            properties:
              cronSpec:
                type: string
                description: The schedule, in cron format.
                pattern: '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'
              image:
                type: string
                enum: [nginx, busybox]
              color:
                type: string
                default: blue
              replicas:
                type: integer
                minimum: 0
                default: 1
              maxReplicas:
                type: integer
                default: 10
          status:
            type: object
            properties:
              replicas:
                type: integer
              labelSelector:
                type: string
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""


def crontab(name: str, *, version: str = "v1", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{version}", "kind": "CronTab", "metadata": {"name": name},
            "spec": {"cronSpec": "* * * * */5", "image": "nginx", **spec}}


@pytest.fixture(scope="module")
def http(apiserver: APIServerProcess) -> HTTPClient:
    return HTTPClient(apiserver.url, apiserver.kubeconfig)


@pytest.fixture(scope="module")
def crd(kubectl: Kubectl, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("crd") / "crd.yaml"
    path.write_text(CRD_YAML)
    kubectl("apply", "-f", str(path))
    kubectl("wait", "--for=condition=Established", f"crd/{CRD_NAME}", "--timeout=20s")
    return CRD_NAME


def path_of(ns: str, name: str = "", version: str = "v1") -> str:
    base = f"/apis/{GROUP}/{version}/namespaces/{ns}/crontabs"
    return f"{base}/{name}" if name else base


def test_the_crd_is_established_with_its_accepted_names(crd: str, kubectl: Kubectl) -> None:
    obj = kubectl.json("get", "crd", crd)
    conds = {c["type"]: c for c in obj["status"]["conditions"]}
    assert conds["NamesAccepted"]["status"] == "True" and conds["NamesAccepted"]["reason"] == "NoConflicts"
    assert conds["Established"]["status"] == "True" and conds["Established"]["reason"] == "InitialNamesAccepted"
    assert obj["status"]["acceptedNames"]["shortNames"] == ["ct"]
    assert obj["status"]["storedVersions"] == ["v1"]
    assert "customresourcecleanup.apiextensions.k8s.io" in obj["metadata"]["finalizers"]
    assert crd in kubectl("get", "crds", "-o", "name")


def test_kubectl_creates_lists_and_prints_crontabs(crd: str, kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    f = tmp_path / "ct.json"
    f.write_text(json.dumps(crontab("printed", replicas=2)))
    kubectl("apply", "-n", namespace, "-f", str(f))
    out = kubectl("get", "crontabs", "-n", namespace)
    header, row = out.splitlines()[:2]
    assert header.split() == ["NAME", "SPEC", "REPLICAS"]  # no Age unless a column asks for it
    assert row.split()[:7] == ["printed", "*", "*", "*", "*", "*/5", "2"]
    assert "printed" in kubectl("get", "ct", "-n", namespace, "-o", "name")
    assert "crontab.stable.example.com/printed" in kubectl("get", "all", "-n", namespace)
    resources = kubectl("api-resources", "--api-group", GROUP)
    assert any(line.split()[:2] == ["crontabs", "ct"] for line in resources.splitlines())


def test_defaults_are_applied_and_unknown_fields_pruned(crd: str, http: HTTPClient, namespace: str) -> None:
    body = crontab("defaulted", unknownField=1)
    body["extra"] = True
    resp = http.post(path_of(namespace), body)
    assert resp.status == 201, resp
    assert resp.body["spec"]["color"] == "blue" and resp.body["spec"]["replicas"] == 1
    assert "unknownField" not in resp.body["spec"] and "extra" not in resp.body
    assert 'unknown field "spec.unknownField"' in resp.warnings()
    assert resp.body["metadata"]["generation"] == 1
    assert "status" not in resp.body


def test_strict_field_validation_rejects_unknown_fields(crd: str, http: HTTPClient, namespace: str) -> None:
    resp = http.post(path_of(namespace), crontab("strict", bogus=1), query={"fieldValidation": "Strict"})
    assert resp.status == 400
    assert resp.body["message"] == ('CronTab in version "v1" cannot be handled as a CronTab: '
                                    'strict decoding error: unknown field "spec.bogus"')


@pytest.mark.parametrize(("spec", "field", "reason", "message"), [
    pytest.param({"replicas": "two"}, "spec.replicas", "FieldValueTypeInvalid",
                 'Invalid value: "string": spec.replicas in body must be of type integer: "string"', id="wrong type"),
    pytest.param({"cronSpec": None}, "spec.cronSpec", "FieldValueRequired", "Required value", id="missing required field"),
    pytest.param({"image": "alpine"}, "spec.image", "FieldValueNotSupported",
                 'Unsupported value: "alpine": supported values: "nginx", "busybox"', id="value outside the enum"),
    pytest.param({"cronSpec": "every minute"}, "spec.cronSpec", "FieldValueInvalid",
                 "Invalid value: \"every minute\": spec.cronSpec in body should match "
                 r"'^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'", id="pattern mismatch"),
    pytest.param({"replicas": 20, "maxReplicas": 5}, "spec", "FieldValueInvalid",
                 'Invalid value: "object": replicas should be smaller than or equal to maxReplicas.',
                 id="CEL rule violated"),
])
def test_invalid_crontabs_are_422_with_upstream_causes(
    crd: str, http: HTTPClient, namespace: str, spec: dict[str, Any], field: str, reason: str, message: str
) -> None:
    body = crontab("invalid", **spec)
    body["spec"] = {k: v for k, v in body["spec"].items() if v is not None}
    resp = http.post(path_of(namespace), body)
    assert resp.status == 422, resp
    assert resp.body["reason"] == "Invalid"
    assert resp.body["details"]["kind"] == "CronTab" and resp.body["details"]["group"] == GROUP
    assert {"reason": reason, "message": message, "field": field} in resp.body["details"]["causes"]
    assert resp.body["message"].startswith('CronTab.stable.example.com "invalid" is invalid: ')


def test_kubectl_reports_the_cel_rule(crd: str, kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(crontab("too-many", replicas=20, maxReplicas=5)))
    proc = kubectl.run("apply", "-n", namespace, "-f", str(f), check=False)
    assert proc.returncode != 0
    assert 'spec: Invalid value: "object": replicas should be smaller than or equal to maxReplicas.' in proc.stderr


def test_status_subresource_and_generation(crd: str, http: HTTPClient, namespace: str) -> None:
    http.ok("POST", path_of(namespace), body=crontab("gen"))
    # status through the main resource is ignored; spec changes bump the generation
    out = http.ok("PATCH", path_of(namespace, "gen"), body={"spec": {"replicas": 3}, "status": {"replicas": 9}},
                  content_type="application/merge-patch+json")
    assert out["metadata"]["generation"] == 2 and "status" not in out
    out = http.ok("PATCH", path_of(namespace, "gen") + "/status", body={"status": {"replicas": 3}},
                  content_type="application/merge-patch+json")
    assert out["status"] == {"replicas": 3} and out["metadata"]["generation"] == 2
    resp = http.patch(path_of(namespace, "gen") + "/status", {"status": {"replicas": "x"}})
    assert resp.status == 422


def test_kubectl_scale_on_a_crontab(crd: str, kubectl: Kubectl, http: HTTPClient, namespace: str) -> None:
    http.ok("POST", path_of(namespace), body=crontab("scaled", replicas=1))
    http.ok("PATCH", path_of(namespace, "scaled") + "/status", body={"status": {"replicas": 1, "labelSelector": "app=x"}},
            content_type="application/merge-patch+json")
    kubectl("scale", "-n", namespace, "crontab/scaled", "--replicas=4")
    scale = http.ok("GET", path_of(namespace, "scaled") + "/scale")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 4}
    assert scale["status"] == {"replicas": 1, "selector": "app=x"}
    assert http.ok("GET", path_of(namespace, "scaled"))["spec"]["replicas"] == 4


def test_kubectl_explain_describes_the_custom_kind(crd: str, kubectl: Kubectl) -> None:
    out = kubectl("explain", "crontab.spec")
    assert "KIND:       CronTab" in out and "VERSION:    v1" in out
    assert "cronSpec\t<string> -required-" in out
    assert "The schedule, in cron format." in out


def test_selectable_fields_filter_lists(crd: str, http: HTTPClient, kubectl: Kubectl, namespace: str) -> None:
    http.ok("POST", path_of(namespace), body=crontab("red", color="red"))
    names = kubectl("get", "ct", "-n", namespace, "--field-selector", "spec.color=red", "-o", "name").split()
    assert names == ["crontab.stable.example.com/red"]
    resp = http.get(path_of(namespace), query={"fieldSelector": "spec.image=nginx"})
    assert resp.status == 400


def test_strategic_merge_patch_is_415_for_custom_resources(crd: str, http: HTTPClient, namespace: str) -> None:
    http.ok("POST", path_of(namespace), body=crontab("smp"))
    resp = http.patch(path_of(namespace, "smp"), {"spec": {"replicas": 2}},
                      content_type="application/strategic-merge-patch+json")
    assert resp.status == 415 and resp.body["reason"] == "UnsupportedMediaType"


def test_a_second_version_is_served_by_none_conversion(crd: str, http: HTTPClient, namespace: str) -> None:
    created = http.ok("POST", path_of(namespace, version="v1beta1"), body=crontab("beta", version="v1beta1"))
    assert created["apiVersion"] == f"{GROUP}/v1beta1"
    as_v1 = http.ok("GET", path_of(namespace, "beta"))
    assert as_v1["apiVersion"] == f"{GROUP}/v1"
    assert as_v1["spec"]["color"] == "blue"  # v1 defaults applied when read
    listed = http.ok("GET", path_of(namespace, version="v1beta1"))
    assert {i["apiVersion"] for i in listed["items"]} == {f"{GROUP}/v1beta1"}


def test_an_unknown_version_is_404(crd: str, http: HTTPClient, namespace: str) -> None:
    resp = http.post(path_of(namespace, version="v2"), crontab("v2", version="v2"))
    assert resp.status == 404 and resp.body["reason"] == "NotFound"
    assert http.get(path_of(namespace, version="v2")).status == 404


def test_discovery_and_openapi_list_the_custom_resource(crd: str, http: HTTPClient) -> None:
    rl = http.ok("GET", f"/apis/{GROUP}/v1")
    entry = next(r for r in rl["resources"] if r["name"] == "crontabs")
    assert entry["kind"] == "CronTab" and entry["shortNames"] == ["ct"] and entry["categories"] == ["all"]
    assert {r["name"] for r in rl["resources"]} >= {"crontabs/status", "crontabs/scale"}
    group = http.ok("GET", f"/apis/{GROUP}")
    assert group["preferredVersion"]["version"] == "v1"
    root = http.ok("GET", "/openapi/v3")
    assert f"apis/{GROUP}/v1" in root["paths"]


def test_python_dynamic_client_over_the_crd(crd: str, apiserver: APIServerProcess, namespace: str) -> None:
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(apiserver.kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api:
        dyn = DynamicClient(api)
        res = dyn.resources.get(api_version=f"{GROUP}/v1", kind="CronTab")
        created = res.create(body=crontab("dynamic", replicas=2), namespace=namespace)
        assert created.spec.color == "blue"
        got = res.get(name="dynamic", namespace=namespace)
        assert got.spec.replicas == 2
        res.patch(name="dynamic", namespace=namespace, body={"spec": {"replicas": 3}},
                  content_type="application/merge-patch+json")
        names = [i.metadata.name for i in res.get(namespace=namespace).items]
        assert "dynamic" in names
        with pytest.raises(UnprocessibleEntityError):
            res.create(body=crontab("dynamic-bad", image="alpine"), namespace=namespace)
        res.delete(name="dynamic", namespace=namespace)


def test_an_invalid_crd_schema_is_422(kubectl: Kubectl, tmp_path: Path) -> None:
    bad = CRD_YAML.replace("crontabs.stable.example.com", "badtabs.stable.example.com") \
        .replace("plural: crontabs", "plural: badtabs").replace("singular: crontab", "singular: badtab") \
        .replace("kind: CronTab", "kind: BadTab").replace("shortNames: [ct]", "shortNames: [bt]") \
        .replace("              image:\n                type: string\n", "              image:\n")
    f = tmp_path / "bad-crd.yaml"
    f.write_text(bad)
    proc = kubectl.run("apply", "-f", str(f), check=False)
    assert proc.returncode != 0
    assert ('spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[image].type: '
            "Required value: must not be empty for specified object fields") in proc.stderr


def test_conflicting_names_are_not_accepted(crd: str, http: HTTPClient) -> None:
    other = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"othertabs.{GROUP}"},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"plural": "othertabs", "kind": "OtherTab", "shortNames": ["ct"]},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object"}}}]},
    }
    http.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body=other)

    def names_cond() -> Any:
        obj = http.ok("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/othertabs.{GROUP}")
        return next((c for c in obj["status"].get("conditions", ()) if c["type"] == "NamesAccepted"), None)

    cond = poll(names_cond)
    assert cond["status"] == "False" and cond["reason"] == "ShortNamesConflict"
    assert cond["message"] == '"ct" is already in use'
    http.ok("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/othertabs.{GROUP}")


def test_deleting_the_crd_deletes_its_crontabs_after_their_finalizers(
    crd: str, http: HTTPClient, kubectl: Kubectl, namespace: str
) -> None:
    http.ok("POST", path_of(namespace), body={**crontab("held"), "metadata": {"name": "held",
                                                                              "finalizers": ["example.com/hold"]}})
    kubectl("delete", "crd", crd, "--wait=false")

    def terminating() -> Any:
        obj = http.ok("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}")
        return next((c for c in obj["status"].get("conditions", ()) if c["type"] == "Terminating"), None)

    cond = poll(terminating)
    assert cond["status"] == "True"
    # the CRD waits for the held crontab; the others are gone; no new ones
    held = poll(lambda: (b := http.ok("GET", path_of(namespace))) and len(b["items"]) == 1 and b)
    assert held["items"][0]["metadata"]["name"] == "held" and held["items"][0]["metadata"]["deletionTimestamp"]
    resp = http.post(path_of(namespace), crontab("late"))
    assert resp.status == 405 and resp.body["reason"] == "MethodNotAllowed"
    assert http.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}").status == 200
    http.ok("PATCH", path_of(namespace, "held"), body={"metadata": {"finalizers": None}},
            content_type="application/merge-patch+json")
    poll(lambda: http.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}").status == 404)
    poll(lambda: http.get(path_of(namespace)).status == 404)
    assert GROUP not in {g["name"] for g in http.ok("GET", "/apis")["groups"]}


@pytest.fixture(scope="module")
def restart_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("restart")


def test_crds_are_served_again_after_a_restart(restart_server: Path, tmp_path: Path) -> None:
    server = start_apiserver(restart_server)
    try:
        http = HTTPClient(server.url, server.kubeconfig)
        crd_obj = Kubectl(server.kubeconfig, tmp_path)
        f = tmp_path / "crd.yaml"
        f.write_text(CRD_YAML)
        crd_obj("apply", "-f", str(f))
        crd_obj("wait", "--for=condition=Established", f"crd/{CRD_NAME}", "--timeout=20s")
        http.ok("POST", path_of("default"), body=crontab("kept"))
    finally:
        server.stop()
    server = start_apiserver(restart_server)
    try:
        http = HTTPClient(server.url, server.kubeconfig)
        # served as soon as the server is ready: no waiting
        assert http.ok("GET", path_of("default", "kept"))["spec"]["color"] == "blue"
    finally:
        server.stop()
