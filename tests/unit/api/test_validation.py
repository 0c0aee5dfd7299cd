"""Validation of built-in kinds: valid objects pass, each rule reports upstream's path, reason and text."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from kubepy.api.validation import batch, names, validate_create, validate_status_update, validate_update
from kubepy.api.validation.cron import parse_standard_error
from kubepy.api.validation.quantities import canonical, parse_quantity

DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1123_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_LABEL_ERR = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED_NAME_PART_ERR = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
CONFIG_KEY_ERR = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)


# --- builders of defaulted objects ---------------------------------------------------------


def container(name: str = "nginx", image: str = "nginx") -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "Always",
    }


def pod_spec(**extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [container()],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
    }
    spec.update(extra)
    return spec


def pod() -> dict[str, Any]:
    """A Pod with volumes, mounts, env, ports, resources and probes, as stored after defaulting."""
    c = container("web", "nginx:1.27")
    c["ports"] = [{"name": "http", "containerPort": 80, "protocol": "TCP"}]
    c["env"] = [
        {"name": "MODE", "value": "prod"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
        {"name": "KEY", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "key.name"}}},
    ]
    c["resources"] = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}
    c["volumeMounts"] = [
        {"name": "data", "mountPath": "/data"},
        {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True},
        {"name": "token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True},
    ]
    probe = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    c["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, **probe}
    c["readinessProbe"] = {"tcpSocket": {"port": 80}, **probe}
    c["startupProbe"] = {"exec": {"command": ["true"]}, **probe}
    init = container("init", "busybox")
    init["command"] = ["sh", "-c", "true"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "labels": {"app": "web"}, "uid": "u1", "resourceVersion": "5"},
        "spec": pod_spec(
            containers=[c],
            initContainers=[init],
            serviceAccountName="default",
            serviceAccount="default",
            nodeSelector={"kubernetes.io/os": "linux"},
            tolerations=[
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ],
            volumes=[
                {"name": "data", "emptyDir": {}},
                {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 420}},
                {
                    "name": "token",
                    "projected": {
                        "defaultMode": 420,
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                            {
                                "downwardAPI": {
                                    "items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]
                                }
                            },
                        ],
                    },
                },
            ],
        ),
    }


def deployment() -> dict[str, Any]:
    """``kubectl create deployment web --image=nginx`` after defaulting."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}, "generation": 1,
                     "uid": "d1", "resourceVersion": "7"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                "spec": pod_spec(),
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
    }


def service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "uid": "s1", "resourceVersion": "3"},
        "spec": {
            "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                {"name": "https", "protocol": "TCP", "port": 443, "targetPort": "https"},
            ],
            "selector": {"app": "web"},
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        },
    }


def job() -> dict[str, Any]:
    j: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default", "uid": "0b2b7c86-1f5c-4b3f-9d7e-000000000001",
                     "resourceVersion": "9"},
        "spec": {
            "parallelism": 1,
            "completions": 1,
            "backoffLimit": 6,
            "completionMode": "NonIndexed",
            "suspend": False,
            "podReplacementPolicy": "TerminatingOrFailed",
            "manualSelector": None,
            "template": {"metadata": {}, "spec": pod_spec(restartPolicy="Never", containers=[container("pi", "perl")])},
        },
    }
    batch.generate_job_selector(j)
    return j


def cron_job() -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "hello", "namespace": "default", "uid": "c1", "resourceVersion": "2"},
        "spec": {
            "schedule": "*/5 * * * *",
            "timeZone": "Europe/Paris",
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {},
                "spec": {
                    "backoffLimit": 6,
                    "template": {"metadata": {}, "spec": pod_spec(restartPolicy="OnFailure", containers=[container("hello", "busybox")])},
                },
            },
        },
    }


def stateful_set() -> dict[str, Any]:
    return {
        "metadata": {"name": "db", "namespace": "default", "resourceVersion": "1"},
        "spec": {
            "replicas": 3,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": pod_spec()},
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10,
        },
    }


def daemon_set() -> dict[str, Any]:
    return {
        "metadata": {"name": "agent", "namespace": "kube-system", "resourceVersion": "1"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": pod_spec()},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
        },
    }


