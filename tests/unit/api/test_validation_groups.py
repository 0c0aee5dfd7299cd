"""Validation of the rbac, storage, policy, networking, autoscaling, scheduling, node,
certificates and admissionregistration kinds: upstream's rules and messages."""

from __future__ import annotations

import base64

import pytest

from kubepy.api import validation

RV = {"resourceVersion": "5"}


def meta(name="x", namespace=None, **extra):
    m = {"name": name, **extra}
    if namespace:
        m["namespace"] = namespace
    return m


def texts(errs):
    return [e.text for e in errs]


def create(group, kind, obj):
    return texts(validation.validate_create(group, kind, obj))


def update(group, kind, new, old):
    new = {**new, "metadata": {**new["metadata"], **RV}}
    old = {**old, "metadata": {**old["metadata"], **RV}}
    return texts(validation.validate_update(group, kind, new, old))


RBAC = "rbac.authorization.k8s.io"
RULE = {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
REF = {"apiGroup": RBAC, "kind": "Role", "name": "r"}
USER = {"kind": "User", "name": "alice", "apiGroup": RBAC}


@pytest.mark.parametrize("kind,obj,expected", [
    ("Role", {"metadata": meta(namespace="d"), "rules": [RULE]}, []),
    ("Role", {"metadata": meta(namespace="d"), "rules": [{"apiGroups": [""], "resources": ["pods"]}]},
     ["rules[0].verbs: Required value: verbs must contain at least one value"]),
    ("Role", {"metadata": meta(namespace="d"), "rules": [{"verbs": ["get"]}]},
     ["rules[0].apiGroups: Required value: resource rules must supply at least one api group",
      "rules[0].resources: Required value: resource rules must supply at least one resource"]),
    ("Role", {"metadata": meta(namespace="d"), "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]},
     ['rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs']),
    ("ClusterRole", {"metadata": meta(), "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]}, []),
    ("ClusterRole", {"metadata": meta(), "rules": [{**RULE, "nonResourceURLs": ["/x"]}]},
     ['rules[0].nonResourceURLs: Invalid value: ["/x"]: rules cannot apply to both regular resources and '
      'non-resource URLs']),
    ("RoleBinding", {"metadata": meta(namespace="d"), "roleRef": REF, "subjects": [USER]}, []),
    ("RoleBinding", {"metadata": meta(namespace="d"), "roleRef": {**REF, "kind": "Pod"}, "subjects": [USER]},
     ['roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"']),
    ("ClusterRoleBinding", {"metadata": meta(), "roleRef": REF, "subjects": [USER]},
     ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']),
    ("ClusterRoleBinding", {"metadata": meta(), "roleRef": {**REF, "kind": "ClusterRole"},
                            "subjects": [{"kind": "ServiceAccount", "name": "sa"}]},
     ["subjects[0].namespace: Required value"]),
    ("RoleBinding", {"metadata": meta(namespace="d"), "roleRef": REF, "subjects": [{"kind": "Robot", "name": "r"}]},
     ['subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"']),
], ids=["a valid role passes", "a rule without verbs is refused", "a resource rule needs groups and resources",
        "a namespaced role cannot name URLs", "a cluster role may name URLs", "URLs and resources do not mix",
        "a valid role binding passes", "a binding references only roles", "a cluster binding references only cluster roles",
        "a cluster binding's service account needs a namespace", "unknown subject kinds are refused"])
def test_rbac(kind, obj, expected):
    assert create(RBAC, kind, obj) == expected


def test_role_binding_role_ref_cannot_change():
    old = {"metadata": meta(namespace="d"), "roleRef": REF}
    new = {"metadata": meta(namespace="d"), "roleRef": {**REF, "name": "other"}}
    errs = update(RBAC, "RoleBinding", new, old)
    assert len(errs) == 1 and errs[0].startswith("roleRef: Invalid value") and errs[0].endswith("cannot change roleRef")


@pytest.mark.parametrize("obj,expected", [
    ({"metadata": meta("low"), "value": 10}, []),
    ({"metadata": meta("huge"), "value": 1_000_000_001},
     ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]),
    ({"metadata": meta("system-mine"), "value": 10},
     ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. "
      "error: system-mine is not a known system priority class"]),
    ({"metadata": meta("system-node-critical"), "value": 2000001000}, []),
    ({"metadata": meta("p"), "value": 1, "preemptionPolicy": "Sometimes"},
     ['preemptionPolicy: Unsupported value: "Sometimes": supported values: "Never", "PreemptLowerPriority"']),
], ids=["a user class passes", "user classes stay below one billion", "system- names are reserved",
        "the built-in class is accepted", "preemptionPolicy is an enum"])
def test_priority_class(obj, expected):
    assert create("scheduling.k8s.io", "PriorityClass", obj) == expected


def test_priority_class_value_is_immutable():
    old = {"metadata": meta("p"), "value": 1}
    assert update("scheduling.k8s.io", "PriorityClass", {**old, "value": 2}, old) == [
        "value: Forbidden: may not be changed in an update."]


SVC_BACKEND = {"service": {"name": "web", "port": {"number": 80}}}


def ingress(paths=None, **spec):
    rules = [{"host": "foo.com", "http": {"paths": paths}}] if paths is not None else []
    return {"metadata": meta(namespace="d"), "spec": {"rules": rules, **spec}}


@pytest.mark.parametrize("obj,expected", [
    (ingress([{"path": "/", "pathType": "Prefix", "backend": SVC_BACKEND}]), []),
    (ingress([{"path": "/", "pathType": "Regex", "backend": SVC_BACKEND}]),
     ['spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", '
      '"ImplementationSpecific", "Prefix"']),
    (ingress([{"path": "/", "backend": SVC_BACKEND}]),
     ["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]),
    (ingress([{"path": "api", "pathType": "Exact", "backend": SVC_BACKEND}]),
     ['spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path']),
    (ingress([{"path": "/a//b", "pathType": "Prefix", "backend": SVC_BACKEND}]),
     ["spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'"]),
    (ingress([{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {}}}}]),
     ["spec.rules[0].http.paths[0].backend: Required value: port name or number is required"]),
    (ingress([{"path": "/", "pathType": "Prefix", "backend": {}}]),
     ['spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required']),
    (ingress(), ["spec: Invalid value: []: either `defaultBackend` or `rules` must be specified"]),
    ({"metadata": meta(namespace="d"), "spec": {"rules": [{"host": "10.0.0.1", "http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": SVC_BACKEND}]}}]}},
     ['spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address']),
], ids=["a valid ingress passes", "an unknown pathType is refused", "pathType is required",
        "Exact paths are absolute", "paths may not contain //", "a service backend needs a port",
        "a backend is required", "rules or a default backend", "hosts are not IPs"])
