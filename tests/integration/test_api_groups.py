"""The rest of the built-in groups against a real API server and the real kubectl.

Discovery of every group kubectl 1.32 finds upstream (with upstream short names); the
``kubectl create <kind>`` generators of these groups (protobuf bodies) and their printed
columns; one HorizontalPodAutoscaler served as autoscaling/v1 and v2; the system
PriorityClasses; evictions refused (429) and allowed by a PodDisruptionBudget; and bad
input answered with upstream's 422 messages.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import Kubectl

pytestmark = [pytest.mark.integration]


def live(kubectl: Kubectl, ns: str, *what: str) -> dict[str, Any]:
    out: dict[str, Any] = kubectl.json("-n", ns, "get", *what)
    return out


def raw(kubectl: Kubectl, path: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(kubectl("get", "--raw", path))
    return out


def header(table: str) -> list[str]:
    return table.splitlines()[0].split()


# -- discovery -------------------------------------------------------------------------------

EXPECTED_RESOURCES = [
    ("roles", "", "rbac.authorization.k8s.io/v1", "true"),
    ("rolebindings", "", "rbac.authorization.k8s.io/v1", "true"),
    ("clusterroles", "", "rbac.authorization.k8s.io/v1", "false"),
    ("clusterrolebindings", "", "rbac.authorization.k8s.io/v1", "false"),
    ("storageclasses", "sc", "storage.k8s.io/v1", "false"),
    ("csidrivers", "", "storage.k8s.io/v1", "false"),
    ("csinodes", "", "storage.k8s.io/v1", "false"),
    ("volumeattachments", "", "storage.k8s.io/v1", "false"),
    ("csistoragecapacities", "", "storage.k8s.io/v1", "true"),
    ("poddisruptionbudgets", "pdb", "policy/v1", "true"),
    ("networkpolicies", "netpol", "networking.k8s.io/v1", "true"),
    ("ingresses", "ing", "networking.k8s.io/v1", "true"),
    ("ingressclasses", "", "networking.k8s.io/v1", "false"),
    ("horizontalpodautoscalers", "hpa", "autoscaling/v2", "true"),
    ("priorityclasses", "pc", "scheduling.k8s.io/v1", "false"),
    ("runtimeclasses", "", "node.k8s.io/v1", "false"),
    ("certificatesigningrequests", "csr", "certificates.k8s.io/v1", "false"),
    ("mutatingwebhookconfigurations", "", "admissionregistration.k8s.io/v1", "false"),
    ("validatingwebhookconfigurations", "", "admissionregistration.k8s.io/v1", "false"),
    ("validatingadmissionpolicies", "", "admissionregistration.k8s.io/v1", "false"),
    ("validatingadmissionpolicybindings", "", "admissionregistration.k8s.io/v1", "false"),
    ("flowschemas", "", "flowcontrol.apiserver.k8s.io/v1", "false"),
    ("prioritylevelconfigurations", "", "flowcontrol.apiserver.k8s.io/v1", "false"),
    ("apiservices", "", "apiregistration.k8s.io/v1", "false"),
]


def test_api_resources_lists_every_group_with_upstream_short_names(kubectl: Kubectl) -> None:
    rows = {}
    for line in kubectl("api-resources", "--no-headers").splitlines():
        cols = line.split()
        rows[cols[0]] = cols
    for plural, short, api_version, namespaced in EXPECTED_RESOURCES:
        cols = rows.get(plural)
        assert cols is not None, f"{plural} missing from kubectl api-resources"
        assert cols[1:-1] == ([short] if short else []) + [api_version, namespaced], cols


def test_autoscaling_prefers_v2_and_still_serves_v1(kubectl: Kubectl) -> None:
    group = raw(kubectl, "/apis/autoscaling")
    assert group["preferredVersion"]["version"] == "v2"
    assert [v["version"] for v in group["versions"]] == ["v2", "v1"]


# -- kubectl create generators (protobuf) and printed columns ---------------------------------

@pytest.mark.parametrize("args,get,columns", [
    (["role", "reader", "--verb=get,list", "--resource=pods"], ["role", "reader"], ["NAME", "CREATED", "AT"]),
    (["rolebinding", "reader-b", "--role=reader", "--user=alice"], ["rolebinding", "reader-b", "-o", "wide"],
     ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]),
    (["poddisruptionbudget", "budget", "--selector=app=web", "--min-available=1"], ["pdb", "budget"],
     ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]),
    (["ingress", "front", "--rule=foo.example.com/api=web:8080"], ["ing", "front"],
     ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]),
    (["quota", "small", "--hard=pods=3"], ["quota", "small"], ["NAME", "AGE", "REQUEST", "LIMIT"]),
], ids=["role", "rolebinding", "pdb", "ingress", "quota"])
def test_namespaced_generators_create_and_print(kubectl: Kubectl, namespace: str, args: list[str],
                                                 get: list[str], columns: list[str]) -> None:
    kubectl("-n", namespace, "create", *args)
    assert header(kubectl("-n", namespace, "get", *get)) == columns


def test_generated_objects_carry_what_was_asked(kubectl: Kubectl, namespace: str) -> None:
    kubectl("-n", namespace, "create", "role", "pod-reader", "--verb=get", "--resource=pods")
    role = live(kubectl, namespace, "role", "pod-reader")
    assert role["rules"] == [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]
    kubectl("-n", namespace, "create", "ingress", "site", "--rule=a.example.com/=web:80")
    ing = live(kubectl, namespace, "ingress", "site")
    path = ing["spec"]["rules"][0]["http"]["paths"][0]
    assert path["pathType"] == "Exact" and path["backend"]["service"] == {"name": "web", "port": {"number": 80}}
    assert ing["metadata"]["generation"] == 1


@pytest.mark.parametrize("args,get,columns", [
    (["clusterrole", "node-reader", "--verb=get", "--resource=nodes"], ["clusterrole", "node-reader"],
     ["NAME", "CREATED", "AT"]),
    (["clusterrolebinding", "node-reader-b", "--clusterrole=node-reader", "--group=ops"],
     ["clusterrolebinding", "node-reader-b", "-o", "wide"], ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]),
    (["priorityclass", "batch-low", "--value=100", "--description=batch"], ["pc", "batch-low"],
     ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]),
], ids=["clusterrole", "clusterrolebinding", "priorityclass"])
def test_cluster_generators_create_and_print(kubectl: Kubectl, args: list[str], get: list[str],
                                               columns: list[str]) -> None:
    kubectl("create", *args)
    assert header(kubectl("get", *get)) == columns


def test_storage_class_prints_its_policies(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local"},
        "provisioner": "kubernetes.io/no-provisioner", "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer"}))
    out = kubectl("get", "sc", "local")
    assert header(out) == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"]
    assert out.splitlines()[1].split()[:4] == ["local", "kubernetes.io/no-provisioner", "Retain", "WaitForFirstConsumer"]


# -- HorizontalPodAutoscaler: one object, two versions ----------------------------------------

def test_hpa_created_as_v1_reads_back_as_v2_with_the_cpu_metric(kubectl: Kubectl, namespace: str) -> None:
    kubectl("-n", namespace, "create", "deployment", "scaled", "--image=nginx")
    kubectl("-n", namespace, "autoscale", "deploy", "scaled", "--min=1", "--max=3", "--cpu-percent=50")
    v2 = raw(kubectl, f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/scaled")
    assert v2["apiVersion"] == "autoscaling/v2"
    assert v2["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]
    assert (v2["spec"]["minReplicas"], v2["spec"]["maxReplicas"]) == (1, 3)
    v1 = raw(kubectl, f"/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers/scaled")
    assert v1["apiVersion"] == "autoscaling/v1" and v1["spec"]["targetCPUUtilizationPercentage"] == 50
    assert v1["metadata"]["resourceVersion"] == v2["metadata"]["resourceVersion"]
    out = kubectl("-n", namespace, "get", "hpa", "scaled")
    assert header(out) == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert "cpu: <unknown>/50%" in out


def test_hpa_created_as_v2_reads_back_as_v1_with_other_metrics_annotated(kubectl: Kubectl, namespace: str) -> None:
    kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web-hpa"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 2, "maxReplicas": 6, "metrics": [
                     {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                                  "averageUtilization": 70}}},
                     {"type": "Pods", "pods": {"metric": {"name": "qps"},
                                               "target": {"type": "AverageValue", "averageValue": "10"}}}]}}))
    base = f"/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers/web-hpa"
    v1 = raw(kubectl, base)
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 70
    carried = json.loads(v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"])
    assert carried == [{"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}}]
    # a v1 client's edit keeps the metric it cannot see
    kubectl("-n", namespace, "patch", "horizontalpodautoscalers.v1.autoscaling", "web-hpa", "--type=merge",
            "-p", '{"spec":{"maxReplicas":8}}')
    v2 = raw(kubectl, base.replace("/v1/", "/v2/"))
    assert v2["spec"]["maxReplicas"] == 8
    assert [m["type"] for m in v2["spec"]["metrics"]] == ["Pods", "Resource"]
    assert not [k for k in v2["metadata"].get("annotations", {}) if k.startswith("autoscaling.alpha")]


# -- PriorityClasses ------------------------------------------------------------------------------

def test_system_priority_classes_exist(kubectl: Kubectl) -> None:
    values = {pc["metadata"]["name"]: pc["value"] for pc in kubectl.json("get", "priorityclasses")["items"]}
    assert values["system-node-critical"] == 2000001000
    assert values["system-cluster-critical"] == 2000000000


def test_pod_naming_a_system_class_gets_its_priority(kubectl: Kubectl, namespace: str) -> None:
    kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "critical"},
        "spec": {"priorityClassName": "system-node-critical", "containers": [{"name": "c", "image": "nginx"}]}}))
    pod = live(kubectl, namespace, "pod", "critical")
    assert pod["spec"]["priority"] == 2000001000
    assert pod["spec"]["preemptionPolicy"] == "PreemptLowerPriority"


# -- CertificateSigningRequests --------------------------------------------------------------------

def _csr_request() -> str:
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alice")])).sign(key, hashes.SHA256())
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


def _create_csr(kubectl: Kubectl, name: str) -> None:
    kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": name},
        "spec": {"request": _csr_request(), "signerName": "kubernetes.io/kube-apiserver-client",
                 "usages": ["client auth"], "expirationSeconds": 3600}}))


def test_csr_is_stored_pending_and_prints(kubectl: Kubectl) -> None:
    _create_csr(kubectl, "alice-pending")
    out = kubectl("get", "csr", "alice-pending")
    assert header(out) == ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"]
    assert out.splitlines()[1].split()[-1] == "Pending"


def test_kubectl_certificate_approve_sets_the_approved_condition(kubectl: Kubectl) -> None:
    _create_csr(kubectl, "alice-approve")
    kubectl("certificate", "approve", "alice-approve")
    conds = kubectl.json("get", "csr", "alice-approve")["status"]["conditions"]
    assert [(c["type"], c["status"], c["reason"]) for c in conds] == [("Approved", "True", "KubectlApprove")]
    assert "Approved" in kubectl("get", "csr", "alice-approve")


# -- eviction and PodDisruptionBudgets -------------------------------------------------------------

def _running_pod(kubectl: Kubectl, ns: str, name: str, app: str) -> None:
    kubectl("-n", ns, "apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}))
    kubectl("-n", ns, "patch", "pod", name, "--subresource=status", "--type=merge", "-p", json.dumps({
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}))


def _budget(kubectl: Kubectl, ns: str, name: str, app: str, allowed: int) -> None:
    kubectl("-n", ns, "create", "pdb", name, f"--selector=app={app}", "--min-available=1")
    kubectl("-n", ns, "patch", "pdb", name, "--subresource=status", "--type=merge", "-p", json.dumps({
        "status": {"observedGeneration": 1, "disruptionsAllowed": allowed, "currentHealthy": 1,
                   "desiredHealthy": 1, "expectedPods": 1}}))


def _evict(kubectl: Kubectl, ns: str, pod: str) -> Any:
    # kubectl has no evict command (drain uses the same subresource): post the Eviction raw
    body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": ns}})
    return kubectl.run("create", "--raw", f"/api/v1/namespaces/{ns}/pods/{pod}/eviction", "-f", "-",
                       input=body, check=False)


def test_eviction_blocked_by_a_budget_without_allowed_disruptions(kubectl: Kubectl, namespace: str) -> None:
    _running_pod(kubectl, namespace, "guarded", "guarded")
    _budget(kubectl, namespace, "guard", "guarded", 0)
    proc = _evict(kubectl, namespace, "guarded")
    assert proc.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget." in proc.stderr
    assert live(kubectl, namespace, "pod", "guarded")["metadata"]["name"] == "guarded"


def test_eviction_status_carries_the_disruption_budget_cause(apiserver: Any, namespace: str, kubectl: Kubectl) -> None:
    from .httpclient import HTTPClient

    _running_pod(kubectl, namespace, "guarded2", "guarded2")
    _budget(kubectl, namespace, "guard2", "guarded2", 0)
    resp = HTTPClient(apiserver.url, apiserver.kubeconfig).request(
        "POST", f"/api/v1/namespaces/{namespace}/pods/guarded2/eviction",
        body={"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "guarded2"}})
    assert resp.status == 429
    assert resp.body["reason"] == "TooManyRequests"
    assert resp.body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert resp.body["details"]["causes"] == [{"reason": "DisruptionBudget",
                                          "message": "The disruption budget guard2 needs 1 healthy pods and has 1 currently"}]


def test_eviction_allowed_by_a_budget_takes_one_disruption(kubectl: Kubectl, namespace: str) -> None:
    _running_pod(kubectl, namespace, "spare", "spare")
    _budget(kubectl, namespace, "spare-budget", "spare", 1)
    proc = _evict(kubectl, namespace, "spare")
    assert proc.returncode == 0, proc.stderr
    pdb = live(kubectl, namespace, "pdb", "spare-budget")
    assert pdb["status"]["disruptionsAllowed"] == 0
    assert "spare" in pdb["status"]["disruptedPods"]
    assert kubectl.run("-n", namespace, "get", "pod", "spare", check=False).returncode != 0


def test_pods_that_are_not_running_are_always_evictable(kubectl: Kubectl, namespace: str) -> None:
    kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "waiting", "labels": {"app": "waiting"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}))
    _budget(kubectl, namespace, "waiting-budget", "waiting", 0)
    proc = _evict(kubectl, namespace, "waiting")
    assert proc.returncode == 0, proc.stderr


# -- bad input ---------------------------------------------------------------------------------------

def test_priority_class_value_change_is_refused(kubectl: Kubectl) -> None:
    kubectl("create", "priorityclass", "fixed", "--value=10")
    proc = kubectl.run("patch", "priorityclass", "fixed", "--type=merge", "-p", '{"value": 20}', check=False)
    assert proc.returncode != 0
    assert 'The PriorityClass "fixed" is invalid: value: Forbidden: may not be changed in an update.' in proc.stderr


def test_rbac_rule_without_verbs_is_refused(kubectl: Kubectl, namespace: str) -> None:
    proc = kubectl.run("-n", namespace, "apply", "-f", "-", check=False, input=json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "no-verbs"},
        "rules": [{"apiGroups": [""], "resources": ["pods"]}]}))
    assert proc.returncode != 0
    assert ('The Role "no-verbs" is invalid: rules[0].verbs: Required value: verbs must contain at least one value'
            in proc.stderr)


def test_ingress_with_an_unknown_path_type_is_refused(kubectl: Kubectl, namespace: str) -> None:
    proc = kubectl.run("-n", namespace, "apply", "-f", "-", check=False, input=json.dumps({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "bad-path"},
        "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Regex", "backend": {
            "service": {"name": "web", "port": {"number": 80}}}}]}}]}}))
    assert proc.returncode != 0
    assert ('spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", '
            '"ImplementationSpecific", "Prefix"') in proc.stderr
