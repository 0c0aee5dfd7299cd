"""Tests for kubepy.api.patch: JSON merge patch, JSON patch and strategic merge patch.

Expected strategic-merge results (element order included) were worked out by hand from
upstream's algorithm (strategicpatch.StrategicMergeMapPatch); the kubectl apply patch is
the one recorded in kube-api-compat.md §8.2.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

import kubepy.api.patch as patch_pkg
from kubepy.api.patch import (
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    apply_patch,
    apply_strategic_merge_patch,
)

DEPLOYMENT = "io.k8s.api.apps.v1.Deployment"
NODE = "io.k8s.api.core.v1.Node"
SERVICE = "io.k8s.api.core.v1.Service"
POD = "io.k8s.api.core.v1.Pod"

GENERIC_422 = "the server rejected our request due to an error in our request"


# --------------------------------------------------------------------------- fixtures


def deployment() -> dict[str, Any]:
    """A live Deployment as the apiserver stores it after a first `kubectl apply`."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "6b1c2b8e-0f4e-4a57-9c1e-1f2b3c4d5e6f",
            "resourceVersion": "1200",
            "generation": 3,
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "web", "tier": "frontend"},
            "annotations": {
                "deployment.kubernetes.io/revision": "3",
                "kubectl.kubernetes.io/last-applied-configuration": '{"old":true}\n',
            },
            "finalizers": ["example.com/a", "example.com/b"],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "c1",
                            "image": "nginx:1.25",
                            "args": ["a", "b"],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "ports": [
                                {"containerPort": 80, "protocol": "TCP"},
                                {"containerPort": 443, "protocol": "TCP"},
                            ],
                            "volumeMounts": [
                                {"name": "v1", "mountPath": "/a"},
                                {"name": "v2", "mountPath": "/b"},
                            ],
                            "resources": {"requests": {"cpu": "100m"}},
                            "imagePullPolicy": "IfNotPresent",
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File",
                        },
                        {
                            "name": "c2",
                            "image": "busybox:1.36",
                            "command": ["sleep", "3600"],
                            "imagePullPolicy": "IfNotPresent",
                            "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File",
                        },
                    ],
                    "tolerations": [
                        {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}
                    ],
                    "volumes": [
                        {"name": "v1", "emptyDir": {}},
                        {"name": "v2", "emptyDir": {"medium": "Memory"}},
                    ],
                    "restartPolicy": "Always",
                    "dnsPolicy": "ClusterFirst",
                    "schedulerName": "default-scheduler",
                    "securityContext": {},
                    "terminationGracePeriodSeconds": 30,
                },
            },
        },
        "status": {
            "observedGeneration": 3,
            "replicas": 2,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }


#: compat §8.2: what kubectl apply sends after the manifest dropped a label, a finalizer,
#: env B, port 443, mount /b, container c2, volume v2, tolerations, and switched to
#: Recreate and emptyDir -> hostPath (annotation value shortened)
KUBECTL_APPLY_PATCH = orjson.loads(
    b"""
{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/b"],
             "$setElementOrder/finalizers":["example.com/a"],
             "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"new\\":true}\\n"},
             "labels":{"tier":null}},
 "spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"},
  "template":{"spec":{
   "$setElementOrder/containers":[{"name":"c1"}],"$setElementOrder/volumes":[{"name":"v1"}],
   "containers":[{"$setElementOrder/env":[{"name":"A"}],"$setElementOrder/ports":[{"containerPort":80}],
                  "$setElementOrder/volumeMounts":[{"mountPath":"/a"}],"args":["a"],"name":"c1",
                  "env":[{"$patch":"delete","name":"B"}],"ports":[{"$patch":"delete","containerPort":443}],
                  "volumeMounts":[{"$patch":"delete","mountPath":"/b"}]},
                 {"$patch":"delete","name":"c2"}],
   "tolerations":null,
   "volumes":[{"$retainKeys":["hostPath","name"],"emptyDir":null,"hostPath":{"path":"/tmp"},"name":"v1"},
              {"$patch":"delete","name":"v2"}]}}}}
"""
)


def expected_after_kubectl_apply() -> dict[str, Any]:
    want = deployment()
    meta = want["metadata"]
    meta["labels"] = {"app": "web"}
    meta["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = '{"new":true}\n'
    meta["finalizers"] = ["example.com/a"]
    want["spec"]["strategy"] = {"type": "Recreate"}
    pod = want["spec"]["template"]["spec"]
    c1 = pod["containers"][0]
    c1["args"] = ["a"]
    c1["env"] = [{"name": "A", "value": "1"}]
    c1["ports"] = [{"containerPort": 80, "protocol": "TCP"}]
    c1["volumeMounts"] = [{"name": "v1", "mountPath": "/a"}]
    pod["containers"] = [c1]
    del pod["tolerations"]
    pod["volumes"] = [{"name": "v1", "hostPath": {"path": "/tmp"}}]
    return want


def node() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}},
        "spec": {"podCIDR": "10.244.0.0/24", "taints": [{"key": "a", "effect": "NoSchedule"}]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "192.0.2.10"},
                {"type": "Hostname", "address": "n1"},
            ]
        },
    }


