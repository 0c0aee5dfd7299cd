"""Garbage collector: graph building, dangling owners, the three propagation policies.

Objects are seeded into a FakeClient (the "server"), fed to the graph with ``observe`` as
informer events would be, and the queued uids are synced; assertions are on the writes.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from kubepy.client import ApiError, InformerFactory
from kubepy.client.fake import Action, FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.discovery import DiscoveryResult, ServedResource, StaticDiscovery, builtin_discovery
from kubepy.controllers.garbagecollector import (
    GarbageCollector,
    deletable_resources,
    references_diffs,
    strip_to_metadata,
)

NOW = "2024-05-01T10:00:00Z"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []

    def event(self, obj: dict[str, Any], type: str, reason: str, message: str, **_: Any) -> None:
        self.events.append((obj["metadata"]["name"], type, reason, message))


def cm(name: str, *, ns: str = "default", owners: list[dict[str, Any]] | None = None,
       finalizers: list[str] | None = None, deleting: bool = False, uid: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid or str(uuid.uuid4())}
    if owners:
        meta["ownerReferences"] = owners
    if finalizers:
        meta["finalizers"] = finalizers
    if deleting:
        meta["deletionTimestamp"] = NOW
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def ref(owner: dict[str, Any], *, block: bool = False, kind: str | None = None) -> dict[str, Any]:
    return {"apiVersion": owner["apiVersion"], "kind": kind or owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "blockOwnerDeletion": block}


def ghost_ref(name: str = "ghost") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": name, "uid": str(uuid.uuid4())}


class FinalizingClient(FakeClient):
    """Like the API server: an object with finalizers is only marked deleted."""

    async def delete(self, ref: Any, name: str, *, namespace: str | None = None, options: Any = None,
                     **kw: Any) -> dict[str, Any]:
        obj = self.objects.get(self._key(ref, namespace, name))
        if obj is not None and obj["metadata"].get("finalizers"):
            obj["metadata"]["deletionTimestamp"] = NOW
            self.actions.append(Action("delete", ref.plural, namespace or "", name,
                                       options.to_body() if options else None))
            return obj
        return await super().delete(ref, name, namespace=namespace, options=options, **kw)


class Harness:
    def __init__(self, *, server: list[dict[str, Any]]) -> None:
        self.client = FinalizingClient(*server)
        self.recorder = Recorder()
        ctx = ControllerContext(client=self.client, informers=InformerFactory(self.client),  # type: ignore[arg-type]
                                recorder=self.recorder)  # type: ignore[arg-type]
        self.gc = GarbageCollector(ctx, builtin_discovery())

    async def setup(self, observed: list[dict[str, Any]]) -> None:
        await self.gc.resync_monitors(start=False)
        for obj in observed:
            self.gc.observe("add", obj)

    async def drain(self, rounds: int = 10) -> None:
        """Sync every queued uid (and what those syncs queue), ignoring not-yet-observed retries."""
        for _ in range(rounds):
            keys = []
            while len(self.gc.queue):
                key = await self.gc.queue.get()
                self.gc.queue.done(key)
                keys.append(key)
            if not keys:
                return
            for key in keys:
                try:
                    await self.gc.sync(key)
                except Exception:  # noqa: BLE001 - retried by the real worker
                    pass

    def deleted(self) -> list[str]:
        return [a.name for a in self.client.writes("delete")]

    def delete_bodies(self) -> dict[str, Any]:
        return {a.name: a.body for a in self.client.writes("delete")}


async def test_a_dependent_whose_owner_does_not_exist_is_deleted_in_the_background() -> None:
    dep = cm("dep", owners=[ghost_ref()])
    h = Harness(server=[dep])
    await h.setup([dep])
    await h.drain()
    assert h.deleted() == ["dep"]
    body = h.delete_bodies()["dep"]
    assert body["propagationPolicy"] == "Background"
    assert body["preconditions"] == {"uid": dep["metadata"]["uid"]}
    assert h.gc.graph.keys() == {dep["metadata"]["uid"]}, "the virtual owner node was removed"


async def test_a_dependent_with_an_existing_owner_is_left_alone() -> None:
    owner = cm("owner")
    dep = cm("dep", owners=[ref(owner)])
    h = Harness(server=[owner, dep])
    await h.setup([owner, dep])
    h.gc.queue.add(dep["metadata"]["uid"])
    await h.drain()
    assert h.client.actions == []


async def test_an_owner_reference_whose_uid_does_not_match_the_live_object_is_dangling() -> None:
    owner = cm("owner")
    stale = {**ref(owner), "uid": str(uuid.uuid4())}
    dep = cm("dep", owners=[stale])
    h = Harness(server=[owner, dep])
    await h.setup([dep])
    h.gc.queue.add(dep["metadata"]["uid"])
    await h.drain()
    assert h.deleted() == ["dep"]


async def test_with_a_solid_owner_only_the_dangling_reference_is_removed() -> None:
    owner = cm("owner")
    gone = ghost_ref()
    dep = cm("dep", owners=[ref(owner), gone])
    h = Harness(server=[owner, dep])
    await h.setup([owner, dep])
    h.gc.queue.add(dep["metadata"]["uid"])
    await h.drain()
    assert h.deleted() == []
    patched = h.client.get_object("v1", "configmaps", "default", "dep")
    assert patched is not None
    assert [r["uid"] for r in patched["metadata"]["ownerReferences"]] == [owner["metadata"]["uid"]]


@pytest.mark.parametrize(("finalizers", "policy"), [
    ([], "Background"),
    (["orphan"], "Orphan"),
    (["foregroundDeletion"], "Foreground"),
], ids=["no finalizer: background", "its own orphan finalizer: orphan", "its own foreground finalizer: foreground"])
async def test_an_ownerless_dependent_is_deleted_with_the_policy_its_finalizers_ask_for(
        finalizers: list[str], policy: str) -> None:
    dep = cm("dep", owners=[ghost_ref()], finalizers=finalizers)
    h = Harness(server=[dep])
    await h.setup([dep])
    await h.drain()
    assert h.delete_bodies()["dep"]["propagationPolicy"] == policy


async def test_an_object_already_being_deleted_is_not_deleted_again() -> None:
    dep = cm("dep", owners=[ghost_ref()], deleting=True, finalizers=["example.com/x"])
    h = Harness(server=[dep])
    await h.setup([dep])
    await h.drain()
    assert h.deleted() == []


async def test_foreground_deletion_deletes_dependents_and_keeps_the_finalizer_while_a_blocking_one_remains() -> None:
    owner = cm("owner")
    blocking = cm("blocking", owners=[ref(owner, block=True)], finalizers=["example.com/hold"])
    h = Harness(server=[owner, blocking])
    await h.setup([owner, blocking])
    deleting_owner = cm("owner", uid=owner["metadata"]["uid"], finalizers=["foregroundDeletion"], deleting=True)
    h.client.seed(deleting_owner)
    h.gc.observe("update", deleting_owner, owner)
    assert h.gc.graph[owner["metadata"]["uid"]].deleting_dependents
    await h.drain(rounds=1)
    assert h.deleted() == ["blocking"]
    assert h.delete_bodies()["blocking"]["propagationPolicy"] == "Background"
    marked = h.client.get_object("v1", "configmaps", "default", "blocking")
    assert marked is not None
    h.gc.observe("update", marked, blocking)
    await h.drain()
    assert h.deleted() == ["blocking"], "a dependent being deleted is not deleted again"
    assert h.client.writes("patch") == [], "the owner must wait for its blocking dependent"
    # the dependent's finalizer goes, it disappears: so does the owner's finalizer
    del h.client.objects[("v1", "configmaps", "default", "blocking")]
    h.gc.observe("delete", marked)
    await h.drain()
    remaining = h.client.get_object("v1", "configmaps", "default", "owner")
    assert remaining is not None and "finalizers" not in remaining["metadata"]


async def test_foreground_deletion_does_not_wait_for_non_blocking_dependents() -> None:
    owner = cm("owner")
    loose = cm("loose", owners=[ref(owner)], finalizers=["example.com/hold"], deleting=True)
    deleting_owner = cm("owner", uid=owner["metadata"]["uid"], finalizers=["foregroundDeletion"], deleting=True)
    h = Harness(server=[deleting_owner, loose])
    await h.setup([loose, deleting_owner])
    await h.drain()
    owner_now = h.client.get_object("v1", "configmaps", "default", "owner")
    assert owner_now is not None and "finalizers" not in owner_now["metadata"]


async def test_a_dependent_with_dependents_of_its_own_is_deleted_in_the_foreground_when_its_owner_is() -> None:
    owner = cm("owner", finalizers=["foregroundDeletion"], deleting=True)
    middle = cm("middle", owners=[ref(owner, block=True)])
    leaf = cm("leaf", owners=[ref(middle, block=True)])
    h = Harness(server=[owner, middle, leaf])
    await h.setup([owner, middle, leaf])
    await h.drain()
    assert h.delete_bodies()["middle"]["propagationPolicy"] == "Foreground"


async def test_orphan_deletion_drops_the_owner_reference_from_dependents_then_the_finalizer() -> None:
    owner = cm("owner")
    other = cm("other")
    dep = cm("dep", owners=[ref(owner), ref(other)])
    h = Harness(server=[owner, other, dep])
    await h.setup([owner, other, dep])
    orphaning = cm("owner", uid=owner["metadata"]["uid"], finalizers=["orphan"], deleting=True)
    h.client.seed(orphaning)
    h.gc.observe("update", orphaning, owner)
    assert len(h.gc.orphan_queue) == 1
    key = await h.gc.orphan_queue.get()
    await h.gc.attempt_to_orphan(key)
    dep_now = h.client.get_object("v1", "configmaps", "default", "dep")
    assert dep_now is not None
    assert [r["uid"] for r in dep_now["metadata"]["ownerReferences"]] == [other["metadata"]["uid"]]
    owner_now = h.client.get_object("v1", "configmaps", "default", "owner")
    assert owner_now is not None and "finalizers" not in owner_now["metadata"]
    assert h.deleted() == []


async def test_an_owner_in_another_namespace_is_reported_and_treated_as_absent() -> None:
    owner = cm("owner", ns="a")
    dep = cm("dep", ns="b", owners=[ref(owner)])
    h = Harness(server=[owner, dep])
    await h.setup([owner, dep])
    assert [(n, t, r) for n, t, r, _ in h.recorder.events] == [("dep", "Warning", "OwnerRefInvalidNamespace")]
    assert 'does not exist in namespace "b"' in h.recorder.events[0][3]
    await h.drain()
    assert h.deleted() == ["dep"]


async def test_a_cluster_scoped_object_naming_a_namespaced_owner_is_not_deleted() -> None:
    owner = cm("owner", ns="a")
    ns_obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace",
              "metadata": {"name": "x", "uid": str(uuid.uuid4()), "ownerReferences": [ref(owner)]}}
    h = Harness(server=[owner, ns_obj])
    await h.setup([ns_obj])
    h.gc.queue.add(ns_obj["metadata"]["uid"])
    await h.drain()
    assert h.deleted() == []


async def test_an_existing_owner_not_yet_observed_is_retried_until_an_informer_delivers_it() -> None:
    owner = cm("owner")
    dep = cm("dep", owners=[ref(owner)])
    h = Harness(server=[owner, dep])
    await h.setup([dep])
    owner_uid = owner["metadata"]["uid"]
    assert h.gc.graph[owner_uid].virtual
    with pytest.raises(Exception, match="not been observed"):
        await h.gc.sync(owner_uid)
    h.gc.observe("add", owner)
    assert not h.gc.graph[owner_uid].virtual
    await h.gc.sync(owner_uid)
    assert h.client.actions == []


async def test_removing_a_blocking_reference_requeues_an_owner_waiting_for_its_dependents() -> None:
    owner = cm("owner", finalizers=["foregroundDeletion"], deleting=True)
    dep = cm("dep", owners=[ref(owner, block=True)])
    h = Harness(server=[owner, dep])
    await h.setup([owner, dep])
    while len(h.gc.queue):
        h.gc.queue.done(await h.gc.queue.get())
    unblocked = cm("dep", uid=dep["metadata"]["uid"], owners=[ref(owner, block=False)])
    h.gc.observe("update", unblocked, dep)
    assert len(h.gc.queue) == 1
    assert await h.gc.queue.get() == owner["metadata"]["uid"]
    assert h.gc.graph[owner["metadata"]["uid"]].blocking_dependents() == []


def test_references_diffs_match_owner_references_by_uid() -> None:
    a = {"uid": "a", "name": "a"}
    b = {"uid": "b", "name": "b", "blockOwnerDeletion": True}
    b2 = {"uid": "b", "name": "b", "blockOwnerDeletion": False}
    c = {"uid": "c", "name": "c"}
    added, removed, changed = references_diffs([a, b], [b2, c])
    assert (added, removed, changed) == ([c], [a], [(b, b2)])


def test_only_listable_watchable_deletable_resources_are_monitored_and_events_never_are() -> None:
    res = [
        ServedResource(group="", version="v1", plural="configmaps", kind="ConfigMap", namespaced=True,
                       verbs=frozenset({"list", "watch", "delete", "get"})),
        ServedResource(group="", version="v1", plural="events", kind="Event", namespaced=True,
                       verbs=frozenset({"list", "watch", "delete"})),
        ServedResource(group="authorization.k8s.io", version="v1", plural="selfsubjectaccessreviews",
                       kind="SelfSubjectAccessReview", namespaced=False, verbs=frozenset({"create"})),
    ]
    result = DiscoveryResult(resources=res, preferred=res)
    assert [r.plural for r in deletable_resources(result)] == ["configmaps"]


async def test_the_collector_watches_the_preferred_version_of_every_deletable_builtin_resource() -> None:
    h = Harness(server=[])
    await h.gc.resync_monitors(start=False)
    keys = set(h.gc.monitors)
    assert {("", "pods"), ("apps", "replicasets"), ("", "configmaps"), ("batch", "jobs")} <= keys
    assert ("", "events") not in keys and ("events.k8s.io", "events") not in keys


async def test_resources_that_disappear_from_discovery_stop_being_watched() -> None:
    client = FakeClient()
    cms = ServedResource(group="", version="v1", plural="configmaps", kind="ConfigMap", namespaced=True,
                         verbs=frozenset({"list", "watch", "delete"}))
    widgets = ServedResource(group="example.com", version="v1", plural="widgets", kind="Widget", namespaced=True,
                             verbs=frozenset({"list", "watch", "delete"}))
    disc = StaticDiscovery([cms, widgets])
    ctx = ControllerContext(client=client, informers=InformerFactory(client),  # type: ignore[arg-type]
                            recorder=Recorder())  # type: ignore[arg-type]
    gc = GarbageCollector(ctx, disc)
    assert await gc.resync_monitors(start=False)
    assert set(gc.monitors) == {("", "configmaps"), ("example.com", "widgets")}
    assert not await gc.resync_monitors(start=False), "nothing changed"
    disc.resources = [cms]
    assert await gc.resync_monitors(start=False)
    assert set(gc.monitors) == {("", "configmaps")}


def test_cached_objects_keep_only_the_metadata_the_collector_reads() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"big": "x" * 100},
           "metadata": {"name": "a", "namespace": "n", "uid": "u", "resourceVersion": "5",
                        "annotations": {"k": "v"}, "managedFields": [{}], "finalizers": ["f"],
                        "ownerReferences": [{"uid": "o"}]}}
    assert strip_to_metadata(obj, "v1", "ConfigMap") == {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "a", "namespace": "n", "uid": "u", "resourceVersion": "5", "finalizers": ["f"],
                     "ownerReferences": [{"uid": "o"}]},
    }


class NoStrategicClient(FinalizingClient):
    """Like a custom resource's endpoint: strategic-merge patches are refused with 415."""

    async def patch(self, ref: Any, name: str, patch: Any, *, type: str = "merge", **kw: Any) -> dict[str, Any]:
        if type == "strategic":
            raise ApiError({"kind": "Status", "code": 415, "reason": "UnsupportedMediaType", "message": "no"})
        return await super().patch(ref, name, patch, type=type, **kw)


async def test_without_strategic_merge_the_owner_references_are_rewritten_with_a_merge_patch() -> None:
    owner = cm("owner")
    gone = ghost_ref()
    dep = cm("dep", owners=[ref(owner), gone])
    h = Harness(server=[owner, dep])
    h.client = NoStrategicClient(owner, dep)
    h.gc.client = h.client
    await h.setup([owner, dep])
    h.gc.queue.add(dep["metadata"]["uid"])
    await h.drain()
    [patch] = h.client.writes("patch")
    assert patch.body["metadata"]["ownerReferences"] == [ref(owner)]
    assert patch.body["metadata"]["uid"] == dep["metadata"]["uid"]
    assert patch.body["metadata"]["resourceVersion"], "the rewrite is conditional on what was read"