def config_map() -> dict[str, Any]:
    return {"metadata": {"name": "cfg", "namespace": "default", "resourceVersion": "1"}, "data": {"key.name": "v"}}


def secret(stype: str = "Opaque", data: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "s", "namespace": "default", "resourceVersion": "1"}, "type": stype, "data": data or {}}


def pvc() -> dict[str, Any]:
    return {
        "metadata": {"name": "data", "namespace": "default", "resourceVersion": "1"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"},
    }


BUILDERS: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {
    ("", "Pod"): pod,
    ("apps", "Deployment"): deployment,
    ("", "Service"): service,
    ("batch", "Job"): job,
    ("batch", "CronJob"): cron_job,
    ("apps", "StatefulSet"): stateful_set,
    ("apps", "DaemonSet"): daemon_set,
    ("", "ConfigMap"): config_map,
    ("", "Secret"): secret,
    ("", "PersistentVolumeClaim"): pvc,
}


def errors_of(group: str, kind: str, mutate: Callable[[dict[str, Any]], Any] | None = None) -> list[tuple[str, str, str]]:
    obj = BUILDERS[(group, kind)]()
    if mutate is not None:
        mutate(obj)
    return [(e.field, e.reason, e.body) for e in validate_create(group, kind, obj)]


# --- valid objects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "kind"),
    list(BUILDERS),
    ids=[f"a defaulted {k or 'core'} {kind} is valid" for k, kind in BUILDERS],
)
def test_valid_objects_have_no_errors(group, kind):
    assert errors_of(group, kind) == []


def test_unknown_kind_gets_metadata_validation_only():
    assert validate_create("example.com", "Widget", {"metadata": {"name": "a", "namespace": "x"}, "spec": {"anything": 1}}) == []
    errs = validate_create("example.com", "Widget", {"metadata": {"namespace": "x"}})
    assert [(e.field, e.body) for e in errs] == [("metadata.name", "Required value: name or generateName is required")]


# --- create rules: (id, group, kind, mutation, field, reason, body) ----------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(obj: dict[str, Any]) -> None:
        keys = path.split(".")
        target = obj
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        last = keys[-1]
        if value is _DELETE:
            if isinstance(target, list):
                del target[int(last)]
            else:
                target.pop(last, None)
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return apply


_DELETE = object()
CTR = "spec.containers.0"
TPL = "spec.template.spec"

