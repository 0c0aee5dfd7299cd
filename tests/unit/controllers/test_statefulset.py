"""StatefulSet controller: ordered creation, scale-down order, rolling updates with partitions,
OnDelete, failed pods, claims and their retention policy, status, history. Caches are seeded from
a FakeClient, ``sync`` runs, and the recorded writes are asserted."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from kubepy.client import FakeClock, InformerFactory
from kubepy.client.events import rfc3339
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.history import REVISION_LABEL, new_revision, template_patch
from kubepy.controllers.statefulset import (
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    StatefulSetController,
    claim_owner_refs,
    claim_owner_up_to_date,
    compute_status,
    new,
    new_pod,
    parent_and_ordinal,
)

NS = "ns"
KEY = f"{NS}/web"
SET_UID = "set-uid"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str, **_: Any) -> None:
        self.events.append((type, reason, message))


class ApiLikeClient(FakeClient):
    """A FakeClient whose new pods start Pending with a creation time, as the API server makes them."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    async def create(self, ref: Any, obj: Any, **kw: Any) -> Any:
        if ref.plural == "pods" and not kw.get("subresource"):
            obj = {**obj, "status": {"phase": "Pending"},
                   "metadata": {**obj["metadata"], "creationTimestamp": rfc3339(self.clock.time())}}
        return await super().create(ref, obj, **kw)


def make_set(replicas: int = 3, *, policy: str = "OrderedReady", strategy: str = "RollingUpdate",
             partition: int | None = 0, image: str = "nginx:1", claims: bool = False,
             retention: tuple[str, str] = ("Retain", "Retain"), min_ready: int = 0, start: int | None = None,
             history_limit: int = 10) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas, "serviceName": "web-svc", "podManagementPolicy": policy,
        "selector": {"matchLabels": {"app": "web"}}, "minReadySeconds": min_ready,
        "revisionHistoryLimit": history_limit,
        "updateStrategy": {"type": strategy},
        "persistentVolumeClaimRetentionPolicy": {"whenScaled": retention[0], "whenDeleted": retention[1]},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "c", "image": image}]}},
    }
    if strategy == "RollingUpdate" and partition is not None:
        spec["updateStrategy"]["rollingUpdate"] = {"partition": partition}
    if claims:
        spec["volumeClaimTemplates"] = [{"metadata": {"name": "data", "labels": {"tier": "db"}},
                                         "spec": {"accessModes": ["ReadWriteOnce"],
                                                  "resources": {"requests": {"storage": "1Gi"}}}}]
    if start is not None:
        spec["ordinals"] = {"start": start}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "namespace": NS, "uid": SET_UID, "generation": 1},
            "spec": spec, "status": {"replicas": 0}}


class World:
    """A FakeClient as the cluster, the controller's caches refreshed from it on demand."""

    def __init__(self, sts: dict[str, Any]) -> None:
        self.clock = FakeClock()
        self.client = ApiLikeClient(self.clock)
        self.recorder = Recorder()
        self.ctx = ControllerContext(client=self.client, informers=InformerFactory(self.client),
                                     recorder=self.recorder, clock=self.clock)  # type: ignore[arg-type]
        self.ctrl = new(self.ctx)
        self.client.seed(sts)
        self.uids = itertools.count(1)
        self.reflect()

    def objects(self, plural: str) -> list[dict[str, Any]]:
        return [o for (_, p, _, _), o in sorted(self.client.objects.items()) if p == plural]

    def reflect(self) -> None:
        c: StatefulSetController = self.ctrl
        for informer, plural in ((c.sets, "statefulsets"), (c.pods, "pods"), (c.revisions, "controllerrevisions"),
                                 (c.pvcs, "persistentvolumeclaims")):
            informer.indexer.replace([dict(o) for o in self.objects(plural)])

    async def sync(self) -> None:
        self.client.actions.clear()
        self.reflect()
        await self.ctrl.sync(KEY)
        self.reflect()

    def pod(self, name: str) -> dict[str, Any]:
        obj = self.client.objects[("v1", "pods", NS, name)]
        return obj

    def set_ready(self, *names: str, ready: bool = True, phase: str = "Running") -> None:
        for name in names:
            pod = self.pod(name)
            pod["status"] = {"phase": phase, "conditions": [
                {"type": "Ready", "status": "True" if ready else "False",
                 "lastTransitionTime": rfc3339(self.clock.time())}]}

    def sts(self) -> dict[str, Any]:
        return self.client.objects[("apps/v1", "statefulsets", NS, "web")]

    def change(self, **spec: Any) -> None:
        sts = self.sts()
        for k, v in spec.items():
            if k == "image":
                sts["spec"]["template"]["spec"]["containers"][0]["image"] = v
            else:
                sts["spec"][k] = v
        sts["metadata"]["generation"] += 1

    def created(self, plural: str = "pods") -> list[str]:
        return [a.name for a in self.client.writes("create", plural)]

    def deleted(self, plural: str = "pods") -> list[str]:
        return [a.name for a in self.client.writes("delete", plural)]

    async def bring_up(self) -> None:
        """Sync, making each new pod Ready, until nothing more is created."""
        for _ in range(20):
            await self.sync()
            pending = [o["metadata"]["name"] for o in self.objects("pods") if o["status"].get("phase") == "Pending"]
            if not pending and not self.created():
                return
            self.set_ready(*pending)
        raise AssertionError("the set did not settle")


