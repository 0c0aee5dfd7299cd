"""ReplicaSet / ReplicationController controller: seed the caches, run sync, assert the writes."""

from __future__ import annotations

from typing import Any

import pytest

from kubepy.client import ApiError, FakeClock, InformerFactory
from kubepy.client.events import rfc3339
from kubepy.client.fake import FakeClient
from kubepy.controllers.context import ControllerContext
from kubepy.controllers.replicaset import (
    BURST_REPLICAS,
    ReplicaSetController,
    calculate_status,
    new_replicaset,
    new_replicationcontroller,
    pods_to_delete,
    slow_start_batch,
)

NS = "ns"
UID = "rs-uid"
KEY = f"{NS}/web"
LABELS = {"app": "web"}


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Any, type: str, reason: str, message: str, **_: Any) -> None:
        self.events.append((type, reason, message))

    def reasons(self) -> list[str]:
        return [r for _, r, _ in self.events]


class Client(FakeClient):
    """FakeClient with collision-free generated names (500 random 5-hex names may collide)."""

    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    async def create(self, ref: Any, obj: Any, **kw: Any) -> Any:
        if not obj["metadata"].get("name") and obj["metadata"].get("generateName"):
            self.n += 1
            obj = {**obj, "metadata": {**obj["metadata"], "name": f"{obj['metadata']['generateName']}{self.n}"}}
        return await super().create(ref, obj, **kw)


class FailingPods(Client):
    """Pod creates fail with 403 (as a quota rejection would)."""

    async def create(self, ref: Any, obj: Any, **kw: Any) -> Any:
        if ref.plural == "pods":
            raise ApiError({"kind": "Status", "code": 403, "reason": "Forbidden", "message": "exceeded quota"})
        return await super().create(ref, obj, **kw)


def make_rs(replicas: int = 3, *, min_ready: int = 0, generation: int = 1, status: dict[str, Any] | None = None,
            kind: str = "ReplicaSet") -> dict[str, Any]:
    selector: dict[str, Any] = {"matchLabels": dict(LABELS)} if kind == "ReplicaSet" else dict(LABELS)
    api = "apps/v1" if kind == "ReplicaSet" else "v1"
    return {
        "apiVersion": api, "kind": kind,
        "metadata": {"name": "web", "namespace": NS, "uid": UID, "generation": generation, "resourceVersion": "5"},
        "spec": {"replicas": replicas, "minReadySeconds": min_ready, "selector": selector,
                 "template": {"metadata": {"labels": dict(LABELS)},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
        "status": status if status is not None else {"replicas": 0},
    }


def make_pod(name: str, *, owned: bool = True, node: str = "n1", phase: str = "Running", ready: bool = True,
             created: str = "2024-05-01T09:00:00Z", ready_since: str = "2024-05-01T09:00:00Z",
             labels: dict[str, str] | None = None, kind: str = "ReplicaSet", deleting: bool = False,
             restarts: int = 0, cost: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NS, "uid": f"uid-{name}", "resourceVersion": "1",
                            "labels": dict(LABELS) if labels is None else dict(labels), "creationTimestamp": created}
    if owned:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": kind, "name": "web", "uid": UID,
                                    "controller": True}]
    if deleting:
        meta["deletionTimestamp"] = "2024-05-01T09:59:00Z"
    if cost is not None:
        meta["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": str(cost)}
    status: dict[str, Any] = {"phase": phase,
                              "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                              "lastTransitionTime": ready_since}],
                              "containerStatuses": [{"name": "c", "restartCount": restarts}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"nodeName": node}, "status": status}


CLOCK_START = 1_714_557_600.0  # 2024-05-01T10:00:00Z


def build(rs: dict[str, Any], pods: list[dict[str, Any]], *, client: FakeClient | None = None,
          rc: bool = False) -> tuple[ReplicaSetController, FakeClient, Recorder, FakeClock]:
    fake = client or Client()
    fake.seed(rs)
    for p in pods:
        fake.seed(p)
    clock = FakeClock(wall_start=CLOCK_START)
    rec = Recorder()
    ctx = ControllerContext(client=fake, informers=InformerFactory(fake), recorder=rec, clock=clock)  # type: ignore[arg-type]
    ctl = new_replicationcontroller(ctx) if rc else new_replicaset(ctx)
    ctl.rs_informer.indexer.add(fake.get_object(rs["apiVersion"], "replicationcontrollers" if rc else "replicasets",
                                                NS, "web") or rs)
    for p in pods:
        ctl.pod_informer.indexer.add(p)
    return ctl, fake, rec, clock


def status_writes(fake: FakeClient, plural: str = "replicasets") -> list[dict[str, Any]]:
    return [a.body["status"] for a in fake.writes("update", plural) if a.subresource == "status"]