def test_ingress(obj, expected):
    assert create("networking.k8s.io", "Ingress", obj) == expected


@pytest.mark.parametrize("spec,expected", [
    ({"podSelector": {}, "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}], "from": [{"podSelector": {}}]}]}, []),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": 80, "protocol": "ICMP"}]}]},
     ['spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"']),
    ({"podSelector": {}, "ingress": [{"ports": [{"port": 90, "endPort": 80}]}]},
     ["spec.ingress[0].ports[0].endPort: Invalid value: 90: must be greater than or equal to `port`"]),
    ({"podSelector": {}, "ingress": [{"from": [{}]}]}, ["spec.ingress[0].from[0]: Required value: must specify a peer"]),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]},
     ["spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer"]),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}]},
     ['spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`']),
    ({"podSelector": {}, "policyTypes": ["Sideways"]},
     ['spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"']),
], ids=["a valid policy passes", "protocols are TCP UDP SCTP", "endPort is not below port",
        "a peer must name something", "ipBlock stands alone", "excepts lie inside the CIDR", "policy types are an enum"])
def test_network_policy(spec, expected):
    assert create("networking.k8s.io", "NetworkPolicy", {"metadata": meta(namespace="d"), "spec": spec}) == expected


SEL = {"matchLabels": {"app": "a"}}


