"""Server-side apply: FieldsV1, apply, update and ownership, against upstream behaviour."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest

from kubepy.api.apply import (
    LAST_APPLIED_ANNOTATION,
    ApplyBadRequest,
    ApplyConflict,
    FieldSet,
    Schema,
    apply,
    default_manager,
    update,
)
from kubepy.api.apply.fieldpath import field_pe

DEPLOYMENT = Schema.for_definition("io.k8s.api.apps.v1.Deployment")
CONFIGMAP = Schema.for_definition("io.k8s.api.core.v1.ConfigMap")
T0 = "2024-05-01T10:00:00Z"
T1 = "2024-05-01T10:01:00Z"
T2 = "2024-05-01T10:02:00Z"


def deployment(*, image: str = "nginx:1.25", replicas: int | None = 2, **extra: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "nginx", "image": image}
    container.update(extra)
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}},
    }
    if replicas is not None:
        spec = {"replicas": replicas, **spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": spec,
    }


def ssa(live: dict[str, Any] | None, applied: dict[str, Any], manager: str = "kubectl", *, force: bool = False,
        now: str = T0, schema: Schema = DEPLOYMENT, api_version: str = "apps/v1") -> dict[str, Any]:
    return apply(live, applied, manager=manager, api_version=api_version, schema=schema, force=force, now=now)


def entry(obj: dict[str, Any], manager: str, operation: str = "Apply") -> dict[str, Any]:
    found = [e for e in obj["metadata"].get("managedFields", []) if e["manager"] == manager and e["operation"] == operation]
    assert len(found) == 1, obj["metadata"].get("managedFields")
    result: dict[str, Any] = found[0]
    return result


def owned(obj: dict[str, Any], manager: str, operation: str = "Apply") -> FieldSet:
    return FieldSet.from_fields_v1(entry(obj, manager, operation)["fieldsV1"])


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return obj["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


# -- FieldsV1 ----------------------------------------------------------------------------

# upstream structured-merge-diff serialize_test.go golden data, and managedFields as the
# apiserver writes them (kubectl create deployment; a Service with a two-key list map)
GOLDEN_FIELDS_V1 = [
    '{"f:aaa":{},"f:aab":{},"f:aac":{},"f:aad":{},"f:aae":{},"f:aaf":{},"k:{\\"name\\":\\"first\\"}":{},'
    '"k:{\\"name\\":\\"second\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{},'
    '"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{},"v:1":{},"v:2":{},"v:3":{},"v:\\"aa\\"":{},"v:\\"ab\\"":{},'
    '"v:true":{},"i:1":{},"i:2":{},"i:3":{},"i:4":{}}',
    '{"f:aaa":{"k:{\\"name\\":\\"second\\"}":{"v:3":{"f:aab":{}}},"v:3":{},"v:true":{}},"f:aab":{"f:aaa":{},'
    '"f:aaf":{"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{}}},'
    '"k:{\\"name\\":\\"first\\"}":{}},"i:1":{"i:3":{"f:aaf":{}}}}',
    '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},'
    '"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},'
    '"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},'
    '"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},'
    '"f:name":{},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},'
    '"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},'
    '"f:terminationGracePeriodSeconds":{}}}}}',
    '{"f:spec":{"f:ports":{".":{},"k:{\\"port\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:port":{},'
    '"f:protocol":{},"f:targetPort":{}}},"f:selector":{}}}',
    '{"f:metadata":{"f:finalizers":{".":{},"v:\\"example.com/a\\\\u003cb\\\\u003e\\"":{},"v:\\"kubernetes\\"":{}}}}',
]


@pytest.mark.parametrize("text", GOLDEN_FIELDS_V1, ids=["upstream golden members", "upstream golden nested",
                                                         "a created Deployment", "a Service's port list map",
                                                         "a set with HTML characters"])
def test_fields_v1_round_trips_byte_for_byte(text: str) -> None:
    parsed = FieldSet.from_fields_v1(json.loads(text))
    assert parsed.to_json() == text
    assert FieldSet.from_fields_v1(parsed.to_fields_v1()) == parsed


def test_fields_v1_is_written_in_upstream_order_whatever_order_it_was_read_in() -> None:
    fields = {"f:metadata": {"f:labels": {"f:test-label": {}}}, "f:data": {"f:key": {}}}
    assert FieldSet.from_fields_v1(fields).to_json() == '{"f:data":{"f:key":{}},"f:metadata":{"f:labels":{"f:test-label":{}}}}'


def test_unknown_path_element_types_are_dropped_as_upstream() -> None:
    assert FieldSet.from_fields_v1({"f:aaa": {}, "r:aab": {}}).to_json() == '{"f:aaa":{}}'


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("union", {".a", ".b.c", ".b.d"}),
        ("difference", {".b.c"}),
        ("intersection", {".a"}),
    ],
    ids=["union keeps every path", "difference removes exact paths", "intersection keeps shared paths"],
)
def test_set_algebra(op: str, expected: set[str]) -> None:
    from kubepy.api.apply import path_string

    a = FieldSet.from_paths([(field_pe("a"),), (field_pe("b"), field_pe("c"))])
    b = FieldSet.from_paths([(field_pe("a"),), (field_pe("b"), field_pe("d"))])
    result = getattr(a, op)(b)
    assert {path_string(p) for p in result.paths()} == expected


def test_recursive_difference_removes_everything_under_a_member() -> None:
    a = FieldSet.from_paths([(field_pe("status"), field_pe("x")), (field_pe("spec"), field_pe("y"))])
    assert a.recursive_difference(FieldSet.from_paths([(field_pe("status"),)])) == FieldSet.from_paths(
        [(field_pe("spec"), field_pe("y"))]
    )


# -- apply -------------------------------------------------------------------------------


def test_first_apply_of_a_deployment_creates_it_with_exact_managed_fields() -> None:
    obj = ssa(None, deployment(ports=[{"containerPort": 80}]))
    assert obj["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"nginx"}': {
                                    ".": {},
                                    "f:image": {},
                                    "f:name": {},
                                    "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
                                }
                            }
                        },
                    },
                },
            },
        }
    ]
    assert obj["spec"]["replicas"] == 2
    assert list(obj["metadata"]["managedFields"][0]) == [
        "manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"
    ]


def test_the_configmap_example_of_the_upstream_docs() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
          "data": {"key": "some value"}}
    obj = ssa(None, cm, schema=CONFIGMAP, api_version="v1")
    assert entry(obj, "kubectl")["fieldsV1"] == {"f:data": {"f:key": {}}, "f:metadata": {"f:labels": {"f:test-label": {}}}}


def test_reapply_with_a_changed_image_updates_it_without_conflict() -> None:
    live = ssa(None, deployment())
    obj = ssa(live, deployment(image="nginx:1.26"), now=T1)
    assert containers(obj)[0]["image"] == "nginx:1.26"
    assert entry(obj, "kubectl")["time"] == T1
    assert len(obj["metadata"]["managedFields"]) == 1


def test_a_noop_reapply_keeps_the_timestamp() -> None:
    live = ssa(None, deployment())
    obj = ssa(live, deployment(), now=T1)
    assert entry(obj, "kubectl")["time"] == T0
    assert obj == live


def test_apply_never_changes_its_inputs() -> None:
    live = ssa(None, deployment())
    applied = deployment(image="nginx:1.26", replicas=None)
    before_live, before_applied = copy.deepcopy(live), copy.deepcopy(applied)
    ssa(live, applied, now=T1)
    assert live == before_live and applied == before_applied


@pytest.mark.parametrize(
    ("second", "check"),
    [
        (deployment(replicas=None), lambda o: "replicas" not in o["spec"]),
        ({**deployment(), "metadata": {"name": "web", "namespace": "default"}},
         lambda o: "labels" not in o["metadata"]),
        (deployment(args=None), lambda o: "args" not in containers(o)[0]),
    ],
    ids=["dropping replicas removes it", "dropping the only label removes labels",
         "dropping a container field removes it"],
)
def test_removing_a_field_from_the_applied_config_removes_it_from_the_object(second: dict[str, Any], check: Any) -> None:
    live = ssa(None, deployment(args=["-v"]))
    if second["spec"]["template"]["spec"]["containers"][0].get("args", 0) is None:
        del second["spec"]["template"]["spec"]["containers"][0]["args"]
    obj = ssa(live, second, now=T1)
    assert check(obj)


def test_removing_a_container_from_the_applied_config_removes_it() -> None:
    two = deployment()
    containers(two).append({"name": "sidecar", "image": "busybox"})
    live = ssa(None, two)
    obj = ssa(live, deployment(), now=T1)
    assert [c["name"] for c in containers(obj)] == ["nginx"]
    assert 'k:{"name":"sidecar"}' not in json.dumps(obj["metadata"]["managedFields"])


def test_a_field_another_manager_also_owns_is_not_removed() -> None:
    live = ssa(None, deployment(replicas=3))
    live = ssa(live, deployment(replicas=3), manager="autoscaler", now=T1)  # same value: shared
    obj = ssa(live, deployment(replicas=None), now=T2)
    assert obj["spec"]["replicas"] == 3
    assert (field_pe("spec"), field_pe("replicas")) in list(owned(obj, "autoscaler").paths())
    assert not owned(obj, "kubectl").has((field_pe("spec"), field_pe("replicas")))


def test_two_managers_applying_the_same_value_share_it_without_conflict() -> None:
    live = ssa(None, deployment(replicas=3))
    obj = ssa(live, deployment(replicas=3), manager="other", now=T1)
    path = (field_pe("spec"), field_pe("replicas"))
    assert owned(obj, "kubectl").has(path) and owned(obj, "other").has(path)


def client_side_applied(replicas: int = 2) -> dict[str, Any]:
    return update(None, deployment(replicas=replicas), manager="kubectl-client-side-apply",
                  api_version="apps/v1", schema=DEPLOYMENT, now=T0)


def test_changing_a_field_a_client_side_apply_manager_owns_conflicts() -> None:
    live = client_side_applied()
    with pytest.raises(ApplyConflict) as err:
        ssa(live, deployment(replicas=3), manager="my-applier")
    assert err.value.code == 409
    assert err.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas'
    )
    assert err.value.causes == [
        {"reason": "FieldManagerConflict",
         "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
         "field": ".spec.replicas"}
    ]


def test_several_conflicts_are_listed_by_manager() -> None:
    live = client_side_applied()
    live = ssa(live, deployment(replicas=2), manager="ops", now=T1)
    with pytest.raises(ApplyConflict) as err:
        ssa(live, deployment(replicas=3, image="nginx:2"), manager="my-applier")
    assert err.value.message == (
        'Apply failed with 4 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n'
        '- .spec.replicas\n'
        '- .spec.template.spec.containers[name="nginx"].image\n'
        'conflicts with "ops":\n'
        '- .spec.replicas\n'
        '- .spec.template.spec.containers[name="nginx"].image'
    )
    assert {c[0] for c in err.value.conflicts} == {'"kubectl-client-side-apply" using apps/v1', '"ops"'}


def test_force_takes_ownership_from_the_other_manager() -> None:
    live = client_side_applied()
    obj = ssa(live, deployment(replicas=3), manager="my-applier", force=True)
    path = (field_pe("spec"), field_pe("replicas"))
    assert obj["spec"]["replicas"] == 3
    assert owned(obj, "my-applier").has(path)
    assert not owned(obj, "kubectl-client-side-apply", "Update").has(path)


def test_kubectl_migrating_from_client_side_apply_takes_fields_the_annotation_set() -> None:
    manifest = deployment(replicas=2)
    csa = copy.deepcopy(manifest)
    csa["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: json.dumps(manifest)}
    live = update(None, csa, manager="kubectl-client-side-apply", api_version="apps/v1", schema=DEPLOYMENT, now=T0)
    obj = ssa(live, deployment(replicas=3), manager="kubectl", now=T1)
    assert obj["spec"]["replicas"] == 3
    annotation = obj["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]
    assert annotation.endswith("\n") and json.loads(annotation)["spec"]["replicas"] == 3


def test_before_first_apply_owns_what_an_untracked_object_had() -> None:
    live = deployment(replicas=2)
    live["metadata"]["uid"] = "u1"
    with pytest.raises(ApplyConflict) as err:
        ssa(live, deployment(replicas=5), manager="tool")
    assert err.value.conflicts == [('"before-first-apply" using apps/v1', ".spec.replicas")]


# -- list and map semantics ---------------------------------------------------------------


def test_containers_merge_by_name_and_keep_live_order() -> None:
    live = deployment()
    containers(live).append({"name": "sidecar", "image": "busybox"})
    live = update(None, live, manager="creator", api_version="apps/v1", schema=DEPLOYMENT, now=T0)
    applied = deployment(image="nginx:2", replicas=None)
    containers(applied).insert(0, {"name": "init-like", "image": "alpine"})
    obj = ssa(live, applied, force=True)
    assert [(c["name"], c["image"]) for c in containers(obj)] == [
        ("init-like", "alpine"), ("nginx", "nginx:2"), ("sidecar", "busybox")
    ]


def test_ports_are_keyed_by_container_port_and_defaulted_protocol() -> None:
    live = deployment(ports=[{"containerPort": 80, "protocol": "TCP", "name": "http"}])
    live = update(None, live, manager="creator", api_version="apps/v1", schema=DEPLOYMENT, now=T0)
    applied = deployment(ports=[{"containerPort": 80, "hostPort": 8080}, {"containerPort": 53, "protocol": "UDP"}])
    obj = ssa(live, applied, force=True)
    assert containers(obj)[0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP", "name": "http", "hostPort": 8080},
        {"containerPort": 53, "protocol": "UDP"},
    ]


def test_finalizers_are_a_set_merged_by_value() -> None:
    live = deployment()
    live["metadata"]["finalizers"] = ["example.com/a"]
    live = update(None, live, manager="controller", api_version="apps/v1", schema=DEPLOYMENT, now=T0)
    applied = deployment()
    applied["metadata"]["finalizers"] = ["example.com/b"]
    obj = ssa(live, applied)
    assert obj["metadata"]["finalizers"] == ["example.com/a", "example.com/b"]
    assert entry(obj, "kubectl")["fieldsV1"]["f:metadata"]["f:finalizers"] == {'v:"example.com/b"': {}}


def test_args_are_an_atomic_list_replaced_whole() -> None:
    live = ssa(None, deployment(args=["a", "b", "c"]))
    obj = ssa(live, deployment(args=["z"]), now=T1)
    assert containers(obj)[0]["args"] == ["z"]
    assert "f:args" in entry(obj, "kubectl")["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']


def test_node_selector_is_an_atomic_map() -> None:
    applied = deployment()
    applied["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    live = ssa(None, applied)
    applied2 = deployment()
    applied2["spec"]["template"]["spec"]["nodeSelector"] = {"zone": "a"}
    obj = ssa(live, applied2, manager="other", force=True)
    assert obj["spec"]["template"]["spec"]["nodeSelector"] == {"zone": "a"}


# -- update ------------------------------------------------------------------------------


def test_an_update_after_an_apply_moves_ownership_of_the_changed_field() -> None:
    live = ssa(None, deployment(replicas=2))
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = 5
    obj = update(live, new, manager="kubectl-scale", api_version="apps/v1", schema=DEPLOYMENT, now=T1)
    path = (field_pe("spec"), field_pe("replicas"))
    assert owned(obj, "kubectl-scale", "Update") == FieldSet.from_paths([path])
    assert entry(obj, "kubectl-scale", "Update")["time"] == T1
    assert not owned(obj, "kubectl").has(path)
    assert owned(obj, "kubectl").has((field_pe("spec"), field_pe("selector")))


def test_an_update_that_changes_nothing_records_nothing() -> None:
    live = ssa(None, deployment())
    obj = update(live, copy.deepcopy(live), manager="x", api_version="apps/v1", schema=DEPLOYMENT, now=T1)
    assert obj["metadata"]["managedFields"] == live["metadata"]["managedFields"]


def test_an_update_of_a_status_subresource_is_recorded_with_its_subresource() -> None:
    live = ssa(None, deployment())
    new = copy.deepcopy(live)
    new["status"] = {"replicas": 2}
    status_only = FieldSet.from_paths([(field_pe("metadata"),), (field_pe("spec"),), (field_pe("apiVersion"),), (field_pe("kind"),)])
    obj = update(live, new, manager="kube-controller-manager", api_version="apps/v1", subresource="status",
                 schema=DEPLOYMENT, now=T1, ignored=status_only)
    e = entry(obj, "kube-controller-manager", "Update")
    assert e["subresource"] == "status"
    assert e["fieldsV1"] == {"f:status": {".": {}, "f:replicas": {}}}
    assert list(e)[-1] == "subresource"


def test_ignored_fields_are_neither_owned_nor_taken_away() -> None:
    live = ssa(None, deployment())
    new = copy.deepcopy(live)
    new["status"] = {"replicas": 2}
    new["spec"]["replicas"] = 4
    obj = update(live, new, manager="writer", api_version="apps/v1", schema=DEPLOYMENT, now=T1,
                 ignored=FieldSet.from_paths([(field_pe("status"),)]))
    assert entry(obj, "writer", "Update")["fieldsV1"] == {"f:spec": {"f:replicas": {}}}


def test_a_create_owns_what_upstream_typed_objects_would_show() -> None:
    obj = update(None, deployment(), manager="kubectl-create", api_version="apps/v1", schema=DEPLOYMENT, now=T0)
    fields = entry(obj, "kubectl-create", "Update")["fieldsV1"]
    assert "." not in fields["f:spec"] and "." not in fields["f:spec"]["f:template"]
    assert "." not in fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert fields["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}


def test_an_object_without_managed_fields_stays_untracked_on_update() -> None:
    live = deployment()
    live["metadata"]["uid"] = "u1"
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = 9
    obj = update(live, new, manager="x", api_version="apps/v1", schema=DEPLOYMENT, now=T1)
    assert "managedFields" not in obj["metadata"]


@pytest.mark.parametrize("sent", [[], [{}]], ids=["an empty list", "one empty entry"])
def test_sending_empty_managed_fields_clears_them(sent: list[Any]) -> None:
    live = ssa(None, deployment())
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"] = sent
    new["spec"]["replicas"] = 7
    obj = update(live, new, manager="x", api_version="apps/v1", schema=DEPLOYMENT, now=T1)
    assert "managedFields" not in obj["metadata"]


def test_managed_fields_sent_with_an_update_replace_the_live_ones() -> None:
    live = ssa(None, deployment())
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"][0]["manager"] = "renamed"
    obj = update(live, new, manager="x", api_version="apps/v1", schema=DEPLOYMENT, now=T1)
    assert [e["manager"] for e in obj["metadata"]["managedFields"]] == ["renamed"]


def test_more_than_ten_updaters_are_merged_into_ancient_changes() -> None:
    obj = ssa(None, deployment())
    for i in range(12):
        new = copy.deepcopy(obj)
        new["metadata"]["labels"][f"l{i}"] = "x"
        obj = update(obj, new, manager=f"m{i:02d}", api_version="apps/v1", schema=DEPLOYMENT,
                     now=f"2024-05-01T11:{i:02d}:00Z")
    managers = [e["manager"] for e in obj["metadata"]["managedFields"] if e["operation"] == "Update"]
    assert len(managers) == 10 and managers[0] == "ancient-changes"
    assert set(entry(obj, "ancient-changes", "Update")["fieldsV1"]["f:metadata"]["f:labels"]) == {"f:l0", "f:l1", "f:l2"}


# -- custom resources ----------------------------------------------------------------------

CRD_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer"},
                "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "members": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                            "items": {"type": "object", "properties": {"id": {"type": "string"},
                                                                        "role": {"type": "string"}}}},
            },
        }
    },
}


def test_custom_resource_with_preserve_unknown_fields_is_merged_granularly() -> None:
    schema = Schema.for_custom_resource(CRD_SCHEMA)
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
          "spec": {"size": 1, "tags": ["a"], "config": {"nested": {"x": 1}, "list": [1, 2]},
                   "members": [{"id": "m1", "role": "lead"}]}}
    obj = apply(None, cr, manager="op", api_version="example.com/v1", schema=schema, force=False, now=T0)
    assert entry(obj, "op")["fieldsV1"]["f:spec"] == {
        "f:config": {"f:list": {}, "f:nested": {".": {}, "f:x": {}}},
        "f:members": {'k:{"id":"m1"}': {".": {}, "f:id": {}, "f:role": {}}},
        "f:size": {},
        "f:tags": {'v:"a"': {}},
    }
    other = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
             "spec": {"tags": ["b"], "config": {"nested": {"y": 2}}, "members": [{"id": "m2"}]}}
    obj = apply(obj, other, manager="user", api_version="example.com/v1", schema=schema, force=False, now=T1)
    assert obj["spec"]["tags"] == ["a", "b"]
    assert obj["spec"]["config"] == {"nested": {"x": 1, "y": 2}, "list": [1, 2]}
    assert [m["id"] for m in obj["spec"]["members"]] == ["m1", "m2"]


# -- errors and helpers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("applied", "message"),
    [
        ({**deployment(), "apiVersion": "apps/v1beta1"},
         "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1"),
        ({**deployment(), "metadata": {"name": "web", "managedFields": []}}, "metadata.managedFields must be nil"),
        (deployment(ports=[{"name": "http"}]),
         'failed to create typed patch object: .spec.template.spec.containers[name="nginx"].ports: element 0: '
         'associative list with keys has an element that omits key field "containerPort" (and doesn\'t have default value)'),
    ],
    ids=["a different apiVersion", "managedFields in the applied config", "a port without its key"],
)
def test_unacceptable_applied_configurations_are_bad_requests(applied: dict[str, Any], message: str) -> None:
    with pytest.raises(ApplyBadRequest) as err:
        ssa(None, applied)
    assert err.value.code == 400
    assert err.value.message == message


@pytest.mark.parametrize(
    ("user_agent", "manager"),
    [
        ("kubectl/v1.32.4 (linux/amd64) kubernetes/abc", "kubectl"),
        ("kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/abc/system:serviceaccount:kube-system:x",
         "kube-controller-manager"),
        ("OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator"),
        ("no-slash", "no-slash"),
        ("tab\there/1", "tabhere"),
        ("x" * 200, "x" * 128),
    ],
    ids=["kubectl", "a controller", "the python client", "no slash", "unprintable dropped", "truncated to 128 bytes"],
)
def test_default_manager_from_user_agent(user_agent: str, manager: str) -> None:
    assert default_manager(user_agent) == manager


def test_apply_of_a_five_container_deployment_takes_a_few_milliseconds() -> None:
    def five(image: str) -> dict[str, Any]:
        d = deployment(image=image)
        containers(d)[:] = [
            {"name": f"c{i}", "image": image, "args": ["--v=2"], "ports": [{"containerPort": 8000 + i}],
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}
            for i in range(5)
        ]
        return d

    live = ssa(None, five("v0"))
    rounds = 50
    start = time.perf_counter()
    for i in range(rounds):
        live = ssa(live, five(f"v{i % 2}"), now=T1)
    per_apply = (time.perf_counter() - start) / rounds
    assert per_apply < 0.005, f"{per_apply * 1000:.2f} ms per apply"
