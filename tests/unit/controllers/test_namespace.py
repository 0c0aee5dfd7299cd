"""Namespace controller: emptying a terminating namespace, its conditions, and finalizing."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import ApiError, FakeClock, InformerFactory
from kubepy.client.fake import Action, FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.discovery import APIDiscovery, ServedResource, StaticDiscovery, parse_group_version
from kubepy.controllers.namespace import NamespaceController, update_conditions

NOW = "2024-05-01T10:00:00Z"  # FakeClock's default wall time
ALL = frozenset({"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"})
CONFIGMAPS = ServedResource(group="", version="v1", plural="configmaps", kind="ConfigMap", namespaced=True, verbs=ALL)
PODS = ServedResource(group="", version="v1", plural="pods", kind="Pod", namespaced=True, verbs=ALL)
# a resource without deletecollection: listed and deleted one by one
SECRETS = ServedResource(group="", version="v1", plural="secrets", kind="Secret", namespaced=True,
                         verbs=ALL - {"deletecollection"})
NODES = ServedResource(group="", version="v1", plural="nodes", kind="Node", namespaced=False, verbs=ALL)


class Client(FakeClient):
    """FakeClient plus deletecollection; pods and objects with finalizers are only marked deleted."""

    def _mark_or_remove(self, key: tuple[str, str, str, str]) -> None:
        obj = self.objects[key]
        if obj["metadata"].get("finalizers") or (key[1] == "pods" and obj.get("spec", {}).get("nodeName")):
            obj["metadata"].setdefault("deletionTimestamp", NOW)
        else:
            del self.objects[key]

    async def delete_collection(self, ref: Any, *, namespace: str | None = None, options: Any = None,
                                **_: Any) -> dict[str, Any]:
        self.actions.append(Action("deletecollection", ref.plural, namespace or "", "",
                                   options.to_body() if options else None))
        for key in [k for k in self.objects if k[:3] == (ref.api_version, ref.plural, namespace or "")]:
            self._mark_or_remove(key)
        return {}

    async def delete(self, ref: Any, name: str, *, namespace: str | None = None, options: Any = None,
                     **_: Any) -> dict[str, Any]:
        key = self._key(ref, namespace, name)
        await super().get(ref, name, namespace=namespace)  # 404 if missing
        self.actions.append(Action("delete", ref.plural, namespace or "", name,
                                   options.to_body() if options else None))
        self._mark_or_remove(key)
        return {}


def namespace(name: str = "doomed", *, deleting: bool = True, phase: str = "Active") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = NOW
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta,
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": phase}}


def obj(kind: str, name: str, ns: str = "doomed", **extra: Any) -> dict[str, Any]:
    meta = {"name": name, "namespace": ns, **extra.pop("meta", {})}
    return {"apiVersion": "v1", "kind": kind, "metadata": meta, **extra}


def make(*objects: dict[str, Any], resources: list[ServedResource] | None = None,
         failed: dict[str, str] | None = None) -> tuple[NamespaceController, Client]:
    client = Client(*objects)
    ctx = ControllerContext(client=client, informers=InformerFactory(client),  # type: ignore[arg-type]
                            recorder=None, clock=FakeClock())  # type: ignore[arg-type]
    ctrl = NamespaceController(ctx, StaticDiscovery(resources or [CONFIGMAPS, PODS, SECRETS, NODES],
                                                    failed=failed), deletion_delay=0)
    for o in objects:
        if o["kind"] == "Namespace":
            ctrl.namespaces.indexer.add(client.get_object("v1", "namespaces", "", o["metadata"]["name"]) or o)
    return ctrl, client


def finalized(client: Client) -> list[Any]:
    return [a.body for a in client.writes("put") if a.resource == "/api/v1/namespaces/doomed/finalize"]


def conditions(client: Client) -> dict[str, dict[str, Any]]:
    ns = client.get_object("v1", "namespaces", "", "doomed")
    assert ns is not None
    return {c["type"]: c for c in ns["status"].get("conditions", [])}


async def test_a_namespace_that_is_not_being_deleted_is_left_alone() -> None:
    ctrl, client = make(namespace(deleting=False), obj("ConfigMap", "cm"))
    await ctrl.sync("doomed")
    assert client.actions == []


async def test_an_empty_terminating_namespace_is_marked_terminating_and_finalized() -> None:
    ctrl, client = make(namespace(), obj("ConfigMap", "elsewhere", ns="other"))
    await ctrl.sync("doomed")
    status_writes = [a for a in client.writes("update", "namespaces") if a.subresource == "status"]
    assert status_writes[0].body["status"]["phase"] == "Terminating"
    [body] = finalized(client)
    assert body["spec"]["finalizers"] == []
    assert client.get_object("v1", "configmaps", "other", "elsewhere") is not None
    conds = conditions(client)
    assert {t: (c["status"], c["reason"]) for t, c in conds.items()} == {
        "NamespaceDeletionDiscoveryFailure": ("False", "ResourcesDiscovered"),
        "NamespaceDeletionGroupVersionParsingFailure": ("False", "ParsedGroupVersions"),
        "NamespaceDeletionContentFailure": ("False", "ContentDeleted"),
        "NamespaceContentRemaining": ("False", "ContentRemoved"),
        "NamespaceFinalizersRemaining": ("False", "ContentRemoved"),
    }


async def test_content_is_deleted_by_collection_or_one_by_one_in_the_background_then_finalized() -> None:
    ctrl, client = make(namespace(), obj("ConfigMap", "a"), obj("ConfigMap", "b"), obj("Secret", "s"))
    await ctrl.sync("doomed")
    assert [(a.verb, a.resource) for a in client.actions if a.verb in ("delete", "deletecollection")] == [
        ("deletecollection", "configmaps"), ("deletecollection", "pods"), ("delete", "secrets")]
    assert all(a.body["propagationPolicy"] == "Background" for a in client.actions
               if a.verb in ("delete", "deletecollection"))
    assert client.get_object("v1", "secrets", "doomed", "s") is None
    assert len(finalized(client)) == 1


async def test_cluster_scoped_resources_are_never_touched() -> None:
    ctrl, client = make(namespace(), {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    await ctrl.sync("doomed")
    assert client.get_object("v1", "nodes", "", "n1") is not None


async def test_a_running_pod_within_its_grace_period_delays_finalization_and_is_reported() -> None:
    pod = obj("Pod", "p", spec={"nodeName": "n1", "terminationGracePeriodSeconds": 30}, status={"phase": "Running"})
    ctrl, client = make(namespace(), pod)
    await ctrl.sync("doomed")
    assert finalized(client) == []
    remaining = conditions(client)["NamespaceContentRemaining"]
    assert (remaining["status"], remaining["reason"]) == ("True", "SomeResourcesRemain")
    assert remaining["message"] == "Some resources are remaining: pods has 1 resource instances"
    assert ctrl.queue.waiting == 1, "checked again after estimate/2+1 seconds"


async def test_objects_held_by_finalizers_are_counted_per_finalizer() -> None:
    held = obj("ConfigMap", "held", meta={"finalizers": ["example.com/a", "example.com/b"]})
    ctrl, client = make(namespace(), held)
    await ctrl.sync("doomed")
    assert finalized(client) == []
    c = conditions(client)["NamespaceFinalizersRemaining"]
    assert (c["status"], c["reason"]) == ("True", "SomeFinalizerRemain")
    assert c["message"] == ("Some finalizers are remaining: example.com/a in 1 resource instances, "
                            "example.com/b in 1 resource instances")


async def test_a_failed_discovery_is_reported_and_blocks_finalization() -> None:
    ctrl, client = make(namespace(), failed={"example.com/v1": "503 ServiceUnavailable"})
    with pytest.raises(RuntimeError, match="example.com/v1"):
        await ctrl.sync("doomed")
    assert finalized(client) == []
    c = conditions(client)["NamespaceDeletionDiscoveryFailure"]
    assert (c["status"], c["reason"]) == ("True", "DiscoveryFailed")
    assert "1 failing" in c["message"]


async def test_an_already_finalized_namespace_is_not_finalized_again() -> None:
    ns = namespace(phase="Terminating")
    ns["spec"] = {}
    ctrl, client = make(ns, obj("ConfigMap", "a"))
    await ctrl.sync("doomed")
    assert client.actions == []


async def test_a_namespace_missing_from_the_cache_is_skipped() -> None:
    ctrl, client = make()
    await ctrl.sync("doomed")
    assert client.actions == []


def test_a_pod_deleted_in_a_terminating_namespace_requeues_it_at_once() -> None:
    ctrl, _ = make(namespace(), namespace("alive", deleting=False))
    ctrl._pod_deleted(obj("Pod", "p", ns="alive"))
    assert len(ctrl.queue) == 0
    ctrl._pod_deleted(obj("Pod", "p"))
    assert len(ctrl.queue) == 1


@pytest.mark.parametrize(("old_status", "new_failing", "transition_moves", "changed"), [
    ("False", False, False, False),
    ("False", True, True, True),
    ("True", True, False, True),
], ids=["ok stays ok: nothing changes", "ok turns failing: the transition time moves",
        "failing with a new message: only the message changes"])
def test_update_conditions_moves_the_transition_time_only_when_the_status_flips(
        old_status: str, new_failing: bool, transition_moves: bool, changed: bool) -> None:
    old = [{"type": t, "status": "False", "reason": r, "message": m, "lastTransitionTime": "then"}
           for t, r, m in [
               ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
               ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions",
                "All legacy kube types successfully parsed"),
               ("NamespaceDeletionContentFailure", "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization"),
               ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
               ("NamespaceFinalizersRemaining", "ContentRemoved", "All content successfully removed")]]
    if old_status == "True":
        old[3].update(status="True", reason="SomeResourcesRemain", message="Some resources are remaining: x")
    failing = [{"type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
                "message": "Some resources are remaining: y", "lastTransitionTime": "now"}] if new_failing else []
    status: dict[str, Any] = {"conditions": old}
    assert update_conditions(status, failing, "now") is changed
    cond = status["conditions"][3]
    assert (cond["lastTransitionTime"] == "now") is transition_moves


class DiscoveryClient:
    """Answers discovery requests from a table of paths; others fail with 503."""

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self.docs = docs

    async def request(self, method: str, path: str, **_: Any) -> dict[str, Any]:
        if path not in self.docs:
            raise ApiError({"kind": "Status", "code": 503, "reason": "ServiceUnavailable", "message": "down"})
        return self.docs[path]


def resource_list(gv: str, *entries: tuple[str, str, bool, list[str]]) -> dict[str, Any]:
    return {"kind": "APIResourceList", "groupVersion": gv,
            "resources": [{"name": n, "kind": k, "namespaced": ns, "verbs": v} for n, k, ns, v in entries]}


async def test_api_discovery_prefers_each_groups_preferred_version_and_reports_failed_groups() -> None:
    verbs = ["delete", "list", "watch"]
    client = DiscoveryClient({
        "/api": {"kind": "APIVersions", "versions": ["v1"]},
        "/apis": {"kind": "APIGroupList", "groups": [
            {"name": "apps", "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"},
             "versions": [{"groupVersion": "apps/v1beta1", "version": "v1beta1"},
                          {"groupVersion": "apps/v1", "version": "v1"}]},
            {"name": "broken.example.com", "preferredVersion": {"version": "v1"},
             "versions": [{"groupVersion": "broken.example.com/v1", "version": "v1"}]},
        ]},
        "/api/v1": resource_list("v1", ("pods", "Pod", True, verbs), ("pods/status", "Pod", True, ["get"]),
                                 ("nodes", "Node", False, verbs)),
        "/apis/apps/v1": resource_list("apps/v1", ("deployments", "Deployment", True, verbs)),
        "/apis/apps/v1beta1": resource_list("apps/v1beta1", ("deployments", "Deployment", True, verbs),
                                            ("oldthings", "OldThing", True, verbs)),
    })
    result = await APIDiscovery(client).discover()
    assert sorted((r.api_version, r.plural) for r in result.preferred) == [
        ("apps/v1", "deployments"), ("apps/v1beta1", "oldthings"), ("v1", "nodes"), ("v1", "pods")]
    assert list(result.failed) == ["broken.example.com/v1"]
    mapped = result.by_kind("apps/v1beta1", "Deployment")
    assert mapped is not None and mapped.plural == "deployments" and mapped.namespaced
    pods = result.by_kind("v1", "Pod")
    assert pods is not None and pods.supports("list", "watch") and not pods.supports("deletecollection")


@pytest.mark.parametrize(("gv", "ok"), [("v1", True), ("apps/v1", True), ("a/b/c", False), ("/v1", False), ("", False)],
                         ids=["core", "named group", "too many slashes", "empty group with slash", "empty"])
def test_group_versions_are_parsed_strictly(gv: str, ok: bool) -> None:
    if ok:
        parse_group_version(gv)
    else:
        with pytest.raises(ValueError):
            parse_group_version(gv)