@pytest.mark.parametrize("spec,expected", [
    ({"minAvailable": 1, "selector": SEL}, []),
    ({"maxUnavailable": "50%", "selector": SEL}, []),
    ({"minAvailable": 1, "maxUnavailable": 1, "selector": SEL},
     ['spec: Invalid value: {"maxUnavailable":1,"minAvailable":1,"selector":{"matchLabels":{"app":"a"}}}: '
      "minAvailable and maxUnavailable cannot be both set"]),
    ({"minAvailable": "150%", "selector": SEL}, ['spec.minAvailable: Invalid value: "150%": must not be greater than 100%']),
    ({"minAvailable": -1, "selector": SEL}, ["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"]),
], ids=["minAvailable alone passes", "a percentage passes", "minAvailable XOR maxUnavailable",
        "percentages stop at 100", "counts are not negative"])
def test_pod_disruption_budget(spec, expected):
    assert create("policy", "PodDisruptionBudget", {"metadata": meta(namespace="d"), "spec": spec}) == expected


def test_pdb_status_counters_are_not_negative():
    old = {"metadata": meta(namespace="d"), "spec": {"selector": SEL}, "status": {}}
    new = {**old, "status": {"disruptionsAllowed": -1}}
    errs = texts(validation.validate_status_update("policy", "PodDisruptionBudget",
                                                   {**new, "metadata": {**new["metadata"], **RV}},
                                                   {**old, "metadata": {**old["metadata"], **RV}}))
    assert errs == ["status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0"]


SC = {"metadata": meta("fast"), "provisioner": "kubernetes.io/no-provisioner", "reclaimPolicy": "Delete",
      "volumeBindingMode": "Immediate"}


@pytest.mark.parametrize("obj,expected", [
    (SC, []),
    ({**SC, "provisioner": ""}, ["provisioner: Required value"]),
    ({**SC, "reclaimPolicy": "Recycle"}, ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"']),
    ({**SC, "volumeBindingMode": "Later"},
     ['volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"']),
], ids=["a valid class passes", "a provisioner is required", "Recycle is not a class policy", "binding modes are an enum"])
def test_storage_class(obj, expected):
    assert create("storage.k8s.io", "StorageClass", obj) == expected


@pytest.mark.parametrize("change,expected", [
    ({"parameters": {"type": "ssd"}}, ["parameters: Forbidden: updates to parameters are forbidden."]),
    ({"provisioner": "example.com/other"}, ["provisioner: Forbidden: updates to provisioner are forbidden."]),
    ({"allowVolumeExpansion": True}, []),
], ids=["parameters are fixed", "the provisioner is fixed", "volume expansion may change"])
def test_storage_class_update(change, expected):
    assert update("storage.k8s.io", "StorageClass", {**SC, **change}, SC) == expected


def test_volume_attachment_needs_exactly_one_source_and_keeps_its_spec():
    va = {"metadata": meta("va"), "spec": {"attacher": "csi.example.com", "nodeName": "n1", "source": {}}}
    assert create("storage.k8s.io", "VolumeAttachment", va) == [
        "spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName"]
    ok = {**va, "spec": {**va["spec"], "source": {"persistentVolumeName": "pv"}}}
    changed = {**ok, "spec": {**ok["spec"], "nodeName": "n2"}}
    errs = update("storage.k8s.io", "VolumeAttachment", changed, ok)
    assert len(errs) == 1 and errs[0].startswith("spec: Invalid value") and errs[0].endswith("field is immutable")


def hpa(api_version="autoscaling/v2", **spec):
    base = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 3}
    return {"apiVersion": api_version, "metadata": meta("h", namespace="d"), "spec": {**base, **spec}}