# -- scaling -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("replicas", "existing", "creates", "deletes"), [
    pytest.param(3, 0, 3, 0, id="an empty replica set creates every missing pod"),
    pytest.param(3, 1, 2, 0, id="only the missing pods are created"),
    pytest.param(3, 3, 0, 0, id="the right count writes no pods"),
    pytest.param(1, 3, 0, 2, id="extra pods are deleted"),
    pytest.param(0, 2, 0, 2, id="scaling to zero deletes them all"),
    pytest.param(BURST_REPLICAS + 100, 0, BURST_REPLICAS, 0, id="one sync creates at most the burst of 500"),
])
async def test_sync_creates_or_deletes_the_difference(replicas: int, existing: int, creates: int,
                                                       deletes: int) -> None:
    pods = [make_pod(f"p{i}") for i in range(existing)]
    ctl, fake, rec, _ = build(make_rs(replicas), pods)
    await ctl.sync(KEY)
    assert len(fake.writes("create", "pods")) == creates
    assert len(fake.writes("delete", "pods")) == deletes
    assert rec.reasons().count("SuccessfulCreate") == creates
    assert rec.reasons().count("SuccessfulDelete") == deletes


async def test_created_pods_come_from_the_template_with_an_owner_reference() -> None:
    ctl, fake, _, _ = build(make_rs(1), [])
    await ctl.sync(KEY)
    pod = fake.writes("create", "pods")[0].body
    assert pod["metadata"]["generateName"] == "web-"
    assert pod["metadata"]["labels"] == LABELS
    assert pod["metadata"]["ownerReferences"][0] | {} == {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": UID, "controller": True,
        "blockOwnerDeletion": True}


async def test_unobserved_creates_block_a_second_round_of_creates() -> None:
    ctl, fake, _, _ = build(make_rs(3), [])
    await ctl.sync(KEY)
    await ctl.sync(KEY)  # the cache has not seen the 3 pods yet
    assert len(fake.writes("create", "pods")) == 3


async def test_observed_creates_satisfy_the_expectations() -> None:
    ctl, fake, _, _ = build(make_rs(3), [])
    await ctl.sync(KEY)
    for a in fake.writes("create", "pods"):
        pod = fake.get_object("v1", "pods", NS, a.name)
        assert pod is not None
        ctl.pod_informer.indexer.add(pod)
        ctl._add_pod(pod)
    assert ctl.expectations.satisfied(KEY)
    await ctl.sync(KEY)
    assert len(fake.writes("create", "pods")) == 3


async def test_a_pod_seen_deleting_then_gone_counts_as_one_deletion() -> None:
    pods = [make_pod("a"), make_pod("b"), make_pod("c")]
    ctl, fake, _, _ = build(make_rs(1), pods)
    await ctl.sync(KEY)
    deleted = [a.name for a in fake.writes("delete", "pods")]
    assert len(deleted) == 2
    victim = next(p for p in pods if p["metadata"]["name"] == deleted[0])
    terminating = {**victim, "metadata": {**victim["metadata"], "deletionTimestamp": "x", "resourceVersion": "9"}}
    ctl._update_pod(victim, terminating)
    ctl._delete_pod(terminating)
    assert not ctl.expectations.satisfied(KEY)
    other = next(p for p in pods if p["metadata"]["name"] == deleted[1])
    ctl._delete_pod(other)
    assert ctl.expectations.satisfied(KEY)


async def test_slow_start_stops_after_the_first_failing_batch() -> None:
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise RuntimeError("quota")

    successes, err = await slow_start_batch(100, 1, fn)
    # batches of 1 and 2 succeed; one call of the batch of 4 fails and no batch of 8 starts
    assert (successes, calls, str(err)) == (6, 7, "quota")


async def test_create_errors_set_replica_failure_and_a_warning() -> None:
    ctl, fake, rec, _ = build(make_rs(5), [], client=FailingPods())
    with pytest.raises(ApiError):
        await ctl.sync(KEY)
    assert rec.reasons() == ["FailedCreate"]  # a batch of one, then it stopped
    cond = status_writes(fake)[-1]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("ReplicaFailure", "True", "FailedCreate")
    assert ctl.expectations.satisfied(KEY)  # nothing left to wait for


# -- adoption and release ----------------------------------------------------------------------------

async def test_orphans_that_match_are_adopted_and_counted() -> None:
    orphan = make_pod("orphan", owned=False)
    ctl, fake, _, _ = build(make_rs(1), [orphan])
    await ctl.sync(KEY)
    patches = fake.writes("patch", "pods")
    assert [p.name for p in patches] == ["orphan"]
    assert patches[0].body["metadata"]["ownerReferences"][0]["uid"] == UID
    assert fake.writes("create", "pods") == []


async def test_owned_pods_that_stopped_matching_are_released_and_replaced() -> None:
    stray = make_pod("stray", labels={"app": "other"})
    ctl, fake, _, _ = build(make_rs(1), [stray])
    await ctl.sync(KEY)
    patch = fake.writes("patch", "pods")[0]
    assert patch.body["metadata"]["ownerReferences"] == [{"$patch": "delete", "uid": UID}]
    assert len(fake.writes("create", "pods")) == 1