def pods_in(world: World) -> list[str]:
    return [o["metadata"]["name"] for o in world.objects("pods")]


# -- pure functions ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("web-0", ("web", 0), id="a set pod's name gives its set and ordinal"),
    pytest.param("my-db-12", ("my-db", 12), id="the last dash separates the ordinal"),
    pytest.param("web", ("", -1), id="a name without an ordinal belongs to no set"),
    pytest.param("web-99999999999", ("web", -1), id="an ordinal beyond int32 is not an ordinal"),
])
def test_parent_and_ordinal(name: str, expected: tuple[str, int]) -> None:
    assert parent_and_ordinal({"metadata": {"name": name}}) == expected


def _pod(name: str, uid: str = "pod-uid") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "uid": uid}}


def _claim(*refs: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "data-web-0", "namespace": NS, "ownerReferences": list(refs)}}


SET_REF = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": SET_UID, "controller": True}
POD_REF = {"apiVersion": "v1", "kind": "Pod", "name": "web-5", "uid": "pod-uid", "controller": True}


@pytest.mark.parametrize(("retention", "pod_name", "refs", "up_to_date"), [
    pytest.param(("Retain", "Retain"), "web-0", [], True, id="retain-retain wants no owners"),
    pytest.param(("Retain", "Retain"), "web-0", [SET_REF], False, id="retain-retain drops a set owner"),
    pytest.param(("Retain", "Delete"), "web-0", [SET_REF], True, id="delete-on-deletion wants the set as owner"),
    pytest.param(("Retain", "Delete"), "web-0", [], False, id="delete-on-deletion adds a missing set owner"),
    pytest.param(("Delete", "Retain"), "web-5", [POD_REF], True,
                 id="delete-on-scale-down wants a scaled-down pod as owner"),
    pytest.param(("Delete", "Retain"), "web-0", [], True, id="delete-on-scale-down leaves in-range claims alone"),
    pytest.param(("Delete", "Delete"), "web-5", [SET_REF], False,
                 id="delete-both moves a scaled-down claim from the set to the pod"),
    pytest.param(("Delete", "Delete"), "web-0", [SET_REF], True, id="delete-both keeps in-range claims on the set"),
    pytest.param(("Retain", "Delete"), "web-0", [{**SET_REF, "uid": "older"}], True,
                 id="a stale owner from an earlier set is left alone"),
])
def test_claim_ownership_by_retention_policy(retention: tuple[str, str], pod_name: str, refs: list[dict[str, Any]],
                                             up_to_date: bool) -> None:
    sts = make_set(replicas=3, retention=retention)
    pod = _pod(pod_name)
    claim = _claim(*refs)
    assert claim_owner_up_to_date(claim, sts, pod) is up_to_date
    if not up_to_date:  # the controller rewrites the references, after which they are right
        fixed = {"metadata": {**claim["metadata"], "ownerReferences": claim_owner_refs(claim, sts, pod)}}
        assert claim_owner_up_to_date(fixed, sts, pod)