@pytest.mark.parametrize("obj,expected", [
    (hpa(minReplicas=1), []),
    (hpa(minReplicas=0), ["spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"]),
    (hpa(minReplicas=5), ["spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"]),
    (hpa(scaleTargetRef={"kind": "Deployment"}), ["spec.scaleTargetRef.name: Required value"]),
    (hpa(metrics=[{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization"}}}]),
     ["spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value "
      "or a target utilization"]),
    (hpa(metrics=[{"type": "Pods", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 5}}}]),
     ["spec.metrics[0].pods: Required value: must populate information for the given metric source"]),
    (hpa("autoscaling/v1", targetCPUUtilizationPercentage=0),
     ["spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"]),
], ids=["a valid autoscaler passes", "minReplicas is at least 1", "max is not below min",
        "the target needs a name", "a resource target needs a value", "the source matches the type",
        "a v1 object is checked in its v2 form"])
def test_horizontal_pod_autoscaler(obj, expected):
    assert create("autoscaling", "HorizontalPodAutoscaler", obj) == expected


def test_runtime_class_handler_is_a_fixed_dns_label():
    rc = {"metadata": meta("gvisor"), "handler": "runsc"}
    assert create("node.k8s.io", "RuntimeClass", rc) == []
    assert create("node.k8s.io", "RuntimeClass", {**rc, "handler": "Run_SC"})[0].startswith(
        'handler: Invalid value: "Run_SC": a lowercase RFC 1123 label')
    assert update("node.k8s.io", "RuntimeClass", {**rc, "handler": "runc"}, rc) == [
        'handler: Invalid value: "runc": field is immutable']


def _csr_pem() -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alice")])).sign(key, hashes.SHA256())
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


def csr(**spec):
    base = {"request": _csr_pem(), "signerName": "kubernetes.io/kube-apiserver-client", "usages": ["client auth"]}
    return {"metadata": meta("req"), "spec": {**base, **spec}}


@pytest.mark.parametrize("obj,expected", [
    (csr(), []),
    (csr(request=base64.b64encode(b"not pem").decode()),
     ['spec.request: Invalid value: "<request bytes>": PEM block type must be CERTIFICATE REQUEST']),
    (csr(usages=[]), ["spec.usages: Required value"]),
    (csr(usages=["flying"]), None),
    (csr(signerName="nodomain"),
     ["spec.signerName: Invalid value: \"nodomain\": must be a fully qualified domain and path of the form "
      "'example.com/signer-name'"]),
    (csr(expirationSeconds=60),
     ["spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)"]),
], ids=["a valid request passes", "the request is a PEM CSR", "usages are required", "usages are from the list",
        "signer names are domain/path", "expiration is at least ten minutes"])
def test_certificate_signing_request(obj, expected):
    errs = create("certificates.k8s.io", "CertificateSigningRequest", obj)
    if expected is None:
        assert len(errs) == 1 and errs[0].startswith('spec.usages[0]: Unsupported value: "flying"')
    else:
        assert errs == expected


def test_csr_approval_cannot_be_both_approved_and_denied():
    base = csr()
    both = {**base, "status": {"conditions": [{"type": "Approved", "status": "True"},
                                              {"type": "Denied", "status": "True"}]}}
    from kubepy.api.validation import certificates

    errs = texts(certificates.validate_csr_approval_update({**both, "metadata": {**both["metadata"], **RV}},
                                                          {**base, "metadata": {**base["metadata"], **RV}}))
    assert any("Approved and Denied conditions are mutually exclusive" in e for e in errs)


HOOK = {"name": "check.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
        "clientConfig": {"url": "https://hook.example.com/"}}


@pytest.mark.parametrize("hook,expected", [
    (HOOK, []),
    ({**HOOK, "name": "check"}, ['webhooks[0].name: Invalid value: "check": should be a domain with at least '
                                 'three segments separated by dots']),
    ({k: v for k, v in HOOK.items() if k != "sideEffects"},
     ["webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"]),
    ({**HOOK, "clientConfig": {}}, ["webhooks[0].clientConfig: Required value: exactly one of url or service is required"]),
    ({**HOOK, "timeoutSeconds": 31}, ["webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be "
                                      "between 1 and 30 seconds"]),
], ids=["a valid webhook passes", "names have three segments", "sideEffects is required",
        "url or service", "timeouts are at most 30 s"])
def test_validating_webhook_configuration(hook, expected):
    obj = {"metadata": meta("hooks"), "webhooks": [hook]}
    assert create("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", obj) == expected