async def test_pods_of_another_owner_are_left_alone() -> None:
    other = make_pod("x")
    other["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    ctl, fake, _, _ = build(make_rs(1), [other])
    await ctl.sync(KEY)
    assert fake.writes("patch", "pods") == []
    assert len(fake.writes("create", "pods")) == 1


# -- which pods go first ----------------------------------------------------------------------------

NOW = CLOCK_START


@pytest.mark.parametrize(("keep", "drop"), [
    pytest.param(make_pod("k"), make_pod("d", node=""), id="unscheduled pods go before scheduled ones"),
    pytest.param(make_pod("k"), make_pod("d", phase="Pending", ready=False), id="pending pods go before running"),
    pytest.param(make_pod("k"), make_pod("d", ready=False), id="not ready pods go before ready ones"),
    pytest.param(make_pod("k", cost=10), make_pod("d", cost=-5), id="a lower pod-deletion-cost goes first"),
    pytest.param(make_pod("k", ready_since="2024-05-01T08:00:00Z"), make_pod("d", ready_since="2024-05-01T09:59:00Z"),
                 id="the pod ready for less time goes first"),
    pytest.param(make_pod("k"), make_pod("d", restarts=5), id="more restarts go first"),
    pytest.param(make_pod("k", created="2024-04-01T00:00:00Z"), make_pod("d", created="2024-05-01T09:59:00Z"),
                 id="the newest pod goes first"),
])
def test_pods_to_delete_ranks_as_upstream(keep: dict[str, Any], drop: dict[str, Any]) -> None:
    for order in ([keep, drop], [drop, keep]):
        victims = pods_to_delete(order, order, 1, NOW)
        assert [v["metadata"]["name"] for v in victims] == ["d"]


def test_doubled_up_pods_go_first() -> None:
    alone, crowded1, crowded2 = make_pod("alone", node="n1"), make_pod("c1", node="n2"), make_pod("c2", node="n2")
    victims = pods_to_delete([alone, crowded1], [alone, crowded1, crowded2], 1, NOW)
    assert victims[0]["metadata"]["name"] == "c1"


# -- status --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pods", "min_ready", "want"), [
    pytest.param([make_pod("a"), make_pod("b", ready=False)], 0,
                 {"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 1, "availableReplicas": 1},
                 id="ready pods count as ready and available"),
    pytest.param([make_pod("a", ready_since=rfc3339(NOW - 5))], 30,
                 {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1},
                 id="a pod ready for less than minReadySeconds is not available"),
    pytest.param([make_pod("a", ready_since=rfc3339(NOW - 60))], 30,
                 {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1},
                 id="a pod ready for longer than minReadySeconds is available"),
    pytest.param([make_pod("a", labels={"app": "web", "extra": "x"})], 0,
                 {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1},
                 id="extra pod labels still count as fully labeled"),
    pytest.param([], 0, {"replicas": 0}, id="zero counts are left out but replicas"),
])
def test_calculate_status(pods: list[dict[str, Any]], min_ready: int, want: dict[str, Any]) -> None:
    assert calculate_status(make_rs(1, min_ready=min_ready), pods, now=NOW) == want


async def test_status_is_written_with_observed_generation() -> None:
    ctl, fake, _, _ = build(make_rs(1, generation=4), [make_pod("a")])
    await ctl.sync(KEY)
    assert status_writes(fake) == [{"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1,
                                    "availableReplicas": 1, "observedGeneration": 4}]


async def test_an_unchanged_status_is_not_written() -> None:
    status = {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
              "observedGeneration": 1}
    ctl, fake, _, _ = build(make_rs(1, status=status), [make_pod("a")])
    await ctl.sync(KEY)
    assert fake.actions == []


async def test_min_ready_seconds_requeues_for_the_remaining_time() -> None:
    ctl, fake, _, clock = build(make_rs(1, min_ready=30), [make_pod("a", ready_since=rfc3339(NOW - 10))])
    await ctl.sync(KEY)
    assert status_writes(fake)[-1].get("availableReplicas") is None
    assert len(ctl.queue) == 0
    clock.advance(19.5)
    await clock.settle()
    assert len(ctl.queue) == 0
    clock.advance(1.0)
    await clock.settle()
    assert len(ctl.queue) == 1


async def test_a_replica_set_being_deleted_creates_nothing() -> None:
    rs = make_rs(3)
    rs["metadata"]["deletionTimestamp"] = "2024-05-01T09:00:00Z"
    ctl, fake, _, _ = build(rs, [])
    await ctl.sync(KEY)
    assert fake.writes("create", "pods") == []


# -- the ReplicationController flavour -----------------------------------------------------------------

async def test_replication_controller_uses_a_map_selector_and_its_own_kind() -> None:
    rc = make_rs(2, kind="ReplicationController")
    ctl, fake, rec, _ = build(rc, [make_pod("a", kind="ReplicationController")], rc=True)
    await ctl.sync(KEY)
    created = fake.writes("create", "pods")
    assert len(created) == 1
    assert created[0].body["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"
    assert status_writes(fake, "replicationcontrollers")[-1]["replicas"] == 1
    assert ctl.NAME == "replicationcontroller"