def test_status_counts_created_ready_available_current_and_updated_pods() -> None:
    def pod(name: str, rev: str, *, phase: str = "Running", ready: bool = True, deleting: bool = False) -> Any:
        meta: dict[str, Any] = {"name": name, "labels": {REVISION_LABEL: rev}}
        if deleting:
            meta["deletionTimestamp"] = "2024-05-01T10:00:00Z"
        return {"metadata": meta, "status": {"phase": phase, "conditions": [
            {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": "2024-05-01T10:00:00Z"}]}}

    pods = [pod("web-0", "a"), pod("web-1", "b"), pod("web-2", "b", ready=False), pod("web-3", "a", deleting=True),
            {"metadata": {"name": "web-4", "labels": {REVISION_LABEL: "b"}}}]
    now = 1_714_557_600.0 + 5
    assert compute_status([pods], min_ready_seconds=0, now=now, current_revision="a", update_revision="b") == {
        "replicas": 4, "readyReplicas": 3, "availableReplicas": 3, "currentReplicas": 1, "updatedReplicas": 2}
    assert compute_status([pods], min_ready_seconds=60, now=now, current_revision="a",
                          update_revision="b")["availableReplicas"] == 0


# -- creation ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("policy", "existing", "expected"), [
    pytest.param("OrderedReady", {}, ["web-0"], id="ordered: only the first pod is created"),
    pytest.param("OrderedReady", {"web-0": "Pending"}, [], id="ordered: nothing while web-0 is not ready"),
    pytest.param("OrderedReady", {"web-0": "Ready"}, ["web-1"], id="ordered: web-1 once web-0 is ready"),
    pytest.param("OrderedReady", {"web-0": "Ready", "web-1": "NotReady"}, [],
                 id="ordered: a running but unready pod blocks its successors"),
    pytest.param("Parallel", {}, ["web-0", "web-1", "web-2"], id="parallel: every pod at once"),
    pytest.param("Parallel", {"web-0": "Pending"}, ["web-1", "web-2"], id="parallel: does not wait for readiness"),
])
async def test_pods_are_created_in_order_or_in_parallel(policy: str, existing: dict[str, str],
                                                        expected: list[str]) -> None:
    w = World(make_set(policy=policy))
    for name, state in existing.items():
        seed_pod(w, name, state)
    await w.sync()
    assert sorted(w.created()) == expected


def seed_pod(w: World, name: str, state: str) -> None:
    """Put a pod of the set at its current template in place: Pending, Ready or NotReady."""
    sts = w.sts()
    rev = new_revision(sts, data=template_patch(sts), revision=1, collision_count=0)["metadata"]["name"]
    pod = new_pod(sts, parent_and_ordinal({"metadata": {"name": name}})[1])
    pod["metadata"]["labels"][REVISION_LABEL] = rev
    pod["status"] = {"phase": "Pending"}
    w.client.seed(pod)
    if state == "Ready":
        w.set_ready(name)
    elif state == "NotReady":
        w.set_ready(name, ready=False)


async def test_a_new_pod_has_its_identity_revision_and_owner() -> None:
    w = World(make_set(replicas=1))
    await w.sync()
    pod = w.pod("web-0")
    rev = w.objects("controllerrevisions")[0]["metadata"]["name"]
    assert pod["metadata"]["labels"] == {"app": "web", POD_NAME_LABEL: "web-0", POD_INDEX_LABEL: "0",
                                         REVISION_LABEL: rev}
    assert pod["spec"]["hostname"] == "web-0"
    assert pod["spec"]["subdomain"] == "web-svc"
    ref = pod["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == ("StatefulSet", "web", SET_UID, True)
    assert ("Normal", "SuccessfulCreate", "create Pod web-0 in StatefulSet web successful") in w.recorder.events


async def test_ordinals_start_where_the_set_says() -> None:
    w = World(make_set(replicas=2, policy="Parallel", start=5))
    await w.sync()
    assert sorted(w.created()) == ["web-5", "web-6"]


async def test_a_set_comes_up_in_order_and_reports_ready() -> None:
    w = World(make_set(replicas=3))
    order: list[str] = []
    for _ in range(10):
        await w.sync()
        order += w.created()
        pending = [o["metadata"]["name"] for o in w.objects("pods") if o["status"]["phase"] == "Pending"]
        assert len(pending) <= 1, "OrderedReady never has two pods starting at once"
        w.set_ready(*pending)
    assert order == ["web-0", "web-1", "web-2"]
    status = w.sts()["status"]
    assert status["replicas"] == 3 and status["readyReplicas"] == 3 and status["availableReplicas"] == 3
    assert status["currentRevision"] == status["updateRevision"] == w.objects("controllerrevisions")[0]["metadata"]["name"]
    assert status["observedGeneration"] == 1 and status["collisionCount"] == 0


async def test_status_is_not_rewritten_when_nothing_changed() -> None:
    w = World(make_set(replicas=1))
    await w.bring_up()
    await w.sync()
    assert w.client.writes("update", "statefulsets") == []
    assert w.client.actions == []


# -- scaling down ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("policy", "expected"), [
    pytest.param("OrderedReady", ["web-2"], id="ordered: the highest ordinal goes first, alone"),
    pytest.param("Parallel", ["web-1", "web-2"], id="parallel: every condemned pod goes at once"),
])
async def test_scale_down_removes_the_highest_ordinals(policy: str, expected: list[str]) -> None:
    w = World(make_set(replicas=3, policy=policy))
    await w.bring_up()
    w.change(replicas=1)
    await w.sync()
    assert sorted(w.deleted()) == expected
    assert ("Normal", "SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful") in w.recorder.events


async def test_ordered_scale_down_waits_for_unhealthy_pods() -> None:
    w = World(make_set(replicas=3))
    await w.bring_up()
    w.set_ready("web-0", ready=False)
    w.change(replicas=1)
    await w.sync()
    assert w.deleted() == []


async def test_ordered_scale_down_goes_one_pod_at_a_time() -> None:
    w = World(make_set(replicas=3))
    await w.bring_up()
    w.change(replicas=0)
    seen: list[str] = []
    for _ in range(5):
        await w.sync()
        seen += w.deleted()
        assert len(w.deleted()) <= 1
    assert seen == ["web-2", "web-1", "web-0"]


# -- updates ---------------------------------------------------------------------------------------------

async def _roll(w: World, rounds: int = 20) -> list[str]:
    """Sync until quiet, making new pods ready; returns the deleted pods in order."""
    deleted: list[str] = []
    for _ in range(rounds):
        await w.sync()
        deleted += w.deleted()
        pending = [o["metadata"]["name"] for o in w.objects("pods") if o["status"]["phase"] == "Pending"]
        w.set_ready(*pending)
        if not w.client.actions:
            break
    return deleted


@pytest.mark.parametrize(("partition", "deleted", "updated"), [
    pytest.param(0, ["web-2", "web-1", "web-0"], ["web-0", "web-1", "web-2"],
                 id="a rolling update replaces pods from the highest ordinal down"),
    pytest.param(2, ["web-2"], ["web-2"], id="a partition keeps ordinals below it at the old revision"),
    pytest.param(3, [], [], id="a partition at the replica count updates nothing"),
])
async def test_rolling_update_order_and_partition(partition: int, deleted: list[str], updated: list[str]) -> None:
    w = World(make_set(replicas=3, partition=partition))
    await w.bring_up()
    old_rev = w.sts()["status"]["currentRevision"]
    w.change(image="nginx:2")
    assert await _roll(w) == deleted
    status = w.sts()["status"]
    new_rev = status["updateRevision"]
    assert new_rev != old_rev
    on_new = sorted(o["metadata"]["name"] for o in w.objects("pods")
                    if o["metadata"]["labels"][REVISION_LABEL] == new_rev)
    assert on_new == updated
    for o in w.objects("pods"):
        image = o["spec"]["containers"][0]["image"]
        assert image == ("nginx:2" if o["metadata"]["name"] in updated else "nginx:1")
    assert status.get("updatedReplicas", 0) == len(updated)
    if len(updated) == 3:
        assert status["currentRevision"] == new_rev and status["currentReplicas"] == 3
    else:
        assert status["currentRevision"] == old_rev


async def test_rolling_update_waits_for_the_replaced_pod_to_be_ready() -> None:
    w = World(make_set(replicas=3))
    await w.bring_up()
    w.change(image="nginx:2")
    await w.sync()
    assert w.deleted() == ["web-2"]
    await w.sync()
    assert w.created() == ["web-2"]
    await w.sync()  # web-2 is Pending at the new revision: nothing else moves
    assert w.deleted() == [] and w.created() == []


async def test_on_delete_updates_only_pods_the_user_deletes() -> None:
    w = World(make_set(replicas=2, strategy="OnDelete"))
    await w.bring_up()
    w.change(image="nginx:2")
    await w.sync()
    assert w.deleted() == []
    del w.client.objects[("v1", "pods", NS, "web-1")]
    await w.sync()
    assert w.created() == ["web-1"]
    assert w.pod("web-1")["spec"]["containers"][0]["image"] == "nginx:2"
    assert w.pod("web-0")["spec"]["containers"][0]["image"] == "nginx:1"


async def test_rollback_renumbers_the_old_revision_instead_of_making_a_new_one() -> None:
    w = World(make_set(replicas=1))
    await w.bring_up()
    w.change(image="nginx:2")
    await _roll(w)
    w.change(image="nginx:1")
    await _roll(w)
    revs = sorted(w.objects("controllerrevisions"), key=lambda r: r["revision"])
    assert len(revs) == 2
    assert revs[-1]["data"]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1"
    assert revs[-1]["revision"] == 3


async def test_history_is_truncated_to_the_limit_keeping_live_revisions() -> None:
    w = World(make_set(replicas=1, history_limit=0))
    await w.bring_up()
    for image in ("nginx:2", "nginx:3"):
        w.change(image=image)
        await _roll(w)
    revs = w.objects("controllerrevisions")
    assert [r["data"]["spec"]["template"]["spec"]["containers"][0]["image"] for r in revs] == ["nginx:3"]


# -- failures and claims ---------------------------------------------------------------------------------

@pytest.mark.parametrize("phase", ["Failed", "Succeeded"])
async def test_a_finished_pod_is_deleted_then_made_again(phase: str) -> None:
    w = World(make_set(replicas=2))
    await w.bring_up()
    w.set_ready("web-0", ready=False, phase=phase)
    await w.sync()
    assert w.deleted() == ["web-0"] and w.created() == []
    await w.sync()
    assert w.created() == ["web-0"]


@pytest.mark.parametrize(("retention", "owner_kinds"), [
    pytest.param(("Retain", "Retain"), [], id="retained claims have no owner"),
    pytest.param(("Retain", "Delete"), ["StatefulSet"], id="delete-on-deletion claims are owned by the set"),
])
async def test_claims_are_created_before_their_pod(retention: tuple[str, str], owner_kinds: list[str]) -> None:
    w = World(make_set(replicas=1, claims=True, retention=retention))
    await w.sync()
    creates = [(a.resource, a.name) for a in w.client.writes("create") if a.resource != "controllerrevisions"]
    assert creates == [("persistentvolumeclaims", "data-web-0"), ("pods", "web-0")]
    pvc = w.client.objects[("v1", "persistentvolumeclaims", NS, "data-web-0")]
    assert pvc["metadata"]["labels"] == {"tier": "db", "app": "web"}
    assert pvc["spec"]["resources"] == {"requests": {"storage": "1Gi"}}
    assert [r["kind"] for r in pvc["metadata"].get("ownerReferences") or []] == owner_kinds
    assert w.pod("web-0")["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-0"}}]
    assert ("Normal", "SuccessfulCreate", "create Claim data-web-0 Pod web-0 in StatefulSet web success") \
        in w.recorder.events


