"""Server-side apply through the real kubectl and the Python client: create on apply,
managedFields per manager, conflicts as upstream words them, force, and the Update
entries ordinary writes leave."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .conftest import Kubectl
from .httpclient import HTTPClient

pytestmark = pytest.mark.integration

NS = "ssa"


def deployment(name: str, *, replicas: int = 2, image: str = "nginx:1.25") -> dict:  # type: ignore[type-arg]
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": image}]}}},
    }


@pytest.fixture(scope="module", autouse=True)
def namespace(kubectl: Kubectl) -> str:
    kubectl("create", "namespace", NS)
    return NS


def apply(kubectl: Kubectl, tmp_path: Path, obj: dict, *flags: str, check: bool = True):  # type: ignore[no-untyped-def,type-arg]
    f = tmp_path / f"{obj['metadata']['name']}.yaml"
    f.write_text(yaml.safe_dump(obj))
    return kubectl.run("apply", "--server-side", "-f", str(f), *flags, check=check)


def managers(obj: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(m["manager"], m["operation"]) for m in obj["metadata"].get("managedFields", [])]


def test_first_apply_creates_the_object_owned_by_the_applier(kubectl: Kubectl, tmp_path: Path) -> None:
    out = apply(kubectl, tmp_path, deployment("first")).stdout
    assert "deployment.apps/first serverside-applied" in out
    obj = kubectl.json("-n", NS, "get", "deploy", "first", "--show-managed-fields")
    assert managers(obj) == [("kubectl", "Apply")]
    fields = obj["metadata"]["managedFields"][0]["fieldsV1"]
    assert fields["f:spec"]["f:replicas"] == {}
    assert 'k:{"name":"c"}' in fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert obj["spec"]["strategy"]["type"] == "RollingUpdate"  # defaults applied as on create


def test_a_conflicting_apply_is_a_409_naming_the_other_manager(kubectl: Kubectl, tmp_path: Path,
                                                               apiserver) -> None:  # type: ignore[no-untyped-def]
    apply(kubectl, tmp_path, deployment("conflict"))
    kubectl("-n", NS, "patch", "deploy", "conflict", "--type=merge", "-p", '{"spec":{"replicas":5}}',
            "--field-manager=scaler")
    proc = apply(kubectl, tmp_path, deployment("conflict", replicas=3), check=False)
    assert proc.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "scaler" using apps/v1: .spec.replicas' in proc.stderr
    api = HTTPClient(apiserver.url, apiserver.kubeconfig)
    resp = api.request("PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/conflict",
                       body=deployment("conflict", replicas=4), content_type="application/apply-patch+yaml",
                       query={"fieldManager": "kubectl"})
    assert resp.status == 409
    assert resp.body["reason"] == "Conflict"
    assert resp.body["details"]["causes"] == [
        {"reason": "FieldManagerConflict", "message": 'conflict with "scaler" using apps/v1',
         "field": ".spec.replicas"}]
    assert kubectl.json("-n", NS, "get", "deploy", "conflict")["spec"]["replicas"] == 5


def test_force_conflicts_takes_ownership(kubectl: Kubectl, tmp_path: Path) -> None:
    apply(kubectl, tmp_path, deployment("forced"))
    kubectl("-n", NS, "scale", "deploy", "forced", "--replicas=7")
    apply(kubectl, tmp_path, deployment("forced", replicas=3), "--force-conflicts")
    obj = kubectl.json("-n", NS, "get", "deploy", "forced", "--show-managed-fields")
    assert obj["spec"]["replicas"] == 3
    owners = {m["manager"]: m for m in obj["metadata"]["managedFields"]}
    assert "f:replicas" in owners["kubectl"]["fieldsV1"]["f:spec"]


def test_fields_dropped_from_the_configuration_are_removed(kubectl: Kubectl, tmp_path: Path) -> None:
    d = deployment("shrink")
    d["metadata"]["labels"] = {"tier": "web", "team": "a"}
    apply(kubectl, tmp_path, d)
    del d["metadata"]["labels"]["team"]
    apply(kubectl, tmp_path, d)
    assert kubectl.json("-n", NS, "get", "deploy", "shrink")["metadata"]["labels"] == {"tier": "web"}


def test_ordinary_writes_record_update_entries(kubectl: Kubectl) -> None:
    kubectl("-n", NS, "create", "configmap", "plain", "--from-literal=a=b")
    kubectl("-n", NS, "label", "configmap", "plain", "x=y")
    obj = kubectl.json("-n", NS, "get", "configmap", "plain", "--show-managed-fields")
    got = managers(obj)
    assert ("kubectl-create", "Update") in got and ("kubectl-label", "Update") in got
    label_entry = next(m for m in obj["metadata"]["managedFields"] if m["manager"] == "kubectl-label")
    # the label write created the labels map, so it owns the map itself too (".")
    assert label_entry["fieldsV1"] == {"f:metadata": {"f:labels": {".": {}, "f:x": {}}}}


def test_migrating_from_client_side_apply(kubectl: Kubectl, tmp_path: Path) -> None:
    f = tmp_path / "migrate.yaml"
    f.write_text(yaml.safe_dump(deployment("migrate")))
    kubectl("apply", "-f", str(f))
    f.write_text(yaml.safe_dump(deployment("migrate", image="nginx:1.26")))
    kubectl("apply", "--server-side", "-f", str(f))
    assert kubectl.json("-n", NS, "get", "deploy", "migrate")["spec"]["template"]["spec"]["containers"][0][
        "image"] == "nginx:1.26"


def test_apply_without_a_field_manager_is_refused(apiserver) -> None:  # type: ignore[no-untyped-def]
    api = HTTPClient(apiserver.url, apiserver.kubeconfig)
    resp = api.request("PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/nomanager",
                       body=deployment("nomanager"), content_type="application/apply-patch+yaml")
    assert resp.status == 422
    assert "fieldManager: Required value: is required for apply patch" in resp.body["message"]


def test_python_dynamic_client_server_side_apply(apiserver) -> None:  # type: ignore[no-untyped-def]
    from kubernetes import client, config, dynamic

    api_client = config.new_client_from_config(config_file=str(apiserver.kubeconfig))
    dyn = dynamic.DynamicClient(api_client)
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    created = deployments.server_side_apply(body=deployment("pyssa"), namespace=NS, field_manager="python-app")
    assert created.metadata.managedFields[0].manager == "python-app"
    again = deployments.server_side_apply(body=deployment("pyssa", replicas=4), namespace=NS,
                                          field_manager="python-app")
    assert again.spec.replicas == 4
    api_client.close()
    del client
