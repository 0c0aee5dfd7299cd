"""Deployment controller: the pure arithmetic by tables, then sync against seeded caches."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import ApiError, FakeClock, InformerFactory
from kubepy.client.events import rfc3339
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.deployment import DeploymentController, new
from kubepy.controllers.deployment.hashing import compute_hash, fnv32a, safe_encode
from kubepy.controllers.deployment.replicasets import (
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    equal_ignore_hash,
    max_surge,
    max_unavailable,
    resolve_fenceposts,
)

NS = "ns"
D_UID = "d-uid"
KEY = f"{NS}/web"
NOW = 1_714_557_600.0


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str, **_: Any) -> None:
        self.events.append((type, reason, message))


def template(image: str = "nginx:1") -> dict[str, Any]:
    return {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": image}]}}


def make_d(replicas: int = 10, *, image: str = "nginx:1", strategy: dict[str, Any] | None = None,
           paused: bool = False, status: dict[str, Any] | None = None, history: int = 10,
           generation: int = 1, progress_deadline: int = 600) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS, "uid": D_UID, "generation": generation,
                     "resourceVersion": "3", "annotations": {}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": template(image),
                 "strategy": strategy or {"type": "RollingUpdate",
                                          "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                 "revisionHistoryLimit": history, "progressDeadlineSeconds": progress_deadline, "paused": paused},
        "status": status or {},
    }


def make_rs(name: str, replicas: int, *, image: str = "nginx:1", revision: int = 1, available: int | None = None,
            created: str = "2024-05-01T09:00:00Z", max_replicas: int | None = None,
            desired: int | None = None) -> dict[str, Any]:
    avail = replicas if available is None else available
    tpl = template(image)
    tpl["metadata"]["labels"]["pod-template-hash"] = name
    ann = {REVISION_ANNOTATION: str(revision)}
    if desired is not None:
        ann["deployment.kubernetes.io/desired-replicas"] = str(desired)
    if max_replicas is not None:
        ann["deployment.kubernetes.io/max-replicas"] = str(max_replicas)
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "generation": 1, "resourceVersion": "2",
                     "creationTimestamp": created, "labels": dict(tpl["metadata"]["labels"]), "annotations": ann,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                          "uid": D_UID, "controller": True}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web", "pod-template-hash": name}},
                 "template": tpl},
        "status": {"replicas": replicas, "readyReplicas": avail, "availableReplicas": avail,
                   "observedGeneration": 1},
    }


def build(d: dict[str, Any], rss: list[dict[str, Any]]) -> tuple[DeploymentController, FakeClient, Recorder]:
    fake = FakeClient()
    fake.seed(d)
    for rs in rss:
        fake.seed(rs)
    rec = Recorder()
    ctx = ControllerContext(client=fake, informers=InformerFactory(fake), recorder=rec,  # type: ignore[arg-type]
                            clock=FakeClock(wall_start=NOW))
    ctl = new(ctx)
    ctl.d_informer.indexer.add(fake.get_object("apps/v1", "deployments", NS, "web") or d)
    for rs in rss:
        ctl.rs_informer.indexer.add(fake.get_object("apps/v1", "replicasets", NS, rs["metadata"]["name"]) or rs)
    return ctl, fake, rec


def rs_scales(fake: FakeClient) -> dict[str, int]:
    """Last written spec.replicas per ReplicaSet (creates and updates)."""
    out: dict[str, int] = {}
    for a in fake.actions:
        if a.resource == "replicasets" and a.verb in ("create", "update") and not a.subresource:
            out[a.body["metadata"]["name"]] = a.body["spec"]["replicas"]
    return out


def last_status(fake: FakeClient) -> dict[str, Any]:
    status: dict[str, Any] = [a.body for a in fake.writes("update", "deployments")
                              if a.subresource == "status"][-1]["status"]
    return status


# -- pure parts ----------------------------------------------------------------------------------------

def test_fnv32a_matches_the_reference_vectors() -> None:
    assert (fnv32a(b""), fnv32a(b"a"), fnv32a(b"foobar")) == (0x811C9DC5, 0xE40C292C, 0xBF9CF968)


def test_safe_encode_maps_digits_onto_the_upstream_alphabet() -> None:
    assert safe_encode("0123456789") == "456789bcdf"


@pytest.mark.parametrize(("a", "ca", "b", "cb", "same"), [
    pytest.param(template(), None, template(), None, True, id="the same template hashes the same"),
    pytest.param(template(), None, template("nginx:2"), None, False, id="a different image hashes differently"),
    pytest.param(template(), None, template(), 1, False, id="a collision count moves the hash"),
    pytest.param(template(), 1, template(), 1, True, id="the same collision count hashes the same"),
])
def test_compute_hash(a: dict[str, Any], ca: int | None, b: dict[str, Any], cb: int | None, same: bool) -> None:
    ha, hb = compute_hash(a, ca), compute_hash(b, cb)
    assert (ha == hb) is same
    assert set(ha) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_equal_ignore_hash_ignores_only_the_hash_label() -> None:
    with_hash = make_rs("abc", 1)["spec"]["template"]
    assert equal_ignore_hash(with_hash, template())
    assert not equal_ignore_hash(with_hash, template("nginx:2"))


@pytest.mark.parametrize(("surge", "unavailable", "desired", "want"), [
    pytest.param("25%", "25%", 10, (3, 2), id="percent surge rounds up and unavailable rounds down"),
    pytest.param(2, 0, 10, (2, 0), id="plain numbers are used as they are"),
    pytest.param("0%", "10%", 5, (0, 1), id="both resolving to zero allows one unavailable"),
    pytest.param("100%", "0%", 3, (3, 0), id="a full surge doubles the pods"),
])
def test_resolve_fenceposts(surge: Any, unavailable: Any, desired: int, want: tuple[int, int]) -> None:
    assert resolve_fenceposts(surge, unavailable, desired) == want


def test_recreate_has_no_surge_or_unavailable_budget() -> None:
    d = make_d(strategy={"type": "Recreate"})
    assert (max_surge(d), max_unavailable(d)) == (0, 0)


# -- new replica set -----------------------------------------------------------------------------------

async def test_a_new_deployment_creates_its_replica_set_scaled_up() -> None:
    ctl, fake, rec = build(make_d(3), [])
    await ctl.sync(KEY)
    rs = fake.writes("create", "replicasets")[0].body
    h = compute_hash(template())
    assert rs["metadata"]["name"] == f"web-{h}"
    assert rs["metadata"]["labels"]["pod-template-hash"] == h
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": h}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == h
    assert rs["spec"]["replicas"] == 3
    assert rs["metadata"]["annotations"] == {REVISION_ANNOTATION: "1",
                                             "deployment.kubernetes.io/desired-replicas": "3",
                                             "deployment.kubernetes.io/max-replicas": "4"}
    assert ("Normal", "ScalingReplicaSet", f"Scaled up replica set web-{h} from 0 to 3") in rec.events
    assert fake.get_object("apps/v1", "deployments", NS, "web")["metadata"]["annotations"][  # type: ignore[index]
        REVISION_ANNOTATION] == "1"
    progressing = [c for c in last_status(fake)["conditions"] if c["type"] == "Progressing"]
    assert progressing[0]["reason"] == "NewReplicaSetCreated"


async def test_a_name_taken_by_another_template_bumps_the_collision_count() -> None:
    squatter = make_rs(f"web-{compute_hash(template())}", 1, image="other")
    squatter["metadata"]["ownerReferences"] = []
    squatter["metadata"]["labels"] = {"other": "x"}
    ctl, fake, _ = build(make_d(3), [squatter])
    with pytest.raises(ApiError):
        await ctl.sync(KEY)
    assert last_status(fake)["collisionCount"] == 1
    assert fake.writes("create", "replicasets") == []


# -- rolling update ------------------------------------------------------------------------------------

async def test_a_template_change_surges_the_new_replica_set() -> None:
    ctl, fake, _ = build(make_d(10, image="nginx:2"), [make_rs("old", 10, desired=10, max_replicas=13)])
    await ctl.sync(KEY)
    created = fake.writes("create", "replicasets")[0].body
    assert created["spec"]["replicas"] == 3  # maxSurge: 25% of 10, rounded up
    assert created["metadata"]["annotations"][REVISION_ANNOTATION] == "2"


@pytest.mark.parametrize(("old", "new_", "want"), [
    pytest.param(make_rs("old", 10, desired=10, max_replicas=13),
                 make_rs("new", 3, image="nginx:2", available=0, revision=2, desired=10, max_replicas=13),
                 {"old": 8}, id="old pods go down by what keeps 75 percent available"),
    pytest.param(make_rs("old", 8, desired=10, max_replicas=13),
                 make_rs("new", 5, image="nginx:2", available=0, revision=2, desired=10, max_replicas=13),
                 {}, id="nothing goes down while the new pods are not available yet"),
    pytest.param(make_rs("old", 10, available=6, desired=10, max_replicas=13),
                 make_rs("new", 3, image="nginx:2", available=0, revision=2, desired=10, max_replicas=13),
                 {"old": 8}, id="unhealthy old replicas go first, within the budget"),
    pytest.param(make_rs("old", 10, available=7, desired=10, max_replicas=13),
                 make_rs("new", 3, image="nginx:2", available=3, revision=2, desired=10, max_replicas=13),
                 {"old": 5}, id="unhealthy old replicas are cleaned up and then healthy ones go"),
])
async def test_old_replica_sets_scale_down_within_max_unavailable(
        old: dict[str, Any], new_: dict[str, Any], want: dict[str, int]) -> None:
    ctl, fake, _ = build(make_d(10, image="nginx:2"), [old, new_])
    await ctl.sync(KEY)
    assert rs_scales(fake) == want


async def test_a_finished_rollout_is_reported_complete() -> None:
    d = make_d(3, image="nginx:2", status={"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                                           "availableReplicas": 3, "readyReplicas": 3})
    ctl, fake, _ = build(d, [make_rs("old", 0, desired=3, max_replicas=4),
                             make_rs("new", 3, image="nginx:2", revision=2, desired=3, max_replicas=4)])
    await ctl.sync(KEY)
    status = last_status(fake)
    conds = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conds == {"Available": ("True", "MinimumReplicasAvailable"),
                     "Progressing": ("True", "NewReplicaSetAvailable")}
    assert (status["replicas"], status["updatedReplicas"], status.get("unavailableReplicas")) == (3, 3, None)


async def test_no_progress_past_the_deadline_times_out() -> None:
    stale = rfc3339(NOW - 700)
    d = make_d(3, image="nginx:2", status={
        "observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
        "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "message": "",
                        "lastUpdateTime": stale, "lastTransitionTime": stale}]})
    new_rs = make_rs("new", 3, image="nginx:2", revision=2, available=0, desired=3, max_replicas=4)
    new_rs["status"]["readyReplicas"] = 0
    ctl, fake, _ = build(d, [new_rs])
    await ctl.sync(KEY)
    progressing = next(c for c in last_status(fake)["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")


async def test_revision_history_limit_deletes_the_oldest_empty_replica_sets() -> None:
    rss = [make_rs(f"r{i}", 0, image=f"img{i}", revision=i, desired=3, max_replicas=4) for i in range(1, 4)]
    d = make_d(3, image="nginx:9", history=1, status={"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3,
                                                     "availableReplicas": 3})
    current = make_rs("cur", 3, image="nginx:9", revision=4, desired=3, max_replicas=4)
    ctl, fake, _ = build(d, [*rss, current])
    await ctl.sync(KEY)
    assert sorted(a.name for a in fake.writes("delete", "replicasets")) == ["r1", "r2"]


# -- scaling, pause, rollback, recreate ---------------------------------------------------------------

async def test_scaling_mid_rollout_is_split_proportionally() -> None:
    old = make_rs("old", 6, desired=10, max_replicas=13)
    new_ = make_rs("new", 4, image="nginx:2", revision=2, desired=10, max_replicas=13)
    ctl, fake, rec = build(make_d(20, image="nginx:2", status={"replicas": 10}), [old, new_])
    await ctl.sync(KEY)
    # 25 allowed (20 + 25% surge), 10 now: old gets round(6*25/13)-6 = 6 plus the 5 left over, new 4
    assert rs_scales(fake) == {"old": 17, "new": 8}
    assert ("Normal", "ScalingReplicaSet", "Scaled up replica set old from 6 to 17") in rec.events


async def test_a_paused_deployment_scales_but_creates_no_new_replica_set() -> None:
    cur = make_rs("cur", 2, desired=2, max_replicas=3)
    ctl, fake, _ = build(make_d(5, image="nginx:2", paused=True), [cur])
    await ctl.sync(KEY)
    assert fake.writes("create", "replicasets") == []
    assert rs_scales(fake) == {"cur": 5}
    progressing = next(c for c in last_status(fake)["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("Unknown", "DeploymentPaused")


async def test_rolling_back_to_an_old_template_reuses_its_replica_set_with_a_new_revision() -> None:
    first = make_rs("first", 0, image="nginx:1", revision=1, desired=3, max_replicas=4)
    second = make_rs("second", 3, image="nginx:2", revision=2, desired=3, max_replicas=4)
    ctl, fake, _ = build(make_d(3, image="nginx:1"), [first, second])
    await ctl.sync(KEY)
    assert fake.writes("create", "replicasets") == []
    updated = fake.get_object("apps/v1", "replicasets", NS, "first")
    assert updated is not None
    ann = updated["metadata"]["annotations"]
    assert (ann[REVISION_ANNOTATION], ann[REVISION_HISTORY_ANNOTATION]) == ("3", "1")


async def test_recreate_scales_old_pods_away_before_creating_the_new_replica_set() -> None:
    old = make_rs("old", 3, desired=3, max_replicas=3)
    ctl, fake, _ = build(make_d(3, image="nginx:2", strategy={"type": "Recreate"}), [old])
    await ctl.sync(KEY)
    assert rs_scales(fake) == {"old": 0}
    assert fake.writes("create", "replicasets") == []


async def test_recreate_waits_for_old_pods_then_creates_the_new_replica_set_at_full_size() -> None:
    old = make_rs("old", 0, desired=3, max_replicas=3)
    old["status"] = {"replicas": 0, "observedGeneration": 1}
    pod = {"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running"},
           "metadata": {"name": "p", "namespace": NS, "uid": "p", "ownerReferences": [
               {"kind": "ReplicaSet", "name": "old", "uid": "uid-old", "controller": True}]}}
    ctl, fake, _ = build(make_d(3, image="nginx:2", strategy={"type": "Recreate"}), [old])
    ctl.pod_informer.indexer.add(pod)
    await ctl.sync(KEY)
    assert fake.writes("create", "replicasets") == []
    ctl.pod_informer.indexer.delete(pod)
    await ctl.sync(KEY)
    assert [a.body["spec"]["replicas"] for a in fake.writes("create", "replicasets")] == [3]


async def test_an_empty_selector_is_refused_with_an_event() -> None:
    d = make_d(1, generation=2)
    d["spec"]["selector"] = {}
    ctl, fake, rec = build(d, [])
    await ctl.sync(KEY)
    assert [r for _, r, _ in rec.events] == ["SelectingAll"]
    assert fake.writes("create", "replicasets") == []
    assert last_status(fake)["observedGeneration"] == 2
