"""Read-side kubectl against a real kubepy API server: version, discovery, get, describe, explain, auth.

One server per module; the objects read here are created once by a module fixture in the
module's own namespace, so every test reads a known, fixed state.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from .conftest import Kubectl

pytestmark = [
    pytest.mark.integration,
]

NODE_YAML = """\
apiVersion: v1
kind: Node
metadata:
  name: basics-node
  labels: {kubernetes.io/hostname: basics-node}
spec:
  podCIDR: 10.244.7.0/24
"""


@pytest.fixture(scope="module")
def pods(kubectl: Kubectl, namespace: str) -> str:
    """Three pods (alpha, bravo, charlie) created out of name order, with labels and one node."""
    kubectl("create", "-f", "-", input=NODE_YAML)
    for name, image, labels in [
        ("charlie", "busybox:1.36", "app=db,tier=back"),
        ("alpha", "nginx:1.27", "app=web,tier=front"),
        ("bravo", "redis:7", "app=cache,tier=back"),
    ]:
        kubectl("-n", namespace, "run", name, f"--image={image}", f"--labels={labels}")
    kubectl("-n", namespace, "create", "deployment", "shop", "--image=nginx:1.27", "--replicas=3")
    return namespace


def rows(table: str) -> list[list[str]]:
    """Split kubectl's table output into rows of whitespace-separated cells (header first)."""
    return [line.split() for line in table.strip().splitlines()]


# -- version and discovery ----------------------------------------------------------------------

def test_version_reports_server_1_32(kubectl: Kubectl) -> None:
    out = json.loads(kubectl("version", "-o", "json"))
    server = out["serverVersion"]
    assert (server["major"], server["minor"]) == ("1", "32")
    assert server["gitVersion"].startswith("v1.32.")
    assert "Server Version: v1.32." in kubectl("version")