def service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.10",
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
            ],
        },
    }


def pod_with_owner() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-1",
            "namespace": "default",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "uid": "u1",
                 "controller": True, "blockOwnerDeletion": True},
            ],
        },
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def c1(obj: dict[str, Any]) -> dict[str, Any]:
    return containers(obj)[0]


def tpl(pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": pod_spec}}}


def names(items: list[dict[str, Any]], key: str = "name") -> list[Any]:
    return [i[key] for i in items]


# --------------------------------------------------------------------------- merge patch

RFC7386_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(
    ("original", "patch", "want"),
    RFC7386_EXAMPLES,
    ids=[f"RFC 7386 appendix A example {i + 1}" for i in range(len(RFC7386_EXAMPLES))],
)
def test_merge_patch_follows_rfc7386(original: Any, patch: Any, want: Any) -> None:
    assert apply_merge_patch(original, patch) == want


@pytest.mark.parametrize(
    ("original", "patch", "want"),
    [
        ({}, {"a": [{"b": None, "c": 1}]}, {"a": [{"c": 1}]}),
        ({"metadata": {"labels": {"a": "1", "b": "2"}}},
         {"metadata": {"labels": {"a": None, "c": "3"}}},
         {"metadata": {"labels": {"b": "2", "c": "3"}}}),
        ({"spec": {"replicas": 1, "paused": True}}, {"spec": {"replicas": 5}},
         {"spec": {"replicas": 5, "paused": True}}),
        ({"metadata": {"finalizers": ["a", "b"]}}, {"metadata": {"finalizers": ["c"]}},
         {"metadata": {"finalizers": ["c"]}}),
    ],
    ids=[
        "nulls inside objects of a patched array are pruned as upstream does",
        "kubectl label removes one label and adds another",
        "kubectl scale changes replicas and keeps siblings",
        "lists are replaced whole, never merged",
    ],
)
def test_merge_patch_kubernetes_cases(original: Any, patch: Any, want: Any) -> None:
    assert apply_merge_patch(original, patch) == want


def test_merge_patch_does_not_mutate_or_alias_inputs() -> None:
    original = deployment()
    patch = {"metadata": {"labels": {"tier": None, "new": "x"}}, "spec": {"extra": {"a": [1]}}}
    before_o, before_p = copy.deepcopy(original), copy.deepcopy(patch)
    result = apply_merge_patch(original, patch)
    assert original == before_o and patch == before_p
    result["spec"]["extra"]["a"].append(2)
    result["spec"]["template"]["spec"]["containers"][0]["env"].clear()
    assert original == before_o and patch == before_p


# --------------------------------------------------------------------------- JSON patch

JSON_PATCH_CASES = [
    ([{"op": "add", "path": "/metadata/labels/x", "value": "y"}],
     lambda d: d["metadata"]["labels"].__setitem__("x", "y")),
    ([{"op": "remove", "path": "/metadata/labels/tier"}],
     lambda d: d["metadata"]["labels"].pop("tier")),
    ([{"op": "replace", "path": "/spec/replicas", "value": 5}],
     lambda d: d["spec"].__setitem__("replicas", 5)),
    ([{"op": "move", "from": "/metadata/labels/tier", "path": "/metadata/labels/layer"}],
     lambda d: d["metadata"]["labels"].__setitem__("layer", d["metadata"]["labels"].pop("tier"))),
    ([{"op": "copy", "from": "/spec/template/spec/containers/0/image",
       "path": "/metadata/annotations/image"}],
     lambda d: d["metadata"]["annotations"].__setitem__("image", "nginx:1.25")),
    ([{"op": "test", "path": "/spec/replicas", "value": 2},
      {"op": "replace", "path": "/spec/replicas", "value": 3}],
     lambda d: d["spec"].__setitem__("replicas", 3)),
    ([{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "c"}],
     lambda d: d["spec"]["template"]["spec"]["containers"][0]["args"].append("c")),
    ([{"op": "remove", "path": "/spec/template/spec/containers/1"}],
     lambda d: d["spec"]["template"]["spec"]["containers"].pop(1)),
    (None, lambda d: None),
    ([], lambda d: None),
]


@pytest.mark.parametrize(
    ("ops", "edit"),
    JSON_PATCH_CASES,
    ids=[
        "add puts a new label",
        "remove deletes a label",
        "replace changes replicas",
        "move renames a label",
        "copy duplicates the image into an annotation",
        "a passing test lets the following replace apply",
        "add with - appends to an array",
        "remove drops an array element by index",
        "a null body is an empty patch",
        "an empty list changes nothing",
    ],
)
def test_json_patch_operations(ops: Any, edit: Any) -> None:
    original = deployment()
    want = deployment()
    edit(want)
    assert apply_json_patch(original, ops) == want
    assert original == deployment()


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/spec/replicas", "value": 5}],
        [{"op": "test", "path": "/spec/paused", "value": True}],
        [{"op": "remove", "path": "/metadata/labels/missing"}],
        [{"op": "replace", "path": "/spec/nothing/here", "value": 1}],
        [{"op": "add", "path": "/spec/no/parent", "value": 1}],
        [{"op": "add", "path": "spec", "value": 1}],
        [{"op": "frobnicate", "path": "/spec"}],
        [{"path": "/spec"}],
        [{"op": "replace", "path": "/spec/replicas", "value": 1},
         {"op": "test", "path": "/spec/replicas", "value": 2}],
    ],
    ids=[
        "a failed test",
        "a test of a missing path",
        "removing a missing key",
        "replacing under a missing parent",
        "adding under a missing parent",
        "a path without its leading slash",
        "an unknown op",
        "an operation without op",
        "a test failing after an earlier op applied",
    ],
)
def test_json_patch_that_does_not_apply_is_a_bare_422(ops: Any) -> None:
    original = deployment()
    with pytest.raises(PatchError) as info:
        apply_json_patch(original, ops)
    err = info.value
    assert (err.status, err.reason, err.message, err.details) == (422, "Invalid", GENERIC_422, {})
    assert err.cause  # the library's own words are kept for logs
    assert original == deployment()