CREATE_CASES = [
    ("name is required", "", "ConfigMap", _set("metadata.name", _DELETE),
     "metadata.name", "FieldValueRequired", "Required value: name or generateName is required"),
    ("name must be a DNS subdomain", "", "ConfigMap", _set("metadata.name", "Bad_Name"),
     "metadata.name", "FieldValueInvalid", f'Invalid value: "Bad_Name": {DNS1123_SUBDOMAIN_ERR}'),
    ("a too long name is reported", "", "ConfigMap", _set("metadata.name", "a" * 254),
     "metadata.name", "FieldValueInvalid", f'Invalid value: "{"a" * 254}": must be no more than 253 characters'),
    ("service names are DNS-1035 labels", "", "Service", _set("metadata.name", "1web"),
     "metadata.name", "FieldValueInvalid", f'Invalid value: "1web": {DNS1035_LABEL_ERR}'),
    ("namespace is required for namespaced kinds", "", "ConfigMap", _set("metadata.namespace", ""),
     "metadata.namespace", "FieldValueRequired", "Required value"),
    ("label keys are qualified names", "", "ConfigMap", _set("metadata.labels", {"bad key": "v"}),
     "metadata.labels", "FieldValueInvalid", f'Invalid value: "bad key": {QUALIFIED_NAME_PART_ERR}'),
    ("label values are label values", "", "ConfigMap", _set("metadata.labels", {"k": "-v"}),
     "metadata.labels", "FieldValueInvalid", f'Invalid value: "-v": {LABEL_VALUE_ERR}'),
    ("annotation size is limited to 256 KiB", "", "ConfigMap", _set("metadata.annotations", {"a": "x" * (256 * 1024)}),
     "metadata.annotations", "FieldValueTooLong", "Too long: may not be more than 262144 bytes"),
    ("finalizers are qualified names", "", "ConfigMap", _set("metadata.finalizers", ["a/b/c"]),
     "metadata.finalizers", "FieldValueInvalid",
     "Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
     "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
     "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"),
    ("unprefixed finalizers must be standard", "", "ConfigMap", _set("metadata.finalizers", ["custom"]),
     "metadata.finalizers[0]", "FieldValueInvalid",
     'Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified'),
    ("owner references need a uid", "", "ConfigMap",
     _set("metadata.ownerReferences", [{"apiVersion": "v1", "kind": "Pod", "name": "p"}]),
     "metadata.ownerReferences.uid", "FieldValueInvalid", 'Invalid value: "": must not be empty'),
    ("owner references need a version", "", "ConfigMap",
     _set("metadata.ownerReferences", [{"apiVersion": "", "kind": "Pod", "name": "p", "uid": "1"}]),
     "metadata.ownerReferences.apiVersion", "FieldValueInvalid", 'Invalid value: "": version must not be empty'),
    ("config keys are validated", "", "ConfigMap", _set("data", {"a b": "x"}),
     "data[a b]", "FieldValueInvalid", f'Invalid value: "a b": {CONFIG_KEY_ERR}'),
    ("config maps are limited to 1 MiB", "", "ConfigMap", _set("data", {"k": "x" * (1024 * 1024 + 1)}),
     "", "FieldValueTooLong", "Too long: may not be more than 1048576 bytes"),
    ("tls secrets need tls.crt", "", "Secret", lambda o: o.update(type="kubernetes.io/tls", data={"tls.key": "eA=="}),
     "data[tls.crt]", "FieldValueRequired", "Required value"),
    ("dockerconfigjson must be JSON", "", "Secret",
     lambda o: o.update(type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": "eA=="}),
     "data[.dockerconfigjson]", "FieldValueInvalid",
     "Invalid value: \"<secret contents redacted>\": invalid character 'x' looking for beginning of value"),
    # Pod
    ("a pod needs a container", "", "Pod", _set("spec.containers", []),
     "spec.containers", "FieldValueRequired", "Required value"),
    ("a container needs an image", "", "Pod", _set(f"{CTR}.image", ""),
     "spec.containers[0].image", "FieldValueRequired", "Required value"),
    ("container names are DNS labels", "", "Pod", _set(f"{CTR}.name", "Web"),
     "spec.containers[0].name", "FieldValueInvalid", f'Invalid value: "Web": {DNS1123_LABEL_ERR}'),
    ("init and app container names are unique", "", "Pod", _set("spec.initContainers.0.name", "web"),
     "spec.initContainers[0].name", "FieldValueDuplicate", 'Duplicate value: "web"'),
    ("containerPort must be in range", "", "Pod", _set(f"{CTR}.ports.0.containerPort", 70000),
     "spec.containers[0].ports[0].containerPort", "FieldValueInvalid", "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    ("port protocol is an enum", "", "Pod", _set(f"{CTR}.ports.0.protocol", "HTTP"),
     "spec.containers[0].ports[0].protocol", "FieldValueNotSupported",
     'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'),
    ("port names are IANA service names", "", "Pod", _set(f"{CTR}.ports.0.name", "1234"),
     "spec.containers[0].ports[0].name", "FieldValueInvalid", 'Invalid value: "1234": must contain at least one letter (a-z)'),
    ("env names may not contain '='", "", "Pod", _set(f"{CTR}.env.0.name", "A=B"),
     "spec.containers[0].env[0].name", "FieldValueInvalid",
     "Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"),
    ("volume names are unique", "", "Pod", _set("spec.volumes.1.name", "data"),
     "spec.volumes[1].name", "FieldValueDuplicate", 'Duplicate value: "data"'),
    ("a volume needs exactly one source", "", "Pod", _set("spec.volumes.0.hostPath", {"path": "/tmp"}),
     "spec.volumes[0].hostPath", "FieldValueForbidden", "Forbidden: may not specify more than 1 volume type"),
    ("a volume needs a source", "", "Pod", _set("spec.volumes.0", {"name": "data"}),
     "spec.volumes[0]", "FieldValueRequired", "Required value: must specify a volume type"),
    ("mounts must name an existing volume", "", "Pod", _set(f"{CTR}.volumeMounts.0.name", "nope"),
     "spec.containers[0].volumeMounts[0].name", "FieldValueNotFound", 'Not found: "nope"'),
    ("mounts need a mountPath", "", "Pod", _set(f"{CTR}.volumeMounts.0.mountPath", ""),
     "spec.containers[0].volumeMounts[0].mountPath", "FieldValueRequired", "Required value"),
    ("restartPolicy is an enum", "", "Pod", _set("spec.restartPolicy", "Sometimes"),
     "spec.restartPolicy", "FieldValueNotSupported",
     'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'),
    ("dnsPolicy is an enum", "", "Pod", _set("spec.dnsPolicy", "Google"),
     "spec.dnsPolicy", "FieldValueNotSupported",
     'Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'),
    ("requests may not exceed limits", "", "Pod", _set(f"{CTR}.resources.requests.cpu", "1"),
     "spec.containers[0].resources.requests", "FieldValueInvalid",
     'Invalid value: "1": must be less than or equal to cpu limit of 500m'),
    ("resource names must be standard", "", "Pod", _set(f"{CTR}.resources.limits.gpu", "1"),
     "spec.containers[0].resources.limits[gpu]", "FieldValueInvalid",
     'Invalid value: "gpu": must be a standard resource type or fully qualified'),
    ("quantities may not be negative", "", "Pod", _set(f"{CTR}.resources.requests.memory", "-1"),
     "spec.containers[0].resources.requests[memory]", "FieldValueInvalid", 'Invalid value: "-1": must be greater than or equal to 0'),
    ("liveness probes need successThreshold 1", "", "Pod", _set(f"{CTR}.livenessProbe.successThreshold", 2),
     "spec.containers[0].livenessProbe.successThreshold", "FieldValueInvalid", "Invalid value: 2: must be 1"),
    ("probes need a handler", "", "Pod", _set(f"{CTR}.readinessProbe.tcpSocket", _DELETE),
     "spec.containers[0].readinessProbe", "FieldValueRequired", "Required value: must specify a handler type"),
    ("probe periods are non-negative", "", "Pod", _set(f"{CTR}.startupProbe.periodSeconds", -1),
     "spec.containers[0].startupProbe.periodSeconds", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0"),
    ("runAsUser is a uint32", "", "Pod", _set(f"{CTR}.securityContext", {"runAsUser": -1}),
     "spec.containers[0].securityContext.runAsUser", "FieldValueInvalid",
     "Invalid value: -1: must be between 0 and 4294967295, inclusive"),
    ("nodeSelector keys are label keys", "", "Pod", _set("spec.nodeSelector", {"a/b/c": "x"}),
     "spec.nodeSelector", "FieldValueInvalid", None),
    ("toleration operator is an enum", "", "Pod", _set("spec.tolerations.0.operator", "Maybe"),
     "spec.tolerations[0].operator", "FieldValueNotSupported", 'Unsupported value: "Maybe": supported values: "Equal", "Exists"'),
    ("Exists tolerations may not carry a value", "", "Pod", _set("spec.tolerations.0.value", "x"),
     "spec.tolerations[0].operator", "FieldValueInvalid", "Invalid value: \"x\": value must be empty when `operator` is 'Exists'"),
    ("toleration effect is an enum", "", "Pod", _set("spec.tolerations.0.effect", "Never"),
     "spec.tolerations[0].effect", "FieldValueNotSupported",
     'Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'),
    ("node affinity needs terms", "", "Pod",
     _set("spec.affinity", {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}),
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", "FieldValueRequired",
     "Required value: must have at least one node selector term"),
    ("terminationGracePeriodSeconds is required", "", "Pod", _set("spec.terminationGracePeriodSeconds", _DELETE),
     "spec.terminationGracePeriodSeconds", "FieldValueRequired", "Required value"),
    ("activeDeadlineSeconds must be positive", "", "Pod", _set("spec.activeDeadlineSeconds", 0),
     "spec.activeDeadlineSeconds", "FieldValueInvalid", "Invalid value: 0: must be between 1 and 2147483647, inclusive"),
    ("pod images may not carry whitespace", "", "Pod", _set(f"{CTR}.image", " nginx"),
     "spec.containers[0].image", "FieldValueInvalid", 'Invalid value: " nginx": must not have leading or trailing whitespace'),
    # Service
    ("a service needs ports", "", "Service", _set("spec.ports", []),
     "spec.ports", "FieldValueRequired", "Required value"),
    ("service ports need names when there are several", "", "Service", _set("spec.ports.1.name", ""),
     "spec.ports[1].name", "FieldValueRequired", "Required value"),
    ("service port names are unique", "", "Service", _set("spec.ports.1.name", "http"),
     "spec.ports[1].name", "FieldValueDuplicate", 'Duplicate value: "http"'),
    ("service ports are in range", "", "Service", _set("spec.ports.0.port", 0),
     "spec.ports[0].port", "FieldValueInvalid", "Invalid value: 0: must be between 1 and 65535, inclusive"),
    ("service targetPort names are port names", "", "Service", _set("spec.ports.1.targetPort", "HTTPS"),
     "spec.ports[1].targetPort", "FieldValueInvalid",
     'Invalid value: "HTTPS": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'),
    ("service type is an enum", "", "Service", _set("spec.type", "Ingress"),
     "spec.type", "FieldValueNotSupported",
     'Unsupported value: "Ingress": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'),
    ("ClusterIP services may not use nodePort", "", "Service", _set("spec.ports.0.nodePort", 30080),
     "spec.ports[0].nodePort", "FieldValueForbidden", "Forbidden: may not be used when `type` is 'ClusterIP'"),
    ("selector values are label values", "", "Service", _set("spec.selector", {"app": "web!"}),
     "spec.selector", "FieldValueInvalid", f'Invalid value: "web!": {LABEL_VALUE_ERR}'),
    ("ExternalName needs a name", "", "Service",
     lambda o: o["spec"].update(type="ExternalName", clusterIP="", clusterIPs=None, ipFamilies=None, ipFamilyPolicy=None,
                                internalTrafficPolicy=None),
     "spec.externalName", "FieldValueRequired", "Required value"),
    # apps
    ("deployments need a selector", "apps", "Deployment", _set("spec.selector", _DELETE),
     "spec.selector", "FieldValueRequired", "Required value"),
    ("an empty selector is invalid", "apps", "Deployment", _set("spec.selector", {}),
     "spec.selector", "FieldValueInvalid", "Invalid value: {}: empty selector is invalid for deployment"),
    ("the selector must match the template labels", "apps", "Deployment", _set("spec.template.metadata.labels", {"app": "api"}),
     "spec.template.metadata.labels", "FieldValueInvalid",
     'Invalid value: {"app":"api"}: `selector` does not match template `labels`'),
    ("replicas are non-negative", "apps", "Deployment", _set("spec.replicas", -1),
     "spec.replicas", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0"),
    ("maxUnavailable and maxSurge are not both 0", "apps", "Deployment",
     _set("spec.strategy.rollingUpdate", {"maxUnavailable": 0, "maxSurge": "0%"}),
     "spec.strategy.rollingUpdate.maxUnavailable", "FieldValueInvalid", "Invalid value: 0: may not be 0 when `maxSurge` is 0"),
    ("maxSurge must be a percent string", "apps", "Deployment", _set("spec.strategy.rollingUpdate.maxSurge", "25"),
     "spec.strategy.rollingUpdate.maxSurge", "FieldValueInvalid",
     "Invalid value: \"25\": a valid percent string must be a numeric string followed by an ending '%' "
     "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"),
    ("Recreate may not carry rollingUpdate", "apps", "Deployment", _set("spec.strategy.type", "Recreate"),
     "spec.strategy.rollingUpdate", "FieldValueForbidden", "Forbidden: may not be specified when strategy `type` is 'Recreate'"),
    ("deployment template restartPolicy must be Always", "apps", "Deployment", _set(f"{TPL}.restartPolicy", "Never"),
     "spec.template.spec.restartPolicy", "FieldValueNotSupported", 'Unsupported value: "Never": supported values: "Always"'),
    ("template containers need images", "apps", "Deployment", _set(f"{TPL}.containers.0.image", ""),
     "spec.template.spec.containers[0].image", "FieldValueRequired", "Required value"),
    ("podManagementPolicy is OrderedReady or Parallel", "apps", "StatefulSet", _set("spec.podManagementPolicy", "Fast"),
     "spec.podManagementPolicy", "FieldValueInvalid", "Invalid value: \"Fast\": must be 'OrderedReady' or 'Parallel'"),
    ("an empty statefulset selector is invalid", "apps", "StatefulSet", _set("spec.selector", {}),
     "spec.selector", "FieldValueInvalid", "Invalid value: {}: empty selector is invalid for statefulset"),
    ("daemonset rolling update needs one of maxUnavailable/maxSurge", "apps", "DaemonSet",
     _set("spec.updateStrategy.rollingUpdate.maxUnavailable", 0),
     "spec.updateStrategy.rollingUpdate.maxUnavailable", "FieldValueRequired", "Required value: cannot be 0 when maxSurge is 0"),
    # batch
    ("job restartPolicy must be OnFailure or Never", "batch", "Job", _set(f"{TPL}.restartPolicy", "Always"),
     "spec.template.spec.restartPolicy", "FieldValueRequired", 'Required value: valid values: "OnFailure", "Never"'),
    ("parallelism is non-negative", "batch", "Job", _set("spec.parallelism", -1),
     "spec.parallelism", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0"),
    ("backoffLimit is non-negative", "batch", "Job", _set("spec.backoffLimit", -2),
     "spec.backoffLimit", "FieldValueInvalid", "Invalid value: -2: must be greater than or equal to 0"),
    ("completionMode is an enum", "batch", "Job", _set("spec.completionMode", "Sometimes"),
     "spec.completionMode", "FieldValueNotSupported", 'Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"'),
    ("Indexed jobs need completions", "batch", "Job", lambda o: o["spec"].update(completionMode="Indexed", completions=None),
     "spec.completions", "FieldValueRequired", "Required value: when completion mode is Indexed"),
    ("generated labels must match the uid", "batch", "Job",
     lambda o: o["spec"]["template"]["metadata"]["labels"].update({"batch.kubernetes.io/controller-uid": "other"}),
     "spec.template.metadata.labels[batch.kubernetes.io/controller-uid]", "FieldValueInvalid", None),
    ("a hand-written selector must be auto-generated", "batch", "Job",
     lambda o: (o["spec"]["selector"]["matchLabels"].update({"batch.kubernetes.io/controller-uid": "other"}),
                o["spec"]["template"]["metadata"]["labels"].update({"batch.kubernetes.io/controller-uid": "other"})),
     "spec.selector", "FieldValueInvalid", None),
    ("cron schedules need 5 fields", "batch", "CronJob", _set("spec.schedule", "* * *"),
     "spec.schedule", "FieldValueInvalid", 'Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]'),
    ("cron fields are range checked", "batch", "CronJob", _set("spec.schedule", "60 * * * *"),
     "spec.schedule", "FieldValueInvalid", 'Invalid value: "60 * * * *": end of range (60) above maximum (59): 60'),
    ("TZ is forbidden in schedules", "batch", "CronJob", lambda o: o["spec"].update(schedule="TZ=UTC 0 * * * *", timeZone=None),
     "spec.schedule", "FieldValueInvalid",
     'Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'),
    ("timeZone must exist", "batch", "CronJob", _set("spec.timeZone", "Mars/Olympus"),
     "spec.timeZone", "FieldValueInvalid", 'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'),
    ("concurrencyPolicy is an enum", "batch", "CronJob", _set("spec.concurrencyPolicy", "Sometimes"),
     "spec.concurrencyPolicy", "FieldValueNotSupported",
     'Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'),
    ("cronjob names are at most 52 characters", "batch", "CronJob", _set("metadata.name", "c" * 53),
     "metadata.name", "FieldValueInvalid", f'Invalid value: "{"c" * 53}": must be no more than 52 characters'),
    # PVC
    ("PVCs need access modes", "", "PersistentVolumeClaim", _set("spec.accessModes", []),
     "spec.accessModes", "FieldValueRequired", "Required value: at least 1 access mode is required"),
    ("PVCs need a storage request", "", "PersistentVolumeClaim", _set("spec.resources", {}),
     "spec.resources[storage]", "FieldValueRequired", "Required value"),
]


@pytest.mark.parametrize(
    ("group", "kind", "mutate", "field", "reason", "body"),
    [case[1:] for case in CREATE_CASES],
    ids=[case[0] for case in CREATE_CASES],
)
def test_create_rule(group, kind, mutate, field, reason, body):
    errs = errors_of(group, kind, mutate)
    matching = [(f, r, b) for f, r, b in errs if f == field and r == reason]
    assert matching, f"no {reason} on {field}; got {errs}"
    if body is not None:
        assert body in [b for _, _, b in matching], errs


# --- update rules ------------------------------------------------------------------------


def _update_errors(group: str, kind: str, mutate: Callable[[dict[str, Any]], Any], *, status: bool = False) -> list[tuple[str, str, str]]:
    old = BUILDERS[(group, kind)]()
    new = copy.deepcopy(old)
    mutate(new)
    fn = validate_status_update if status else validate_update
    return [(e.field, e.reason, e.body) for e in fn(group, kind, new, old)]


UPDATE_CASES = [
    ("name is immutable", "", "ConfigMap", _set("metadata.name", "other"),
     "metadata.name", "FieldValueInvalid", 'Invalid value: "other": field is immutable'),
    ("uid is immutable", "apps", "Deployment", _set("metadata.uid", "x"),
     "metadata.uid", "FieldValueInvalid", 'Invalid value: "x": field is immutable'),
    ("resourceVersion is required on update", "", "ConfigMap", _set("metadata.resourceVersion", ""),
     "metadata.resourceVersion", "FieldValueInvalid", 'Invalid value: "": must be specified for an update'),
    ("deployment selector is immutable", "apps", "Deployment",
     lambda o: (o["spec"].update(selector={"matchLabels": {"app": "web", "tier": "x"}}),
                o["spec"]["template"]["metadata"]["labels"].update(tier="x")),
     "spec.selector", "FieldValueInvalid", None),
    ("immutable config maps keep their data", "", "ConfigMap", None,
     "data", "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set"),
    ("secret type is immutable", "", "Secret", _set("type", "kubernetes.io/basic-auth"),
     "type", "FieldValueInvalid", 'Invalid value: "kubernetes.io/basic-auth": field is immutable'),
    ("service clusterIPs may not change", "", "Service",
     lambda o: o["spec"].update(clusterIP="10.96.0.11", clusterIPs=["10.96.0.11"]),
     "spec.clusterIPs[0]", "FieldValueInvalid", 'Invalid value: ["10.96.0.11"]: may not change once set'),
    ("statefulset serviceName may not change", "apps", "StatefulSet", _set("spec.serviceName", "other"),
     "spec", "FieldValueForbidden",
     "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
     "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"),
    ("job template is immutable", "batch", "Job", _set(f"{TPL}.containers.0.image", "perl:5"),
     "spec.template", "FieldValueInvalid", None),
    ("bound PVC spec is immutable beyond resources", "", "PersistentVolumeClaim",
     lambda o: (o["spec"].update(accessModes=["ReadWriteMany"]), o.update(status={"phase": "Bound"})),
     "spec", "FieldValueForbidden", None),
]


@pytest.mark.parametrize(
    ("group", "kind", "mutate", "field", "reason", "body"),
    [case[1:] for case in UPDATE_CASES],
    ids=[case[0] for case in UPDATE_CASES],
)
def test_update_rule(group, kind, mutate, field, reason, body):
    if mutate is None:  # immutable ConfigMap
        old = config_map()
        old["immutable"] = True
        new = copy.deepcopy(old)
        new["data"] = {"key.name": "changed"}
        errs = [(e.field, e.reason, e.body) for e in validate_update(group, kind, new, old)]
    else:
        errs = _update_errors(group, kind, mutate)
    matching = [(f, r, b) for f, r, b in errs if f == field and r == reason]
    assert matching, f"no {reason} on {field}; got {errs}"
    if body is not None:
        assert body in [b for _, _, b in matching]


def test_pod_update_may_change_the_image_only():
    assert _update_errors("", "Pod", _set(f"{CTR}.image", "nginx:1.28")) == []
    errs = _update_errors("", "Pod", _set(f"{CTR}.ports.0.containerPort", 81))
    forbidden = [b for f, r, b in errs if f == "spec" and r == "FieldValueForbidden"]
    assert len(forbidden) == 1
    assert forbidden[0].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
        "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
    )


def test_pod_update_may_add_tolerations_but_not_change_them():
    add = {"key": "k", "operator": "Exists", "effect": "NoSchedule"}
    assert _update_errors("", "Pod", lambda o: o["spec"]["tolerations"].append(add)) == []
    errs = _update_errors("", "Pod", _set("spec.tolerations.0.key", "other"))
    assert ("spec.tolerations", "FieldValueForbidden",
            "Forbidden: existing toleration can not be modified except its tolerationSeconds") in errs


def test_suspended_job_may_change_its_node_selector():
    old = job()
    old["spec"]["suspend"] = True
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["nodeSelector"] = {"zone": "a"}
    assert validate_update("batch", "Job", new, old) == []
    old["spec"]["suspend"] = False
    new["spec"]["suspend"] = False
    assert any(e.field == "spec.template" for e in validate_update("batch", "Job", new, old))


def test_status_update_of_a_namespace_checks_the_phase():
    old = {"metadata": {"name": "ns", "resourceVersion": "1"}, "status": {"phase": "Active"}}
    new = copy.deepcopy(old)
    new["status"]["phase"] = "Terminating"
    errs = validate_status_update("", "Namespace", new, old)
    assert [(e.field, e.body) for e in errs] == [
        ("status.Phase", "Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty")
    ]


# --- names, cron, quantities, selector generation ---------------------------------------------


@pytest.mark.parametrize(
    ("fn", "value", "expected"),
    [
        (names.is_dns1123_label, "a.b", ["must not contain dots"]),
        (names.is_dns1123_label, "a" * 64, ["must be no more than 63 characters"]),
        (names.is_dns1123_subdomain, "example.com", []),
        (names.is_qualified_name, "example.com/MyName", []),
        (names.is_qualified_name, "/name", ["prefix part must be non-empty"]),
        (names.is_valid_label_value, "", []),
        (names.is_c_identifier, "1abc", [
            "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric "
            "characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is "
            "'[A-Za-z_][A-Za-z0-9_]*')"
        ]),
        (names.is_valid_port_name, "http--x", ["must not contain consecutive hyphens"]),
        (names.is_valid_port_name, "a-very-long-port-name", ["must be no more than 15 characters"]),
        (names.is_env_var_name, "1X", [
            "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and "
            "must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
            "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
        ]),
        (names.is_config_map_key, "..x", ["must not start with '..'"]),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_name_checks(fn, value, expected):
    assert fn(value) == expected


def test_generate_name_prefix_may_end_with_a_dash():
    assert names.name_is_dns_subdomain("web-", True) == []
    assert names.name_is_dns_subdomain("web-", False) != []


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        ("@hourly", None),
        ("*/15 9-17 * * mon-fri", None),
        ("0 0 1 jan,jul *", None),
        ("@every 1h30m", None),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("", "empty spec string"),
    ],
)
def test_cron_schedule_parsing(schedule, error):
    assert parse_standard_error(schedule) == error


@pytest.mark.parametrize(
    ("text", "expected"),
    [("500m", "500m"), ("1000m", "1"), ("1Gi", "1Gi"), ("1024Mi", "1Gi"), ("1500", "1500"), ("2000", "2k"), ("0.5", "500m"), ("1e3", "1e3")],
)
def test_quantities_print_canonically(text, expected):
    assert canonical(parse_quantity(text)) == expected


def test_generate_job_selector_labels_template_and_selects_on_uid():
    j = {"metadata": {"name": "pi", "uid": "abc"}, "spec": {"template": {"spec": {}}}}
    batch.generate_job_selector(j)
    assert j["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}}
    assert j["spec"]["template"]["metadata"]["labels"] == {
        "job-name": "pi",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "abc",
        "batch.kubernetes.io/controller-uid": "abc",
    }


def test_causes_render_like_upstream():
    errs = validate_create("", "ConfigMap", {"metadata": {"name": "x"}})
    assert [e.cause() for e in errs] == [{"reason": "FieldValueRequired", "message": "Required value", "field": "metadata.namespace"}]