def test_api_resources_lists_pods_and_deployments_with_short_names(kubectl: Kubectl) -> None:
    table = rows(kubectl("api-resources"))
    assert table[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    by_name = {(r[0], r[-3]): r for r in table[1:]}
    assert by_name[("pods", "v1")] == ["pods", "po", "v1", "true", "Pod"]
    assert by_name[("deployments", "apps/v1")] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert by_name[("namespaces", "v1")] == ["namespaces", "ns", "v1", "false", "Namespace"]
    assert by_name[("nodes", "v1")] == ["nodes", "no", "v1", "false", "Node"]


def test_api_resources_filters_by_namespaced_and_group(kubectl: Kubectl) -> None:
    cluster = kubectl("api-resources", "--namespaced=false", "-o", "name").split()
    assert "namespaces" in cluster and "nodes" in cluster and "pods" not in cluster
    apps = kubectl("api-resources", "--api-group=apps", "-o", "name").split()
    assert "deployments.apps" in apps and "pods" not in apps


def test_short_names_resolve(kubectl: Kubectl, pods: str) -> None:
    assert kubectl("-n", pods, "get", "po", "-o", "name").split() == ["pod/alpha", "pod/bravo", "pod/charlie"]
    assert kubectl("-n", pods, "get", "deploy", "-o", "name").split() == ["deployment.apps/shop"]


# -- get, in every output format ------------------------------------------------------------------

def test_get_default_table(kubectl: Kubectl, pods: str) -> None:
    table = rows(kubectl("-n", pods, "get", "pods"))
    assert table[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [r[:4] for r in table[1:]] == [
        ["alpha", "0/1", "Pending", "0"], ["bravo", "0/1", "Pending", "0"], ["charlie", "0/1", "Pending", "0"],
    ]


def test_get_wide_adds_ip_and_node_columns(kubectl: Kubectl, pods: str) -> None:
    table = rows(kubectl("-n", pods, "get", "pods", "-o", "wide"))
    assert table[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                        "NOMINATED", "NODE", "READINESS", "GATES"]
    assert table[1][0] == "alpha" and table[1][5:] == ["<none>"] * 4


def test_get_deployment_wide_shows_containers_images_selector(kubectl: Kubectl, pods: str) -> None:
    table = rows(kubectl("-n", pods, "get", "deployment", "shop", "-o", "wide"))
    assert table[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert table[1][:2] == ["shop", "0/3"]
    assert table[1][-3:] == ["nginx", "nginx:1.27", "app=shop"]


def test_get_yaml(kubectl: Kubectl, pods: str) -> None:
    obj = yaml.safe_load(kubectl("-n", pods, "get", "pod", "alpha", "-o", "yaml"))
    assert obj["apiVersion"] == "v1" and obj["kind"] == "Pod"
    assert obj["metadata"]["name"] == "alpha" and obj["metadata"]["namespace"] == pods
    assert obj["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert obj["spec"]["containers"][0]["image"] == "nginx:1.27"
    # defaults applied by the server
    assert obj["spec"]["restartPolicy"] == "Always"
    assert obj["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert obj["status"]["phase"] == "Pending"
    assert int(obj["metadata"]["resourceVersion"]) > 0 and obj["metadata"]["uid"]


def test_get_json_list(kubectl: Kubectl, pods: str) -> None:
    doc = kubectl.json("-n", pods, "get", "pods")
    assert doc["kind"] == "List" and doc["apiVersion"] == "v1"
    assert [p["metadata"]["name"] for p in doc["items"]] == ["alpha", "bravo", "charlie"]
    assert {p["kind"] for p in doc["items"]} == {"Pod"}


def test_get_jsonpath(kubectl: Kubectl, pods: str) -> None:
    out = kubectl("-n", pods, "get", "pods", "-o",
                  "jsonpath={range .items[*]}{.metadata.name}={.spec.containers[0].image};{end}")
    assert out == "alpha=nginx:1.27;bravo=redis:7;charlie=busybox:1.36;"
    assert kubectl("-n", pods, "get", "pod", "bravo", "-o", "jsonpath={.metadata.labels.tier}") == "back"


def test_get_custom_columns(kubectl: Kubectl, pods: str) -> None:
    out = kubectl("-n", pods, "get", "pods", "-o", "custom-columns=NAME:.metadata.name,APP:.metadata.labels.app")
    assert rows(out) == [["NAME", "APP"], ["alpha", "web"], ["bravo", "cache"], ["charlie", "db"]]


def test_get_name(kubectl: Kubectl, pods: str) -> None:
    assert kubectl("-n", pods, "get", "pods", "-o", "name").split() == ["pod/alpha", "pod/bravo", "pod/charlie"]


def test_get_all_namespaces_has_namespace_column(kubectl: Kubectl, pods: str) -> None:
    kubectl("create", "namespace", "basics-other")
    kubectl("-n", "basics-other", "run", "delta", "--image=nginx")
    table = rows(kubectl("get", "pods", "-A"))
    assert table[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    pairs = {(r[0], r[1]) for r in table[1:]}
    assert {(pods, "alpha"), (pods, "bravo"), (pods, "charlie"), ("basics-other", "delta")} <= pairs
    names = kubectl("get", "pods", "--all-namespaces", "-o",
                    "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}").split()
    assert f"{pods}/alpha" in names and "basics-other/delta" in names


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["pod/alpha"]),
        ("tier=back", ["pod/bravo", "pod/charlie"]),
        ("tier!=back", ["pod/alpha"]),
        ("app in (cache,db)", ["pod/bravo", "pod/charlie"]),
        ("app notin (cache,db),tier", ["pod/alpha"]),
        ("!tier", []),
    ],
    ids=["equality picks one pod", "equality picks two pods", "inequality excludes",
         "set membership", "notin combined with existence", "absence matches nothing"],
)
def test_get_label_selector(kubectl: Kubectl, pods: str, selector: str, expected: list[str]) -> None:
    assert kubectl("-n", pods, "get", "pods", "-l", selector, "-o", "name").split() == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("metadata.name=bravo", ["pod/bravo"]),
        ("metadata.name!=bravo", ["pod/alpha", "pod/charlie"]),
        ("status.phase=Pending", ["pod/alpha", "pod/bravo", "pod/charlie"]),
        ("status.phase=Running", []),
        ("spec.nodeName=", ["pod/alpha", "pod/bravo", "pod/charlie"]),
    ],
    ids=["name equals", "name differs", "phase pending matches all", "phase running matches none",
         "unscheduled pods have an empty node name"],
)
def test_get_field_selector(kubectl: Kubectl, pods: str, selector: str, expected: list[str]) -> None:
    assert kubectl("-n", pods, "get", "pods", "--field-selector", selector, "-o", "name").split() == expected


def test_get_unsupported_field_selector_is_rejected(kubectl: Kubectl, pods: str) -> None:
    proc = kubectl.run("-n", pods, "get", "pods", "--field-selector", "spec.bogus=1", check=False)
    assert proc.returncode == 1
    assert 'field label not supported: spec.bogus' in proc.stderr


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (".metadata.name", ["alpha", "bravo", "charlie"]),
        (".spec.containers[0].image", ["charlie", "alpha", "bravo"]),  # busybox < nginx < redis
        (".metadata.labels.app", ["bravo", "charlie", "alpha"]),  # cache < db < web
        ("{.metadata.labels.tier}", ["bravo", "charlie", "alpha"]),  # back, back (stable), front
    ],
    ids=["by name", "by image", "by a label", "by a jsonpath template, stable on ties"],
)
def test_get_sort_by(kubectl: Kubectl, pods: str, key: str, expected: list[str]) -> None:
    table = rows(kubectl("-n", pods, "get", "pods", "--sort-by", key))
    assert [r[0] for r in table[1:]] == expected


def test_get_show_labels(kubectl: Kubectl, pods: str) -> None:
    table = rows(kubectl("-n", pods, "get", "pods", "--show-labels"))
    assert table[0][-1] == "LABELS"
    assert {r[0]: r[-1] for r in table[1:]} == {
        "alpha": "app=web,tier=front", "bravo": "app=cache,tier=back", "charlie": "app=db,tier=back",
    }