@pytest.mark.parametrize(
    ("ops", "status", "message"),
    [
        ({"op": "add"}, 400,
         "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"),
        (["add"], 400,
         "error decoding patch: json: cannot unmarshal string into Go value of type handlers.jsonPatchOp"),
        ([{"op": "add", "path": 5, "value": 1}], 400,
         "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string"),
        ([{"op": "test", "path": "/spec/replicas", "value": 2}] * 10001, 413,
         "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001"),
    ],
    ids=[
        "a body that is an object, not a list, is 400",
        "an operation that is not an object is 400",
        "a path that is not a string is 400",
        "more than 10000 operations is 413",
    ],
)
def test_json_patch_malformed_bodies(ops: Any, status: int, message: str) -> None:
    with pytest.raises(PatchError) as info:
        apply_json_patch(deployment(), ops)
    assert (info.value.status, info.value.message) == (status, message)


def test_json_patch_result_does_not_alias_the_patch_values() -> None:
    value = {"path": "/tmp"}
    ops = [{"op": "add", "path": "/spec/template/spec/volumes/0/hostPath", "value": value}]
    result = apply_json_patch(deployment(), ops)
    result["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"] = "/changed"
    assert value == {"path": "/tmp"}


# --------------------------------------------------------------------------- strategic


def smp(original: dict[str, Any], patch: dict[str, Any], schema: str = DEPLOYMENT) -> dict[str, Any]:
    return apply_strategic_merge_patch(original, patch, schema)


def test_kubectl_apply_patch_from_the_compat_doc() -> None:
    original = deployment()
    patch = copy.deepcopy(KUBECTL_APPLY_PATCH)
    result = smp(original, patch)
    assert result == expected_after_kubectl_apply()
    # what the doc lists, spelled out
    assert result["metadata"]["labels"] == {"app": "web"}
    assert result["metadata"]["finalizers"] == ["example.com/a"]
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    pod = result["spec"]["template"]["spec"]
    assert names(pod["containers"]) == ["c1"]
    assert names(pod["containers"][0]["env"]) == ["A"]
    assert [p["containerPort"] for p in pod["containers"][0]["ports"]] == [80]
    assert [m["mountPath"] for m in pod["containers"][0]["volumeMounts"]] == ["/a"]
    assert "tolerations" not in pod
    assert pod["volumes"] == [{"name": "v1", "hostPath": {"path": "/tmp"}}]
    # inputs untouched
    assert original == deployment()
    assert patch == KUBECTL_APPLY_PATCH


