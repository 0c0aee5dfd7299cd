"""Defaulting fills in what upstream's SetDefaults_* and declarative defaults fill in."""

import copy

import pytest

from kubepy.api.defaults import apply_defaults, image_pull_policy, prepare_namespace_for_create
from kubepy.api.resources import BUILTIN

CORE = "io.k8s.api.core.v1."
APPS = "io.k8s.api.apps.v1."
BATCH = "io.k8s.api.batch.v1."


def get(obj, path):
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def container(**extra):
    c = {"name": "c", "image": "nginx:1.25"}
    c.update(extra)
    return c


def template(**spec):
    return {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [container()], **spec}}


CASES = [
    # (id, schema, object, {path: expected})
    ("a pod gets its pod-level defaults", CORE + "Pod", {"spec": {"containers": [container()]}}, {
        "spec.restartPolicy": "Always", "spec.dnsPolicy": "ClusterFirst", "spec.schedulerName": "default-scheduler",
        "spec.terminationGracePeriodSeconds": 30, "spec.securityContext": {}, "spec.enableServiceLinks": True,
    }),
    ("a pod container gets its defaults", CORE + "Pod", {"spec": {"containers": [container(ports=[{"containerPort": 80}])]}}, {
        "spec.containers.0.terminationMessagePath": "/dev/termination-log",
        "spec.containers.0.terminationMessagePolicy": "File",
        "spec.containers.0.imagePullPolicy": "IfNotPresent",
        "spec.containers.0.resources": {},
        "spec.containers.0.ports.0.protocol": "TCP",
    }),
    ("probes get thresholds and httpGet scheme and path", CORE + "Pod",
     {"spec": {"containers": [container(livenessProbe={"httpGet": {"port": 80}}, startupProbe={"grpc": {"port": 9}})]}}, {
        "spec.containers.0.livenessProbe.timeoutSeconds": 1, "spec.containers.0.livenessProbe.periodSeconds": 10,
        "spec.containers.0.livenessProbe.successThreshold": 1, "spec.containers.0.livenessProbe.failureThreshold": 3,
        "spec.containers.0.livenessProbe.httpGet.scheme": "HTTP", "spec.containers.0.livenessProbe.httpGet.path": "/",
        "spec.containers.0.startupProbe.grpc.service": "",
    }),
    ("volumes get modes and sources", CORE + "Pod", {"spec": {"containers": [container()], "volumes": [
        {"name": "a"}, {"name": "b", "secret": {"secretName": "s"}}, {"name": "c", "configMap": {"name": "c"}},
        {"name": "d", "downwardAPI": {"items": [{"path": "x", "fieldRef": {"fieldPath": "metadata.name"}}]}},
        {"name": "e", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        {"name": "f", "hostPath": {"path": "/x"}},
    ]}}, {
        "spec.volumes.0.emptyDir": {}, "spec.volumes.1.secret.defaultMode": 420, "spec.volumes.2.configMap.defaultMode": 420,
        "spec.volumes.3.downwardAPI.defaultMode": 420, "spec.volumes.3.downwardAPI.items.0.fieldRef.apiVersion": "v1",
        "spec.volumes.4.projected.defaultMode": 420,
        "spec.volumes.4.projected.sources.0.serviceAccountToken.expirationSeconds": 3600,
        "spec.volumes.5.hostPath.type": "",
    }),
    ("env fieldRef gets apiVersion v1", CORE + "Pod", {"spec": {"containers": [container(
        env=[{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}])]}}, {
        "spec.containers.0.env.0.valueFrom.fieldRef.apiVersion": "v1",
    }),
    ("a service gets ClusterIP defaults and targetPort from port", CORE + "Service", {"spec": {"ports": [{"port": 80}]}}, {
        "spec.type": "ClusterIP", "spec.sessionAffinity": "None", "spec.internalTrafficPolicy": "Cluster",
        "spec.ports.0.protocol": "TCP", "spec.ports.0.targetPort": 80,
    }),
    ("a NodePort service gets an external traffic policy", CORE + "Service", {"spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http"}]}}, {
        "spec.externalTrafficPolicy": "Cluster", "spec.ports.0.targetPort": "http",
    }),
    ("a LoadBalancer service allocates node ports", CORE + "Service", {"spec": {"type": "LoadBalancer"}}, {
        "spec.allocateLoadBalancerNodePorts": True, "spec.externalTrafficPolicy": "Cluster",
    }),
    ("ClientIP affinity gets a timeout", CORE + "Service", {"spec": {"sessionAffinity": "ClientIP"}}, {
        "spec.sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
    }),
    ("a deployment gets rolling-update defaults", APPS + "Deployment", {"spec": {"template": template()}}, {
        "spec.replicas": 1, "spec.strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "spec.revisionHistoryLimit": 10, "spec.progressDeadlineSeconds": 600,
        "spec.template.spec.restartPolicy": "Always", "spec.template.spec.containers.0.imagePullPolicy": "IfNotPresent",
    }),
    ("a recreate deployment gets no rollingUpdate", APPS + "Deployment", {"spec": {"strategy": {"type": "Recreate"}, "template": template()}}, {
        "spec.strategy": {"type": "Recreate"},
    }),
    ("a replica set gets one replica", APPS + "ReplicaSet", {"spec": {"template": template()}}, {"spec.replicas": 1}),
    ("a stateful set gets its policies", APPS + "StatefulSet", {"spec": {"template": template(), "volumeClaimTemplates": [
        {"metadata": {"name": "d"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}}, {
        "spec.replicas": 1, "spec.podManagementPolicy": "OrderedReady",
        "spec.updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "spec.revisionHistoryLimit": 10,
        "spec.persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "spec.volumeClaimTemplates.0.spec.volumeMode": "Filesystem", "spec.volumeClaimTemplates.0.status.phase": "Pending",
    }),
    ("a daemon set gets its update strategy", APPS + "DaemonSet", {"spec": {"template": template()}}, {
        "spec.updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        "spec.revisionHistoryLimit": 10,
    }),
    ("a job gets completions and backoff", BATCH + "Job", {"spec": {"template": template(restartPolicy="Never")}}, {
        "spec.completions": 1, "spec.parallelism": 1, "spec.backoffLimit": 6, "spec.completionMode": "NonIndexed",
        "spec.suspend": False, "spec.podReplacementPolicy": "TerminatingOrFailed", "spec.manualSelector": False,
        "spec.template.spec.restartPolicy": "Never", "metadata.labels": {"app": "a"},
    }),
    ("a parallel job keeps completions unset", BATCH + "Job", {"spec": {"parallelism": 3, "template": template()}}, {
        "spec.parallelism": 3,
    }),
    ("a job with a failure policy replaces only failed pods", BATCH + "Job", {"spec": {"template": template(),
        "podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}}}, {
        "spec.podReplacementPolicy": "Failed", "spec.podFailurePolicy.rules.0.onPodConditions.0.status": "True",
    }),
    ("a cron job gets history limits", BATCH + "CronJob", {"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template()}}}}, {
        "spec.concurrencyPolicy": "Allow", "spec.suspend": False, "spec.successfulJobsHistoryLimit": 3,
        "spec.failedJobsHistoryLimit": 1, "spec.jobTemplate.spec.template.spec.dnsPolicy": "ClusterFirst",
    }),
    ("a replication controller takes selector and labels from its template", CORE + "ReplicationController",
     {"metadata": {"name": "rc"}, "spec": {"template": template()}}, {
        "spec.replicas": 1, "spec.selector": {"app": "a"}, "metadata.labels": {"app": "a"},
    }),
    ("a namespace is active and labelled with its name", CORE + "Namespace", {"metadata": {"name": "dev"}}, {
        "status.phase": "Active", "metadata.labels": {"kubernetes.io/metadata.name": "dev"},
    }),
    ("a secret is opaque", CORE + "Secret", {"metadata": {"name": "s"}}, {"type": "Opaque"}),
    ("a persistent volume is retained", CORE + "PersistentVolume", {"spec": {"capacity": {"storage": "1Gi"}}}, {
        "spec.persistentVolumeReclaimPolicy": "Retain", "spec.volumeMode": "Filesystem", "status.phase": "Pending",
    }),
    ("a claim is a filesystem", CORE + "PersistentVolumeClaim", {"spec": {"resources": {"requests": {"storage": "1.5Gi"}}}}, {
        "spec.volumeMode": "Filesystem", "status.phase": "Pending", "spec.resources.requests.storage": "1536Mi",
    }),
    ("endpoints ports are TCP", CORE + "Endpoints", {"subsets": [{"ports": [{"port": 80}]}]}, {"subsets.0.ports.0.protocol": "TCP"}),
    ("endpoint slice ports get a name and protocol", "io.k8s.api.discovery.v1.EndpointSlice",
     {"addressType": "IPv4", "endpoints": [], "ports": [{"port": 80}]}, {"ports.0.protocol": "TCP", "ports.0.name": ""}),
    ("node allocatable defaults to capacity", CORE + "Node", {"status": {"capacity": {"cpu": "2", "memory": "4Gi"}}}, {
        "status.allocatable": {"cpu": "2", "memory": "4Gi"},
    }),
    ("container limit ranges default requests and limits", CORE + "LimitRange", {"spec": {"limits": [
        {"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "64Mi"}}]}}, {
        "spec.limits.0.default": {"cpu": "2"}, "spec.limits.0.defaultRequest": {"cpu": "2", "memory": "64Mi"},
    }),
]


@pytest.mark.parametrize(("schema", "obj", "expected"), [pytest.param(s, o, e, id=i) for i, s, o, e in CASES])
def test_defaults(schema, obj, expected):
    apply_defaults(obj, schema)
    for path, value in expected.items():
        assert get(obj, path) == value, path


def test_parallel_job_completions_stay_unset():
    obj = {"spec": {"parallelism": 3, "template": template()}}
    apply_defaults(obj, BATCH + "Job")
    assert "completions" not in obj["spec"]


def test_recreate_deployment_has_no_rolling_update():
    obj = {"spec": {"strategy": {"type": "Recreate"}, "template": template()}}
    apply_defaults(obj, APPS + "Deployment")
    assert "rollingUpdate" not in obj["spec"]["strategy"]


def test_explicit_values_are_kept():
    obj = {"spec": {"replicas": 0, "revisionHistoryLimit": 0, "template": template(restartPolicy="OnFailure", dnsPolicy="Default")}}
    apply_defaults(obj, APPS + "Deployment")
    assert obj["spec"]["replicas"] == 0
    assert obj["spec"]["revisionHistoryLimit"] == 0
    assert obj["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert obj["spec"]["template"]["spec"]["dnsPolicy"] == "Default"


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        pytest.param("nginx", "Always", id="no tag means latest"),
        pytest.param("nginx:latest", "Always", id="the latest tag"),
        pytest.param("nginx:1.25", "IfNotPresent", id="a version tag"),
        pytest.param("localhost:5000/app", "Always", id="a registry port is not a tag"),
        pytest.param("registry.io/team/app:v2", "IfNotPresent", id="a tagged image in a registry"),
        pytest.param("nginx@sha256:" + "a" * 64, "IfNotPresent", id="a digest without a tag"),
        pytest.param("Nginx", "IfNotPresent", id="an unparsable name"),
    ],
)
def test_image_pull_policy_by_tag(image, policy):
    assert image_pull_policy(image) == policy
    pod = {"spec": {"containers": [{"name": "c", "image": image}]}}
    apply_defaults(pod, CORE + "Pod")
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_pod_requests_default_to_limits_and_quantities_are_canonical():
    pod = {"spec": {
        "containers": [container(resources={"limits": {"cpu": "0.5", "memory": "1024Mi"}, "requests": {"cpu": "0.0001"}})],
        "initContainers": [container(resources={"limits": {"cpu": 1}})],
    }}
    apply_defaults(pod, CORE + "Pod")
    c = pod["spec"]["containers"][0]["resources"]
    assert c["limits"] == {"cpu": "500m", "memory": "1Gi"}
    assert c["requests"] == {"cpu": "1m", "memory": "1Gi"}  # explicit request rounded up to milli
    assert pod["spec"]["initContainers"][0]["resources"] == {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}


def test_templates_do_not_get_pod_only_defaults():
    obj = {"spec": {"template": template()}}
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1"}}
    apply_defaults(obj, APPS + "Deployment")
    tspec = obj["spec"]["template"]["spec"]
    assert "enableServiceLinks" not in tspec
    assert "requests" not in tspec["containers"][0]["resources"]


def test_host_network_pods_default_host_ports():
    pod = {"spec": {"hostNetwork": True, "containers": [container(ports=[{"containerPort": 8080}])]}}
    apply_defaults(pod, CORE + "Pod")
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080


@pytest.mark.parametrize(
    ("value", "canonical"),
    [pytest.param("0.5", "500m", id="half"), pytest.param("1000Mi", "1000Mi", id="binary kept"),
     pytest.param(2, "2", id="a JSON number becomes a string"), pytest.param("1e3", "1e3", id="exponent kept")],
)
def test_quantity_fields_outside_resource_lists_are_canonicalised(value, canonical):
    pod = {"spec": {"containers": [container()], "volumes": [{"name": "v", "emptyDir": {"sizeLimit": value}}]}}
    apply_defaults(pod, CORE + "Pod")
    assert pod["spec"]["volumes"][0]["emptyDir"]["sizeLimit"] == canonical


@pytest.mark.parametrize("info", [pytest.param(i, id=f"{i.kind} ({i.group or 'core'})") for i in BUILTIN])
def test_defaulting_every_builtin_kind_is_idempotent(info):
    obj = {"metadata": {"name": "x"}, "spec": {"template": template()}}
    apply_defaults(obj, info.schema)
    once = copy.deepcopy(obj)
    apply_defaults(obj, info.schema)
    assert obj == once


def test_namespace_finalizer_is_a_create_time_rule_not_a_default():
    ns = {"metadata": {"name": "dev"}, "spec": {"finalizers": []}}
    apply_defaults(ns, CORE + "Namespace")
    assert ns["spec"]["finalizers"] == []
    prepare_namespace_for_create(ns)
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    assert ns["status"] == {"phase": "Active"}