def test_get_label_columns(kubectl: Kubectl, pods: str) -> None:
    table = rows(kubectl("-n", pods, "get", "pods", "-L", "app"))
    assert table[0][-1] == "APP"
    assert [r[-1] for r in table[1:]] == ["web", "cache", "db"]


def test_get_missing_object_is_not_found(kubectl: Kubectl, pods: str) -> None:
    proc = kubectl.run("-n", pods, "get", "pod", "nope", check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    assert kubectl("-n", pods, "get", "pod", "nope", "--ignore-not-found") == ""


def test_get_cluster_scoped_nodes(kubectl: Kubectl, pods: str) -> None:
    table = rows(kubectl("get", "nodes"))
    assert table[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [r[0] for r in table[1:]] == ["basics-node"]
    assert kubectl("get", "node", "basics-node", "-o", "jsonpath={.spec.podCIDR}") == "10.244.7.0/24"


# -- describe -------------------------------------------------------------------------------------

def describe_fields(text: str) -> dict[str, str]:
    """The top-level ``Key: value`` lines of a describe output."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, _, value = line.partition(":")
            out.setdefault(key, value.strip())
    return out


def test_describe_pod(kubectl: Kubectl, pods: str) -> None:
    text = kubectl("-n", pods, "describe", "pod", "alpha")
    fields = describe_fields(text)
    assert fields["Name"] == "alpha"
    assert fields["Namespace"] == pods
    assert fields["Status"] == "Pending"
    assert fields["Service Account"] == "default"
    assert fields["QoS Class"] == "BestEffort"
    assert "app=web" in fields["Labels"]
    assert "Image:        nginx:1.27" in text
    assert "Containers:" in text and "Events:" in text


def test_describe_deployment(kubectl: Kubectl, pods: str) -> None:
    fields = describe_fields(kubectl("-n", pods, "describe", "deployment", "shop"))
    assert fields["Name"] == "shop"
    assert fields["Selector"] == "app=shop"
    assert fields["Replicas"].startswith("3 desired")
    assert fields["StrategyType"] == "RollingUpdate"
    assert fields["RollingUpdateStrategy"] == "25% max unavailable, 25% max surge"


def test_describe_node(kubectl: Kubectl, pods: str) -> None:
    fields = describe_fields(kubectl("describe", "node", "basics-node"))
    assert fields["Name"] == "basics-node"
    assert fields["Labels"] == "kubernetes.io/hostname=basics-node"
    assert fields["Unschedulable"] == "false"
    assert fields["PodCIDR"] == "10.244.7.0/24"
    assert fields["Taints"] == "<none>"


def test_describe_namespace(kubectl: Kubectl, pods: str) -> None:
    text = kubectl("describe", "namespace", pods)
    fields = describe_fields(text)
    assert fields["Name"] == pods
    assert fields["Labels"] == f"kubernetes.io/metadata.name={pods}"
    assert fields["Status"] == "Active"
    assert "No resource quota." in text and "No LimitRange resource." in text


# -- explain --------------------------------------------------------------------------------------

def test_explain_pod_containers(kubectl: Kubectl) -> None:
    text = kubectl("explain", "pods.spec.containers")
    assert text.startswith("KIND:       Pod\nVERSION:    v1\n")
    assert "FIELD: containers <[]Container>" in text
    for field in ("image\t<string>", "name\t<string> -required-", "env\t<[]EnvVar>", "resources\t<ResourceRequirements>"):
        assert field in text, field


def test_explain_deployment_strategy(kubectl: Kubectl) -> None:
    text = kubectl("explain", "deployment.spec.strategy")
    assert text.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n")
    assert "FIELD: strategy <DeploymentStrategy>" in text
    assert "rollingUpdate\t<RollingUpdateDeployment>" in text
    assert "type\t<string>" in text


def test_explain_unknown_field_fails(kubectl: Kubectl) -> None:
    proc = kubectl.run("explain", "pods.spec.nosuchfield", check=False)
    assert proc.returncode == 1
    assert 'field "nosuchfield" does not exist' in proc.stderr


# -- auth -----------------------------------------------------------------------------------------

def test_auth_whoami(kubectl: Kubectl) -> None:
    review = json.loads(kubectl("auth", "whoami", "-o", "json"))
    assert review["kind"] == "SelfSubjectReview"
    info = review["status"]["userInfo"]
    assert info["username"] == "kubernetes-admin"
    assert "system:masters" in info["groups"] and "system:authenticated" in info["groups"]
    table = kubectl("auth", "whoami")
    assert "kubernetes-admin" in table and "system:masters" in table


@pytest.mark.parametrize(
    "args",
    [("create", "pods"), ("delete", "deployments.apps"), ("get", "nodes"), ("*", "*")],
    ids=["create pods", "delete deployments", "get nodes", "everything"],
)
def test_auth_can_i_as_admin(kubectl: Kubectl, args: tuple[str, ...]) -> None:
    proc = kubectl.run("auth", "can-i", *args, check=False)
    assert (proc.returncode, proc.stdout.strip()) == (0, "yes")