def test_kubectl_apply_update_patch_from_the_compat_doc() -> None:
    patch = {"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "x"}},
             "spec": {"replicas": 3, "template": {"spec": {
                 "$setElementOrder/containers": [{"name": "c1"}, {"name": "c2"}],
                 "containers": [{"image": "nginx:1.26", "name": "c1"}]}}}}
    result = smp(deployment(), patch)
    want = deployment()
    want["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "x"
    want["spec"]["replicas"] = 3
    c1(want)["image"] = "nginx:1.26"
    assert result == want


def test_kubectl_set_image_changes_only_that_container() -> None:
    result = smp(deployment(), tpl({"containers": [{"name": "c2", "image": "busybox:1.37"}]}))
    want = deployment()
    containers(want)[1]["image"] = "busybox:1.37"
    assert result == want


def test_kubectl_rollout_restart_adds_the_template_annotation() -> None:
    stamp = "2024-05-01T12:00:00Z"
    patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
    result = smp(deployment(), patch)
    want = deployment()
    want["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": stamp}
    assert result == want


def test_kubectl_cordon_sets_unschedulable_on_a_node() -> None:
    result = smp(node(), {"spec": {"unschedulable": True}}, NODE)
    want = node()
    want["spec"]["unschedulable"] = True
    assert result == want


def test_kubectl_rollout_pause_and_resume() -> None:
    paused = smp(deployment(), {"spec": {"paused": True}})
    assert paused["spec"]["paused"] is True
    assert smp(paused, {"spec": {"paused": None}}) == deployment()


@pytest.mark.parametrize(
    ("original", "patch", "schema", "path", "want"),
    [
        # maps
        (deployment(), {"metadata": {"labels": {"$patch": "replace", "only": "me"}}}, DEPLOYMENT,
         ("metadata", "labels"), {"only": "me"}),
        (deployment(), {"metadata": {"labels": {"$patch": "delete"}}}, DEPLOYMENT,
         ("metadata", "labels"), {}),
        (deployment(), {"metadata": {"labels": {"$patch": "merge", "x": "1"}}}, DEPLOYMENT,
         ("metadata", "labels"), {"app": "web", "tier": "frontend", "x": "1"}),
        (deployment(), {"spec": {"template": {"metadata": {"annotations": {"a": "1", "b": None}}}}},
         DEPLOYMENT, ("spec", "template", "metadata", "annotations"), {"a": "1"}),
        (deployment(), {"spec": {"strategy": {"$retainKeys": ["type", "rollingUpdate"],
                                              "rollingUpdate": {"maxSurge": 1}}}}, DEPLOYMENT,
         ("spec", "strategy"),
         {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}}),
        # primitive merge lists
        (deployment(), {"metadata": {"finalizers": ["example.com/c"]}}, DEPLOYMENT,
         ("metadata", "finalizers"), ["example.com/c", "example.com/a", "example.com/b"]),
        (deployment(), {"metadata": {"finalizers": ["example.com/c", "example.com/a"]}}, DEPLOYMENT,
         ("metadata", "finalizers"), ["example.com/c", "example.com/a", "example.com/b"]),
        (deployment(), {"metadata": {"finalizers": ["example.com/b"]}}, DEPLOYMENT,
         ("metadata", "finalizers"), ["example.com/a", "example.com/b"]),
        (deployment(), {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"]}},
         DEPLOYMENT, ("metadata", "finalizers"), ["example.com/b"]),
        (deployment(), {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/zzz"]}},
         DEPLOYMENT, ("metadata", "finalizers"), ["example.com/a", "example.com/b"]),
        (deployment(), {"metadata": {"finalizers": None}}, DEPLOYMENT, ("metadata",),
         {k: v for k, v in deployment()["metadata"].items() if k != "finalizers"}),
        # atomic lists
        (deployment(), tpl({"containers": [{"name": "c1", "args": ["x"]}]}), DEPLOYMENT,
         ("spec", "template", "spec", "containers", 0, "args"), ["x"]),
        (deployment(), tpl({"tolerations": [{"key": "new", "operator": "Exists"}]}), DEPLOYMENT,
         ("spec", "template", "spec", "tolerations"), [{"key": "new", "operator": "Exists"}]),
        (node(), {"spec": {"taints": [{"key": "b", "effect": "NoExecute"}]}}, NODE,
         ("spec", "taints"), [{"key": "b", "effect": "NoExecute"}]),
        # lists merged by key
        (deployment(), {"status": {"conditions": [{"type": "Available", "status": "False"}]}},
         DEPLOYMENT, ("status", "conditions"),
         [{"type": "Available", "status": "False", "reason": "MinimumReplicasAvailable"},
          {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]),
        (deployment(), {"status": {"conditions": [{"type": "ReplicaFailure", "status": "True"}]}},
         DEPLOYMENT, ("status", "conditions"),
         [{"type": "ReplicaFailure", "status": "True"},
          {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
          {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]),
        (pod_with_owner(), {"metadata": {"ownerReferences": [{"uid": "u1", "controller": False}]}},
         POD, ("metadata", "ownerReferences"),
         [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "uid": "u1",
           "controller": False, "blockOwnerDeletion": True}]),
        (pod_with_owner(), {"metadata": {"ownerReferences": [
            {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "u2"}]}},
         POD, ("metadata", "ownerReferences", 0, "uid"), "u2"),
        (service(), {"spec": {"ports": [{"port": 443, "targetPort": 9443}]}}, SERVICE,
         ("spec", "ports"),
         [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
          {"name": "https", "port": 443, "targetPort": 9443, "protocol": "TCP"}]),
        (service(), {"spec": {"ports": [{"$patch": "delete", "port": 80}]}}, SERVICE,
         ("spec", "ports"), [{"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}]),
        (deployment(), tpl({"containers": [{"name": "c1", "ports": [{"containerPort": 8080}]}]}),
         DEPLOYMENT, ("spec", "template", "spec", "containers", 0, "ports"),
         [{"containerPort": 8080}, {"containerPort": 80, "protocol": "TCP"},
          {"containerPort": 443, "protocol": "TCP"}]),
        (deployment(), tpl({"containers": [{"name": "c1", "ports": [{"containerPort": 443, "name": "tls"}]}]}),
         DEPLOYMENT, ("spec", "template", "spec", "containers", 0, "ports"),
         [{"containerPort": 80, "protocol": "TCP"},
          {"containerPort": 443, "protocol": "TCP", "name": "tls"}]),
        (deployment(), tpl({"containers": [{"name": "c3", "image": "redis"}]}), DEPLOYMENT,
         ("spec", "template", "spec", "containers"),
         [{"name": "c3", "image": "redis"}] + containers(deployment())),
        (deployment(), tpl({"containers": [{"name": "c1", "resources": {"limits": {"cpu": "1"}}}]}),
         DEPLOYMENT, ("spec", "template", "spec", "containers", 0, "resources"),
         {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}}),
        (deployment(), tpl({"containers": [{"name": "c1", "env": [{"name": "B", "value": None,
                                                                     "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]}]}),
         DEPLOYMENT, ("spec", "template", "spec", "containers", 0, "env"),
         [{"name": "A", "value": "1"},
          {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]),
        (deployment(), tpl({"containers": [{"name": "x", "image": "y"}, {"$patch": "replace"}]}),
         DEPLOYMENT, ("spec", "template", "spec", "containers"), [{"name": "x", "image": "y"}]),
        (deployment(), tpl({"volumes": [{"name": "v2", "$retainKeys": ["name", "configMap"],
                                         "configMap": {"name": "cm"}}]}),
         DEPLOYMENT, ("spec", "template", "spec", "volumes"),
         [{"name": "v1", "emptyDir": {}}, {"name": "v2", "configMap": {"name": "cm"}}]),
        # fields the schema does not know
        ({"spec": {"extra": {"a": 1, "b": {"c": 2}}}}, {"spec": {"extra": {"b": {"d": 3}}}}, DEPLOYMENT,
         ("spec", "extra"), {"a": 1, "b": {"c": 2, "d": 3}}),
        ({"spec": {"extraList": [{"k": 1}, {"k": 2}]}}, {"spec": {"extraList": [{"k": 3}]}}, DEPLOYMENT,
         ("spec", "extraList"), [{"k": 3}]),
        # type changes replace
        ({"spec": {"extra": "text"}}, {"spec": {"extra": {"a": None, "b": 1}}}, DEPLOYMENT,
         ("spec", "extra"), {"b": 1}),
    ],
    ids=[
        "$patch replace on a map replaces it",
        "$patch delete on a map empties it",
        "$patch merge on a map is the default merge",
        "nulls inside a map the original lacks are dropped",
        "$retainKeys keeps the listed keys and merges them",
        "a primitive merge list is a union with new values first",
        "a union keeps the patch's order for the values it names",
        "a union does not duplicate values",
        "$deleteFromPrimitiveList removes a finalizer",
        "$deleteFromPrimitiveList of an absent value changes nothing",
        "null deletes a merge list",
        "args are atomic and replaced whole",
        "tolerations are atomic and replaced whole",
        "node taints are atomic and replaced whole",
        "conditions merge by type in place",
        "a new condition type comes before the live ones",
        "ownerReferences merge by uid",
        "a new ownerReference is added first",
        "service ports merge by port",
        "$patch delete removes a service port",
        "container ports merge by containerPort, new ones first",
        "an existing container port is updated in place",
        "an element with an unknown merge key is added before the live ones",
        "nested maps of a list element merge recursively",
        "null inside a list element deletes that field",
        "$patch replace as a list element replaces the list",
        "$retainKeys inside a volume swaps its source",
        "unknown fields merge as plain maps",
        "unknown lists are replaced whole",
        "a value of another type is replaced and cleaned",
    ],
)
def test_strategic_merge(original: dict[str, Any], patch: dict[str, Any], schema: str,
                         path: tuple[Any, ...], want: Any) -> None:
    before = copy.deepcopy(original)
    before_patch = copy.deepcopy(patch)
    result: Any = smp(original, patch, schema)
    for step in path:
        result = result[step]
    assert result == want
    assert original == before and patch == before_patch


@pytest.mark.parametrize(
    ("live_env", "pod_patch", "want"),
    [
        (["A", "B", "C"], {"$setElementOrder/env": [{"name": "C"}, {"name": "A"}, {"name": "B"}]},
         ["C", "A", "B"]),
        (["A", "B"], {"$setElementOrder/env": [{"name": "A"}, {"name": "X"}, {"name": "B"}],
                      "env": [{"name": "X", "value": "x"}]},
         ["A", "X", "B"]),
        (["A", "B", "S"], {"$setElementOrder/env": [{"name": "B"}, {"name": "A"}]},
         ["B", "A", "S"]),
        (["A", "S", "B"], {"$setElementOrder/env": [{"name": "B"}, {"name": "A"}]},
         ["S", "B", "A"]),
        (["S", "A", "B"], {"$setElementOrder/env": [{"name": "A"}, {"name": "B"}],
                           "env": [{"name": "A", "value": "new"}]},
         ["S", "A", "B"]),
        (["A", "B"], {"$setElementOrder/env": [{"name": "A"}],
                      "env": [{"$patch": "delete", "name": "B"}]},
         ["A"]),
    ],
    ids=[
        "$setElementOrder alone reorders a merge-key list",
        "$setElementOrder places an added element",
        "elements the order omits stay after those it names when they were last",
        "elements the order omits keep their live position relative to named ones",
        "an unchanged order keeps server-only elements in place",
        "$setElementOrder with a deletion",
    ],
)
def test_set_element_order_on_merge_key_lists(live_env: list[str], pod_patch: dict[str, Any],
                                              want: list[str]) -> None:
    original = deployment()
    c1(original)["env"] = [{"name": n, "value": n.lower()} for n in live_env]
    result = smp(original, tpl({"containers": [dict(pod_patch, name="c1")]}))
    assert names(c1(result)["env"]) == want


@pytest.mark.parametrize(
    ("live", "patch_list", "order", "want"),
    [
        (["1", "2", "3"], ["3", "1"], None, ["2", "3", "1"]),
        (["1", "2", "3"], ["3", "1", "2"], None, ["3", "1", "2"]),
        (["1", "3"], ["2"], ["1", "2"], ["1", "2", "3"]),
        (["1", "2"], ["4", "3"], ["4", "1", "2", "3"], ["4", "1", "2", "3"]),
        (["1", "3"], ["3", "1"], ["3", "2", "1"], ["3", "1"]),
    ],
    ids=[
        "patch elements keep the patch's order and follow the live ones before them",
        "a patch naming every element imposes its order",
        "an element added by order lands before a later server-only one",
        "$setElementOrder places new elements before and after live ones",
        "$setElementOrder may name elements the list does not have",
    ],
)
def test_element_order_matches_upstream_cases(live: list[str], patch_list: list[str],
                                              order: list[str] | None, want: list[str]) -> None:
    original = deployment()
    c1(original)["env"] = [{"name": n} for n in live]
    original["metadata"]["finalizers"] = list(live)
    element: dict[str, Any] = {"name": "c1", "env": [{"name": n, "value": "p"} for n in patch_list]}
    meta: dict[str, Any] = {"finalizers": list(patch_list)}
    if order is not None:
        element["$setElementOrder/env"] = [{"name": n} for n in order]
        meta["$setElementOrder/finalizers"] = list(order)
    result = smp(original, {"metadata": meta, **tpl({"containers": [element]})})
    assert names(c1(result)["env"]) == want
    assert result["metadata"]["finalizers"] == want


def test_elements_a_patch_adds_are_stored_without_directives_or_nulls() -> None:
    new = {"name": "c3", "image": "redis", "command": None, "$setElementOrder/env": [{"name": "X"}],
           "env": [{"name": "X", "value": "1", "valueFrom": None}],
           "resources": {"$patch": "replace", "limits": {"cpu": "1"}}}
    result = smp(deployment(), tpl({"containers": [new, {"$patch": "merge", "name": "c2", "image": "b"}]}))
    assert containers(result)[0] == {"name": "c3", "image": "redis", "env": [{"name": "X", "value": "1"}],
                                     "resources": {"limits": {"cpu": "1"}}}
    assert containers(result)[2]["image"] == "b"


@pytest.mark.parametrize(
    ("live", "meta_patch", "want"),
    [
        (["a", "b", "c"], {"$setElementOrder/finalizers": ["c", "a", "b"]}, ["c", "a", "b"]),
        (["a", "b"], {"$setElementOrder/finalizers": ["a", "x", "b"], "finalizers": ["x"]},
         ["a", "x", "b"]),
        (["a", "b"], {"$setElementOrder/finalizers": ["b"],
                      "$deleteFromPrimitiveList/finalizers": ["a"]}, ["b"]),
        ([], {"$setElementOrder/finalizers": ["x"], "finalizers": ["x"]}, ["x"]),
    ],
    ids=[
        "$setElementOrder alone reorders a primitive list",
        "$setElementOrder places an added value",
        "$setElementOrder with $deleteFromPrimitiveList",
        "$setElementOrder with a list the original has empty",
    ],
)
def test_set_element_order_on_primitive_lists(live: list[str], meta_patch: dict[str, Any],
                                              want: list[str]) -> None:
    original = deployment()
    original["metadata"]["finalizers"] = live
    assert smp(original, {"metadata": meta_patch})["metadata"]["finalizers"] == want


@pytest.mark.parametrize(
    ("original", "patch", "status", "reason", "message"),
    [
        (deployment(), {"metadata": {"labels": {"$patch": "bogus", "a": "1"}}}, 500, "",
         "unknown patch type: bogus in map: map[$patch:bogus a:1]"),
        (deployment(), tpl({"containers": [{"name": "c1", "$patch": "nope"}]}), 500, "",
         "unknown patch type: nope in map: map[$patch:nope name:c1]"),
        (deployment(), {"spec": {"strategy": {"$patch": 1}}}, 500, "",
         "unknown patch type: %!s(int64=1) in map: map[$patch:1]"),
        (deployment(), tpl({"containers": [{"image": "nginx:1.26"}]}), 500, "",
         "map: map[image:nginx:1.26] does not contain declared merge key: name"),
        (deployment(), tpl({"containers": [{"image": "x", "cpu": 1000000.0, "n": [1, 2.5]}]}), 500, "",
         "map: map[cpu:1e+06 image:x n:[1 2.5]] does not contain declared merge key: name"),
        (deployment(), tpl({"containers": [{"name": "c1", "env": [{"$patch": "delete"}]}]}), 500, "",
         "map: map[$patch:delete] does not contain declared merge key: name"),
        (deployment(), tpl({"containers": [{"name": "c1", "$setElementOrder/env": [{"name": "A"}, {"name": "B"}],
                                            "env": [{"name": "B"}, {"name": "A"}]}]}), 500, "",
         "The order in patch list:\n[map[name:B] map[name:A]]\n doesn't match $setElementOrder list:\n"
         "[map[name:A] map[name:B]]\n"),
        (deployment(), tpl({"$setElementOrder/containers": [{"image": "x"}]}), 500, "",
         "map: map[image:x] does not contain declared merge key: name"),
        (deployment(), {"metadata": {"$setElementOrder/finalizers": "a"}}, 500, "",
         "expected a []interface {}, but received a string"),
        (deployment(), {"metadata": {"finalizers": [1]}}, 500, "",
         "list element types are not identical: [[example.com/a example.com/b] [1]]"),
        (deployment(), {"spec": {"strategy": {"$retainKeys": "type"}}}, 400, "BadRequest",
         "invalid patch format of retainKeys"),
        (deployment(), {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}},
         400, "BadRequest", "invalid patch format of retainKeys"),
        (deployment(), {"metadata": {"$deleteFromPrimitiveList": ["a"]}}, 400, "BadRequest",
         "invalid patch format of primitive list"),
        (deployment(), {"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}, 400, "BadRequest",
         "invalid patch format of primitive list"),
        (deployment(), {"metadata": {"$setElementOrder": ["a"]}}, 400, "BadRequest",
         "invalid patch format of setElementOrder list"),
        (dict(deployment(), metadata={"name": "web", "finalizers": []}),
         {"metadata": {"finalizers": [["x"]]}}, 422, "Invalid", GENERIC_422),
    ],
    ids=[
        "an unknown $patch in a map",
        "an unknown $patch in a list element",
        "a $patch that is not a string",
        "a list element without its merge key",
        "a merge key error formats numbers and lists as Go does",
        "a delete directive without the merge key",
        "a patch list out of $setElementOrder's order",
        "a $setElementOrder element without the merge key",
        "a $setElementOrder that is not a list",
        "a merge list mixing element types",
        "a $retainKeys that is not a list",
        "a patch key missing from $retainKeys",
        "$deleteFromPrimitiveList without a field",
        "$deleteFromPrimitiveList that is not a list",
        "$setElementOrder without a field",
        "a list of lists",
    ],
)
def test_strategic_merge_errors(original: dict[str, Any], patch: dict[str, Any], status: int,
                                reason: str, message: str) -> None:
    before = copy.deepcopy(original)
    with pytest.raises(PatchError) as info:
        smp(original, patch)
    assert (info.value.status, info.value.reason, info.value.message) == (status, reason, message)
    assert original == before


def test_strategic_merge_result_shares_nothing_with_its_inputs() -> None:
    original = deployment()
    patch = copy.deepcopy(KUBECTL_APPLY_PATCH)
    result = smp(original, patch)
    result["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"] = "/changed"
    c1(result)["env"].append({"name": "Z"})
    result["metadata"]["labels"]["x"] = "y"
    assert original == deployment()
    assert patch == KUBECTL_APPLY_PATCH


def test_strategic_merge_of_an_empty_patch_is_a_copy() -> None:
    original = deployment()
    result = smp(original, {})
    assert result == original and result is not original
    assert result["metadata"] is not original["metadata"]


# --------------------------------------------------------------------------- apply_patch


@pytest.mark.parametrize(
    ("content_type", "body", "schema", "edit"),
    [
        ("application/merge-patch+json", b'{"metadata":{"labels":{"tier":null}}}', DEPLOYMENT,
         lambda d: d["metadata"]["labels"].pop("tier")),
        ("application/merge-patch+json; charset=utf-8", b'{"spec":{"replicas":4}}', None,
         lambda d: d["spec"].__setitem__("replicas", 4)),
        ("application/json-patch+json", b'[{"op":"replace","path":"/spec/replicas","value":7}]', None,
         lambda d: d["spec"].__setitem__("replicas", 7)),
        ("application/strategic-merge-patch+json",
         b'{"spec":{"template":{"spec":{"containers":[{"name":"c1","image":"nginx:1.27"}]}}}}', DEPLOYMENT,
         lambda d: d["spec"]["template"]["spec"]["containers"][0].__setitem__("image", "nginx:1.27")),
        ("application/strategic-merge-patch+json", b"null", DEPLOYMENT, lambda d: None),
    ],
    ids=[
        "a merge patch of a built-in kind",
        "a merge patch of a custom resource, with a charset parameter",
        "a JSON patch",
        "a strategic merge patch of a built-in kind",
        "a null strategic merge patch changes nothing",
    ],
)
def test_apply_patch_dispatches_on_content_type(content_type: str, body: bytes, schema: str | None,
                                                edit: Any) -> None:
    want = deployment()
    edit(want)
    assert apply_patch(deployment(), body, content_type, schema_name=schema) == want


BUILTIN_TYPES = ("application/json-patch+json, application/merge-patch+json, "
                 "application/strategic-merge-patch+json, application/apply-patch+yaml")
CR_TYPES = "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"


@pytest.mark.parametrize(
    ("content_type", "body", "schema", "status", "reason", "message"),
    [
        ("application/strategic-merge-patch+json", b'{"spec":{}}', None, 415, "UnsupportedMediaType",
         "the body of the request was in an unknown format - accepted media types include: " + CR_TYPES),
        ("application/json", b"{}", DEPLOYMENT, 415, "UnsupportedMediaType",
         "the body of the request was in an unknown format - accepted media types include: " + BUILTIN_TYPES),
        ("application/apply-patch+yaml", b"{}", DEPLOYMENT, 415, "UnsupportedMediaType", None),
        ("application/merge-patch+json", b"{not json", DEPLOYMENT, 400, "BadRequest", None),
        ("application/json-patch+json", b"[{", None, 400, "BadRequest", None),
        ("application/strategic-merge-patch+json", b"", DEPLOYMENT, 400, "BadRequest", None),
        ("application/merge-patch+json", b"null", DEPLOYMENT, 400, "BadRequest", "Invalid JSON Patch"),
        ("application/merge-patch+json", b"[1]", DEPLOYMENT, 400, "BadRequest",
         "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"),
        ("application/strategic-merge-patch+json", b"[1]", DEPLOYMENT, 400, "BadRequest",
         "json: cannot unmarshal array into Go value of type map[string]interface {}"),
        ("application/json-patch+json", b'[{"op":"test","path":"/spec/replicas","value":9}]', DEPLOYMENT,
         422, "Invalid", GENERIC_422),
    ],
    ids=[
        "strategic merge of a custom resource is 415 without strategic in the list",
        "an unknown content type is 415 listing all four types",
        "server-side apply is not handled here",
        "a malformed merge patch is 400",
        "a malformed JSON patch is 400",
        "an empty strategic merge patch body is 400",
        "a null merge patch is 400",
        "a merge patch that is not an object is 400",
        "a strategic merge patch that is not an object is 400",
        "a failed JSON patch test is 422",
    ],
)
def test_apply_patch_errors(content_type: str, body: bytes, schema: str | None, status: int,
                            reason: str, message: str | None) -> None:
    with pytest.raises(PatchError) as info:
        apply_patch(deployment(), body, content_type, schema_name=schema)
    err = info.value
    assert (err.status, err.reason) == (status, reason)
    if message is not None:
        assert err.message == message
    assert err.message


@pytest.mark.parametrize(
    ("err", "want"),
    [
        (PatchError(GENERIC_422, 422, "Invalid", details={}),
         {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": GENERIC_422, "reason": "Invalid", "details": {}, "code": 422}),
        (PatchError("map: map[] does not contain declared merge key: name", 500, ""),
         {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": "map: map[] does not contain declared merge key: name", "code": 500}),
    ],
    ids=["a generic 422 carries empty details", "a plain error has no reason"],
)
def test_patch_error_renders_upstream_status(err: PatchError, want: dict[str, Any]) -> None:
    assert err.to_status() == want


def test_public_api_is_what_all_exports() -> None:
    assert sorted(patch_pkg.__all__) == sorted([
        "APPLY_PATCH_YAML", "JSON_PATCH", "MERGE_PATCH", "STRATEGIC_MERGE_PATCH", "PatchError",
        "apply_json_patch", "apply_merge_patch", "apply_patch", "apply_strategic_merge_patch",
        "supported_patch_types",
    ])
    for name in patch_pkg.__all__:
        assert hasattr(patch_pkg, name)