async def test_scaled_down_claims_are_handed_to_their_pod_when_scale_down_deletes() -> None:
    w = World(make_set(replicas=2, claims=True, retention=("Delete", "Retain")))
    await w.bring_up()
    uid = w.pod("web-1")["metadata"]["uid"]
    w.change(replicas=1)
    await w.sync()
    pvc = w.client.objects[("v1", "persistentvolumeclaims", NS, "data-web-1")]
    refs = pvc["metadata"]["ownerReferences"]
    assert [(r["kind"], r["name"], r["uid"]) for r in refs] == [("Pod", "web-1", uid)]
    assert w.deleted() == ["web-1"]
    kept = w.client.objects[("v1", "persistentvolumeclaims", NS, "data-web-0")]
    assert not kept["metadata"].get("ownerReferences")


async def test_a_deleted_set_is_not_synced() -> None:
    w = World(make_set())
    del w.client.objects[("apps/v1", "statefulsets", NS, "web")]
    await w.sync()
    assert w.client.actions == []


async def test_orphan_pods_with_a_matching_name_are_adopted_and_others_ignored() -> None:
    w = World(make_set(replicas=1))
    for name in ("web-0", "other-0"):
        w.client.seed({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "namespace": NS, "labels": {"app": "web"}},
                       "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}, "status": {"phase": "Running"}})
    await w.sync()
    patched = [a.name for a in w.client.writes("patch", "pods")]
    assert patched == ["web-0"]
    assert w.pod("web-0")["metadata"]["ownerReferences"][0]["uid"] == SET_UID
